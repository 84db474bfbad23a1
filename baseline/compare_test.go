package baseline

import (
	"reflect"
	"testing"

	"github.com/tlsinspect/tlsinspect/tlsconn"
)

const (
	gcm128 = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
	gcm256 = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
	cbc    = "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
	des3   = "TLS_RSA_WITH_3DES_EDE_CBC_SHA"
	rc4    = "TLS_RSA_WITH_RC4_128_SHA"
)

func TestCompare(t *testing.T) {
	d := func(kind, old, cur string) Drift { return drift("a.test", kind, old, cur) }
	tests := []struct {
		name     string
		old, cur []*tlsconn.Summary
		want     []Drift
	}{
		{"same", []*tlsconn.Summary{hs()}, []*tlsconn.Summary{hs(), hs()}, nil},
		{"new-server",
			[]*tlsconn.Summary{hs()},
			[]*tlsconn.Summary{hs(), hs(sni(ptr("b.test")))},
			[]Drift{drift("b.test", KindNewServer, "", "1 handshake, 1 established")}},
		{"lost-server",
			[]*tlsconn.Summary{hs(), hs(sni(ptr("b.test")), failed)},
			[]*tlsconn.Summary{hs()},
			[]Drift{drift("b.test", KindLostServer, "1 handshake, 0 established", "")}},
		{"version-downgrade",
			[]*tlsconn.Summary{hs()},
			[]*tlsconn.Summary{hs(), hs(version("TLS 1.0", 0x0301))},
			[]Drift{d(KindVersionDowngrade, "TLS 1.2", "TLS 1.0")}},
		{"version-downgrade to SSL 3.0 below TLS 1.0",
			[]*tlsconn.Summary{hs(version("TLS 1.0", 0x0301))},
			[]*tlsconn.Summary{hs(version("SSL 3.0", 0x0300))},
			[]Drift{d(KindVersionDowngrade, "TLS 1.0", "SSL 3.0")}},
		{"version-upgrade: higher version",
			[]*tlsconn.Summary{hs()},
			[]*tlsconn.Summary{hs(version("TLS 1.3", 0x0304))},
			[]Drift{d(KindVersionUpgrade, "TLS 1.2", "TLS 1.3")}},
		{"version-upgrade: lowest rose",
			[]*tlsconn.Summary{hs(), hs(version("TLS 1.3", 0x0304))},
			[]*tlsconn.Summary{hs(version("TLS 1.3", 0x0304))},
			[]Drift{d(KindVersionUpgrade, "TLS 1.2", "TLS 1.3")}},
		{"version down and up",
			[]*tlsconn.Summary{hs()},
			[]*tlsconn.Summary{hs(version("TLS 1.1", 0x0302)), hs(version("TLS 1.3", 0x0304))},
			[]Drift{d(KindVersionDowngrade, "TLS 1.2", "TLS 1.1"), d(KindVersionUpgrade, "TLS 1.2", "TLS 1.3")}},
		{"TLS 1.3 draft sits between 1.2 and 1.3",
			[]*tlsconn.Summary{hs(version("TLS 1.3", 0x0304))},
			[]*tlsconn.Summary{hs(version("TLS 1.3", 0x0304)), hs(version("TLS 1.3 (draft 23)", 0x7f17), alpn(nil))},
			[]Drift{d(KindVersionDowngrade, "TLS 1.3", "TLS 1.3 (draft 23)")}},
		{"suite-added",
			[]*tlsconn.Summary{hs()},
			[]*tlsconn.Summary{hs(), hs(suite(gcm256, 0xc030))},
			[]Drift{d(KindSuiteAdded, "", gcm256)}},
		{"suite-removed",
			[]*tlsconn.Summary{hs(), hs(suite(gcm256, 0xc030))},
			[]*tlsconn.Summary{hs()},
			[]Drift{d(KindSuiteRemoved, gcm256, "")}},
		{"suite-downgrade: CBC after AEAD",
			[]*tlsconn.Summary{hs()},
			[]*tlsconn.Summary{hs(suite(cbc, 0xc013))},
			[]Drift{
				d(KindSuiteAdded, "", cbc),
				d(KindSuiteRemoved, gcm128, ""),
				d(KindSuiteDowngrade, gcm128+" (recommended)", cbc+" (not recommended)"),
			}},
		{"suite-downgrade: 3DES after CBC",
			[]*tlsconn.Summary{hs(suite(cbc, 0xc013))},
			[]*tlsconn.Summary{hs(suite(cbc, 0xc013)), hs(suite(des3, 0x000a))},
			[]Drift{d(KindSuiteAdded, "", des3), d(KindSuiteDowngrade, cbc+" (not recommended)", des3+" (3DES)")}},
		{"suite-downgrade: RC4 after 3DES",
			[]*tlsconn.Summary{hs(suite(des3, 0x000a))},
			[]*tlsconn.Summary{hs(suite(rc4, 0x0005))},
			[]Drift{d(KindSuiteAdded, "", rc4), d(KindSuiteRemoved, des3, ""), d(KindSuiteDowngrade, des3+" (3DES)", rc4+" (broken)")}},
		{"stronger suite only is no downgrade",
			[]*tlsconn.Summary{hs(suite(cbc, 0xc013))},
			[]*tlsconn.Summary{hs()},
			[]Drift{d(KindSuiteAdded, "", gcm128), d(KindSuiteRemoved, cbc, "")}},
		{"group-added",
			[]*tlsconn.Summary{hs()},
			[]*tlsconn.Summary{hs(), hs(group("secp256r1"))},
			[]Drift{d(KindGroupAdded, "", "secp256r1")}},
		{"group-removed",
			[]*tlsconn.Summary{hs(version("TLS 1.3", 0x0304), group("X25519MLKEM768"))},
			[]*tlsconn.Summary{hs(version("TLS 1.3", 0x0304), group("x25519"))},
			[]Drift{d(KindGroupAdded, "", "x25519"), d(KindGroupRemoved, "X25519MLKEM768", "")}},
		{"alpn-changed",
			[]*tlsconn.Summary{hs()},
			[]*tlsconn.Summary{hs(alpn(ptr("http/1.1")))},
			[]Drift{d(KindALPNChanged, "h2", "http/1.1")}},
		{"alpn-changed: none chosen",
			[]*tlsconn.Summary{hs()},
			[]*tlsconn.Summary{hs(), hs(alpn(nil))},
			[]Drift{d(KindALPNChanged, "h2", "(none), h2")}},
		{"alpn unknown in TLS 1.3: no drift",
			[]*tlsconn.Summary{hs(version("TLS 1.3", 0x0304)), hs()},
			[]*tlsconn.Summary{hs(version("TLS 1.3", 0x0304))},
			[]Drift{d(KindVersionUpgrade, "TLS 1.2", "TLS 1.3")}},
		{"client-auth-dropped",
			[]*tlsconn.Summary{hs(clientAuth(yes, yes))},
			[]*tlsconn.Summary{hs(clientAuth(no, no))},
			[]Drift{d(KindClientAuthDropped, "yes 1, no 0, unknown 0", "yes 0, no 1, unknown 0")}},
		{"client-auth-added",
			[]*tlsconn.Summary{hs(clientAuth(no, no))},
			[]*tlsconn.Summary{hs(clientAuth(yes, yes))},
			[]Drift{d(KindClientAuthAdded, "yes 0, no 1, unknown 0", "yes 1, no 0, unknown 0")}},
		{"client-cert-no-longer-sent",
			[]*tlsconn.Summary{hs(clientAuth(yes, yes))},
			[]*tlsconn.Summary{hs(clientAuth(yes, no))},
			[]Drift{d(KindClientCertNoLongerSent, "yes 1, no 0, unknown 0", "yes 0, no 1, unknown 0")}},
		{"client auth unknown in TLS 1.3: no drift",
			[]*tlsconn.Summary{hs(version("TLS 1.3", 0x0304), clientAuth(yes, yes))},
			[]*tlsconn.Summary{hs(version("TLS 1.3", 0x0304))},
			nil},
		{"resumption does not drop client auth",
			[]*tlsconn.Summary{hs(clientAuth(yes, yes))},
			[]*tlsconn.Summary{hs(resumed)},
			nil},
		{"client cert refused: failing, not no-longer-sent",
			[]*tlsconn.Summary{hs(clientAuth(yes, yes))},
			[]*tlsconn.Summary{hs(clientAuth(yes, yes)), hs(clientAuth(yes, no), failed)},
			[]Drift{d(KindHandshakesFailing, "1 established, 0 failed", "1 established, 1 failed")}},
		{"new-certificate",
			[]*tlsconn.Summary{hs()},
			[]*tlsconn.Summary{hs(leaf("bb22", "CN=Test CA,O=test"))},
			[]Drift{d(KindNewCertificate, "", "bb22")}},
		{"new-issuer",
			[]*tlsconn.Summary{hs()},
			[]*tlsconn.Summary{hs(leaf("cc33", "CN=Proxy CA"))},
			[]Drift{d(KindNewCertificate, "", "cc33"), d(KindNewIssuer, "", "CN=Proxy CA")}},
		{"new certificate refused by clients",
			[]*tlsconn.Summary{hs()},
			[]*tlsconn.Summary{hs(leaf("cc33", "CN=Proxy CA"), failed)},
			[]Drift{d(KindNewCertificate, "", "cc33"), d(KindNewIssuer, "", "CN=Proxy CA"),
				d(KindHandshakesFailing, "1 established, 0 failed", "0 established, 1 failed")}},
		{"new-client-fingerprint",
			[]*tlsconn.Summary{hs()},
			[]*tlsconn.Summary{hs(ja4("t13d1516h2_8daaf6152771_b0da82dd1658"))},
			[]Drift{d(KindNewClientFingerprint, "", "t13d1516h2_8daaf6152771_b0da82dd1658")}},
		{"JA3 alone is not compared",
			[]*tlsconn.Summary{hs()},
			[]*tlsconn.Summary{hs(func(s *tlsconn.Summary) { s.JA3 = "ffff" })},
			nil},
		{"handshakes-failing: none established any more",
			[]*tlsconn.Summary{hs(), hs(failed)},
			[]*tlsconn.Summary{hs(failed)},
			[]Drift{d(KindHandshakesFailing, "1 established, 1 failed", "0 established, 1 failed")}},
		{"failures as before: no drift",
			[]*tlsconn.Summary{hs(), hs(failed)},
			[]*tlsconn.Summary{hs(), hs(failed), hs(failed)},
			nil},
		{"no SNI: keyed by address, ports matter",
			[]*tlsconn.Summary{hs(sni(nil))},
			[]*tlsconn.Summary{hs(sni(nil)), hs(sni(ptr("")), addr("10.0.0.2:8443"))},
			[]Drift{drift("10.0.0.2:8443", KindNewServer, "", "1 handshake, 1 established")}},
		{"SNI: addresses are information only",
			[]*tlsconn.Summary{hs()},
			[]*tlsconn.Summary{hs(addr("10.9.9.9:1234")), hs(addr("[2001:db8::1]:443"))},
			nil},
		{"an SNI spelled like an address is another server",
			[]*tlsconn.Summary{hs(sni(nil))},
			[]*tlsconn.Summary{hs(sni(ptr("10.0.0.2:443")))},
			[]Drift{
				drift("10.0.0.2:443", KindNewServer, "", "1 handshake, 1 established"),
				drift("10.0.0.2:443", KindLostServer, "1 handshake, 1 established", ""),
			}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(build(tt.old...), build(tt.cur...))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Compare:\n got %q\nwant %q", got, tt.want)
			}
			// The opposite direction and the baseline against itself
			// must not panic, and a baseline never drifts from itself.
			_ = Compare(build(tt.cur...), build(tt.old...))
			if self := Compare(build(tt.cur...), build(tt.cur...)); self != nil {
				t.Errorf("Compare(cur, cur) = %q", self)
			}
		})
		for _, w := range tt.want {
			covered[w.Kind] = true
		}
	}
	for _, k := range Kinds {
		if !covered[k.Kind] {
			t.Errorf("kind %s has no test case", k.Kind)
		}
	}
}

