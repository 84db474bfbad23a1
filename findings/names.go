package findings

import (
	"net/netip"
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
// send), or its subject CN when it has no SANs. names are the names that
// were compared, for messages. Policies use it too, so that a policy's
// sni_matches and the finding never disagree.
func CheckLeafName(leaf *certinfo.Certificate, sni string) (result NameCheck, names []string) {
	noSANs := len(leaf.DNSNames) == 0 && len(leaf.IPAddresses) == 0
	switch {
	case !noSANs:
		names = append(append(names, leaf.DNSNames...), leaf.IPAddresses...)
	case leaf.SubjectCN != "":
		names = []string{leaf.SubjectCN}
	case leaf.ParseError != "":
		return NameUnparsable, nil
	default:
		return NameNoNames, nil
	}
	if ip, err := netip.ParseAddr(sni); err == nil {
		cands := leaf.IPAddresses
		if noSANs {
			cands = names
		}
		for _, c := range cands {
			if cip, err := netip.ParseAddr(c); err == nil && cip.Unmap() == ip.Unmap() {
				return NameMatches, names
			}
		}
		return NameMismatch, names
	}
	cands := leaf.DNSNames
	if noSANs {
		cands = names
	}
	for _, c := range cands {
		if MatchHostname(c, sni) {
			return NameMatches, names
		}
	}
	return NameMismatch, names
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
	pl, hl := strings.Split(pattern, "."), strings.Split(host, ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		if hl[i] == "" || pl[i] == "" {
			return false
		}
		if i == 0 && pl[0] == "*" && len(pl) >= 2 {
			continue
		}
		if pl[i] != hl[i] {
			return false
		}
	}
	return true
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
