package certinfo

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// base is an x509-valid leaf whose parts the rejected cases modify.
func base(t testing.TB) tbsParts {
	k := keys()
	ca, err := x509.ParseCertificate(create(t, caTemplate(), nil, &k.p256.PublicKey, k.p256))
	if err != nil {
		t.Fatal(err)
	}
	return split(t, create(t, &x509.Certificate{
		SerialNumber:          big.NewInt(0x1234),
		Subject:               pkix.Name{CommonName: "odd.example", Organization: []string{"Odd"}},
		NotBefore:             t0,
		NotAfter:              t1,
		DNSNames:              []string{"odd.example"},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}, ca, &k.p256.PublicKey, k.p256))
}

// baseWant is what Parse reports for base before any modification.
var baseWant = Certificate{
	Subject: "CN=odd.example,O=Odd", SubjectCN: "odd.example", Issuer: "CN=Test Root CA,O=Example Org,C=US",
	Serial: "1234", NotBefore: t0, NotAfter: t1, DNSNames: []string{"odd.example"},
	KeyType: "ECDSA", KeyBits: 256, Curve: "P-256", SignatureAlgorithm: "ECDSA-SHA256", Version: 3, IsCA: true,
}

// brainpoolSPKI is an id-ecPublicKey SPKI naming brainpoolP256r1. The point
// is a P-256 one: crypto/x509 rejects the curve before looking at it.
func brainpoolSPKI(t testing.TB) []byte {
	point, err := keys().p256.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier([]int{1, 2, 840, 10045, 2, 1})
			b.AddASN1ObjectIdentifier([]int{1, 3, 36, 3, 3, 2, 8, 1, 1, 7})
		})
		b.AddASN1BitString(point)
	})
	return b.BytesOrPanic()
}

func TestRejectedByX509(t *testing.T) {
	tests := []struct {
		name    string
		godebug string // GODEBUG for this case, "" for the test binary's default
		modify  func(t testing.TB, p *tbsParts)
		want    func(c *Certificate)
		errText string // exact ParseError
	}{
		{
			name:    "NegativeSerialRejected",
			godebug: "x509negativeserial=0",
			modify:  func(_ testing.TB, p *tbsParts) { p.serial = integer(0xED, 0xCC) }, // -0x1234
			want:    func(c *Certificate) { c.Serial = "EDCC" },
			errText: "x509: negative serial number",
		},
		{
			// What production sees: //go:debug x509negativeserial=1.
			name:   "NegativeSerialAllowed",
			modify: func(_ testing.TB, p *tbsParts) { p.serial = integer(0xED, 0xCC) },
			want:   func(c *Certificate) { c.Serial = "EDCC" },
		},
		{
			name:    "NonMinimalSerial",
			modify:  func(_ testing.TB, p *tbsParts) { p.serial = integer(0x00, 0x12, 0x34) },
			want:    func(c *Certificate) { c.Serial = "001234" },
			errText: "x509: malformed serial number",
		},
		{
			name:    "BrainpoolCurve",
			modify:  func(t testing.TB, p *tbsParts) { p.spki = brainpoolSPKI(t) },
			want:    func(c *Certificate) { c.Curve = "brainpoolP256r1" },
			errText: "x509: unsupported elliptic curve",
		},
		{
			name: "InvalidUTF8InSubjectCN",
			modify: func(_ testing.TB, p *tbsParts) {
				p.subject = name(atv{oidCN, asn1.UTF8String, "bad\xffname,x"}, atv{[]byte{0x55, 0x04, 0x0a}, asn1.T61String, "Caf\xe9"})
			},
			want: func(c *Certificate) {
				c.Subject, c.SubjectCN = `O=Café,CN=bad\xffname\,x`, `bad\xffname,x`
			},
			errText: "x509: invalid RDNSequence: invalid attribute value: invalid UTF-8 string",
		},
		{
			name: "UnknownAttributeWithNonStringValue",
			modify: func(_ testing.TB, p *tbsParts) {
				p.subject = name(atv{oidCN, asn1.OCTET_STRING, "\x01\x02"}, atv{[]byte{0x2a, 0x03}, asn1.INTEGER, "\x05"})
			},
			want:    func(c *Certificate) { c.Subject, c.SubjectCN = "1.2.3=#020105,CN=#04020102", "" },
			errText: "x509: invalid RDNSequence: invalid attribute value: unsupported string type: 4",
		},
		{
			name: "LaxTimes",
			modify: func(_ testing.TB, p *tbsParts) {
				var b cryptobyte.Builder
				b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(asn1.UTCTime, func(b *cryptobyte.Builder) { b.AddBytes([]byte("2403011200Z")) })
					// x509 accepts a UTCTime without seconds, but not a GeneralizedTime.
					b.AddASN1(asn1.GeneralizedTime, func(b *cryptobyte.Builder) { b.AddBytes([]byte("203403011400+0200")) })
				})
				p.validity = b.BytesOrPanic()
			},
			want:    func(*Certificate) {},
			errText: "x509: malformed GeneralizedTime",
		},
		{
			name: "BadSANKeepsOtherFields",
			modify: func(_ testing.TB, p *tbsParts) {
				// Replace the extensions with a SAN holding a 5-byte IP and a
				// non-ASCII dNSName, then basicConstraints cA=TRUE.
				var b cryptobyte.Builder
				b.AddASN1(asn1.Tag(3).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier([]int{2, 5, 29, 17})
							b.AddASN1(asn1.OCTET_STRING, func(b *cryptobyte.Builder) {
								b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
									b.AddASN1(asn1.Tag(2).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte("h\xe9.example")) })
									b.AddASN1(asn1.Tag(7).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte{1, 2, 3, 4, 5}) })
									b.AddASN1(asn1.Tag(7).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 16)) })
									b.AddASN1(asn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte("a@b")) })
								})
							})
						})
						b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier([]int{2, 5, 29, 19})
							b.AddASN1Boolean(true)
							b.AddASN1(asn1.OCTET_STRING, func(b *cryptobyte.Builder) {
								b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Boolean(true) })
							})
						})
					})
				})
				p.rest = b.BytesOrPanic()
			},
			want: func(c *Certificate) {
				c.DNSNames, c.IPAddresses, c.EmailAddresses = []string{`h\xe9.example`}, []string{"#0102030405", "::"}, []string{"a@b"}
			},
			errText: `x509: SAN dNSName is malformed`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.godebug != "" {
				t.Setenv("GODEBUG", tt.godebug)
			}
			p := base(t)
			tt.modify(t, &p)
			der := assemble(t, p)
			want := withHashes(baseWant, der)
			tt.want(&want)
			want.ParseError = tt.errText
			got := Parse(der)
			diff(t, got, &want)
			if b, err := json.Marshal(got); err != nil || !utf8.Valid(b) {
				t.Errorf("JSON: %v, valid UTF-8 %v", err, utf8.Valid(b))
			}
		})
	}
}

