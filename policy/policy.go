package policy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Limits on what a policy may hold: far above any real policy, low enough
// that a hostile or generated file cannot make each connection's check
// slow.
const (
	MaxFileSize = 1 << 20 // bytes of a policy file
	MaxRules    = 1000
	maxNameLen  = 128  // rule names end up in JUnit and Markdown
	maxPatterns = 1000 // entries of one list
	// maxTotalPatterns bounds the globs of a whole policy, aliases
	// included.
	maxTotalPatterns = 10_000
)

// Policy is a list of rules and an expectation on the number of
// connections, from Load, Parse or FromFlags. It is immutable once built
// and may be shared by several Checkers.
type Policy struct {
	rules             []*rule
	expectConnections int // 0: no expectation
	failOnUnmatched   bool
	// source names where the policy came from (a file name, "the command
	// line"), for Merge's messages.
	source string
}

// Empty reports whether p checks nothing: no rule and no expected number
// of connections. A nil Policy is empty.
func (p *Policy) Empty() bool {
	return p == nil || len(p.rules) == 0 && p.expectConnections == 0
}

// Merge returns a new Policy with p's rules followed by other's (the
// command-line rule and a policy file, typically). Expected connection
// counts combine to the larger, fail_on_unmatched to either. Two rules
// with the same name are an error: results are reported by rule name.
func (p *Policy) Merge(other *Policy) (*Policy, error) {
	out := &Policy{}
	seen := map[string]string{}
	for _, q := range []*Policy{p, other} {
		if q == nil {
			continue
		}
		for _, r := range q.rules {
			if src, dup := seen[r.name]; dup {
				return nil, fmt.Errorf("rule %q is defined both in %s and in %s", r.name, src, q.source)
			}
			seen[r.name] = q.source
			out.rules = append(out.rules, r)
		}
		out.expectConnections = max(out.expectConnections, q.expectConnections)
		out.failOnUnmatched = out.failOnUnmatched || q.failOnUnmatched
		if out.source == "" {
			out.source = q.source
		} else if q.source != "" {
			out.source += " and " + q.source
		}
	}
	return out, nil
}

// rule is one compiled rule: which connections it applies to and what
// must hold for them.
type rule struct {
	name        string
	required    bool // matching no connection fails the run
	passUnknown bool // on_unknown: pass
	match       matcher
	checks      []check
}

// check evaluates one requirement and appends what failed.
type check func(v *view, out []failure) []failure

// failure is one requirement that did not hold. unknown marks the ones
// that failed only because the value could not be seen (on_unknown).
type failure struct {
	requirement, expected, actual string
	unknown                       bool
}

// matcher selects connections; empty fields match everything, and a
// connection must satisfy every non-empty field (any entry of a list).
type matcher struct {
	server, client []addrPattern
	sni            globs
	ja4, ja3       globs
}

func (m *matcher) matches(v *view) bool {
	if len(m.server) > 0 && !matchAddr(m.server, v.s.Server) {
		return false
	}
	if len(m.client) > 0 && !matchAddr(m.client, v.s.Client) {
		return false
	}
	if len(m.sni) > 0 {
		// A connection without SNI matches as "", so `sni: ""` selects
		// those.
		if _, ok := m.sni.match(v.sni()); !ok {
			return false
		}
	}
	if len(m.ja4) > 0 {
		if _, ok := m.ja4.match(v.s.JA4); !ok {
			return false
		}
	}
	if len(m.ja3) > 0 {
		if _, ok := m.ja3.match(v.s.JA3); !ok {
			return false
		}
	}
	return true
}

// addrPattern is an address, a network, a port, or an address or network
// with a port. An invalid prefix means any address; port 0 any port.
type addrPattern struct {
	prefix netip.Prefix
	port   uint16
}

func matchAddr(ps []addrPattern, endpoint string) bool {
	ap, err := netip.ParseAddrPort(endpoint)
	if err != nil {
		return false
	}
	// Summary addresses of IPv4 peers seen over IPv6 sockets are
	// IPv4-mapped; a policy names them as IPv4. Zones never match a prefix.
	a := ap.Addr().Unmap().WithZone("")
	for _, p := range ps {
		if p.prefix.IsValid() && !p.prefix.Contains(a) {
			continue
		}
		if p.port != 0 && p.port != ap.Port() {
			continue
		}
		return true
	}
	return false
}

// parseAddrPattern reads the forms of match.server and match.client:
// "10.0.0.5", "10.0.0.5:8443", "10.0.0.0/8", "10.0.0.0/8:8443", "::1",
// "[::1]:8443", "fd00::/8", "[fd00::/8]:8443" and ":8443". Host names are
// refused: a passive observer does not resolve names (use sni).
func parseAddrPattern(s string) (addrPattern, error) {
	var host, port string
	switch {
	case strings.HasPrefix(s, ":"):
		port = s[1:]
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return addrPattern{}, fmt.Errorf("%q: missing ]", s)
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			var ok bool
			if port, ok = strings.CutPrefix(rest, ":"); !ok {
				return addrPattern{}, fmt.Errorf("%q: expected :PORT after ]", s)
			}
		}
	case strings.Count(s, ":") == 1:
		host, port, _ = strings.Cut(s, ":")
	default:
		// No colon, or an IPv6 address or network without brackets (and
		// so without a port).
		host = s
	}
	var p addrPattern
	if port != "" || strings.HasPrefix(s, ":") || strings.HasSuffix(s, ":") {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return addrPattern{}, fmt.Errorf("%q: port %q is not a number from 1 to 65535", s, port)
		}
		p.port = uint16(n)
	}
	if host == "" {
		if p.port == 0 {
			return addrPattern{}, fmt.Errorf("%q: no address and no port", s)
		}
		return p, nil
	}
	if strings.Contains(host, "/") {
		pfx, err := netip.ParsePrefix(host)
		if err != nil {
			return addrPattern{}, fmt.Errorf("%q is not a valid CIDR network (%v)", host, trimNetipErr(err))
		}
		if pfx.Masked() != pfx {
			return addrPattern{}, fmt.Errorf("%q has host bits set (the network is %s)", host, pfx.Masked())
		}
		if pfx.Addr().Is4In6() {
			pfx = netip.PrefixFrom(pfx.Addr().Unmap(), max(pfx.Bits()-96, 0))
		}
		p.prefix = pfx
		return p, nil
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return addrPattern{}, fmt.Errorf("%q is not an IP address, CIDR network or :PORT (host names are not resolved; use sni)", s)
	}
	if a.Zone() != "" {
		return addrPattern{}, fmt.Errorf("%q: zones (%%%s) are not supported", s, a.Zone())
	}
	a = a.Unmap()
	p.prefix = netip.PrefixFrom(a, a.BitLen())
	return p, nil
}

// trimNetipErr drops netip's echo of the input, which the message already
// quotes.
func trimNetipErr(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "): "); i >= 0 {
		return msg[i+3:]
	}
	return msg
}
