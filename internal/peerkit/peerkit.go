// Package peerkit holds what the project's two test peers share:
// internal/tlspeer (crypto/tls over TCP) and internal/quicpeer (quic-go).
// Both are run by the capture generators in testdata/pcaps and print one
// JSON line per connection with the endpoint's own view of the handshake
// (the "ground truth" for the capture). peerkit has the common part of
// that record and its construction from a tls.ConnectionState, the common
// command-line flags, the -out and -ready files, the key log and the PKI
// files (testdata/pcaps/lib.sh's make_pki), the client certificate hook,
// the client's connection loop, and the program's frame (mode, fatal
// errors).
package peerkit

import (
	"crypto/tls"
	"crypto/x509"
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
)

// Endpoint heads every record: which side, which connection, its addresses,
// and the error that ended it, if any.
type Endpoint struct {
	Role   string `json:"role"`
	Conn   int    `json:"conn"`
	Local  string `json:"local,omitempty"`
	Remote string `json:"remote,omitempty"`
	Error  string `json:"error,omitempty"`
}

// TLS is the endpoint's account of the TLS handshake: what
// tls.ConnectionState says (Fill), whether a client certificate was asked
// for and sent, and what the ClientHello offered.
type TLS struct {
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
	OfferedALPN         []string `json:"offered_alpn,omitempty"`        // server: from the ClientHello (quicpeer's client: configured)
	OfferedServerName   *string  `json:"offered_server_name,omitempty"` // server side: from the ClientHello
}

// Fill records cs once its handshake is complete (before that it leaves t
// as it is). It may be called again on the same connection.
func (t *TLS) Fill(cs tls.ConnectionState) {
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
	t.PeerCertSubjects = nil
	for _, pc := range cs.PeerCertificates {
		t.PeerCertSubjects = append(t.PeerCertSubjects, pc.Subject.CommonName)
	}
	t.HelloRetryRequest = cs.HelloRetryRequest
}

// FillServer is Fill for the server side, which also records whether the
// client sent a certificate (whether or not the handshake completed).
func (t *TLS) FillServer(cs tls.ConnectionState) {
	t.Fill(cs)
	t.ClientCertSent = len(cs.PeerCertificates) > 0
}

// Hello is what a ClientHello offered, as the server saw it.
type Hello struct {
	ALPN       []string
	ServerName string
}

// HelloOf is what chi offered.
func HelloOf(chi *tls.ClientHelloInfo) Hello {
	return Hello{chi.SupportedProtos, chi.ServerName}
}

// Offered records h as what the client offered.
func (t *TLS) Offered(h Hello) {
	t.OfferedALPN = h.ALPN
	sn := h.ServerName
	t.OfferedServerName = &sn
}

// Common is the part of the command line both peers have.
type Common struct {
	Mode, Addr                string
	ALPN, SNI                 string
	CertFile, KeyFile, CAFile string
	KeyLog                    string
	ReadyFile                 string
	Out                       string
	Timeout, Pause            time.Duration
}

// Flags registers the common flags on the command line, with alpn as the
// default of -alpn. -ca and -timeout, whose meaning differs a little between
// the peers, are left to the caller (into c.CAFile and c.Timeout).
func (c *Common) Flags(alpn string) {
	flag.StringVar(&c.Mode, "mode", "", "server or client")
	flag.StringVar(&c.Addr, "addr", "127.0.0.1:4433", "listen (server) or connect (client) address")
	flag.StringVar(&c.ALPN, "alpn", alpn, "comma-separated ALPN protocols (client: offered; server: supported)")
	flag.StringVar(&c.SNI, "sni", "", "client: server name to send and verify (default: host of -addr)")
	flag.StringVar(&c.CertFile, "cert", "", "certificate chain PEM (server certificate, or client certificate)")
	flag.StringVar(&c.KeyFile, "key", "", "private key PEM for -cert")
	flag.StringVar(&c.KeyLog, "keylog", "", "append the session secrets to this file (NSS key log format, as SSLKEYLOGFILE)")
	flag.StringVar(&c.ReadyFile, "ready", "", "server: create this file once listening")
	flag.StringVar(&c.Out, "out", "", "append JSON lines here (default stdout)")
	flag.DurationVar(&c.Pause, "pause", 100*time.Millisecond, "client: pause between connections")
}

