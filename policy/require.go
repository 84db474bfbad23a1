package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/findings"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// view is one Summary as the checks read it.
type view struct {
	s        *tlsconn.Summary
	computed []tlsconn.Finding
}

func newView(s *tlsconn.Summary) *view { return &view{s: s} }

// findings are the Summary's, or computed once when it came without them
// (built by hand rather than by analyze.Run, which always fills them).
func (v *view) findings() []tlsconn.Finding {
	if v.s.Findings != nil {
		return v.s.Findings
	}
	if v.computed == nil {
		v.computed = findings.Check(v.s)
	}
	return v.computed
}

func (v *view) sni() string {
	if v.s.SNI == nil {
		return ""
	}
	return *v.s.SNI
}

func (v *view) tls13() bool { return v.s.VersionID != nil && *v.s.VersionID == 0x0304 }

// noServerHello explains an unknown negotiated value: the server's answer
// was never seen, because of an alert or because the capture missed it.
func (v *view) noServerHello() string {
	for _, a := range v.s.Alerts {
		if a.Fatal() {
			return fmt.Sprintf("unknown (no ServerHello: %s sent fatal alert %s)", a.From, a.Description)
		}
	}
	return "unknown (no ServerHello seen)"
}

// versionRanks orders the versions a connection can have; SSL 2.0 and
// 3.0 rank below TLS 1.0 so that any minimum excludes them. A DTLS version
// ranks with the TLS version it is defined from: DTLS 1.0 with TLS 1.1
// (RFC 4347), DTLS 1.2 with TLS 1.2 (RFC 6347), DTLS 1.3 with TLS 1.3
// (RFC 9147).
var versionRanks = map[int]int{
	0x0002: 0, 0x0300: 1, 0x0301: 2, 0x0302: 3, 0x0303: 4, 0x0304: 5,
	0xfeff: 3, 0xfefd: 4, 0xfefc: 5,
}

// policyVersions are the versions a policy may name, by rank.
var policyVersions = []struct {
	id   int
	name string
}{{0x0301, "TLS 1.0"}, {0x0302, "TLS 1.1"}, {0x0303, "TLS 1.2"}, {0x0304, "TLS 1.3"}}

// parseVersion accepts "1.2", "TLS 1.2", "tls1.2", "TLSv1.2" and the like.
func parseVersion(s string) (id int, ok bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "tls")
	t = strings.TrimPrefix(t, "v")
	t = strings.TrimSpace(t)
	for _, pv := range policyVersions {
		if t == pv.name[4:] {
			return pv.id, true
		}
	}
	return 0, false
}

func checkVersion(minID, maxID int) check {
	minName, maxName := versionName(minID), versionName(maxID)
	return func(v *view, out []failure) []failure {
		s := v.s
		if s.VersionID == nil {
			if minID != 0 {
				out = append(out, failure{"version.min", minName + " or later", v.noServerHello(), true})
			}
			if maxID != 0 {
				out = append(out, failure{"version.max", maxName + " or earlier", v.noServerHello(), true})
			}
			return out
		}
		actual := strconv.Itoa(*s.VersionID)
		if s.Version != nil {
			actual = *s.Version
		}
		// A version outside the known ones (a TLS 1.3 draft, garbage)
		// satisfies neither bound: it cannot be placed between them.
		rank, known := versionRanks[*s.VersionID]
		if minID != 0 && (!known || rank < versionRanks[minID]) {
			out = append(out, failure{"version.min", minName + " or later", actual, false})
		}
		if maxID != 0 && (!known || rank > versionRanks[maxID]) {
			out = append(out, failure{"version.max", maxName + " or earlier", actual, false})
		}
		return out
	}
}

func versionName(id int) string {
	for _, pv := range policyVersions {
		if pv.id == id {
			return pv.name
		}
	}
	return ""
}

// value is a negotiated name, or why there is none: none says the
// handshake used no such thing (an RSA key exchange has no group), unknown
// that it could not be seen.
type value struct {
	name    string
	none    string // reason, when nothing of the kind was negotiated
	unknown string // reason, when it could not be seen
}

