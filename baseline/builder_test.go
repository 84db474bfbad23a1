package baseline

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tlsinspect/tlsinspect/tlsconn"
)

func TestBuilder(t *testing.T) {
	tls13 := []mod{version("TLS 1.3", 0x0304), suite("TLS_AES_128_GCM_SHA256", 0x1301), group("X25519MLKEM768")}
	set := func(vs ...string) Set { return Set{Values: vs} }
	tests := []struct {
		name string
		in   []*tlsconn.Summary
		want *Baseline
	}{
		{"empty", nil, &Baseline{Format: 1, Servers: []Server{}}},
		{"full, resumed, failed and TLS 1.3 handshakes",
			[]*tlsconn.Summary{
				hs(),
				hs(resumed, at(t0.Add(time.Hour))),
				hs(failed, leaf("bb", "CN=Other"), ja4("j2"), version("TLS 1.0", 0x0301), at(t0.Add(-time.Hour).In(time.FixedZone("X", 3600)))),
				hs(tls13...),
			},
			&Baseline{
				Format: 1, First: t0.Add(-time.Hour), Last: t0.Add(time.Hour), Handshakes: 4,
				Servers: []Server{{
					Name: "a.test", SNI: true,
					Addresses:  set("10.0.0.2:443"),
					Handshakes: 4, Established: 3, Failed: 1, Resumed: 1,
					// The failed TLS 1.0 handshake shapes no negotiated value.
					Versions:       set("TLS 1.2", "TLS 1.3"),
					LowestVersion:  &CodePoint{"TLS 1.2", 0x0303},
					HighestVersion: &CodePoint{"TLS 1.3", 0x0304},
					CipherSuites:   set("TLS_AES_128_GCM_SHA256", gcm128),
					// Both recommended: the first by name.
					WeakestSuite: &CodePoint{"TLS_AES_128_GCM_SHA256", 0x1301},
					Groups:       set("X25519MLKEM768", "x25519"),
					ALPN:         set("h2"), // TLS 1.3 hides it
					// The resumed and the TLS 1.3 handshakes do not say.
					ClientCertRequested: Tally{No: 1, Unknown: 2},
					ClientCertSent:      Tally{No: 1, Unknown: 2},
					// Presented whatever the outcome.
					LeafSHA256:  set("aa11", "bb"),
					LeafIssuers: set("CN=Other", "CN=Test CA,O=test"),
					JA4:         set("j2", "t12d1011h2_aaaa_bbbb"),
					JA3:         set("0123456789abcdef0123456789abcdef"),
				}},
			}},
		{"no or empty SNI: keyed by address; no ALPN before TLS 1.3 is recorded as none",
			[]*tlsconn.Summary{hs(sni(nil), alpn(nil)), hs(sni(ptr("")), addr("[2001:db8::1]:443"), alpn(nil), at(time.Time{}))},
			&Baseline{
				Format: 1, First: t0, Last: t0, Handshakes: 2,
				Servers: []Server{
					{Name: "10.0.0.2:443", Addresses: set("10.0.0.2:443"), Handshakes: 1, Established: 1,
						Versions: set("TLS 1.2"), LowestVersion: &CodePoint{"TLS 1.2", 0x0303}, HighestVersion: &CodePoint{"TLS 1.2", 0x0303},
						CipherSuites: set(gcm128), WeakestSuite: &CodePoint{gcm128, 0xc02f}, Groups: set("x25519"), ALPN: set(""),
						ClientCertRequested: Tally{No: 1}, ClientCertSent: Tally{No: 1},
						LeafSHA256: set("aa11"), LeafIssuers: set("CN=Test CA,O=test"),
						JA4: set("t12d1011h2_aaaa_bbbb"), JA3: set("0123456789abcdef0123456789abcdef")},
					{Name: "[2001:db8::1]:443", Addresses: set("[2001:db8::1]:443"), Handshakes: 1, Established: 1,
						Versions: set("TLS 1.2"), LowestVersion: &CodePoint{"TLS 1.2", 0x0303}, HighestVersion: &CodePoint{"TLS 1.2", 0x0303},
						CipherSuites: set(gcm128), WeakestSuite: &CodePoint{gcm128, 0xc02f}, Groups: set("x25519"), ALPN: set(""),
						ClientCertRequested: Tally{No: 1}, ClientCertSent: Tally{No: 1},
						LeafSHA256: set("aa11"), LeafIssuers: set("CN=Test CA,O=test"),
						JA4: set("t12d1011h2_aaaa_bbbb"), JA3: set("0123456789abcdef0123456789abcdef")},
				},
			}},
		{"nothing known: ServerHello not seen",
			[]*tlsconn.Summary{{Server: "10.0.0.2:443", SNI: ptr("x.test")}},
			&Baseline{Format: 1, Handshakes: 1, Servers: []Server{{
				Name: "x.test", SNI: true, Addresses: set("10.0.0.2:443"), Handshakes: 1, Failed: 1,
				Versions: set(), CipherSuites: set(), Groups: set(), ALPN: set(), LeafSHA256: set(), LeafIssuers: set(), JA4: set(), JA3: set(),
			}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := build(tt.in...)
			for i := range tt.want.Servers {
				for _, s := range tt.want.Servers[i].sets() {
					if s.Values == nil {
						s.Values = []string{}
					}
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", encode(t, got), encode(t, tt.want))
			}
		})
	}
}

func TestBuilderVersions(t *testing.T) {
	tests := []struct {
		name             string
		versions         [][2]any // name, id
		lowest, highest  *CodePoint
		alpnNone, ranked bool
	}{
		{"SSL 3.0 to TLS 1.3", [][2]any{{"TLS 1.3", 0x0304}, {"SSL 3.0", 0x0300}, {"TLS 1.2", 0x0303}},
			&CodePoint{"SSL 3.0", 0x0300}, &CodePoint{"TLS 1.3", 0x0304}, true, true},
		{"draft below final", [][2]any{{"TLS 1.3 (draft 23)", 0x7f17}, {"TLS 1.3", 0x0304}},
			&CodePoint{"TLS 1.3 (draft 23)", 0x7f17}, &CodePoint{"TLS 1.3", 0x0304}, false, true},
		{"unranked version", [][2]any{{"GREASE(0x0a0a)", 0x0a0a}}, nil, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder()
			for _, v := range tt.versions {
				b.Add(hs(version(v[0].(string), v[1].(int)), alpn(nil)))
			}
			s := b.Baseline().Servers[0]
			if !reflect.DeepEqual(s.LowestVersion, tt.lowest) || !reflect.DeepEqual(s.HighestVersion, tt.highest) {
				t.Errorf("lowest %v, highest %v; want %v, %v", s.LowestVersion, s.HighestVersion, tt.lowest, tt.highest)
			}
			if got := slices.Contains(s.ALPN.Values, ""); got != tt.alpnNone {
				t.Errorf("ALPN %q: none recorded = %t, want %t", s.ALPN.Values, got, tt.alpnNone)
			}
			if len(s.Versions.Values) != len(tt.versions) {
				t.Errorf("versions %q", s.Versions.Values)
			}
		})
	}
}

func TestBuilderWeakestSuite(t *testing.T) {
	tests := []struct {
		name   string
		suites []CodePoint
		want   CodePoint
	}{
		{"3DES under CBC and AEAD", []CodePoint{{gcm128, 0xc02f}, {des3, 0x000a}, {cbc, 0xc013}}, CodePoint{des3, 0x000a}},
		{"RC4 under 3DES", []CodePoint{{des3, 0x000a}, {rc4, 0x0005}}, CodePoint{rc4, 0x0005}},
		{"CBC under AEAD", []CodePoint{{cbc, 0xc013}, {gcm128, 0xc02f}}, CodePoint{cbc, 0xc013}},
		{"same class: by name, whatever the order", []CodePoint{{gcm256, 0xc030}, {gcm128, 0xc02f}}, CodePoint{gcm128, 0xc02f}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, order := range [][]CodePoint{tt.suites, reversed(tt.suites)} {
				b := NewBuilder()
				for _, c := range order {
					b.Add(hs(suite(c.Name, c.ID)))
				}
				if got := b.Baseline().Servers[0].WeakestSuite; *got != tt.want {
					t.Errorf("weakest of %v = %v, want %v", order, *got, tt.want)
				}
			}
		})
	}
}

