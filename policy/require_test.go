package policy

import (
	"slices"
	"testing"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

const noSH = "unknown (no ServerHello: server sent fatal alert protocol_version)"

func TestRequirements(t *testing.T) {
	tests := []struct {
		name    string
		require string // YAML under require:
		s       *tlsconn.Summary
		want    []string
	}{
		// version
		{"min holds", "version: {min: 1.2}", tls12(), nil},
		{"min holds for TLS 1.3", "version: {min: tls1.2}", tls13(), nil},
		{"min below", "version: {min: \"TLS 1.2\"}", with(tls12(), func(s *tlsconn.Summary) { s.Version, s.VersionID = ptr("TLS 1.0"), ptr(0x0301) }),
			[]string{"version.min: expected TLS 1.2 or later, got TLS 1.0"}},
		{"SSL 3.0 is below 1.0", "version: {min: \"1.0\"}", with(tls12(), func(s *tlsconn.Summary) { s.Version, s.VersionID = ptr("SSL 3.0"), ptr(0x0300) }),
			[]string{"version.min: expected TLS 1.0 or later, got SSL 3.0"}},
		{"SSL 2.0 is below 1.0", "version: {min: TLSv1.0}", with(tls12(), func(s *tlsconn.Summary) { s.Version, s.VersionID = ptr("SSL 2.0"), ptr(2) }),
			[]string{"version.min: expected TLS 1.0 or later, got SSL 2.0"}},
		{"DTLS 1.2 ranks with TLS 1.2", "version: {min: 1.2, max: 1.2}", with(tls12(), func(s *tlsconn.Summary) { s.Version, s.VersionID = ptr("DTLS 1.2"), ptr(0xfefd) }), nil},
		{"DTLS 1.0 ranks with TLS 1.1", "version: {min: 1.2}", with(tls12(), func(s *tlsconn.Summary) { s.Version, s.VersionID = ptr("DTLS 1.0"), ptr(0xfeff) }),
			[]string{"version.min: expected TLS 1.2 or later, got DTLS 1.0"}},
		{"DTLS 1.3 is above TLS 1.2", "version: {max: 1.2}", with(tls13(), func(s *tlsconn.Summary) { s.Version, s.VersionID = ptr("DTLS 1.3"), ptr(0xfefc) }),
			[]string{"version.max: expected TLS 1.2 or earlier, got DTLS 1.3"}},
		{"max above", "version: {max: 1.2}", tls13(),
			[]string{"version.max: expected TLS 1.2 or earlier, got TLS 1.3"}},
		{"draft version satisfies neither bound", "version: {min: 1.2, max: 1.3}", with(tls13(), func(s *tlsconn.Summary) { s.Version, s.VersionID = ptr("TLS 1.3 (draft 28)"), ptr(0x7f1c) }),
			[]string{"version.min: expected TLS 1.2 or later, got TLS 1.3 (draft 28)", "version.max: expected TLS 1.3 or earlier, got TLS 1.3 (draft 28)"}},
		{"version unknown", "version: {min: 1.2}", refused(),
			[]string{"version.min: expected TLS 1.2 or later, got " + noSH}},
		{"version unknown without alert", "version: {min: 1.2}", with(refused(), func(s *tlsconn.Summary) { s.Alerts = nil }),
			[]string{"version.min: expected TLS 1.2 or later, got unknown (no ServerHello seen)"}},

		// suites
		{"suite allowed", "suites: {allow: [\"TLS_AES_*\", \"TLS_ECDHE_*_GCM_*\"]}", tls12(), nil},
		{"suite not allowed", "suites: {allow: \"TLS_AES_*\"}", tls12(),
			[]string{"suites.allow: expected one of TLS_AES_*, got TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}},
		{"suite denied, case ignored", "suites: {deny: [\"*_cbc_*\"]}", with(tls12(), func(s *tlsconn.Summary) { s.CipherSuite = ptr("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA") }),
			[]string{"suites.deny: expected none of *_cbc_*, got TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA (matches *_cbc_*)"}},
		{"suite not denied", "suites: {deny: [\"*_CBC_*\"]}", tls12(), nil},
		{"suite unknown fails deny", "suites: {deny: [\"*_CBC_*\"]}", refused(),
			[]string{"suites.deny: expected none of *_CBC_*, got " + noSH}},

		// groups
		{"group allowed", "groups: {allow: [x25519, secp256r1]}", tls12(), nil},
		{"group glob does not match a longer name", "groups: {allow: [x25519]}", tls13(),
			[]string{"groups.allow: expected one of x25519, got X25519MLKEM768"}},
		{"group denied", "groups: {deny: [\"x25519*\"]}", tls13(),
			[]string{"groups.deny: expected none of x25519*, got X25519MLKEM768 (matches x25519*)"}},
		{"RSA key exchange: no group fails allow", "groups: {allow: [x25519]}", with(tls12(), func(s *tlsconn.Summary) { s.Group, s.KeyExchange = nil, ptr("RSA") }),
			[]string{"groups.allow: expected one of x25519, got none (RSA key exchange uses no group)"}},
		{"RSA key exchange: no group passes deny", "groups: {deny: [x25519]}", with(tls12(), func(s *tlsconn.Summary) { s.Group, s.KeyExchange = nil, ptr("RSA") }), nil},
		{"TLS 1.2 DHE has no named group", "groups: {allow: [\"ffdhe*\"]}", with(tls12(), func(s *tlsconn.Summary) { s.Group, s.KeyExchange, s.DHBits = nil, ptr("DHE"), 2048 }),
			[]string{"groups.allow: expected one of ffdhe*, got none (DHE with a 2048-bit prime, not a named group)"}},
		{"resumed TLS 1.2 has no key exchange", "groups: {deny: [x25519]}", with(tls12(), func(s *tlsconn.Summary) { s.Group, s.Resumed = nil, ptr(true) }), nil},
		{"ECDHE group not seen", "groups: {deny: [x25519]}", with(tls12(), func(s *tlsconn.Summary) { s.Group = nil }),
			[]string{"groups.deny: expected none of x25519, got unknown (ECDHE group not seen)"}},

		// alpn
		{"alpn allowed", "alpn: {allow: [h2]}", tls12(), nil},
		{"alpn none chosen", "alpn: {allow: [h2]}", with(tls12(), func(s *tlsconn.Summary) { s.ALPN = nil }),
			[]string{"alpn.allow: expected one of h2, got none (the server chose no ALPN protocol)"}},
		{"alpn none chosen passes deny", "alpn: {deny: [\"http/1.*\"]}", with(tls12(), func(s *tlsconn.Summary) { s.ALPN = nil }), nil},
		{"alpn denied", "alpn: {deny: [\"http/1.*\"]}", with(tls12(), func(s *tlsconn.Summary) { s.ALPN = ptr("http/1.1") }),
			[]string{"alpn.deny: expected none of http/1.*, got http/1.1 (matches http/1.*)"}},
		{"alpn encrypted in TLS 1.3", "alpn: {allow: [h2]}", tls13(),
			[]string{"alpn.allow: expected one of h2, got unknown (TLS 1.3 encrypts the server's ALPN choice)"}},
		{"alpn not offered in TLS 1.3", "alpn: {allow: [h2]}", with(tls13(), func(s *tlsconn.Summary) { s.ClientALPN = []string{} }),
			[]string{"alpn.allow: expected one of h2, got none (the client offered no ALPN)"}},

		// client_cert
		{"mtls holds", "client_cert: {requested: true, sent: true}", tls12(), nil},
		{"not requested: one violation", "client_cert: {requested: true, sent: true}", with(tls12(), func(s *tlsconn.Summary) { s.ClientCertRequested, s.ClientCertSent = ptr(false), ptr(false) }),
			[]string{"client_cert.requested: expected true, got false"}},
		{"requested, not sent", "client_cert: {requested: true, sent: true}", with(tls12(), func(s *tlsconn.Summary) { s.ClientCertSent = ptr(false) }),
			[]string{"client_cert.sent: expected true, got false"}},
		{"must not be requested", "client_cert: {requested: false}", tls12(),
			[]string{"client_cert.requested: expected false, got true"}},
		{"TLS 1.3 is unknown, the guess is context", "client_cert: {requested: true, sent: true}", tls13(),
			[]string{"client_cert.requested: expected true, got unknown (TLS 1.3 encrypts the certificate exchange; record sizes suggest true)"}},
		{"TLS 1.3 sent, guess false", "client_cert: {sent: true}", tls13(),
			[]string{"client_cert.sent: expected true, got unknown (TLS 1.3 encrypts the certificate exchange; record sizes suggest false)"}},
		{"TLS 1.3 without a guess", "client_cert: {sent: true}", with(tls13(), func(s *tlsconn.Summary) { s.ClientCertInferred = nil }),
			[]string{"client_cert.sent: expected true, got unknown (TLS 1.3 encrypts the certificate exchange)"}},
		{"resumed session says so", "client_cert: {requested: true}", with(tls12(), func(s *tlsconn.Summary) {
			s.Resumed, s.ClientCertRequested, s.ClientCertSent = ptr(true), ptr(false), ptr(false)
		}), []string{"client_cert.requested: expected true, got false (resumed session: client authentication belongs to the original handshake)"}},
		{"client cert without ServerHello", "client_cert: {requested: true}", refused(),
			[]string{"client_cert.requested: expected true, got " + noSH}},

		// established, sni
		{"established", "established: true", tls12(), nil},
		{"not established", "established: true", refused(),
			[]string{"established: expected true, got false (protocol_version)"}},
		{"must fail", "established: false", tls12(),
			[]string{"established: expected false, got true"}},
		{"sni present", "sni: true", tls12(), nil},
		{"sni absent", "sni: true", with(tls12(), func(s *tlsconn.Summary) { s.SNI = nil }),
			[]string{"sni: expected present, got absent"}},
		{"sni must be absent", "sni: false", tls12(),
			[]string{"sni: expected absent, got present (api.payments.internal)"}},
		{"sni without ClientHello", "sni: true", with(tls12(), func(s *tlsconn.Summary) { s.SNI, s.ClientLegacyVersion = nil, nil }),
			[]string{"sni: expected present, got unknown (no ClientHello seen)"}},

		// certificate
		{"certificate holds", "certificate: {not_expired: true, sni_matches: true, issuer: \"CN=Internal CA*\", min_key_bits: {rsa: 2048, ec: 256}}", tls12(), nil},
		{"leaf expired", "certificate: {not_expired: true}", with(tls12(), func(s *tlsconn.Summary) { s.ServerCertificates[0].NotAfter = day("2026-01-01") }),
			[]string{`certificate.not_expired: expected not expired at capture time, got leaf "api.payments.internal" expired 2026-01-01T00:00:00Z`}},
		{"intermediate expired", "certificate: {not_expired: true}", with(tls12(), func(s *tlsconn.Summary) { s.ServerCertificates[1].NotAfter = day("2026-01-01") }),
			[]string{`certificate.not_expired: expected not expired at capture time, got chain certificate 2 "Internal CA 2" expired 2026-01-01T00:00:00Z`}},
		{"root in the chain is ignored", "certificate: {not_expired: true}", with(tls12(), func(s *tlsconn.Summary) { s.ServerCertificates[2].NotAfter = day("2026-01-01") }), nil},
		{"wildcard names the SNI", "certificate: {sni_matches: true}", with(tls12(), func(s *tlsconn.Summary) { s.SNI = ptr("web.payments.internal") }), nil},
		{"wildcard is one label", "certificate: {sni_matches: true}", with(tls12(), func(s *tlsconn.Summary) { s.SNI = ptr("a.web.payments.internal") }),
			[]string{"certificate.sni_matches: expected leaf certificate names a.web.payments.internal, got leaf names api.payments.internal, *.payments.internal"}},
		{"CN when no SANs", "certificate: {sni_matches: true}", with(tls12(), func(s *tlsconn.Summary) { s.ServerCertificates[0].DNSNames = nil }), nil},
		{"IP SNI against IP SANs", "certificate: {sni_matches: true}", with(tls12(), func(s *tlsconn.Summary) {
			s.SNI = ptr("10.0.0.5")
			s.ServerCertificates[0].IPAddresses = []string{"10.0.0.5"}
		}), nil},
		{"no SNI to match", "certificate: {sni_matches: true}", with(tls12(), func(s *tlsconn.Summary) { s.SNI = nil }),
			[]string{"certificate.sni_matches: expected leaf certificate names the SNI, got no SNI sent"}},
		{"issuer does not match", "certificate: {issuer: [\"CN=Public CA*\", \"CN=Other*\"]}", tls12(),
			[]string{"certificate.issuer: expected issuer matching CN=Public CA*, CN=Other*, got CN=Internal CA 2,O=Example"}},
		{"weak RSA leaf", "certificate: {min_key_bits: {rsa: 2048}}", with(tls12(), func(s *tlsconn.Summary) { s.ServerCertificates[0].KeyBits = 1024 }),
			[]string{`certificate.min_key_bits: expected RSA keys of at least 2048 bits, got leaf "api.payments.internal": RSA 1024 bits`}},
		{"weak EC intermediate", "certificate: {min_key_bits: {rsa: 2048, ec: 256}}", with(tls12(), func(s *tlsconn.Summary) {
			c := s.ServerCertificates[1]
			c.KeyType, c.KeyBits, c.Curve = "ECDSA", 224, "P-224"
		}), []string{`certificate.min_key_bits: expected RSA keys of at least 2048 bits, EC keys of at least 256 bits, got chain certificate 2 "Internal CA 2": ECDSA 224 bits (P-224)`}},
		{"EC threshold leaves RSA alone", "certificate: {min_key_bits: {ec: 384}}", tls12(), nil},
		{"TLS 1.3 certificate is unknown", "certificate: {not_expired: true, issuer: \"CN=*\"}", tls13(), []string{
			"certificate.not_expired: expected not expired at capture time, got unknown (TLS 1.3 encrypts the server's certificate)",
			"certificate.issuer: expected issuer matching CN=*, got unknown (TLS 1.3 encrypts the server's certificate)",
		}},
		{"resumed session sends no certificate", "certificate: {sni_matches: true}", with(tls12(), func(s *tlsconn.Summary) {
			s.Resumed, s.ServerCertificates = ptr(true), []*certinfo.Certificate{}
		}), []string{"certificate.sni_matches: expected leaf certificate names the SNI, got unknown (resumed session: no certificate sent)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, "rules:\n  - name: r\n    require:\n"+indent(tt.require, 6)+"\n")
			got := short(NewChecker(p).Check(tt.s))
			if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestOnUnknownPass: unknown values are skipped, known failures still
// count.
func TestOnUnknownPass(t *testing.T) {
	p := mustParse(t, `
rules:
  - name: r
    on_unknown: pass
    require:
      version: {min: "1.3"}
      client_cert: {requested: true, sent: true}
      certificate: {not_expired: true}
`)
	c := NewChecker(p)
	if got := short(c.Check(tls13())); len(got) != 0 {
		t.Errorf("TLS 1.3: got %q, want nothing", got)
	}
	want := []string{"version.min: expected TLS 1.3 or later, got TLS 1.2", "client_cert.requested: expected true, got false"}
	got := short(c.Check(with(tls12(), func(s *tlsconn.Summary) { s.ClientCertRequested, s.ClientCertSent = ptr(false), ptr(false) })))
	if !slices.Equal(got, want) {
		t.Errorf("TLS 1.2: got %q, want %q", got, want)
	}
}

func TestDenyFindings(t *testing.T) {
	f3des := tlsconn.Finding{ID: "suite-3des", Severity: "medium", Text: "negotiated TLS_RSA_WITH_3DES_EDE_CBC_SHA (3DES, 64-bit blocks (Sweet32))"}
	fNotRec := tlsconn.Finding{ID: "suite-not-recommended", Severity: "low", Text: "negotiated X, IANA Recommended: N"}
	fExpired := tlsconn.Finding{ID: "cert-expired", Severity: "medium", Text: "leaf certificate expired"}
	fNoSNI := tlsconn.Finding{ID: "no-sni", Severity: "info", Text: "client sent no server_name (SNI)"}
	tests := []struct {
		name     string
		deny     string
		findings []tlsconn.Finding
		want     []string
	}{
		{"id glob", `["suite-*"]`, []tlsconn.Finding{f3des, fExpired}, []string{
			"deny_findings: expected no finding matching suite-*, got suite-3des (medium): " + f3des.Text}},
		{"exact id", `cert-expired`, []tlsconn.Finding{f3des, fExpired}, []string{
			"deny_findings: expected no finding matching cert-expired, got cert-expired (medium): leaf certificate expired"}},
		{"severity and above", `[">=medium"]`, []tlsconn.Finding{fNoSNI, fNotRec, f3des, fExpired}, []string{
			"deny_findings: expected no finding matching >=medium, got suite-3des (medium): " + f3des.Text,
			"deny_findings: expected no finding matching >=medium, got cert-expired (medium): leaf certificate expired"}},
		{"bare severity means and above", `[LOW]`, []tlsconn.Finding{fNoSNI, fNotRec}, []string{
			"deny_findings: expected no finding matching >=low, got suite-not-recommended (low): " + fNotRec.Text}},
		{"high lets medium pass", `[">= high"]`, []tlsconn.Finding{f3des, fExpired}, nil},
		{"first matching pattern is named once", `[">=info", "no-sni"]`, []tlsconn.Finding{fNoSNI}, []string{
			"deny_findings: expected no finding matching >=info, got no-sni (info): client sent no server_name (SNI)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, "rules:\n  - name: r\n    deny_findings: "+tt.deny+"\n")
			s := with(tls12(), func(s *tlsconn.Summary) { s.Findings = tt.findings })
			got := short(NewChecker(p).Check(s))
			if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestFindingsComputedWhenAbsent: a Summary built without analyze.Run has
// nil Findings; the checker computes them rather than seeing none.
func TestFindingsComputedWhenAbsent(t *testing.T) {
	p := mustParse(t, "rules:\n  - name: r\n    deny_findings: [version-tls10]\n")
	s := with(tls12(), func(s *tlsconn.Summary) {
		s.Version, s.VersionID, s.ClientVersions, s.ClientLegacyVersion = ptr("TLS 1.0"), ptr(0x0301), []string{"TLS 1.0"}, ptr("TLS 1.0")
		s.Findings = nil
	})
	got := short(NewChecker(p).Check(s))
	want := []string{"deny_findings: expected no finding matching version-tls10, got version-tls10 (medium): negotiated TLS 1.0"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMatch(t *testing.T) {
	at := func(client, server string) *tlsconn.Summary {
		return with(tls12(), func(s *tlsconn.Summary) { s.Client, s.Server = client, server })
	}
	tests := []struct {
		name  string
		match string // YAML under match:
		s     *tlsconn.Summary
		want  bool
	}{
		{"empty match", "{}", tls12(), true},
		{"address and port", `server: "10.0.0.5:8443"`, tls12(), true},
		{"other port", `server: "10.0.0.5:443"`, tls12(), false},
		{"address only", `server: 10.0.0.5`, tls12(), true},
		{"port only", `server: ":8443"`, tls12(), true},
		{"port only, other", `server: ":443"`, tls12(), false},
		{"CIDR", `server: 10.0.0.0/8`, tls12(), true},
		{"CIDR outside", `server: 10.1.0.0/16`, tls12(), false},
		{"CIDR and port", `server: "10.0.0.0/24:8443"`, tls12(), true},
		{"list is any of", `server: [":443", "192.0.2.1", "10.0.0.5"]`, tls12(), true},
		{"IPv6 with port", `server: "[2001:db8::1]:443"`, at("[2001:db8::9]:5000", "[2001:db8::1]:443"), true},
		{"IPv6 network", `server: "2001:db8::/32"`, at("[2001:db8::9]:5000", "[2001:db8::1]:443"), true},
		{"IPv6 network and port", `server: "[2001:db8::/32]:444"`, at("[2001:db8::9]:5000", "[2001:db8::1]:443"), false},
		{"IPv4-mapped peer matches IPv4", `server: 10.0.0.0/8`, at("[::ffff:10.0.0.9]:5000", "[::ffff:10.0.0.5]:8443"), true},
		{"IPv4 does not match IPv6", `server: 10.0.0.0/8`, at("[2001:db8::9]:5000", "[2001:db8::1]:443"), false},
		{"client CIDR", `client: 10.0.0.0/29`, tls12(), false},
		{"client CIDR holds", `client: 10.0.0.8/29`, tls12(), true},
		{"sni glob ignores case", `sni: "*.PAYMENTS.internal"`, tls12(), true},
		{"sni glob star crosses dots", `sni: "*.internal"`, tls12(), true},
		{"sni glob miss", `sni: "*.example.com"`, tls12(), false},
		{"no sni matches empty", `sni: ""`, with(tls12(), func(s *tlsconn.Summary) { s.SNI = nil }), true},
		{"sni present does not match empty", `sni: ""`, tls12(), false},
		{"sni needs one char", `sni: "?*"`, with(tls12(), func(s *tlsconn.Summary) { s.SNI = nil }), false},
		{"ja4 glob", `client_ja4: "t13d*"`, tls13(), true},
		{"ja4 glob miss", `client_ja4: "t13d*"`, tls12(), false},
		{"ja3", `client_ja3: "262f4a21*"`, tls12(), true},
		{"all must hold", "server: \":8443\"\nsni: \"*.example.com\"", tls12(), false},
		{"all hold", "server: \":8443\"\nsni: \"api.*\"\nclient_ja4: \"t12*\"", tls12(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, "rules:\n  - name: r\n    match:\n"+indent(tt.match, 6)+"\n    require: {version: {min: 1.3}}\n")
			c := NewChecker(p)
			c.Check(tt.s)
			if got := c.Finish().Rules[0].Matched == 1; got != tt.want {
				t.Errorf("matched = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "a/b.c", true},
		{"TLS_AES_*", "TLS_AES_128_GCM_SHA256", true},
		{"TLS_AES_*", "xTLS_AES_128", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"[ab]x", "bx", true},
		{"[!ab]x", "bx", false},
		{"[^ab]x", "cx", true},
		{"[a-c]", "B", true}, // case ignored
		{"[]]", "]", true},
		{"[!]]", "a", true},
		{`\*`, "*", true},
		{`\*`, "a", false},
		{"a.b", "axb", false}, // regexp metacharacters are literal
		{"(x)+", "(x)+", true},
		{"é*", "ÉTÉ", true},
		{"[\\]]", "]", true},
	}
	for _, tt := range tests {
		g, err := compileGlob(tt.pattern)
		if err != nil {
			t.Errorf("compileGlob(%q): %v", tt.pattern, err)
			continue
		}
		if got := g.match(tt.s); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
	for _, bad := range []string{"[", "[a", "a\\", "[z-a]", "[\\", "\xff"} {
		if _, err := compileGlob(bad); err == nil {
			t.Errorf("compileGlob(%q) accepted a bad pattern", bad)
		}
	}
}
