package tlsconn

import (
	"crypto/tls"
	"strings"
	"testing"
)

// TestCertRequestsCached: a repeated CertificateRequest (a real TLS 1.2
// mutual-TLS handshake, replayed) gives the same summaries with the cache
// and without, and the repeats share one CertRequest.
func TestCertRequestsCached(t *testing.T) {
	c, s := tls12Configs()
	c.Certificates = []tls.Certificate{pki().client}
	s.ClientAuth, s.ClientCAs = tls.RequireAndVerifyClientCert, pki().pool
	r := mustHandshake(t, c, s)
	cr := newCertRequests()
	cached := replayCached(t, r.chunks, func(tr *Tracker) { tr.certReqs = cr }, func(tr *Tracker) { tr.certReqs = nil })
	a, b := cached[0].ClientCertRequest, cached[2].ClientCertRequest
	if a == nil || len(a.CertificateAuthorities) != 1 || !strings.Contains(a.CertificateAuthorities[0], "CN=") {
		t.Fatalf("CertRequest %+v: want the test CA's name", a)
	}
	if a != b {
		t.Error("the CertRequest of a repeated message is not shared")
	}
	if n := cr.m.Len(); n != 1 {
		t.Errorf("%d messages held for one repeated message", n)
	}
}

// TestCertRequestsKeys: messages are told apart by version and bytes; one
// that does not parse cleanly is not kept (its warning comes every time);
// over-long ones are summarized without the cache; the cache stays
// bounded.
func TestCertRequestsKeys(t *testing.T) {
	// TLS 1.2 CertificateRequest: types [rsa_sign], signature algorithms
	// [ecdsa_secp256r1_sha256], no CA names.
	body := []byte{1, 1, 0, 2, 0x04, 0x03, 0, 0}
	cr := newCertRequests()
	var warned []error
	warn := func(err error) { warned = append(warned, err) }
	first := cr.summary(body, 0x0303, warn)
	if first == nil || len(first.SignatureAlgorithms) != 1 || len(warned) != 0 {
		t.Fatalf("summary %+v, warnings %v", first, warned)
	}
	if again := cr.summary(body, 0x0303, warn); again != first {
		t.Error("a repeated message gave a new CertRequest")
	}
	// The same bytes read as TLS 1.1 (no signature algorithms) are another
	// message.
	if other := cr.summary(body, 0x0302, warn); other == first {
		t.Error("TLS 1.1 and TLS 1.2 readings of one body share a CertRequest")
	}
	broken := []byte{1, 1, 0, 2, 0x04}
	warned = nil
	for range 2 {
		cr.summary(broken, 0x0303, warn)
	}
	if len(warned) != 2 {
		t.Errorf("a broken message warned %d times in 2", len(warned))
	}
	long := append([]byte(nil), body[:4]...)
	long = append(long, 0x04, 0x03, 0, 0)
	long = append(long, make([]byte, maxCertReqBytes)...)
	before := cr.m.Len()
	cr.summary(long, 0x0303, func(error) {})
	if cr.m.Len() != before {
		t.Error("an over-long message was kept")
	}
	for i := range 3 * certReqEntries {
		b := []byte{1, 1, 0, 2, byte(i >> 8), byte(i), 0, 0}
		cr.summary(b, 0x0303, func(error) {})
		if cr.m.Len() > 2*certReqEntries {
			t.Fatalf("%d messages held", cr.m.Len())
		}
	}
	var none *certRequests
	if got := none.summary(body, 0x0303, warn); got == nil || got == first {
		t.Errorf("nil cache: %+v", got)
	}
}
