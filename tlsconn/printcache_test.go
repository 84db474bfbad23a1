package tlsconn

import (
	"testing"

	"github.com/tlsinspect/tlsinspect/fingerprint"
)

// A Tracker fingerprints hellos seen on several connections through its
// fingerprint.Cache: the summaries say what they say without it, and the
// cache holds one JA3, one JA4 and one JA3S raw form.
func TestFingerprintsCached(t *testing.T) {
	r := mustHandshake(t, clientConfig(), serverConfig())
	h := newHarness(t, Config{})
	cached := h.replayConns(r.chunks, 3)
	if n := h.tr.prints.Len(); n != 3 {
		t.Errorf("fingerprint cache holds %d raw forms, want 3 (JA3, JA4, JA3S)", n)
	}
	// The same summaries from a Tracker without the cache.
	u := newHarness(t, Config{})
	u.tr.prints = (*fingerprint.Cache)(nil)
	plain := u.replayConns(r.chunks, 3)
	for i, s := range cached {
		if s.JA3 == "" || s.JA4 == "" || s.JA3S == "" {
			t.Fatalf("summary %d: no fingerprints", i)
		}
		if got, want := mustJSON(s), mustJSON(plain[i]); got != want {
			t.Errorf("summary %d with the cache:\n%s\nwithout:\n%s", i, got, want)
		}
	}
}
