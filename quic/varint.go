package quic

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// maxVarint is the largest value a variable-length integer can hold.
const maxVarint = 1<<62 - 1

// readVarint reads a variable-length integer (RFC 9000 §16): the two high
// bits of the first byte give its length, 1, 2, 4 or 8 bytes, and the
// remaining bits are the value, big-endian.
func readVarint(s *cryptobyte.String, v *uint64) bool {
	if len(*s) == 0 {
		return false
	}
	var b []byte
	if !s.ReadBytes(&b, 1<<((*s)[0]>>6)) {
		return false
	}
	x := uint64(b[0] & 0x3f)
	for _, c := range b[1:] {
		x = x<<8 | uint64(c)
	}
	*v = x
	return true
}

// readVarintBytes reads a variable-length integer length and that many
// bytes into out (a token, CRYPTO data, a reason phrase). It returns ""
// or why it could not, for a ParseError's Detail: "truncated" when the
// length is cut off, or the length and what remains when they do not fit.
// On failure s is left as it was.
func readVarintBytes(s *cryptobyte.String, out *[]byte) string {
	rest := *s
	var n uint64
	if !readVarint(&rest, &n) {
		return "truncated"
	}
	if n > uint64(len(rest)) {
		return fmt.Sprintf("length %d exceeds remaining %d", n, len(rest))
	}
	*out, *s = rest[:n], rest[n:]
	return ""
}
