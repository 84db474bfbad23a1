package baseline

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/tlsinspect/tlsinspect/findings"
	"github.com/tlsinspect/tlsinspect/internal/safetext"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// Drift kinds: stable ids, documented in the package documentation.
const (
	KindNewServer              = "new-server"
	KindLostServer             = "lost-server"
	KindVersionDowngrade       = "version-downgrade"
	KindVersionUpgrade         = "version-upgrade"
	KindSuiteAdded             = "suite-added"
	KindSuiteRemoved           = "suite-removed"
	KindSuiteDowngrade         = "suite-downgrade"
	KindGroupAdded             = "group-added"
	KindGroupRemoved           = "group-removed"
	KindALPNChanged            = "alpn-changed"
	KindClientAuthDropped      = "client-auth-dropped"
	KindClientAuthAdded        = "client-auth-added"
	KindClientCertNoLongerSent = "client-cert-no-longer-sent"
	KindNewCertificate         = "new-certificate"
	KindNewIssuer              = "new-issuer"
	KindNewClientFingerprint   = "new-client-fingerprint"
	KindHandshakesFailing      = "handshakes-failing"
)

// Kinds lists every drift kind in the order Compare sorts them, and
// whether it is a downgrade. The ids and flags are a public contract.
var Kinds = []struct {
	Kind      string
	Downgrade bool
}{
	{KindNewServer, false},
	{KindLostServer, false},
	{KindVersionDowngrade, true},
	{KindVersionUpgrade, false},
	{KindSuiteAdded, false},
	{KindSuiteRemoved, false},
	{KindSuiteDowngrade, true},
	{KindGroupAdded, false},
	{KindGroupRemoved, false},
	{KindALPNChanged, false},
	{KindClientAuthDropped, true},
	{KindClientAuthAdded, false},
	{KindClientCertNoLongerSent, true},
	{KindNewCertificate, false},
	{KindNewIssuer, true},
	{KindNewClientFingerprint, false},
	{KindHandshakesFailing, true},
}

var kindRank = map[string]int{}

func init() {
	for i, k := range Kinds {
		kindRank[k.Kind] = i
	}
}

// Drift is one difference between a baseline and a later capture. Old and
// New are human-readable; either is empty when the kind has no such side
// (a suite added has no old value).
type Drift struct {
	Server    string
	Kind      string
	Downgrade bool
	Old, New  string
}

// String is one line: "server: kind (downgrade): old -> new", with
// wire-derived text escaped so that it cannot drive a terminal.
func (d Drift) String() string {
	var b strings.Builder
	b.WriteString(escape(d.Server))
	b.WriteString(": ")
	b.WriteString(escape(d.Kind))
	if d.Downgrade {
		b.WriteString(" (downgrade)")
	}
	switch {
	case d.Old != "" && d.New != "":
		b.WriteString(": " + escape(d.Old) + " -> " + escape(d.New))
	case d.New != "":
		b.WriteString(": " + escape(d.New))
	case d.Old != "":
		b.WriteString(": " + escape(d.Old))
	}
	return b.String()
}

// Compare reports how cur differs from old, sorted by server, then kind
// (in the order of Kinds), then values. A nil Baseline is empty.
func Compare(old, cur *Baseline) []Drift {
	if old == nil {
		old = &Baseline{}
	}
	if cur == nil {
		cur = &Baseline{}
	}
	olds := index(old.Servers)
	var out []Drift
	for k, c := range index(cur.Servers) {
		o, ok := olds[k]
		if !ok {
			// A server the old baseline dropped may have been there.
			if old.DroppedHandshakes == 0 {
				out = append(out, drift(c.Name, KindNewServer, "", counts(c)))
			}
			continue
		}
		out = append(out, compareServer(o, c)...)
	}
	curs := index(cur.Servers)
	for k, o := range olds {
		if _, ok := curs[k]; !ok && cur.DroppedHandshakes == 0 {
			out = append(out, drift(o.Name, KindLostServer, counts(o), ""))
		}
	}
	slices.SortFunc(out, func(a, b Drift) int {
		return cmp.Or(
			strings.Compare(a.Server, b.Server),
			cmp.Compare(rankOf(a.Kind), rankOf(b.Kind)),
			strings.Compare(a.Old, b.Old),
			strings.Compare(a.New, b.New),
		)
	})
	return out
}

