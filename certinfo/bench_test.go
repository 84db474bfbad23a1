package certinfo

import "testing"

// BenchmarkParse is a cold parse of a real leaf certificate (RSA-2048,
// from the Go TLS 1.2 capture) and of the longchain leaf (RSA-4096, 421
// SANs).
func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, file string }{
		{"leaf-rsa2048", "tls12-ecdhe-go.pcap"},
		{"leaf-ecdsa-p256", "tls12-keylog-go.pcap"},
		{"leaf-421-sans", "longchain-go.pcap"},
	} {
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
// in the cache: a SHA-256 and a map lookup.
func BenchmarkCacheParseHit(b *testing.B) {
	for _, bc := range []struct{ name, file string }{
		{"leaf-rsa2048", "tls12-ecdhe-go.pcap"},
		{"leaf-ecdsa-p256", "tls12-keylog-go.pcap"},
		{"leaf-421-sans", "longchain-go.pcap"},
	} {
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
