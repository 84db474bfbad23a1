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
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/qlogwriter"
)

type truth struct {
	Role                string   `json:"role"`
	Conn                int      `json:"conn"`
	Local               string   `json:"local,omitempty"`
	Remote              string   `json:"remote,omitempty"`
	Error               string   `json:"error,omitempty"`
	HandshakeComplete   bool     `json:"handshake_complete"`
	Version             string   `json:"version,omitempty"`
	VersionID           uint16   `json:"version_id,omitempty"`
	CipherSuite         string   `json:"cipher_suite,omitempty"`
	CipherSuiteID       uint16   `json:"cipher_suite_id,omitempty"`
	Group               string   `json:"group,omitempty"`
	GroupID             uint16   `json:"group_id,omitempty"`
	ALPN                string   `json:"alpn"`
	DidResume           bool     `json:"did_resume"`
	ServerName          string   `json:"server_name"`
	PeerCertCount       int      `json:"peer_cert_count"`
	PeerCertSubjects    []string `json:"peer_cert_subjects,omitempty"`
	HelloRetryRequest   bool     `json:"hello_retry_request"`
	ClientCertRequested *bool    `json:"client_cert_requested,omitempty"` // client side only
	ClientCertSent      bool     `json:"client_cert_sent"`
	OfferedALPN         []string `json:"offered_alpn,omitempty"`        // client: configured; server: from the ClientHello
	OfferedServerName   *string  `json:"offered_server_name,omitempty"` // server side: from the ClientHello

	// QUIC.
	QUICVersion       string `json:"quic_version,omitempty"`    // v1, v2
	QUICVersionID     string `json:"quic_version_id,omitempty"` // hex
	ClientInitialDCID string `json:"client_initial_dcid,omitempty"`
	ClientSCID        string `json:"client_scid,omitempty"` // client side: its own Source Connection ID
	Echo              string `json:"echo,omitempty"`        // client: what came back on the stream; server: what it echoed
}

type config struct {
	mode, addr                string
	version                   string
	mtls                      bool
	alpn, sni                 string
	certFile, keyFile, caFile string
	keyLog                    string
	bigHello                  bool
	n                         int
	readyFile                 string
	out                       string
	timeout                   time.Duration
	pause                     time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.mode, "mode", "", "server or client")
	flag.StringVar(&c.addr, "addr", "127.0.0.1:4433", "listen (server) or connect (client) address")
	flag.StringVar(&c.version, "version", "v1", "QUIC version: v1 (RFC 9000) or v2 (RFC 9369); both ends must agree")
	flag.BoolVar(&c.mtls, "mtls", false, "server: require a client certificate and verify it with -ca; client: present the certificate of -cert/-key (required with -mtls). A client without -mtls and -cert sends an empty Certificate when asked")
	flag.StringVar(&c.alpn, "alpn", "h3", "comma-separated ALPN protocols (client: offered; server: supported)")
	flag.StringVar(&c.sni, "sni", "", "client: server name to send and verify (default: host of -addr)")
	flag.StringVar(&c.certFile, "cert", "", "certificate chain PEM (server certificate, or client certificate)")
	flag.StringVar(&c.keyFile, "key", "", "private key PEM for -cert")
	flag.StringVar(&c.caFile, "ca", "", "CA PEM: the client verifies the server with it; the server (-mtls) verifies client certificates with it")
	flag.StringVar(&c.keyLog, "keylog", "", "append the session secrets to this file (NSS key log format, as SSLKEYLOGFILE)")
	flag.BoolVar(&c.bigHello, "big-hello", false, "client: offer 12 extra ALPN values of 200 bytes before -alpn, so that the ClientHello (~4 KB) spans several Initial packets")
	flag.IntVar(&c.n, "n", 1, "number of connections (server accepts, client makes sequentially)")
	flag.StringVar(&c.readyFile, "ready", "", "server: create this file once listening")
	flag.StringVar(&c.out, "out", "", "append JSON lines here (default stdout)")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Second, "per-connection deadline (server: also for the whole run)")
	flag.DurationVar(&c.pause, "pause", 100*time.Millisecond, "client: pause between connections")
	flag.Parse()

	out := io.Writer(os.Stdout)
	if c.out != "" {
		f, err := os.OpenFile(c.out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		out = f
	}
	var err error
	switch c.mode {
	case "server":
		err = runServer(&c, out)
	case "client":
		err = runClient(&c, out)
	default:
		err = errors.New("-mode must be server or client")
	}
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "quicpeer:", err)
	os.Exit(1)
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

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
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

func baseTLS(c *config) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: splitList(c.alpn)}
	if c.keyLog != "" {
		f, err := os.OpenFile(c.keyLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, err
		}
		cfg.KeyLogWriter = f // closed at exit
	}
	if c.certFile != "" {
		cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no certificates", file)
	}
	return pool, nil
}

