package tlsconn

import (
	"testing"

	"github.com/tlsinspect/tlsinspect/fingerprint"
	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// A Tracker fingerprints hellos seen on several connections through its
// fingerprint.Cache: the summaries say what they say without it, and the
// cache holds one JA3, one JA4 and one JA3S raw form.
func TestFingerprintsCached(t *testing.T) {
	r := mustHandshake(t, clientConfig(), serverConfig())
	h := newHarness(t, Config{})
	for i := range 3 {
		info := connInfo()
		info.ID = uint64(i + 1)
		h.open(info)
		h.replay(r.chunks, 0)
		h.close(tcpstream.CloseFIN)
	}
	if len(h.got) != 3 {
		t.Fatalf("%d summaries, want 3", len(h.got))
	}
	if n := h.tr.prints.Len(); n != 3 {
		t.Errorf("fingerprint cache holds %d raw forms, want 3 (JA3, JA4, JA3S)", n)
	}
	// The same summaries from a Tracker without the cache.
	u := newHarness(t, Config{})
	u.tr.prints = (*fingerprint.Cache)(nil)
	for i := range 3 {
		info := connInfo()
		info.ID = uint64(i + 1)
		u.open(info)
		u.replay(r.chunks, 0)
		u.close(tcpstream.CloseFIN)
	}
	for i, s := range h.got {
		if s.JA3 == "" || s.JA4 == "" || s.JA3S == "" {
			t.Fatalf("summary %d: no fingerprints", i)
		}
		if got, want := mustJSON(s), mustJSON(u.got[i]); got != want {
			t.Errorf("summary %d with the cache:\n%s\nwithout:\n%s", i, got, want)
		}
	}
}
