package tcpstream

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestConnTable runs random puts, deletes and lookups against a map keyed
// by Key, with a random seed and with a zero seed, under which every Key
// hashes to 0 and all connections share one chain.
func TestConnTable(t *testing.T) {
	for _, tc := range []struct {
		name string
		seed *[3]uint64
	}{
		{"random seed", nil},
		{"every key colliding", &[3]uint64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			tab := newConnTable()
			if tc.seed != nil {
				tab.seed = *tc.seed
			}
			ref := map[Key]*conn{}
			var keys []Key
			for range 200 {
				keys = append(keys, Key{rng.Uint64N(4), rng.Uint64(), rng.Uint64N(4), rng.Uint64(), rng.Uint64N(1 << 32)})
			}
			keys = append(keys, keys[0], Key{}) // a duplicate, the zero Key
			for i := range 20000 {
				k := keys[rng.IntN(len(keys))]
				switch c := ref[k]; {
				case c == nil && rng.IntN(2) == 0:
					c = &conn{key: k}
					tab.put(c)
					ref[k] = c
				case c != nil && rng.IntN(3) == 0:
					tab.del(c)
					delete(ref, k)
				}
				if got := tab.get(&k); got != ref[k] {
					t.Fatalf("step %d: get %+v gives %p, want %p", i, k, got, ref[k])
				}
				if tab.len() != len(ref) {
					t.Fatalf("step %d: len %d, want %d", i, tab.len(), len(ref))
				}
			}
			for k, c := range ref {
				if tab.get(&k) != c {
					t.Fatalf("at the end, %+v is not found", k)
				}
				tab.del(c)
			}
			if tab.len() != 0 || slices.ContainsFunc(tab.slots, func(s slot) bool { return s.c != nil }) {
				t.Fatalf("after deleting all: len %d, slots %v", tab.len(), tab.slots)
			}
		})
	}
}

// TestConnTableProbing drives the probing and deletion by hand-picked
// hashes (a table of 16 slots, homes bunched at its end, so that runs wrap
// around) and checks after each step that every connection is still found
// from its home slot without crossing an empty one.
func TestConnTableProbing(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 2000 {
		tab := connTable{slots: make([]slot, 16)}
		var in []slot
		for range 200 {
			if len(in) < 8 && (len(in) == 0 || rng.IntN(2) == 0) {
				s := slot{h: uint64(12 + rng.IntN(8)), c: &conn{}} // homes 12..15, 0..3
				tab.insert(s)
				tab.n++
				in = append(in, s)
			} else {
				k := rng.IntN(len(in))
				tab.delHashed(in[k].h, in[k].c)
				in = append(in[:k], in[k+1:]...)
			}
			if tab.len() != len(in) {
				t.Fatalf("iter %d: len %d, want %d", iter, tab.len(), len(in))
			}
			mask := uint64(len(tab.slots) - 1)
			for _, s := range in {
				i := s.h & mask
				for tab.slots[i].c != s.c {
					if tab.slots[i].c == nil {
						t.Fatalf("iter %d: connection with home %d not found (slots %v)", iter, s.h&mask, tab.slots)
					}
					i = (i + 1) & mask
				}
			}
			if n := len(tab.slots) - countEmpty(tab.slots); n != len(in) {
				t.Fatalf("iter %d: %d slots used for %d connections", iter, n, len(in))
			}
		}
	}
}

func countEmpty(slots []slot) int {
	n := 0
	for _, s := range slots {
		if s.c == nil {
			n++
		}
	}
	return n
}
