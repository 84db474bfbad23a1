package tlsconn

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/tcpstream"
)

const (
	c2s = tcpstream.ClientToServer
	s2c = tcpstream.ServerToClient
)

// tls12Configs negotiate TLS 1.2 ECDHE-ECDSA with choices that differ from
// the client's first preference, so the Summary must take them from the
// server: AES-256 over AES-128, secp384r1 over x25519, http/1.1 over h2.
func tls12Configs() (*tls.Config, *tls.Config) {
	c := clientConfig()
	c.MaxVersion = tls.VersionTLS12
	c.NextProtos = []string{"h2", "http/1.1"}
	c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}
	c.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP384}
	s := serverConfig()
	s.NextProtos = []string{"http/1.1"}
	s.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}
	s.CurvePreferences = []tls.CurveID{tls.CurveP384}
	return c, s
}

// tls12Handshake runs a real tls12Configs handshake.
func tls12Handshake(t testing.TB) handshakeResult {
	t.Helper()
	c, s := tls12Configs()
	return mustHandshake(t, c, s)
}

// tls12Want is the Summary of a tls12Configs handshake replayed from chunk 0.
const tls12Want = `{
	"ts": "2026-03-01T12:00:00Z",
	"client": "192.0.2.10:49152",
	"server": "198.51.100.20:443",
	"transport": "tcp",
	"connection": 7,
	"handshake": 1,
	"upgraded_from": "<absent>",
	"sni": "server.test",
	"client_versions": ["TLS 1.2"],
	"client_legacy_version": "TLS 1.2",
	"version": "TLS 1.2",
	"version_id": 771,
	"client_cipher_suites": ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"],
	"cipher_suite": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"cipher_suite_id": 49196,
	"client_compression": ["null"],
	"compression": "null",
	"client_alpn": ["h2", "http/1.1"],
	"alpn": "http/1.1",
	"client_groups": ["x25519", "secp384r1"],
	"key_exchange": "ECDHE",
	"group": "secp384r1",
	"server_signature_scheme": "ecdsa_secp256r1_sha256",
	"resumed": false,
	"resumption": null,
	"hello_retry": false,
	"hello_retry_group": "<absent>",
	"client_cert_requested": false,
	"client_cert_request": "<absent>",
	"client_cert_sent": false,
	"client_certificates": [],
	"alerts": [],
	"established": true,
	"history": "CsxknGIFif",
	"warnings": []
}`

// TestTLS12ECDHESummaryAnyChunking replays one real TLS 1.2 handshake with
// the records cut at many places: the Summary must not depend on how the
// bytes arrive, and must be emitted (with both directions released) as soon
// as the server's Finished is read, before any application data and Close.
func TestTLS12ECDHESummaryAnyChunking(t *testing.T) {
	r := tls12Handshake(t)
	if r.state.Version != tls.VersionTLS12 || r.state.NegotiatedProtocol != "http/1.1" {
		t.Fatalf("endpoints negotiated %x %q", r.state.Version, r.state.NegotiatedProtocol)
	}
	firstAppData := -1
	for i, c := range r.chunks {
		if c.b[0] == 23 {
			firstAppData = i
			break
		}
	}
	if firstAppData < 0 {
		t.Fatal("no application data in the log")
	}
	leafSHA := sha256.Sum256(pki().serverDER)

	for _, split := range []int{0, 1, 2, 5, 13, 100, 1 << 20} {
		t.Run(fmt.Sprintf("split=%d", split), func(t *testing.T) {
			h := newHarness(t, Config{}).open(connInfo())
			emittedAt := -1
			for i, c := range r.chunks {
				h.data(c.dir, c.b, split)
				if len(h.got) > 0 && emittedAt < 0 {
					emittedAt = i
					if h.rcv.Wants(c2s) || h.rcv.Wants(s2c) {
						t.Errorf("Wants = %v/%v right after the Summary, want false/false", h.rcv.Wants(c2s), h.rcv.Wants(s2c))
					}
				}
			}
			if emittedAt < 0 || emittedAt >= firstAppData {
				t.Fatalf("Summary emitted at chunk %d, want before the first application data (chunk %d)", emittedAt, firstAppData)
			}
			s := h.one()
			checkFields(t, s, tls12Want)
			if got, want := subjects(s.ServerCertificates), []string{"CN=server.test,O=tlsinspect", "CN=tlsinspect test CA,O=tlsinspect"}; !reflect.DeepEqual(got, want) {
				t.Errorf("server_certificates subjects = %q, want %q", got, want)
			} else if s.ServerCertificates[0].SHA256 != hex.EncodeToString(leafSHA[:]) {
				t.Errorf("leaf sha256 = %s, want the served certificate's", s.ServerCertificates[0].SHA256)
			}
			h.close(tcpstream.CloseFIN)
			if len(h.got) != 1 {
				t.Errorf("Close emitted again: %d summaries", len(h.got))
			}
			if got, want := h.tr.Stats(), (Stats{TCPConnections: 1, TLSConnections: 1, Handshakes: 1, Established: 1}); got != want {
				t.Errorf("Stats = %+v, want %+v", got, want)
			}
		})
	}
}

