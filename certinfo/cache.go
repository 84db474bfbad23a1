package certinfo

import (
	"unsafe"
)

// Cache remembers parsed certificates by their DER, so that a chain seen on
// thousands of connections is parsed once. The DER itself is the key (a
// map hashes it in a fraction of the time SHA-256 takes, and compares it
// whole: no collision can return another certificate). The same DER always
// parses to the same Certificate (Parse depends on nothing else), so a hit
// returns exactly what Parse would. Results with ParseError set are cached
// too: a malformed certificate costs as much to parse again as a good one.
//
// Cache.Parse returns the cached *Certificate itself, not a copy: callers
// share it and must not modify it or its slices.
//
// Memory is bounded whatever the input. A Cache holds at most entries
// certificates (NewCache) and at most entries × CacheBytesPerEntry bytes as
// estimated by retainedSize (never less than MaxCachedEntryBytes in total);
// a certificate whose estimate is above MaxCachedEntryBytes is parsed but
// not kept. The estimate counts the Certificate struct, its strings and
// slice headers and the cache's own bookkeeping (map entry and slot, about
// 140 bytes) and the DER it is found by. A typical leaf or intermediate
// (0.7–1.4 KB of DER) costs 1.4–2.3 KiB, so 1,024 entries hold about
// 2 MiB and never more than 4 MiB. When either bound
// would be exceeded, entries are evicted in CLOCK (second chance) order:
// an entry hit since the hand last passed survives one more round.
//
// A Cache is not safe for concurrent use. The nil *Cache is a valid cache
// that keeps nothing: its Parse is Parse.
type Cache struct {
	max      int // entries
	maxBytes int // sum of the entries' estimated sizes
	bytes    int
	index    map[string]int // DER -> slot
	slots    []cacheEntry   // len ≤ max; cert == nil marks a free slot
	hand     int            // next slot the clock looks at
}

type cacheEntry struct {
	key  string // the DER
	cert *Certificate
	size int
	ref  bool // hit since the hand last passed
}

const (
	// CacheBytesPerEntry is the memory budget of a Cache per entry it may
	// hold: several times the cost of a typical certificate, so that the
	// entry count is the bound that usually applies.
	CacheBytesPerEntry = 4 << 10
	// MaxCachedEntryBytes is the largest estimated cost of a certificate
	// the Cache keeps. Larger ones (thousands of SANs, huge names:
	// rare, and the work of whoever crafted them) are parsed every time.
	MaxCachedEntryBytes = 64 << 10
)

// entryOverhead approximates the cache's own memory per entry: a map entry
// (key header and slot index, with the map's load factor) and a slot; the
// key's bytes, shared by both, are counted by add.
const entryOverhead = 2*int(unsafe.Sizeof("")) + 16 + int(unsafe.Sizeof(cacheEntry{}))

// NewCache returns a Cache of at most entries certificates, or nil (no
// cache) when entries ≤ 0.
func NewCache(entries int) *Cache {
	if entries <= 0 {
		return nil
	}
	return &Cache{
		max:      entries,
		maxBytes: max(entries*CacheBytesPerEntry, MaxCachedEntryBytes),
		index:    make(map[string]int),
	}
}

// Parse returns Parse(der), from the cache when der was parsed before. The
// result is shared: see Cache.
func (c *Cache) Parse(der []byte) *Certificate {
	if c == nil {
		return Parse(der)
	}
	if i, ok := c.index[string(der)]; ok {
		e := &c.slots[i]
		e.ref = true
		return e.cert
	}
	cert := Parse(der)
	c.add(der, cert)
	return cert
}

// Len returns the number of certificates held.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	return len(c.index)
}

// add keeps cert under der, evicting entries until both bounds hold.
func (c *Cache) add(der []byte, cert *Certificate) {
	size := retainedSize(cert) + len(der)
	if size > MaxCachedEntryBytes {
		return
	}
	key := string(der)
	e := cacheEntry{key: key, cert: cert, size: size}
	if len(c.slots) < c.max && c.bytes+size <= c.maxBytes {
		c.index[key] = len(c.slots)
		c.slots = append(c.slots, e)
		c.bytes += size
		return
	}
	// Sweep: the first round clears reference bits, the second evicts
	// everything, so this ends with room (size ≤ maxBytes) and a free slot.
	for {
		s := &c.slots[c.hand]
		i := c.hand
		c.hand = (c.hand + 1) % len(c.slots)
		if s.cert != nil {
			if s.ref {
				s.ref = false
				continue
			}
			delete(c.index, s.key)
			c.bytes -= s.size
			*s = cacheEntry{}
		}
		if c.bytes+size <= c.maxBytes {
			*s = e
			c.index[key] = i
			c.bytes += size
			return
		}
	}
}

// retainedSize estimates the bytes c keeps alive in a Cache, bookkeeping
// included.
func retainedSize(c *Certificate) int {
	n := entryOverhead + int(unsafe.Sizeof(*c)) +
		len(c.Subject) + len(c.Issuer) + len(c.SubjectCN) + len(c.Serial) +
		len(c.KeyType) + len(c.Curve) + len(c.SignatureAlgorithm) +
		len(c.SHA256) + len(c.SHA1) + len(c.ParseError)
	for _, l := range [...][]string{c.DNSNames, c.IPAddresses, c.EmailAddresses, c.URIs} {
		n += cap(l) * int(unsafe.Sizeof(""))
		for _, s := range l {
			n += len(s)
		}
	}
	return n
}
