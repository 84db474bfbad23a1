package certinfo

import (
	"crypto/x509"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	for _, tc := range genCases() {
		der := tc.der(f)
		f.Add(der)
		f.Add(der[:len(der)/2])
	}
	p := base(f)
	p.spki = brainpoolSPKI(f)
	f.Add(assemble(f, p))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, der []byte) {
		c := Parse(der)
		if len(c.SHA256) != 64 || len(c.SHA1) != 40 || c.Length != len(der) {
			t.Fatalf("hashes %q %q length %d for %d bytes", c.SHA256, c.SHA1, c.Length, len(der))
		}
		_, err := x509.ParseCertificate(der)
		if (err == nil) != (c.ParseError == "") {
			t.Fatalf("x509 error %v but ParseError %q", err, c.ParseError)
		}
		if c.ParseError != "" && !strings.HasPrefix(c.ParseError, "x509: ") {
			t.Fatalf("ParseError %q", c.ParseError)
		}
		// Every string must survive JSON unchanged: valid UTF-8 throughout.
		for _, s := range append([]string{c.Subject, c.Issuer, c.SubjectCN, c.Serial, c.KeyType, c.Curve,
			c.SignatureAlgorithm, c.ParseError}, append(append(append(c.DNSNames, c.IPAddresses...), c.EmailAddresses...), c.URIs...)...) {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q", s)
			}
		}
		if _, err := json.Marshal(c); err != nil {
			t.Fatal(err)
		}
	})
}