// TestTLS13Summary: the server's choice of ALPN and the CertificateRequest
// are encrypted, so they are null; the group comes from the key_share.
func TestTLS13Summary(t *testing.T) {
	c, s := clientConfig(), serverConfig()
	c.NextProtos, s.NextProtos = []string{"h2"}, []string{"h2"}
	r := mustHandshake(t, c, s)
	if r.state.NegotiatedProtocol != "h2" || r.state.CurveID != tls.X25519MLKEM768 {
		t.Fatalf("endpoints negotiated %q %v", r.state.NegotiatedProtocol, r.state.CurveID)
	}
	for _, split := range []int{0, 3} {
		h := newHarness(t, Config{}).open(connInfo())
		h.replay(r.chunks, split)
		if h.rcv.Wants(c2s) || h.rcv.Wants(s2c) {
			t.Errorf("split %d: still wants bytes after the handshake", split)
		}
		got := h.one()
		checkFields(t, got, `{
			"client_versions": ["TLS 1.3", "TLS 1.2"],
			"version": "TLS 1.3",
			"version_id": 772,
			"client_alpn": ["h2"],
			"alpn": null,
			"client_key_share_groups": ["X25519MLKEM768", "x25519"],
			"server_extensions": ["supported_versions", "key_share"],
			"key_exchange": "ECDHE-MLKEM",
			"group": "X25519MLKEM768",
			"server_signature_scheme": "<absent>",
			"resumed": false,
			"resumption": null,
			"hello_retry": false,
			"client_cert_requested": null,
			"client_cert_sent": null,
			"server_certificates": [],
			"client_certificates": [],
			"alerts": [],
			"established": true,
			"history": "CsidID",
			"warnings": []
		}`)
		if want := tls.CipherSuiteName(r.state.CipherSuite); got.CipherSuite == nil || *got.CipherSuite != want {
			t.Errorf("split %d: cipher_suite = %s, want %s (the endpoints' choice)", split, mustJSON(got.CipherSuite), want)
		}
	}
}

// TestHelloRetryRequestIsOneHandshake: the client's key share (x25519) is
// not acceptable to the server (secp256r1 only).
func TestHelloRetryRequestIsOneHandshake(t *testing.T) {
	c, s := clientConfig(), serverConfig()
	c.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
	s.CurvePreferences = []tls.CurveID{tls.CurveP256}
	r := mustHandshake(t, c, s)
	if !r.state.HelloRetryRequest {
		t.Fatal("the endpoints did not do a HelloRetryRequest")
	}
	h := newHarness(t, Config{}).open(connInfo())
	h.replay(r.chunks, 7)
	h.close(tcpstream.CloseFIN)
	got := h.one()
	// The server's compatibility ChangeCipherSpec follows its HRR in a
	// separate write, racing the client's own: both orders happen.
	if got.History != "CjiICsdD" && got.History != "CjICisdD" {
		t.Errorf("history = %q, want CjiICsdD or CjICisdD", got.History)
	}
	checkFields(t, got, `{
		"ts": "2026-03-01T12:00:00Z",
		"client_groups": ["x25519", "secp256r1"],
		"client_key_share_groups": ["secp256r1"],
		"hello_retry": true,
		"hello_retry_group": "secp256r1",
		"group": "secp256r1",
		"key_exchange": "ECDHE",
		"version": "TLS 1.3",
		"established": true,
		"warnings": []
	}`)
}

