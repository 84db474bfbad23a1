package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// Bounds on what a Result keeps, so that a capture of a million
// connections costs a few short strings per recorded case, not a copy of
// every Summary. Beyond them, cases and violations are only counted.
const (
	MaxViolations          = 100_000 // violations kept in Result.Violations (and failing cases)
	MaxPassingCasesPerRule = 10_000  // passing cases kept per rule
	MaxPassingCases        = 100_000 // passing cases kept over all rules
)

// Violation is one requirement that a connection did not meet, or a
// run-level one (Requirement "expect_connections", or "match" for a
// required rule that matched nothing; these have no connection fields).
type Violation struct {
	Rule        string    `json:"rule,omitempty"` // rule name; "" for expect_connections
	Requirement string    `json:"requirement"`    // e.g. "client_cert.sent", "version.min", "deny_findings"
	Client      string    `json:"client,omitempty"`
	Server      string    `json:"server,omitempty"`
	SNI         string    `json:"sni,omitempty"`        // "" when the ClientHello had none
	Time        time.Time `json:"ts,omitzero"`          // the handshake's capture time (Summary.TS)
	Connection  uint64    `json:"connection,omitempty"` // as in the JSON output
	Handshake   int       `json:"handshake,omitempty"`
	Expected    string    `json:"expected"`
	Actual      string    `json:"actual"` // starts with "unknown (" when the value could not be seen
}

// String is the violation on one line, wire-derived text escaped:
//
//	rule payments-api-mtls: 10.0.0.9:51514 → 10.0.0.5:8443 (sni api.payments.internal, 2026-11-27T10:00:01Z): client_cert.sent: expected true, got false
func (v Violation) String() string {
	var b strings.Builder
	if v.Rule != "" {
		b.WriteString("rule " + escape(v.Rule) + ": ")
	}
	if v.Client != "" || v.Server != "" {
		b.WriteString(escape(v.Client) + " → " + escape(v.Server))
		var ctx []string
		if v.SNI != "" {
			ctx = append(ctx, "sni "+escape(v.SNI))
		} else {
			ctx = append(ctx, "no sni")
		}
		if v.Handshake > 1 {
			ctx = append(ctx, fmt.Sprintf("handshake %d", v.Handshake))
		}
		if !v.Time.IsZero() {
			ctx = append(ctx, v.Time.UTC().Format(time.RFC3339Nano))
		}
		b.WriteString(" (" + strings.Join(ctx, ", ") + "): ")
	}
	fmt.Fprintf(&b, "%s: expected %s, got %s", escape(v.Requirement), escape(v.Expected), escape(v.Actual))
	return b.String()
}

// Case is one rule applied to one handshake, for JUnit: passed when it has
// no violations. It keeps only short strings.
type Case struct {
	Name       string // "client → server (sni)", wire text escaped
	Time       time.Time
	Connection uint64
	Handshake  int
	Violations []Violation
}

// RuleResult is what one rule found, in the order connections were
// checked.
type RuleResult struct {
	Name           string
	Required       bool
	Matched        int    // handshakes the rule applied to
	Failed         int    // of them, with a violation
	Cases          []Case // recorded cases, within the bounds above
	UnlistedPassed int    // passing handshakes beyond the bounds, counted only
	UnlistedFailed int    // failing handshakes beyond MaxViolations, counted only
}

// Result is the outcome of a run.
type Result struct {
	// Violations in the order found: at most MaxViolations of
	// connections, then the run-level ones Finish adds.
	Violations        []Violation
	OmittedViolations int // connection violations beyond MaxViolations, counted only
	// Unmatched lists the rules that matched no connection, in policy
	// order: usually a typo in match. Such a rule fails the run only when
	// it says required: true or the policy fail_on_unmatched: true (a
	// "match" violation is then in Violations); otherwise it is a warning.
	Unmatched         []string
	Connections       int // TLS connections checked (first handshakes)
	Handshakes        int // Summaries checked
	ExpectConnections int // from the policy; 0 for none
	Rules             []RuleResult
}

// Failed reports whether any requirement was violated.
func (r *Result) Failed() bool {
	return len(r.Violations) > 0 || r.OmittedViolations > 0
}

// Checker applies a Policy to Summaries one at a time, as a capture is
// read. It is not safe for concurrent use.
type Checker struct {
	p            *Policy
	res          Result
	passingCases int
	scratch      []failure
	finished     bool
}