func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func TestBuilderCaps(t *testing.T) {
	b := NewBuilder()
	b.maxServers, b.maxValues = 2, 2
	for _, s := range []*tlsconn.Summary{
		hs(ja4("j1")),
		hs(ja4("j2")),
		hs(ja4("j3")), // dropped
		hs(ja4("j1")), // known: kept
		hs(ja4("j3")), // dropped again: counts twice
		hs(sni(ptr("b.test"))),
		hs(sni(ptr("c.test"))), // third server: dropped
		hs(sni(ptr("c.test"))),
		hs(sni(ptr("b.test"))),
	} {
		b.Add(s)
	}
	bl := b.Baseline()
	if bl.Handshakes != 9 || bl.DroppedHandshakes != 2 || len(bl.Servers) != 2 {
		t.Fatalf("handshakes %d, dropped %d, servers %d; want 9, 2, 2", bl.Handshakes, bl.DroppedHandshakes, len(bl.Servers))
	}
	a := bl.Servers[0]
	if a.Handshakes != 5 || !reflect.DeepEqual(a.JA4, Set{Values: []string{"j1", "j2"}, Dropped: 2}) {
		t.Errorf("a.test: %d handshakes, JA4 %+v", a.Handshakes, a.JA4)
	}
	if bl.Servers[1].Name != "b.test" || bl.Servers[1].Handshakes != 2 {
		t.Errorf("second server %q with %d handshakes", bl.Servers[1].Name, bl.Servers[1].Handshakes)
	}
	if NewBuilder().maxServers != MaxServers || NewBuilder().maxValues != MaxValues {
		t.Error("NewBuilder does not use the documented limits")
	}
}

