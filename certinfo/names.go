package certinfo

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// attrNames are OpenSSL's short names for common RDN attribute types.
var attrNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.4":                    "SN", // surname
	"2.5.4.5":                    "serialNumber",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "street",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "title",
	"2.5.4.15":                   "businessCategory",
	"2.5.4.17":                   "postalCode",
	"2.5.4.41":                   "name",
	"2.5.4.42":                   "GN",
	"2.5.4.43":                   "initials",
	"2.5.4.44":                   "generationQualifier",
	"2.5.4.46":                   "dnQualifier",
	"2.5.4.65":                   "pseudonym",
	"2.5.4.97":                   "organizationIdentifier",
	"1.2.840.113549.1.9.1":       "emailAddress",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.3.6.1.4.1.311.60.2.1.1":   "jurisdictionL",
	"1.3.6.1.4.1.311.60.2.1.2":   "jurisdictionST",
	"1.3.6.1.4.1.311.60.2.1.3":   "jurisdictionC",
}

// formatName turns a DER Name (the full SEQUENCE element) into an RFC 4514
// string: last RDN first, as pkix.RDNSequence.String does. It also returns
// the last CN in wire order, which is the one crypto/x509 keeps. On a
// malformed Name it returns what it formatted so far.
func formatName(raw []byte) (dn, cn string, err error) {
	var rdns []string
	cn, err = walkName(raw, &rdns)
	for i, j := 0, len(rdns)-1; i < j; i, j = i+1, j-1 {
		rdns[i], rdns[j] = rdns[j], rdns[i]
	}
	return strings.Join(rdns, ","), cn, err
}

// walkName appends one formatted string per RDN, in wire order.
func walkName(raw []byte, rdns *[]string) (cn string, err error) {
	in := cryptobyte.String(raw)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, asn1.SEQUENCE) {
		return "", errors.New("malformed Name")
	}
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, asn1.SET) {
			return cn, errors.New("malformed RDN")
		}
		var atvs []string
		for !set.Empty() {
			var atv, oid, val cryptobyte.String
			var tag asn1.Tag
			if !set.ReadASN1(&atv, asn1.SEQUENCE) ||
				!atv.ReadASN1(&oid, asn1.OBJECT_IDENTIFIER) ||
				!atv.ReadAnyASN1Element(&val, &tag) {
				if len(atvs) > 0 {
					*rdns = append(*rdns, strings.Join(atvs, "+"))
				}
				return cn, errors.New("malformed attribute")
			}
			id := oidString(oid)
			name, known := attrNames[id]
			s, ok := decodeString(val)
			if !known || !ok {
				if !known {
					name = id
				}
				// RFC 4514 2.4: the DER value as #hex.
				atvs = append(atvs, name+"=#"+hex.EncodeToString(val))
				continue
			}
			if id == "2.5.4.3" {
				cn = sanitize(s)
			}
			atvs = append(atvs, name+"="+escapeDNValue(s))
		}
		*rdns = append(*rdns, strings.Join(atvs, "+"))
	}
	return cn, nil
}

// decodeString decodes a DER string element to Go text as crypto/x509
// does (T61String as Latin-1, BMPString as UCS-2), but without rejecting
// bad characters: invalid UTF-8 is kept for the caller to escape. ok is
// false for non-string types and undecodable BMP/UniversalStrings.
func decodeString(elem cryptobyte.String) (string, bool) {
	var v cryptobyte.String
	var tag asn1.Tag
	if !elem.ReadAnyASN1(&v, &tag) {
		return "", false
	}
	switch tag {
	case asn1.UTF8String, asn1.PrintableString, asn1.IA5String, asn1.Tag(18), // NumericString
		asn1.Tag(25), asn1.Tag(26), asn1.Tag(27): // Graphic, Visible, GeneralString
		return string(v), true
	case asn1.T61String:
		buf := make([]byte, 0, len(v))
		for _, b := range v {
			buf = utf8.AppendRune(buf, rune(b))
		}
		return string(buf), true
	case asn1.Tag(30): // BMPString
		if len(v)%2 != 0 {
			return "", false
		}
		u := make([]uint16, 0, len(v)/2)
		for i := 0; i < len(v); i += 2 {
			u = append(u, uint16(v[i])<<8|uint16(v[i+1]))
		}
		s := string(utf16.Decode(u))
		return strings.TrimSuffix(s, "\x00"), true
	case asn1.Tag(28): // UniversalString
		if len(v)%4 != 0 {
			return "", false
		}
		var b strings.Builder
		for i := 0; i < len(v); i += 4 {
			r := rune(v[i])<<24 | rune(v[i+1])<<16 | rune(v[i+2])<<8 | rune(v[i+3])
			if !utf8.ValidRune(r) {
				return "", false
			}
			b.WriteRune(r)
		}
		return b.String(), true
	}
	return "", false
}

