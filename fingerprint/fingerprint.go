package fingerprint

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"

	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/iana"
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
	var buf [512]byte
	b := appendJA3(buf[:0], ch)
	return md5hex(b), string(b)
}

// appendJA3 appends the JA3 string of ch (not SSLv2) to b.
func appendJA3(b []byte, ch *dissect.ClientHello) []byte {
	b = strconv.AppendUint(b, uint64(ch.Version), 10)
	b = append(b, ',')
	b = appendDecimal(b, ch.CipherSuites, true)
	b = append(b, ',')
	var tbuf [64]uint16 // on the stack for any usual hello
	b = appendDecimal(b, extensionTypes(tbuf[:0], ch.Extensions), true)
	b = append(b, ',')
	b = appendDecimal(b, ch.SupportedGroups, true)
	b = append(b, ',')
	for i, f := range ch.ECPointFormats {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(f), 10)
	}
	return b
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
	var buf [256]byte
	b := appendJA3S(buf[:0], sh)
	return md5hex(b), string(b)
}

// appendJA3S appends the JA3S string of sh to b.
func appendJA3S(b []byte, sh *dissect.ServerHello) []byte {
	b = strconv.AppendUint(b, uint64(sh.Version), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(sh.CipherSuite), 10)
	b = append(b, ',')
	var tbuf [64]uint16
	return appendDecimal(b, extensionTypes(tbuf[:0], sh.Extensions), false)
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
	var buf [1024]byte
	r := appendJA4R(buf[:0], ch, transport)
	return r.ja4(), string(r.b)
}

// ja4Raw is a JA4_r being built: b, and where its parts end.
type ja4Raw struct {
	b         []byte
	cipherEnd int // end of the cipher list (b[ja4aLen+1:cipherEnd])
}

// ja4aLen is the length of JA4_a.
const ja4aLen = 10

// ja4 returns the JA4 of the JA4_r in r.
func (r ja4Raw) ja4() string {
	var out [ja4aLen + 1 + ja4HashLen + 1 + ja4HashLen]byte
	copy(out[:], r.b[:ja4aLen])
	out[ja4aLen] = '_'
	putHash12(out[ja4aLen+1:], r.b[ja4aLen+1:r.cipherEnd])
	out[ja4aLen+1+ja4HashLen] = '_'
	putHash12(out[ja4aLen+2+ja4HashLen:], r.b[r.cipherEnd+1:])
	return string(out[:])
}

// appendJA4R appends JA4_r of ch (see JA4) to b.
func appendJA4R(b []byte, ch *dissect.ClientHello, transport byte) ja4Raw {
	var cbuf, ebuf [64]uint16 // on the stack for any usual hello
	ciphers := appendWithoutGREASE(cbuf[:0], ch.CipherSuites)
	sorted := ebuf[:0] // extension types without GREASE, server_name and ALPN
	nExts := 0
	sni, alpn := false, false
	for _, e := range ch.Extensions {
		if iana.IsGREASE(e.Type) {
			continue
		}
		nExts++
		switch e.Type {
		case extServerName:
			sni = true
		case extALPN:
			alpn = true
		default:
			sorted = append(sorted, e.Type)
		}
	}

	b = append(b, transport)
	b = append(b, ja4Version(ch)...)
	if sni {
		b = append(b, 'd')
	} else {
		b = append(b, 'i')
	}
	b = appendCount2(b, len(ciphers))
	b = appendCount2(b, nExts)
	first := ""
	if alpn && len(ch.ALPN) > 0 {
		first = ch.ALPN[0]
	}
	b = appendALPNChars(b, first)
	b = append(b, '_')

	slices.Sort(ciphers)
	b = appendHexList(b, ciphers)
	r := ja4Raw{cipherEnd: len(b)}
	b = append(b, '_')
	slices.Sort(sorted)
	b = appendHexList(b, sorted)
	// ebuf held sorted, which is written to b already: it is free again.
	if sigs := appendWithoutGREASE(ebuf[:0], ch.SignatureAlgorithms); len(sigs) > 0 {
		b = append(b, '_')
		b = appendHexList(b, sigs)
	}
	r.b = b
	return r
}

// ja4Version is JA4_a's version field (see JA4).
func ja4Version(ch *dissect.ClientHello) string {
	v, found := uint16(0), false
	for _, sv := range ch.SupportedVersions {
		if iana.IsGREASE(sv) {
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

// appendALPNChars appends JA4_a's ALPN field for v, the first ALPN value
// (see JA4).
func appendALPNChars(b []byte, v string) []byte {
	if v == "" {
		return append(b, "00"...)
	}
	first, last := v[0], v[len(v)-1]
	if alnum(first) && alnum(last) {
		return append(b, first, last)
	}
	// The first and last digits of the lowercase hex encoding of v.
	const digits = "0123456789abcdef"
	return append(b, digits[first>>4], digits[last&0x0f])
}

// appendCount2 appends n as two digits, capped at 99.
func appendCount2(b []byte, n int) []byte {
	n = min(n, maxCount)
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// appendWithoutGREASE appends the values of vs that are not GREASE.
func appendWithoutGREASE(out, vs []uint16) []uint16 {
	for _, v := range vs {
		if !iana.IsGREASE(v) {
			out = append(out, v)
		}
	}
	return out
}

// appendHexList appends vs as 4-digit lowercase hex values joined by ','.
func appendHexList(b []byte, vs []uint16) []byte {
	const digits = "0123456789abcdef"
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
	}
	return b
}

// putHash12 writes the first 12 hex digits of the SHA-256 of b to
// out[:12], or "000000000000" for an empty b (JA4.md).
func putHash12(out, b []byte) {
	if len(b) == 0 {
		copy(out, emptyHash)
		return
	}
	sum := sha256.Sum256(b)
	hex.Encode(out[:ja4HashLen], sum[:ja4HashLen/2])
}

// md5hex is the MD5 of b in lowercase hex.
func md5hex(b []byte) string {
	sum := md5.Sum(b)
	var out [2 * md5.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// extensionTypes appends the types of exts to out.
func extensionTypes(out []uint16, exts []dissect.Extension) []uint16 {
	for _, e := range exts {
		out = append(out, e.Type)
	}
	return out
}

// appendDecimal appends vs in decimal, '-'-joined, leaving GREASE values
// out when skipGREASE.
func appendDecimal(b []byte, vs []uint16, skipGREASE bool) []byte {
	n := 0
	for _, v := range vs {
		if skipGREASE && iana.IsGREASE(v) {
			continue
		}
		if n > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(v), 10)
		n++
	}
	return b
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
