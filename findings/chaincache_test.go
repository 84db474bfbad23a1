package findings

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/certinfo"
)

// TestChainCacheSameResult: what the cache returns is what
// checkChainStatic computes, on hits, after the certificates change in
// place, and for chains it does not keep.
func TestChainCacheSameResult(t *testing.T) {
	cc := newChainCache(8)
	leaf := cert(leafDN, interDN, "www.example.com")
	inter := cert(interDN, rootDN, "Example Intermediate")
	root := cert(rootDN, rootDN, "Example Root")
	long := []*certinfo.Certificate{leaf, inter, inter, inter, root}
	chains := [][]*certinfo.Certificate{
		{leaf}, {leaf, inter}, {leaf, inter, root}, {leaf, root, inter}, {nil, leaf}, {leaf, nil, root}, {root}, long,
	}
	for round := range 3 {
		for _, ch := range chains {
			for _, client := range []bool{false, true} {
				want := checkChainStatic(ch, client)
				for range 2 {
					if got := cc.get(ch, client); !reflect.DeepEqual(got, want) {
						t.Errorf("round %d, %d certs, client %v: %+v, want %+v", round, len(ch), client, got, want)
					}
				}
			}
		}
		// Change the certificates in place: cached results must follow.
		switch round {
		case 0:
			leaf.KeyBits, inter.SignatureAlgorithm = 1024, "SHA1-RSA"
		case 1:
			leaf.SubjectCN, root.SelfSigned, inter.ParseError = "other", false, "x509: bad"
		}
	}
	if cc.hits == 0 {
		t.Error("no hits")
	}
}

// TestChainCacheBounded: however many chains go through, the cache holds at
// most two generations of entries, and none larger than maxChainEntryBytes.
func TestChainCacheBounded(t *testing.T) {
	const entries = 16
	cc := newChainCache(entries)
	var keep [][]*certinfo.Certificate // keep addresses distinct
	for i := range 50 * entries {
		c := cert("CN=s"+strconv.Itoa(i), "CN=i", "s"+strconv.Itoa(i))
		ch := []*certinfo.Certificate{c}
		keep = append(keep, ch)
		cc.get(ch, i%2 == 0)
		if n := cc.len(); n > 2*entries {
			t.Fatalf("after %d chains: %d entries, want ≤ %d", i+1, n, 2*entries)
		}
	}
	// A recently used entry survives a generation change.
	hot := keep[len(keep)-1]
	for i := range 3 * entries {
		c := cert("CN=t"+strconv.Itoa(i), "CN=i", "")
		keep = append(keep, []*certinfo.Certificate{c})
		cc.get(keep[len(keep)-1], false)
		cc.get(hot, true)
	}
	h := cc.hits
	cc.get(hot, true)
	if cc.hits != h+1 {
		t.Error("hot chain was evicted")
	}

	// Oversized chains are computed, not kept.
	big := cert(strings.Repeat("CN=x,", 2000), "CN=i", "big")
	n := cc.len()
	for range 3 {
		if got, want := cc.get([]*certinfo.Certificate{big}, false), checkChainStatic([]*certinfo.Certificate{big}, false); !reflect.DeepEqual(got, want) {
			t.Errorf("big chain: %+v, want %+v", got, want)
		}
	}
	if cc.len() > n {
		t.Errorf("an oversized chain was kept (%d entries, was %d)", cc.len(), n)
	}
}
