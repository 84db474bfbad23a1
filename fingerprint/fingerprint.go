package fingerprint

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"github.com/tlsinspect/tlsinspect/dissect"
	"golang.org/x/crypto/cryptobyte"
)

// Extension types that JA4 treats specially (IANA TLS ExtensionType values)
// and the JA4 hash constants.
const (
	extServerName uint16 = 0x0000
	extALPN       uint16 = 0x0010
	emptyHash            = "000000000000"
	ja4HashLen           = 12
	maxCount             = 99
)

// isGREASE reports whether v is one of the RFC 8701 GREASE values
// 0x0a0a, 0x1a1a, … 0xfafa: both bytes equal, low nibble 0xa.
func isGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// JA3 returns the JA3 fingerprint of a ClientHello: the MD5 (32 lowercase
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
// so salesforce/ja3 defines no JA3 for them, and its 3-byte SSLv2 cipher
// kinds have no 16-bit JA3 value. A nil ch also gives empty strings.
func JA3(ch *dissect.ClientHello) (hash, raw string) {
	if ch == nil || ch.SSLv2 {
		return "", ""
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(ch.Version)))
	b.WriteByte(',')
	writeDecimal(&b, ch.CipherSuites, true)
	b.WriteByte(',')
	types := make([]uint16, len(ch.Extensions))
	for i, e := range ch.Extensions {
		types[i] = e.Type
	}
	writeDecimal(&b, types, true)
	b.WriteByte(',')
	writeDecimal(&b, ch.SupportedGroups, true)
	b.WriteByte(',')
	for i, f := range ch.ECPointFormats {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(strconv.Itoa(int(f)))
	}
	raw = b.String()
	return md5hex(raw), raw
}

// JA3S returns the JA3S fingerprint of a ServerHello: the MD5 of raw and
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
func JA3S(sh *dissect.ServerHello) (hash, raw string) {
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
	writeDecimal(&b, types, false)
	raw = b.String()
	return md5hex(raw), raw
}

