package findings

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/iana"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// Severities.
const (
	Info   = "info"
	Low    = "low"
	Medium = "medium"
	High   = "high"
)

// IDs lists every finding ID in the order Check reports them, with its
// severity. The order and the IDs are a public contract (README).
var IDs = []struct{ ID, Severity string }{
	{"version-ssl2", High},
	{"version-ssl3", High},
	{"version-tls10", Medium},
	{"version-tls11", Medium},
	{"server-chose-unoffered-version", Medium},
	{"suite-null", High},
	{"suite-export", High},
	{"suite-anon", High},
	{"suite-rc4", High},
	{"suite-des", High},
	{"suite-3des", Medium},
	{"suite-not-recommended", Low},
	{"server-chose-unoffered-suite", Medium},
	{"compression", Medium},
	{"no-sni", Info},
	{"renegotiation", Low},
	{"alert-fatal", Low},
	{"cert-unparsable", Low},
	{"cert-expired", Medium},
	{"cert-not-yet-valid", Medium},
	{"cert-weak-key", Medium},
	{"cert-weak-signature", Medium},
	{"cert-self-signed", Medium},
	{"cert-chain-order", Low},
	{"cert-name-mismatch", Medium},
	{"client-cert-unparsable", Low},
	{"client-cert-expired", Medium},
	{"client-cert-not-yet-valid", Medium},
	{"client-cert-weak-key", Medium},
	{"client-cert-weak-signature", Medium},
	{"client-cert-chain-order", Low},
}

var (
	severity = map[string]string{}
	rank     = map[string]int{}
)

func init() {
	for i, e := range IDs {
		severity[e.ID] = e.Severity
		rank[e.ID] = i
	}
}

// maxDetails is how many occurrences one finding's text lists before
// summarising the rest as "(and N more)".
const maxDetails = 3

// renegotiationWarning is the end of the warning tlsconn records when a
// side sends an encrypted handshake message after the handshake.
const renegotiationWarning = " sent an encrypted handshake message after the handshake (renegotiation or post-handshake message)"

// Check returns the findings for one handshake: each ID at most once, in
// the order of IDs, never nil. Several occurrences of one ID (two expired
// certificates, two fatal alerts) share one finding whose text lists them.
// Certificate validity is judged at the capture time s.TS, never the wall
// clock, so results do not change with the day the capture is read.
func Check(s *tlsconn.Summary) []tlsconn.Finding {
	var b builder
	if s == nil {
		return []tlsconn.Finding{}
	}
	checkVersion(&b, s)
	checkSuite(&b, s)
	if s.Compression != nil && *s.Compression != "null" {
		b.add("compression", fmt.Sprintf("server chose %s compression (CRIME)", quote(*s.Compression)))
	}
	if s.ClientLegacyVersion != nil && (s.SNI == nil || *s.SNI == "") {
		b.add("no-sni", "client sent no server_name (SNI)")
	}
	checkRenegotiation(&b, s)
	for _, a := range s.Alerts {
		if a.Fatal() {
			b.add("alert-fatal", fmt.Sprintf("%s sent fatal alert %s", quote(a.From), quote(a.Description)))
		}
	}
	checkChain(&b, s, s.ServerCertificates, "", "")
	checkName(&b, s)
	checkChain(&b, s, s.ClientCertificates, "client-", "client ")
	return b.findings()
}

// builder collects details per ID.
type builder struct {
	details map[string][]string
}

func (b *builder) add(id, text string) {
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

func (b *builder) findings() []tlsconn.Finding {
	out := make([]tlsconn.Finding, 0, len(b.details))
	for _, e := range IDs {
		d := b.details[e.ID]
		if len(d) == 0 {
			continue
		}
		text := strings.Join(d[:min(len(d), maxDetails)], "; ")
		if len(d) > maxDetails {
			text += fmt.Sprintf(" (and %d more)", len(d)-maxDetails)
		}
		out = append(out, tlsconn.Finding{ID: e.ID, Severity: e.Severity, Text: text})
	}
	return out
}

// quote makes wire-derived text safe for a one-line message: it is kept
// as is when printable ASCII without quotes, else Go-quoted.
func quote(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return strconv.Quote(s)
		}
	}
	return s
}

