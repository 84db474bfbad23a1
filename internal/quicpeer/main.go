// Command quicpeer is a small QUIC client/server built on quic-go (and so on
// Go's crypto/tls). It is used by testdata/pcaps/generate-quic.sh to produce
// real QUIC handshakes for the project's test captures, and prints one JSON
// line per connection with the endpoint's own view of the handshake (the
// "ground truth" for the capture), in the shape internal/tlspeer uses plus
// the QUIC fields.
//
// Usage:
//
//	quicpeer -mode server -addr 127.0.0.1:4433 -cert chain.pem -key key.pem \
//		[-n 2] [-version v2] [-alpn h3] [-mtls -ca ca.pem]
//	quicpeer -mode client -addr 127.0.0.1:4433 -ca ca.pem -sni server.test \
//		[-n 2] [-version v2] [-alpn h3,hq-interop] [-mtls -cert client-chain.pem -key client.key] \
//		[-keylog keys] [-big-hello]
//
// The PKI is the one testdata/pcaps/lib.sh's make_pki writes (as for
// internal/tlspeer). quic-go negotiates TLS 1.3 only and requires ALPN.
//
// The server accepts -n connections and exits once they are over (or after
// -timeout); the client makes -n sequential connections, each from its own
// UDP socket (its own 4-tuple), each a full handshake (no session cache).
// On each connection the client opens a stream, sends "ping N\n" and closes
// its side; the server echoes what it read and closes its side; the client
// reads the echo and closes the connection (CONNECTION_CLOSE, code 0).
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/qlogwriter"

	"github.com/tlsinspect/tlsinspect/internal/peerkit"
)

// truth is one connection's record (one JSON line): internal/tlspeer's, with
// handshake_complete after the error and the QUIC fields at the end.
type truth struct {
	peerkit.Endpoint
	HandshakeComplete bool `json:"handshake_complete"`
	peerkit.TLS

	// QUIC.
	QUICVersion       string `json:"quic_version,omitempty"`    // v1, v2
	QUICVersionID     string `json:"quic_version_id,omitempty"` // hex
	ClientInitialDCID string `json:"client_initial_dcid,omitempty"`
	ClientSCID        string `json:"client_scid,omitempty"` // client side: its own Source Connection ID
	Echo              string `json:"echo,omitempty"`        // client: what came back on the stream; server: what it echoed
}

type config struct {
	peerkit.Common
	version  string
	mtls     bool
	bigHello bool
	n        int
}

func main() {
	var c config
	c.Flags("h3")
	flag.StringVar(&c.version, "version", "v1", "QUIC version: v1 (RFC 9000) or v2 (RFC 9369); both ends must agree")
	flag.BoolVar(&c.mtls, "mtls", false, "server: require a client certificate and verify it with -ca; client: present the certificate of -cert/-key (required with -mtls). A client without -mtls and -cert sends an empty Certificate when asked")
	flag.StringVar(&c.CAFile, "ca", "", "CA PEM: the client verifies the server with it; the server (-mtls) verifies client certificates with it")
	flag.BoolVar(&c.bigHello, "big-hello", false, "client: offer 12 extra ALPN values of 200 bytes before -alpn, so that the ClientHello (~4 KB) spans several Initial packets")
	flag.IntVar(&c.n, "n", 1, "number of connections (server accepts, client makes sequentially)")
	flag.DurationVar(&c.Timeout, "timeout", 10*time.Second, "per-connection deadline (server: also for the whole run)")
	flag.Parse()
	peerkit.Main("quicpeer", &c.Common,
		func(out *peerkit.Emitter) error { return runServer(&c, out) },
		func(out *peerkit.Emitter) error { return runClient(&c, out) })
}

func quicVersions(s string) ([]quic.Version, error) {
	switch s {
	case "v1":
		return []quic.Version{quic.Version1}, nil
	case "v2":
		return []quic.Version{quic.Version2}, nil
	}
	return nil, fmt.Errorf("unknown QUIC version %q (v1 or v2)", s)
}

