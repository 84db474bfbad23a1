package certinfo

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/internal/testcap"
	"github.com/tlsinspect/tlsinspect/internal/testconns"
)

// captureCerts returns the DER of every certificate in the plaintext
// Certificate messages of a capture in testdata/pcaps, in order.
func captureCerts(tb testing.TB, name string) [][]byte {
	tb.Helper()
	var certs [][]byte
	for _, c := range testconns.Streams(tb, testcap.Path(name)) {
		for _, stream := range c {
			var hs dissect.HalfStream
			_ = hs.Write(stream, func(ev dissect.Event) {
				if ev.Kind != dissect.EventHandshake || ev.HandshakeType != dissect.TypeCertificate {
					return
				}
				if m, err := dissect.ParseCertificate(ev.Body, false); err == nil {
					for _, der := range m.Certificates {
						certs = append(certs, bytes.Clone(der))
					}
				}
			})
		}
	}
	if len(certs) == 0 {
		tb.Fatalf("%s: no certificate found", name)
	}
	return certs
}

// distinctCerts returns n distinct DER certificates: those of the
// longchain capture, then copies with one byte of the signature changed
// (they parse like the original, with a different SHA-256).
func distinctCerts(tb testing.TB, n int) [][]byte {
	base := captureCerts(tb, "longchain-go.pcap")
	out := make([][]byte, 0, n)
	for i := 0; len(out) < n; i++ {
		der := bytes.Clone(base[i%len(base)])
		if i >= len(base) {
			der[len(der)-1-i/len(base)%64] ^= byte(i/len(base)/64%255 + 1)
		}
		out = append(out, der)
	}
	return out
}

func TestCacheHitEqualsParse(t *testing.T) {
	c := NewCache(64)
	for _, name := range []string{"tls12-ecdhe-go.pcap", "tls12-mtls-go.pcap", "longchain-go.pcap", "tls12-keylog-go.pcap", "tls10-openssl.pcap"} {
		for _, der := range captureCerts(t, name) {
			want := Parse(der)
			miss := c.Parse(der)
			hit := c.Parse(bytes.Clone(der))
			if !reflect.DeepEqual(miss, want) {
				t.Errorf("%s: cached parse differs from Parse:\n%+v\n%+v", name, miss, want)
			}
			if hit != miss {
				t.Errorf("%s: second Parse of %s missed the cache", name, want.SHA256)
			}
		}
	}
	if c.Len() == 0 || c.Len() > 64 {
		t.Errorf("Len %d", c.Len())
	}
}

// Parse errors are cached: the result depends on the DER alone, and a
// malformed certificate is as costly to parse again as a good one.
func TestCacheParseError(t *testing.T) {
	for _, der := range [][]byte{{0x30, 0x03, 0x02, 0x01, 0x01}, {}, []byte("not a certificate")} {
		c := NewCache(4)
		want := Parse(der)
		if want.ParseError == "" {
			t.Fatalf("%x: no parse error", der)
		}
		got := c.Parse(der)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%x: got %+v, want %+v", der, got, want)
		}
		if again := c.Parse(der); again != got || c.Len() != 1 {
			t.Errorf("%x: parse error not cached (Len %d)", der, c.Len())
		}
	}
}

func TestCacheEviction(t *testing.T) {
	const max = 8
	c := NewCache(max)
	c.maxBytes = 1 << 20 // the count is the bound here (TestCacheByteBudget: the bytes)
	certs := distinctCerts(t, 5*max)
	for i, der := range certs {
		got := c.Parse(der)
		if want := Parse(der); !reflect.DeepEqual(got, want) {
			t.Fatalf("cert %d: cached parse differs", i)
		}
		if c.Len() > max || len(c.slots) > max {
			t.Fatalf("after %d certificates: %d entries, %d slots, want ≤ %d", i+1, c.Len(), len(c.slots), max)
		}
		if c.bytes > c.maxBytes {
			t.Fatalf("after %d certificates: %d bytes, budget %d", i+1, c.bytes, c.maxBytes)
		}
		// Keep certificate 0 hot: CLOCK must keep it.
		if c.Parse(certs[0]) == nil {
			t.Fatal("nil")
		}
	}
	if c.Len() != max {
		t.Errorf("Len %d, want %d", c.Len(), max)
	}
	if _, ok := c.index[string(certs[0])]; !ok {
		t.Error("the certificate hit after every insertion was evicted")
	}
	c.checkInvariants(t)
}

// The byte budget bounds the cache when entries are large.
func TestCacheByteBudget(t *testing.T) {
	c := NewCache(100)
	c.maxBytes = 3 * MaxCachedEntryBytes / 4 // tighter than the default
	// The longchain leaf has 421 SANs: a large entry.
	certs := distinctCerts(t, 60)
	for _, der := range certs {
		c.Parse(der)
		if c.bytes > c.maxBytes {
			t.Fatalf("%d bytes, budget %d", c.bytes, c.maxBytes)
		}
		c.checkInvariants(t)
	}
	if c.Len() == 0 {
		t.Error("nothing cached")
	}
	// An entry larger than MaxCachedEntryBytes is parsed, not kept.
	big := Parse(certs[0])
	names := make([]string, MaxCachedEntryBytes/16)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	big.DNSNames = names
	n := c.Len()
	c.add([]byte("big"), big)
	if c.Len() != n {
		t.Error("an oversized entry was kept")
	}
}

func TestNilCache(t *testing.T) {
	var c *Cache
	if NewCache(0) != nil || NewCache(-1) != nil {
		t.Error("NewCache(≤0) is not nil")
	}
	der := captureCerts(t, "tls12-ecdhe-go.pcap")[0]
	if got, want := c.Parse(der), Parse(der); !reflect.DeepEqual(got, want) {
		t.Errorf("nil cache: %+v, want %+v", got, want)
	}
	if c.Len() != 0 {
		t.Error("nil cache has entries")
	}
}

// A typical certificate costs what the Cache documentation says.
func TestCacheEntrySize(t *testing.T) {
	for _, name := range []string{"tls12-ecdhe-go.pcap", "tls12-keylog-go.pcap", "tls10-openssl.pcap"} {
		for _, der := range captureCerts(t, name) {
			n := retainedSize(Parse(der)) + len(der) // as add counts it
			t.Logf("%s: %d-byte certificate: %d-byte entry", name, len(der), n)
			if n < 1024 || n > 3072 {
				t.Errorf("%s: %d-byte certificate: entry of %d bytes, documented 1.4–2.3 KiB", name, len(der), n)
			}
		}
	}
}

func (c *Cache) checkInvariants(t *testing.T) {
	t.Helper()
	size, live := 0, 0
	for i, e := range c.slots {
		if e.cert == nil {
			continue
		}
		live++
		size += e.size
		if j, ok := c.index[e.key]; !ok || j != i {
			t.Fatalf("slot %d not indexed", i)
		}
	}
	if live != len(c.index) || size != c.bytes {
		t.Fatalf("%d live slots, %d indexed; %d bytes counted, %d kept", live, len(c.index), size, c.bytes)
	}
}
