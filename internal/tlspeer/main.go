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
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type truth struct {
	Role                string   `json:"role"`
	Conn                int      `json:"conn"`
	Local               string   `json:"local,omitempty"`
	Remote              string   `json:"remote,omitempty"`
	Error               string   `json:"error,omitempty"`
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
	OfferedALPN         []string `json:"offered_alpn,omitempty"`        // server side: from ClientHello
	OfferedServerName   *string  `json:"offered_server_name,omitempty"` // server side: from ClientHello
}

type config struct {
	mode, addr                string
	minV, maxV                string
	ciphers, curves, alpn     string
	sni                       string
	noSNI, insecure           bool
	certFile, keyFile, caFile string
	clientAuth                string
	conns                     int
	ticketsDisabled           bool
	mss                       int
	readyFile                 string
	keyLog                    string
	out                       string
	timeout                   time.Duration
	pause                     time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.mode, "mode", "", "server or client")
	flag.StringVar(&c.addr, "addr", "127.0.0.1:4433", "listen (server) or connect (client) address")
	flag.StringVar(&c.minV, "min", "", "minimum TLS version: 1.0, 1.1, 1.2, 1.3 (default: crypto/tls default)")
	flag.StringVar(&c.maxV, "max", "", "maximum TLS version: 1.0, 1.1, 1.2, 1.3 (default: crypto/tls default)")
	flag.StringVar(&c.ciphers, "ciphers", "", "comma-separated TLS 1.0-1.2 cipher suite names (crypto/tls names); TLS 1.3 suites are not configurable")
	flag.StringVar(&c.curves, "curves", "", "comma-separated curve preferences: X25519MLKEM768,SecP256r1MLKEM768,SecP384r1MLKEM1024,X25519,P256,P384,P521 (crypto/tls keeps its own order)")
	flag.StringVar(&c.alpn, "alpn", "", "comma-separated ALPN protocols (client: offered; server: supported)")
	flag.StringVar(&c.sni, "sni", "", "client: server name to send and verify (default: host of -addr)")
	flag.BoolVar(&c.noSNI, "no-sni", false, "client: send no server_name (implies -insecure)")
	flag.BoolVar(&c.insecure, "insecure", false, "client: do not verify the server certificate")
	flag.StringVar(&c.certFile, "cert", "", "certificate chain PEM (server certificate, or client certificate)")
	flag.StringVar(&c.keyFile, "key", "", "private key PEM for -cert")
	flag.StringVar(&c.caFile, "ca", "", "CA PEM: client verifies the server with it; server verifies client certificates with it")
	flag.StringVar(&c.clientAuth, "client-auth", "none", "server: none, request, require (any cert), verify (verify if given), require-verify")
	flag.IntVar(&c.conns, "conns", 1, "number of connections (server accepts, client makes sequentially with one session cache)")
	flag.BoolVar(&c.ticketsDisabled, "no-tickets", false, "disable session tickets / TLS 1.3 resumption")
	flag.IntVar(&c.mss, "mss", 0, "client: set TCP_MAXSEG on the socket before connecting (0: kernel default)")
	flag.StringVar(&c.readyFile, "ready", "", "server: create this file once listening")
	flag.StringVar(&c.out, "out", "", "append JSON lines here (default stdout)")
	flag.StringVar(&c.keyLog, "keylog", "", "append the session secrets to this file (NSS key log format, as SSLKEYLOGFILE)")
	flag.DurationVar(&c.timeout, "timeout", 15*time.Second, "per-connection deadline")
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
	fmt.Fprintln(os.Stderr, "tlspeer:", err)
	os.Exit(1)
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

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
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
	cfg.NextProtos = splitList(c.alpn)
	cfg.SessionTicketsDisabled = c.ticketsDisabled
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

func fill(t *truth, cs tls.ConnectionState) {
	if !cs.HandshakeComplete {
		return
	}
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
	for _, pc := range cs.PeerCertificates {
		t.PeerCertSubjects = append(t.PeerCertSubjects, pc.Subject.CommonName)
	}
	t.HelloRetryRequest = cs.HelloRetryRequest
}

func emit(w io.Writer, t *truth) {
	b, _ := json.Marshal(t)
	fmt.Fprintln(w, string(b))
}

func runServer(c *config, out io.Writer) error {
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
	if c.caFile != "" {
		if cfg.ClientCAs, err = loadPool(c.caFile); err != nil {
			return err
		}
	}
	// Fixed ticket key: every per-connection Clone below shares it, so a
	// ticket issued on one connection is accepted on the next.
	var ticketKey [32]byte
	copy(ticketKey[:], "tlsinspect test ticket key 00001")
	cfg.SetSessionTicketKeys([][32]byte{ticketKey})
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if c.readyFile != "" {
		if err := os.WriteFile(c.readyFile, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			return err
		}
	}
	for i := 1; i <= c.conns; i++ {
		raw, err := ln.Accept()
		if err != nil {
			return err
		}
		t := &truth{Role: "server", Conn: i, Local: raw.LocalAddr().String(), Remote: raw.RemoteAddr().String()}
		// Record what the ClientHello offered (the server's own view of it).
		connCfg := cfg.Clone()
		connCfg.GetConfigForClient = func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
			t.OfferedALPN = chi.SupportedProtos
			sn := chi.ServerName
			t.OfferedServerName = &sn
			return nil, nil
		}
		serveOne(tls.Server(raw, connCfg), c, t)
		emit(out, t)
	}
	return nil
}

func serveOne(conn *tls.Conn, c *config, t *truth) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(c.timeout))
	err := conn.Handshake()
	cs := conn.ConnectionState()
	fill(t, cs)
	t.ClientCertSent = len(cs.PeerCertificates) > 0
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

func runClient(c *config, out io.Writer) error {
	cfg, err := baseConfig(c)
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(c.addr)
	if err != nil {
		return err
	}
	switch {
	case c.noSNI:
		// crypto/tls sends no server_name when ServerName is empty (or an IP).
		cfg.ServerName = ""
		cfg.InsecureSkipVerify = true
	case c.sni != "":
		cfg.ServerName = c.sni
	default:
		cfg.ServerName = host
	}
	if c.insecure {
		cfg.InsecureSkipVerify = true
	}
	if c.caFile != "" {
		if cfg.RootCAs, err = loadPool(c.caFile); err != nil {
			return err
		}
	}
	if !c.ticketsDisabled {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(8)
	}
	var clientCert *tls.Certificate
	if len(cfg.Certificates) > 0 {
		clientCert = &cfg.Certificates[0]
		cfg.Certificates = nil
	}
	dialer := &net.Dialer{Timeout: c.timeout}
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
	failed := false
	for i := 1; i <= c.conns; i++ {
		if i > 1 && c.pause > 0 {
			time.Sleep(c.pause)
		}
		t := &truth{Role: "client", Conn: i}
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
		raw, err := dialer.Dial("tcp", c.addr)
		if err != nil {
			return err
		}
		t.Local, t.Remote = raw.LocalAddr().String(), raw.RemoteAddr().String()
		if !clientOne(tls.Client(raw, connCfg), c, i, t) {
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

func clientOne(conn *tls.Conn, c *config, i int, t *truth) bool {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(c.timeout))
	err := conn.Handshake()
	fill(t, conn.ConnectionState())
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