// checkAllowDeny is the allow and deny lists of suites, groups and ALPN:
// an allow list needs a negotiated name matching one of its patterns, a
// deny list fails on a name matching one of its patterns. An unknown value
// fails both (it cannot be confirmed); "none" fails an allow list (nothing
// allowed was negotiated) and passes a deny list.
func checkAllowDeny(what string, allow, deny globs, get func(*view) value) check {
	return func(v *view, out []failure) []failure {
		x := get(v)
		if len(allow) > 0 {
			exp := "one of " + allow.String()
			switch {
			case x.unknown != "":
				out = append(out, failure{what + ".allow", exp, x.unknown, true})
			case x.none != "":
				out = append(out, failure{what + ".allow", exp, x.none, false})
			default:
				if _, ok := allow.match(x.name); !ok {
					out = append(out, failure{what + ".allow", exp, x.name, false})
				}
			}
		}
		if len(deny) > 0 {
			exp := "none of " + deny.String()
			switch {
			case x.unknown != "":
				out = append(out, failure{what + ".deny", exp, x.unknown, true})
			case x.none != "":
			default:
				if g, ok := deny.match(x.name); ok {
					out = append(out, failure{what + ".deny", exp, x.name + " (matches " + g.pattern + ")", false})
				}
			}
		}
		return out
	}
}

func suiteOf(v *view) value {
	if v.s.CipherSuite == nil {
		return value{unknown: v.noServerHello()}
	}
	return value{name: *v.s.CipherSuite}
}

// groupOf is the named group of the key exchange. TLS 1.2 DHE uses a prime
// of the server's choosing, not a named group: it counts as "none" (so an
// allow list of named groups rejects it and a deny list does not).
func groupOf(v *view) value {
	s := v.s
	switch {
	case s.Group != nil:
		return value{name: *s.Group}
	case s.VersionID == nil:
		return value{unknown: v.noServerHello()}
	case *s.VersionID == 0x0002:
		return value{none: "none (SSL 2.0 key exchange uses no group)"}
	case s.Resumed != nil && *s.Resumed && !v.tls13():
		return value{none: "none (resumed session: no key exchange in this handshake)"}
	case s.KeyExchange == nil:
		return value{unknown: "unknown (key exchange not known)"}
	}
	switch kx := *s.KeyExchange; kx {
	case "RSA", "PSK", "RSA_PSK", "KRB5", "RSA_EXPORT":
		return value{none: "none (" + kx + " key exchange uses no group)"}
	case "DHE", "DHE_PSK", "DH_anon", "SRP":
		if s.DHBits > 0 {
			return value{none: fmt.Sprintf("none (%s with a %d-bit prime, not a named group)", kx, s.DHBits)}
		}
		return value{unknown: "unknown (" + kx + " parameters not seen)"}
	default:
		return value{unknown: "unknown (" + kx + " group not seen)"}
	}
}

func alpnOf(v *view) value {
	s := v.s
	switch {
	case s.ALPN != nil:
		return value{name: *s.ALPN}
	case s.VersionID == nil:
		return value{unknown: v.noServerHello()}
	case len(s.ClientALPN) == 0 && s.ClientLegacyVersion != nil:
		return value{none: "none (the client offered no ALPN)"}
	case v.tls13():
		return value{unknown: "unknown (TLS 1.3 encrypts the server's ALPN choice)"}
	}
	return value{none: "none (the server chose no ALPN protocol)"}
}

// tls13CertExchange is why TLS 1.3 client authentication is unknown to a
// passive observer.
const tls13CertExchange = "TLS 1.3 encrypts the certificate exchange"

// checkClientCert checks client_cert.requested and .sent. When both must
// be true and the request already fails, the missing certificate is the
// same fact: only the request is reported.
func checkClientCert(requested, sent *bool) check {
	return func(v *view, out []failure) []failure {
		s := v.s
		if requested != nil {
			if f, ok := clientCertFact(v, "requested", *requested, s.ClientCertRequested); !ok {
				out = append(out, f)
				if *requested {
					return out
				}
			}
		}
		if sent != nil {
			if f, ok := clientCertFact(v, "sent", *sent, s.ClientCertSent); !ok {
				out = append(out, f)
			}
		}
		return out
	}
}