// NewChecker returns a Checker for p; a nil p checks nothing.
func NewChecker(p *Policy) *Checker {
	if p == nil {
		p = &Policy{}
	}
	c := &Checker{p: p}
	c.res.ExpectConnections = p.expectConnections
	c.res.Rules = make([]RuleResult, len(p.rules))
	for i, r := range p.rules {
		c.res.Rules[i] = RuleResult{Name: r.name, Required: r.required || p.failOnUnmatched}
	}
	return c
}

// Check applies every rule that matches s and returns the violations (all
// of them, even beyond what the Result keeps). Call it once per Summary,
// in the order they are emitted. The Summary is not kept.
func (c *Checker) Check(s *tlsconn.Summary) []Violation {
	if s == nil || c.finished {
		return nil
	}
	c.res.Handshakes++
	if s.Handshake <= 1 {
		c.res.Connections++
	}
	v := newView(s)
	var out []Violation
	for i, r := range c.p.rules {
		if !r.match.matches(v) {
			continue
		}
		fails := c.scratch[:0]
		for _, chk := range r.checks {
			fails = chk(v, fails)
		}
		c.scratch = fails
		first := len(out)
		for _, f := range fails {
			if f.unknown && r.passUnknown {
				continue
			}
			out = append(out, Violation{
				Rule: r.name, Requirement: f.requirement,
				Client: s.Client, Server: s.Server, SNI: v.sni(), Time: s.TS,
				Connection: s.Connection, Handshake: s.Handshake,
				Expected: f.expected, Actual: f.actual,
			})
		}
		c.record(&c.res.Rules[i], s, v, out[first:])
	}
	return out
}

// record keeps the case and its violations within the bounds.
func (c *Checker) record(rr *RuleResult, s *tlsconn.Summary, v *view, vs []Violation) {
	rr.Matched++
	if len(vs) > 0 {
		rr.Failed++
		if len(c.res.Violations)+len(vs) > MaxViolations {
			rr.UnlistedFailed++
			c.res.OmittedViolations += len(vs)
			return
		}
		c.res.Violations = append(c.res.Violations, vs...)
		// The case refers to the Result's copies instead of copying again.
		kept := c.res.Violations[len(c.res.Violations)-len(vs):]
		rr.Cases = append(rr.Cases, newCase(s, v, kept[:len(kept):len(kept)]))
		return
	}
	if rr.Matched-rr.Failed > MaxPassingCasesPerRule || c.passingCases >= MaxPassingCases {
		rr.UnlistedPassed++
		return
	}
	c.passingCases++
	rr.Cases = append(rr.Cases, newCase(s, v, nil))
}

func newCase(s *tlsconn.Summary, v *view, vs []Violation) Case {
	name := escape(s.Client) + " → " + escape(s.Server)
	if sni := v.sni(); sni != "" {
		name += " (" + escape(sni) + ")"
	}
	if s.Handshake > 1 {
		name += fmt.Sprintf(" handshake %d", s.Handshake)
	}
	return Case{Name: name, Time: s.TS, Connection: s.Connection, Handshake: s.Handshake, Violations: vs}
}

// Finish ends the run: it adds the expect_connections violation and the
// rules that matched nothing, and returns the Result. Later calls return
// the same Result; Check does nothing after Finish.
func (c *Checker) Finish() *Result {
	if c.finished {
		return &c.res
	}
	c.finished = true
	if n := c.res.ExpectConnections; n > 0 && c.res.Connections < n {
		c.res.Violations = append(c.res.Violations, Violation{
			Requirement: "expect_connections",
			Expected:    fmt.Sprintf("at least %d TLS %s", n, plural(n, "connection")),
			Actual:      fmt.Sprint(c.res.Connections),
		})
	}
	for _, rr := range c.res.Rules {
		if rr.Matched > 0 {
			continue
		}
		c.res.Unmatched = append(c.res.Unmatched, rr.Name)
		if rr.Required {
			c.res.Violations = append(c.res.Violations, Violation{
				Rule: rr.Name, Requirement: "match",
				Expected: "at least one matching connection",
				Actual:   fmt.Sprintf("none of %d TLS %s", c.res.Connections, plural(c.res.Connections, "connection")),
			})
		}
	}
	return &c.res
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
