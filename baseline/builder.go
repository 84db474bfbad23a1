package baseline

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tlsinspect/tlsinspect/iana"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// Limits of a Builder (see the package documentation, "Bounded memory").
const (
	MaxServers  = 100_000
	MaxValues   = 1_000
	MaxValueLen = 1024
)

// Builder aggregates Summaries into a Baseline. It keeps only the values it
// records, never a Summary. It is not safe for concurrent use.
type Builder struct {
	maxServers, maxValues int // the constants; tests lower them

	servers    map[serverKey]*server
	classes    map[CodePoint]int // suiteClass results: it runs the findings checks
	handshakes int
	dropped    int
	first      time.Time
	last       time.Time
}

type serverKey struct {
	name string
	sni  bool
}

// server accumulates one Server; sets are maps until Baseline sorts them.
type server struct {
	addresses, versions, suites, groups, alpn, leaves, issuers, ja4, ja3 set

	handshakes, established, resumed int
	requested, sent                  Tally
	lowest, highest, weakest         *CodePoint
}

type set struct {
	m       map[string]struct{}
	dropped int
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{maxServers: MaxServers, maxValues: MaxValues, servers: map[serverKey]*server{}, classes: map[CodePoint]int{}}
}

// Add records one handshake. s is not retained.
func (b *Builder) Add(s *tlsconn.Summary) {
	if s == nil {
		return
	}
	b.handshakes++
	// Years outside 1-9999 (a corrupt pcapng timestamp) have no RFC 3339
	// form: Write would fail on them.
	if y := s.TS.UTC().Year(); !s.TS.IsZero() && y >= 1 && y <= 9999 {
		ts := s.TS.UTC().Round(0) // no monotonic reading: times must compare by value
		if b.first.IsZero() || ts.Before(b.first) {
			b.first = ts
		}
		if b.last.IsZero() || ts.After(b.last) {
			b.last = ts
		}
	}
	key := serverKey{name: clean(s.Server)}
	if s.SNI != nil && *s.SNI != "" {
		key = serverKey{name: clean(*s.SNI), sni: true}
	}
	sv := b.servers[key]
	if sv == nil {
		if len(b.servers) >= b.maxServers {
			b.dropped++
			return
		}
		sv = &server{}
		key.name = strings.Clone(key.name)
		b.servers[key] = sv
	}
	sv.handshakes++
	sv.addresses.add(s.Server, b.maxValues)
	sv.ja4.add(s.JA4, b.maxValues)
	sv.ja3.add(s.JA3, b.maxValues)
	if len(s.ServerCertificates) > 0 && s.ServerCertificates[0] != nil {
		leaf := s.ServerCertificates[0]
		sv.leaves.add(leaf.SHA256, b.maxValues)
		sv.issuers.add(leaf.Issuer, b.maxValues)
	}
	if !s.Established {
		return
	}
	sv.established++
	resumed := s.Resumed != nil && *s.Resumed
	if resumed {
		sv.resumed++
	}

	rank, ranked := -1, false
	if s.VersionID != nil {
		v := CodePoint{Name: iana.VersionName(uint16(*s.VersionID)), ID: *s.VersionID}
		if s.Version != nil {
			v.Name = clean(*s.Version)
		}
		sv.versions.add(v.Name, b.maxValues)
		if rank, ranked = versionRank(v.ID); ranked {
			if sv.lowest == nil || lessVersion(v, *sv.lowest) {
				sv.lowest = cloneCP(v)
			}
			if sv.highest == nil || lessVersion(*sv.highest, v) {
				sv.highest = cloneCP(v)
			}
		}
	} else if s.Version != nil {
		sv.versions.add(*s.Version, b.maxValues)
	}

	if s.CipherSuite != nil {
		sv.suites.add(*s.CipherSuite, b.maxValues)
		if s.CipherSuiteID != nil {
			c := CodePoint{Name: clean(*s.CipherSuite), ID: *s.CipherSuiteID}
			if sv.weakest == nil || c != *sv.weakest && b.lessSuite(c, *sv.weakest) {
				sv.weakest = cloneCP(c)
			}
		}
	}
	if s.Group != nil {
		sv.groups.add(*s.Group, b.maxValues)
	}
	switch {
	case s.ALPN != nil:
		sv.alpn.addRaw(clean(*s.ALPN), b.maxValues)
	case ranked && rank < rankTLS13:
		// Before TLS 1.3 the ServerHello is clear: no ALPN means none.
		sv.alpn.addRaw("", b.maxValues)
	}
	if resumed {
		// An abbreviated handshake does not repeat the CertificateRequest;
		// the session's first authentication still holds.
		sv.requested.Unknown++
		sv.sent.Unknown++
	} else {
		sv.requested.count(s.ClientCertRequested)
		sv.sent.count(s.ClientCertSent)
	}
}

