package tlsconn

import (
	"crypto/tls"
	"reflect"
	"testing"

	"github.com/tlsinspect/tlsinspect/certinfo"
)

// A Tracker parses a chain seen on several connections once: the later
// summaries share the first one's certificates (certinfo.Cache), which are
// what certinfo.Parse says, also in the per-message view.
func TestCertificatesCached(t *testing.T) {
	ccfg := clientConfig()
	ccfg.MaxVersion = tls.VersionTLS12 // certificates in plaintext
	r := mustHandshake(t, ccfg, serverConfig())
	h := newHarness(t, Config{Messages: true})
	h.replayConns(r.chunks, 3)
	first := h.got[0].ServerCertificates
	if len(first) != 2 {
		t.Fatalf("%d server certificates, want 2", len(first))
	}
	want := []*certinfo.Certificate{certinfo.Parse(pki().serverDER), certinfo.Parse(pki().caDER)}
	if !reflect.DeepEqual(first, want) {
		t.Errorf("server certificates differ from certinfo.Parse:\n%s\n%s", dump(first), dump(want))
	}
	for _, s := range h.got[1:] {
		for i, c := range s.ServerCertificates {
			if c != first[i] {
				t.Errorf("connection %d: certificate %d parsed again", s.Connection, i)
			}
		}
	}
	if n := h.tr.certs.Len(); n != 2 {
		t.Errorf("cache holds %d certificates, want 2", n)
	}
	// The same bytes give the same per-message view (the certificates
	// are the same pointers, checked above).
	a, b := h.got[0], h.got[2]
	if mustJSON(a.Messages) != mustJSON(b.Messages) {
		t.Errorf("the same connection reads differently:\n%s\n%s", mustJSON(a.Messages), mustJSON(b.Messages))
	}
}
