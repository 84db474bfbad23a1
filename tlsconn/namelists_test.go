package tlsconn

import (
	"slices"
	"testing"
)

// A Tracker names the lists of a repeated hello once: the summaries say what
// they say without the cache, and share the lists, which are clipped.
func TestNameListsCached(t *testing.T) {
	r := mustHandshake(t, clientConfig(), serverConfig())
	run := func(nl *nameLists) []*Summary {
		h := newHarness(t, Config{})
		h.tr.names = nl
		return h.replayConns(r.chunks, 3)
	}
	nl := newNameLists()
	cached, plain := run(nl), run(nil)
	for i := range cached {
		if got, want := mustJSON(cached[i]), mustJSON(plain[i]); got != want {
			t.Errorf("summary %d with the cache:\n%s\nwithout:\n%s", i, got, want)
		}
	}
	a, b := cached[0].ClientCipherSuites, cached[2].ClientCipherSuites
	if len(a) == 0 || &a[0] != &b[0] {
		t.Error("the cipher suite names of a repeated hello are not shared")
	}
	if cap(a) != len(a) {
		t.Errorf("a shared list has room to grow (len %d, cap %d)", len(a), cap(a))
	}
	if n := nl.lists.Len(); n == 0 || n > 6 {
		t.Errorf("%d lists held for one repeated hello", n)
	}
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
}