// Truncation at every length: never a panic, hashes always set, and fields
// whose bytes are complete are reported in full.
// An element that cannot be delimited ends the walk with its offset.
func TestFallbackStopsAtBadElement(t *testing.T) {
	p := base(t)
	p.serial = []byte{0x04, 0x01, 0x01} // OCTET STRING where the INTEGER belongs
	der := assemble(t, p)
	want := withHashes(Certificate{Version: 3}, der)
	// 4-byte Certificate and TBS headers, then the 5-byte version.
	want.ParseError = "x509: malformed serial number; fallback: TBSCertificate.serialNumber: malformed at offset 13"
	diff(t, Parse(der), &want)
}

func TestTruncated(t *testing.T) {
	der := assemble(t, base(t))
	full := Parse(der)
	if full.ParseError != "" {
		t.Fatalf("full certificate: %s", full.ParseError)
	}
	cert, _ := x509.ParseCertificate(der)
	subjectEnd := bytes.Index(der, cert.RawSubject) + len(cert.RawSubject)
	validityEnd := bytes.Index(der, cert.RawSubject) // validity precedes subject
	for n := range len(der) {
		c := Parse(der[:n])
		if len(c.SHA256) != 64 || len(c.SHA1) != 40 || c.Length != n {
			t.Fatalf("len %d: hashes %q %q length %d", n, c.SHA256, c.SHA1, c.Length)
		}
		if !strings.HasPrefix(c.ParseError, "x509: ") {
			t.Fatalf("len %d: ParseError %q", n, c.ParseError)
		}
		if !strings.Contains(c.ParseError, "; fallback: ") {
			t.Errorf("len %d: ParseError lacks the fallback's error: %q", n, c.ParseError)
		}
		if n >= validityEnd && (c.Serial != full.Serial || c.Issuer != full.Issuer || !c.NotAfter.Equal(full.NotAfter)) {
			t.Errorf("len %d: serial/issuer/validity not kept: %+v", n, c)
		}
		if n >= subjectEnd && (c.Subject != full.Subject || c.SubjectCN != full.SubjectCN || c.SelfSigned != full.SelfSigned) {
			t.Errorf("len %d: subject not kept: %q", n, c.Subject)
		}
		if n < subjectEnd && c.Subject != "" {
			t.Errorf("len %d: subject %q from incomplete bytes", n, c.Subject)
		}
	}
	// A cut inside the signature keeps everything from the TBS.
	c := Parse(der[:len(der)-3])
	want := *full
	want.SHA256, want.SHA1, want.Length, want.ParseError = c.SHA256, c.SHA1, c.Length, c.ParseError
	diff(t, c, &want)
	if !strings.Contains(c.ParseError, "fallback: Certificate: length") {
		t.Errorf("ParseError %q does not report the truncation", c.ParseError)
	}
}

