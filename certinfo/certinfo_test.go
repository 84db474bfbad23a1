package certinfo

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// genCase is one certificate made by crypto/x509 and what Parse must say.
type genCase struct {
	name string
	der  func(t testing.TB) []byte
	want Certificate // hashes and length are filled in by the test
}

func genCases() []genCase {
	caDER := func(t testing.TB) (*x509.Certificate, []byte) {
		k := keys()
		der := create(t, caTemplate(), nil, &k.p256.PublicKey, k.p256)
		ca, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return ca, der
	}
	const caDN = "CN=Test Root CA,O=Example Org,C=US"
	return []genCase{
		{
			name: "RSA2048SelfSigned",
			der: func(t testing.TB) []byte {
				k := keys()
				return create(t, &x509.Certificate{
					SerialNumber: big.NewInt(0x0100),
					Subject:      pkix.Name{CommonName: "rsa.example", Organization: []string{"Org"}, OrganizationalUnit: []string{"Unit"}, Locality: []string{"Town"}, Province: []string{"State"}, Country: []string{"DE"}},
					NotBefore:    t0, NotAfter: t1,
					DNSNames: []string{"rsa.example"},
				}, nil, &k.rsa.PublicKey, k.rsa)
			},
			want: Certificate{
				Subject: "CN=rsa.example,OU=Unit,O=Org,L=Town,ST=State,C=DE", SubjectCN: "rsa.example",
				Issuer: "CN=rsa.example,OU=Unit,O=Org,L=Town,ST=State,C=DE",
				Serial: "0100", NotBefore: t0, NotAfter: t1, DNSNames: []string{"rsa.example"},
				KeyType: "RSA", KeyBits: 2048, SignatureAlgorithm: "SHA256-RSA", Version: 3, SelfSigned: true,
			},
		},
		{
			name: "RSAPSSSignature",
			der: func(t testing.TB) []byte {
				k := keys()
				return create(t, &x509.Certificate{
					SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "pss"},
					NotBefore: t0, NotAfter: t1, SignatureAlgorithm: x509.SHA384WithRSAPSS,
				}, nil, &k.rsa.PublicKey, k.rsa)
			},
			want: Certificate{
				Subject: "CN=pss", SubjectCN: "pss", Issuer: "CN=pss", Serial: "07", NotBefore: t0, NotAfter: t1,
				KeyType: "RSA", KeyBits: 2048, SignatureAlgorithm: "SHA384-RSAPSS", Version: 3, SelfSigned: true,
			},
		},
		{
			name: "ECDSAP256CA",
			der: func(t testing.TB) []byte {
				_, der := caDER(t)
				return der
			},
			want: Certificate{
				Subject: caDN, SubjectCN: "Test Root CA", Issuer: caDN, Serial: "01", NotBefore: t0, NotAfter: t1,
				KeyType: "ECDSA", KeyBits: 256, Curve: "P-256", SignatureAlgorithm: "ECDSA-SHA256",
				Version: 3, IsCA: true, SelfSigned: true,
			},
		},
		{
			name: "ECDSAP384LeafAllSANs",
			der: func(t testing.TB) []byte {
				ca, _ := caDER(t)
				k := keys()
				return create(t, &x509.Certificate{
					// High bit set: DER adds a 00 byte, which must be kept.
					SerialNumber:   new(big.Int).SetBytes([]byte{0x80, 0x01, 0x02}),
					Subject:        pkix.Name{CommonName: "leaf.example"},
					NotBefore:      t0,
					NotAfter:       t1,
					DNSNames:       []string{"leaf.example", "*.leaf.example"},
					IPAddresses:    []net.IP{net.IPv4(192, 0, 2, 1), net.ParseIP("2001:db8::1")},
					EmailAddresses: []string{"admin@leaf.example"},
					URIs:           []*url.URL{mustURL("spiffe://leaf.example/svc"), mustURL("https://leaf.example/a%20b?q=1")},
				}, ca, &k.p384.PublicKey, k.p256)
			},
			want: Certificate{
				Subject: "CN=leaf.example", SubjectCN: "leaf.example", Issuer: caDN, Serial: "00800102",
				NotBefore: t0, NotAfter: t1,
				DNSNames:       []string{"leaf.example", "*.leaf.example"},
				IPAddresses:    []string{"192.0.2.1", "2001:db8::1"},
				EmailAddresses: []string{"admin@leaf.example"},
				URIs:           []string{"spiffe://leaf.example/svc", "https://leaf.example/a%20b?q=1"},
				KeyType:        "ECDSA", KeyBits: 384, Curve: "P-384", SignatureAlgorithm: "ECDSA-SHA256", Version: 3,
			},
		},
		{
			name: "Ed25519Expired",
			der: func(t testing.TB) []byte {
				k := keys()
				return create(t, &x509.Certificate{
					SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "old"},
					NotBefore: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC),
					NotAfter:  time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC),
				}, nil, k.ed.Public(), k.ed)
			},
			want: Certificate{
				Subject: "CN=old", SubjectCN: "old", Issuer: "CN=old", Serial: "2A",
				NotBefore: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC),
				KeyType: "Ed25519", KeyBits: 256, SignatureAlgorithm: "Ed25519", Version: 3, SelfSigned: true,
			},
		},
		{
			name: "X25519KeyGeneralizedTime",
			der: func(t testing.TB) []byte {
				// CreateCertificate refuses X25519 subject keys; swap one in.
				k := keys()
				p := split(t, create(t, &x509.Certificate{
					SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "kx"},
					NotBefore: t0, NotAfter: time.Date(2051, 6, 1, 0, 0, 0, 0, time.UTC), // GeneralizedTime from 2050
				}, &x509.Certificate{Subject: pkix.Name{CommonName: "ec issuer"}}, &k.p256.PublicKey, k.p256))
				spki, err := x509.MarshalPKIXPublicKey(k.x25519.PublicKey())
				if err != nil {
					t.Fatal(err)
				}
				p.spki = spki
				return assemble(t, p)
			},
			want: Certificate{
				Subject: "CN=kx", SubjectCN: "kx", Issuer: "CN=ec issuer", Serial: "03",
				NotBefore: t0, NotAfter: time.Date(2051, 6, 1, 0, 0, 0, 0, time.UTC),
				KeyType: "X25519", KeyBits: 253, SignatureAlgorithm: "ECDSA-SHA256", Version: 3,
			},
		},
		{
			name: "NameEscapingAndExtraAttributes",
			der: func(t testing.TB) []byte {
				k := keys()
				return create(t, &x509.Certificate{
					SerialNumber: big.NewInt(5),
					Subject: pkix.Name{
						CommonName:   "a,b+c;d<e>f\"g\\h",
						Organization: []string{" padded "},
						SerialNumber: "SN-1",
						ExtraNames: []pkix.AttributeTypeAndValue{
							{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: "ops@example.com"},
							{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, Value: "example"},
							{Type: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: "#x"},
						},
					},
					NotBefore: t0, NotAfter: t1,
				}, nil, &k.p256.PublicKey, k.p256)
			},
			want: Certificate{
				Subject:   `1.2.3.4=#0c022378,DC=example,emailAddress=ops@example.com,serialNumber=SN-1,CN=a\,b\+c\;d\<e\>f\"g\\h,O=\ padded\ `,
				SubjectCN: "a,b+c;d<e>f\"g\\h",
				Issuer:    `1.2.3.4=#0c022378,DC=example,emailAddress=ops@example.com,serialNumber=SN-1,CN=a\,b\+c\;d\<e\>f\"g\\h,O=\ padded\ `,
				Serial:    "05", NotBefore: t0, NotAfter: t1,
				KeyType: "ECDSA", KeyBits: 256, Curve: "P-256", SignatureAlgorithm: "ECDSA-SHA256", Version: 3, SelfSigned: true,
			},
		},
	}
}

