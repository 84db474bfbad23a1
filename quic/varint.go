package quic

import "golang.org/x/crypto/cryptobyte"

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

// varintLen is the length of the shortest encoding of v.
func varintLen(v uint64) int {
	switch {
	case v < 1<<6:
		return 1
	case v < 1<<14:
		return 2
	case v < 1<<30:
		return 4
	}
	return 8
}
