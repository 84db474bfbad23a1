package findings_test

// A verbatim copy of Check as it was before the chain cache (names
// prefixed with ref), the reference that TestCheckMatchesReference holds
// Check to.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/findings"
	"github.com/tlsinspect/tlsinspect/iana"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

const refMaxDetails = 3

const refRenegotiationWarning = " sent an encrypted handshake message after the handshake (renegotiation or post-handshake message)"

// refCheck returns the findings for one handshake: each ID at most once, in
// the order of IDs, never nil. Several occurrences of one ID (two expired
// certificates, two fatal alerts) share one finding whose text lists them.
// Certificate validity is judged at the capture time s.TS, never the wall
// clock, so results do not change with the day the capture is read.
func refCheck(s *tlsconn.Summary) []tlsconn.Finding {
	var b refBuilder
	if s == nil {
		return []tlsconn.Finding{}
	}
	refCheckVersion(&b, s)
	refCheckSuite(&b, s)
	if s.Compression != nil && *s.Compression != "null" {
		b.add("compression", fmt.Sprintf("server chose %s compression (CRIME)", refQuote(*s.Compression)))
	}
	if s.ClientLegacyVersion != nil && (s.SNI == nil || *s.SNI == "") {
		b.add("no-sni", "client sent no server_name (SNI)")
	}
	refCheckRenegotiation(&b, s)
	for _, a := range s.Alerts {
		if a.Fatal() {
			b.add("alert-fatal", fmt.Sprintf("%s sent fatal alert %s", refQuote(a.From), refQuote(a.Description)))
		}
	}
	refCheckChain(&b, s, s.ServerCertificates, "", "")
	refCheckName(&b, s)
	refCheckChain(&b, s, s.ClientCertificates, "client-", "client ")
	return b.findings()
}

// refBuilder collects details per ID.
type refBuilder struct {
	details map[string][]string
}

func (b *refBuilder) add(id, text string) {
	if b.details == nil {
		b.details = map[string][]string{}
	}
	for _, d := range b.details[id] {
		if d == text {
			return
		}
	}
	b.details[id] = append(b.details[id], text)
}

func (b *refBuilder) findings() []tlsconn.Finding {
	out := make([]tlsconn.Finding, 0, len(b.details))
	for _, e := range findings.IDs {
		d := b.details[e.ID]
		if len(d) == 0 {
			continue
		}
		text := strings.Join(d[:min(len(d), refMaxDetails)], "; ")
		if len(d) > refMaxDetails {
			text += fmt.Sprintf(" (and %d more)", len(d)-refMaxDetails)
		}
		out = append(out, tlsconn.Finding{ID: e.ID, Severity: e.Severity, Text: text})
	}
	return out
}

// refQuote makes wire-derived text safe for a one-line message: it is kept
// as is when printable ASCII without quotes, else Go-quoted.
func refQuote(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return strconv.Quote(s)
		}
	}
	return s
}

func refCheckVersion(b *refBuilder, s *tlsconn.Summary) {
	if s.VersionID == nil {
		return
	}
	v := uint16(*s.VersionID)
	name := iana.VersionName(v)
	switch {
	case *s.VersionID == 0x0002:
		b.add("version-ssl2", "negotiated "+name)
	case *s.VersionID == 0x0300:
		b.add("version-ssl3", "negotiated "+name)
	case *s.VersionID == 0x0301:
		b.add("version-tls10", "negotiated "+name)
	case *s.VersionID == 0x0302:
		b.add("version-tls11", "negotiated "+name)
	}
	if *s.VersionID < 0 || *s.VersionID > 0xffff || s.ClientLegacyVersion == nil {
		return // no ClientHello seen: the offer is unknown
	}
	for _, o := range s.ClientVersions {
		if o == name {
			return
		}
	}
	if !refContains(s.ClientExtensions, "supported_versions") {
		// Without supported_versions the client offers every version up
		// to its ClientHello version.
		legacy, ok := refVersionNumber(*s.ClientLegacyVersion)
		if !ok || v <= legacy {
			return
		}
		b.add("server-chose-unoffered-version", fmt.Sprintf("server chose %s, client offered up to %s", name, refQuote(*s.ClientLegacyVersion)))
		return
	}
	b.add("server-chose-unoffered-version", fmt.Sprintf("server chose %s, client offered %s", name, refList(s.ClientVersions)))
}

// refVersionNumber maps a name from iana.VersionName back to its number.
func refVersionNumber(name string) (uint16, bool) {
	if strings.HasPrefix(name, "0x") {
		v, err := strconv.ParseUint(name[2:], 16, 16)
		return uint16(v), err == nil
	}
	for _, v := range []uint16{0x0002, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304} {
		if iana.VersionName(v) == name {
			return v, true
		}
	}
	for _, hi := range []uint16{0x7e00, 0x7f00, 0xfb00} {
		for lo := range uint16(0x100) {
			if iana.VersionName(hi|lo) == name {
				return hi | lo, true
			}
		}
	}
	return 0, false
}

