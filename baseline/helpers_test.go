package baseline

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/analyze"
	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

func ptr[T any](v T) *T { return &v }

type mod func(*tlsconn.Summary)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// hs returns an established, full TLS 1.2 handshake to a.test, changed by
// mods: each test case then differs from it in one respect.
func hs(mods ...mod) *tlsconn.Summary {
	s := &tlsconn.Summary{
		TS:                  t0,
		Client:              "10.0.0.1:50000",
		Server:              "10.0.0.2:443",
		Transport:           "tcp",
		Connection:          1,
		Handshake:           1,
		SNI:                 ptr("a.test"),
		Version:             ptr("TLS 1.2"),
		VersionID:           ptr(0x0303),
		CipherSuite:         ptr("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
		CipherSuiteID:       ptr(0xc02f),
		Group:               ptr("x25519"),
		ALPN:                ptr("h2"),
		Resumed:             ptr(false),
		ClientCertRequested: ptr(false),
		ClientCertSent:      ptr(false),
		ServerCertificates: []*certinfo.Certificate{
			{SHA256: "aa11", Issuer: "CN=Test CA,O=test"},
			{SHA256: "ff00", Issuer: "CN=Test Root,O=test"},
		},
		JA4:         "t12d1011h2_aaaa_bbbb",
		JA3:         "0123456789abcdef0123456789abcdef",
		Established: true,
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

func version(name string, id int) mod {
	return func(s *tlsconn.Summary) {
		s.Version, s.VersionID = ptr(name), ptr(id)
		if id == 0x0304 {
			// What tlsconn reports for TLS 1.3: ALPN and client
			// authentication are encrypted.
			s.ALPN, s.ClientCertRequested, s.ClientCertSent = nil, nil, nil
		}
	}
}

func suite(name string, id int) mod {
	return func(s *tlsconn.Summary) { s.CipherSuite, s.CipherSuiteID = ptr(name), ptr(id) }
}

func group(g string) mod { return func(s *tlsconn.Summary) { s.Group = ptr(g) } }

func alpn(p *string) mod { return func(s *tlsconn.Summary) { s.ALPN = p } }

func clientAuth(requested, sent *bool) mod {
	return func(s *tlsconn.Summary) { s.ClientCertRequested, s.ClientCertSent = requested, sent }
}

func leaf(sha, issuer string) mod {
	return func(s *tlsconn.Summary) { s.ServerCertificates[0] = &certinfo.Certificate{SHA256: sha, Issuer: issuer} }
}

func ja4(v string) mod { return func(s *tlsconn.Summary) { s.JA4 = v } }

func sni(v *string) mod { return func(s *tlsconn.Summary) { s.SNI = v } }

func addr(a string) mod { return func(s *tlsconn.Summary) { s.Server = a } }

func at(ts time.Time) mod { return func(s *tlsconn.Summary) { s.TS = ts } }

// failed is a handshake refused by a fatal alert after the ServerHello.
var failed mod = func(s *tlsconn.Summary) {
	s.Established = false
	s.Alerts = []tlsconn.Alert{{From: "client", Level: "fatal", Description: "bad_certificate"}}
}

// resumed is an abbreviated TLS 1.2 handshake, as tlsconn reports it.
var resumed mod = func(s *tlsconn.Summary) {
	s.Resumed, s.Resumption = ptr(true), ptr("ticket")
	s.ClientCertRequested, s.ClientCertSent = ptr(false), ptr(false)
	s.ServerCertificates = []*certinfo.Certificate{}
	s.Group = nil
}

var yes, no = ptr(true), ptr(false)

func build(ss ...*tlsconn.Summary) *Baseline {
	b := NewBuilder()
	for _, s := range ss {
		b.Add(s)
	}
	return b.Baseline()
}

func encode(t testing.TB, bl *Baseline) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := bl.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var pipeline = analyze.Config{MaxMessage: 1 << 20, ScanLimit: 16 << 10, MaxBuffer: 256 << 10, IdleTimeout: 2 * time.Minute}

// capture returns the summaries of one project capture, through the real
// pipeline.
func captureSummaries(t testing.TB, name string) []*tlsconn.Summary {
	t.Helper()
	path := filepath.Join("..", "testdata", "pcaps", name)
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []*tlsconn.Summary
	if _, err := analyze.Run(src, pipeline, func(s *tlsconn.Summary) { out = append(out, s) }); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no handshakes", path)
	}
	return out
}

func captureBaseline(t testing.TB, names ...string) *Baseline {
	t.Helper()
	b := NewBuilder()
	for _, n := range names {
		for _, s := range captureSummaries(t, n) {
			b.Add(s)
		}
	}
	return b.Baseline()
}