func clientCertFact(v *view, what string, want bool, got *bool) (failure, bool) {
	s := v.s
	req := "client_cert." + what
	exp := strconv.FormatBool(want)
	if got != nil {
		if *got == want {
			return failure{}, true
		}
		actual := strconv.FormatBool(*got)
		if s.Resumed != nil && *s.Resumed {
			actual += " (resumed session: client authentication belongs to the original handshake)"
		}
		return failure{req, exp, actual, false}, false
	}
	var why string
	switch {
	case s.VersionID == nil:
		return failure{req, exp, v.noServerHello(), true}, false
	case v.tls13():
		why = tls13CertExchange
		// The size-based guess is context for a reader, never proof.
		if inf := s.ClientCertInferred; inf != nil {
			guess := inf.Requested
			if what == "sent" {
				guess = inf.Sent
			}
			if guess != nil {
				why += "; record sizes suggest " + strconv.FormatBool(*guess)
			}
		}
	case *s.VersionID == 0x0002:
		why = "SSL 2.0 client authentication is not tracked"
	default:
		why = "part of the handshake was not seen"
	}
	return failure{req, exp, "unknown (" + why + ")", true}, false
}

func checkEstablished(want bool) check {
	return func(v *view, out []failure) []failure {
		if v.s.Established == want {
			return out
		}
		actual := strconv.FormatBool(v.s.Established)
		if o := v.s.Outcome(); o != "established" {
			actual += " (" + o + ")"
		}
		return append(out, failure{"established", strconv.FormatBool(want), actual, false})
	}
}

func checkSNI(want bool) check {
	return func(v *view, out []failure) []failure {
		s := v.s
		if s.ClientLegacyVersion == nil && s.SNI == nil {
			return append(out, failure{"sni", presence(want), "unknown (no ClientHello seen)", true})
		}
		has := v.sni() != ""
		if has == want {
			return out
		}
		actual := presence(has)
		if has {
			actual += " (" + v.sni() + ")"
		}
		return append(out, failure{"sni", presence(want), actual, false})
	}
}

func presence(b bool) string {
	if b {
		return "present"
	}
	return "absent"
}

// certSpec is require.certificate.
type certSpec struct {
	notExpired bool
	sniMatches bool
	issuer     globs
	minRSA     int // RSA, RSA-PSS and DSA modulus bits
	minEC      int // ECDSA curve size, EdDSA key size
}

// serverChain returns the server's certificates, or why there are none.
func serverChain(v *view) ([]*certinfo.Certificate, string) {
	s := v.s
	if len(s.ServerCertificates) > 0 && s.ServerCertificates[0] != nil {
		return s.ServerCertificates, ""
	}
	switch {
	case s.VersionID == nil:
		return nil, v.noServerHello()
	case v.tls13():
		return nil, "unknown (TLS 1.3 encrypts the server's certificate)"
	case s.Resumed != nil && *s.Resumed:
		return nil, "unknown (resumed session: no certificate sent)"
	}
	return nil, "unknown (no server certificate seen)"
}

// checked returns the certificates whose validity and key matter: all the
// server sent except self-signed ones after the leaf, which are roots that
// clients take from their own store (as package findings does).
func checked(chain []*certinfo.Certificate) []*certinfo.Certificate {
	var out []*certinfo.Certificate
	for i, c := range chain {
		if c == nil || i > 0 && c.SelfSigned {
			continue
		}
		out = append(out, c)
	}
	return out
}

