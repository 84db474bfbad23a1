package fingerprint

import (
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/dissect"
)

// Chrome-like lists from research.md §D.3 (the JA4.md example), in the
// order Chrome sends them.
var (
	chromeCiphers = []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	chromeSigalgs = []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}
)

// chromeHello builds the 15-cipher, 16-extension, ALPN h2 ClientHello of
// the JA4 example. With grease set, GREASE values are inserted into every
// list (ciphers, extensions, groups, signature algorithms,
// supported_versions) to prove they are removed. sigalgs replaces the
// signature_algorithms list.
func chromeHello(grease bool, sigalgs []uint16) hello {
	g := func(v uint16, vs ...uint16) []uint16 {
		if !grease {
			return vs
		}
		out := append([]uint16{v}, vs...)
		return append(out, v^0x1010)
	}
	exts := []ext{
		sniExt("www.example.com"),
		emptyExt(0x0017),
		rawExt(0xff01, []byte{0}),
		groupsExt(g(0x2a2a, 0x001d, 0x0017, 0x0018)...),
		pointsExt(0),
		emptyExt(0x0023),
		alpnExt("h2", "http/1.1"),
		rawExt(0x0005, []byte{1, 0, 0, 0, 0}),
		sigalgsExt(g(0x5a5a, sigalgs...)...),
		emptyExt(0x0012),
		rawExt(0x0033, vec16(append(u16s(0x001d), vec16(make([]byte, 32))...))),
		rawExt(0x002d, vec8([]byte{1})),
		versionsExt(g(0x7a7a, 0x0304, 0x0303)...),
		rawExt(0x001b, vec8(u16s(2))),
		rawExt(0x4469, vec16(vec8([]byte("h2")))),
		rawExt(0x0015, make([]byte, 10)),
	}
	if grease {
		exts = append([]ext{emptyExt(0x0a0a)}, exts...)
		exts = append(exts, rawExt(0xfafa, []byte{0}))
	}
	return hello{version: 0x0303, ciphers: g(0x8a8a, chromeCiphers...), exts: exts}
}

func TestJA4Vectors(t *testing.T) {
	const chromeRaw = "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"
	tests := []struct {
		name      string
		h         hello
		transport byte
		ja4, ja4r string
	}{
		{"chrome", chromeHello(false, chromeSigalgs), 't', "t13d1516h2_8daaf6152771_e5627efa2ab1", chromeRaw},
		{"chrome with GREASE everywhere", chromeHello(true, chromeSigalgs), 't', "t13d1516h2_8daaf6152771_e5627efa2ab1", chromeRaw},
		{"QUIC transport letter", chromeHello(true, chromeSigalgs), 'q', "q13d1516h2_8daaf6152771_e5627efa2ab1", "q" + chromeRaw[1:]},
		{
			// research.md §D.3: same extensions without sig algs ⇒ 6d807ffa2a79,
			// and no trailing '_' in the raw form. The list held only GREASE.
			"signature_algorithms only GREASE", chromeHello(true, nil), 't',
			"t13d1516h2_8daaf6152771_6d807ffa2a79",
			strings.TrimSuffix(chromeRaw, "_0403,0804,0401,0503,0805,0501,0806,0601"),
		},
		{
			// JA4 works without an extensions block (FoxIO-LLC/ja4#198).
			"no extensions block", hello{version: 0x0301, ciphers: []uint16{0x0004, 0x0005, 0x000a, 0x0a0a}, noExtensions: true}, 't',
			"t10i030000_" + hash12("0004,0005,000a") + "_000000000000",
			"t10i030000_0004,0005,000a_",
		},
		{
			"no ciphers, only SNI and ALPN", hello{version: 0x0303, exts: []ext{sniExt("a"), alpnExt("h2")}}, 't',
			"t12d0002h2_000000000000_000000000000",
			"t12d0002h2__",
		},
		{
			"SSL 3.0 legacy_version, supported_versions only GREASE", hello{version: 0x0300, ciphers: []uint16{0x000a}, exts: []ext{versionsExt(0x3a3a)}}, 't',
			"ts3i010100_" + hash12("000a") + "_" + hash12("002b"),
			"ts3i010100_000a_002b",
		},
		{
			"supported_versions beats legacy_version, highest wins", hello{version: 0x0301, ciphers: []uint16{0x1301}, exts: []ext{versionsExt(0x0302, 0x0304, 0x0303)}}, 't',
			"t13i010100_" + hash12("1301") + "_" + hash12("002b"),
			"t13i010100_1301_002b",
		},
		{
			"DTLS versions count down", hello{version: 0xfefd, ciphers: []uint16{0xc02b}, exts: []ext{versionsExt(0xfeff, 0xfefc, 0xfefd)}}, 'd',
			"dd3i010100_" + hash12("c02b") + "_" + hash12("002b"),
			"dd3i010100_c02b_002b",
		},
		{
			"unknown version", hello{version: 0x7f1c, ciphers: []uint16{0x1301}, noExtensions: true}, 't',
			"t00i010000_" + hash12("1301") + "_000000000000",
			"t00i010000_1301_",
		},
		{
			"SNI present but empty", hello{version: 0x0303, ciphers: []uint16{0x1301}, exts: []ext{emptyExt(0x0000)}}, 't',
			"t12d010100_" + hash12("1301") + "_000000000000",
			"t12d010100_1301_",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A malformed extension body (the empty server_name) is a
			// parse error, but the hello is Framed and fingerprinted.
			body := tc.h.bytes()
			ch, err := dissect.ParseClientHello(body)
			if err != nil && !Framed(body) {
				t.Fatalf("ParseClientHello: %v", err)
			}
			ja4, ja4r := JA4(ch, tc.transport)
			if ja4 != tc.ja4 {
				t.Errorf("JA4 = %s, want %s", ja4, tc.ja4)
			}
			if ja4r != tc.ja4r {
				t.Errorf("JA4_r = %s\nwant   %s", ja4r, tc.ja4r)
			}
		})
	}
}

