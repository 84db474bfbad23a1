package certinfo

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// Extension OIDs the fallback decodes.
const (
	oidSAN              = "2.5.29.17"
	oidBasicConstraints = "2.5.29.19"
)

var (
	tagVersion    = asn1.Tag(0).Constructed().ContextSpecific()
	tagIssuerUID  = asn1.Tag(1).ContextSpecific()
	tagSubjectUID = asn1.Tag(2).ContextSpecific()
	tagExtensions = asn1.Tag(3).Constructed().ContextSpecific()
)

// fallback fills c from der with a lenient cryptobyte walk of the
// TBSCertificate, for certificates crypto/x509 rejected. It keeps every
// field read before a failure; the error says what stopped it and where.
func fallback(der []byte, c *Certificate) error {
	var errs []string
	in := cryptobyte.String(der)
	// Certificate and TBSCertificate headers are read leniently so a
	// truncated capture still yields its leading fields.
	cert, err := readLaxSequence(&in, "Certificate")
	if err != nil {
		if cert == nil {
			return err
		}
		errs = append(errs, err.Error())
	}
	tbs, err := readLaxSequence(&cert, "TBSCertificate")
	if err != nil {
		if tbs == nil {
			return joinErrs(append(errs, err.Error()))
		}
		errs = append(errs, err.Error())
	}
	if err := walkTBS(der, tbs, c); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) == 0 {
		return nil
	}
	return joinErrs(errs)
}

func joinErrs(errs []string) error { return errors.New(strings.Join(errs, "; ")) }