func rankOf(kind string) int {
	if r, ok := kindRank[kind]; ok {
		return r
	}
	return len(Kinds)
}

func index(ss []Server) map[serverKey]*Server {
	m := make(map[serverKey]*Server, len(ss))
	for i := range ss {
		m[serverKey{ss[i].Name, ss[i].SNI}] = &ss[i]
	}
	return m
}

func drift(server, kind, old, cur string) Drift {
	return Drift{Server: server, Kind: kind, Downgrade: kindDowngrade(kind), Old: old, New: cur}
}

func kindDowngrade(kind string) bool {
	r := rankOf(kind)
	return r < len(Kinds) && Kinds[r].Downgrade
}

func counts(s *Server) string {
	if s.Handshakes == 1 {
		return fmt.Sprintf("1 handshake, %d established", s.Established)
	}
	return fmt.Sprintf("%d handshakes, %d established", s.Handshakes, s.Established)
}

func compareServer(o, c *Server) []Drift {
	var out []Drift
	add := func(kind, old, cur string) { out = append(out, drift(c.Name, kind, old, cur)) }

	// Versions: a version below the old lowest is a downgrade; one above
	// the old highest, or a lowest that rose, an upgrade.
	ol, olOK := rankCP(o.LowestVersion)
	cl, clOK := rankCP(c.LowestVersion)
	oh, ohOK := rankCP(o.HighestVersion)
	ch, chOK := rankCP(c.HighestVersion)
	if olOK && clOK && cl < ol {
		add(KindVersionDowngrade, o.LowestVersion.Name, c.LowestVersion.Name)
	}
	switch {
	case ohOK && chOK && ch > oh:
		add(KindVersionUpgrade, o.HighestVersion.Name, c.HighestVersion.Name)
	case olOK && clOK && cl > ol:
		add(KindVersionUpgrade, o.LowestVersion.Name, c.LowestVersion.Name)
	}

	// Negotiated sets are compared only when both sides established
	// something: with no established handshake nothing was negotiated,
	// and handshakes-failing says so instead of every value "removed".
	if o.Established > 0 && c.Established > 0 {
		diff(o.CipherSuites, c.CipherSuites, func(v string) { add(KindSuiteAdded, "", v) }, func(v string) { add(KindSuiteRemoved, v, "") })
		// A resumed TLS 1.2 handshake has no key exchange, hence no
		// group: removals need a full handshake.
		var removed func(string)
		if c.Established > c.Resumed {
			removed = func(v string) { add(KindGroupRemoved, v, "") }
		}
		diff(o.Groups, c.Groups, func(v string) { add(KindGroupAdded, "", v) }, removed)
	}
	if o.WeakestSuite != nil && c.WeakestSuite != nil {
		if oc, cc := suiteClass(*o.WeakestSuite), suiteClass(*c.WeakestSuite); cc < oc {
			add(KindSuiteDowngrade, suiteLabel(*o.WeakestSuite, oc), suiteLabel(*c.WeakestSuite, cc))
		}
	}

	// ALPN only when both sides know it (TLS 1.3 hides the choice) and
	// neither set overflowed.
	oa, ca := sortedUnique(o.ALPN.Values), sortedUnique(c.ALPN.Values)
	if len(oa) > 0 && len(ca) > 0 && o.ALPN.Dropped == 0 && c.ALPN.Dropped == 0 && !slices.Equal(oa, ca) {
		add(KindALPNChanged, alpnList(oa), alpnList(ca))
	}

	// Client authentication: only known answers count, so a capture of
	// TLS 1.3 (unknown) never reports a change.
	oq, cq := o.ClientCertRequested, c.ClientCertRequested
	if oq.Yes > 0 && cq.Yes == 0 && cq.No > 0 {
		add(KindClientAuthDropped, tally(oq), tally(cq))
	}
	if oq.Yes == 0 && oq.No > 0 && cq.Yes > 0 {
		add(KindClientAuthAdded, tally(oq), tally(cq))
	}
	// The server still asks, but handshakes complete without a
	// certificate where they completed with one: authentication became
	// optional. When the server stopped asking, client-auth-dropped says it.
	if os, cs := o.ClientCertSent, c.ClientCertSent; os.Yes > 0 && cs.Yes == 0 && cs.No > 0 && cq.Yes > 0 {
		add(KindClientCertNoLongerSent, tally(os), tally(cs))
	}

	diff(o.LeafSHA256, c.LeafSHA256, func(v string) { add(KindNewCertificate, "", v) }, nil)
	diff(o.LeafIssuers, c.LeafIssuers, func(v string) { add(KindNewIssuer, "", v) }, nil)
	diff(o.JA4, c.JA4, func(v string) { add(KindNewClientFingerprint, "", v) }, nil)

	if c.Failed > 0 && (o.Failed == 0 || o.Established > 0 && c.Established == 0) {
		add(KindHandshakesFailing, outcome(o), outcome(c))
	}
	return out
}

