package fingerprint

// A verbatim copy of the fingerprint functions as they were before the
// allocation work and Cache (names prefixed with ref): the reference the
// tests hold JA3, JA4, JA3S and Cache to.

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/iana"
)

// refJA3 returns the refJA3 fingerprint of a ClientHello: the MD5 (32 lowercase
// hex digits) of raw, and raw itself,
//
//	SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats
//
// following salesforce/ja3 (README, python/ja3.py): SSLVersion is the
// ClientHello legacy_version (never supported_versions); the other fields
// are the cipher suites, the extension types in wire order (duplicates and
// padding kept), the supported_groups (10) list and the ec_point_formats
// (11) list; all values in decimal, joined by '-', GREASE values removed
// from ciphers, extensions and groups (ja3.py's GREASE_TABLE; point formats
// are 8-bit and cannot be GREASE). A missing part stays empty, e.g.
// "769,4-5-10,,,".
//
// An SSLv2-compatible ClientHello (ch.SSLv2) gives empty strings: ja3.py
// only reads TLS records (content type 22) and skips SSLv2-format records,
// so salesforce/ja3 defines no refJA3 for them, and its 3-byte SSLv2 cipher
// kinds have no 16-bit refJA3 value. A nil ch also gives empty strings.
func refJA3(ch *dissect.ClientHello) (hash, raw string) {
	if ch == nil || ch.SSLv2 {
		return "", ""
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(ch.Version)))
	b.WriteByte(',')
	refWriteDecimal(&b, ch.CipherSuites, true)
	b.WriteByte(',')
	types := make([]uint16, len(ch.Extensions))
	for i, e := range ch.Extensions {
		types[i] = e.Type
	}
	refWriteDecimal(&b, types, true)
	b.WriteByte(',')
	refWriteDecimal(&b, ch.SupportedGroups, true)
	b.WriteByte(',')
	for i, f := range ch.ECPointFormats {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(strconv.Itoa(int(f)))
	}
	raw = b.String()
	return refMd5hex(raw), raw
}

// refJA3S returns the refJA3S fingerprint of a ServerHello: the MD5 of raw and
// raw itself,
//
//	SSLVersion,Cipher,Extensions
//
// following salesforce/ja3 python/ja3s.py: the ServerHello legacy_version
// (771 for TLS 1.3 too), the chosen cipher suite and the extension types in
// wire order, in decimal, '-'-joined. ja3s.py filters no GREASE (servers
// send none) and neither does this. With no extensions the string ends in
// ',' ("769,47,"). Callers decide whether a HelloRetryRequest is
// fingerprinted; the function does not look. A nil sh gives empty strings.
func refJA3S(sh *dissect.ServerHello) (hash, raw string) {
	if sh == nil {
		return "", ""
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(sh.Version)))
	b.WriteByte(',')
	b.WriteString(strconv.Itoa(int(sh.CipherSuite)))
	b.WriteByte(',')
	types := make([]uint16, len(sh.Extensions))
	for i, e := range sh.Extensions {
		types[i] = e.Type
	}
	refWriteDecimal(&b, types, false)
	raw = b.String()
	return refMd5hex(raw), raw
}

