package tlsdecrypt

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// goSession is one real crypto/tls connection over loopback TCP: the bytes
// each side wrote, and the client's key log.
type goSession struct {
	c2s, s2c []byte
	keyLog   keyLog
	state    tls.ConnectionState // the client's
}

const (
	ping = "ping from the client"
	pong = "pong from the server"
)

// runGo connects a crypto/tls client and server, sends ping one way and
// pong the other, and closes both with close_notify.
func runGo(t *testing.T, client, server *tls.Config) *goSession {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var kl lockedBuffer
	client = client.Clone()
	client.KeyLogWriter = &kl
	client.InsecureSkipVerify = true
	// Without a session cache a Go client offers no PSK modes, and the
	// server then sends no NewSessionTicket.
	client.ClientSessionCache = tls.NewLRUClientSessionCache(1)
	deadline := time.Now().Add(20 * time.Second)

	srvRec := make(chan *recorder, 1)
	srvErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srvRec <- nil
			srvErr <- err
			return
		}
		rec := &recorder{Conn: c}
		srvRec <- rec
		s := tls.Server(rec, server)
		s.SetDeadline(deadline)
		buf := make([]byte, len(ping))
		if _, err := io.ReadFull(s, buf); err != nil {
			srvErr <- err
			s.Close()
			return
		}
		if _, err := s.Write([]byte(pong)); err != nil {
			srvErr <- err
			s.Close()
			return
		}
		// Wait for the client's close_notify so that both alerts are sent
		// while the other side still listens.
		io.Copy(io.Discard, s)
		srvErr <- s.Close()
	}()

	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cliRec := &recorder{Conn: nc}
	c := tls.Client(cliRec, client)
	c.SetDeadline(deadline)
	if _, err := c.Write([]byte(ping)); err != nil {
		t.Fatalf("client write: %v", err)
	}
	buf := make([]byte, len(pong))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("client read: %v", err)
	}
	state := c.ConnectionState()
	if err := c.Close(); err != nil {
		t.Fatalf("client close: %v", err)
	}
	sr := <-srvRec
	if err := <-srvErr; err != nil {
		t.Fatalf("server: %v", err)
	}
	return &goSession{c2s: cliRec.bytes(), s2c: sr.bytes(), keyLog: parseKeyLog(t, kl.String()), state: state}
}

func TestGoTLS13(t *testing.T) {
	cc := certs(t)
	cases := []struct {
		name string
		// clientSuites steers Go's TLS 1.3 suite choice, which no setting
		// controls directly: a Go server prefers AES-GCM only if the first
		// suite the client lists is an AES-GCM one, and the client lists its
		// TLS 1.2 suites (these) before its TLS 1.3 suites.
		clientSuites []uint16
		want         uint16 // 0: whatever this machine's AES support gives
		mutual       bool
	}{
		{"AES-128-GCM", []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, tls.TLS_AES_128_GCM_SHA256, false},
		{"ChaCha20-Poly1305", []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}, tls.TLS_CHACHA20_POLY1305_SHA256, false},
		{"default", nil, 0, false},
		{"mutual TLS", nil, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// No MinVersion: a TLS 1.3-only Go client drops its TLS 1.2 suites.
			client := &tls.Config{CipherSuites: c.clientSuites}
			server := &tls.Config{Certificates: []tls.Certificate{cc.ecdsa}}
			if c.mutual {
				client.Certificates = []tls.Certificate{cc.client}
				server.ClientAuth = tls.RequireAnyClientCert
			}
			s := runGo(t, client, server)
			if s.state.Version != tls.VersionTLS13 {
				t.Fatalf("negotiated 0x%04x", s.state.Version)
			}
			if c.want != 0 && s.state.CipherSuite != c.want {
				// Only on a machine without AES hardware, where Go always
				// prefers ChaCha20.
				t.Skipf("Go chose %s, not %s, on this machine", tls.CipherSuiteName(s.state.CipherSuite), tls.CipherSuiteName(c.want))
			}
			cf, sf, suite := conn13(t, s.c2s, s.s2c, s.keyLog)
			if suite != s.state.CipherSuite {
				t.Fatalf("ServerHello says 0x%04x, client state 0x%04x", suite, s.state.CipherSuite)
			}

			// The server's hidden flight, in order, then tickets.
			want := []uint8{hsServerHello, hsEncryptedExtensions}
			if c.mutual {
				want = append(want, hsCertificateRequest)
			}
			want = append(want, hsCertificate, hsCertificateVerify, hsFinished)
			got := sf.msgTypes()
			if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
				t.Fatalf("server messages %v, want %v then tickets", got, want)
			}
			for _, m := range got[len(want):] {
				if m != hsNewSessionTicket {
					t.Errorf("server message %d after Finished, want only NewSessionTicket", m)
				}
			}
			if len(got) == len(want) {
				t.Error("no NewSessionTicket")
			}
			// The server's Certificate carries the certificate it was given.
			var sc []byte
			for _, m := range sf.msgs {
				if m.typ == hsCertificate {
					sc = firstCert13(t, m.body)
				}
			}
			if !bytes.Equal(sc, cc.ecdsa.Certificate[0]) {
				t.Error("server Certificate does not hold the server's certificate")
			}
			for _, m := range sf.msgs {
				if m.typ == hsFinished && len(m.body) != SuiteHashLen(suite) {
					t.Errorf("server Finished is %d bytes", len(m.body))
				}
			}

			wantClient := []uint8{hsClientHello}
			if c.mutual {
				wantClient = append(wantClient, hsCertificate, hsCertificateVerify)
			}
			wantClient = append(wantClient, hsFinished)
			if got := cf.msgTypes(); !slices.Equal(got, wantClient) {
				t.Fatalf("client messages %v, want %v", got, wantClient)
			}
			if c.mutual {
				if got := firstCert13(t, cf.msgs[1].body); !bytes.Equal(got, cc.client.Certificate[0]) {
					t.Error("client Certificate does not hold the client's certificate")
				}
			}
			if string(cf.app) != ping || string(sf.app) != pong {
				t.Errorf("application data %q / %q", cf.app, sf.app)
			}
			for name, f := range map[string]*flow{"client": cf, "server": sf} {
				if len(f.alerts) != 1 || !bytes.Equal(f.alerts[0], []byte{1, 0}) {
					t.Errorf("%s alerts %x, want one close_notify", name, f.alerts)
				}
			}
		})
	}
}

