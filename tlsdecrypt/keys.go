package tlsdecrypt

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"hash"
)

// ExpandLabel is HKDF-Expand-Label of RFC 8446 §7.1: HKDF-Expand with
// the info
//
//	struct { uint16 length; opaque label<7..255> = "tls13 " + Label;
//	         opaque context<0..255>; } HkdfLabel;
//
// QUIC derives its packet protection keys with it too (RFC 9001 §5.1).
func ExpandLabel(h func() hash.Hash, secret []byte, label string, context []byte, length int) ([]byte, error) {
	info := make([]byte, 0, 2+1+6+len(label)+1+len(context))
	info = append(info, byte(length>>8), byte(length))
	info = append(info, byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	return hkdf.Expand(h, secret, string(info), length)
}

// trafficKeys derives the record key and IV from a TLS 1.3 traffic secret
// (RFC 8446 §7.3).
func trafficKeys(s *suite, secret []byte) (key, iv []byte, err error) {
	key, err = ExpandLabel(s.prf, secret, "key", nil, s.bulk.keyLen)
	if err != nil {
		return nil, nil, err
	}
	iv, err = ExpandLabel(s.prf, secret, "iv", nil, s.bulk.ivLen)
	if err != nil {
		return nil, nil, err
	}
	return key, iv, nil
}

// pHash fills out with P_hash(secret, seed) of RFC 5246 §5:
// HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ..., where
// A(0) = seed and A(i) = HMAC(secret, A(i-1)).
func pHash(h func() hash.Hash, secret, seed, out []byte) {
	mac := hmac.New(h, secret)
	mac.Write(seed)
	a := mac.Sum(nil)
	for len(out) > 0 {
		mac.Reset()
		mac.Write(a)
		mac.Write(seed)
		out = out[copy(out, mac.Sum(nil)):]
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
}

// prf12 is the TLS 1.2 PRF (RFC 5246 §5): P_hash over label + seed with the
// suite's hash.
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	ls := append([]byte(label), seed...)
	out := make([]byte, n)
	pHash(h, secret, ls, out)
	return out
}

// prf10 is the TLS 1.0 and 1.1 PRF (RFC 2246 §5): P_MD5 over the first half
// of the secret XOR P_SHA-1 over the second half; for an odd length the
// halves share the middle byte.
func prf10(secret []byte, label string, seed []byte, n int) []byte {
	ls := append([]byte(label), seed...)
	half := (len(secret) + 1) / 2
	out := make([]byte, n)
	pHash(md5.New, secret[:half], ls, out)
	tmp := make([]byte, n)
	pHash(sha1.New, secret[len(secret)-half:], ls, tmp)
	for i := range out {
		out[i] ^= tmp[i]
	}
	return out
}

// keyBlock expands the master secret into the key block of RFC 5246 §6.3
// (the seed is server_random + client_random, the reverse of the master
// secret's) and returns the writing side's MAC key, cipher key and IV. The
// block is laid out client MAC, server MAC, client key, server key, client
// IV, server IV.
func keyBlock(version uint16, s *suite, master, clientRandom, serverRandom []byte, fromClient bool) (macKey, key, iv []byte) {
	macLen := 0
	if s.mac != nil {
		macLen = s.mac().Size()
	}
	keyLen, ivLen := s.bulk.keyLen, s.bulk.ivLen
	seed := append(append([]byte(nil), serverRandom...), clientRandom...)
	n := 2 * (macLen + keyLen + ivLen)
	var kb []byte
	if version >= VersionTLS12 {
		kb = prf12(s.prf, master, "key expansion", seed, n)
	} else {
		kb = prf10(master, "key expansion", seed, n)
	}
	take := func(l int) []byte {
		c, sv := kb[:l], kb[l:2*l]
		kb = kb[2*l:]
		if fromClient {
			return c
		}
		return sv
	}
	macKey = take(macLen)
	key = take(keyLen)
	iv = take(ivLen)
	return macKey, key, iv
}
