package certinfo

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// Keys are generated once; RSA generation is slow.
var keys = sync.OnceValue(func() (k struct {
	rsa    *rsa.PrivateKey
	p256   *ecdsa.PrivateKey
	p384   *ecdsa.PrivateKey
	ed     ed25519.PrivateKey
	x25519 *ecdh.PrivateKey
}) {
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	if k.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
		panic(err)
	}
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		panic(err)
	}
	if k.x25519, err = ecdh.X25519().GenerateKey(rand.Reader); err != nil {
		panic(err)
	}
	return k
})

var (
	t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	t1 = time.Date(2034, 3, 1, 12, 0, 0, 0, time.UTC)
)

// caTemplate is the issuer used by the leaf cases.
func caTemplate() *x509.Certificate {
	return &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Test Root CA", Organization: []string{"Example Org"}, Country: []string{"US"}},
		NotBefore:             t0,
		NotAfter:              t1,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
}

// create wraps x509.CreateCertificate; parent nil means self-signed.
func create(t testing.TB, tmpl, parent *x509.Certificate, pub any, signer crypto.Signer) []byte {
	t.Helper()
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatalf("CreateCertificate: %v", err)
	}
	return der
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// tbsParts are the raw TLV elements of a TBSCertificate, in order.
type tbsParts struct {
	version, serial, sigAI, issuer, validity, subject, spki, rest []byte
}

// split cuts a certificate made by CreateCertificate into its TBS parts.
func split(t testing.TB, der []byte) tbsParts {
	t.Helper()
	s := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	var p tbsParts
	ok := s.ReadASN1(&cert, asn1.SEQUENCE) && cert.ReadASN1(&tbs, asn1.SEQUENCE) &&
		tbs.ReadASN1Element((*cryptobyte.String)(&p.version), asn1.Tag(0).Constructed().ContextSpecific()) &&
		tbs.ReadASN1Element((*cryptobyte.String)(&p.serial), asn1.INTEGER) &&
		tbs.ReadASN1Element((*cryptobyte.String)(&p.sigAI), asn1.SEQUENCE) &&
		tbs.ReadASN1Element((*cryptobyte.String)(&p.issuer), asn1.SEQUENCE) &&
		tbs.ReadASN1Element((*cryptobyte.String)(&p.validity), asn1.SEQUENCE) &&
		tbs.ReadASN1Element((*cryptobyte.String)(&p.subject), asn1.SEQUENCE) &&
		tbs.ReadASN1Element((*cryptobyte.String)(&p.spki), asn1.SEQUENCE)
	if !ok {
		t.Fatal("split: cannot parse generated certificate")
	}
	p.rest = tbs
	return p
}

// assemble builds and signs a certificate from parts with an ECDSA P-256
// key. It is how tests make certificates crypto/x509 refuses to create or
// parse; the signature is genuine but nothing here verifies it.
func assemble(t testing.TB, p tbsParts) []byte {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, part := range [][]byte{p.version, p.serial, p.sigAI, p.issuer, p.validity, p.subject, p.spki, p.rest} {
			b.AddBytes(part)
		}
	})
	tbs := b.BytesOrPanic()
	h := sha256.Sum256(tbs)
	sig, err := ecdsa.SignASN1(rand.Reader, keys().p256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	var c cryptobyte.Builder
	c.AddASN1(asn1.SEQUENCE, func(c *cryptobyte.Builder) {
		c.AddBytes(tbs)
		c.AddBytes(p.sigAI)
		c.AddASN1BitString(sig)
	})
	return c.BytesOrPanic()
}

// integer encodes raw content bytes as an INTEGER element, unchecked.
func integer(content ...byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(asn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(content) })
	return b.BytesOrPanic()
}

type atv struct {
	oid []byte // content bytes
	tag asn1.Tag
	val string
}

var oidCN = []byte{0x55, 0x04, 0x03}

// name encodes a Name with one single-valued RDN per attribute, each value
// given with its own string tag and raw bytes.
func name(atvs ...atv) []byte {
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, a := range atvs {
			b.AddASN1(asn1.SET, func(b *cryptobyte.Builder) {
				b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(asn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(a.oid) })
					b.AddASN1(a.tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(a.val)) })
				})
			})
		}
	})
	return b.BytesOrPanic()
}
