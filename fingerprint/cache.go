package fingerprint

import "github.com/tlsinspect/tlsinspect/dissect"

// Cache remembers fingerprints by their raw forms (the JA3 and JA3S
// strings, JA4_r), from which the fingerprints follow: a hello seen before
// costs building its raw form in a reused buffer and a map lookup, no MD5,
// no SHA-256 and no allocation, and its strings are shared with the
// earlier results. Cache.JA3, Cache.JA4 and Cache.JA3S return exactly what
// JA3, JA4 and JA3S return.
//
// Memory is bounded: each of the three tables holds two generations of at
// most entries raw forms (NewCache), each of at most MaxCachedRaw bytes
// (longer ones, from crafted hellos, are computed every time). When a
// generation is full it becomes the old one and the one before is
// dropped; a hit in the old generation moves the entry to the current
// one, so the forms in use stay.
//
// A Cache is not safe for concurrent use. The nil *Cache keeps nothing:
// its methods are JA3 and JA4.
type Cache struct {
	ja3, ja4, ja3s generations
	buf            []byte
}

// MaxCachedRaw is the longest raw form a Cache keeps.
const MaxCachedRaw = 2 << 10

// maxScratch is the largest buffer a Cache keeps between calls.
const maxScratch = 16 << 10

type cached struct {
	print, raw string
}

type generations struct {
	max      int
	cur, old map[string]cached
}

// NewCache returns a Cache of at most entries raw forms per generation and
// table, or nil (no cache) when entries ≤ 0.
func NewCache(entries int) *Cache {
	if entries <= 0 {
		return nil
	}
	return &Cache{
		ja3:  generations{max: entries, cur: make(map[string]cached)},
		ja4:  generations{max: entries, cur: make(map[string]cached)},
		ja3s: generations{max: entries, cur: make(map[string]cached)},
	}
}

// Len returns how many raw forms the Cache holds, in all tables.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	return c.ja3.len() + c.ja4.len() + c.ja3s.len()
}

func (g *generations) len() int { return len(g.cur) + len(g.old) }

func (g *generations) get(raw []byte) (cached, bool) {
	if e, ok := g.cur[string(raw)]; ok {
		return e, true
	}
	e, ok := g.old[string(raw)]
	if ok {
		delete(g.old, e.raw)
		g.put(e)
	}
	return e, ok
}

func (g *generations) put(e cached) {
	if len(e.raw) > MaxCachedRaw {
		return
	}
	if len(g.cur) >= g.max {
		g.old, g.cur = g.cur, make(map[string]cached, g.max)
	}
	g.cur[e.raw] = e
}

// release drops the scratch buffer after a very large hello.
func (c *Cache) release() {
	if cap(c.buf) > maxScratch {
		c.buf = nil
	}
}

// JA3 returns JA3(ch).
func (c *Cache) JA3(ch *dissect.ClientHello) (hash, raw string) {
	if c == nil || ch == nil || ch.SSLv2 {
		return JA3(ch)
	}
	defer c.release()
	c.buf = appendJA3(c.buf[:0], ch)
	if e, ok := c.ja3.get(c.buf); ok {
		return e.print, e.raw
	}
	e := cached{print: md5hex(c.buf), raw: string(c.buf)}
	c.ja3.put(e)
	return e.print, e.raw
}

// JA4 returns JA4(ch, transport).
func (c *Cache) JA4(ch *dissect.ClientHello, transport byte) (ja4, ja4r string) {
	if c == nil || ch == nil {
		return JA4(ch, transport)
	}
	defer c.release()
	r := appendJA4R(c.buf[:0], ch, transport)
	c.buf = r.b
	if e, ok := c.ja4.get(r.b); ok {
		return e.print, e.raw
	}
	e := cached{print: r.ja4(), raw: string(r.b)}
	c.ja4.put(e)
	return e.print, e.raw
}

// JA3S returns JA3S(sh).
func (c *Cache) JA3S(sh *dissect.ServerHello) (hash, raw string) {
	if c == nil || sh == nil {
		return JA3S(sh)
	}
	defer c.release()
	c.buf = appendJA3S(c.buf[:0], sh)
	if e, ok := c.ja3s.get(c.buf); ok {
		return e.print, e.raw
	}
	e := cached{print: md5hex(c.buf), raw: string(c.buf)}
	c.ja3s.put(e)
	return e.print, e.raw
}