func fill(t *truth, qs quic.ConnectionState) {
	t.QUICVersion = qs.Version.String()
	t.QUICVersionID = fmt.Sprintf("%#08x", uint32(qs.Version))
	cs := qs.TLS
	if !cs.HandshakeComplete {
		return
	}
	t.HandshakeComplete = true
	t.Version = tls.VersionName(cs.Version)
	t.VersionID = cs.Version
	t.CipherSuite = tls.CipherSuiteName(cs.CipherSuite)
	t.CipherSuiteID = cs.CipherSuite
	if cs.CurveID != 0 {
		t.Group = cs.CurveID.String()
		t.GroupID = uint16(cs.CurveID)
	}
	t.ALPN = cs.NegotiatedProtocol
	t.DidResume = cs.DidResume
	t.ServerName = cs.ServerName
	t.PeerCertCount = len(cs.PeerCertificates)
	t.PeerCertSubjects = nil
	for _, pc := range cs.PeerCertificates {
		t.PeerCertSubjects = append(t.PeerCertSubjects, pc.Subject.CommonName)
	}
	t.HelloRetryRequest = cs.HelloRetryRequest
}

func emit(w io.Writer, t *truth) {
	b, _ := json.Marshal(t)
	fmt.Fprintln(w, string(b))
}

// offered is what a ClientHello offered, as the server saw it.
type offered struct {
	alpn []string
	sni  string
}

func runServer(c *config, out io.Writer) error {
	versions, err := quicVersions(c.version)
	if err != nil {
		return err
	}
	cfg, err := baseTLS(c)
	if err != nil {
		return err
	}
	if len(cfg.Certificates) == 0 {
		return errors.New("server needs -cert and -key")
	}
	if c.mtls {
		if c.caFile == "" {
			return errors.New("-mtls needs -ca")
		}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		if cfg.ClientCAs, err = loadPool(c.caFile); err != nil {
			return err
		}
	}
	// The server's own view of each ClientHello, by client address (quic-go
	// gives GetConfigForClient a ClientHelloInfo whose Conn has the peer's
	// address).
	var mu sync.Mutex
	hellos := map[string]offered{}
	cfg.GetConfigForClient = func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		defer mu.Unlock()
		if chi.Conn != nil {
			hellos[chi.Conn.RemoteAddr().String()] = offered{chi.SupportedProtos, chi.ServerName}
		}
		return nil, nil
	}
	// An early listener hands over connections before the handshake is
	// confirmed, so that a handshake the server fails (mTLS without a
	// client certificate) is reported too.
	ln, err := quic.ListenAddrEarly(c.addr, cfg, &quic.Config{
		Versions:             versions,
		HandshakeIdleTimeout: c.timeout,
		MaxIdleTimeout:       c.timeout,
	})
	if err != nil {
		return err
	}
	defer ln.Close()
	if c.readyFile != "" {
		if err := os.WriteFile(c.readyFile, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout+time.Duration(c.n)*c.timeout)
	defer cancel()
	var wg sync.WaitGroup
	var outMu sync.Mutex
	for i := 1; i <= c.n; i++ {
		conn, err := ln.Accept(ctx)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func(i int, conn *quic.Conn) {
			defer wg.Done()
			t := &truth{Role: "server", Conn: i, Local: conn.LocalAddr().String(), Remote: conn.RemoteAddr().String()}
			serveOne(conn, c, t)
			mu.Lock()
			if o, ok := hellos[t.Remote]; ok {
				t.OfferedALPN = o.alpn
				t.OfferedServerName = &o.sni
			}
			mu.Unlock()
			outMu.Lock()
			emit(out, t)
			outMu.Unlock()
		}(i, conn)
	}
	wg.Wait()
	return nil
}

func serveOne(conn *quic.Conn, c *config, t *truth) {
	ctx, cancel := context.WithTimeout(conn.Context(), c.timeout)
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

func runClient(c *config, out io.Writer) error {
	versions, err := quicVersions(c.version)
	if err != nil {
		return err
	}
	cfg, err := baseTLS(c)
	if err != nil {
		return err
	}
	if c.bigHello {
		cfg.NextProtos = append(bigALPN(), cfg.NextProtos...)
	}
	host, _, err := net.SplitHostPort(c.addr)
	if err != nil {
		return err
	}
	cfg.ServerName = host
	if c.sni != "" {
		cfg.ServerName = c.sni
	}
	if c.caFile != "" {
		if cfg.RootCAs, err = loadPool(c.caFile); err != nil {
			return err
		}
	}
	if c.mtls && len(cfg.Certificates) == 0 {
		return errors.New("client -mtls needs -cert and -key")
	}
	var clientCert *tls.Certificate
	if len(cfg.Certificates) > 0 {
		clientCert = &cfg.Certificates[0]
		cfg.Certificates = nil
	}
	raddr, err := net.ResolveUDPAddr("udp", c.addr)
	if err != nil {
		return err
	}
	laddr := &net.UDPAddr{IP: raddr.IP} // same family and loopback address, any port
	failed := false
	for i := 1; i <= c.n; i++ {
		if i > 1 && c.pause > 0 {
			time.Sleep(c.pause)
		}
		t := &truth{Role: "client", Conn: i, OfferedALPN: cfg.NextProtos}
		requested := false
		connCfg := cfg.Clone()
		connCfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			requested = true
			if clientCert == nil {
				return &tls.Certificate{}, nil // empty Certificate message
			}
			t.ClientCertSent = true
			return clientCert, nil
		}
		if !clientOne(c, i, raddr, laddr, connCfg, versions, t) {
			failed = true
		}
		t.ClientCertRequested = &requested
		emit(out, t)
	}
	if failed {
		os.Exit(2)
	}
	return nil
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
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	qcfg := &quic.Config{
		Versions:             versions,
		HandshakeIdleTimeout: c.timeout,
		MaxIdleTimeout:       c.timeout,
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
