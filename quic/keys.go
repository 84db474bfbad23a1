package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/tlsinspect/tlsinspect/tlsdecrypt"
)

// TLS 1.3 cipher suites that QUIC can use for packet protection (RFC 9001
// §5.3). AES-128-CCM (0x1304) is allowed by RFC 9001 but is not supported
// here; nobody deploys it.
const (
	TLS_AES_128_GCM_SHA256       uint16 = 0x1301
	TLS_AES_256_GCM_SHA384       uint16 = 0x1302
	TLS_CHACHA20_POLY1305_SHA256 uint16 = 0x1303
)

// suiteParameters is what a TLS 1.3 cipher suite sets for QUIC packet
// protection: the HKDF hash, the AEAD and its key length, and the header
// protection algorithm (RFC 9001 §5.4.3, §5.4.4).
type suiteParameters struct {
	name   string
	hash   func() hash.Hash
	keyLen int // AEAD key and header protection key length
	aead   func(key []byte) (cipher.AEAD, error)
	chacha bool // ChaCha20 header protection instead of AES-ECB
}

var (
	suiteAES128GCM = &suiteParameters{"TLS_AES_128_GCM_SHA256", sha256.New, 16, newAESGCM, false}
	suiteAES256GCM = &suiteParameters{"TLS_AES_256_GCM_SHA384", sha512.New384, 32, newAESGCM, false}
	suiteChaCha20  = &suiteParameters{"TLS_CHACHA20_POLY1305_SHA256", sha256.New, 32, chacha20poly1305.New, true}
)

// suiteParams returns the parameters of a supported suite, or nil.
func suiteParams(suite uint16) *suiteParameters {
	switch suite {
	case TLS_AES_128_GCM_SHA256:
		return suiteAES128GCM
	case TLS_AES_256_GCM_SHA384:
		return suiteAES256GCM
	case TLS_CHACHA20_POLY1305_SHA256:
		return suiteChaCha20
	}
	return nil
}

// checkSecret reports a traffic secret that is not as long as the suite's
// hash.
func (sp *suiteParameters) checkSecret(secret []byte) error {
	if n := sp.hash().Size(); len(secret) != n {
		return fmt.Errorf("quic: %s secret is %d bytes, want %d", sp.name, len(secret), n)
	}
	return nil
}

func newAESGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// ivLen is the AEAD nonce length of every QUIC suite (RFC 9001 §5.3).
const ivLen = 12

// Keys remove the protection of one sender's packets in one packet number
// space: the AEAD key and IV, and the header protection key (RFC 9001 §5).
// A Keys value holds no state and is safe for concurrent use. It never
// prints its key material.
type Keys struct {
	version Version
	suite   uint16
	aead    cipher.AEAD
	iv      []byte
	hp      headerProtector
}

// headerProtector computes the 5-byte header protection mask from a
// 16-byte sample of the ciphertext (RFC 9001 §5.4.1).
type headerProtector interface {
	mask(sample []byte) [5]byte
}

// aesHeaderProtector is AES-ECB header protection (RFC 9001 §5.4.3).
type aesHeaderProtector struct{ block cipher.Block }

func (h aesHeaderProtector) mask(sample []byte) [5]byte {
	var out [aes.BlockSize]byte
	h.block.Encrypt(out[:], sample)
	return [5]byte(out[:5])
}

// chachaHeaderProtector is ChaCha20 header protection (RFC 9001 §5.4.4):
// the first 4 bytes of the sample are the block counter (little-endian),
// the other 12 the nonce, and the mask is the key stream over 5 zeros.
type chachaHeaderProtector struct{ key []byte }

func (h chachaHeaderProtector) mask(sample []byte) [5]byte {
	var m [5]byte
	c, err := chacha20.NewUnauthenticatedCipher(h.key, sample[4:16])
	if err != nil { // only for wrong key or nonce lengths, which the caller rules out
		panic("quic: " + err.Error())
	}
	// A fresh cipher starts at counter 0, so any counter is a step forward;
	// counter 2^32-1 still has its one block of key stream.
	c.SetCounter(binary.LittleEndian.Uint32(sample[:4]))
	c.XORKeyStream(m[:], m[:])
	return m
}

