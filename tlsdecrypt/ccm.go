package tlsdecrypt

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// ccm is AES-CCM (NIST SP 800-38C, RFC 3610) as a cipher.AEAD. Neither the
// standard library nor golang.org/x/crypto has it, and TLS uses it in
// TLS_AES_128_CCM_SHA256, TLS_AES_128_CCM_8_SHA256 and the TLS 1.2 *_CCM
// and *_CCM_8 suites (RFC 6655), always with a 12-byte nonce.
type ccm struct {
	b        cipher.Block
	nonceLen int // 7..13; the length field takes the other 15-nonceLen bytes
	tagLen   int // 4, 6, ..., 16
}

var errCCMOpen = errors.New("ccm: message authentication failed")

func newCCM(b cipher.Block, nonceLen, tagLen int) (cipher.AEAD, error) {
	if b.BlockSize() != 16 {
		return nil, errors.New("ccm: needs a 128-bit block cipher")
	}
	if nonceLen < 7 || nonceLen > 13 {
		return nil, errors.New("ccm: nonce length must be 7 to 13 bytes")
	}
	if tagLen < 4 || tagLen > 16 || tagLen%2 != 0 {
		return nil, errors.New("ccm: tag length must be 4, 6, ..., 16 bytes")
	}
	return &ccm{b: b, nonceLen: nonceLen, tagLen: tagLen}, nil
}

func (c *ccm) NonceSize() int { return c.nonceLen }
func (c *ccm) Overhead() int  { return c.tagLen }

// maxLen is the longest message whose length fits the length field; it also
// keeps the block counter from running into the nonce.
func (c *ccm) maxLen() uint64 {
	l := 15 - c.nonceLen
	if l >= 8 {
		return 1<<63 - 1
	}
	return 1<<(8*l) - 1
}

// counterBlock returns A_i: flags (L-1), the nonce, then i in L bytes.
func (c *ccm) counterBlock(nonce []byte, i uint64) [16]byte {
	var a [16]byte
	a[0] = byte(15 - c.nonceLen - 1)
	copy(a[1:], nonce)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], i)
	copy(a[1+c.nonceLen:], n[8-(15-c.nonceLen):])
	return a
}

// tag computes the CBC-MAC of B0, the encoded associated data and the
// message, and encrypts it with S0, giving the first tagLen bytes.
func (c *ccm) tag(nonce, msg, ad []byte) []byte {
	l := 15 - c.nonceLen
	var x [16]byte
	x[0] = byte((c.tagLen-2)/2<<3 | (l - 1))
	if len(ad) > 0 {
		x[0] |= 0x40
	}
	copy(x[1:], nonce)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(msg)))
	copy(x[1+c.nonceLen:], n[8-l:])
	c.b.Encrypt(x[:], x[:])

	if len(ad) > 0 {
		// The length prefix of the associated data (SP 800-38C §A.2.2).
		var hdr []byte
		switch {
		case len(ad) < 0xff00:
			hdr = binary.BigEndian.AppendUint16(nil, uint16(len(ad)))
		case uint64(len(ad)) <= 0xffffffff:
			hdr = binary.BigEndian.AppendUint32([]byte{0xff, 0xfe}, uint32(len(ad)))
		default:
			hdr = binary.BigEndian.AppendUint64([]byte{0xff, 0xff}, uint64(len(ad)))
		}
		c.cbcMAC(&x, append(hdr, ad...))
	}
	c.cbcMAC(&x, msg)

	s0 := c.counterBlock(nonce, 0)
	c.b.Encrypt(s0[:], s0[:])
	subtle.XORBytes(x[:], x[:], s0[:])
	return x[:c.tagLen]
}

// cbcMAC folds data, zero-padded to whole blocks, into the running MAC x.
func (c *ccm) cbcMAC(x *[16]byte, data []byte) {
	for len(data) > 0 {
		n := subtle.XORBytes(x[:], x[:], data) // XORs min(16, len(data)) bytes
		data = data[n:]
		c.b.Encrypt(x[:], x[:])
	}
}

// ctr XORs in with the key stream from counter block 1 on.
func (c *ccm) ctr(out, in, nonce []byte) {
	a1 := c.counterBlock(nonce, 1)
	cipher.NewCTR(c.b, a1[:]).XORKeyStream(out, in)
}

func (c *ccm) Seal(dst, nonce, plaintext, ad []byte) []byte {
	if len(nonce) != c.nonceLen {
		panic("ccm: incorrect nonce length")
	}
	if uint64(len(plaintext)) > c.maxLen() {
		panic("ccm: message too long")
	}
	t := c.tag(nonce, plaintext, ad)
	out := make([]byte, len(plaintext)+c.tagLen)
	c.ctr(out, plaintext, nonce)
	copy(out[len(plaintext):], t)
	return append(dst, out...)
}

func (c *ccm) Open(dst, nonce, ciphertext, ad []byte) ([]byte, error) {
	if len(nonce) != c.nonceLen || len(ciphertext) < c.tagLen ||
		uint64(len(ciphertext)-c.tagLen) > c.maxLen() {
		return nil, errCCMOpen
	}
	body, gotTag := ciphertext[:len(ciphertext)-c.tagLen], ciphertext[len(ciphertext)-c.tagLen:]
	pt := make([]byte, len(body))
	c.ctr(pt, body, nonce)
	if subtle.ConstantTimeCompare(c.tag(nonce, pt, ad), gotTag) != 1 {
		clear(pt)
		return nil, errCCMOpen
	}
	return append(dst, pt...), nil
}