// TestClientCertificatesTLS12 covers the three answers a TLS 1.2 observer
// can give about client authentication.
func TestClientCertificatesTLS12(t *testing.T) {
	ca := "CN=tlsinspect test CA,O=tlsinspect"
	tests := []struct {
		name      string
		auth      tls.ClientAuthType
		clientCAs bool
		sendCert  bool
		want      string
		wantCerts []string
		wantCAs   []string // nil: no client_cert_request
	}{
		{"mutual", tls.RequireAndVerifyClientCert, true, true, `{
			"client_cert_requested": true, "client_cert_sent": true,
			"established": true, "history": "CsxkrnXGYIFif", "warnings": []}`,
			[]string{"CN=client.test,O=tlsinspect", ca}, []string{ca}},
		{"requested-not-sent", tls.RequestClientCert, false, false, `{
			"client_cert_requested": true, "client_cert_sent": false,
			"established": true, "history": "CsxkrnXGIFif", "warnings": []}`,
			[]string{}, []string{}},
		{"not-requested", tls.NoClientCert, false, true, `{
			"client_cert_requested": false, "client_cert_request": "<absent>", "client_cert_sent": false,
			"established": true, "history": "CsxknGIFif", "warnings": []}`,
			[]string{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, s := clientConfig(), serverConfig()
			c.MaxVersion = tls.VersionTLS12
			if tc.sendCert {
				c.Certificates = []tls.Certificate{pki().client}
			}
			s.ClientAuth = tc.auth
			if tc.clientCAs {
				s.ClientCAs = pki().pool
			}
			r := mustHandshake(t, c, s)
			h := newHarness(t, Config{}).open(connInfo())
			h.replay(r.chunks, 0)
			got := h.one()
			checkFields(t, got, tc.want)
			if g := subjects(got.ClientCertificates); !reflect.DeepEqual(g, tc.wantCerts) {
				t.Errorf("client_certificates = %q, want %q", g, tc.wantCerts)
			}
			switch {
			case tc.wantCAs == nil:
			case got.ClientCertRequest == nil:
				t.Errorf("client_cert_request = null")
			default:
				if g := got.ClientCertRequest.CertificateAuthorities; !reflect.DeepEqual(g, tc.wantCAs) {
					t.Errorf("client_cert_request.certificate_authorities = %q, want %q", g, tc.wantCAs)
				}
				if g, w := got.ClientCertRequest.CertificateTypes, []string{"rsa_sign", "ecdsa_sign"}; !reflect.DeepEqual(g, w) {
					t.Errorf("client_cert_request.certificate_types = %q, want %q", g, w)
				}
			}
		})
	}
}