// diff calls added for each value of c not in o and removed for each value
// of o not in c, skipping the claims a full set cannot support: an added
// value may have been dropped from o, a removed one from c.
func diff(o, c Set, added, removed func(string)) {
	in := func(s Set) map[string]bool {
		m := make(map[string]bool, len(s.Values))
		for _, v := range s.Values {
			m[v] = true
		}
		return m
	}
	om, cm := in(o), in(c)
	if added != nil && o.Dropped == 0 {
		for _, v := range sortedUnique(c.Values) {
			if !om[v] {
				added(v)
			}
		}
	}
	if removed != nil && c.Dropped == 0 {
		for _, v := range sortedUnique(o.Values) {
			if !cm[v] {
				removed(v)
			}
		}
	}
}

func tally(t Tally) string {
	return fmt.Sprintf("yes %d, no %d, unknown %d", t.Yes, t.No, t.Unknown)
}

func outcome(s *Server) string {
	return fmt.Sprintf("%d established, %d failed", s.Established, s.Failed)
}

func alpnList(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = cmp.Or(v, "(none)")
	}
	return strings.Join(out, ", ")
}

// Version ranks: a number per protocol generation, so that DTLS and
// TLS 1.3 drafts compare with TLS. rankTLS13 and above hide ALPN.
const rankTLS13 = 6

func versionRank(id int) (int, bool) {
	switch id {
	case 0x0002: // SSL 2.0
		return 1, true
	case 0x0300:
		return 2, true
	case 0x0301:
		return 3, true
	case 0x0302, 0xfeff, 0x0100: // DTLS 1.0 (and OpenSSL's pre-standard one) is TLS 1.1 based
		return 4, true
	case 0x0303, 0xfefd:
		return 5, true
	case 0x0304, 0xfefc:
		return 7, true
	}
	switch id >> 8 {
	case 0x7f, 0x7e, 0xfb: // TLS 1.3 drafts and experiments: between 1.2 and 1.3
		if id <= 0xffff {
			return rankTLS13, true
		}
	}
	return 0, false
}

func rankCP(c *CodePoint) (int, bool) {
	if c == nil {
		return 0, false
	}
	return versionRank(c.ID)
}

// lessVersion orders ranked versions, by number within a rank so that the
// choice of lowest and highest does not depend on the order seen.
func lessVersion(a, b CodePoint) bool {
	ra, _ := versionRank(a.ID)
	rb, _ := versionRank(b.ID)
	return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(a.ID, b.ID), strings.Compare(a.Name, b.Name)) < 0
}

// Suite classes, weakest first.
const (
	classBroken = iota
	class3DES
	classNotRecommended
	classRecommended
)

var classNames = []string{"broken", "3DES", "not recommended", "recommended"}

// suiteClass reuses the findings package's suite checks (families from the
// IANA name, then IANA's Recommended column) instead of a second table.
func suiteClass(c CodePoint) int {
	if c.ID < 0 || c.ID > 0xffff {
		return classNotRecommended // not a suite number; no IANA value
	}
	name, id := c.Name, c.ID
	class := classRecommended
	for _, f := range findings.Check(&tlsconn.Summary{CipherSuite: &name, CipherSuiteID: &id}) {
		switch f.ID {
		case "suite-null", "suite-export", "suite-anon", "suite-rc4", "suite-des":
			class = min(class, classBroken)
		case "suite-3des":
			class = min(class, class3DES)
		case "suite-not-recommended":
			class = min(class, classNotRecommended)
		}
	}
	return class
}

func suiteLabel(c CodePoint, class int) string {
	return fmt.Sprintf("%s (%s)", c.Name, classNames[class])
}

// escape makes a wire-derived string (SNI, issuer) safe for a message
// line (package safetext).
func escape(s string) string { return safetext.Escape(s) }