// refSuiteFamilies names the weak families a cipher suite belongs to, from
// the tokens of its IANA name (TLS_<kx>_WITH_<cipher>_<mac>).
func refSuiteFamilies(name string) []string {
	tokens := strings.Split(name, "_")
	with := -1
	for i, t := range tokens {
		if t == "WITH" {
			with = i
			break
		}
	}
	var kx, cipher []string
	if with >= 0 {
		kx, cipher = tokens[1:with], tokens[with+1:]
	}
	has := func(ts []string, pred func(string) bool) bool {
		for _, t := range ts {
			if pred(t) {
				return true
			}
		}
		return false
	}
	eq := func(w string) func(string) bool { return func(t string) bool { return t == w } }
	var fams []string
	// RFC 9150 integrity-only TLS 1.3 suites encrypt nothing either.
	if len(cipher) > 0 && cipher[0] == "NULL" || name == "TLS_SHA256_SHA256" || name == "TLS_SHA384_SHA384" {
		fams = append(fams, "suite-null")
	}
	if has(kx, func(t string) bool { return strings.HasPrefix(t, "EXPORT") }) {
		fams = append(fams, "suite-export")
	}
	if has(kx, eq("anon")) || len(kx) == 1 && kx[0] == "NULL" {
		fams = append(fams, "suite-anon")
	}
	if has(cipher, eq("RC4")) {
		fams = append(fams, "suite-rc4")
	}
	if has(cipher, eq("DES")) || has(cipher, eq("DES40")) {
		fams = append(fams, "suite-des")
	}
	if has(cipher, eq("3DES")) {
		fams = append(fams, "suite-3des")
	}
	return fams
}

var refFamilyWhy = map[string]string{
	"suite-null":   "no encryption",
	"suite-export": "export-grade",
	"suite-anon":   "no server authentication",
	"suite-rc4":    "RC4",
	"suite-des":    "single DES",
	"suite-3des":   "3DES, 64-bit blocks (Sweet32)",
}

func refCheckSuite(b *refBuilder, s *tlsconn.Summary) {
	if s.CipherSuite == nil {
		return
	}
	name := *s.CipherSuite
	fams := refSuiteFamilies(name)
	for _, f := range fams {
		b.add(f, fmt.Sprintf("negotiated %s (%s)", refQuote(name), refFamilyWhy[f]))
	}
	if len(fams) == 0 && s.CipherSuiteID != nil && *s.CipherSuiteID >= 0 && *s.CipherSuiteID <= 0xffff {
		switch rec := iana.CipherSuiteRecommended(uint16(*s.CipherSuiteID)); rec {
		case "Y":
		case "":
			b.add("suite-not-recommended", fmt.Sprintf("negotiated %s, which has no IANA Recommended value", refQuote(name)))
		default:
			b.add("suite-not-recommended", fmt.Sprintf("negotiated %s, IANA Recommended: %s", refQuote(name), rec))
		}
	}
	if s.ClientLegacyVersion != nil && len(s.ClientCipherSuites) > 0 && !refContains(s.ClientCipherSuites, name) {
		b.add("server-chose-unoffered-suite", fmt.Sprintf("server chose %s, which the client did not offer (%d suites offered)", refQuote(name), len(s.ClientCipherSuites)))
	}
}

func refCheckRenegotiation(b *refBuilder, s *tlsconn.Summary) {
	if s.Handshake > 1 {
		b.add("renegotiation", fmt.Sprintf("handshake %d in the clear on this connection", s.Handshake))
	}
	if s.VersionID != nil && (*s.VersionID >= 0x0304 && *s.VersionID>>8 != 0xfe) {
		return // TLS 1.3 has no renegotiation; its post-handshake messages are application data records
	}
	for _, w := range s.Warnings {
		if who, ok := strings.CutSuffix(w, refRenegotiationWarning); ok {
			b.add("renegotiation", refQuote(who)+" sent an encrypted handshake message after the handshake")
		}
	}
}