// escapeDNValue applies RFC 4514 escaping as pkix.RDNSequence.String does,
// and writes bytes that are not UTF-8 as \xNN (see package doc).
func escapeDNValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i])
			i++
			continue
		}
		switch {
		case r == ',' || r == '+' || r == '"' || r == '\\' || r == '<' || r == '>' || r == ';',
			r == ' ' && (i == 0 || i == len(s)-1),
			r == '#' && i == 0:
			b.WriteByte('\\')
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

// sanitize replaces bytes that are not UTF-8 by \xNN and keeps the rest.
func sanitize(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i])
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// oidString formats OID content bytes in dotted form. Arcs of any size are
// handled; a malformed encoding is shown as #hex.
func oidString(b []byte) string {
	if len(b) == 0 || b[len(b)-1]&0x80 != 0 {
		return "#" + hex.EncodeToString(b)
	}
	var parts []string
	first := true
	for len(b) > 0 {
		n := 0
		for b[n]&0x80 != 0 {
			n++
		}
		arc := b[:n+1]
		b = b[n+1:]
		var v uint64
		var bv *big.Int // used once v would overflow
		for _, x := range arc {
			if bv == nil && v >= 1<<57 {
				bv = new(big.Int).SetUint64(v)
			}
			if bv != nil {
				bv.Lsh(bv, 7).Or(bv, big.NewInt(int64(x&0x7f)))
			} else {
				v = v<<7 | uint64(x&0x7f)
			}
		}
		if first {
			first = false
			// The first subidentifier packs the first two arcs (X.690 8.19.4).
			switch {
			case bv != nil:
				parts = append(parts, "2", bv.Sub(bv, big.NewInt(80)).String())
			case v < 40:
				parts = append(parts, "0", strconv.FormatUint(v, 10))
			case v < 80:
				parts = append(parts, "1", strconv.FormatUint(v-40, 10))
			default:
				parts = append(parts, "2", strconv.FormatUint(v-80, 10))
			}
			continue
		}
		if bv != nil {
			parts = append(parts, bv.String())
		} else {
			parts = append(parts, strconv.FormatUint(v, 10))
		}
	}
	return strings.Join(parts, ".")
}

// sigAlgs uses crypto/x509's SignatureAlgorithm.String() names where Go
// has one, so both parse paths agree.
var sigAlgs = map[string]string{
	"1.2.840.113549.1.1.2":    "MD2-RSA",
	"1.2.840.113549.1.1.4":    "MD5-RSA",
	"1.2.840.113549.1.1.5":    "SHA1-RSA",
	"1.3.14.3.2.29":           "SHA1-RSA",
	"1.2.840.113549.1.1.11":   "SHA256-RSA",
	"1.2.840.113549.1.1.12":   "SHA384-RSA",
	"1.2.840.113549.1.1.13":   "SHA512-RSA",
	"1.2.840.113549.1.1.14":   "SHA224-RSA",
	"1.2.840.10040.4.3":       "DSA-SHA1",
	"2.16.840.1.101.3.4.3.2":  "DSA-SHA256",
	"1.2.840.10045.4.1":       "ECDSA-SHA1",
	"1.2.840.10045.4.3.1":     "ECDSA-SHA224",
	"1.2.840.10045.4.3.2":     "ECDSA-SHA256",
	"1.2.840.10045.4.3.3":     "ECDSA-SHA384",
	"1.2.840.10045.4.3.4":     "ECDSA-SHA512",
	"1.3.101.112":             "Ed25519",
	"1.3.101.113":             "Ed448",
	"2.16.840.1.101.3.4.3.17": "ML-DSA-44",
	"2.16.840.1.101.3.4.3.18": "ML-DSA-65",
	"2.16.840.1.101.3.4.3.19": "ML-DSA-87",
	"1.2.156.10197.1.501":     "SM2-SM3",
}