func TestGarbage(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		fb   string // ParseError after "x509: malformed "
	}{
		{"nil", nil, "certificate; fallback: Certificate: 0 bytes, too short for a header"},
		{"text", []byte("hello, world"), "certificate; fallback: Certificate: tag 0x68 is not SEQUENCE"},
		{"indefinite length", []byte{0x30, 0x80, 0x00, 0x00}, "certificate; fallback: Certificate: unsupported length encoding 0x80"},
		{"empty sequence", []byte{0x30, 0x00}, "tbs certificate; fallback: TBSCertificate: 0 bytes, too short for a header"},
		{"huge length", []byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01}, "certificate; fallback: Certificate: length 4294967295 exceeds remaining 2 (truncated); TBSCertificate: tag 0x02 is not SEQUENCE"},
		{"TBS not a sequence", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, "tbs certificate; fallback: TBSCertificate: tag 0x02 is not SEQUENCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.in)
			want := withHashes(Certificate{}, tt.in)
			want.ParseError = "x509: malformed " + tt.fb
			diff(t, got, &want)
		})
	}
}

func TestReadTime(t *testing.T) {
	tests := []struct {
		tag  asn1.Tag
		in   string
		want time.Time
		err  bool
	}{
		{asn1.UTCTime, "240301120000Z", time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), false},
		{asn1.UTCTime, "491231235959Z", time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{asn1.UTCTime, "500101000000Z", time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{asn1.UTCTime, "680101000000Z", time.Date(1968, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{asn1.UTCTime, "2403011200Z", time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), false},
		{asn1.UTCTime, "240301120000-0130", time.Date(2024, 3, 1, 13, 30, 0, 0, time.UTC), false},
		{asn1.GeneralizedTime, "20500101000000Z", time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{asn1.GeneralizedTime, "20240301120000.5Z", time.Date(2024, 3, 1, 12, 0, 0, 5e8, time.UTC), false},
		{asn1.GeneralizedTime, "20240301120000", time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), false},
		{asn1.UTCTime, "24030112", time.Time{}, true},
		{asn1.UTCTime, "\xff\xfe", time.Time{}, true},
		{asn1.PrintableString, "240301120000Z", time.Time{}, true},
	}
	for _, tt := range tests {
		var b cryptobyte.Builder
		b.AddASN1(tt.tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(tt.in)) })
		s := cryptobyte.String(b.BytesOrPanic())
		got, err := readTime(&s)
		if (err != nil) != tt.err || !got.Equal(tt.want) {
			t.Errorf("readTime(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
		if err != nil && !utf8.ValidString(err.Error()) {
			t.Errorf("error %q is not valid UTF-8", err)
		}
	}
}

func TestOIDString(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{
		{[]byte{0x55, 0x04, 0x03}, "2.5.4.3"},
		{[]byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01}, "1.2.840.113549.1.9.1"},
		{[]byte{0x09, 0x92, 0x26}, "0.9.2342"},
		{[]byte{0x88, 0x37, 0x03}, "2.999.3"},
		// 2^64 as an arc: beyond uint64.
		{[]byte{0x2a, 0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, "1.2.18446744073709551616"},
		{[]byte{0x2a, 0x86}, "#2a86"}, // ends inside an arc
		{nil, "#"},
	}
	for _, tt := range tests {
		if got := oidString(tt.in); got != tt.want {
			t.Errorf("oidString(% x) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapeDNValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{" lead and trail ", `\ lead and trail\ `},
		{"#first but not #second", `\#first but not #second`},
		{`a,b+c"d\e<f>g;h`, `a\,b\+c\"d\\e\<f\>g\;h`},
		{"caf\xc3\xa9", "café"},
		{"bad\xff\xfe", `bad\xff\xfe`},
		{"\xff ", `\xff\ `},
		{"\u00a0nbsp", "\u00a0nbsp"},
	}
	for _, tt := range tests {
		if got := escapeDNValue(tt.in); got != tt.want {
			t.Errorf("escapeDNValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDecodeString(t *testing.T) {
	tests := []struct {
		tag    asn1.Tag
		in     string
		want   string
		wantOK bool
	}{
		{asn1.Tag(30), "\x00h\x00i\x00\x00", "hi", true},            // BMPString with terminator
		{asn1.Tag(30), "\x00h\x00", "", false},                      // odd length
		{asn1.Tag(28), "\x00\x00\x00h\x00\x01\xf6\x00", "h😀", true}, // UniversalString
		{asn1.Tag(28), "\x00\x11\x00\x00", "", false},               // beyond Unicode
		{asn1.T61String, "\xe9", "é", true},
		{asn1.IA5String, "a\xffb", "a\xffb", true}, // kept; escaped by callers
		{asn1.INTEGER, "\x01", "", false},
	}
	for _, tt := range tests {
		var b cryptobyte.Builder
		b.AddASN1(tt.tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(tt.in)) })
		got, ok := decodeString(cryptobyte.String(b.BytesOrPanic()))
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("decodeString(%v, %q) = %q, %v; want %q, %v", tt.tag, tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}