// bigALPN returns the extra ALPN values of -big-hello: 12 × 200 bytes,
// which with Go's X25519MLKEM768 key share makes a ClientHello of ~4 KB.
func bigALPN() []string {
	var l []string
	for i := 1; i <= 12; i++ {
		p := fmt.Sprintf("tlsinspect-big-hello-%02d-", i)
		l = append(l, p+strings.Repeat("x", 200-len(p)))
	}
	return l
}

// setup is what both ends start from: the QUIC version of -version and a
// TLS 1.3 configuration with -alpn, -keylog and -cert/-key.
func setup(c *config) ([]quic.Version, *tls.Config, error) {
	versions, err := quicVersions(c.version)
	if err != nil {
		return nil, nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: peerkit.SplitList(c.ALPN)}
	if err := c.Load(cfg); err != nil {
		return nil, nil, err
	}
	return versions, cfg, nil
}

func fill(t *truth, qs quic.ConnectionState) {
	t.QUICVersion = qs.Version.String()
	t.QUICVersionID = fmt.Sprintf("%#08x", uint32(qs.Version))
	if qs.TLS.HandshakeComplete {
		t.HandshakeComplete = true
	}
	t.Fill(qs.TLS)
}

func runServer(c *config, out *peerkit.Emitter) error {
	versions, cfg, err := setup(c)
	if err != nil {
		return err
	}
	if len(cfg.Certificates) == 0 {
		return errors.New("server needs -cert and -key")
	}
	if c.mtls {
		if c.CAFile == "" {
			return errors.New("-mtls needs -ca")
		}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		if cfg.ClientCAs, err = peerkit.LoadPool(c.CAFile); err != nil {
			return err
		}
	}
	// The server's own view of each ClientHello, by client address (quic-go
	// gives GetConfigForClient a ClientHelloInfo whose Conn has the peer's
	// address).
	var mu sync.Mutex
	hellos := map[string]peerkit.Hello{}
	cfg.GetConfigForClient = func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		defer mu.Unlock()
		if chi.Conn != nil {
			hellos[chi.Conn.RemoteAddr().String()] = peerkit.HelloOf(chi)
		}
		return nil, nil
	}
	// An early listener hands over connections before the handshake is
	// confirmed, so that a handshake the server fails (mTLS without a
	// client certificate) is reported too.
	ln, err := quic.ListenAddrEarly(c.Addr, cfg, &quic.Config{
		Versions:             versions,
		HandshakeIdleTimeout: c.Timeout,
		MaxIdleTimeout:       c.Timeout,
	})
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := c.Ready(ln.Addr()); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout+time.Duration(c.n)*c.Timeout)
	defer cancel()
	var wg sync.WaitGroup
	for i := 1; i <= c.n; i++ {
		conn, err := ln.Accept(ctx)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func(i int, conn *quic.Conn) {
			defer wg.Done()
			t := &truth{Endpoint: peerkit.Endpoint{Role: "server", Conn: i, Local: conn.LocalAddr().String(), Remote: conn.RemoteAddr().String()}}
			serveOne(conn, c, t)
			mu.Lock()
			if h, ok := hellos[t.Remote]; ok {
				t.Offered(h)
			}
			mu.Unlock()
			out.Emit(t)
		}(i, conn)
	}
	wg.Wait()
	return nil
}

func serveOne(conn *quic.Conn, c *config, t *truth) {
	ctx, cancel := context.WithTimeout(conn.Context(), c.Timeout)
	defer cancel()
	select {
	case <-conn.HandshakeComplete():
	case <-ctx.Done():
	}
	fill(t, conn.ConnectionState())
	t.ClientCertSent = len(conn.ConnectionState().TLS.PeerCertificates) > 0
	if err := context.Cause(conn.Context()); err != nil {
		t.Error = err.Error()
		return
	}
	str, err := conn.AcceptStream(ctx)
	if err != nil {
		t.Error = "accept stream: " + err.Error()
		return
	}
	data, err := io.ReadAll(str)
	if err != nil {
		t.Error = "read: " + err.Error()
		return
	}
	if _, err := str.Write(data); err != nil {
		t.Error = "write: " + err.Error()
		return
	}
	str.Close() // FIN
	t.Echo = string(data)
	// The client closes the connection once it has read the echo.
	<-ctx.Done()
	if err := context.Cause(conn.Context()); err != nil && !isClientBye(err) {
		t.Error = err.Error()
	}
}

