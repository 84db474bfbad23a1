package fingerprint

import (
	"math/rand/v2"
	"testing"

	"github.com/tlsinspect/tlsinspect/dissect"
)

// randomHello makes a ClientHello with the fields the fingerprints read
// drawn from small pools, GREASE, server_name, ALPN and odd values
// included, so that hellos repeat now and then.
func randomHello(rng *rand.Rand) *dissect.ClientHello {
	pick := func(pool []uint16, n int) []uint16 {
		if n < 0 {
			return nil
		}
		out := make([]uint16, n)
		for i := range out {
			out[i] = pool[rng.IntN(len(pool))]
		}
		return out
	}
	suites := []uint16{0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035, 0xfafa, 0x00ff, 0xffff, 0}
	types := []uint16{0, 0, 16, 16, 0x0a0a, 0xdada, 5, 10, 11, 13, 18, 21, 23, 27, 35, 41, 43, 45, 51, 0x4469, 0x44cd, 0xfe0d, 0xff01, 0xffff}
	versions := []uint16{0x0a0a, 0x0304, 0x0303, 0x0302, 0x0301, 0x0300, 0x0002, 0xfeff, 0xfefd, 0xfefc, 0x7f17, 0x1234}
	protos := []string{"h2", "http/1.1", "h3", "", "\xab", "a", "x/", "/x", "DoT", "a\xffb", "spdy/3.1"}
	ch := &dissect.ClientHello{
		Version:             versions[rng.IntN(len(versions))],
		CipherSuites:        pick(suites, rng.IntN(8)),
		SupportedGroups:     pick([]uint16{0x0a0a, 29, 23, 24, 25, 0x11ec, 256}, rng.IntN(5)-1),
		SignatureAlgorithms: pick([]uint16{0x0a0a, 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0201}, rng.IntN(5)-1),
		SupportedVersions:   pick(versions, rng.IntN(4)-1),
		SSLv2:               rng.IntN(50) == 0,
	}
	for range rng.IntN(8) {
		ch.Extensions = append(ch.Extensions, dissect.Extension{Type: types[rng.IntN(len(types))]})
	}
	if rng.IntN(2) == 0 {
		for range rng.IntN(3) {
			ch.ALPN = append(ch.ALPN, protos[rng.IntN(len(protos))])
		}
	}
	for range rng.IntN(3) {
		ch.ECPointFormats = append(ch.ECPointFormats, uint8(rng.IntN(3)))
	}
	if rng.IntN(100) == 0 { // a long hello: more than MaxCachedRaw
		ch.CipherSuites = pick(suites, 1000)
	}
	return ch
}

// TestMatchesReference holds JA3, JA4, JA3S and Cache to the functions
// they replaced (reference_test.go), on random hellos.
func TestMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c := NewCache(64)
	check := func(what string, got, want [2]string) {
		t.Helper()
		if got != want {
			t.Fatalf("%s = %q, reference %q", what, got, want)
		}
	}
	for i := range 20000 {
		ch := randomHello(rng)
		h, r := refJA3(ch)
		want3 := [2]string{h, r}
		h, r = JA3(ch)
		check("JA3", [2]string{h, r}, want3)
		h, r = c.JA3(ch)
		check("Cache.JA3", [2]string{h, r}, want3)
		for _, tr := range []byte{'t', 'q', 'd'} {
			h, r = refJA4(ch, tr)
			want4 := [2]string{h, r}
			h, r = JA4(ch, tr)
			check("JA4", [2]string{h, r}, want4)
			h, r = c.JA4(ch, tr)
			check("Cache.JA4", [2]string{h, r}, want4)
		}
		sh := &dissect.ServerHello{Version: ch.Version, CipherSuite: uint16(i % 7), Extensions: ch.Extensions}
		h, r = refJA3S(sh)
		want3s := [2]string{h, r}
		h, r = JA3S(sh)
		check("JA3S", [2]string{h, r}, want3s)
		h, r = c.JA3S(sh)
		check("Cache.JA3S", [2]string{h, r}, want3s)
	}
	for _, f := range []func(*Cache){
		func(c *Cache) { h, r := c.JA3(nil); check("nil JA3", [2]string{h, r}, [2]string{}) },
		func(c *Cache) { h, r := c.JA4(nil, 't'); check("nil JA4", [2]string{h, r}, [2]string{}) },
		func(c *Cache) { h, r := c.JA3S(nil); check("nil JA3S", [2]string{h, r}, [2]string{}) },
	} {
		f(c)
		f(nil)
	}
	var nilCache *Cache
	ch := randomHello(rng)
	h, r := nilCache.JA4(ch, 't')
	h2, r2 := JA4(ch, 't')
	check("nil Cache JA4", [2]string{h, r}, [2]string{h2, r2})
}

// TestCacheHitsShareStrings: a repeated hello is found, and its strings are
// the ones returned before (no new allocation).
func TestCacheHitsShareStrings(t *testing.T) {
	c := NewCache(8)
	ch := chromeHello(true, chromeSigalgs).parse(t)
	a3, r3 := c.JA3(ch)
	a4, r4 := c.JA4(ch, 't')
	sh := &dissect.ServerHello{Version: 0x0303, CipherSuite: 0x1301, Extensions: []dissect.Extension{{Type: 43}, {Type: 51}}}
	as, rs := c.JA3S(sh)
	allocs := testing.AllocsPerRun(100, func() {
		b3, s3 := c.JA3(ch)
		b4, s4 := c.JA4(ch, 't')
		bs, ss := c.JA3S(sh)
		if b3 != a3 || s3 != r3 || b4 != a4 || s4 != r4 || bs != as || ss != rs {
			t.Fatal("different result")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per hit, want 0", allocs)
	}
	if c.Len() != 3 {
		t.Errorf("Len %d, want 3", c.Len())
	}
}

// TestCacheBounded: however many distinct hellos go through, a Cache holds
// at most two generations per table (JA3, JA4, JA3S), and no raw form longer than
// MaxCachedRaw.
func TestCacheBounded(t *testing.T) {
	const entries = 16
	c := NewCache(entries)
	for i := range 100 * entries {
		ch := &dissect.ClientHello{Version: 0x0303, CipherSuites: []uint16{uint16(i), uint16(i >> 8)}}
		c.JA3(ch)
		c.JA4(ch, 't')
		c.JA3S(&dissect.ServerHello{Version: 0x0303, CipherSuite: uint16(i)})
		if n := c.Len(); n > 6*entries {
			t.Fatalf("after %d hellos: %d entries, want ≤ %d", i+1, n, 6*entries)
		}
	}
	long := &dissect.ClientHello{Version: 0x0303, CipherSuites: make([]uint16, 5000)}
	for i := range long.CipherSuites {
		long.CipherSuites[i] = uint16(i)
	}
	c = NewCache(entries)
	h, r := c.JA3(long)
	h4, r4 := c.JA4(long, 't')
	if wh, wr := JA3(long); h != wh || r != wr {
		t.Error("long hello: JA3 differs")
	}
	if wh, wr := JA4(long, 't'); h4 != wh || r4 != wr {
		t.Error("long hello: JA4 differs")
	}
	if c.Len() != 0 {
		t.Errorf("a raw form of %d bytes was kept", max(len(r), len(r4)))
	}
	if cap(c.buf) > maxScratch {
		t.Errorf("scratch buffer of %d bytes kept", cap(c.buf))
	}
}
