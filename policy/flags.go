package policy

import (
	"fmt"
	"strings"
)

// CommandLineRule is the name of the rule the quick flags make.
const CommandLineRule = "command-line"

// Flags are the quick policy flags of the command line. The zero value
// checks nothing.
type Flags struct {
	MinVersion         string   // --min-version: "1.2", "TLS 1.2", "tls1.2"; "" for none
	DenySuites         []string // --deny-suite: globs on IANA suite names, e.g. "*_CBC_*"; commas separate several
	RequireMTLS        bool     // --require-mtls: client certificate requested and sent
	RequireSNI         bool     // --require-sni
	RequireEstablished bool     // --require-established
	FailOn             []string // --fail-on: a severity (that or above) or a finding ID glob; commas separate several
	ExpectConnections  int      // --expect-connections: at least this many TLS connections; 0 for no expectation
}

// FromFlags turns the quick flags into a Policy: one rule named
// "command-line" that matches every connection, plus the expected number
// of connections. Errors name the flag and the value.
func FromFlags(f Flags) (*Policy, error) {
	p := &Policy{source: "the command line"}
	if f.ExpectConnections < 0 {
		return nil, fmt.Errorf("--expect-connections %d: must not be negative", f.ExpectConnections)
	}
	p.expectConnections = f.ExpectConnections
	r := &rule{name: CommandLineRule}
	if f.MinVersion != "" {
		id, ok := parseVersion(f.MinVersion)
		if !ok {
			return nil, fmt.Errorf("--min-version %q: not a TLS version (expected 1.0, 1.1, 1.2 or 1.3)", f.MinVersion)
		}
		r.checks = append(r.checks, checkVersion(id, 0))
	}
	var deny globs
	for _, v := range splitCommas(f.DenySuites) {
		g, err := compileGlob(v)
		if err != nil {
			return nil, fmt.Errorf("--deny-suite: %v", err)
		}
		deny = append(deny, g)
	}
	if len(deny) > 0 {
		r.checks = append(r.checks, checkAllowDeny("suites", nil, deny, suiteOf))
	}
	if f.RequireMTLS {
		t := true
		r.checks = append(r.checks, checkClientCert(&t, &t))
	}
	if f.RequireEstablished {
		r.checks = append(r.checks, checkEstablished(true))
	}
	if f.RequireSNI {
		r.checks = append(r.checks, checkSNI(true))
	}
	var pats []findingPattern
	for _, v := range splitCommas(f.FailOn) {
		fp, err := parseFindingPattern(v)
		if err != nil {
			return nil, fmt.Errorf("--fail-on %v", err)
		}
		pats = append(pats, fp)
	}
	if len(pats) > 0 {
		r.checks = append(r.checks, checkFindings(pats))
	}
	if len(r.checks) > 0 {
		p.rules = []*rule{r}
	}
	return p, nil
}

// splitCommas accepts both repeated flags and comma-separated values; no
// IANA suite name or finding ID contains a comma.
func splitCommas(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}
