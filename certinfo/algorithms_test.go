package certinfo

import (
	"testing"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// algID encodes an AlgorithmIdentifier; params are raw elements.
func algID(oid []int, params ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		for _, p := range params {
			b.AddBytes(p)
		}
	})
	return b.BytesOrPanic()
}

// spkiOf encodes a SubjectPublicKeyInfo.
func spkiOf(ai, key []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(ai)
		b.AddASN1BitString(key)
	})
	return b.BytesOrPanic()
}

func der(f func(b *cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	f(&b)
	return b.BytesOrPanic()
}

var (
	oidMLDSA87   = []int{2, 16, 840, 1, 101, 3, 4, 3, 19}
	asn1Null     = []byte{0x05, 0x00}
	rsaKey300Bit = der(func(b *cryptobyte.Builder) { // 00-padded 300-bit modulus, e=65537
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(append([]byte{0x00, 0x08}, make([]byte, 37)...)) })
			b.AddASN1Int64(65537)
		})
	})
)

// Certificates crypto/x509 accepts but whose algorithms it does not know
// are named from the OID tables.
func TestUnknownAlgorithmsViaX509(t *testing.T) {
	p := base(t)
	p.sigAI = algID(oidMLDSA87)
	p.spki = spkiOf(algID(oidMLDSA87), make([]byte, 2592))
	der := assemble(t, p)
	want := withHashes(baseWant, der)
	want.KeyType, want.KeyBits, want.Curve, want.SignatureAlgorithm = "ML-DSA-87", 0, "", "ML-DSA-87"
	diff(t, Parse(der), &want)
}

func TestSPKIInfo(t *testing.T) {
	ecParams := func(oid []int) []byte {
		return der(func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
	}
	ecKey := []int{1, 2, 840, 10045, 2, 1}
	point := append([]byte{4}, make([]byte, 64)...)
	tests := []struct {
		name    string
		spki    []byte
		keyType string
		bits    int
		curve   string
		err     bool
	}{
		{"RSA", spkiOf(algID([]int{1, 2, 840, 113549, 1, 1, 1}, asn1Null), rsaKey300Bit), "RSA", 300, "", false},
		{"RSA-PSS key", spkiOf(algID([]int{1, 2, 840, 113549, 1, 1, 10}), rsaKey300Bit), "RSA-PSS", 300, "", false},
		{"RSA bad key", spkiOf(algID([]int{1, 2, 840, 113549, 1, 1, 1}, asn1Null), []byte{1, 2}), "RSA", 0, "", true},
		{"secp256k1", spkiOf(algID(ecKey, ecParams([]int{1, 3, 132, 0, 10})), point), "ECDSA", 256, "secp256k1", false},
		{"brainpoolP512r1", spkiOf(algID(ecKey, ecParams([]int{1, 3, 36, 3, 3, 2, 8, 1, 1, 13})), point), "ECDSA", 512, "brainpoolP512r1", false},
		{"unknown curve, size from point", spkiOf(algID(ecKey, ecParams([]int{1, 2, 3})), point), "ECDSA", 256, "1.2.3", false},
		{"explicit curve", spkiOf(algID(ecKey, der(func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Int64(1) })
		})), point), "ECDSA", 256, "explicit", false},
		{"EC without parameters", spkiOf(algID(ecKey), point), "ECDSA", 0, "", true},
		{"Ed448", spkiOf(algID([]int{1, 3, 101, 113}), make([]byte, 57)), "Ed448", 456, "", false},
		{"X448", spkiOf(algID([]int{1, 3, 101, 111}), make([]byte, 56)), "X448", 448, "", false},
		{"DSA", spkiOf(algID([]int{1, 2, 840, 10040, 4, 1}, der(func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(asn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(append([]byte{0x00, 0x80}, make([]byte, 127)...)) })
				b.AddASN1Int64(3)
				b.AddASN1Int64(2)
			})
		})), []byte{2, 1, 5}), "DSA", 1024, "", false},
		{"ML-DSA-44", spkiOf(algID([]int{2, 16, 840, 1, 101, 3, 4, 3, 17}), make([]byte, 1312)), "ML-DSA-44", 0, "", false},
		{"ML-DSA-65", spkiOf(algID([]int{2, 16, 840, 1, 101, 3, 4, 3, 18}), make([]byte, 1952)), "ML-DSA-65", 0, "", false},
		{"unknown", spkiOf(algID([]int{1, 2, 3, 4, 5}), []byte{1}), "1.2.3.4.5", 0, "", false},
		{"missing key", der(func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(algID([]int{1, 3, 101, 112})) })
		}), "Ed25519", 256, "", true},
		{"not an SPKI", algID([]int{1, 3, 101, 112}), "", 0, "", true},
		{"garbage", []byte{0x04, 0x00}, "", 0, "", true},
	}
	for _, tt := range tests {
		kt, bits, curve, err := spkiInfo(tt.spki)
		if kt != tt.keyType || bits != tt.bits || curve != tt.curve || (err != nil) != tt.err {
			t.Errorf("%s: got %q %d %q %v, want %q %d %q error %v", tt.name, kt, bits, curve, err, tt.keyType, tt.bits, tt.curve, tt.err)
		}
	}
}

func TestSigAlgName(t *testing.T) {
	pss := []int{1, 2, 840, 113549, 1, 1, 10}
	pssParams := func(hash []int) []byte {
		return der(func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				if hash != nil {
					b.AddASN1(asn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddBytes(algID(hash, asn1Null))
					})
				}
				b.AddASN1(asn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1Int64(64) })
			})
		})
	}
	tests := []struct {
		name string
		ai   []byte
		want string
	}{
		{"SHA256-RSA", algID([]int{1, 2, 840, 113549, 1, 1, 11}, asn1Null), "SHA256-RSA"},
		{"ISO SHA1-RSA", algID([]int{1, 3, 14, 3, 2, 29}), "SHA1-RSA"},
		{"PSS SHA-512, any salt", algID(pss, pssParams([]int{2, 16, 840, 1, 101, 3, 4, 2, 3})), "SHA512-RSAPSS"},
		{"PSS default hash is SHA-1", algID(pss, pssParams(nil)), "SHA1-RSAPSS"},
		{"PSS unknown hash", algID(pss, pssParams([]int{1, 2, 3})), "RSASSA-PSS"},
		{"PSS without parameters", algID(pss), "RSASSA-PSS"},
		{"ML-DSA-87", algID(oidMLDSA87), "ML-DSA-87"},
		{"unknown", algID([]int{1, 2, 3, 4}), "1.2.3.4"},
		{"malformed", []byte{0x30, 0x01, 0x06}, ""},
	}
	for _, tt := range tests {
		if got := sigAlgName(tt.ai); got != tt.want {
			t.Errorf("%s: sigAlgName = %q, want %q", tt.name, got, tt.want)
		}
	}
}
