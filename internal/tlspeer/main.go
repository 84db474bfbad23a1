// Command tlspeer is a small TLS client/server built on Go's crypto/tls. It is
// used by testdata/pcaps/generate.sh to produce real TLS handshakes for the
// project's test captures, and prints one JSON line per connection with the
// endpoint's own view of the handshake (the "ground truth" for the capture).
//
// Server:  tlspeer -mode server -addr 127.0.0.1:4433 -cert chain.pem -key key.pem [-conns 2]
// Client:  tlspeer -mode client -addr 127.0.0.1:4433 -ca ca.pem -sni server.test [-conns 2]
//
// The server accepts -conns connections and exits; the client makes -conns
// sequential connections that share one session cache (so the second one can
// resume). The application exchange is one line each way: the client sends
// "ping N\n", the server answers "pong N\n" and closes (close_notify). Reading
// the answer also lets a TLS 1.3 client receive the NewSessionTicket.
package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tlsinspect/tlsinspect/internal/peerkit"
)

// truth is one connection's record (one JSON line).
type truth struct {
	peerkit.Endpoint
	peerkit.TLS
}

type config struct {
	peerkit.Common
	minV, maxV      string
	ciphers, curves string
	noSNI, insecure bool
	clientAuth      string
	conns           int
	ticketsDisabled bool
	mss             int
}

func main() {
	var c config
	c.Flags("")
	flag.StringVar(&c.minV, "min", "", "minimum TLS version: 1.0, 1.1, 1.2, 1.3 (default: crypto/tls default)")
	flag.StringVar(&c.maxV, "max", "", "maximum TLS version: 1.0, 1.1, 1.2, 1.3 (default: crypto/tls default)")
	flag.StringVar(&c.ciphers, "ciphers", "", "comma-separated TLS 1.0-1.2 cipher suite names (crypto/tls names); TLS 1.3 suites are not configurable")
	flag.StringVar(&c.curves, "curves", "", "comma-separated curve preferences: X25519MLKEM768,SecP256r1MLKEM768,SecP384r1MLKEM1024,X25519,P256,P384,P521 (crypto/tls keeps its own order)")
	flag.BoolVar(&c.noSNI, "no-sni", false, "client: send no server_name (implies -insecure)")
	flag.BoolVar(&c.insecure, "insecure", false, "client: do not verify the server certificate")
	flag.StringVar(&c.CAFile, "ca", "", "CA PEM: client verifies the server with it; server verifies client certificates with it")
	flag.StringVar(&c.clientAuth, "client-auth", "none", "server: none, request, require (any cert), verify (verify if given), require-verify")
	flag.IntVar(&c.conns, "conns", 1, "number of connections (server accepts, client makes sequentially with one session cache)")
	flag.BoolVar(&c.ticketsDisabled, "no-tickets", false, "disable session tickets / TLS 1.3 resumption")
	flag.IntVar(&c.mss, "mss", 0, "client: set TCP_MAXSEG on the socket before connecting (0: kernel default)")
	flag.DurationVar(&c.Timeout, "timeout", 15*time.Second, "per-connection deadline")
	flag.Parse()
	peerkit.Main("tlspeer", &c.Common,
		func(out *peerkit.Emitter) error { return runServer(&c, out) },
		func(out *peerkit.Emitter) error { return runClient(&c, out) })
}