func TestDowngradeFlags(t *testing.T) {
	want := map[string]bool{
		KindVersionDowngrade:       true,
		KindSuiteDowngrade:         true,
		KindClientAuthDropped:      true,
		KindClientCertNoLongerSent: true,
		KindNewIssuer:              true,
		KindHandshakesFailing:      true,
	}
	if len(Kinds) != 17 {
		t.Errorf("%d kinds, want 17", len(Kinds))
	}
	for _, k := range Kinds {
		if k.Downgrade != want[k.Kind] {
			t.Errorf("%s: Downgrade = %t", k.Kind, k.Downgrade)
		}
		if d := drift("x", k.Kind, "", ""); d.Downgrade != k.Downgrade {
			t.Errorf("drift(%s).Downgrade = %t", k.Kind, d.Downgrade)
		}
	}
	if drift("x", "no-such-kind", "", "").Downgrade {
		t.Error("an unknown kind is a downgrade")
	}
}

// Drifts a full set cannot support are not claimed.
func TestCompareDroppedValues(t *testing.T) {
	small := func(maxServers, maxValues int, ss ...*tlsconn.Summary) *Baseline {
		b := NewBuilder()
		b.maxServers, b.maxValues = maxServers, maxValues
		for _, s := range ss {
			b.Add(s)
		}
		return b.Baseline()
	}
	tests := []struct {
		name     string
		old, cur *Baseline
		want     []Drift
	}{
		{"old set full: no added",
			small(10, 1, hs(), hs(ja4("j2"))),
			small(10, 10, hs(ja4("j2"))),
			nil},
		{"new set full: no removed",
			small(10, 10, hs(suite(gcm256, 0xc030))),
			small(10, 1, hs(), hs(suite(gcm256, 0xc030))),
			[]Drift{drift("a.test", KindSuiteAdded, "", gcm128)}},
		{"old dropped servers: no new-server",
			small(1, 10, hs(), hs(sni(ptr("b.test")))),
			small(10, 10, hs(), hs(sni(ptr("b.test")))),
			nil},
		{"new dropped servers: no lost-server",
			small(10, 10, hs(), hs(sni(ptr("b.test")))),
			small(1, 10, hs(), hs(sni(ptr("b.test")))),
			nil},
		{"ALPN set full: not compared",
			small(10, 1, hs(), hs(alpn(ptr("http/1.1")))),
			small(10, 10, hs(alpn(ptr("http/1.1")))),
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Compare(tt.old, tt.cur); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Compare:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestCompareNil(t *testing.T) {
	bl := build(hs())
	if got := Compare(nil, nil); got != nil {
		t.Errorf("Compare(nil, nil) = %q", got)
	}
	if got := Compare(nil, bl); len(got) != 1 || got[0].Kind != KindNewServer {
		t.Errorf("Compare(nil, bl) = %q", got)
	}
	if got := Compare(bl, nil); len(got) != 1 || got[0].Kind != KindLostServer {
		t.Errorf("Compare(bl, nil) = %q", got)
	}
}

func TestCompareOrder(t *testing.T) {
	old := build(hs(), hs(sni(ptr("b.test"))), hs(sni(ptr("c.test"))))
	cur := build(
		hs(sni(ptr("c.test")), version("TLS 1.0", 0x0301), ja4("z")),
		hs(sni(ptr("b.test")), leaf("11", "CN=B"), leaf("22", "CN=A")),
		hs(suite(cbc, 0xc013)),
	)
	got := Compare(old, cur)
	var lines []string
	for _, d := range got {
		lines = append(lines, d.String())
	}
	want := []string{
		"a.test: suite-added: " + cbc,
		"a.test: suite-removed: " + gcm128,
		"a.test: suite-downgrade (downgrade): " + gcm128 + " (recommended) -> " + cbc + " (not recommended)",
		"b.test: new-certificate: 22",
		"b.test: new-issuer (downgrade): CN=A",
		"c.test: version-downgrade (downgrade): TLS 1.2 -> TLS 1.0",
		"c.test: new-client-fingerprint: z",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("got\n%q\nwant\n%q", lines, want)
	}
}

func TestDriftString(t *testing.T) {
	tests := []struct {
		d    Drift
		want string
	}{
		{Drift{Server: "a.test", Kind: KindVersionDowngrade, Downgrade: true, Old: "TLS 1.2", New: "TLS 1.0"},
			"a.test: version-downgrade (downgrade): TLS 1.2 -> TLS 1.0"},
		{Drift{Server: "a.test", Kind: KindSuiteAdded, New: "X"}, "a.test: suite-added: X"},
		{Drift{Server: "a.test", Kind: KindSuiteRemoved, Old: "X"}, "a.test: suite-removed: X"},
		{Drift{Server: "a.test", Kind: KindLostServer}, "a.test: lost-server"},
		{Drift{Server: "evil\x1b[31m.test", Kind: KindNewIssuer, Downgrade: true, New: "CN=\u202eAC\\x41\n"},
			`evil\x1b[31m.test: new-issuer (downgrade): CN=\u202eAC\\x41\x0a`},
		{Drift{Server: "bad\xff\xc2\x85", Kind: KindNewServer, New: "caf\u00e9 \u2028"},
			`bad\xff\u0085: new-server: café \u2028`},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestSuiteClass(t *testing.T) {
	tests := []struct {
		name string
		id   int
		want int
	}{
		{"TLS_AES_128_GCM_SHA256", 0x1301, classRecommended},
		{"TLS_CHACHA20_POLY1305_SHA256", 0x1303, classRecommended},
		{gcm128, 0xc02f, classRecommended},
		{"TLS_AES_128_CCM_8_SHA256", 0x1305, classNotRecommended},
		{"TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009c, classNotRecommended}, // no forward secrecy
		{cbc, 0xc013, classNotRecommended},
		{"0x1a2b", 0x1a2b, classNotRecommended},
		{"out of range", 0x10000, classNotRecommended},
		{des3, 0x000a, class3DES},
		{rc4, 0x0005, classBroken},
		{"TLS_RSA_WITH_NULL_SHA", 0x0002, classBroken},
		{"TLS_RSA_EXPORT_WITH_RC4_40_MD5", 0x0003, classBroken},
		{"TLS_DH_anon_WITH_AES_128_GCM_SHA256", 0x00a6, classBroken},
		{"TLS_RSA_WITH_DES_CBC_SHA", 0x0009, classBroken},
		{"TLS_SHA256_SHA256", 0xc0b4, classBroken},
	}
	for _, tt := range tests {
		if got := suiteClass(CodePoint{Name: tt.name, ID: tt.id}); got != tt.want {
			t.Errorf("suiteClass(%s) = %s, want %s", tt.name, classNames[got], classNames[tt.want])
		}
	}
}

func TestVersionRank(t *testing.T) {
	order := []int{0x0002, 0x0300, 0x0301, 0x0302, 0x0303, 0x7f17, 0x0304}
	for i := 1; i < len(order); i++ {
		a, _ := versionRank(order[i-1])
		b, _ := versionRank(order[i])
		if a >= b {
			t.Errorf("rank(%#04x) = %d, not below rank(%#04x) = %d", order[i-1], a, order[i], b)
		}
	}
	for _, id := range []int{0x0a0a, 0x1234, -1, 0x7f0000} {
		if r, ok := versionRank(id); ok {
			t.Errorf("rank(%#x) = %d, want unranked", id, r)
		}
	}
}
