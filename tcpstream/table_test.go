package tcpstream

import (
	"math/rand/v2"
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
			if tab.len() != 0 || len(tab.m) != 0 {
				t.Fatalf("after deleting all: len %d, %d hashes", tab.len(), len(tab.m))
			}
		})
	}
}
