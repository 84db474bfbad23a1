package dissect

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/cryptobyte"
)

// Certificate compression algorithms (RFC 8879 §3).
const (
	CertCompressionZlib   uint16 = 1
	CertCompressionBrotli uint16 = 2
	CertCompressionZstd   uint16 = 3
)

// CompressedCertificate is a parsed CompressedCertificate body (RFC 8879
// §4): the algorithm, and the TLS 1.3 Certificate message it holds.
type CompressedCertificate struct {
	Algorithm          uint16
	UncompressedLength int
	CompressedLength   int
	Certificate        *Certificate // nil when it could not be decompressed
}

// ParseCompressedCertificate decompresses and parses a CompressedCertificate
// body. maxLen bounds the uncompressed message (DefaultMaxMessage when
// zero): a peer cannot make the observer inflate more than that, whatever
// the compressed data claims.
func ParseCompressedCertificate(body []byte, maxLen int) (*CompressedCertificate, error) {
	if maxLen <= 0 {
		maxLen = DefaultMaxMessage
	}
	m := &CompressedCertificate{}
	s := cryptobyte.String(body)
	var n uint32
	var data cryptobyte.String
	if !s.ReadUint16(&m.Algorithm) || !s.ReadUint24(&n) || !s.ReadUint24LengthPrefixed(&data) {
		return m, fmt.Errorf("CompressedCertificate: truncated header or compressed_certificate_message")
	}
	m.UncompressedLength, m.CompressedLength = int(n), len(data)
	if !s.Empty() {
		return m, fmt.Errorf("CompressedCertificate: %d bytes after the message", len(s))
	}
	if m.UncompressedLength > maxLen {
		return m, fmt.Errorf("CompressedCertificate: uncompressed_length %d exceeds the %d-byte limit", m.UncompressedLength, maxLen)
	}
	var r io.Reader
	switch m.Algorithm {
	case CertCompressionZlib:
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			return m, fmt.Errorf("CompressedCertificate: zlib: %w", err)
		}
		defer zr.Close()
		r = zr
	case CertCompressionBrotli:
		r = brotli.NewReader(bytes.NewReader(data))
	case CertCompressionZstd:
		zr, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderMaxMemory(uint64(maxLen)+1<<20), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return m, fmt.Errorf("CompressedCertificate: zstd: %w", err)
		}
		defer zr.Close()
		r = zr
	default:
		return m, fmt.Errorf("CompressedCertificate: unknown algorithm %d", m.Algorithm)
	}
	// Read one byte more than announced, to tell a lie from the truth.
	plain, err := io.ReadAll(io.LimitReader(r, int64(m.UncompressedLength)+1))
	if err != nil {
		return m, fmt.Errorf("CompressedCertificate: decompressing: %w", err)
	}
	if len(plain) != m.UncompressedLength {
		return m, fmt.Errorf("CompressedCertificate: decompressed to %d bytes, uncompressed_length says %d", len(plain), m.UncompressedLength)
	}
	cert, err := ParseCertificate(plain, true)
	m.Certificate = cert
	return m, err
}