// InitialKeys derives the Initial packet protection keys of both peers
// from the Destination Connection ID of the client's first Initial packet
// (RFC 9001 §5.2, RFC 9369 §3.3.1), or of its first Initial after a Retry,
// which is the Retry's Source Connection ID. The keys of both sides derive
// from the client's choice; the server's own connection IDs play no part.
func InitialKeys(v Version, clientDCID []byte) (client, server *Keys, err error) {
	params := versionParams(v)
	if params == nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrUnsupportedVersion, v)
	}
	initialSecret, err := hkdf.Extract(sha256.New, clientDCID, params.initialSalt)
	if err != nil {
		return nil, nil, err
	}
	// "client in" and "server in" are the same in version 2.
	clientSecret, err := tlsdecrypt.ExpandLabel(sha256.New, initialSecret, "client in", nil, sha256.Size)
	if err != nil {
		return nil, nil, err
	}
	serverSecret, err := tlsdecrypt.ExpandLabel(sha256.New, initialSecret, "server in", nil, sha256.Size)
	if err != nil {
		return nil, nil, err
	}
	if client, err = NewKeys(v, TLS_AES_128_GCM_SHA256, clientSecret); err != nil {
		return nil, nil, err
	}
	if server, err = NewKeys(v, TLS_AES_128_GCM_SHA256, serverSecret); err != nil {
		return nil, nil, err
	}
	return client, server, nil
}

// NewKeys derives packet protection keys from a TLS 1.3 traffic secret
// (RFC 9001 §5.1): for Handshake packets the key log's
// CLIENT_HANDSHAKE_TRAFFIC_SECRET or SERVER_HANDSHAKE_TRAFFIC_SECRET, for
// 1-RTT packets CLIENT_TRAFFIC_SECRET_0 or SERVER_TRAFFIC_SECRET_0, for
// 0-RTT packets CLIENT_EARLY_TRAFFIC_SECRET. suite is the cipher suite the
// ServerHello chose; the secret's length must be its hash length.
func NewKeys(v Version, suite uint16, secret []byte) (*Keys, error) {
	params := versionParams(v)
	if params == nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedVersion, v)
	}
	sp := suiteParams(suite)
	if sp == nil {
		return nil, fmt.Errorf("%w: 0x%04x", ErrUnsupportedSuite, suite)
	}
	if err := sp.checkSecret(secret); err != nil {
		return nil, err
	}
	key, err := tlsdecrypt.ExpandLabel(sp.hash, secret, params.keyLabel, nil, sp.keyLen)
	if err != nil {
		return nil, err
	}
	iv, err := tlsdecrypt.ExpandLabel(sp.hash, secret, params.ivLabel, nil, ivLen)
	if err != nil {
		return nil, err
	}
	hpKey, err := tlsdecrypt.ExpandLabel(sp.hash, secret, params.hpLabel, nil, sp.keyLen)
	if err != nil {
		return nil, err
	}
	k := &Keys{version: v, suite: suite, iv: iv}
	if k.aead, err = sp.aead(key); err != nil {
		return nil, err
	}
	if sp.chacha {
		k.hp = chachaHeaderProtector{hpKey}
	} else {
		block, err := aes.NewCipher(hpKey)
		if err != nil {
			return nil, err
		}
		k.hp = aesHeaderProtector{block}
	}
	return k, nil
}

// Version is the QUIC version the keys were derived for.
func (k *Keys) Version() Version { return k.version }

// Suite is the TLS cipher suite of the keys.
func (k *Keys) Suite() uint16 { return k.suite }

// String names the version and suite, never the key material.
func (k *Keys) String() string {
	if k == nil {
		return "quic.Keys(nil)"
	}
	return fmt.Sprintf("quic.Keys{%v %s}", k.version, suiteParams(k.suite).name)
}

// nonce is the IV XORed with the packet number, left-padded (RFC 9001 §5.3).
func (k *Keys) nonce(pn uint64) []byte {
	n := make([]byte, ivLen)
	copy(n, k.iv)
	for i := range 8 {
		n[ivLen-1-i] ^= byte(pn >> (8 * i))
	}
	return n
}