// isClientBye reports whether err is the client's CONNECTION_CLOSE with
// application error 0, the normal end of a connection.
func isClientBye(err error) bool {
	var ae *quic.ApplicationError
	return errors.As(err, &ae) && ae.Remote && ae.ErrorCode == 0
}

// idRecorder is a connection ID generator (8 random bytes) that remembers
// the first ID it made: a client's Source Connection ID.
type idRecorder struct {
	mu    sync.Mutex
	first *quic.ConnectionID
}

func (g *idRecorder) GenerateConnectionID() (quic.ConnectionID, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return quic.ConnectionID{}, err
	}
	id := quic.ConnectionIDFromBytes(b)
	g.mu.Lock()
	if g.first == nil {
		g.first = &id
	}
	g.mu.Unlock()
	return id, nil
}

// First returns the first ID made, hex, or "".
func (g *idRecorder) First() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.first == nil {
		return ""
	}
	return hex.EncodeToString(g.first.Bytes())
}

func (g *idRecorder) ConnectionIDLen() int { return 8 }

func runClient(c *config, out *peerkit.Emitter) error {
	versions, cfg, err := setup(c)
	if err != nil {
		return err
	}
	if c.bigHello {
		cfg.NextProtos = append(bigALPN(), cfg.NextProtos...)
	}
	if err := c.Client(cfg); err != nil {
		return err
	}
	if c.mtls && len(cfg.Certificates) == 0 {
		return errors.New("client -mtls needs -cert and -key")
	}
	clientCert := peerkit.TakeClientCert(cfg)
	raddr, err := net.ResolveUDPAddr("udp", c.Addr)
	if err != nil {
		return err
	}
	laddr := &net.UDPAddr{IP: raddr.IP} // same family and loopback address, any port
	return c.Clients(c.n, func(i int) (bool, error) {
		t := &truth{Endpoint: peerkit.Endpoint{Role: "client", Conn: i}}
		t.OfferedALPN = cfg.NextProtos
		ok := clientOne(c, i, raddr, laddr, clientCert.Config(cfg, &t.TLS), versions, t)
		out.Emit(t)
		return ok, nil
	})
}

func clientOne(c *config, i int, raddr, laddr *net.UDPAddr, cfg *tls.Config, versions []quic.Version, t *truth) bool {
	udp, err := net.ListenUDP("udp", laddr)
	if err != nil {
		t.Error = err.Error()
		return false
	}
	ids := &idRecorder{}
	tr := &quic.Transport{Conn: udp, ConnectionIDGenerator: ids}
	defer udp.Close()
	defer tr.Close()
	t.Local, t.Remote = udp.LocalAddr().String(), raddr.String()
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	qcfg := &quic.Config{
		Versions:             versions,
		HandshakeIdleTimeout: c.Timeout,
		MaxIdleTimeout:       c.Timeout,
		Tracer: func(_ context.Context, isClient bool, dcid quic.ConnectionID) qlogwriter.Trace {
			if isClient {
				t.ClientInitialDCID = hex.EncodeToString(dcid.Bytes())
			}
			return nil
		},
	}
	conn, err := tr.Dial(ctx, raddr, cfg, qcfg)
	t.ClientSCID = ids.First()
	if err != nil {
		t.Error = err.Error()
		return false
	}
	defer conn.CloseWithError(0, "bye")
	fill(t, conn.ConnectionState())
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Error = "open stream: " + err.Error()
		return false
	}
	if _, err := fmt.Fprintf(str, "ping %d\n", i); err != nil {
		t.Error = "write: " + err.Error()
		return false
	}
	str.Close() // FIN
	echo, err := io.ReadAll(str)
	t.Echo = string(echo)
	if err != nil {
		t.Error = "read: " + err.Error()
		return false
	}
	// The state again: it now knows whether the server accepted the
	// handshake (a refused client certificate closes the connection).
	fill(t, conn.ConnectionState())
	return true
}
