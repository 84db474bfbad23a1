package quic

import (
	"errors"
	"fmt"
)

// ParseError says what could not be read and where: which structure, which
// field of it, and the byte offset within the input given to the parser.
type ParseError struct {
	What   string // "Initial packet", "CRYPTO frame", "transport parameters"
	Field  string // "Length", "token", "parameter 0x0f (initial_source_connection_id)"
	Offset int    // offset of the field within the parser's input
	Detail string // "length 1300 exceeds remaining 1180"
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("QUIC %s: %s at offset %d", e.What, e.Detail, e.Offset)
	}
	return fmt.Sprintf("QUIC %s: %s: %s at offset %d", e.What, e.Field, e.Detail, e.Offset)
}

func parseErr(what, field string, off int, format string, args ...any) *ParseError {
	return &ParseError{What: what, Field: field, Offset: off, Detail: fmt.Sprintf(format, args...)}
}

var (
	// ErrUnsupportedVersion: the packet's version is not one whose keys
	// this package can derive (see Version.Supported).
	ErrUnsupportedVersion = errors.New("quic: unsupported version")
	// ErrUnsupportedSuite: the TLS cipher suite has no QUIC packet
	// protection here (only TLS_AES_128_GCM_SHA256,
	// TLS_AES_256_GCM_SHA384 and TLS_CHACHA20_POLY1305_SHA256 do).
	ErrUnsupportedSuite = errors.New("quic: unsupported cipher suite")
	// ErrDecrypt: the packet did not authenticate under the keys: wrong
	// keys (another connection, a missed Retry) or a damaged packet.
	ErrDecrypt = errors.New("quic: packet did not decrypt")
	// ErrRetryIntegrity: a Retry packet's integrity tag does not match
	// the original Destination Connection ID it was checked against.
	ErrRetryIntegrity = errors.New("quic: Retry integrity tag mismatch")
	// ErrCryptoBufferFull: CRYPTO data beyond what a stream may hold (see
	// CryptoStream.Max) was dropped.
	ErrCryptoBufferFull = errors.New("quic: CRYPTO stream buffer full")
	// ErrCryptoConflict: CRYPTO data for bytes already received differs
	// from the first copy, which is kept.
	ErrCryptoConflict = errors.New("quic: retransmitted CRYPTO data differs")
	// ErrMessageTooLarge: a handshake message declares a length beyond
	// what the stream may hold; the stream stops there.
	ErrMessageTooLarge = errors.New("quic: handshake message too large")
)
