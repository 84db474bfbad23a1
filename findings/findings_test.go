package findings

import (
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/iana"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

func ptr[T any](v T) *T { return &v }

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

const (
	leafDN  = "CN=www.example.com"
	interDN = "CN=Example Intermediate,O=Example"
	rootDN  = "CN=Example Root,O=Example"
)

func cert(subject, issuer, cn string) *certinfo.Certificate {
	return &certinfo.Certificate{
		Subject: subject, Issuer: issuer, SubjectCN: cn,
		NotBefore: day("2020-01-01"), NotAfter: day("2030-01-01"),
		KeyType: "RSA", KeyBits: 2048, SignatureAlgorithm: "SHA256-RSA",
		SelfSigned: subject == issuer,
	}
}

// base is a clean TLS 1.2 handshake with no findings: the client sent no
// supported_versions (legacy version TLS 1.2), SNI matches the leaf, and
// the chain leaf -> intermediate -> root is valid at TS.
func base() *tlsconn.Summary {
	leaf := cert(leafDN, interDN, "www.example.com")
	leaf.DNSNames = []string{"www.example.com", "*.example.org"}
	inter := cert(interDN, rootDN, "Example Intermediate")
	inter.IsCA = true
	root := cert(rootDN, rootDN, "Example Root")
	root.IsCA, root.SignatureAlgorithm = true, "SHA1-RSA" // a root's self-signature is never checked
	return &tlsconn.Summary{
		TS:                  day("2025-01-01"),
		Handshake:           1,
		SNI:                 ptr("www.example.com"),
		ClientVersions:      []string{"TLS 1.2"},
		ClientLegacyVersion: ptr("TLS 1.2"),
		Version:             ptr("TLS 1.2"),
		VersionID:           ptr(0x0303),
		ClientCipherSuites:  []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
		CipherSuite:         ptr("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
		CipherSuiteID:       ptr(0xc02f),
		ClientCompression:   []string{"null"},
		Compression:         ptr("null"),
		ClientExtensions:    []string{"server_name", "supported_groups"},
		ServerCertificates:  []*certinfo.Certificate{leaf, inter, root},
		ClientCertificates:  []*certinfo.Certificate{},
		Alerts:              []tlsconn.Alert{},
		Warnings:            []string{},
		Established:         true,
	}
}

func setVersion(v uint16) func(*tlsconn.Summary) {
	return func(s *tlsconn.Summary) {
		s.Version, s.VersionID = ptr(iana.VersionName(v)), ptr(int(v))
	}
}

// offerVersions makes the client send supported_versions.
func offerVersions(vs ...uint16) func(*tlsconn.Summary) {
	return func(s *tlsconn.Summary) {
		s.ClientExtensions = append(s.ClientExtensions, "supported_versions")
		s.ClientVersions = nil
		for _, v := range vs {
			s.ClientVersions = append(s.ClientVersions, iana.VersionName(v))
		}
	}
}

// setSuite makes the server choose id, offered by the client.
func setSuite(id uint16) func(*tlsconn.Summary) {
	return func(s *tlsconn.Summary) {
		s.CipherSuite, s.CipherSuiteID = ptr(iana.CipherSuiteName(id)), ptr(int(id))
		s.ClientCipherSuites = append(s.ClientCipherSuites, iana.CipherSuiteName(id))
	}
}

func leaf(f func(*certinfo.Certificate)) func(*tlsconn.Summary) {
	return func(s *tlsconn.Summary) { f(s.ServerCertificates[0]) }
}

func chainCert(i int, f func(*certinfo.Certificate)) func(*tlsconn.Summary) {
	return func(s *tlsconn.Summary) { f(s.ServerCertificates[i]) }
}

func clientChain(s *tlsconn.Summary) {
	c := cert("CN=alice", interDN, "alice")
	c.NotAfter = day("2024-12-31")
	s.ClientCertificates = []*certinfo.Certificate{c, cert(interDN, rootDN, "Example Intermediate")}
}

func TestCheck(t *testing.T) {
	type mut = func(*tlsconn.Summary)
	tests := []struct {
		name string
		muts []mut
		want []string // IDs in order
		text string   // substring of the joined texts
	}{
		{"clean", nil, nil, ""},

		// Versions.
		{"ssl2", []mut{setVersion(0x0002), func(s *tlsconn.Summary) { s.CipherSuite, s.CipherSuiteID = nil, nil }}, []string{"version-ssl2"}, "negotiated SSL 2.0"},
		{"ssl3", []mut{setVersion(0x0300)}, []string{"version-ssl3"}, "negotiated SSL 3.0"},
		{"tls10", []mut{setVersion(0x0301)}, []string{"version-tls10"}, "negotiated TLS 1.0"},
		{"tls11", []mut{setVersion(0x0302)}, []string{"version-tls11"}, "negotiated TLS 1.1"},
		{"tls13 offered", []mut{offerVersions(0x0304, 0x0303), setVersion(0x0304), setSuite(0x1301)}, nil, ""},
		{"no version known", []mut{func(s *tlsconn.Summary) { s.Version, s.VersionID = nil, nil }}, nil, ""},

		// Unoffered version.
		{"version not in supported_versions", []mut{offerVersions(0x0304), setVersion(0x0303)}, []string{"server-chose-unoffered-version"}, `server chose TLS 1.2, client offered [TLS 1.3]`},
		{"version above legacy", []mut{func(s *tlsconn.Summary) {
			s.ClientLegacyVersion, s.ClientVersions = ptr("TLS 1.0"), []string{"TLS 1.0"}
		}}, []string{"server-chose-unoffered-version"}, "server chose TLS 1.2, client offered up to TLS 1.0"},
		{"tls13 without supported_versions", []mut{setVersion(0x0304), setSuite(0x1301)}, []string{"server-chose-unoffered-version"}, "server chose TLS 1.3"},
		{"version below legacy", []mut{setVersion(0x0301)}, []string{"version-tls10"}, ""},
		{"draft below nothing", []mut{setVersion(0x7f17)}, []string{"server-chose-unoffered-version"}, "TLS 1.3 (draft 23)"},
		{"no ClientHello", []mut{setVersion(0x0304), func(s *tlsconn.Summary) {
			s.ClientLegacyVersion, s.ClientVersions, s.ClientCipherSuites, s.SNI = nil, []string{}, []string{}, nil
		}}, nil, ""},

		// Suites.
		{"null", []mut{setSuite(0x0002)}, []string{"suite-null"}, "TLS_RSA_WITH_NULL_SHA (no encryption)"},
		{"integrity-only tls13", []mut{offerVersions(0x0304), setVersion(0x0304), setSuite(0xc0b4)}, []string{"suite-null"}, "TLS_SHA256_SHA256"},
		{"null null null", []mut{setSuite(0x0000)}, []string{"suite-null", "suite-anon"}, ""},
		{"export rc4", []mut{setSuite(0x0003)}, []string{"suite-export", "suite-rc4"}, "TLS_RSA_EXPORT_WITH_RC4_40_MD5 (export-grade)"},
		{"export des40", []mut{setSuite(0x0008)}, []string{"suite-export", "suite-des"}, ""},
		{"anon", []mut{setSuite(0x0034)}, []string{"suite-anon"}, "TLS_DH_anon_WITH_AES_128_CBC_SHA"},
		{"ecdh anon", []mut{setSuite(0xc018)}, []string{"suite-anon"}, ""},
		{"rc4", []mut{setSuite(0x0005)}, []string{"suite-rc4"}, "TLS_RSA_WITH_RC4_128_SHA (RC4)"},
		{"des", []mut{setSuite(0x0009)}, []string{"suite-des"}, "TLS_RSA_WITH_DES_CBC_SHA"},
		{"3des", []mut{setSuite(0x000a)}, []string{"suite-3des"}, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
		{"cbc sha1 not recommended", []mut{setSuite(0xc013)}, []string{"suite-not-recommended"}, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, IANA Recommended: N"},
		{"discouraged", []mut{setSuite(0x0025)}, []string{"suite-not-recommended"}, "IANA Recommended: D"},
		{"unassigned suite", []mut{setSuite(0x1a2b)}, []string{"suite-not-recommended"}, "0x1a2b, which has no IANA Recommended value"},
		{"tls13 ccm8", []mut{offerVersions(0x0304), setVersion(0x0304), setSuite(0x1305)}, []string{"suite-not-recommended"}, "TLS_AES_128_CCM_8_SHA256"},
		{"tls13 aes", []mut{offerVersions(0x0304), setVersion(0x0304), setSuite(0x1302)}, nil, ""},
		{"chacha", []mut{setSuite(0xcca8)}, nil, ""},
		{"dhe gcm", []mut{setSuite(0x009e)}, nil, ""},

		// Unoffered suite.
		{"suite not offered", []mut{func(s *tlsconn.Summary) { s.ClientCipherSuites = []string{"TLS_AES_128_GCM_SHA256"} }}, []string{"server-chose-unoffered-suite"}, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, which the client did not offer (1 suites offered)"},
		{"client list unknown", []mut{func(s *tlsconn.Summary) { s.ClientCipherSuites = []string{} }}, nil, ""},

		// Compression, SNI.
		{"deflate", []mut{func(s *tlsconn.Summary) { s.Compression = ptr("DEFLATE") }}, []string{"compression"}, "server chose DEFLATE compression"},
		{"compression unknown", []mut{func(s *tlsconn.Summary) { s.Compression = nil }}, nil, ""},
		{"no sni", []mut{func(s *tlsconn.Summary) { s.SNI = nil }}, []string{"no-sni"}, "client sent no server_name"},
		{"empty sni", []mut{func(s *tlsconn.Summary) { s.SNI = ptr("") }}, []string{"no-sni"}, ""},

		// Renegotiation.
		{"second handshake", []mut{func(s *tlsconn.Summary) { s.Handshake = 2 }}, []string{"renegotiation"}, "handshake 2 in the clear"},
		{"encrypted handshake after handshake", []mut{func(s *tlsconn.Summary) {
			s.Warnings = []string{"client sent an encrypted handshake message after the handshake (renegotiation or post-handshake message)"}
		}}, []string{"renegotiation"}, "client sent an encrypted handshake message after the handshake"},
		{"tls13 post-handshake is not renegotiation", []mut{offerVersions(0x0304), setVersion(0x0304), setSuite(0x1301), func(s *tlsconn.Summary) {
			s.Warnings = []string{"server sent an encrypted handshake message after the handshake (renegotiation or post-handshake message)"}
		}}, nil, ""},
		{"other warning", []mut{func(s *tlsconn.Summary) { s.Warnings = []string{"server sent a heartbeat record"} }}, nil, ""},

		// Alerts.
		{"fatal alert", []mut{func(s *tlsconn.Summary) {
			s.Alerts = []tlsconn.Alert{{From: "server", Level: "fatal", Description: "handshake_failure"}}
		}}, []string{"alert-fatal"}, "server sent fatal alert handshake_failure"},
		{"two fatal alerts", []mut{func(s *tlsconn.Summary) {
			s.Alerts = []tlsconn.Alert{{From: "client", Level: "fatal", Description: "bad_certificate"}, {From: "server", Level: "fatal", Description: "decode_error"}}
		}}, []string{"alert-fatal"}, "client sent fatal alert bad_certificate; server sent fatal alert decode_error"},
		{"warning and encrypted alerts", []mut{func(s *tlsconn.Summary) {
			s.Alerts = []tlsconn.Alert{{From: "client", Level: "warning", Description: "close_notify"}, {From: "server", Level: "encrypted", Description: "encrypted"}}
		}}, nil, ""},

		// Validity at capture time.
		{"leaf expired", []mut{leaf(func(c *certinfo.Certificate) { c.NotAfter = day("2024-03-01") }), func(s *tlsconn.Summary) { s.TS = day("2024-05-02") }},
			[]string{"cert-expired"}, `leaf certificate "www.example.com" expired 2024-03-01 (handshake at 2024-05-02)`},
		{"expired same day", []mut{leaf(func(c *certinfo.Certificate) { c.NotAfter = day("2025-01-01") }), func(s *tlsconn.Summary) { s.TS = day("2025-01-01").Add(time.Hour) }},
			[]string{"cert-expired"}, "expired 2025-01-01T00:00:00Z (handshake at 2025-01-01T01:00:00Z)"},
		{"valid at capture time, expired now", []mut{func(s *tlsconn.Summary) {
			s.TS = day("2020-06-01")
			for _, c := range s.ServerCertificates {
				c.NotAfter = day("2021-01-01")
			}
		}}, nil, ""},
		{"not yet valid", []mut{leaf(func(c *certinfo.Certificate) { c.NotBefore = day("2026-01-01") })}, []string{"cert-not-yet-valid"}, "not valid before 2026-01-01 (handshake at 2025-01-01)"},
		{"expired intermediate", []mut{chainCert(1, func(c *certinfo.Certificate) { c.NotAfter = day("2024-01-01") })}, []string{"cert-expired"}, `chain certificate 2 "Example Intermediate" expired`},
		{"expired root ignored", []mut{chainCert(2, func(c *certinfo.Certificate) { c.NotAfter = day("2024-01-01") })}, nil, ""},
		{"no capture time", []mut{func(s *tlsconn.Summary) { s.TS = time.Time{} }, leaf(func(c *certinfo.Certificate) { c.NotAfter = day("2001-01-01") })}, nil, ""},
		{"unknown validity", []mut{leaf(func(c *certinfo.Certificate) { c.NotAfter, c.NotBefore = time.Time{}, time.Time{} })}, nil, ""},

		// Keys.
		{"rsa 1024", []mut{leaf(func(c *certinfo.Certificate) { c.KeyBits = 1024 })}, []string{"cert-weak-key"}, `leaf certificate "www.example.com" has a 1024-bit RSA key`},
		{"rsa 1024 root", []mut{chainCert(2, func(c *certinfo.Certificate) { c.KeyBits = 1024 })}, []string{"cert-weak-key"}, "chain certificate 3"},
		{"rsa unknown size", []mut{leaf(func(c *certinfo.Certificate) { c.KeyBits = 0 })}, nil, ""},
		{"dsa", []mut{leaf(func(c *certinfo.Certificate) { c.KeyType, c.KeyBits = "DSA", 2048 })}, []string{"cert-weak-key"}, "2048-bit DSA key"},
		{"p192", []mut{leaf(func(c *certinfo.Certificate) { c.KeyType, c.KeyBits, c.Curve = "ECDSA", 192, "P-192" })}, []string{"cert-weak-key"}, "192-bit EC key (P-192)"},
		{"p256", []mut{leaf(func(c *certinfo.Certificate) { c.KeyType, c.KeyBits, c.Curve = "ECDSA", 256, "P-256" })}, nil, ""},
		{"ed25519", []mut{leaf(func(c *certinfo.Certificate) { c.KeyType, c.KeyBits = "Ed25519", 256 })}, nil, ""},

		// Signatures.
		{"sha1 leaf", []mut{leaf(func(c *certinfo.Certificate) { c.SignatureAlgorithm = "SHA1-RSA" })}, []string{"cert-weak-signature"}, "is signed with SHA1-RSA"},
		{"md5 intermediate", []mut{chainCert(1, func(c *certinfo.Certificate) { c.SignatureAlgorithm = "MD5-RSA" })}, []string{"cert-weak-signature"}, "chain certificate 2 \"Example Intermediate\" is signed with MD5-RSA"},
		{"ecdsa sha1", []mut{leaf(func(c *certinfo.Certificate) { c.SignatureAlgorithm = "ECDSA-SHA1" })}, []string{"cert-weak-signature"}, ""},
		{"sha384 ecdsa", []mut{leaf(func(c *certinfo.Certificate) { c.SignatureAlgorithm = "ECDSA-SHA384" })}, nil, ""},

		// Self-signed leaf: its SHA-1 self-signature is not reported.
		{"self-signed leaf", []mut{func(s *tlsconn.Summary) {
			c := cert(leafDN, leafDN, "www.example.com")
			c.DNSNames, c.SignatureAlgorithm = []string{"www.example.com"}, "SHA1-RSA"
			s.ServerCertificates = []*certinfo.Certificate{c}
		}}, []string{"cert-self-signed"}, `leaf certificate "www.example.com" is self-signed (CN=www.example.com)`},

		// Chain order.
		{"chain reversed", []mut{func(s *tlsconn.Summary) {
			c := s.ServerCertificates
			s.ServerCertificates = []*certinfo.Certificate{c[0], c[2], c[1]}
		}}, []string{"cert-chain-order"}, `leaf certificate "www.example.com" issuer CN=Example Intermediate,O=Example is not the subject of the next certificate (CN=Example Root,O=Example)`},
		{"leaf only", []mut{func(s *tlsconn.Summary) { s.ServerCertificates = s.ServerCertificates[:1] }}, nil, ""},
		{"unknown issuer", []mut{leaf(func(c *certinfo.Certificate) { c.Issuer = "" })}, nil, ""},

		// Names.
		{"name mismatch", []mut{func(s *tlsconn.Summary) { s.SNI = ptr("mail.example.com") }}, []string{"cert-name-mismatch"}, "SNI mail.example.com does not match leaf certificate names [www.example.com, *.example.org]"},
		{"wildcard SAN", []mut{func(s *tlsconn.Summary) { s.SNI = ptr("A.Example.ORG.") }}, nil, ""},
		{"wildcard two labels", []mut{func(s *tlsconn.Summary) { s.SNI = ptr("a.b.example.org") }}, []string{"cert-name-mismatch"}, ""},
		{"CN ignored when SANs exist", []mut{leaf(func(c *certinfo.Certificate) { c.DNSNames = []string{"other.example.com"} })}, []string{"cert-name-mismatch"}, ""},
		{"CN used without SANs", []mut{leaf(func(c *certinfo.Certificate) { c.DNSNames = nil })}, nil, ""},
		{"IP SNI matches IP SAN", []mut{func(s *tlsconn.Summary) { s.SNI = ptr("192.0.2.1") }, leaf(func(c *certinfo.Certificate) { c.IPAddresses = []string{"::ffff:192.0.2.1"} })}, nil, ""},
		{"IP SNI vs DNS SANs", []mut{func(s *tlsconn.Summary) { s.SNI = ptr("192.0.2.1") }}, []string{"cert-name-mismatch"}, "SNI 192.0.2.1"},
		{"IP SANs listed after DNS ones", []mut{leaf(func(c *certinfo.Certificate) { c.IPAddresses = []string{"192.0.2.9"} }), func(s *tlsconn.Summary) { s.SNI = ptr("192.0.2.1") }}, []string{"cert-name-mismatch"}, "names [www.example.com, *.example.org, 192.0.2.9]"},
		{"CN only, mismatch", []mut{leaf(func(c *certinfo.Certificate) { c.DNSNames = nil }), func(s *tlsconn.Summary) { s.SNI = ptr("mail.example.com") }}, []string{"cert-name-mismatch"}, "names [www.example.com]"},
		{"IP SNI vs CN", []mut{func(s *tlsconn.Summary) { s.SNI = ptr("2001:db8::1") }, leaf(func(c *certinfo.Certificate) { c.DNSNames, c.SubjectCN = nil, "2001:DB8::1" })}, nil, ""},
		{"no names", []mut{leaf(func(c *certinfo.Certificate) { c.DNSNames, c.SubjectCN = nil, "" })}, []string{"cert-name-mismatch"}, "leaf certificate has no DNS name, IP address or CN"},
		{"control characters quoted", []mut{func(s *tlsconn.Summary) { s.SNI = ptr("evil\n.example.com") }}, []string{"cert-name-mismatch"}, `SNI "evil\n.example.com"`},

		// Unparsable.
		{"unparsable without names", []mut{leaf(func(c *certinfo.Certificate) {
			c.DNSNames, c.SubjectCN, c.ParseError = nil, "", "x509: malformed tbs certificate"
		})}, []string{"cert-unparsable"}, `leaf certificate: x509: malformed tbs certificate`},

		// Client certificates.
		{"client expired", []mut{clientChain}, []string{"client-cert-expired"}, `client leaf certificate "alice" expired 2024-12-31`},
		{"client weak, self-signed", []mut{func(s *tlsconn.Summary) {
			c := cert("CN=bob", "CN=bob", "bob")
			c.KeyBits, c.SignatureAlgorithm = 1024, "SHA1-RSA"
			s.ClientCertificates = []*certinfo.Certificate{c}
		}}, []string{"client-cert-weak-key"}, `client leaf certificate "bob" has a 1024-bit RSA key`},
		{"client chain order", []mut{clientChain, func(s *tlsconn.Summary) {
			s.ClientCertificates[0].NotAfter = day("2030-01-01")
			s.ClientCertificates[0].Issuer = "CN=Other"
		}}, []string{"client-cert-chain-order"}, ""},

		// Everything at once: one finding per ID, in table order.
		{"many", []mut{setVersion(0x0300), setSuite(0x0004), func(s *tlsconn.Summary) {
			s.SNI = nil
			s.Compression = ptr("DEFLATE")
			s.Alerts = []tlsconn.Alert{{From: "client", Level: "fatal", Description: "certificate_expired"}}
			s.ServerCertificates[0].NotAfter = day("2024-01-01")
			s.ServerCertificates[1].NotAfter = day("2024-02-01")
			s.ServerCertificates[0].KeyBits = 512
		}, clientChain},
			[]string{"version-ssl3", "suite-rc4", "compression", "no-sni", "alert-fatal", "cert-expired", "cert-weak-key", "client-cert-expired"},
			`leaf certificate "www.example.com" expired 2024-01-01 (handshake at 2025-01-01); chain certificate 2 "Example Intermediate" expired 2024-02-01`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			for _, m := range tt.muts {
				m(s)
			}
			got := Check(s)
			if got == nil {
				t.Fatal("Check returned nil")
			}
			var ids, texts []string
			for _, f := range got {
				ids = append(ids, f.ID)
				texts = append(texts, f.Text)
				if f.Severity != severity[f.ID] || f.Severity == "" {
					t.Errorf("%s: severity %q, table says %q", f.ID, f.Severity, severity[f.ID])
				}
				if strings.ContainsAny(f.Text, "\n\r") || f.Text == "" {
					t.Errorf("%s: text %q is not one line", f.ID, f.Text)
				}
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Errorf("IDs = %q, want %q\ntexts: %q", ids, tt.want, texts)
			}
			if joined := strings.Join(texts, " | "); !strings.Contains(joined, tt.text) {
				t.Errorf("texts %q do not contain %q", joined, tt.text)
			}
			if again := Check(s); !reflect.DeepEqual(again, got) {
				t.Errorf("not deterministic: %v then %v", got, again)
			}
		})
	}
}

func TestMatchHostname(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"example.com", "example.com", true},
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "a.b.example.com", false},
		{"*.example.com", ".example.com", false},
		{"*.Example.COM", "A.EXAMPLE.com", true},
		{"example.com.", "example.com", true},
		{"*.example.com", "a.example.com.", true},
		{"example.com", "example.com..", false},
		{"a.*.example.com", "a.b.example.com", false},
		{"f*.example.com", "foo.example.com", false},
		{"*", "localhost", false},
		{"*.example.com", "*.example.com", false},
		{"www.example.com", "www.example.org", false},
		{"k.example.com", "\u212a.example.com", false}, // Kelvin sign: no Unicode folding
		{"", "", false},
		{"example.com", "", false},
	}
	for _, tt := range tests {
		if got := MatchHostname(tt.pattern, tt.host); got != tt.want {
			t.Errorf("MatchHostname(%q, %q) = %v, want %v", tt.pattern, tt.host, got, tt.want)
		}
	}
}

// splitMatchHostname is MatchHostname as it was first written, with
// strings.Split: the reference for FuzzMatchHostname.
func splitMatchHostname(pattern, host string) bool {
	pattern = strings.TrimSuffix(asciiLower(pattern), ".")
	host = strings.TrimSuffix(asciiLower(host), ".")
	if pattern == "" || host == "" || strings.Contains(host, "*") {
		return false
	}
	pl, hl := strings.Split(pattern, "."), strings.Split(host, ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		if hl[i] == "" || pl[i] == "" {
			return false
		}
		if i == 0 && pl[0] == "*" && len(pl) >= 2 {
			continue
		}
		if pl[i] != hl[i] {
			return false
		}
	}
	return true
}

// FuzzMatchHostname holds MatchHostname to the split-based reference, and
// parseIP to netip.ParseAddr, on any pair of strings.
func FuzzMatchHostname(f *testing.F) {
	for _, s := range [][2]string{
		{"*.example.com", "a.example.com"}, {"*.example.com", "example.com"}, {"a..b", "a..b"},
		{"*.", "a."}, {"*", "*"}, {"example.com.", "EXAMPLE.COM"}, {".a", ".a"}, {"1.2.3.4", "::1"},
		{"fe80::1%eth0", "1.2.3"}, {"\xff.a", "\xff.a"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, host string) {
		if got, want := MatchHostname(pattern, host), splitMatchHostname(pattern, host); got != want {
			t.Errorf("MatchHostname(%q, %q) = %v, the reference says %v", pattern, host, got, want)
		}
		for _, s := range []string{pattern, host} {
			ip, err := parseIP(s)
			wantIP, wantErr := netip.ParseAddr(s)
			if (err == nil) != (wantErr == nil) || ip != wantIP {
				t.Errorf("parseIP(%q) = %v, %v; netip.ParseAddr gives %v, %v", s, ip, err, wantIP, wantErr)
			}
		}
	})
}

// TestOddInputs: nil and out-of-range values never panic.
func TestOddInputs(t *testing.T) {
	inputs := []*tlsconn.Summary{
		nil,
		{},
		{VersionID: ptr(-1), CipherSuiteID: ptr(-5), CipherSuite: ptr(""), ClientLegacyVersion: ptr("")},
		{VersionID: ptr(1 << 20), Version: ptr("x"), CipherSuiteID: ptr(1 << 20), ClientLegacyVersion: ptr("0xzz"), ClientCipherSuites: []string{"a"}, CipherSuite: ptr("b")},
		{SNI: ptr("x"), ServerCertificates: []*certinfo.Certificate{nil, nil}, ClientCertificates: []*certinfo.Certificate{nil, {}}},
		{SNI: ptr("x"), ServerCertificates: []*certinfo.Certificate{{}, nil, {}}},
		{TS: day("2020-01-01"), SNI: ptr(""), ServerCertificates: []*certinfo.Certificate{{ParseError: "bad"}}},
	}
	for i, s := range inputs {
		if got := Check(s); got == nil {
			t.Errorf("input %d: nil findings", i)
		}
	}
}

// TestDocListsEveryID keeps the ID table in doc.go (pasted in the README)
// in step with IDs.
func TestDocListsEveryID(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range IDs {
		row := "| `" + e.ID + "` | " + e.Severity + " |"
		if !strings.Contains(string(doc), row) && !strings.Contains(string(doc), "`"+e.ID+"`,") && !strings.Contains(string(doc), "`"+e.ID+"` |") {
			t.Errorf("doc.go has no row for %s (%s)", e.ID, e.Severity)
		}
		if len(e.ID) == 0 || strings.ToLower(e.ID) != e.ID || strings.ContainsAny(e.ID, " _") {
			t.Errorf("ID %q is not kebab-case", e.ID)
		}
	}
}
