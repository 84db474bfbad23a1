package tlsconn

import (
	"slices"
	"testing"

	"github.com/tlsinspect/tlsinspect/iana"
)

// A Tracker names the lists of a repeated hello once: the summaries say what
// they say without the cache, and share the lists, which are clipped.
func TestNameListsCached(t *testing.T) {
	r := mustHandshake(t, clientConfig(), serverConfig())
	nl := newNameLists()
	cached := replayCached(t, r.chunks, func(tr *Tracker) { tr.names = nl }, func(tr *Tracker) { tr.names = nil })
	a, b := cached[0].ClientCipherSuites, cached[2].ClientCipherSuites
	if len(a) == 0 || &a[0] != &b[0] {
		t.Error("the cipher suite names of a repeated hello are not shared")
	}
	if cap(a) != len(a) {
		t.Errorf("a shared list has room to grow (len %d, cap %d)", len(a), cap(a))
	}
	// At most one list per kind: versions, suites, compression, extensions,
	// groups, key share groups, signature algorithms (twice), point
	// formats, PSK modes, certificate compression.
	if n := nl.lists.Len(); n == 0 || n > 11 {
		t.Errorf("%d lists held for one repeated hello", n)
	}
}

// replayCached replays a connection's chunks on three connections twice,
// on a Tracker set up by on (a cache in use) and on one set up by off (the
// cache off), checks that the summaries are the same, and returns those
// made with the cache.
func replayCached(t *testing.T, chunks []chunk, on, off func(*Tracker)) []*Summary {
	t.Helper()
	run := func(set func(*Tracker)) []*Summary {
		h := newHarness(t, Config{})
		set(h.tr)
		return h.replayConns(chunks, 3)
	}
	cached, plain := run(on), run(off)
	for i := range cached {
		if got, want := mustJSON(cached[i]), mustJSON(plain[i]); got != want {
			t.Errorf("summary %d with the cache:\n%s\nwithout:\n%s", i, got, want)
		}
	}
	return cached
}

// The lists are told apart by kind and by GREASE handling, the cache stays
// bounded, and over-long lists are named without it.
func TestNameListsKeys(t *testing.T) {
	nl := newNameLists()
	vs := []uint16{0x0a0a, 0x0304, 0x0303}
	if got := nl.names(kindVersions, vs); !slices.Equal(got, []string{"TLS 1.3", "TLS 1.2"}) {
		t.Errorf("versions: %q", got)
	}
	groups := []uint16{0x0a0a, 0x001d}
	with, without := nl.names(kindGroups, groups), nl.names(kindGroupsNoGREASE, groups)
	if len(with) != 2 || len(without) != 1 {
		t.Errorf("groups with GREASE %q, without %q", with, without)
	}
	if got := nl.names(kindSuites, nil); got == nil || len(got) != 0 {
		t.Errorf("empty list: %#v", got)
	}
	for i := range 3 * nameListEntries {
		nl.names(kindSuites, []uint16{uint16(i)})
		if nl.lists.Len() > 2*nameListEntries {
			t.Fatalf("%d lists held", nl.lists.Len())
		}
	}
	long := make([]uint16, maxNameListValues+1)
	before := nl.lists.Len()
	if got := nl.names(kindSuites, long); len(got) != len(long) || nl.lists.Len() != before {
		t.Errorf("over-long list: %d names, %d → %d lists held", len(got), before, nl.lists.Len())
	}
	var none *nameLists
	if got := none.names(kindGroupsNoGREASE, groups); len(got) != 1 {
		t.Errorf("nil cache: %q", got)
	}
	// 8-bit lists: nil when empty, named by their own registry, and not
	// confused with a 16-bit list of the same bytes.
	if got := nl.names8(kindCompression, nil); got != nil {
		t.Errorf("empty compression list: %#v", got)
	}
	if got := nl.names8(kindCompression, []uint8{0}); !slices.Equal(got, []string{"null"}) {
		t.Errorf("compression [0]: %q", got)
	}
	if got, want := nl.names(kindSuites, []uint16{0}), []string{iana.CipherSuiteName(0)}; !slices.Equal(got, want) {
		t.Errorf("suites [0] after compression [0]: %q, want %q", got, want)
	}
	if got := nl.names8(kindPointFormats, []uint8{0}); !slices.Equal(got, []string{"uncompressed"}) {
		t.Errorf("point formats [0]: %q", got)
	}
	if got := nl.names16(kindCertCompression, nil); got != nil {
		t.Errorf("empty certificate compression list: %#v", got)
	}
	if got, want := nl.names(kindExtensions, []uint16{0, 0x0a0a}), []string{iana.ExtensionName(0), iana.ExtensionName(0x0a0a)}; !slices.Equal(got, want) {
		t.Errorf("extensions: %q, want %q (GREASE kept)", got, want)
	}
	if got := none.names8(kindPSKModes, []uint8{1}); !slices.Equal(got, []string{iana.PSKKeyExchangeModeName(1)}) {
		t.Errorf("nil cache, PSK modes: %q", got)
	}
}