// firstCert13 returns the first certificate of a TLS 1.3 Certificate body.
func firstCert13(t testing.TB, body []byte) []byte {
	t.Helper()
	s := cryptobyte.String(body)
	var ctx, list, cert cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&ctx) || !s.ReadUint24LengthPrefixed(&list) || !list.ReadUint24LengthPrefixed(&cert) {
		t.Fatal("malformed TLS 1.3 Certificate")
	}
	return cert
}

// firstCert12 returns the first certificate of a TLS 1.2 Certificate body.
func firstCert12(t testing.TB, body []byte) []byte {
	t.Helper()
	s := cryptobyte.String(body)
	var list, cert cryptobyte.String
	if !s.ReadUint24LengthPrefixed(&list) || !list.ReadUint24LengthPrefixed(&cert) {
		t.Fatal("malformed Certificate")
	}
	return cert
}

// TestGoTLS12 runs every TLS 1.0–1.2 suite crypto/tls implements except RC4,
// and checks both Finished messages, the application data and the
// close_notify alerts.
func TestGoTLS12(t *testing.T) {
	cc := certs(t)
	type tc struct {
		version uint16
		suite   uint16
		mutual  bool
	}
	var cases []tc
	for _, s := range []uint16{
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
		tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
		tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
	} {
		cases = append(cases, tc{tls.VersionTLS12, s, false})
	}
	// TLS 1.0 chains the CBC IV from record to record (and Go splits its
	// records 1/n-1 against BEAST); TLS 1.1 sends an explicit IV.
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		for _, s := range []uint16{
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
			tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
			tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		} {
			cases = append(cases, tc{v, s, false})
		}
	}
	cases = append(cases, tc{tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, true})

	for _, c := range cases {
		name := tls.VersionName(c.version) + " " + tls.CipherSuiteName(c.suite)
		if c.mutual {
			name += " mutual"
		}
		t.Run(name, func(t *testing.T) {
			cert := cc.rsa
			if strings.Contains(tls.CipherSuiteName(c.suite), "ECDSA") {
				cert = cc.ecdsa
			}
			client := &tls.Config{MinVersion: c.version, MaxVersion: c.version, CipherSuites: []uint16{c.suite}}
			server := &tls.Config{MinVersion: c.version, MaxVersion: c.version, CipherSuites: []uint16{c.suite},
				Certificates: []tls.Certificate{cert}}
			if c.mutual {
				client.Certificates = []tls.Certificate{cc.client}
				server.ClientAuth = tls.RequireAnyClientCert
			}
			s := runGo(t, client, server)
			if s.state.Version != c.version || s.state.CipherSuite != c.suite {
				t.Fatalf("negotiated 0x%04x 0x%04x", s.state.Version, s.state.CipherSuite)
			}
			cf, sf, conn := decodeConn12(t, s.c2s, s.s2c, s.keyLog)
			if len(conn.decrypters) != 2 {
				t.Fatalf("%d epochs of keys, want one per direction", len(conn.decrypters))
			}
			for name, f := range map[string]*flow{"client": cf, "server": sf} {
				// The first encrypted handshake message is the Finished with
				// 12 bytes of verify_data.
				var fin []hsMsg
				for _, m := range f.msgs {
					if m.typ == hsFinished {
						fin = append(fin, m)
					}
				}
				if len(fin) != 1 || len(fin[0].body) != 12 {
					t.Errorf("%s Finished messages %v", name, fin)
				}
				if len(f.alerts) != 1 || !bytes.Equal(f.alerts[0], []byte{1, 0}) {
					t.Errorf("%s alerts %x, want one close_notify", name, f.alerts)
				}
				if f.opened < 3 { // Finished, data, alert
					t.Errorf("%s: only %d records decrypted", name, f.opened)
				}
			}
			if string(cf.app) != ping || string(sf.app) != pong {
				t.Errorf("application data %q / %q", cf.app, sf.app)
			}
			if c.mutual {
				if got := firstCert12(t, cf.msgs[1].body); cf.msgs[1].typ != hsCertificate || !bytes.Equal(got, cc.client.Certificate[0]) {
					t.Error("client Certificate does not hold the client's certificate")
				}
			}
		})
	}
}