// TestResumption: a second connection from the same ClientSessionCache.
func TestResumption(t *testing.T) {
	tests := []struct {
		name      string
		max       uint16
		want      string
		wantFirst string
	}{
		{"tls12-ticket", tls.VersionTLS12,
			`{"resumed": true, "resumption": "ticket", "version": "TLS 1.2", "key_exchange": "ECDHE", "group": null,
			  "client_cert_requested": false, "client_cert_sent": false, "server_certificates": [],
			  "ticket_lifetime": 0, "established": true, "history": "CstifIF", "warnings": []}`,
			`{"resumed": false, "resumption": null, "history": "CsxknGIFtif", "established": true}`},
		{"tls13-psk", tls.VersionTLS13,
			`{"resumed": true, "resumption": "psk", "version": "TLS 1.3", "key_exchange": "PSK-ECDHE-MLKEM",
			  "group": "X25519MLKEM768", "client_cert_requested": null, "client_cert_sent": null,
			  "server_certificates": [], "established": true, "warnings": []}`,
			`{"resumed": false, "resumption": null, "key_exchange": "ECDHE-MLKEM", "established": true}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, s := clientConfig(), serverConfig()
			c.MaxVersion = tc.max
			c.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			first := mustHandshake(t, c, s)
			second := mustHandshake(t, c, s)
			if first.state.DidResume || !second.state.DidResume {
				t.Fatalf("endpoints: first resumed %v, second resumed %v", first.state.DidResume, second.state.DidResume)
			}
			tr := newHarness(t, Config{})
			tr.open(connInfo()).replay(first.chunks, 0)
			info := connInfo()
			info.ID++
			tr.open(info).replay(second.chunks, 0)
			if len(tr.got) != 2 {
				t.Fatalf("got %d summaries, want 2", len(tr.got))
			}
			checkFields(t, tr.got[0], tc.wantFirst)
			checkFields(t, tr.got[1], tc.want)
			if got, want := tr.tr.Stats(), (Stats{TCPConnections: 2, TLSConnections: 2, Handshakes: 2, Established: 2}); got != want {
				t.Errorf("Stats = %+v, want %+v", got, want)
			}
		})
	}
}

// TestFatalAlertFromServer: the client offers only TLS 1.0, the server
// requires TLS 1.2 and answers with a protocol_version alert.
func TestFatalAlertFromServer(t *testing.T) {
	c := clientConfig()
	c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS10
	r := realHandshake(t, c, serverConfig())
	if r.clientErr == nil || r.serverErr == nil {
		t.Fatalf("handshake did not fail: client %v, server %v", r.clientErr, r.serverErr)
	}
	h := newHarness(t, Config{}).open(connInfo())
	h.replay(r.chunks, 0)
	if len(h.got) != 0 {
		t.Fatalf("emitted %d summaries before Close, want 0", len(h.got))
	}
	h.close(tcpstream.CloseRST)
	got := h.one()
	checkFields(t, got, `{
		"client_versions": ["TLS 1.0"],
		"client_legacy_version": "TLS 1.0",
		"version": null, "version_id": null, "cipher_suite": null, "compression": null,
		"key_exchange": null, "group": null, "resumed": null,
		"client_cert_requested": null, "client_cert_sent": null,
		"server_certificates": [],
		"alerts": [{"from": "server", "level": "fatal", "description": "protocol_version"}],
		"established": false,
		"history": "Cl",
		"warnings": []
	}`)
	if o := got.Outcome(); o != "protocol_version" {
		t.Errorf("Outcome() = %q, want protocol_version", o)
	}
	if got, want := h.tr.Stats(), (Stats{TCPConnections: 1, TLSConnections: 1, Handshakes: 1}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

// TestPlaintextPreambleBeforeTLS: STARTTLS-style exchanges before the
// ClientHello are named in upgraded_from and change nothing else.
func TestPlaintextPreambleBeforeTLS(t *testing.T) {
	r := tls12Handshake(t)
	plain := newHarness(t, Config{}).open(connInfo())
	plain.replay(r.chunks, 0)
	base := plain.one()

	tests := []struct {
		name     string
		preamble []chunk
		want     string
	}{
		{"smtp", []chunk{
			{s2c, []byte("220 mx.example.com ESMTP ready\r\n")},
			{c2s, []byte("EHLO client.example.com\r\n")},
			{s2c, []byte("250-mx.example.com\r\n250-PIPELINING\r\n250 STARTTLS\r\n")},
			{c2s, []byte("STARTTLS\r\n")},
			{s2c, []byte("220 2.0.0 Ready to start TLS\r\n")},
		}, "smtp"},
		{"postgresql", []chunk{
			{c2s, []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}},
			{s2c, []byte("S")},
		}, "postgresql"},
		{"http-connect", []chunk{
			{c2s, []byte("CONNECT server.test:443 HTTP/1.1\r\nHost: server.test:443\r\n\r\n")},
			{s2c, []byte("HTTP/1.1 200 Connection established\r\n\r\n")},
		}, "http-connect"},
		{"imap", []chunk{
			{s2c, []byte("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")},
			{c2s, []byte("a001 STARTTLS\r\n")},
			{s2c, []byte("a001 OK Begin TLS negotiation now\r\n")},
		}, "imap"},
	}
	for _, tc := range tests {
		for _, split := range []int{0, 1, 4} {
			t.Run(fmt.Sprintf("%s/split=%d", tc.name, split), func(t *testing.T) {
				h := newHarness(t, Config{}).open(connInfo())
				h.replay(tc.preamble, split)
				if len(h.got) != 0 || !h.rcv.Wants(c2s) || !h.rcv.Wants(s2c) {
					t.Fatalf("after the preamble: %d summaries, wants %v/%v", len(h.got), h.rcv.Wants(c2s), h.rcv.Wants(s2c))
				}
				h.replay(r.chunks, split)
				got := h.one()
				if got.UpgradedFrom != tc.want {
					t.Errorf("upgraded_from = %q, want %q", got.UpgradedFrom, tc.want)
				}
				if want := chunkTime(len(tc.preamble)); !got.TS.Equal(want) {
					t.Errorf("ts = %v, want the ClientHello's %v", got.TS, want)
				}
				g, b := *got, *base
				g.UpgradedFrom, g.TS = "", b.TS
				if gj, bj := mustJSON(&g), mustJSON(&b); gj != bj {
					t.Errorf("other fields differ from the same handshake without a preamble:\n got %s\nwant %s", gj, bj)
				}
			})
		}
	}
}

// TestRolesFromContent: without a SYN the TCP layer guessed the roles
// wrong; the ClientHello decides who the TLS client is.
func TestRolesFromContent(t *testing.T) {
	r := tls12Handshake(t)
	h := newHarness(t, Config{})
	h.open(tcpstream.ConnInfo{ID: 7, Client: serverEP, Server: clientEP, SawSYN: false, Start: t0})
	h.flip = true // the TLS client's bytes arrive as ServerToClient
	h.replay(r.chunks, 0)
	if h.rcv.Wants(c2s) || h.rcv.Wants(s2c) {
		t.Error("still wants bytes after the handshake")
	}
	checkFields(t, h.one(), `{
		"client": "192.0.2.10:49152",
		"server": "198.51.100.20:443",
		"sni": "server.test",
		"alpn": "http/1.1",
		"client_cert_requested": false,
		"established": true,
		"history": "CsxknGIFif",
		"warnings": ["no TCP handshake seen: connection picked up mid-stream"]
	}`)
	if got := subjects(h.got[0].ServerCertificates); len(got) != 2 || got[0] != "CN=server.test,O=tlsinspect" {
		t.Errorf("server_certificates = %q", got)
	}
}

// TestNonTLSStreamsAreReleased: streams without TLS in the scan window
// produce nothing and stop being buffered in both directions.
func TestNonTLSStreamsAreReleased(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	noise := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	tests := []struct {
		name   string
		cfg    Config
		chunks []chunk
	}{
		{"http", Config{}, []chunk{
			{c2s, []byte("GET /big HTTP/1.1\r\nHost: example.com\r\n\r\n")},
			{s2c, append([]byte("HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n"), bytes.Repeat([]byte("0123456789"), 2000)...)},
		}},
		{"http-small-scan-limit", Config{ScanLimit: 1000}, []chunk{
			{c2s, []byte("POST /x HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1200\r\n\r\n")},
			{c2s, bytes.Repeat([]byte("a"), 1200)},
			{s2c, []byte("HTTP/1.1 204 No Content\r\n\r\n")},
		}},
		{"ssh", Config{}, []chunk{
			{s2c, []byte("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")},
			{c2s, []byte("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")},
			{c2s, noise(9000)},
			{s2c, noise(9000)},
			{c2s, noise(9000)},
			{s2c, noise(9000)},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.cfg).open(connInfo())
			h.replay(tc.chunks, 1500)
			if h.rcv.Wants(c2s) || h.rcv.Wants(s2c) {
				t.Errorf("Wants = %v/%v, want false/false", h.rcv.Wants(c2s), h.rcv.Wants(s2c))
			}
			h.close(tcpstream.CloseFIN)
			if len(h.got) != 0 {
				t.Errorf("emitted %d summaries for a non-TLS stream:\n%s", len(h.got), dump(h.got))
			}
			if got, want := h.tr.Stats(), (Stats{TCPConnections: 1}); got != want {
				t.Errorf("Stats = %+v, want %+v", got, want)
			}
		})
	}
}

// TestPlainHTTPAndSSHReleasedAtOnce: a complete HTTP request head or an
// SSH banner lets the connection go after its first bytes, before the scan
// limit, even when a ClientHello follows inside the request body.
func TestPlainHTTPAndSSHReleasedAtOnce(t *testing.T) {
	ch := tls12Handshake(t).chunks[0].b
	tests := []struct {
		name  string
		first chunk
	}{
		{"http", chunk{c2s, []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")}},
		{"http upload of a capture", chunk{c2s, append([]byte("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 300\r\n\r\n"), ch...)}},
		{"ssh server first", chunk{s2c, []byte("SSH-2.0-OpenSSH_9.6\r\n")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{}).open(connInfo())
			h.replay([]chunk{tc.first}, 0)
			if h.rcv.Wants(c2s) || h.rcv.Wants(s2c) {
				t.Errorf("still wanted after the first bytes")
			}
			h.replay([]chunk{{c2s, ch}}, 0)
			h.close(tcpstream.CloseFIN)
			if len(h.got) != 0 || h.tr.Stats() != (Stats{TCPConnections: 1}) {
				t.Errorf("reported %d summaries, Stats %+v", len(h.got), h.tr.Stats())
			}
		})
	}
}

// TestMidConnectionServerOnly: the capture starts after the ClientHello;
// the server's facts are still reported, with warnings for what is missing.
func TestMidConnectionServerOnly(t *testing.T) {
	r := tls12Handshake(t)
	var server []chunk
	for _, c := range r.chunks {
		if c.dir == s2c {
			server = append(server, c)
		}
	}
	chLen := len(r.chunks[0].b)
	tests := []struct {
		name     string
		gapFirst bool
		warnings string
	}{
		{"gap-before-server-data", true, `["no TCP handshake seen: connection picked up mid-stream",
			"ServerHello without a ClientHello in the capture: the client's offer is unknown",
			"handshake still in progress when the capture ended"]`},
		{"gap-after-server-data", false, fmt.Sprintf(`["no TCP handshake seen: connection picked up mid-stream",
			"ServerHello without a ClientHello in the capture: the client's offer is unknown",
			"client stream: %d bytes missing from the capture before this side's first TLS record",
			"handshake still in progress when the capture ended"]`, chLen)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			info := connInfo()
			info.SawSYN = false
			h.open(info)
			if tc.gapFirst {
				h.rcv.Gap(c2s, chLen, t0)
			}
			h.replay(server[:1], 0)
			if !tc.gapFirst {
				h.rcv.Gap(c2s, chLen, t0)
			}
			h.replay(server[1:], 0)
			h.close(tcpstream.CloseEndOfInput)
			got := h.one()
			checkFields(t, got, `{
				"ts": "2026-03-01T12:00:00Z",
				"client": "192.0.2.10:49152",
				"server": "198.51.100.20:443",
				"sni": null,
				"client_versions": [], "client_legacy_version": null, "client_cipher_suites": [],
				"client_alpn": [], "client_extensions": [],
				"version": "TLS 1.2",
				"cipher_suite": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
				"alpn": "http/1.1",
				"group": "secp384r1",
				"key_exchange": "ECDHE",
				"resumed": false,
				"client_cert_requested": false,
				"established": false,
				"history": "sxknif",
				"warnings": `+tc.warnings+`
			}`)
			if len(got.ServerCertificates) != 2 {
				t.Errorf("%d server certificates, want 2", len(got.ServerCertificates))
			}
		})
	}
}

// TestGapInServerFlight: bytes lost after the ServerHello hide whether a
// CertificateRequest was sent; the Summary must say null, not false, even
// when the client's answer is seen.
func TestGapInServerFlight(t *testing.T) {
	tests := []struct {
		name         string
		mutual       bool
		clientAnswer bool
		want         string
	}{
		{"server-flight-cut-then-close", false, false,
			`{"client_cert_requested": null, "client_cert_sent": null, "established": false, "history": "Cs"}`},
		{"client-answers", false, true,
			`{"client_cert_requested": null, "client_cert_sent": null, "established": false, "history": "CsGIF"}`},
		{"mutual-client-answers", true, true,
			`{"client_cert_requested": null, "client_cert_sent": true, "established": false, "history": "CsXGYIF"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, s := tls12Configs()
			if tc.mutual {
				c.Certificates = []tls.Certificate{pki().client}
				s.ClientAuth, s.ClientCAs = tls.RequireAndVerifyClientCert, pki().pool
			}
			r := mustHandshake(t, c, s)
			recs := allRecords(r.chunks)
			if recs[1].dir != s2c || recs[1].b[5] != 2 {
				t.Fatalf("record 1 is not the ServerHello")
			}
			h := newHarness(t, Config{}).open(connInfo())
			h.replay(recs[:2], 0) // ClientHello, ServerHello
			lost := 0
			for _, rc := range recs[2:] {
				if rc.dir == s2c && !isCCS(rc) && lost >= 0 {
					lost += len(rc.b)
					continue
				}
				if lost > 0 {
					h.rcv.Gap(s2c, lost, t0)
					lost = -1
				}
				if rc.dir == c2s && tc.clientAnswer {
					h.data(rc.dir, rc.b, 0)
				}
			}
			if h.rcv.Wants(s2c) {
				t.Error("server direction still wanted after a gap stopped it")
			}
			h.close(tcpstream.CloseFIN)
			got := h.one()
			checkFields(t, got, tc.want)
			var gapWarn bool
			for _, w := range got.Warnings {
				if strings.HasPrefix(w, "server stream: ") && strings.Contains(w, "bytes missing from the capture") {
					gapWarn = true
				}
			}
			if !gapWarn {
				t.Errorf("no warning about the missing server bytes: %q", got.Warnings)
			}
		})
	}
}