// refJA4 returns the refJA4 fingerprint of a ClientHello and its raw form JA4_r,
// following FoxIO-LLC/ja4 technical_details/refJA4.md:
//
//	refJA4   = JA4_a "_" JA4_b "_" JA4_c   e.g. t13d1516h2_8daaf6152771_e5627efa2ab1
//	JA4_r = JA4_a "_" sorted ciphers "_" sorted extensions ["_" signature algorithms]
//
// JA4_a (10 characters):
//   - transport: the byte given, 't' for TLS over TCP, 'q' QUIC, 'd' DTLS;
//   - version: the highest non-GREASE supported_versions value when that
//     extension holds one, else legacy_version (the record version is
//     ignored), mapped 0x0304 "13", 0x0303 "12", 0x0302 "11", 0x0301 "10",
//     0x0300 "s3", 0x0002 "s2", 0xfeff "d1", 0xfefd "d2", 0xfefc "d3",
//     anything else "00". Among DTLS values (0xfeXX, counting down) the
//     newest is the numerically lowest;
//   - 'd' when the server_name extension is present (whatever it holds),
//     else 'i';
//   - the number of non-GREASE cipher suites and of non-GREASE extensions
//     (SNI and ALPN included), two digits each, capped at 99;
//   - the first and last characters of the first ALPN value ("h2", "http/1.1"
//     -> "h1", one character doubled); when the first or the last byte is
//     not an ASCII letter or digit, the first and last characters of the
//     value's lowercase hex encoding instead (0xab -> "ab", 0x30ab -> "3b");
//     "00" with no ALPN extension, an empty list or an empty first value.
//
// JA4_b: the non-GREASE cipher suites as 4-digit lowercase hex, sorted,
// comma-joined, SHA-256, first 12 hex digits; "000000000000" when there
// are none.
//
// JA4_c: the non-GREASE extension types, 4-digit hex, sorted, without
// server_name (0000) and ALPN (0010), comma-joined; then '_' and the
// signature_algorithms values in wire order with GREASE removed (refJA4.md;
// FoxIO-LLC/ja4#305 fixed implementations that kept it) — the '_' only when
// there are signature algorithms. SHA-256, first 12 hex digits;
// "000000000000" when that string is empty (no extensions block at all is
// valid, FoxIO-LLC/ja4#198).
//
// Duplicates are kept in counts and lists (the hello is fingerprinted as
// sent). For an SSLv2-compatible ClientHello (ch.SSLv2) the SSLv2-only
// 3-byte cipher kinds have no 4-digit refJA4 form and are left out; the
// TLS cipher suites it offers, its version field and its lack of
// extensions are fingerprinted as usual. A nil ch gives empty strings.
func refJA4(ch *dissect.ClientHello, transport byte) (ja4, ja4r string) {
	if ch == nil {
		return "", ""
	}
	ciphers := refWithoutGREASE(ch.CipherSuites)
	var exts []uint16
	sni, alpn := false, false
	for _, e := range ch.Extensions {
		if iana.IsGREASE(e.Type) {
			continue
		}
		switch e.Type {
		case extServerName:
			sni = true
		case extALPN:
			alpn = true
		}
		exts = append(exts, e.Type)
	}

	var a strings.Builder
	a.WriteByte(transport)
	a.WriteString(refJa4Version(ch))
	if sni {
		a.WriteByte('d')
	} else {
		a.WriteByte('i')
	}
	a.WriteString(refCount2(len(ciphers)))
	a.WriteString(refCount2(len(exts)))
	first := ""
	if alpn && len(ch.ALPN) > 0 {
		first = ch.ALPN[0]
	}
	a.WriteString(refAlpnChars(first))
	ja4a := a.String()

	slices.Sort(ciphers)
	cipherList := refHexList(ciphers)

	sorted := make([]uint16, 0, len(exts))
	for _, t := range exts {
		if t != extServerName && t != extALPN {
			sorted = append(sorted, t)
		}
	}
	slices.Sort(sorted)
	extList := refHexList(sorted)
	if sigs := refWithoutGREASE(ch.SignatureAlgorithms); len(sigs) > 0 {
		extList += "_" + refHexList(sigs)
	}

	ja4 = ja4a + "_" + refHash12(cipherList) + "_" + refHash12(extList)
	ja4r = ja4a + "_" + cipherList + "_" + extList
	return ja4, ja4r
}

// refJa4Version is JA4_a's version field (see refJA4).
func refJa4Version(ch *dissect.ClientHello) string {
	v, found := uint16(0), false
	for _, sv := range ch.SupportedVersions {
		if iana.IsGREASE(sv) {
			continue
		}
		if !found || refNewer(sv, v) {
			v, found = sv, true
		}
	}
	if !found {
		v = ch.Version
	}
	switch v {
	case dissect.VersionTLS13:
		return "13"
	case dissect.VersionTLS12:
		return "12"
	case dissect.VersionTLS11:
		return "11"
	case dissect.VersionTLS10:
		return "10"
	case dissect.VersionSSL30:
		return "s3"
	case dissect.VersionSSL20:
		return "s2"
	case dissect.VersionDTLS10:
		return "d1"
	case dissect.VersionDTLS12:
		return "d2"
	case dissect.VersionDTLS13:
		return "d3"
	}
	return "00"
}

// refNewer reports whether version a is refNewer than b: numerically higher,
// except between two DTLS versions (0xfeXX), which count down.
func refNewer(a, b uint16) bool {
	if a>>8 == 0xfe && b>>8 == 0xfe {
		return a < b
	}
	return a > b
}

// refAlnum reports whether c is an ASCII letter or digit.
func refAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// refAlpnChars is JA4_a's ALPN field for the first ALPN value (see refJA4).
func refAlpnChars(v string) string {
	if v == "" {
		return "00"
	}
	first, last := v[0], v[len(v)-1]
	if refAlnum(first) && refAlnum(last) {
		return string([]byte{first, last})
	}
	h := hex.EncodeToString([]byte(v))
	return string([]byte{h[0], h[len(h)-1]})
}

// refCount2 formats n as two digits, capped at 99.
func refCount2(n int) string {
	n = min(n, maxCount)
	return string([]byte{byte('0' + n/10), byte('0' + n%10)})
}

func refWithoutGREASE(vs []uint16) []uint16 {
	out := make([]uint16, 0, len(vs))
	for _, v := range vs {
		if !iana.IsGREASE(v) {
			out = append(out, v)
		}
	}
	return out
}

// refHexList renders vs as 4-digit lowercase hex values joined by ','.
func refHexList(vs []uint16) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, len(vs)*5)
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
	}
	return string(b)
}

// refHash12 is the first 12 hex digits of the SHA-256 of s, or
// "000000000000" for an empty s (refJA4.md).
func refHash12(s string) string {
	if s == "" {
		return emptyHash
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:ja4HashLen]
}

func refMd5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// refWriteDecimal writes vs in decimal joined by '-', without GREASE values
// when skipGREASE is set.
func refWriteDecimal(b *strings.Builder, vs []uint16, skipGREASE bool) {
	n := 0
	for _, v := range vs {
		if skipGREASE && iana.IsGREASE(v) {
			continue
		}
		if n > 0 {
			b.WriteByte('-')
		}
		b.WriteString(strconv.Itoa(int(v)))
		n++
	}
}
