package findings

import (
	"slices"
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
	if len(IDs) != numIDs {
		panic("findings: numIDs is not len(IDs)")
	}
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
func Check(s *tlsconn.Summary) []tlsconn.Finding { return (*Checker)(nil).Check(s) }

// A Checker is Check that remembers what it found about the certificate
// chains it has seen (chaincache.go): give it the summaries of one
// tlsconn.Tracker, whose certificates repeat. Not safe for concurrent
// use. The nil *Checker remembers nothing.
type Checker struct{ chains *chainCache }

// NewChecker returns a Checker.
func NewChecker() *Checker { return &Checker{chains: newChainCache(chainCacheEntries)} }

// Check is Check, with what c remembers.
func (c *Checker) Check(s *tlsconn.Summary) []tlsconn.Finding {
	var chains *chainCache
	if c != nil {
		chains = c.chains
	}
	if s == nil {
		return []tlsconn.Finding{}
	}
	var b builder
	checkVersion(&b, s)
	checkSuite(&b, s)
	if s.Compression != nil && *s.Compression != "null" {
		b.add("compression", "server chose "+quote(*s.Compression)+" compression (CRIME)")
	}
	if s.ClientLegacyVersion != nil && (s.SNI == nil || *s.SNI == "") {
		b.add("no-sni", "client sent no server_name (SNI)")
	}
	checkRenegotiation(&b, s)
	for _, a := range s.Alerts {
		if a.Fatal() {
			b.add("alert-fatal", quote(a.From)+" sent fatal alert "+quote(a.Description))
		}
	}
	checkChain(&b, chains, s, s.ServerCertificates, false)
	checkName(&b, s)
	checkChain(&b, chains, s, s.ClientCertificates, true)
	return b.findings()
}

// numIDs is len(IDs), as a constant for builder's array (checked in init).
const numIDs = 31

// builder collects details per ID, indexed by rank. The first detail of an
// ID is kept inline (most findings have one), the rest in more. It holds
// no pointer into itself, so that it stays on the stack of Check.
type builder struct {
	has   [numIDs]bool
	first [numIDs]string
	more  [numIDs][]string
	n     int // IDs with a detail: the size of the result
}

func (b *builder) add(id, text string) {
	i, ok := rank[id]
	if !ok {
		return
	}
	b.addAt(i, text)
}

func (b *builder) addAt(i int, text string) {
	switch {
	case !b.has[i]:
		b.has[i], b.first[i] = true, text
		b.n++
	case text != b.first[i] && !slices.Contains(b.more[i], text):
		b.more[i] = append(b.more[i], text)
	}
}

func (b *builder) findings() []tlsconn.Finding {
	out := make([]tlsconn.Finding, 0, b.n)
	for i, e := range IDs {
		if !b.has[i] {
			continue
		}
		text := b.first[i] // the common case: one detail, nothing to join
		if more := b.more[i]; len(more) > 0 {
			d := append([]string{text}, more...)
			text = strings.Join(d[:min(len(d), maxDetails)], "; ")
			if len(d) > maxDetails {
				text += " (and " + strconv.Itoa(len(d)-maxDetails) + " more)"
			}
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
		b.add("server-chose-unoffered-version", "server chose "+name+", client offered up to "+quote(*s.ClientLegacyVersion))
		return
	}
	b.add("server-chose-unoffered-version", "server chose "+name+", client offered "+list(s.ClientVersions))
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
// the tokens of its IANA name (TLS_<kx>_WITH_<cipher>_<mac>): kx are the
// tokens between the first and "WITH", cipher those after it (none of
// either without a "WITH" token).
func suiteFamilies(name string) []string {
	with := false
	var (
		kxN               int
		kxFirst           string
		kxExport, kxAnon  bool
		cN                int
		cFirst            string
		cRC4, cDES, c3DES bool
	)
	rest := name
	for i := 0; ; i++ {
		tok, r, more := strings.Cut(rest, "_")
		switch {
		case !with && tok == "WITH":
			with = true
		case !with && i > 0:
			if kxN == 0 {
				kxFirst = tok
			}
			kxN++
			kxExport = kxExport || strings.HasPrefix(tok, "EXPORT")
			kxAnon = kxAnon || tok == "anon"
		case with:
			if cN == 0 {
				cFirst = tok
			}
			cN++
			cRC4 = cRC4 || tok == "RC4"
			cDES = cDES || tok == "DES" || tok == "DES40"
			c3DES = c3DES || tok == "3DES"
		}
		if !more {
			break
		}
		rest = r
	}
	if !with {
		kxN, kxExport, kxAnon = 0, false, false
	}
	var fams []string
	// RFC 9150 integrity-only TLS 1.3 suites encrypt nothing either.
	if cN > 0 && cFirst == "NULL" || name == "TLS_SHA256_SHA256" || name == "TLS_SHA384_SHA384" {
		fams = append(fams, "suite-null")
	}
	if kxExport {
		fams = append(fams, "suite-export")
	}
	if kxAnon || kxN == 1 && kxFirst == "NULL" {
		fams = append(fams, "suite-anon")
	}
	if cRC4 {
		fams = append(fams, "suite-rc4")
	}
	if cDES {
		fams = append(fams, "suite-des")
	}
	if c3DES {
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
		b.add(f, "negotiated "+quote(name)+" ("+familyWhy[f]+")")
	}
	if len(fams) == 0 && s.CipherSuiteID != nil && *s.CipherSuiteID >= 0 && *s.CipherSuiteID <= 0xffff {
		switch rec := iana.CipherSuiteRecommended(uint16(*s.CipherSuiteID)); rec {
		case "Y":
		case "":
			b.add("suite-not-recommended", "negotiated "+quote(name)+", which has no IANA Recommended value")
		default:
			b.add("suite-not-recommended", "negotiated "+quote(name)+", IANA Recommended: "+rec)
		}
	}
	if s.ClientLegacyVersion != nil && len(s.ClientCipherSuites) > 0 && !contains(s.ClientCipherSuites, name) {
		b.add("server-chose-unoffered-suite", "server chose "+quote(name)+", which the client did not offer ("+strconv.Itoa(len(s.ClientCipherSuites))+" suites offered)")
	}
}

func checkRenegotiation(b *builder, s *tlsconn.Summary) {
	if s.Handshake > 1 {
		b.add("renegotiation", "handshake "+strconv.Itoa(s.Handshake)+" in the clear on this connection")
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

// checkChain applies the certificate checks to one chain; client selects
// the "client-" IDs and the "client " texts. What depends only on the
// chain comes from chains (chaincache.go); validity, which depends on the
// handshake time, is judged here.
func checkChain(b *builder, chains *chainCache, s *tlsconn.Summary, certs []*certinfo.Certificate, client bool) {
	if len(certs) == 0 {
		return
	}
	r := chains.get(certs, client)
	for _, a := range r.adds {
		b.addAt(a.id, a.text)
	}
	if s.TS.IsZero() {
		return
	}
	prefix := ""
	if client {
		prefix = "client-"
	}
	for i, c := range certs {
		// A self-signed certificate after the leaf is a root: clients take
		// the trust anchor from their own store, not from the chain.
		if c == nil || i > 0 && c.SelfSigned {
			continue
		}
		if !c.NotAfter.IsZero() && s.TS.After(c.NotAfter) {
			b.add(prefix+"cert-expired", validityText(r.labels[i], " expired ", s.TS, c.NotAfter))
		}
		if !c.NotBefore.IsZero() && s.TS.Before(c.NotBefore) {
			b.add(prefix+"cert-not-yet-valid", validityText(r.labels[i], " not valid before ", s.TS, c.NotBefore))
		}
	}
}

// validityText is what + verb + the certificate date + " (handshake at " +
// the handshake date + ")": the UTC dates, or the times to the second when
// both fall on the same day.
func validityText(what, verb string, ts, cert time.Time) string {
	var tb, cb [32]byte
	ts, cert = ts.UTC(), cert.UTC()
	a, c := ts.AppendFormat(tb[:0], time.DateOnly), cert.AppendFormat(cb[:0], time.DateOnly)
	if string(a) == string(c) {
		a, c = ts.AppendFormat(tb[:0], time.RFC3339), cert.AppendFormat(cb[:0], time.RFC3339)
	}
	return what + verb + string(c) + " (handshake at " + string(a) + ")"
}

// chainResult is what Check reports about a chain that does not depend on
// the handshake: the certificates' labels and the findings other than
// validity, in the order checkChain used to add them.
type chainResult struct {
	labels []string // per certificate; "" for a nil one
	adds   []chainAdd
}

type chainAdd struct {
	id   int // rank
	text string
}

// checkChainStatic computes a chainResult.
func checkChainStatic(certs []*certinfo.Certificate, client bool) *chainResult {
	prefix, side := "", ""
	if client {
		prefix, side = "client-", "client "
	}
	r := &chainResult{labels: make([]string, len(certs))}
	add := func(id, text string) {
		r.adds = append(r.adds, chainAdd{rank[id], text})
	}
	for i, c := range certs {
		if c == nil {
			continue
		}
		what := label(i, c, side)
		r.labels[i] = what
		if c.ParseError != "" {
			add(prefix+"cert-unparsable", what+": "+quote(c.ParseError))
		}
		if why := weakKey(c); why != "" {
			add(prefix+"cert-weak-key", what+" has "+why)
		}
		if !c.SelfSigned && weakSignature(c.SignatureAlgorithm) {
			add(prefix+"cert-weak-signature", what+" is signed with "+quote(c.SignatureAlgorithm))
		}
		if i == 0 && !client && c.SelfSigned {
			add("cert-self-signed", what+" is self-signed ("+quote(c.Subject)+")")
		}
		if i+1 < len(certs) && certs[i+1] != nil {
			next := certs[i+1]
			if c.Issuer != "" && next.Subject != "" && c.Issuer != next.Subject {
				add(prefix+"cert-chain-order", what+" issuer "+quote(c.Issuer)+" is not the subject of the next certificate ("+quote(next.Subject)+")")
			}
		}
	}
	return r
}

// label names certificate i of a chain in a finding's text.
func label(i int, c *certinfo.Certificate, side string) string {
	var n string
	if i > 0 {
		n = "chain certificate " + strconv.Itoa(i+1)
	} else {
		n = "leaf certificate"
	}
	if c.SubjectCN != "" {
		return side + n + " " + strconv.Quote(c.SubjectCN)
	}
	return side + n
}

// weakKey describes a key below the CA/Browser Forum Baseline Requirements
// minimums (RSA 2048 bits; NIST P-256 and up, 224 bits accepted here), or
// any DSA key; "" when the key is acceptable or its size unknown.
func weakKey(c *certinfo.Certificate) string {
	switch {
	case (c.KeyType == "RSA" || c.KeyType == "RSA-PSS") && c.KeyBits > 0 && c.KeyBits < 2048:
		return "a " + strconv.Itoa(c.KeyBits) + "-bit " + c.KeyType + " key"
	case c.KeyType == "DSA" && c.KeyBits > 0:
		return "a " + strconv.Itoa(c.KeyBits) + "-bit DSA key"
	case c.KeyType == "DSA":
		return "a DSA key"
	case c.KeyType == "ECDSA" && c.KeyBits > 0 && c.KeyBits < 224:
		curve := c.Curve
		if curve == "" {
			curve = "unknown curve"
		}
		return "a " + strconv.Itoa(c.KeyBits) + "-bit EC key (" + quote(curve) + ")"
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
		out += ", … " + strconv.Itoa(len(names)-5) + " more"
	}
	return out + "]"
}