func checkCertificate(spec certSpec) check {
	return func(v *view, out []failure) []failure {
		chain, why := serverChain(v)
		if chain == nil {
			for _, f := range spec.failuresIfUnknown() {
				out = append(out, failure{f[0], f[1], why, true})
			}
			return out
		}
		leaf := chain[0]
		if spec.notExpired {
			out = notExpired(v, chain, out)
		}
		if spec.sniMatches {
			out = sniMatches(v, leaf, out)
		}
		if len(spec.issuer) > 0 {
			exp := "issuer matching " + spec.issuer.String()
			switch {
			case leaf.Issuer == "":
				out = append(out, failure{"certificate.issuer", exp, "unknown (the leaf's issuer could not be read)", true})
			default:
				if _, ok := spec.issuer.match(leaf.Issuer); !ok {
					out = append(out, failure{"certificate.issuer", exp, leaf.Issuer, false})
				}
			}
		}
		if spec.minRSA > 0 || spec.minEC > 0 {
			out = keyBits(spec, chain, out)
		}
		return out
	}
}

// failuresIfUnknown lists requirement and expected text of each check in
// spec, for a connection whose certificate was not seen.
func (spec certSpec) failuresIfUnknown() [][2]string {
	var fs [][2]string
	if spec.notExpired {
		fs = append(fs, [2]string{"certificate.not_expired", "not expired at capture time"})
	}
	if spec.sniMatches {
		fs = append(fs, [2]string{"certificate.sni_matches", "leaf certificate names the SNI"})
	}
	if len(spec.issuer) > 0 {
		fs = append(fs, [2]string{"certificate.issuer", "issuer matching " + spec.issuer.String()})
	}
	if spec.minRSA > 0 || spec.minEC > 0 {
		fs = append(fs, [2]string{"certificate.min_key_bits", spec.keyBitsExpected()})
	}
	return fs
}

