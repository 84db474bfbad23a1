package report

import (
	"net/netip"
	"strings"
	"time"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// Helpers shared by the machine-readable writers (csv, ecs, zeek): they
// read a Summary the same way so the formats agree with each other.

// endpoint splits "ip:port" or "[ip6]:port" as tlsconn writes them.
func endpoint(s string) (netip.Addr, uint16, bool) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	return ap.Addr().Unmap(), ap.Port(), true
}

// leaf returns the first certificate of a chain, or nil.
func leaf(chain []*certinfo.Certificate) *certinfo.Certificate {
	if len(chain) == 0 {
		return nil
	}
	return chain[0]
}

// tsText is the capture time as the JSON writer writes it (RFC 3339, UTC,
// as many fractional digits as needed), so every format can be joined on it.
func tsText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// dateText is a certificate validity time, empty when unknown.
func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// versionParts splits a negotiated version into ECS's number and protocol
// ("1.2", "tls"); ok is false when the version is unknown or not SSL/TLS.
func versionParts(s *tlsconn.Summary) (number, protocol string, ok bool) {
	if s.VersionID == nil {
		return "", "", false
	}
	switch *s.VersionID {
	case 0x0002:
		return "2.0", "ssl", true
	case 0x0300:
		return "3.0", "ssl", true
	case 0x0301:
		return "1.0", "tls", true
	case 0x0302:
		return "1.1", "tls", true
	case 0x0303:
		return "1.2", "tls", true
	case 0x0304:
		return "1.3", "tls", true
	}
	return "", "", false
}

// certDisplayName is the name a person knows a certificate by: its CN,
// else the whole subject, else a placeholder saying why there is none.
func certDisplayName(c *certinfo.Certificate) string {
	name := c.SubjectCN
	if name == "" {
		name = c.Subject
	}
	switch {
	case name == "" && c.ParseError != "":
		return "(malformed)"
	case name == "":
		return "(no subject)"
	}
	return name
}

// sniMatchesCert reports whether the SNI is one of the leaf certificate's
// DNS names or its CN, with a wildcard standing for exactly one label (RFC
// 6125 §6.4.3), as Zeek's x509_check_cert_hostname does; ok is false when
// either side is missing.
func sniMatchesCert(s *tlsconn.Summary) (match, ok bool) {
	c := leaf(s.ServerCertificates)
	if s.SNI == nil || *s.SNI == "" || c == nil {
		return false, false
	}
	names := c.DNSNames
	if c.SubjectCN != "" {
		names = append(names[:len(names):len(names)], c.SubjectCN)
	}
	for _, n := range names {
		if hostnameMatches(*s.SNI, n) {
			return true, true
		}
	}
	return false, true
}

// hostnameMatches compares host with a certificate name case-insensitively;
// a '*' in the name's first label matches any run of characters other than
// '.', so "*.example.com" matches "www.example.com" but neither
// "example.com" nor "a.b.example.com".
func hostnameMatches(host, pattern string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	pattern = strings.TrimSuffix(strings.ToLower(pattern), ".")
	if host == "" || pattern == "" {
		return false
	}
	if !strings.Contains(pattern, "*") {
		return host == pattern
	}
	pFirst, pRest, _ := strings.Cut(pattern, ".")
	hFirst, hRest, _ := strings.Cut(host, ".")
	// Only the first label may hold a wildcard; a bare "*" matches nothing.
	if pRest == "" || strings.Contains(pRest, "*") || pRest != hRest {
		return false
	}
	prefix, suffix, _ := strings.Cut(pFirst, "*")
	if strings.Contains(suffix, "*") {
		return false
	}
	return len(hFirst) >= len(prefix)+len(suffix) &&
		strings.HasPrefix(hFirst, prefix) && strings.HasSuffix(hFirst, suffix)
}