// Main runs the peer prog once the flags are parsed: it opens -out, calls
// server or client by -mode with it, and on an error prints it (after
// "prog: ") and exits with status 1.
func Main(prog string, c *Common, server, client func(*Emitter) error) {
	w := io.Writer(os.Stdout)
	if c.Out != "" {
		f, err := os.OpenFile(c.Out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			fatal(prog, err)
		}
		defer f.Close()
		w = f
	}
	out := &Emitter{w: w}
	var err error
	switch c.Mode {
	case "server":
		err = server(out)
	case "client":
		err = client(out)
	default:
		err = errors.New("-mode must be server or client")
	}
	if err != nil {
		fatal(prog, err)
	}
}

func fatal(prog string, err error) {
	fmt.Fprintln(os.Stderr, prog+":", err)
	os.Exit(1)
}

// Emitter writes records as JSON lines; it is safe for concurrent use.
type Emitter struct {
	mu sync.Mutex
	w  io.Writer
}

// Emit writes v as one JSON line.
func (e *Emitter) Emit(v any) {
	b, _ := json.Marshal(v)
	e.mu.Lock()
	defer e.mu.Unlock()
	fmt.Fprintln(e.w, string(b))
}

// SplitList splits a comma-separated flag value; "" is no values.
func SplitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Load adds to cfg the files of -keylog (the session secrets are appended
// to it) and -cert/-key, each when it is given.
func (c *Common) Load(cfg *tls.Config) error {
	if c.KeyLog != "" {
		f, err := os.OpenFile(c.KeyLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		cfg.KeyLogWriter = f // closed at exit
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return nil
}

// LoadPool reads the certificates of a PEM file (-ca).
func LoadPool(file string) (*x509.CertPool, error) {
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

// Ready writes the listening address to -ready, if given.
func (c *Common) Ready(addr net.Addr) error {
	if c.ReadyFile == "" {
		return nil
	}
	return os.WriteFile(c.ReadyFile, []byte(addr.String()+"\n"), 0o644)
}

// Client sets what a client verifies the server against: the server name
// (-sni, by default the host of -addr) and the roots of -ca, if given.
func (c *Common) Client(cfg *tls.Config) error {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return err
	}
	cfg.ServerName = host
	if c.SNI != "" {
		cfg.ServerName = c.SNI
	}
	if c.CAFile != "" {
		if cfg.RootCAs, err = LoadPool(c.CAFile); err != nil {
			return err
		}
	}
	return nil
}

// Clients makes the client's n connections: one(i) for i = 1..n, in turn,
// with -pause between them. An error from one ends the run; once all have
// run, the program exits with status 2 if any of them reported a failure.
func (c *Common) Clients(n int, one func(i int) (ok bool, err error)) error {
	failed := false
	for i := 1; i <= n; i++ {
		if i > 1 && c.Pause > 0 {
			time.Sleep(c.Pause)
		}
		ok, err := one(i)
		if err != nil {
			return err
		}
		if !ok {
			failed = true
		}
	}
	if failed {
		os.Exit(2)
	}
	return nil
}

// ClientCert is the certificate a client presents when the server asks for
// one (nil: none, an empty Certificate message).
type ClientCert struct {
	cert *tls.Certificate
}

// TakeClientCert takes the certificate out of cfg, so that each connection
// presents it through ClientCert.Config.
func TakeClientCert(cfg *tls.Config) ClientCert {
	var cc ClientCert
	if len(cfg.Certificates) > 0 {
		cc.cert = &cfg.Certificates[0]
		cfg.Certificates = nil
	}
	return cc
}

// Config is a copy of cfg for one connection whose client certificate is
// cc, recording in t whether the server asked for one and whether it was
// sent.
func (cc ClientCert) Config(cfg *tls.Config, t *TLS) *tls.Config {
	requested := false
	t.ClientCertRequested = &requested
	connCfg := cfg.Clone()
	connCfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		requested = true
		if cc.cert == nil {
			return &tls.Certificate{}, nil // empty Certificate message
		}
		t.ClientCertSent = true
		return cc.cert, nil
	}
	return connCfg
}