// JA4 returns the JA4 fingerprint of a ClientHello and its raw form JA4_r,
// following FoxIO-LLC/ja4 technical_details/JA4.md:
//
//	JA4   = JA4_a "_" JA4_b "_" JA4_c   e.g. t13d1516h2_8daaf6152771_e5627efa2ab1
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
// signature_algorithms values in wire order with GREASE removed (JA4.md;
// FoxIO-LLC/ja4#305 fixed implementations that kept it) — the '_' only when
// there are signature algorithms. SHA-256, first 12 hex digits;
// "000000000000" when that string is empty (no extensions block at all is
// valid, FoxIO-LLC/ja4#198).
//
// Duplicates are kept in counts and lists (the hello is fingerprinted as
// sent). For an SSLv2-compatible ClientHello (ch.SSLv2) the SSLv2-only
// 3-byte cipher kinds have no 4-digit JA4 form and are left out; the
// TLS cipher suites it offers, its version field and its lack of
// extensions are fingerprinted as usual. A nil ch gives empty strings.
func JA4(ch *dissect.ClientHello, transport byte) (ja4, ja4r string) {
	if ch == nil {
		return "", ""
	}
	ciphers := withoutGREASE(ch.CipherSuites)
	var exts []uint16
	sni, alpn := false, false
	for _, e := range ch.Extensions {
		if isGREASE(e.Type) {
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
	a.WriteString(ja4Version(ch))
	if sni {
		a.WriteByte('d')
	} else {
		a.WriteByte('i')
	}
	a.WriteString(count2(len(ciphers)))
	a.WriteString(count2(len(exts)))
	first := ""
	if alpn && len(ch.ALPN) > 0 {
		first = ch.ALPN[0]
	}
	a.WriteString(alpnChars(first))
	ja4a := a.String()

	slices.Sort(ciphers)
	cipherList := hexList(ciphers)

	sorted := make([]uint16, 0, len(exts))
	for _, t := range exts {
		if t != extServerName && t != extALPN {
			sorted = append(sorted, t)
		}
	}
	slices.Sort(sorted)
	extList := hexList(sorted)
	if sigs := withoutGREASE(ch.SignatureAlgorithms); len(sigs) > 0 {
		extList += "_" + hexList(sigs)
	}

	ja4 = ja4a + "_" + hash12(cipherList) + "_" + hash12(extList)
	ja4r = ja4a + "_" + cipherList + "_" + extList
	return ja4, ja4r
}

// ja4Version is JA4_a's version field (see JA4).
func ja4Version(ch *dissect.ClientHello) string {
	v, found := uint16(0), false
	for _, sv := range ch.SupportedVersions {
		if isGREASE(sv) {
			continue
		}
		if !found || newer(sv, v) {
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

// newer reports whether version a is newer than b: numerically higher,
// except between two DTLS versions (0xfeXX), which count down.
func newer(a, b uint16) bool {
	if a>>8 == 0xfe && b>>8 == 0xfe {
		return a < b
	}
	return a > b
}

// alnum reports whether c is an ASCII letter or digit.
func alnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// alpnChars is JA4_a's ALPN field for the first ALPN value (see JA4).
func alpnChars(v string) string {
	if v == "" {
		return "00"
	}
	first, last := v[0], v[len(v)-1]
	if alnum(first) && alnum(last) {
		return string([]byte{first, last})
	}
	h := hex.EncodeToString([]byte(v))
	return string([]byte{h[0], h[len(h)-1]})
}

// count2 formats n as two digits, capped at 99.
func count2(n int) string {
	n = min(n, maxCount)
	return string([]byte{byte('0' + n/10), byte('0' + n%10)})
}

func withoutGREASE(vs []uint16) []uint16 {
	out := make([]uint16, 0, len(vs))
	for _, v := range vs {
		if !isGREASE(v) {
			out = append(out, v)
		}
	}
	return out
}

// hexList renders vs as 4-digit lowercase hex values joined by ','.
func hexList(vs []uint16) string {
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

// hash12 is the first 12 hex digits of the SHA-256 of s, or
// "000000000000" for an empty s (JA4.md).
func hash12(s string) string {
	if s == "" {
		return emptyHash
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:ja4HashLen]
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// writeDecimal writes vs in decimal joined by '-', without GREASE values
// when skipGREASE is set.
func writeDecimal(b *strings.Builder, vs []uint16, skipGREASE bool) {
	n := 0
	for _, v := range vs {
		if skipGREASE && isGREASE(v) {
			continue
		}
		if n > 0 {
			b.WriteByte('-')
		}
		b.WriteString(strconv.Itoa(int(v)))
		n++
	}
}

// Framed reports whether body, a ClientHello body, is whole as far as the
// fingerprints need: legacy_version, random, session id, cipher suites and
// compression methods all present, and, when an extensions block follows,
// its length and every extension's length consistent with the bytes there.
// dissect.ParseClientHello also returns an error when only an extension's
// contents are malformed (an empty server_name, say); the fingerprints of
// such a hello are still well defined, because they read the extension
// types and only a few extension bodies, so callers can fingerprint when
// the parse failed but Framed is true. A truncated hello is not Framed.
func Framed(body []byte) bool {
	s := cryptobyte.String(body)
	var sid, ciphers, comp, exts cryptobyte.String
	if !s.Skip(2+32) || !s.ReadUint8LengthPrefixed(&sid) ||
		!s.ReadUint16LengthPrefixed(&ciphers) || !s.ReadUint8LengthPrefixed(&comp) {
		return false
	}
	if len(ciphers)%2 != 0 {
		return false
	}
	if s.Empty() {
		return true
	}
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return false
	}
	for !exts.Empty() {
		var data cryptobyte.String
		if !exts.Skip(2) || !exts.ReadUint16LengthPrefixed(&data) {
			return false
		}
	}
	return true
}
