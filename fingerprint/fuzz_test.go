package fingerprint

import (
	"regexp"
	"testing"

	"github.com/tlsinspect/tlsinspect/dissect"
)

// ja4Pattern is every JA4 the package can produce (JA4.md):
//
//	[tqd]                         transport
//	(13|12|11|10|s3|s2|d1|d2|d3|00) version
//	[di]                          SNI present / absent
//	[0-9]{2}[0-9]{2}              cipher and extension counts, capped at 99
//	[0-9A-Za-z]{2}                ALPN first+last character (or lowercase hex, or 00)
//	_[0-9a-f]{12}_[0-9a-f]{12}    JA4_b and JA4_c
var ja4Pattern = regexp.MustCompile(`^[tqd](13|12|11|10|s3|s2|d1|d2|d3|00)[di][0-9]{4}[0-9A-Za-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$`)

// ja3Pattern: 32 lowercase hex digits.
var ja3Pattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// FuzzJA4 feeds ClientHello bodies to dissect.ParseClientHello and the
// fingerprints: nothing may panic, and a hello that parsed (or is Framed,
// as tlsconn fingerprints those too) gives a JA4
// matching ja4Pattern, a JA4_r with the same JA4_a and a 32-digit JA3.
func FuzzJA4(f *testing.F) {
	f.Add(chromeHello(true, chromeSigalgs).bytes())
	f.Add(chromeHello(false, nil).bytes())
	f.Add(hello{version: 0x0301, ciphers: []uint16{4, 5}, noExtensions: true}.bytes())
	f.Add(hello{version: 0x0303, ciphers: []uint16{0x1301}, exts: []ext{alpnExt("\xab"), versionsExt(0x0a0a, 0xfefc)}}.bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		ch, err := dissect.ParseClientHello(body)
		whole := err == nil || Framed(body)
		for _, tr := range []byte{'t', 'q', 'd'} {
			ja4, ja4r := JA4(ch, tr)
			if !whole {
				continue
			}
			if !ja4Pattern.MatchString(ja4) {
				t.Fatalf("JA4 %q does not match %s", ja4, ja4Pattern)
			}
			if len(ja4r) < 11 || ja4r[:11] != ja4[:11] {
				t.Fatalf("JA4_r %q does not start with JA4_a of %q", ja4r, ja4)
			}
		}
		hash, raw := JA3(ch)
		if whole && (!ja3Pattern.MatchString(hash) || raw == "") {
			t.Fatalf("JA3 = %q %q", hash, raw)
		}
		// The SSLv2 path too.
		if v2, err := dissect.ParseSSLv2ClientHello(body); err == nil {
			if ja4, _ := JA4(v2, 't'); !ja4Pattern.MatchString(ja4) {
				t.Fatalf("SSLv2 JA4 %q does not match %s", ja4, ja4Pattern)
			}
		}
	})
}
