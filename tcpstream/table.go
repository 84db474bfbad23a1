package tcpstream

import (
	"math/bits"
	"math/rand/v2"
)

// connTable finds connections by Key. It is a map keyed by a seeded hash
// of the Key, with the few connections whose hashes collide chained: a
// lookup for every packet then hashes five words inline and probes a map
// of 8-byte keys, where a map keyed by Key hashes and compares 40 bytes
// out of line. The seed is random per table, so that traffic cannot be
// made to collide.
type connTable struct {
	m    map[uint64]*conn
	seed [3]uint64
	n    int
}

func newConnTable() connTable {
	return connTable{
		m:    make(map[uint64]*conn),
		seed: [3]uint64{rand.Uint64() | 1, rand.Uint64() | 1, rand.Uint64() | 1},
	}
}

// hash mixes the Key's words with the seed (multiply and fold, as
// wyhash does).
func (t *connTable) hash(k *Key) uint64 {
	h := mix(k.aHi^t.seed[0], k.aLo^t.seed[1])
	h ^= mix(k.bHi^t.seed[1], k.bLo^t.seed[2])
	return mix(h^k.ports, t.seed[0]^t.seed[2])
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func (t *connTable) get(k *Key) *conn {
	for c := t.m[t.hash(k)]; c != nil; c = c.sameHash {
		if ck := &c.key; ck.aLo == k.aLo && ck.bLo == k.bLo && ck.ports == k.ports && ck.aHi == k.aHi && ck.bHi == k.bHi { // == would call memequal
			return c
		}
	}
	return nil
}

// put adds c, whose key is not in the table.
func (t *connTable) put(c *conn) {
	h := t.hash(&c.key)
	c.sameHash = t.m[h]
	t.m[h] = c
	t.n++
}

// del removes c, which is in the table.
func (t *connTable) del(c *conn) {
	h := t.hash(&c.key)
	if first := t.m[h]; first == c {
		if c.sameHash == nil {
			delete(t.m, h)
		} else {
			t.m[h] = c.sameHash
		}
	} else {
		for p := first; p != nil; p = p.sameHash {
			if p.sameHash == c {
				p.sameHash = c.sameHash
				break
			}
		}
	}
	c.sameHash = nil
	t.n--
}

func (t *connTable) len() int { return t.n }