func TestClean(t *testing.T) {
	long := strings.Repeat("CN=long,", 200) // 1600 bytes
	tests := []struct {
		in, want string
	}{
		{"server.test", "server.test"},
		{"a\xffb\xc0", `a\xffb\xc0`},
		{"caf\u00e9\x1b", "caf\u00e9\x1b"}, // valid UTF-8 is kept: escaping is for display
		{strings.Repeat("x", MaxValueLen), strings.Repeat("x", MaxValueLen)},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Long values: bounded, valid UTF-8, distinct when the inputs are.
	seen := map[string]bool{}
	for _, in := range []string{long + "A", long + "B", strings.Repeat("é", 1000), strings.Repeat("\xff", 2000)} {
		got := clean(in)
		if len(got) > MaxValueLen || !utf8.ValidString(got) || !strings.Contains(got, "sha256 ") {
			t.Errorf("clean(%d bytes) = %q", len(in), got)
		}
		if seen[got] {
			t.Errorf("clean(%d bytes) collides: %q", len(in), got)
		}
		seen[got] = true
		if clean(got) != got {
			t.Errorf("clean is not idempotent on %q", got)
		}
	}
}

func TestBuilderCleansWireStrings(t *testing.T) {
	bl := build(hs(sni(ptr("bad\xff.test")), leaf("aa", "CN=\xfe")))
	s := bl.Servers[0]
	if s.Name != `bad\xff.test` || s.LeafIssuers.Values[0] != `CN=\xfe` {
		t.Errorf("server %q, issuer %q", s.Name, s.LeafIssuers.Values)
	}
	// A file read back compares equal to the Baseline built in memory.
	back, err := Read(bytes.NewReader(encode(t, bl)), "mem.json")
	if err != nil {
		t.Fatal(err)
	}
	if d := Compare(back, bl); d != nil {
		t.Errorf("drift after a round trip: %q", d)
	}
}

// The same summaries in the same order give the same bytes; below the caps
// the order does not matter either.
func TestDeterminism(t *testing.T) {
	var in []*tlsconn.Summary
	for _, name := range []string{"tls12-ecdhe-go.pcap", "tls13-go.pcap", "tls12-ticket-go.pcap", "nosni-go.pcap", "alert-protocol-version-go.pcap", "tls13-hrr-go.pcap"} {
		in = append(in, captureSummaries(t, name)...)
	}
	in = append(in, hs(), hs(failed), hs(resumed), hs(sni(nil)), hs(suite(des3, 0x000a), version("TLS 1.0", 0x0301)))
	b1, b2, b3 := NewBuilder(), NewBuilder(), NewBuilder()
	for _, s := range in {
		b1.Add(s)
		b2.Add(s)
	}
	for _, s := range reversed(in) {
		b3.Add(s)
	}
	first := encode(t, b1.Baseline())
	for i, got := range [][]byte{encode(t, b1.Baseline()), encode(t, b2.Baseline()), encode(t, b3.Baseline())} {
		if !bytes.Equal(got, first) {
			t.Errorf("output %d differs:\n%s\nfirst:\n%s", i, got, first)
		}
	}
	// Baseline does not consume the Builder.
	b1.Add(hs(sni(ptr("later.test"))))
	if n := len(b1.Baseline().Servers); n != len(b2.Baseline().Servers)+1 {
		t.Errorf("after one more server: %d servers", n)
	}
}

func TestBuilderTimes(t *testing.T) {
	tests := []struct {
		name        string
		ts          []time.Time
		first, last time.Time
	}{
		{"none", []time.Time{{}}, time.Time{}, time.Time{}},
		{"range, zones ignored", []time.Time{t0.In(time.FixedZone("A", -7200)), t0.Add(time.Second), t0.Add(-time.Second)}, t0.Add(-time.Second), t0.Add(time.Second)},
		{"monotonic reading dropped", []time.Time{time.Now()}, time.Time{}, time.Time{}},
		{"years without an RFC 3339 form", []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), t0}, t0, t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder()
			for _, ts := range tt.ts {
				b.Add(hs(at(ts)))
			}
			bl := b.Baseline()
			if tt.name == "monotonic reading dropped" {
				// Equal as values once written and read back.
				back, err := Read(bytes.NewReader(encode(t, bl)), "t.json")
				if err != nil || back.First != bl.First {
					t.Errorf("first %v after a round trip, was %v (%v)", back.First, bl.First, err)
				}
				return
			}
			if bl.First != tt.first || bl.Last != tt.last {
				t.Errorf("first %v, last %v; want %v, %v", bl.First, bl.Last, tt.first, tt.last)
			}
			if err := bl.Write(new(bytes.Buffer)); err != nil {
				t.Error(err)
			}
		})
	}
}