// TestJA4Hashes checks the JA4_b/JA4_c hash vectors of research.md §D.3
// directly.
func TestJA4Hashes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9", "8daaf6152771"},
		{"0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601", "e5627efa2ab1"},
		{"0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01", "6d807ffa2a79"},
		{"1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035", "acb858a92679"},
		{"", "000000000000"},
	}
	for _, tc := range tests {
		if got := hash12(tc.in); got != tc.want {
			t.Errorf("hash12(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestALPNChars(t *testing.T) {
	tests := []struct {
		name   string
		protos []string // nil: no ALPN extension
		want   string
	}{
		{"none", nil, "00"},
		{"empty list", []string{}, "00"},
		{"h2", []string{"h2", "http/1.1"}, "h2"},
		{"http/1.1", []string{"http/1.1", "h2"}, "h1"},
		{"h3", []string{"h3"}, "h3"},
		{"single char doubled", []string{"a"}, "aa"},
		{"upper case kept", []string{"DoT"}, "DT"},
		{"0xab", []string{"\xab"}, "ab"},
		{"0x30 0xab", []string{"\x30\xab"}, "3b"},
		{"0x30 0xab 0xcd 0x31", []string{"\x30\xab\xcd\x31"}, "01"},
		{"non-alnum first", []string{"/x"}, "28"},
		{"non-alnum last", []string{"x/"}, "7f"},
		{"alnum ends, non-alnum inside", []string{"a\xffb"}, "ab"},
		{"first value decides", []string{"\xab", "h2"}, "ab"},
		{"empty first value", []string{"", "h2"}, "00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := hello{version: 0x0303, ciphers: []uint16{0x1301}}
			if tc.protos != nil {
				h.exts = []ext{alpnExt(tc.protos...)}
			}
			ja4, _ := JA4(h.parse(t), 't')
			if got := ja4[8:10]; got != tc.want {
				t.Errorf("ALPN chars = %q (%s), want %q", got, ja4, tc.want)
			}
		})
	}
}

func TestJA4Counts(t *testing.T) {
	many := func(n int, from uint16) []uint16 {
		out := make([]uint16, n)
		for i := range out {
			out[i] = from + uint16(i)
		}
		return out
	}
	manyExts := func(n int) []ext {
		out := make([]ext, n)
		for i := range out {
			out[i] = emptyExt(0x1000 + uint16(i))
		}
		return out
	}
	tests := []struct {
		name string
		h    hello
		want string // JA4_a
	}{
		{"99 ciphers", hello{version: 0x0303, ciphers: many(99, 1), noExtensions: true}, "t12i990000"},
		{"120 ciphers capped", hello{version: 0x0303, ciphers: many(120, 1), noExtensions: true}, "t12i990000"},
		{"GREASE not counted", hello{version: 0x0303, ciphers: []uint16{0x0a0a, 0x1301, 0xfafa}, exts: []ext{emptyExt(0x0a0a), emptyExt(0x0017)}}, "t12i010100"},
		{"SCSVs counted", hello{version: 0x0303, ciphers: []uint16{0x00ff, 0x5600, 0xfe00}, noExtensions: true}, "t12i030000"},
		{"101 extensions capped", hello{version: 0x0303, ciphers: []uint16{1}, exts: manyExts(101)}, "t12i019900"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ja4, ja4r := JA4(tc.h.parse(t), 't')
			if !strings.HasPrefix(ja4, tc.want+"_") || !strings.HasPrefix(ja4r, tc.want+"_") {
				t.Errorf("JA4 = %s, want prefix %s", ja4, tc.want)
			}
			if !ja4Pattern.MatchString(ja4) {
				t.Errorf("JA4 %s does not match %s", ja4, ja4Pattern)
			}
		})
	}
}