// Baseline returns what was added so far. The Builder stays usable.
func (b *Builder) Baseline() *Baseline {
	bl := &Baseline{
		Format:            Format,
		First:             b.first,
		Last:              b.last,
		Handshakes:        b.handshakes,
		DroppedHandshakes: b.dropped,
		Servers:           make([]Server, 0, len(b.servers)),
	}
	for k, sv := range b.servers {
		bl.Servers = append(bl.Servers, Server{
			Name:                k.name,
			SNI:                 k.sni,
			Addresses:           sv.addresses.export(),
			Handshakes:          sv.handshakes,
			Established:         sv.established,
			Failed:              sv.handshakes - sv.established,
			Resumed:             sv.resumed,
			Versions:            sv.versions.export(),
			LowestVersion:       copyCP(sv.lowest),
			HighestVersion:      copyCP(sv.highest),
			CipherSuites:        sv.suites.export(),
			WeakestSuite:        copyCP(sv.weakest),
			Groups:              sv.groups.export(),
			ALPN:                sv.alpn.export(),
			ClientCertRequested: sv.requested,
			ClientCertSent:      sv.sent,
			LeafSHA256:          sv.leaves.export(),
			LeafIssuers:         sv.issuers.export(),
			JA4:                 sv.ja4.export(),
			JA3:                 sv.ja3.export(),
		})
	}
	// Servers and every set are sorted: the bytes must not depend on map
	// iteration order.
	for i := range bl.Servers {
		for _, st := range bl.Servers[i].sets() {
			st.Values = sortedUnique(st.Values)
		}
	}
	slices.SortFunc(bl.Servers, compareServers)
	return bl
}

// cloneCP copies c so that its name never pins a Summary's memory.
func cloneCP(c CodePoint) *CodePoint {
	return &CodePoint{Name: strings.Clone(c.Name), ID: c.ID}
}

// maxClasses bounds the suite-class cache; suites come from a 16-bit
// space, and a capture rarely shows more than a few dozen.
const maxClasses = 1024

// lessSuite orders suites weakest first, then by name and number so that
// the weakest chosen does not depend on the order seen.
func (b *Builder) lessSuite(x, y CodePoint) bool {
	return cmp.Or(cmp.Compare(b.suiteClass(x), b.suiteClass(y)), strings.Compare(x.Name, y.Name), cmp.Compare(x.ID, y.ID)) < 0
}

func (b *Builder) suiteClass(c CodePoint) int {
	if class, ok := b.classes[c]; ok {
		return class
	}
	class := suiteClass(c)
	if len(b.classes) < maxClasses {
		b.classes[*cloneCP(c)] = class
	}
	return class
}

func copyCP(c *CodePoint) *CodePoint {
	if c == nil {
		return nil
	}
	v := *c
	return &v
}

// add records v unless it is empty (not known); "" is recorded only by
// the callers that give it a meaning (ALPN), through addRaw.
func (s *set) add(v string, max int) {
	if v == "" {
		return
	}
	s.addRaw(clean(v), max)
}

func (s *set) addRaw(v string, max int) {
	if _, ok := s.m[v]; ok {
		return
	}
	if len(s.m) >= max {
		s.dropped++
		return
	}
	if s.m == nil {
		s.m = map[string]struct{}{}
	}
	s.m[strings.Clone(v)] = struct{}{}
}

func (s *set) export() Set {
	out := Set{Values: make([]string, 0, len(s.m)), Dropped: s.dropped}
	for v := range s.m {
		out.Values = append(out.Values, v)
	}
	return out
}

func (t *Tally) count(b *bool) {
	switch {
	case b == nil:
		t.Unknown++
	case *b:
		t.Yes++
	default:
		t.No++
	}
}

// clean makes a wire string fit for the file: valid UTF-8 (JSON would turn
// invalid bytes into U+FFFD, so a baseline read back would differ from
// one built in memory) and at most MaxValueLen bytes. Callers clone what
// they keep (strings.Clone), so that a substring never pins a Summary's
// buffers; clean itself does not, to spare an allocation per lookup.
func clean(s string) string {
	if !utf8.ValidString(s) {
		// \xNN, as certinfo does for certificate names.
		var b strings.Builder
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				fmt.Fprintf(&b, `\x%02x`, s[i])
			} else {
				b.WriteString(s[i : i+n])
			}
			i += n
		}
		s = b.String()
	}
	if len(s) <= MaxValueLen {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	suffix := fmt.Sprintf("...[%d bytes, sha256 %x]", len(s), sum)
	cut := MaxValueLen - len(suffix)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + suffix
}
