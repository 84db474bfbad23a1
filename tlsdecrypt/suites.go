package tlsdecrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// Protocol versions as they appear on the wire.
const (
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// bulkKind says how records are protected.
type bulkKind uint8

const (
	// kindAEAD: TLS 1.2 AEAD with a 4-byte implicit salt and an 8-byte
	// explicit nonce carried in each record (GCM, RFC 5288; CCM, RFC 6655).
	kindAEAD bulkKind = iota + 1
	// kindAEADXor: the nonce is a 12-byte IV XORed with the sequence number
	// and nothing is carried in the record (ChaCha20-Poly1305, RFC 7905; all
	// of TLS 1.3).
	kindAEADXor
	// kindCBC: a block cipher in CBC mode with HMAC.
	kindCBC
)

// bulkCipher describes a record cipher and how to build it from a key.
type bulkCipher struct {
	name   string
	kind   bulkKind
	keyLen int
	// ivLen is the fixed IV taken from the key block (TLS 1.0–1.2) or
	// derived from the traffic secret (TLS 1.3). For CBC it is the block
	// size: only TLS 1.0 uses it, as the first record's IV.
	ivLen  int
	aead   func(key []byte) (cipher.AEAD, error)  // AEAD kinds
	block  func(key []byte) (cipher.Block, error) // kindCBC
	minVer uint16
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func newCCMTag(tagLen int) func(key []byte) (cipher.AEAD, error) {
	return func(key []byte) (cipher.AEAD, error) {
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return newCCM(b, 12, tagLen)
	}
}

var (
	aes128GCM  = bulkCipher{name: "AES-128-GCM", kind: kindAEAD, keyLen: 16, ivLen: 4, aead: newGCM, minVer: VersionTLS12}
	aes256GCM  = bulkCipher{name: "AES-256-GCM", kind: kindAEAD, keyLen: 32, ivLen: 4, aead: newGCM, minVer: VersionTLS12}
	aes128CCM  = bulkCipher{name: "AES-128-CCM", kind: kindAEAD, keyLen: 16, ivLen: 4, aead: newCCMTag(16), minVer: VersionTLS12}
	aes256CCM  = bulkCipher{name: "AES-256-CCM", kind: kindAEAD, keyLen: 32, ivLen: 4, aead: newCCMTag(16), minVer: VersionTLS12}
	aes128CCM8 = bulkCipher{name: "AES-128-CCM-8", kind: kindAEAD, keyLen: 16, ivLen: 4, aead: newCCMTag(8), minVer: VersionTLS12}
	aes256CCM8 = bulkCipher{name: "AES-256-CCM-8", kind: kindAEAD, keyLen: 32, ivLen: 4, aead: newCCMTag(8), minVer: VersionTLS12}
	chacha20   = bulkCipher{name: "ChaCha20-Poly1305", kind: kindAEADXor, keyLen: 32, ivLen: 12, aead: chacha20poly1305.New, minVer: VersionTLS12}
	aes128CBC  = bulkCipher{name: "AES-128-CBC", kind: kindCBC, keyLen: 16, ivLen: 16, block: aes.NewCipher, minVer: VersionTLS10}
	aes256CBC  = bulkCipher{name: "AES-256-CBC", kind: kindCBC, keyLen: 32, ivLen: 16, block: aes.NewCipher, minVer: VersionTLS10}
	tdesCBC    = bulkCipher{name: "3DES-EDE-CBC", kind: kindCBC, keyLen: 24, ivLen: 8, block: des.NewTripleDESCipher, minVer: VersionTLS10}
)

// TLS 1.3 record ciphers: every one XORs a 12-byte IV with the sequence
// number (RFC 8446 §5.3).
var (
	aes128GCM13  = bulkCipher{name: "AES-128-GCM", kind: kindAEADXor, keyLen: 16, ivLen: 12, aead: newGCM}
	aes256GCM13  = bulkCipher{name: "AES-256-GCM", kind: kindAEADXor, keyLen: 32, ivLen: 12, aead: newGCM}
	chacha2013   = bulkCipher{name: "ChaCha20-Poly1305", kind: kindAEADXor, keyLen: 32, ivLen: 12, aead: chacha20poly1305.New}
	aes128CCM13  = bulkCipher{name: "AES-128-CCM", kind: kindAEADXor, keyLen: 16, ivLen: 12, aead: newCCMTag(16)}
	aes128CCM813 = bulkCipher{name: "AES-128-CCM-8", kind: kindAEADXor, keyLen: 16, ivLen: 12, aead: newCCMTag(8)}
)

// suite is one cipher suite: its record cipher, its MAC (CBC suites only),
// and the hash of its PRF (TLS 1.2) or HKDF (TLS 1.3).
type suite struct {
	id   uint16
	name string
	bulk *bulkCipher
	mac  func() hash.Hash // nil for AEAD suites
	// prf is the TLS 1.2 PRF hash: SHA-384 for the suites named *_SHA384,
	// SHA-256 for all others (RFC 5246 §5, RFC 5288, RFC 5289). TLS 1.0 and
	// 1.1 ignore it and use MD5 ⊕ SHA-1. In TLS 1.3 it is the HKDF hash.
	prf func() hash.Hash
}

var (
	sha1New   = sha1.New
	sha256New = sha256.New
	sha384New = sha512.New384
)

// suites13 are the TLS 1.3 suites of RFC 8446 §B.4.
var suites13 = []suite{
	{0x1301, "TLS_AES_128_GCM_SHA256", &aes128GCM13, nil, sha256New},
	{0x1302, "TLS_AES_256_GCM_SHA384", &aes256GCM13, nil, sha384New},
	{0x1303, "TLS_CHACHA20_POLY1305_SHA256", &chacha2013, nil, sha256New},
	{0x1304, "TLS_AES_128_CCM_SHA256", &aes128CCM13, nil, sha256New},
	{0x1305, "TLS_AES_128_CCM_8_SHA256", &aes128CCM813, nil, sha256New},
}

// suites12 are the TLS 1.0–1.2 suites this package decrypts: every key
// exchange (RSA, DHE, ECDHE, static DH/ECDH, PSK and its variants,
// anonymous) with AES-CBC, 3DES-CBC, AES-GCM, AES-CCM or ChaCha20-Poly1305.
// The key exchange does not matter once the master secret is known; the
// names are kept for error messages and checked against IANA in the tests.
var suites12 = []suite{
	// 3DES-EDE-CBC with HMAC-SHA1.
	{0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", &tdesCBC, sha1New, sha256New},
	{0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", &tdesCBC, sha1New, sha256New},
	{0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", &tdesCBC, sha1New, sha256New},
	{0x001B, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", &tdesCBC, sha1New, sha256New},
	{0x008B, "TLS_PSK_WITH_3DES_EDE_CBC_SHA", &tdesCBC, sha1New, sha256New},
	{0x008F, "TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA", &tdesCBC, sha1New, sha256New},
	{0x0093, "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA", &tdesCBC, sha1New, sha256New},
	{0xC003, "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA", &tdesCBC, sha1New, sha256New},
	{0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", &tdesCBC, sha1New, sha256New},
	{0xC00D, "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA", &tdesCBC, sha1New, sha256New},
	{0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", &tdesCBC, sha1New, sha256New},
	{0xC017, "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA", &tdesCBC, sha1New, sha256New},
	{0xC034, "TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA", &tdesCBC, sha1New, sha256New},

	// AES-128-CBC with HMAC-SHA1.
	{0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", &aes128CBC, sha1New, sha256New},
	{0x0030, "TLS_DH_DSS_WITH_AES_128_CBC_SHA", &aes128CBC, sha1New, sha256New},
	{0x0031, "TLS_DH_RSA_WITH_AES_128_CBC_SHA", &aes128CBC, sha1New, sha256New},
	{0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA", &aes128CBC, sha1New, sha256New},
	{0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", &aes128CBC, sha1New, sha256New},
	{0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", &aes128CBC, sha1New, sha256New},
	{0x008C, "TLS_PSK_WITH_AES_128_CBC_SHA", &aes128CBC, sha1New, sha256New},
	{0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA", &aes128CBC, sha1New, sha256New},
	{0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA", &aes128CBC, sha1New, sha256New},
	{0xC004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA", &aes128CBC, sha1New, sha256New},
	{0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", &aes128CBC, sha1New, sha256New},
	{0xC00E, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA", &aes128CBC, sha1New, sha256New},
	{0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", &aes128CBC, sha1New, sha256New},
	{0xC018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", &aes128CBC, sha1New, sha256New},
	{0xC035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA", &aes128CBC, sha1New, sha256New},

	// AES-256-CBC with HMAC-SHA1.
	{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", &aes256CBC, sha1New, sha256New},
	{0x0036, "TLS_DH_DSS_WITH_AES_256_CBC_SHA", &aes256CBC, sha1New, sha256New},
	{0x0037, "TLS_DH_RSA_WITH_AES_256_CBC_SHA", &aes256CBC, sha1New, sha256New},
	{0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", &aes256CBC, sha1New, sha256New},
	{0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", &aes256CBC, sha1New, sha256New},
	{0x003A, "TLS_DH_anon_WITH_AES_256_CBC_SHA", &aes256CBC, sha1New, sha256New},
	{0x008D, "TLS_PSK_WITH_AES_256_CBC_SHA", &aes256CBC, sha1New, sha256New},
	{0x0091, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA", &aes256CBC, sha1New, sha256New},
	{0x0095, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA", &aes256CBC, sha1New, sha256New},
	{0xC005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA", &aes256CBC, sha1New, sha256New},
	{0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", &aes256CBC, sha1New, sha256New},
	{0xC00F, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA", &aes256CBC, sha1New, sha256New},
	{0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", &aes256CBC, sha1New, sha256New},
	{0xC019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", &aes256CBC, sha1New, sha256New},
	{0xC036, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA", &aes256CBC, sha1New, sha256New},

	// AES-CBC with HMAC-SHA256 or HMAC-SHA384 (TLS 1.2 only).
	{0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", &aes128CBC, sha256New, sha256New},
	{0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", &aes256CBC, sha256New, sha256New},
	{0x003E, "TLS_DH_DSS_WITH_AES_128_CBC_SHA256", &aes128CBC, sha256New, sha256New},
	{0x003F, "TLS_DH_RSA_WITH_AES_128_CBC_SHA256", &aes128CBC, sha256New, sha256New},
	{0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", &aes128CBC, sha256New, sha256New},
	{0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", &aes128CBC, sha256New, sha256New},
	{0x0068, "TLS_DH_DSS_WITH_AES_256_CBC_SHA256", &aes256CBC, sha256New, sha256New},
	{0x0069, "TLS_DH_RSA_WITH_AES_256_CBC_SHA256", &aes256CBC, sha256New, sha256New},
	{0x006A, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", &aes256CBC, sha256New, sha256New},
	{0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", &aes256CBC, sha256New, sha256New},
	{0x006C, "TLS_DH_anon_WITH_AES_128_CBC_SHA256", &aes128CBC, sha256New, sha256New},
	{0x006D, "TLS_DH_anon_WITH_AES_256_CBC_SHA256", &aes256CBC, sha256New, sha256New},
	{0x00AE, "TLS_PSK_WITH_AES_128_CBC_SHA256", &aes128CBC, sha256New, sha256New},
	{0x00AF, "TLS_PSK_WITH_AES_256_CBC_SHA384", &aes256CBC, sha384New, sha384New},
	{0x00B2, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256", &aes128CBC, sha256New, sha256New},
	{0x00B3, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384", &aes256CBC, sha384New, sha384New},
	{0x00B6, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256", &aes128CBC, sha256New, sha256New},
	{0x00B7, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384", &aes256CBC, sha384New, sha384New},
	{0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", &aes128CBC, sha256New, sha256New},
	{0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", &aes256CBC, sha384New, sha384New},
	{0xC025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256", &aes128CBC, sha256New, sha256New},
	{0xC026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384", &aes256CBC, sha384New, sha384New},
	{0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", &aes128CBC, sha256New, sha256New},
	{0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", &aes256CBC, sha384New, sha384New},
	{0xC029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256", &aes128CBC, sha256New, sha256New},
	{0xC02A, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384", &aes256CBC, sha384New, sha384New},
	{0xC037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", &aes128CBC, sha256New, sha256New},
	{0xC038, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384", &aes256CBC, sha384New, sha384New},

	// AES-GCM (RFC 5288, 5289, 5487, 8442).
	{0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", &aes128GCM, nil, sha256New},
	{0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", &aes256GCM, nil, sha384New},
	{0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", &aes128GCM, nil, sha256New},
	{0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", &aes256GCM, nil, sha384New},
	{0x00A0, "TLS_DH_RSA_WITH_AES_128_GCM_SHA256", &aes128GCM, nil, sha256New},
	{0x00A1, "TLS_DH_RSA_WITH_AES_256_GCM_SHA384", &aes256GCM, nil, sha384New},
	{0x00A2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", &aes128GCM, nil, sha256New},
	{0x00A3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", &aes256GCM, nil, sha384New},
	{0x00A4, "TLS_DH_DSS_WITH_AES_128_GCM_SHA256", &aes128GCM, nil, sha256New},
	{0x00A5, "TLS_DH_DSS_WITH_AES_256_GCM_SHA384", &aes256GCM, nil, sha384New},
	{0x00A6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256", &aes128GCM, nil, sha256New},
	{0x00A7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384", &aes256GCM, nil, sha384New},
	{0x00A8, "TLS_PSK_WITH_AES_128_GCM_SHA256", &aes128GCM, nil, sha256New},
	{0x00A9, "TLS_PSK_WITH_AES_256_GCM_SHA384", &aes256GCM, nil, sha384New},
	{0x00AA, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256", &aes128GCM, nil, sha256New},
	{0x00AB, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384", &aes256GCM, nil, sha384New},
	{0x00AC, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256", &aes128GCM, nil, sha256New},
	{0x00AD, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384", &aes256GCM, nil, sha384New},
	{0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", &aes128GCM, nil, sha256New},
	{0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", &aes256GCM, nil, sha384New},
	{0xC02D, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256", &aes128GCM, nil, sha256New},
	{0xC02E, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384", &aes256GCM, nil, sha384New},
	{0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", &aes128GCM, nil, sha256New},
	{0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", &aes256GCM, nil, sha384New},
	{0xC031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256", &aes128GCM, nil, sha256New},
	{0xC032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384", &aes256GCM, nil, sha384New},
	{0xD001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256", &aes128GCM, nil, sha256New},
	{0xD002, "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384", &aes256GCM, nil, sha384New},

	// AES-CCM and AES-CCM-8 (RFC 6655, 7251, 8442); all use the SHA-256 PRF.
	{0xC09C, "TLS_RSA_WITH_AES_128_CCM", &aes128CCM, nil, sha256New},
	{0xC09D, "TLS_RSA_WITH_AES_256_CCM", &aes256CCM, nil, sha256New},
	{0xC09E, "TLS_DHE_RSA_WITH_AES_128_CCM", &aes128CCM, nil, sha256New},
	{0xC09F, "TLS_DHE_RSA_WITH_AES_256_CCM", &aes256CCM, nil, sha256New},
	{0xC0A0, "TLS_RSA_WITH_AES_128_CCM_8", &aes128CCM8, nil, sha256New},
	{0xC0A1, "TLS_RSA_WITH_AES_256_CCM_8", &aes256CCM8, nil, sha256New},
	{0xC0A2, "TLS_DHE_RSA_WITH_AES_128_CCM_8", &aes128CCM8, nil, sha256New},
	{0xC0A3, "TLS_DHE_RSA_WITH_AES_256_CCM_8", &aes256CCM8, nil, sha256New},
	{0xC0A4, "TLS_PSK_WITH_AES_128_CCM", &aes128CCM, nil, sha256New},
	{0xC0A5, "TLS_PSK_WITH_AES_256_CCM", &aes256CCM, nil, sha256New},
	{0xC0A6, "TLS_DHE_PSK_WITH_AES_128_CCM", &aes128CCM, nil, sha256New},
	{0xC0A7, "TLS_DHE_PSK_WITH_AES_256_CCM", &aes256CCM, nil, sha256New},
	{0xC0A8, "TLS_PSK_WITH_AES_128_CCM_8", &aes128CCM8, nil, sha256New},
	{0xC0A9, "TLS_PSK_WITH_AES_256_CCM_8", &aes256CCM8, nil, sha256New},
	{0xC0AA, "TLS_PSK_DHE_WITH_AES_128_CCM_8", &aes128CCM8, nil, sha256New},
	{0xC0AB, "TLS_PSK_DHE_WITH_AES_256_CCM_8", &aes256CCM8, nil, sha256New},
	{0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", &aes128CCM, nil, sha256New},
	{0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", &aes256CCM, nil, sha256New},
	{0xC0AE, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", &aes128CCM8, nil, sha256New},
	{0xC0AF, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", &aes256CCM8, nil, sha256New},
	{0xD003, "TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256", &aes128CCM8, nil, sha256New},
	{0xD005, "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256", &aes128CCM, nil, sha256New},

	// ChaCha20-Poly1305 (RFC 7905).
	{0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", &chacha20, nil, sha256New},
	{0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", &chacha20, nil, sha256New},
	{0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", &chacha20, nil, sha256New},
	{0xCCAB, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256", &chacha20, nil, sha256New},
	{0xCCAC, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", &chacha20, nil, sha256New},
	{0xCCAD, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256", &chacha20, nil, sha256New},
	{0xCCAE, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256", &chacha20, nil, sha256New},
}

var (
	suite13ByID = indexSuites(suites13)
	suite12ByID = indexSuites(suites12)
)

func indexSuites(list []suite) map[uint16]*suite {
	m := make(map[uint16]*suite, len(list))
	for i := range list {
		m[list[i].id] = &list[i]
	}
	return m
}

// Supported reports whether NewTLS13 (for version VersionTLS13) or NewTLS12
// (for the others) accepts the suite at that version.
func Supported(version, suite uint16) bool {
	if version == VersionTLS13 {
		return suite13ByID[suite] != nil
	}
	s := suite12ByID[suite]
	return s != nil && version >= s.minVersion() && version <= VersionTLS12
}

// minVersion is the first version that can use the suite: AEAD suites and
// the CBC suites with SHA-256/384 MACs were defined for TLS 1.2.
func (s *suite) minVersion() uint16 {
	if s.mac != nil && s.mac().Size() > sha1.Size {
		return VersionTLS12
	}
	return s.bulk.minVer
}

// SuiteHashLen returns the length of the hash of a TLS 1.3 suite, which is
// the length of its traffic secrets (32 for SHA-256 suites, 48 for
// TLS_AES_256_GCM_SHA384), or 0 if the suite is not a supported TLS 1.3
// suite.
func SuiteHashLen(suite uint16) int {
	s := suite13ByID[suite]
	if s == nil {
		return 0
	}
	return s.prf().Size()
}

// SuiteName returns the IANA name of a supported suite, or "" if this
// package does not support it.
func SuiteName(suite uint16) string {
	if s := suite13ByID[suite]; s != nil {
		return s.name
	}
	if s := suite12ByID[suite]; s != nil {
		return s.name
	}
	return ""
}
