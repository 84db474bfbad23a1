package findings_test

import (
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/findings"
	"github.com/tlsinspect/tlsinspect/iana"
	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

func sptr[T any](v T) *T { return &v }

// captureSummaries returns the summaries of the captures at paths.
func captureSummaries(t *testing.T, paths []string) []*tlsconn.Summary {
	t.Helper()
	var out []*tlsconn.Summary
	for _, p := range paths {
		out = append(out, run(t, p)...)
	}
	if len(out) == 0 {
		t.Fatal("no summaries")
	}
	return out
}

// checker is the Checker the reference tests hold to the reference.
var checker = findings.NewChecker()

func sameAsReference(t *testing.T, what string, s *tlsconn.Summary) {
	t.Helper()
	want := refCheck(s)
	if got := findings.Check(s); !reflect.DeepEqual(got, want) { // no cache
		t.Errorf("%s: Check = %+v\nreference: %+v", what, got, want)
		return
	}
	for pass := range 2 { // the second pass finds the chains in the cache
		if got := checker.Check(s); !reflect.DeepEqual(got, want) {
			t.Errorf("%s (pass %d): Check = %+v\nreference: %+v", what, pass, got, want)
			return
		}
	}
}

// TestCheckMatchesReference holds Check (chain cache, no fmt) to the
// implementation it replaced, on real captures' summaries and on variations
// of them: handshake times around every certificate date, certificates
// changed in place after a first Check (the cache must notice), weak keys
// and signatures, and every cipher suite name.
func TestCheckMatchesReference(t *testing.T) {
	t.Run("project", func(t *testing.T) {
		var paths []string
		for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz"} {
			m, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", pat))
			paths = append(paths, m...)
		}
		matchReference(t, captureSummaries(t, paths))
	})
	t.Run("corpus", func(t *testing.T) {
		matchReference(t, captureSummaries(t, testcorpus.Captures(t)))
	})
}

func matchReference(t *testing.T, sums []*tlsconn.Summary) {
	h0, m0, _ := checker.Stats()
	for i, s := range sums {
		what := s.Client + " handshake " + strconv.Itoa(s.Handshake)
		sameAsReference(t, what, s)
		// Handshake times around every date of the chains.
		orig := s.TS
		var times []time.Time
		for _, c := range append(append([]*certinfo.Certificate{}, s.ServerCertificates...), s.ClientCertificates...) {
			if c == nil {
				continue
			}
			for _, d := range []time.Time{c.NotBefore, c.NotAfter} {
				times = append(times, d, d.Add(time.Hour), d.Add(-time.Hour), d.Add(-25*time.Hour), d.Add(48*time.Hour), d.Add(time.Second), d.Add(-time.Nanosecond))
			}
		}
		times = append(times, time.Time{}, time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("x", -3600)), time.Date(2020, 2, 29, 23, 30, 0, 0, time.FixedZone("y", 7200)))
		for _, ts := range times {
			s.TS = ts
			sameAsReference(t, what+" at "+ts.String(), s)
		}
		s.TS = orig
		if i%7 != 0 || len(s.ServerCertificates) == 0 {
			continue
		}
		// Mutations of copies (the originals are shared with the
		// certinfo cache of other summaries), in place after a first Check.
		chain := make([]*certinfo.Certificate, len(s.ServerCertificates))
		for j, c := range s.ServerCertificates {
			if c != nil {
				cp := *c
				chain[j] = &cp
			}
		}
		s.ServerCertificates = chain
		sameAsReference(t, what+" copied chain", s)
		for _, c := range chain {
			if c == nil {
				continue
			}
			for _, mut := range []func(*certinfo.Certificate){
				func(c *certinfo.Certificate) { c.KeyType, c.KeyBits = "RSA", 1024 },
				func(c *certinfo.Certificate) { c.SignatureAlgorithm = "MD5-RSA" },
				func(c *certinfo.Certificate) { c.SelfSigned = !c.SelfSigned },
				func(c *certinfo.Certificate) { c.ParseError = "x509: \"bad\"\n" },
				func(c *certinfo.Certificate) { c.Issuer = "CN=elsewhere" },
				func(c *certinfo.Certificate) { c.SubjectCN = "ünïcode\x00" },
				func(c *certinfo.Certificate) { c.KeyType, c.KeyBits, c.Curve = "ECDSA", 160, "" },
			} {
				saved := *c
				mut(c)
				sameAsReference(t, what+" mutated", s)
				*c = saved
				sameAsReference(t, what+" restored", s)
			}
		}
		// The same chain as the client's.
		s.ClientCertificates = chain
		sameAsReference(t, what+" client chain", s)
	}
	h1, m1, n := checker.Stats()
	if h1-h0 == 0 || m1-m0 == 0 {
		t.Errorf("chain cache: %d hits, %d misses: not exercised", h1-h0, m1-m0)
	}
	t.Logf("%d summaries; chain cache: %d hits, %d misses, %d entries", len(sums), h1-h0, m1-m0, n)
}

// TestSuitesMatchReference: every cipher suite name, and odd ones.
func TestSuitesMatchReference(t *testing.T) {
	s := &tlsconn.Summary{ClientLegacyVersion: sptr("TLS 1.2"), ClientCipherSuites: []string{"x"}}
	names := []string{"", "_", "__", "TLS", "TLS_WITH", "TLS_WITH_", "X_WITH_NULL", "TLS_NULL_WITH_NULL_NULL", "TLS_EXPORT1024_anon_WITH_DES40_3DES_RC4",
		"TLS_anon_NULL_WITH_WITH_DES", "TLS_NULL_NULL_WITH_AES", "TLS_SHA256_SHA256", "TLS_SHA384_SHA384", "A_EXPORT_B", "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5"}
	for id := range 0x10000 {
		names = append(names, iana.CipherSuiteName(uint16(id)))
	}
	for id, n := range names {
		s.CipherSuite, s.CipherSuiteID = sptr(n), sptr(id)
		sameAsReference(t, "suite "+n, s)
	}
}