// withHashes returns want completed with der's fingerprints and length.
func withHashes(want Certificate, der []byte) Certificate {
	s256, s1 := sha256.Sum256(der), sha1.Sum(der)
	want.SHA256, want.SHA1, want.Length = hex.EncodeToString(s256[:]), hex.EncodeToString(s1[:]), len(der)
	return want
}

// diff reports each differing field by its JSON name.
func diff(t *testing.T, got, want *Certificate) {
	t.Helper()
	gv, wv := reflect.ValueOf(*got), reflect.ValueOf(*want)
	for i := range gv.NumField() {
		if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			name, _, _ := strings.Cut(gv.Type().Field(i).Tag.Get("json"), ",")
			t.Errorf("%s = %#v, want %#v", name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
}

func TestParseGenerated(t *testing.T) {
	for _, tc := range genCases() {
		t.Run(tc.name, func(t *testing.T) {
			der := tc.der(t)
			want := withHashes(tc.want, der)
			got := Parse(der)
			diff(t, got, &want)
		})
	}
}

// The fallback must format every field exactly like the x509 path, so a
// certificate reads the same whichever parser handled it.
func TestFallbackAgreesWithX509(t *testing.T) {
	for _, tc := range genCases() {
		t.Run(tc.name, func(t *testing.T) {
			der := tc.der(t)
			want := Parse(der)
			got := &Certificate{SHA256: want.SHA256, SHA1: want.SHA1, Length: want.Length}
			if err := fallback(der, got); err != nil {
				t.Fatalf("fallback: %v", err)
			}
			diff(t, got, want)
		})
	}
}

// Simple names (no ExtraNames) format as pkix.Name.String does.
func TestSubjectMatchesPkix(t *testing.T) {
	for _, tc := range genCases() {
		if tc.name == "NameEscapingAndExtraAttributes" {
			continue // Go moves non-standard attributes and spells SERIALNUMBER
		}
		der := tc.der(t)
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		got := Parse(der)
		if got.Subject != cert.Subject.String() || got.Issuer != cert.Issuer.String() {
			t.Errorf("%s: got %q / %q, pkix %q / %q", tc.name, got.Subject, got.Issuer, cert.Subject.String(), cert.Issuer.String())
		}
	}
}

func TestExpiredAt(t *testing.T) {
	c := &Certificate{NotAfter: t1}
	tests := []struct {
		name string
		c    *Certificate
		at   time.Time
		want bool
	}{
		{"before", c, t0, false},
		{"at NotAfter", c, t1, false},
		{"after", c, t1.Add(time.Second), true},
		{"unknown NotAfter", &Certificate{}, t1, false},
	}
	for _, tt := range tests {
		if got := tt.c.ExpiredAt(tt.at); got != tt.want {
			t.Errorf("%s: ExpiredAt = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// JSON names are a public contract.
func TestJSONNames(t *testing.T) {
	b, err := json.Marshal(Parse(genCases()[3].der(t)))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"subject", "issuer", "subject_cn", "serial", "not_before", "not_after", "dns_names",
		"ip_addresses", "email_addresses", "uris", "key_type", "key_bits", "curve", "signature_algorithm",
		"version", "is_ca", "self_signed", "sha256", "sha1", "length"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	if _, ok := m["parse_error"]; ok {
		t.Errorf("parse_error present for a valid certificate")
	}
}