// walkTBS reads the TBSCertificate body. Errors inside an element that was
// delimited correctly (a name, a time, the key, one extension) are noted and
// the walk goes on; an element that cannot be delimited ends it.
func walkTBS(der []byte, tbs cryptobyte.String, c *Certificate) error {
	var errs []string
	// at marks the element being read: a failed cryptobyte read may have
	// consumed it already, and the offset should point at its start.
	var at cryptobyte.String
	fail := func(field string) error {
		errs = append(errs, fmt.Sprintf("TBSCertificate.%s: malformed at offset %d", field, offset(der, at)))
		return joinErrs(errs)
	}
	note := func(field string, err error) {
		errs = append(errs, fmt.Sprintf("TBSCertificate.%s: %v", field, err))
	}

	var version int64
	at = tbs
	if !tbs.ReadOptionalASN1Integer(&version, tagVersion, int64(0)) {
		return fail("version")
	}
	c.Version = int(version) + 1

	var serial cryptobyte.String
	at = tbs
	if !tbs.ReadASN1(&serial, asn1.INTEGER) {
		return fail("serialNumber")
	}
	c.Serial = strings.ToUpper(hex.EncodeToString(serial))

	var sigAI cryptobyte.String
	at = tbs
	if !tbs.ReadASN1Element(&sigAI, asn1.SEQUENCE) {
		return fail("signature")
	}
	c.SignatureAlgorithm = sigAlgName(sigAI)

	var issuer, subject cryptobyte.String
	at = tbs
	if !tbs.ReadASN1Element(&issuer, asn1.SEQUENCE) {
		return fail("issuer")
	}
	var err error
	if c.Issuer, _, err = formatName(issuer); err != nil {
		note("issuer", err)
	}

	var validity cryptobyte.String
	at = tbs
	if !tbs.ReadASN1(&validity, asn1.SEQUENCE) {
		return fail("validity")
	}
	if c.NotBefore, err = readTime(&validity); err != nil {
		note("validity.notBefore", err)
	}
	if c.NotAfter, err = readTime(&validity); err != nil {
		note("validity.notAfter", err)
	}

	at = tbs
	if !tbs.ReadASN1Element(&subject, asn1.SEQUENCE) {
		return fail("subject")
	}
	if c.Subject, c.SubjectCN, err = formatName(subject); err != nil {
		note("subject", err)
	}
	c.SelfSigned = string(issuer) == string(subject)

	var spki cryptobyte.String
	at = tbs
	if !tbs.ReadASN1Element(&spki, asn1.SEQUENCE) {
		return fail("subjectPublicKeyInfo")
	}
	if c.KeyType, c.KeyBits, c.Curve, err = spkiInfo(spki); err != nil {
		note("subjectPublicKeyInfo", err)
	}

	at = tbs
	if !tbs.SkipOptionalASN1(tagIssuerUID) || !tbs.SkipOptionalASN1(tagIssuerUID.Constructed()) {
		return fail("issuerUniqueID")
	}
	at = tbs
	if !tbs.SkipOptionalASN1(tagSubjectUID) || !tbs.SkipOptionalASN1(tagSubjectUID.Constructed()) {
		return fail("subjectUniqueID")
	}

	var exts cryptobyte.String
	var present bool
	at = tbs
	if !tbs.ReadOptionalASN1(&exts, &present, tagExtensions) {
		return fail("extensions")
	}
	if present {
		at = exts
		if !exts.ReadASN1(&exts, asn1.SEQUENCE) {
			return fail("extensions")
		}
		for !exts.Empty() {
			var ext, oid, value cryptobyte.String
			at = exts
			if !exts.ReadASN1(&ext, asn1.SEQUENCE) || !ext.ReadASN1(&oid, asn1.OBJECT_IDENTIFIER) {
				return fail("extensions")
			}
			at = ext
			if ext.PeekASN1Tag(asn1.BOOLEAN) && !ext.SkipASN1(asn1.BOOLEAN) {
				return fail("extensions")
			}
			at = ext
			if !ext.ReadASN1(&value, asn1.OCTET_STRING) {
				note("extensions", fmt.Errorf("extension %s: malformed value at offset %d", oidString(oid), offset(der, at)))
				continue
			}
			switch oidString(oid) {
			case oidSAN:
				if err := parseSAN(c, value); err != nil {
					note("extensions", fmt.Errorf("subjectAltName: %v", err))
				}
			case oidBasicConstraints:
				if err := parseBasicConstraints(c, value); err != nil {
					note("extensions", fmt.Errorf("basicConstraints: %v", err))
				}
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return joinErrs(errs)
}

// readLaxSequence reads a SEQUENCE header and returns its body. If the
// declared length runs past the input, it returns what is there together
// with an error; it returns nil only when the header itself is unusable.
func readLaxSequence(s *cryptobyte.String, what string) (cryptobyte.String, error) {
	b := *s
	if len(b) < 2 {
		return nil, fmt.Errorf("%s: %d bytes, too short for a header", what, len(b))
	}
	if b[0] != byte(asn1.SEQUENCE) {
		return nil, fmt.Errorf("%s: tag 0x%02x is not SEQUENCE", what, b[0])
	}
	hdr, length := 2, int(b[1])
	if b[1]&0x80 != 0 {
		n := int(b[1] & 0x7f)
		if n == 0 || n > 4 {
			return nil, fmt.Errorf("%s: unsupported length encoding 0x%02x", what, b[1])
		}
		if len(b) < 2+n {
			return nil, fmt.Errorf("%s: length bytes truncated", what)
		}
		length = 0
		for _, x := range b[2 : 2+n] {
			length = length<<8 | int(x)
		}
		hdr += n
	}
	rest := len(b) - hdr
	if length > rest {
		*s = nil
		return cryptobyte.String(b[hdr:]), fmt.Errorf("%s: length %d exceeds remaining %d (truncated)", what, length, rest)
	}
	*s = cryptobyte.String(b[hdr+length:])
	return cryptobyte.String(b[hdr : hdr+length]), nil
}

// offset is the position of sub in der. cryptobyte hands out sub-slices of
// the input, so the difference in capacity is the distance from the start.
func offset(der []byte, sub cryptobyte.String) int {
	o := cap(der) - cap(sub)
	if o < 0 || o > len(der) {
		return -1
	}
	return o
}

// rawSerial returns the serial number's encoded content bytes as hex.
// crypto/x509 only gives a big.Int, which loses padding and sign bytes.
func rawSerial(rawTBS []byte) string {
	tbs := cryptobyte.String(rawTBS)
	var serial cryptobyte.String
	if !tbs.ReadASN1(&tbs, asn1.SEQUENCE) ||
		!tbs.SkipOptionalASN1(tagVersion) ||
		!tbs.ReadASN1(&serial, asn1.INTEGER) {
		return ""
	}
	return strings.ToUpper(hex.EncodeToString(serial))
}

// sigAlgNameFromTBS names the TBS signature algorithm for algorithms
// crypto/x509 does not know (ML-DSA, Ed448, ...).
func sigAlgNameFromTBS(rawTBS []byte) string {
	tbs := cryptobyte.String(rawTBS)
	var ai cryptobyte.String
	if !tbs.ReadASN1(&tbs, asn1.SEQUENCE) ||
		!tbs.SkipOptionalASN1(tagVersion) ||
		!tbs.SkipASN1(asn1.INTEGER) ||
		!tbs.ReadASN1Element(&ai, asn1.SEQUENCE) {
		return ""
	}
	return sigAlgName(ai)
}

// readTime reads a UTCTime or GeneralizedTime leniently: seconds may be
// missing and a numeric offset may replace Z, as seen in old certificates.
func readTime(s *cryptobyte.String) (time.Time, error) {
	var v cryptobyte.String
	var tag asn1.Tag
	if !s.ReadAnyASN1(&v, &tag) {
		return time.Time{}, errors.New("missing")
	}
	var layouts []string
	switch tag {
	case asn1.UTCTime:
		layouts = []string{"060102150405Z0700", "0601021504Z0700"}
	case asn1.GeneralizedTime:
		layouts = []string{"20060102150405Z0700", "200601021504Z0700", "20060102150405"}
	default:
		return time.Time{}, fmt.Errorf("tag 0x%02x is not a time", uint8(tag))
	}
	for _, l := range layouts {
		t, err := time.Parse(l, string(v))
		if err != nil {
			continue
		}
		// RFC 5280 4.1.2.5.1: UTCTime years 50-99 are 19xx; Go's "06" puts
		// 50-68 in the 2000s.
		if tag == asn1.UTCTime && t.Year() >= 2050 {
			t = t.AddDate(-100, 0, 0)
		}
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("unparsable time %q", string(v))
}

// parseSAN appends the dNSName, iPAddress, rfc822Name and URI entries of a
// subjectAltName extension value; other GeneralName kinds are skipped.
func parseSAN(c *Certificate, value []byte) error {
	s := cryptobyte.String(value)
	var names cryptobyte.String
	if !s.ReadASN1(&names, asn1.SEQUENCE) {
		return errors.New("malformed GeneralNames")
	}
	for !names.Empty() {
		var v cryptobyte.String
		var tag asn1.Tag
		if !names.ReadAnyASN1(&v, &tag) {
			return errors.New("malformed GeneralName")
		}
		switch tag {
		case asn1.Tag(1).ContextSpecific():
			c.EmailAddresses = append(c.EmailAddresses, sanitize(string(v)))
		case asn1.Tag(2).ContextSpecific():
			c.DNSNames = append(c.DNSNames, sanitize(string(v)))
		case asn1.Tag(6).ContextSpecific():
			c.URIs = append(c.URIs, sanitize(string(v)))
		case asn1.Tag(7).ContextSpecific():
			c.IPAddresses = append(c.IPAddresses, ipString(v))
		}
	}
	return nil
}

// parseBasicConstraints sets IsCA. A BER-style non-0xFF true is accepted.
func parseBasicConstraints(c *Certificate, value []byte) error {
	s := cryptobyte.String(value)
	var seq, b cryptobyte.String
	if !s.ReadASN1(&seq, asn1.SEQUENCE) {
		return errors.New("malformed")
	}
	if seq.PeekASN1Tag(asn1.BOOLEAN) {
		if !seq.ReadASN1(&b, asn1.BOOLEAN) || len(b) != 1 {
			return errors.New("malformed cA")
		}
		c.IsCA = b[0] != 0
	}
	return nil
}
