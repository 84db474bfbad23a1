package dissect

import (
	"bytes"
	"compress/zlib"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// tls13CertificateMessage is a TLS 1.3 Certificate body holding the given
// DER certificates (no request context, no entry extensions).
func tls13CertificateMessage(ders ...[]byte) []byte {
	var list []byte
	for _, d := range ders {
		list = append(list, byte(len(d)>>16), byte(len(d)>>8), byte(len(d)))
		list = append(list, d...)
		list = append(list, 0, 0)
	}
	return append([]byte{0, byte(len(list) >> 16), byte(len(list) >> 8), byte(len(list))}, list...)
}

func compressedCertificate(alg uint16, uncompressedLen int, data []byte) []byte {
	b := []byte{byte(alg >> 8), byte(alg), byte(uncompressedLen >> 16), byte(uncompressedLen >> 8), byte(uncompressedLen)}
	b = append(b, byte(len(data)>>16), byte(len(data)>>8), byte(len(data)))
	return append(b, data...)
}

func compress(t *testing.T, alg uint16, plain []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch alg {
	case CertCompressionZlib:
		w := zlib.NewWriter(&buf)
		w.Write(plain)
		w.Close()
	case CertCompressionBrotli:
		w := brotli.NewWriter(&buf)
		w.Write(plain)
		w.Close()
	case CertCompressionZstd:
		w, _ := zstd.NewWriter(&buf)
		w.Write(plain)
		w.Close()
	}
	return buf.Bytes()
}

func TestParseCompressedCertificate(t *testing.T) {
	ders := [][]byte{bytes.Repeat([]byte("leaf certificate "), 40), bytes.Repeat([]byte("intermediate "), 30)}
	msg := tls13CertificateMessage(ders...)
	for _, alg := range []uint16{CertCompressionZlib, CertCompressionBrotli, CertCompressionZstd} {
		data := compress(t, alg, msg)
		m, err := ParseCompressedCertificate(compressedCertificate(alg, len(msg), data), 0)
		if err != nil || m.Certificate == nil || len(m.Certificate.Certificates) != 2 || !bytes.Equal(m.Certificate.Certificates[0], ders[0]) {
			t.Errorf("algorithm %d: %v %+v", alg, err, m)
		}
		// A length that lies, either way, is refused.
		for _, n := range []int{len(msg) - 1, len(msg) + 1} {
			if _, err := ParseCompressedCertificate(compressedCertificate(alg, n, data), 0); err == nil || !strings.Contains(err.Error(), "uncompressed_length") {
				t.Errorf("algorithm %d, length %d of %d: err %v", alg, n, len(msg), err)
			}
		}
	}
	// A decompression bomb stops at the announced length, and the limit
	// holds whatever is announced.
	bomb := compress(t, CertCompressionZlib, make([]byte, 64<<20))
	if _, err := ParseCompressedCertificate(compressedCertificate(CertCompressionZlib, 1000, bomb), 0); err == nil {
		t.Error("bomb accepted")
	}
	if _, err := ParseCompressedCertificate(compressedCertificate(CertCompressionZlib, 1<<22, bomb), 1<<20); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("over the limit: %v", err)
	}
	for _, body := range [][]byte{nil, {0, 1}, compressedCertificate(9, 10, []byte{1}), append(compressedCertificate(1, 10, []byte{1}), 0)} {
		if _, err := ParseCompressedCertificate(body, 0); err == nil {
			t.Errorf("%x accepted", body)
		}
	}
}

func FuzzParseCompressedCertificate(f *testing.F) {
	msg := tls13CertificateMessage([]byte("certificate"))
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(msg)
	w.Close()
	f.Add(compressedCertificate(CertCompressionZlib, len(msg), z.Bytes()))
	f.Add(compressedCertificate(CertCompressionBrotli, 5, []byte{0x0b, 0x02, 0x80, 'h', 'i', 0x03}))
	f.Add(compressedCertificate(CertCompressionZstd, 5, []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0x58, 0x29, 0, 0, 'h', 'e', 'l', 'l', 'o'}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseCompressedCertificate(b, 1<<16)
		if m == nil {
			t.Fatal("nil message")
		}
		if err == nil && m.UncompressedLength > 1<<16 {
			t.Fatalf("limit exceeded: %d", m.UncompressedLength)
		}
	})
}