func checkVersion(b *builder, s *tlsconn.Summary) {
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
	if !contains(s.ClientExtensions, "supported_versions") {
		// Without supported_versions the client offers every version up
		// to its ClientHello version.
		legacy, ok := versionNumber(*s.ClientLegacyVersion)
		if !ok || v <= legacy {
			return
		}
		b.add("server-chose-unoffered-version", fmt.Sprintf("server chose %s, client offered up to %s", name, quote(*s.ClientLegacyVersion)))
		return
	}
	b.add("server-chose-unoffered-version", fmt.Sprintf("server chose %s, client offered %s", name, list(s.ClientVersions)))
}

// versionNumber maps a name from iana.VersionName back to its number.
func versionNumber(name string) (uint16, bool) {
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

// suiteFamilies names the weak families a cipher suite belongs to, from
// the tokens of its IANA name (TLS_<kx>_WITH_<cipher>_<mac>).
func suiteFamilies(name string) []string {
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

var familyWhy = map[string]string{
	"suite-null":   "no encryption",
	"suite-export": "export-grade",
	"suite-anon":   "no server authentication",
	"suite-rc4":    "RC4",
	"suite-des":    "single DES",
	"suite-3des":   "3DES, 64-bit blocks (Sweet32)",
}

func checkSuite(b *builder, s *tlsconn.Summary) {
	if s.CipherSuite == nil {
		return
	}
	name := *s.CipherSuite
	fams := suiteFamilies(name)
	for _, f := range fams {
		b.add(f, fmt.Sprintf("negotiated %s (%s)", quote(name), familyWhy[f]))
	}
	if len(fams) == 0 && s.CipherSuiteID != nil && *s.CipherSuiteID >= 0 && *s.CipherSuiteID <= 0xffff {
		switch rec := iana.CipherSuiteRecommended(uint16(*s.CipherSuiteID)); rec {
		case "Y":
		case "":
			b.add("suite-not-recommended", fmt.Sprintf("negotiated %s, which has no IANA Recommended value", quote(name)))
		default:
			b.add("suite-not-recommended", fmt.Sprintf("negotiated %s, IANA Recommended: %s", quote(name), rec))
		}
	}
	if s.ClientLegacyVersion != nil && len(s.ClientCipherSuites) > 0 && !contains(s.ClientCipherSuites, name) {
		b.add("server-chose-unoffered-suite", fmt.Sprintf("server chose %s, which the client did not offer (%d suites offered)", quote(name), len(s.ClientCipherSuites)))
	}
}

func checkRenegotiation(b *builder, s *tlsconn.Summary) {
	if s.Handshake > 1 {
		b.add("renegotiation", fmt.Sprintf("handshake %d in the clear on this connection", s.Handshake))
	}
	if s.VersionID != nil && (*s.VersionID >= 0x0304 && *s.VersionID>>8 != 0xfe) {
		return // TLS 1.3 has no renegotiation; its post-handshake messages are application data records
	}
	for _, w := range s.Warnings {
		if who, ok := strings.CutSuffix(w, renegotiationWarning); ok {
			b.add("renegotiation", quote(who)+" sent an encrypted handshake message after the handshake")
		}
	}
}

// checkChain applies the certificate checks to one chain. prefix goes in
// front of the IDs, side in front of the texts.
func checkChain(b *builder, s *tlsconn.Summary, certs []*certinfo.Certificate, prefix, side string) {
	for i, c := range certs {
		if c == nil {
			continue
		}
		what := label(i, c, side)
		if c.ParseError != "" {
			b.add(prefix+"cert-unparsable", fmt.Sprintf("%s: %s", what, quote(c.ParseError)))
		}
		// A self-signed certificate after the leaf is a root: clients take
		// the trust anchor from their own store, not from the chain.
		anchor := i > 0 && c.SelfSigned
		if !s.TS.IsZero() && !anchor {
			if !c.NotAfter.IsZero() && s.TS.After(c.NotAfter) {
				ts, na := dates(s.TS, c.NotAfter)
				b.add(prefix+"cert-expired", fmt.Sprintf("%s expired %s (handshake at %s)", what, na, ts))
			}
			if !c.NotBefore.IsZero() && s.TS.Before(c.NotBefore) {
				ts, nb := dates(s.TS, c.NotBefore)
				b.add(prefix+"cert-not-yet-valid", fmt.Sprintf("%s not valid before %s (handshake at %s)", what, nb, ts))
			}
		}
		if why := weakKey(c); why != "" {
			b.add(prefix+"cert-weak-key", fmt.Sprintf("%s has %s", what, why))
		}
		if !c.SelfSigned && weakSignature(c.SignatureAlgorithm) {
			b.add(prefix+"cert-weak-signature", fmt.Sprintf("%s is signed with %s", what, quote(c.SignatureAlgorithm)))
		}
		if i == 0 && prefix == "" && c.SelfSigned {
			b.add("cert-self-signed", fmt.Sprintf("%s is self-signed (%s)", what, quote(c.Subject)))
		}
		if i+1 < len(certs) && certs[i+1] != nil {
			next := certs[i+1]
			if c.Issuer != "" && next.Subject != "" && c.Issuer != next.Subject {
				b.add(prefix+"cert-chain-order", fmt.Sprintf("%s issuer %s is not the subject of the next certificate (%s)", what, quote(c.Issuer), quote(next.Subject)))
			}
		}
	}
}

// label names certificate i of a chain in a finding's text.
func label(i int, c *certinfo.Certificate, side string) string {
	l := side + "leaf certificate"
	if i > 0 {
		l = fmt.Sprintf("%schain certificate %d", side, i+1)
	}
	if c.SubjectCN != "" {
		l += " " + strconv.Quote(c.SubjectCN)
	}
	return l
}

// dates formats the handshake time and a certificate time as dates, or as
// full times when they fall on the same day.
func dates(ts, cert time.Time) (string, string) {
	a, b := ts.UTC().Format(time.DateOnly), cert.UTC().Format(time.DateOnly)
	if a == b {
		return ts.UTC().Format(time.RFC3339), cert.UTC().Format(time.RFC3339)
	}
	return a, b
}

// weakKey describes a key below the CA/Browser Forum Baseline Requirements
// minimums (RSA 2048 bits; NIST P-256 and up, 224 bits accepted here), or
// any DSA key; "" when the key is acceptable or its size unknown.
func weakKey(c *certinfo.Certificate) string {
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
		return fmt.Sprintf("a %d-bit EC key (%s)", c.KeyBits, quote(curve))
	}
	return ""
}

// weakSignature reports MD2, MD5 and SHA-1 signature algorithms, as named
// by certinfo ("SHA1-RSA", "ECDSA-SHA1", "SHA1-RSAPSS", "MD5-RSA").
func weakSignature(alg string) bool {
	a := strings.ToUpper(alg)
	return strings.Contains(a, "SHA1") || strings.Contains(a, "MD5") || strings.Contains(a, "MD2")
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// list formats names for a message, at most 5 of them.
func list(names []string) string {
	q := make([]string, 0, min(len(names), 5))
	for _, n := range names[:min(len(names), 5)] {
		q = append(q, quote(n))
	}
	out := "[" + strings.Join(q, ", ")
	if len(names) > 5 {
		out += fmt.Sprintf(", … %d more", len(names)-5)
	}
	return out + "]"
}