func parseVersion(s string) (uint16, error) {
	switch s {
	case "":
		return 0, nil
	case "1.0":
		return tls.VersionTLS10, nil
	case "1.1":
		return tls.VersionTLS11, nil
	case "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("unknown TLS version %q", s)
}

func parseCiphers(s string) ([]uint16, error) {
	if s == "" {
		return nil, nil
	}
	byName := map[string]uint16{}
	for _, cs := range tls.CipherSuites() {
		byName[cs.Name] = cs.ID
	}
	for _, cs := range tls.InsecureCipherSuites() {
		byName[cs.Name] = cs.ID
	}
	var ids []uint16
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		id, ok := byName[n]
		if !ok {
			if v, err := strconv.ParseUint(n, 0, 16); err == nil {
				id, ok = uint16(v), true
			}
		}
		if !ok {
			return nil, fmt.Errorf("unknown cipher suite %q", n)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func parseCurves(s string) ([]tls.CurveID, error) {
	if s == "" {
		return nil, nil
	}
	names := map[string]tls.CurveID{
		"X25519MLKEM768": tls.X25519MLKEM768, "SecP256r1MLKEM768": tls.SecP256r1MLKEM768,
		"SecP384r1MLKEM1024": tls.SecP384r1MLKEM1024, "X25519": tls.X25519,
		"P256": tls.CurveP256, "P384": tls.CurveP384, "P521": tls.CurveP521,
	}
	var ids []tls.CurveID
	for _, n := range strings.Split(s, ",") {
		id, ok := names[strings.TrimSpace(n)]
		if !ok {
			return nil, fmt.Errorf("unknown curve %q", n)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func baseConfig(c *config) (*tls.Config, error) {
	cfg := &tls.Config{}
	var err error
	if cfg.MinVersion, err = parseVersion(c.minV); err != nil {
		return nil, err
	}
	if cfg.MaxVersion, err = parseVersion(c.maxV); err != nil {
		return nil, err
	}
	if cfg.CipherSuites, err = parseCiphers(c.ciphers); err != nil {
		return nil, err
	}
	if cfg.CurvePreferences, err = parseCurves(c.curves); err != nil {
		return nil, err
	}
	cfg.NextProtos = peerkit.SplitList(c.ALPN)
	cfg.SessionTicketsDisabled = c.ticketsDisabled
	if err := c.Load(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

func runServer(c *config, out *peerkit.Emitter) error {
	cfg, err := baseConfig(c)
	if err != nil {
		return err
	}
	if len(cfg.Certificates) == 0 {
		return errors.New("server needs -cert and -key")
	}
	switch c.clientAuth {
	case "none":
		cfg.ClientAuth = tls.NoClientCert
	case "request":
		cfg.ClientAuth = tls.RequestClientCert
	case "require":
		cfg.ClientAuth = tls.RequireAnyClientCert
	case "verify":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	case "require-verify":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		return fmt.Errorf("unknown -client-auth %q", c.clientAuth)
	}
	if c.CAFile != "" {
		if cfg.ClientCAs, err = peerkit.LoadPool(c.CAFile); err != nil {
			return err
		}
	}
	// Fixed ticket key: every per-connection Clone below shares it, so a
	// ticket issued on one connection is accepted on the next.
	var ticketKey [32]byte
	copy(ticketKey[:], "tlsinspect test ticket key 00001")
	cfg.SetSessionTicketKeys([][32]byte{ticketKey})
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := c.Ready(ln.Addr()); err != nil {
		return err
	}
	for i := 1; i <= c.conns; i++ {
		raw, err := ln.Accept()
		if err != nil {
			return err
		}
		t := &truth{Endpoint: peerkit.Endpoint{Role: "server", Conn: i, Local: raw.LocalAddr().String(), Remote: raw.RemoteAddr().String()}}
		// Record what the ClientHello offered (the server's own view of it).
		connCfg := cfg.Clone()
		connCfg.GetConfigForClient = func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
			t.Offered(peerkit.HelloOf(chi))
			return nil, nil
		}
		serveOne(tls.Server(raw, connCfg), c, t)
		out.Emit(t)
	}
	return nil
}

func serveOne(conn *tls.Conn, c *config, t *truth) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(c.Timeout))
	err := conn.Handshake()
	t.FillServer(conn.ConnectionState())
	if err != nil {
		t.Error = err.Error()
		return
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Error = "read: " + err.Error()
		return
	}
	reply := "pong" + strings.TrimPrefix(line, "ping")
	if _, err := io.WriteString(conn, reply); err != nil {
		t.Error = "write: " + err.Error()
		return
	}
	conn.CloseWrite() // close_notify; Close then sends FIN
}

func runClient(c *config, out *peerkit.Emitter) error {
	cfg, err := baseConfig(c)
	if err != nil {
		return err
	}
	if err := c.Client(cfg); err != nil {
		return err
	}
	if c.noSNI {
		// crypto/tls sends no server_name when ServerName is empty (or an IP).
		cfg.ServerName = ""
		cfg.InsecureSkipVerify = true
	}
	if c.insecure {
		cfg.InsecureSkipVerify = true
	}
	if !c.ticketsDisabled {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(8)
	}
	clientCert := peerkit.TakeClientCert(cfg)
	dialer := &net.Dialer{Timeout: c.Timeout}
	if c.mss > 0 {
		mss := c.mss
		dialer.Control = func(network, address string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, mss)
			}); err != nil {
				return err
			}
			return serr
		}
	}
	return c.Clients(c.conns, func(i int) (bool, error) {
		t := &truth{Endpoint: peerkit.Endpoint{Role: "client", Conn: i}}
		connCfg := clientCert.Config(cfg, &t.TLS)
		raw, err := dialer.Dial("tcp", c.Addr)
		if err != nil {
			return false, err
		}
		t.Local, t.Remote = raw.LocalAddr().String(), raw.RemoteAddr().String()
		ok := clientOne(tls.Client(raw, connCfg), c, i, t)
		out.Emit(t)
		return ok, nil
	})
}

func clientOne(conn *tls.Conn, c *config, i int, t *truth) bool {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(c.Timeout))
	err := conn.Handshake()
	t.Fill(conn.ConnectionState())
	if err != nil {
		t.Error = err.Error()
		return false
	}
	if _, err := fmt.Fprintf(conn, "ping %d\n", i); err != nil {
		t.Error = "write: " + err.Error()
		return false
	}
	// Read until the server's close_notify; this also processes TLS 1.3
	// NewSessionTicket messages so the next connection can resume.
	if _, err := io.ReadAll(conn); err != nil {
		t.Error = "read: " + err.Error()
		return false
	}
	conn.CloseWrite()
	return true
}