const oidRSAPSS = "1.2.840.113549.1.1.10"

// pssHashes maps the PSS hash OID to x509's name for that variant.
var pssHashes = map[string]string{
	"1.3.14.3.2.26":          "SHA1-RSAPSS",
	"2.16.840.1.101.3.4.2.1": "SHA256-RSAPSS",
	"2.16.840.1.101.3.4.2.2": "SHA384-RSAPSS",
	"2.16.840.1.101.3.4.2.3": "SHA512-RSAPSS",
}

// sigAlgName names an AlgorithmIdentifier element; unknown ones are shown
// as the dotted OID. For RSASSA-PSS the name comes from the hash parameter
// (absent means SHA-1, RFC 4055).
func sigAlgName(ai cryptobyte.String) string {
	var seq, oid cryptobyte.String
	if !ai.ReadASN1(&seq, asn1.SEQUENCE) || !seq.ReadASN1(&oid, asn1.OBJECT_IDENTIFIER) {
		return ""
	}
	id := oidString(oid)
	if id != oidRSAPSS {
		if n, ok := sigAlgs[id]; ok {
			return n
		}
		return id
	}
	var params, hashAI, hashOID cryptobyte.String
	var present bool
	if !seq.ReadASN1(&params, asn1.SEQUENCE) ||
		!params.ReadOptionalASN1(&hashAI, &present, asn1.Tag(0).Constructed().ContextSpecific()) {
		return "RSASSA-PSS"
	}
	if !present {
		return pssHashes["1.3.14.3.2.26"]
	}
	if !hashAI.ReadASN1(&hashAI, asn1.SEQUENCE) || !hashAI.ReadASN1(&hashOID, asn1.OBJECT_IDENTIFIER) {
		return "RSASSA-PSS"
	}
	if n, ok := pssHashes[oidString(hashOID)]; ok {
		return n
	}
	return "RSASSA-PSS"
}

type curveInfo struct {
	name string
	bits int
}

// curves covers the named curves seen in TLS certificates, including the
// ones crypto/x509 rejects.
var curves = map[string]curveInfo{
	"1.2.840.10045.3.1.1":   {"P-192", 192},
	"1.3.132.0.33":          {"P-224", 224},
	"1.2.840.10045.3.1.7":   {"P-256", 256},
	"1.3.132.0.34":          {"P-384", 384},
	"1.3.132.0.35":          {"P-521", 521},
	"1.3.132.0.10":          {"secp256k1", 256},
	"1.3.36.3.3.2.8.1.1.1":  {"brainpoolP160r1", 160},
	"1.3.36.3.3.2.8.1.1.3":  {"brainpoolP192r1", 192},
	"1.3.36.3.3.2.8.1.1.5":  {"brainpoolP224r1", 224},
	"1.3.36.3.3.2.8.1.1.7":  {"brainpoolP256r1", 256},
	"1.3.36.3.3.2.8.1.1.9":  {"brainpoolP320r1", 320},
	"1.3.36.3.3.2.8.1.1.11": {"brainpoolP384r1", 384},
	"1.3.36.3.3.2.8.1.1.13": {"brainpoolP512r1", 512},
	"1.2.156.10197.1.301":   {"SM2", 256},
	"1.2.840.10045.3.1.2":   {"prime192v2", 192},
	"1.2.840.10045.3.1.3":   {"prime192v3", 192},
	"1.2.840.10045.3.1.4":   {"prime239v1", 239},
	"1.3.132.0.31":          {"secp192k1", 192},
	"1.3.132.0.32":          {"secp224k1", 224},
	"1.3.36.3.3.2.8.1.1.14": {"brainpoolP512t1", 512},
	"1.3.36.3.3.2.8.1.1.8":  {"brainpoolP256t1", 256},
	"1.3.36.3.3.2.8.1.1.12": {"brainpoolP384t1", 384},
}