// refCheckChain applies the certificate checks to one chain. prefix goes in
// front of the IDs, side in front of the texts.
func refCheckChain(b *refBuilder, s *tlsconn.Summary, certs []*certinfo.Certificate, prefix, side string) {
	for i, c := range certs {
		if c == nil {
			continue
		}
		what := refLabel(i, c, side)
		if c.ParseError != "" {
			b.add(prefix+"cert-unparsable", fmt.Sprintf("%s: %s", what, refQuote(c.ParseError)))
		}
		// A self-signed certificate after the leaf is a root: clients take
		// the trust anchor from their own store, not from the chain.
		anchor := i > 0 && c.SelfSigned
		if !s.TS.IsZero() && !anchor {
			if !c.NotAfter.IsZero() && s.TS.After(c.NotAfter) {
				ts, na := refDates(s.TS, c.NotAfter)
				b.add(prefix+"cert-expired", fmt.Sprintf("%s expired %s (handshake at %s)", what, na, ts))
			}
			if !c.NotBefore.IsZero() && s.TS.Before(c.NotBefore) {
				ts, nb := refDates(s.TS, c.NotBefore)
				b.add(prefix+"cert-not-yet-valid", fmt.Sprintf("%s not valid before %s (handshake at %s)", what, nb, ts))
			}
		}
		if why := refWeakKey(c); why != "" {
			b.add(prefix+"cert-weak-key", fmt.Sprintf("%s has %s", what, why))
		}
		if !c.SelfSigned && refWeakSignature(c.SignatureAlgorithm) {
			b.add(prefix+"cert-weak-signature", fmt.Sprintf("%s is signed with %s", what, refQuote(c.SignatureAlgorithm)))
		}
		if i == 0 && prefix == "" && c.SelfSigned {
			b.add("cert-self-signed", fmt.Sprintf("%s is self-signed (%s)", what, refQuote(c.Subject)))
		}
		if i+1 < len(certs) && certs[i+1] != nil {
			next := certs[i+1]
			if c.Issuer != "" && next.Subject != "" && c.Issuer != next.Subject {
				b.add(prefix+"cert-chain-order", fmt.Sprintf("%s issuer %s is not the subject of the next certificate (%s)", what, refQuote(c.Issuer), refQuote(next.Subject)))
			}
		}
	}
}

// refLabel names certificate i of a chain in a finding's text.
func refLabel(i int, c *certinfo.Certificate, side string) string {
	l := side + "leaf certificate"
	if i > 0 {
		l = fmt.Sprintf("%schain certificate %d", side, i+1)
	}
	if c.SubjectCN != "" {
		l += " " + strconv.Quote(c.SubjectCN)
	}
	return l
}

// refDates formats the handshake time and a certificate time as refDates, or as
// full times when they fall on the same day.
func refDates(ts, cert time.Time) (string, string) {
	a, b := ts.UTC().Format(time.DateOnly), cert.UTC().Format(time.DateOnly)
	if a == b {
		return ts.UTC().Format(time.RFC3339), cert.UTC().Format(time.RFC3339)
	}
	return a, b
}

// refWeakKey describes a key below the CA/Browser Forum Baseline Requirements
// minimums (RSA 2048 bits; NIST P-256 and up, 224 bits accepted here), or
// any DSA key; "" when the key is acceptable or its size unknown.
func refWeakKey(c *certinfo.Certificate) string {
	switch {
	case (c.KeyType == "RSA" || c.KeyType == "RSA-PSS") && c.KeyBits > 0 && c.KeyBits < 2048:
		return fmt.Sprintf("a %d-bit %s key", c.KeyBits, c.KeyType)
	case c.KeyType == "DSA" && c.KeyBits > 0:
		return fmt.Sprintf("a %d-bit DSA key", c.KeyBits)
	case c.KeyType == "DSA":
		return "a DSA key"
	case c.KeyType == "ECDSA" && c.KeyBits > 0 && c.KeyBits < 224:
		curve := c.Curve
		if curve == "" {
			curve = "unknown curve"
		}
		return fmt.Sprintf("a %d-bit EC key (%s)", c.KeyBits, refQuote(curve))
	}
	return ""
}

// refWeakSignature reports MD2, MD5 and SHA-1 signature algorithms, as named
// by certinfo ("SHA1-RSA", "ECDSA-SHA1", "SHA1-RSAPSS", "MD5-RSA").
func refWeakSignature(alg string) bool {
	a := strings.ToUpper(alg)
	return strings.Contains(a, "SHA1") || strings.Contains(a, "MD5") || strings.Contains(a, "MD2")
}

func refContains(refList []string, s string) bool {
	for _, e := range refList {
		if e == s {
			return true
		}
	}
	return false
}

// refList formats names for a message, at most 5 of them.
func refList(names []string) string {
	q := make([]string, 0, min(len(names), 5))
	for _, n := range names[:min(len(names), 5)] {
		q = append(q, refQuote(n))
	}
	out := "[" + strings.Join(q, ", ")
	if len(names) > 5 {
		out += fmt.Sprintf(", … %d more", len(names)-5)
	}
	return out + "]"
}

// refCheckName reports cert-name-mismatch.
func refCheckName(b *refBuilder, s *tlsconn.Summary) {
	if s.SNI == nil || *s.SNI == "" || len(s.ServerCertificates) == 0 || s.ServerCertificates[0] == nil {
		return
	}
	sni := *s.SNI
	switch result, names := findings.CheckLeafName(s.ServerCertificates[0], sni); result {
	case findings.NameNoNames:
		b.add("cert-name-mismatch", fmt.Sprintf("SNI %s: leaf certificate has no DNS name, IP address or CN", refQuote(sni)))
	case findings.NameMismatch:
		b.add("cert-name-mismatch", fmt.Sprintf("SNI %s does not match leaf certificate names %s", refQuote(sni), refList(names)))
	}
	// NameUnparsable: cert-unparsable says why nothing could be read.
}
