package fingerprint

import (
	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/internal/twogen"
)

// Cache remembers fingerprints by their raw forms (the JA3 and JA3S
// strings, JA4_r), from which the fingerprints follow: a hello seen before
// costs building its raw form in a reused buffer and a map lookup, no MD5,
// no SHA-256 and no allocation, and its strings are shared with the
// earlier results. Cache.JA3, Cache.JA4 and Cache.JA3S return exactly what
// JA3, JA4 and JA3S return.
//
// Memory is bounded: each of the three tables holds two generations
// (twogen.Map) of at most entries raw forms (NewCache), each of at most
// MaxCachedRaw bytes (longer ones, from crafted hellos, are computed every
// time).
//
// A Cache is not safe for concurrent use. The nil *Cache keeps nothing:
// its methods are JA3, JA3S and JA4.
type Cache struct {
	ja3, ja4, ja3s *twogen.Map[cached]
	buf            []byte
}

// MaxCachedRaw is the longest raw form a Cache keeps.
const MaxCachedRaw = 2 << 10

// maxScratch is the largest buffer a Cache keeps between calls.
const maxScratch = 16 << 10

type cached struct {
	print, raw string
}

// NewCache returns a Cache of at most entries raw forms per generation and
// table, or nil (no cache) when entries ≤ 0.
func NewCache(entries int) *Cache {
	if entries <= 0 {
		return nil
	}
	return &Cache{ja3: twogen.New[cached](entries), ja4: twogen.New[cached](entries), ja3s: twogen.New[cached](entries)}
}

// Len returns how many raw forms the Cache holds, in all tables.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	return c.ja3.Len() + c.ja4.Len() + c.ja3s.Len()
}

// lookup returns the fingerprint of raw (built in c.buf) from table t, or
// print(raw), kept in t unless raw is over MaxCachedRaw.
func (c *Cache) lookup(t *twogen.Map[cached], raw []byte, print func([]byte) string) (string, string) {
	e := t.Lookup(raw, func(k string) (cached, bool) {
		return cached{print: print(raw), raw: k}, len(raw) <= MaxCachedRaw
	})
	return e.print, e.raw
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
	return c.lookup(c.ja3, c.buf, md5hex)
}

// JA4 returns JA4(ch, transport).
func (c *Cache) JA4(ch *dissect.ClientHello, transport byte) (ja4, ja4r string) {
	if c == nil || ch == nil {
		return JA4(ch, transport)
	}
	defer c.release()
	r := appendJA4R(c.buf[:0], ch, transport)
	c.buf = r.b
	return c.lookup(c.ja4, r.b, func([]byte) string { return r.ja4() })
}

// JA3S returns JA3S(sh).
func (c *Cache) JA3S(sh *dissect.ServerHello) (hash, raw string) {
	if c == nil || sh == nil {
		return JA3S(sh)
	}
	defer c.release()
	c.buf = appendJA3S(c.buf[:0], sh)
	return c.lookup(c.ja3s, c.buf, md5hex)
}
