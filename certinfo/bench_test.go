package certinfo

import "testing"

// benchLeaves are real leaf certificates: RSA-2048 and ECDSA P-256 from
// Go's captures, and the longchain leaf (RSA-4096, 421 SANs).
var benchLeaves = []struct{ name, file string }{
	{"leaf-rsa2048", "tls12-ecdhe-go.pcap"},
	{"leaf-ecdsa-p256", "tls12-keylog-go.pcap"},
	{"leaf-421-sans", "longchain-go.pcap"},
}

// BenchmarkParse is a cold parse of each of benchLeaves.
func BenchmarkParse(b *testing.B) {
	for _, bc := range benchLeaves {
		der := captureCerts(b, bc.file)[0]
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(der)))
			b.ReportAllocs()
			for b.Loop() {
				Parse(der)
			}
		})
	}
}

// BenchmarkCacheParseHit is Cache.Parse of the same certificates, found
// in the cache: a map lookup by the DER.
func BenchmarkCacheParseHit(b *testing.B) {
	for _, bc := range benchLeaves {
		der := captureCerts(b, bc.file)[0]
		b.Run(bc.name, func(b *testing.B) {
			c := NewCache(1024)
			c.Parse(der)
			b.SetBytes(int64(len(der)))
			b.ReportAllocs()
			for b.Loop() {
				c.Parse(der)
			}
		})
	}
}

// BenchmarkCacheParseMiss is Cache.Parse when every certificate is new
// and the cache full: the cost of a cold parse plus keeping the result
// and evicting another.
func BenchmarkCacheParseMiss(b *testing.B) {
	certs := distinctCerts(b, 4096) // the longchain certificates and variants
	c := NewCache(256)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Parse(certs[i%len(certs)])
		i++
	}
}
