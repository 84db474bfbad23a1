package fingerprint

import (
	"encoding/binary"

	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/iana"
	"github.com/tlsinspect/tlsinspect/internal/twogen"
)

// Cache remembers fingerprints by what they are made of: JA4 by its raw
// form JA4_r, JA3 and JA3S by the values their strings list, in binary
// (writing them in decimal was most of the cost of a hit). A hello seen
// before costs building its key in a reused buffer and a map lookup, no
// MD5, no SHA-256 and no allocation, and its strings are shared with the
// earlier results. Cache.JA3, Cache.JA4 and Cache.JA3S return exactly what
// JA3, JA4 and JA3S return.
//
// Memory is bounded: each of the three tables holds two generations
// (twogen.Map) of at most entries keys (NewCache), each key and raw form
// of at most MaxCachedRaw bytes (longer ones, from crafted hellos, are
// computed every time).
//
// A Cache is not safe for concurrent use. The nil *Cache keeps nothing:
// its methods are JA3, JA3S and JA4.
type Cache struct {
	ja3, ja4, ja3s *twogen.Map[cached]
	buf            []byte
}

// MaxCachedRaw is the longest key, and raw form, a Cache keeps.
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

// lookup returns the fingerprint and raw form found in table t by key
// (built in c.buf), or compute(k), k being key as a string (the raw form
// itself, for JA4), kept in t unless key or the raw form is over
// MaxCachedRaw.
func (c *Cache) lookup(t *twogen.Map[cached], key []byte, compute func(k string) (print, raw string)) (string, string) {
	e := t.Lookup(key, func(k string) (cached, bool) {
		print, raw := compute(k)
		return cached{print: print, raw: raw}, len(key) <= MaxCachedRaw && len(raw) <= MaxCachedRaw
	})
	return e.print, e.raw
}

// appendList16 appends vs to b, in binary after their count, leaving
// GREASE values out when skipGREASE: one of a key's fields, which none
// can be taken for.
func appendList16(b []byte, vs []uint16, skipGREASE bool) []byte {
	n := len(b)
	b = binary.BigEndian.AppendUint32(b, 0)
	count := 0
	for _, v := range vs {
		if skipGREASE && iana.IsGREASE(v) {
			continue
		}
		b = binary.BigEndian.AppendUint16(b, v)
		count++
	}
	binary.BigEndian.PutUint32(b[n:], uint32(count))
	return b
}

// appendJA3Key appends what appendJA3 writes of ch, in binary: the key by
// which a Cache finds JA3(ch).
func appendJA3Key(b []byte, ch *dissect.ClientHello) []byte {
	b = binary.BigEndian.AppendUint16(b, ch.Version)
	b = appendList16(b, ch.CipherSuites, true)
	var tbuf [64]uint16 // on the stack for any usual hello
	b = appendList16(b, extensionTypes(tbuf[:0], ch.Extensions), true)
	b = appendList16(b, ch.SupportedGroups, true)
	b = binary.BigEndian.AppendUint32(b, uint32(len(ch.ECPointFormats)))
	return append(b, ch.ECPointFormats...)
}

// appendJA3SKey appends what appendJA3S writes of sh, in binary.
func appendJA3SKey(b []byte, sh *dissect.ServerHello) []byte {
	b = binary.BigEndian.AppendUint16(b, sh.Version)
	b = binary.BigEndian.AppendUint16(b, sh.CipherSuite)
	var tbuf [64]uint16
	return appendList16(b, extensionTypes(tbuf[:0], sh.Extensions), false)
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
	c.buf = appendJA3Key(c.buf[:0], ch)
	return c.lookup(c.ja3, c.buf, func(string) (string, string) { return JA3(ch) })
}

// JA4 returns JA4(ch, transport).
func (c *Cache) JA4(ch *dissect.ClientHello, transport byte) (ja4, ja4r string) {
	if c == nil || ch == nil {
		return JA4(ch, transport)
	}
	defer c.release()
	r := appendJA4R(c.buf[:0], ch, transport)
	c.buf = r.b
	return c.lookup(c.ja4, r.b, func(k string) (string, string) { return r.ja4(), k })
}

// JA3S returns JA3S(sh).
func (c *Cache) JA3S(sh *dissect.ServerHello) (hash, raw string) {
	if c == nil || sh == nil {
		return JA3S(sh)
	}
	defer c.release()
	c.buf = appendJA3SKey(c.buf[:0], sh)
	return c.lookup(c.ja3s, c.buf, func(string) (string, string) { return JA3S(sh) })
}