// handshakeLen returns the length of the first handshake message of type
// typ in the chunks (records hold whole messages in Go's output).
func handshakeLen(chunks []chunk, typ byte) int {
	for _, rc := range allRecords(chunks) {
		if rc.b[0] == 22 && len(rc.b) >= 9 && rc.b[5] == typ {
			return int(rc.b[6])<<16 | int(rc.b[7])<<8 | int(rc.b[8])
		}
	}
	return -1
}

// TestOversizedHandshakeMessage: a certificate chain larger than
// Config.MaxMessage is skipped with a warning; the messages after it are
// still read and the handshake is still seen to complete.
func TestOversizedHandshakeMessage(t *testing.T) {
	tests := []struct {
		name   string
		mutual bool
		want   string
	}{
		{"server-chain", false, `{"server_certificates": [], "client_cert_requested": false, "client_cert_sent": false,
			"group": "secp384r1", "server_signature_scheme": "ecdsa_secp256r1_sha256",
			"established": true, "history": "CszknGIFif"}`},
		// The client's chain was sent but could not be read: unknown, not false.
		{"both-chains", true, `{"server_certificates": [], "client_certificates": [], "client_cert_requested": true,
			"client_cert_sent": null, "established": true, "history": "CszkrnZGYIFif"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, s := tls12Configs()
			if tc.mutual {
				c.Certificates = []tls.Certificate{pki().client}
				s.ClientAuth, s.ClientCAs = tls.RequireAndVerifyClientCert, pki().pool
			}
			r := mustHandshake(t, c, s)
			h := newHarness(t, Config{MaxMessage: 512}).open(connInfo())
			h.replay(r.chunks, 100)
			got := h.one()
			checkFields(t, got, tc.want)
			n := handshakeLen(r.chunks, 11)
			want := fmt.Sprintf("server stream: handshake message type 11 claims %d bytes, more than the 512-byte limit: skipped", n)
			if len(got.Warnings) == 0 || got.Warnings[0] != want {
				t.Errorf("warnings = %q, want first %q", got.Warnings, want)
			}
			if st := h.tr.Stats(); st.Warnings != len(got.Warnings) || st.Established != 1 {
				t.Errorf("Stats = %+v, want Warnings %d Established 1", st, len(got.Warnings))
			}
		})
	}
}

// TestCloseBeforeCompletion: unfinished handshakes are reported at Close;
// connections that never showed TLS are not.
func TestCloseBeforeCompletion(t *testing.T) {
	r := tls12Handshake(t)
	recs := allRecords(r.chunks)
	firstFlights := until(recs, func(c chunk) bool { return c.dir == c2s && c.b[5] == 16 }) // up to ClientKeyExchange
	tests := []struct {
		name   string
		chunks []chunk
		reason tcpstream.CloseReason
		want   string // "" when nothing may be emitted
		tls    int
	}{
		{"after-server-flight", firstFlights, tcpstream.CloseFIN, `{
			"version": "TLS 1.2", "established": false, "history": "Csxkn",
			"client_cert_requested": false, "resumed": false,
			"warnings": ["connection ended (fin) before the handshake completed"]}`, 1},
		{"idle-after-server-hello", recs[:2], tcpstream.CloseIdle, `{
			"version": "TLS 1.2", "established": false, "history": "Cs",
			"client_cert_requested": null, "client_cert_sent": null,
			"warnings": ["connection ended (idle) before the handshake completed: no packet for longer than the idle timeout (--idle-timeout)"]}`, 1},
		{"evicted-after-client-hello", recs[:1], tcpstream.CloseEvicted, `{
			"version": null, "sni": "server.test", "established": false, "history": "C",
			"warnings": ["connection ended (evicted) before the handshake completed: more connections at once than the connection limit (--max-flows); the least recently active was forgotten"]}`, 1},
		{"start-of-record-only", []chunk{{c2s, r.chunks[0].b[:20]}}, tcpstream.CloseRST, `{
			"version": null, "established": false, "history": "", "sni": null, "client_versions": [],
			"warnings": ["no ClientHello or ServerHello could be read"]}`, 1},
		{"never-tls", []chunk{{c2s, []byte("hello\r\n")}, {s2c, []byte("bye\r\n")}}, tcpstream.CloseFIN, "", 0},
		{"nothing", nil, tcpstream.CloseRST, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{}).open(connInfo())
			h.replay(tc.chunks, 0)
			if len(h.got) != 0 {
				t.Fatalf("emitted %d summaries before Close", len(h.got))
			}
			h.close(tc.reason)
			if tc.want == "" {
				if len(h.got) != 0 {
					t.Fatalf("emitted %d summaries, want none:\n%s", len(h.got), dump(h.got))
				}
			} else {
				checkFields(t, h.one(), tc.want)
			}
			if st := h.tr.Stats(); st.TLSConnections != tc.tls || st.Handshakes != len(h.got) || st.Established != 0 {
				t.Errorf("Stats = %+v", st)
			}
		})
	}
}

// TestTwoHandshakesOnOneConnection: a new plaintext ClientHello after an
// unfinished handshake starts a second Summary on the same connection.
func TestTwoHandshakesOnOneConnection(t *testing.T) {
	full := tls12Handshake(t)
	recs := allRecords(full.chunks)
	plaintext := until(recs, isCCS)

	c := clientConfig()
	c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS10
	failed := realHandshake(t, c, serverConfig())
	if failed.serverErr == nil {
		t.Fatal("TLS 1.0-only handshake did not fail")
	}
	second := tls12Handshake(t)

	tests := []struct {
		name      string
		first     []chunk
		wantFirst string
	}{
		{"unfinished-plaintext", plaintext,
			`{"handshake": 1, "established": false, "history": "CsxknG", "version": "TLS 1.2", "warnings": []}`},
		{"after-fatal-alert", failed.chunks,
			`{"handshake": 1, "established": false, "history": "Cl", "version": null, "client_versions": ["TLS 1.0"],
			  "alerts": [{"from": "server", "level": "fatal", "description": "protocol_version"}], "warnings": []}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{}).open(connInfo())
			h.replay(tc.first, 0)
			h.replay(second.chunks, 0)
			h.close(tcpstream.CloseFIN)
			if len(h.got) != 2 {
				t.Fatalf("got %d summaries, want 2:\n%s", len(h.got), dump(h.got))
			}
			checkFields(t, h.got[0], tc.wantFirst)
			checkFields(t, h.got[1], tls12Want, fmt.Sprintf(`{"handshake": 2, "ts": %s}`, mustJSON(chunkTime(len(tc.first)))))
			if h.got[0].Connection != h.got[1].Connection {
				t.Errorf("connection numbers differ: %d, %d", h.got[0].Connection, h.got[1].Connection)
			}
			if got, want := h.tr.Stats(), (Stats{TCPConnections: 1, TLSConnections: 1, Handshakes: 2, Established: 1}); got != want {
				t.Errorf("Stats = %+v, want %+v", got, want)
			}
		})
	}
}