// spkiInfo reports key type, size and curve from a SubjectPublicKeyInfo
// element. Sizes follow OpenSSL's EVP_PKEY_bits (X25519 253, Ed448 456).
func spkiInfo(raw cryptobyte.String) (keyType string, keyBits int, curve string, err error) {
	var spki, ai, oid, key cryptobyte.String
	if !raw.ReadASN1(&spki, asn1.SEQUENCE) || !spki.ReadASN1(&ai, asn1.SEQUENCE) ||
		!ai.ReadASN1(&oid, asn1.OBJECT_IDENTIFIER) {
		return "", 0, "", errors.New("malformed algorithm")
	}
	params := ai // what follows the OID
	id := oidString(oid)
	if !spki.ReadASN1(&key, asn1.BIT_STRING) || len(key) == 0 {
		err = errors.New("malformed subjectPublicKey")
	} else {
		key = key[1:] // unused-bits count
	}
	switch id {
	case "1.2.840.113549.1.1.1", oidRSAPSS:
		keyType = "RSA"
		if id == oidRSAPSS {
			keyType = "RSA-PSS"
		}
		var seq, n cryptobyte.String
		if err == nil && key.ReadASN1(&seq, asn1.SEQUENCE) && seq.ReadASN1(&n, asn1.INTEGER) {
			keyBits = intBits(n)
		} else if err == nil {
			err = errors.New("malformed RSA public key")
		}
	case "1.2.840.10045.2.1":
		keyType = "ECDSA"
		var curveOID cryptobyte.String
		switch {
		// Peek first: a failed ReadASN1 still consumes the element.
		case params.PeekASN1Tag(asn1.OBJECT_IDENTIFIER) && params.ReadASN1(&curveOID, asn1.OBJECT_IDENTIFIER):
			cid := oidString(curveOID)
			if ci, ok := curves[cid]; ok {
				return keyType, ci.bits, ci.name, err
			}
			curve = cid
		case params.PeekASN1Tag(asn1.SEQUENCE):
			curve = "explicit" // specifiedCurve parameters (RFC 3279)
		default:
			return keyType, 0, "", errors.New("malformed EC parameters")
		}
		if n := len(key); n > 1 && key[0] == 4 {
			keyBits = (n - 1) / 2 * 8 // estimate from an uncompressed point
		}
	case "1.3.101.112":
		keyType, keyBits = "Ed25519", 256
	case "1.3.101.113":
		keyType, keyBits = "Ed448", 456
	case "1.3.101.110":
		keyType, keyBits = "X25519", 253
	case "1.3.101.111":
		keyType, keyBits = "X448", 448
	case "1.2.840.10040.4.1":
		keyType = "DSA"
		var seq, p cryptobyte.String
		if params.ReadASN1(&seq, asn1.SEQUENCE) && seq.ReadASN1(&p, asn1.INTEGER) {
			keyBits = intBits(p)
		}
	default:
		if n, ok := sigAlgs[id]; ok && strings.HasPrefix(n, "ML-DSA") {
			keyType = n
		} else {
			keyType = id
		}
	}
	return keyType, keyBits, curve, err
}

// intBits is the bit length of an INTEGER's magnitude, ignoring padding.
func intBits(b []byte) int {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0
	}
	return (len(b)-1)*8 + bits.Len8(b[0])
}

// ipString formats a SAN iPAddress. 16-byte values stay IPv6 (an
// IPv4-mapped address keeps its ::ffff: form); other lengths become #hex.
func ipString(b []byte) string {
	switch len(b) {
	case 4:
		return netip.AddrFrom4([4]byte(b)).String()
	case 16:
		return netip.AddrFrom16([16]byte(b)).String()
	}
	return "#" + hex.EncodeToString(b)
}

// FormatName formats a DER-encoded X.501 Name (as carried in a TLS
// CertificateRequest's certificate_authorities) the way Subject and Issuer
// are formatted. A malformed Name gives what could be read, followed by
// " (malformed)".
func FormatName(raw []byte) string {
	dn, _, err := formatName(raw)
	if err != nil {
		return dn + " (malformed)"
	}
	return dn
}
