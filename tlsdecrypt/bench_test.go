package tlsdecrypt

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkOpenTLS13 decrypts full 16 KiB TLS 1.3 records. Each iteration
// opens a fresh copy of the record at sequence number 0, so the cost is one
// AEAD open plus the padding scan and the plaintext allocation.
func BenchmarkOpenTLS13(b *testing.B) {
	for _, suite := range []uint16{0x1301, 0x1302, 0x1303, 0x1304} {
		b.Run(SuiteName(suite), func(b *testing.B) {
			secret := bytes.Repeat([]byte{7}, SuiteHashLen(suite))
			rec := newSealer13(b, suite, secret).seal13(23, make([]byte, maxPlaintext), 0)
			d, err := NewTLS13(suite, secret)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(maxPlaintext)
			b.ReportAllocs()
			for b.Loop() {
				d.seq = 0
				if _, _, err := d.Open(rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpenTLS12 does the same for TLS 1.2 GCM and CBC records.
func BenchmarkOpenTLS12(b *testing.B) {
	cr, sr := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	m := bytes.Repeat([]byte{3}, 48)
	for _, suite := range []uint16{0xC02F, 0xC013} {
		b.Run(fmt.Sprint(SuiteName(suite)), func(b *testing.B) {
			rec := newSealer12(b, VersionTLS12, suite, m, cr, sr, true, false).seal12(23, make([]byte, maxPlaintext), -1)
			d, err := NewTLS12(VersionTLS12, suite, m, cr, sr, true)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(maxPlaintext)
			b.ReportAllocs()
			for b.Loop() {
				d.seq = 0
				if _, _, err := d.Open(rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