func TestJA3(t *testing.T) {
	tests := []struct {
		name      string
		h         hello
		hash, raw string
	}{
		{
			// research.md §D.1, verified vector.
			"TLS 1.0 with extensions",
			hello{version: 0x0301, ciphers: []uint16{47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4},
				exts: []ext{sniExt("example.com"), groupsExt(23, 24, 25), pointsExt(0)}},
			"ada70206e40642a3e4461f35503241d5", "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0",
		},
		{
			"same with GREASE in ciphers, extensions and groups",
			hello{version: 0x0301, ciphers: []uint16{0x0a0a, 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4, 0xdada},
				exts: []ext{emptyExt(0x1a1a), sniExt("example.com"), groupsExt(0x2a2a, 23, 24, 25), pointsExt(0), rawExt(0xeaea, []byte{0})}},
			"ada70206e40642a3e4461f35503241d5", "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0",
		},
		{
			// research.md §D.1, verified vector: no extensions block.
			"no extensions",
			hello{version: 0x0301, ciphers: []uint16{4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99}, noExtensions: true},
			"de350869b8c85de67a350c8d186f11e6", "769,4-5-10-9-100-98-3-6-19-18-99,,,",
		},
		{
			// legacy_version, not supported_versions; padding (21) kept;
			// wire order. Hash from Python's hashlib.md5 of the string.
			"chrome-like TLS 1.3",
			chromeHello(true, chromeSigalgs),
			"cd08e31494f9531f560d64c695473da9",
			"771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-17513-21,29-23-24,0",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hash, raw := JA3(tc.h.parse(t))
			if raw != tc.raw {
				t.Errorf("JA3 string = %s\nwant          %s", raw, tc.raw)
			}
			if hash != tc.hash {
				t.Errorf("JA3 = %s, want %s", hash, tc.hash)
			}
		})
	}
}

func TestJA3S(t *testing.T) {
	tests := []struct {
		name      string
		body      []byte
		hash, raw string
	}{
		{
			// suricata-verify tls/tls-certs-alert test.tls__tls-ja3s.yaml.
			"TLS 1.2",
			serverHello(0x0303, 49199, rawExt(65281, []byte{0}), emptyExt(0), pointsExt(0), alpnExt("h2"), emptyExt(23)),
			"5d79edf64e03689ff559a54e9d9487bc", "771,49199,65281-0-11-16-23",
		},
		{
			// ja3s.py keeps the trailing comma; hash from Python's hashlib.
			"no extensions", serverHello(0x0301, 47),
			"18e962e106761869a61045bed0e81c2c", "769,47,",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sh, err := dissect.ParseServerHello(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			hash, raw := JA3S(sh)
			if hash != tc.hash || raw != tc.raw {
				t.Errorf("JA3S = %s %q, want %s %q", hash, raw, tc.hash, tc.raw)
			}
		})
	}
}

// TestSSLv2 checks the SSLv2-compatible ClientHello decision: no JA3
// (salesforce/ja3 reads TLS records only), JA4 over the TLS suites.
func TestSSLv2(t *testing.T) {
	// msg_type 1, version 3.1, 2 cipher specs (6 bytes), no session id,
	// 16-byte challenge.
	msg := []byte{1, 3, 1, 0, 6, 0, 0, 0, 16, 0x01, 0x00, 0x80, 0x00, 0x00, 0x2f}
	msg = append(msg, make([]byte, 16)...)
	ch, err := dissect.ParseSSLv2ClientHello(msg)
	if err != nil {
		t.Fatal(err)
	}
	if hash, raw := JA3(ch); hash != "" || raw != "" {
		t.Errorf("JA3 of SSLv2 hello = %q %q, want empty", hash, raw)
	}
	want := "t10i010000_" + hash12("002f") + "_000000000000"
	if ja4, ja4r := JA4(ch, 't'); ja4 != want || ja4r != "t10i010000_002f_" {
		t.Errorf("JA4 of SSLv2 hello = %s %s, want %s", ja4, ja4r, want)
	}
}

func TestNil(t *testing.T) {
	if a, b := JA3(nil); a != "" || b != "" {
		t.Error("JA3(nil) not empty")
	}
	if a, b := JA3S(nil); a != "" || b != "" {
		t.Error("JA3S(nil) not empty")
	}
	if a, b := JA4(nil, 't'); a != "" || b != "" {
		t.Error("JA4(nil) not empty")
	}
}

func TestFramed(t *testing.T) {
	whole := chromeHello(true, chromeSigalgs).bytes()
	tests := []struct {
		name string
		body []byte
		want bool
	}{
		{"whole", whole, true},
		{"no extensions block", hello{version: 0x0301, ciphers: []uint16{4}, noExtensions: true}.bytes(), true},
		{"malformed extension body", hello{version: 0x0303, exts: []ext{emptyExt(0)}}.bytes(), true},
		{"truncated", whole[:len(whole)-1], false},
		{"trailing byte", append(append([]byte{}, whole...), 0), false},
		{"cut in cipher suites", whole[:40], false},
		{"odd cipher length", append(u16s(0x0303), append(make([]byte, 33), 0, 3, 0, 1, 2, 1, 0)...), false},
		{"empty", nil, false},
	}
	for _, tc := range tests {
		if got := Framed(tc.body); got != tc.want {
			t.Errorf("%s: Framed = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// hash12 is putHash12 of s, as a string.
func hash12(s string) string {
	var out [ja4HashLen]byte
	putHash12(out[:], []byte(s))
	return string(out[:])
}
