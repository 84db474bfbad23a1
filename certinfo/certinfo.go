package certinfo

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"time"
)

// Certificate is what tlsinspect reports about one certificate. JSON names
// are a public contract.
//
// A Certificate returned by Cache.Parse is shared by every caller that
// parsed the same DER: treat it, and its slices, as read-only.
type Certificate struct {
	Subject            string    `json:"subject"` // RFC 4514 order, see package doc
	Issuer             string    `json:"issuer"`
	SubjectCN          string    `json:"subject_cn,omitempty"` // last CN in wire order, like crypto/x509
	Serial             string    `json:"serial"`               // uppercase hex of the encoded INTEGER content
	NotBefore          time.Time `json:"not_before"`
	NotAfter           time.Time `json:"not_after"`
	DNSNames           []string  `json:"dns_names,omitempty"`
	IPAddresses        []string  `json:"ip_addresses,omitempty"`
	EmailAddresses     []string  `json:"email_addresses,omitempty"`
	URIs               []string  `json:"uris,omitempty"`
	KeyType            string    `json:"key_type"`            // "RSA", "ECDSA", "Ed25519", "ML-DSA-44", ... or dotted OID
	KeyBits            int       `json:"key_bits,omitempty"`  // RSA/DSA modulus bits, EC curve size, 256 for Ed25519
	Curve              string    `json:"curve,omitempty"`     // "P-256", "brainpoolP256r1", ... or dotted OID
	SignatureAlgorithm string    `json:"signature_algorithm"` // x509.SignatureAlgorithm.String() names, else a name or dotted OID
	Version            int       `json:"version"`
	IsCA               bool      `json:"is_ca"`
	SelfSigned         bool      `json:"self_signed"` // raw subject == raw issuer
	SHA256             string    `json:"sha256"`      // lowercase hex of the DER
	SHA1               string    `json:"sha1"`
	Length             int       `json:"length"` // DER bytes
	ParseError         string    `json:"parse_error,omitempty"`
}

// Parse reports on one DER certificate. It never returns nil; SHA256, SHA1
// and Length are always set. When crypto/x509 rejects der, the fields the
// cryptobyte fallback could read are filled in and ParseError is set.
func Parse(der []byte) *Certificate {
	s256, s1 := sha256.Sum256(der), sha1.Sum(der)
	c := &Certificate{
		SHA256: hex.EncodeToString(s256[:]),
		SHA1:   hex.EncodeToString(s1[:]),
		Length: len(der),
	}
	cert, err := x509.ParseCertificate(der)
	if err == nil {
		fromX509(c, cert)
		return c
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "x509: ") {
		msg = "x509: " + msg
	}
	if ferr := fallback(der, c); ferr != nil {
		msg += "; fallback: " + ferr.Error()
	}
	// x509 errors may quote wire bytes; keep the JSON valid.
	c.ParseError = sanitize(msg)
	return c
}

// ExpiredAt reports whether t is after NotAfter. It is false when NotAfter
// is unknown (zero).
func (c *Certificate) ExpiredAt(t time.Time) bool {
	return !c.NotAfter.IsZero() && t.After(c.NotAfter)
}

// fromX509 fills c from a certificate crypto/x509 accepted. Names, serial,
// key and SANs go through the same raw-byte helpers as the fallback so both
// paths format identically (and URIs are not re-encoded by net/url).
func fromX509(c *Certificate, cert *x509.Certificate) {
	c.Subject, c.SubjectCN, _ = formatName(cert.RawSubject)
	c.Issuer, _, _ = formatName(cert.RawIssuer)
	c.SelfSigned = string(cert.RawSubject) == string(cert.RawIssuer)
	c.Serial = rawSerial(cert.RawTBSCertificate)
	c.NotBefore = cert.NotBefore.UTC()
	c.NotAfter = cert.NotAfter.UTC()
	c.Version = cert.Version
	c.IsCA = cert.BasicConstraintsValid && cert.IsCA
	c.KeyType, c.KeyBits, c.Curve, _ = spkiInfo(cert.RawSubjectPublicKeyInfo)
	if cert.SignatureAlgorithm != x509.UnknownSignatureAlgorithm {
		c.SignatureAlgorithm = cert.SignatureAlgorithm.String()
	} else {
		c.SignatureAlgorithm = sigAlgNameFromTBS(cert.RawTBSCertificate)
	}
	for _, e := range cert.Extensions {
		if e.Id.String() == oidSAN {
			_ = parseSAN(c, e.Value)
		}
	}
}
