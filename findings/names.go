package findings

import (
	"errors"
	"net/netip"
	"slices"
	"strings"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// NameCheck is the result of comparing an SNI with a leaf certificate.
type NameCheck int

const (
	NameMatches    NameCheck = iota // the leaf names the SNI
	NameMismatch                    // the leaf has names; none is the SNI
	NameNoNames                     // no DNS name, IP address or CN to compare
	NameUnparsable                  // the leaf could not be parsed, so its names are unknown
)

// CheckLeafName compares sni with the leaf certificate's names, by the rules
// of cert-name-mismatch: its DNS SANs (MatchHostname), its IP SANs when the
// SNI is an IP address (which RFC 6066 does not allow, but some clients
// send), or its subject CN when it has no SANs. On NameMismatch, names are
// the names that were compared, for messages. Policies use it too, so
// that a policy's sni_matches and the finding never disagree.
func CheckLeafName(leaf *certinfo.Certificate, sni string) (result NameCheck, names []string) {
	dns, ips := leaf.DNSNames, leaf.IPAddresses
	if len(dns) == 0 && len(ips) == 0 {
		switch {
		case leaf.SubjectCN != "":
			cn := []string{leaf.SubjectCN}
			dns, ips = cn, cn // the CN may be either
		case leaf.ParseError != "":
			return NameUnparsable, nil
		default:
			return NameNoNames, nil
		}
	}
	if ip, err := parseIP(sni); err == nil {
		for _, c := range ips {
			if cip, err := netip.ParseAddr(c); err == nil && cip.Unmap() == ip.Unmap() {
				return NameMatches, nil
			}
		}
	} else {
		for _, c := range dns {
			if MatchHostname(c, sni) {
				return NameMatches, nil
			}
		}
	}
	if len(leaf.IPAddresses) == 0 {
		return NameMismatch, slices.Clip(dns) // the DNS names, or the CN: no copy
	}
	return NameMismatch, slices.Concat(leaf.DNSNames, leaf.IPAddresses)
}

// checkName reports cert-name-mismatch.
func checkName(b *builder, s *tlsconn.Summary) {
	if s.SNI == nil || *s.SNI == "" || len(s.ServerCertificates) == 0 || s.ServerCertificates[0] == nil {
		return
	}
	sni := *s.SNI
	switch result, names := CheckLeafName(s.ServerCertificates[0], sni); result {
	case NameNoNames:
		b.add("cert-name-mismatch", "SNI "+quote(sni)+": leaf certificate has no DNS name, IP address or CN")
	case NameMismatch:
		b.add("cert-name-mismatch", "SNI "+quote(sni)+" does not match leaf certificate names "+list(names))
	}
	// NameUnparsable: cert-unparsable says why nothing could be read.
}

// MatchHostname reports whether host matches the certificate name pattern
// under RFC 6125 §6.4 as browsers apply it (and RFC 9525 requires): ASCII
// case-insensitive, a trailing dot ignored, and a wildcard only as the
// whole left-most label of a pattern with at least two labels, matching
// exactly one non-empty label ("*.example.com" matches "a.example.com",
// not "example.com" nor "a.b.example.com"). Partial wildcards ("f*.com")
// match nothing.
func MatchHostname(pattern, host string) bool {
	pattern = strings.TrimSuffix(asciiLower(pattern), ".")
	host = strings.TrimSuffix(asciiLower(host), ".")
	if pattern == "" || host == "" || strings.Contains(host, "*") {
		return false
	}
	if strings.Count(pattern, ".") != strings.Count(host, ".") {
		return false
	}
	// Label by label, without splitting (this runs for every handshake).
	for first := true; ; first = false {
		p, pRest, more := strings.Cut(pattern, ".")
		h, hRest, _ := strings.Cut(host, ".")
		if p == "" || h == "" {
			return false
		}
		if p != h && !(first && p == "*" && more) {
			return false
		}
		if !more {
			return true
		}
		pattern, host = pRest, hRest
	}
}

// errNotIP is parseIP's answer for what cannot be an IP address.
var errNotIP = errors.New("not an IP address")

// parseIP is netip.ParseAddr, without its cost (an error made) for the
// usual SNI, a host name: an address has a colon, or only digits and dots.
func parseIP(s string) (netip.Addr, error) {
	if !strings.Contains(s, ":") && strings.Trim(s, "0123456789.") != "" {
		return netip.Addr{}, errNotIP
	}
	return netip.ParseAddr(s)
}

// asciiLower folds only A-Z: Unicode case folding could let a non-ASCII
// name (e.g. the Kelvin sign) match an ASCII one.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}
