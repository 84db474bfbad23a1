package tcpstream

import (
	"math/bits"
	"math/rand/v2"
)

// connTable finds connections by Key: an open-addressing hash table
// (linear probing) of the connections and a seeded hash of their Keys. It
// is looked up for every packet, and most packets of a long capture
// belong to connections no longer followed, so the lookup is what they
// cost: the Key's five words hashed inline, then usually one slot and the
// connection itself, which the caller touches anyway. A Go map keyed by
// the hash (or by the Key) measured a third slower on the bulk capture:
// it hashes its key again and probes through its own control words. The
// seed is random per table, so that traffic cannot be made to collide.
type connTable struct {
	slots []slot // a power of two, at most half full
	seed  [3]uint64
	n     int
}

// slot is a connection and the hash of its Key; c is nil in an empty one.
type slot struct {
	h uint64
	c *conn
}

const minSlots = 64

func newConnTable() connTable {
	return connTable{
		slots: make([]slot, minSlots),
		seed:  [3]uint64{rand.Uint64(), rand.Uint64(), rand.Uint64()},
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
	h := t.hash(k)
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.c == nil {
			return nil
		}
		// Field by field: == on the struct would call memequal.
		if ck := &s.c.key; s.h == h && ck.aLo == k.aLo && ck.bLo == k.bLo && ck.ports == k.ports && ck.aHi == k.aHi && ck.bHi == k.bHi {
			return s.c
		}
	}
}

// put adds c, whose key is not in the table.
func (t *connTable) put(c *conn) {
	if 2*(t.n+1) > len(t.slots) {
		old := t.slots
		t.slots = make([]slot, 2*len(old))
		for _, s := range old {
			if s.c != nil {
				t.insert(s)
			}
		}
	}
	t.insert(slot{t.hash(&c.key), c})
	t.n++
}

func (t *connTable) insert(s slot) {
	mask := uint64(len(t.slots) - 1)
	i := s.h & mask
	for t.slots[i].c != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}

// del removes c, which is in the table. The slots after it that would no
// longer be found past the hole move back into it (Knuth's algorithm R),
// so that no tombstone marks are needed.
func (t *connTable) del(c *conn) { t.delHashed(t.hash(&c.key), c) }

// delHashed is del of c, whose Key's hash is h.
func (t *connTable) delHashed(h uint64, c *conn) {
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].c != c {
		i = (i + 1) & mask
	}
	for j := i; ; {
		j = (j + 1) & mask
		if t.slots[j].c == nil {
			break
		}
		// The entry at j stays if its home slot is cyclically in (i, j].
		home := t.slots[j].h & mask
		if i <= j && i < home && home <= j || i > j && (i < home || home <= j) {
			continue
		}
		t.slots[i] = t.slots[j]
		i = j
	}
	t.slots[i] = slot{}
	t.n--
}

func (t *connTable) len() int { return t.n }