func notExpired(v *view, chain []*certinfo.Certificate, out []failure) []failure {
	const exp = "not expired at capture time"
	if v.s.TS.IsZero() {
		return append(out, failure{"certificate.not_expired", exp, "unknown (capture time unknown)", true})
	}
	var expired []string
	for _, c := range checked(chain) {
		if c.NotAfter.IsZero() {
			return append(out, failure{"certificate.not_expired", exp, "unknown (" + certLabel(chain, c) + " validity could not be read)", true})
		}
		if c.ExpiredAt(v.s.TS) {
			expired = append(expired, certLabel(chain, c)+" expired "+c.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	if len(expired) == 0 {
		return out
	}
	return append(out, failure{"certificate.not_expired", exp, joinMax(expired, 3), false})
}

// sniMatches applies the rules of package findings' cert-name-mismatch
// (findings.CheckLeafName), so that the rule and the finding agree.
func sniMatches(v *view, leaf *certinfo.Certificate, out []failure) []failure {
	const req = "certificate.sni_matches"
	sni := v.sni()
	if sni == "" {
		return append(out, failure{req, "leaf certificate names the SNI", "no SNI sent", false})
	}
	exp := "leaf certificate names " + sni
	switch result, names := findings.CheckLeafName(leaf, sni); result {
	case findings.NameUnparsable:
		return append(out, failure{req, exp, "unknown (the leaf certificate could not be parsed)", true})
	case findings.NameNoNames:
		return append(out, failure{req, exp, "leaf certificate has no DNS name, IP address or CN", false})
	case findings.NameMismatch:
		return append(out, failure{req, exp, "leaf names " + joinMax(names, 5), false})
	}
	return out
}

func (spec certSpec) keyBitsExpected() string {
	var parts []string
	if spec.minRSA > 0 {
		parts = append(parts, fmt.Sprintf("RSA keys of at least %d bits", spec.minRSA))
	}
	if spec.minEC > 0 {
		parts = append(parts, fmt.Sprintf("EC keys of at least %d bits", spec.minEC))
	}
	return strings.Join(parts, ", ")
}

// keyBits compares RSA (and RSA-PSS, DSA) modulus sizes with min_key_bits.rsa
// and EC curve sizes (P-256: 256, Ed25519: 256, Ed448: 456) with
// min_key_bits.ec. One threshold cannot fit both, hence two. Other key
// types (ML-DSA, unknown OIDs) have no comparable size and are not checked.
func keyBits(spec certSpec, chain []*certinfo.Certificate, out []failure) []failure {
	const req = "certificate.min_key_bits"
	var weak []string
	for _, c := range checked(chain) {
		var limit int
		switch c.KeyType {
		case "RSA", "RSA-PSS", "DSA":
			limit = spec.minRSA
		case "ECDSA", "Ed25519", "Ed448":
			limit = spec.minEC
		}
		if limit == 0 {
			continue
		}
		if c.KeyBits == 0 {
			return append(out, failure{req, spec.keyBitsExpected(), "unknown (" + certLabel(chain, c) + " key size could not be read)", true})
		}
		if c.KeyBits < limit {
			k := fmt.Sprintf("%s: %s %d bits", certLabel(chain, c), c.KeyType, c.KeyBits)
			if c.Curve != "" {
				k += " (" + c.Curve + ")"
			}
			weak = append(weak, k)
		}
	}
	if len(weak) == 0 {
		return out
	}
	return append(out, failure{req, spec.keyBitsExpected(), joinMax(weak, 3), false})
}

// certLabel names a certificate of the chain in a message.
func certLabel(chain []*certinfo.Certificate, c *certinfo.Certificate) string {
	i := 0
	for i < len(chain) && chain[i] != c {
		i++
	}
	l := "leaf"
	if i > 0 {
		l = fmt.Sprintf("chain certificate %d", i+1)
	}
	if c.SubjectCN != "" {
		l += " " + strconv.Quote(c.SubjectCN)
	}
	return l
}

// joinMax joins at most n items and counts the rest.
func joinMax(items []string, n int) string {
	s := strings.Join(items[:min(len(items), n)], ", ")
	if len(items) > n {
		s += fmt.Sprintf(" (and %d more)", len(items)-n)
	}
	return s
}

// Severity order of package findings.
var severityRank = map[string]int{findings.Info: 0, findings.Low: 1, findings.Medium: 2, findings.High: 3}

// findingPattern is one deny_findings or --fail-on entry: a severity and
// everything above it, or a glob on finding IDs.
type findingPattern struct {
	text        string // as written, for messages
	minSeverity int    // -1 for an ID glob
	id          glob
}

// parseFindingPattern reads "medium", ">=medium" or an ID glob. An ID glob
// must match a finding ID of this build, or it is surely a typo that would
// make the gate pass silently.
func parseFindingPattern(s string) (findingPattern, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	sev := strings.TrimSpace(strings.TrimPrefix(t, ">="))
	if r, ok := severityRank[sev]; ok {
		return findingPattern{text: ">=" + sev, minSeverity: r}, nil
	}
	if strings.HasPrefix(t, ">=") || strings.HasPrefix(t, ">") || strings.HasPrefix(t, "=") {
		return findingPattern{}, fmt.Errorf("%q: unknown severity (expected info, low, medium or high)", s)
	}
	g, err := compileGlob(t)
	if err != nil {
		return findingPattern{}, err
	}
	for _, e := range findings.IDs {
		if g.match(e.ID) {
			return findingPattern{text: t, minSeverity: -1, id: g}, nil
		}
	}
	return findingPattern{}, fmt.Errorf("%q is not a severity (info, low, medium, high) and matches no finding ID (see the README's Findings table)", s)
}

func (fp findingPattern) match(f tlsconn.Finding) bool {
	if fp.minSeverity >= 0 {
		r, ok := severityRank[f.Severity]
		return ok && r >= fp.minSeverity
	}
	return fp.id.match(f.ID)
}

// checkFindings fails once per finding that a pattern denies.
func checkFindings(patterns []findingPattern) check {
	return func(v *view, out []failure) []failure {
		for _, f := range v.findings() {
			for _, p := range patterns {
				if p.match(f) {
					out = append(out, failure{"deny_findings", "no finding matching " + p.text, f.ID + " (" + f.Severity + "): " + f.Text, false})
					break
				}
			}
		}
		return out
	}
}
