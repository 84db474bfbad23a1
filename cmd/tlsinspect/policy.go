package main

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/tlsinspect/tlsinspect/policy"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// policyOptions are the policy flags: the quick ones and --policy.
type policyOptions struct {
	flags policy.Flags
	file  string
	junit string
}

func addPolicyFlags(fs *pflag.FlagSet, p *policyOptions) {
	fs.StringVar(&p.file, "policy", "", "check every connection against the rules in `FILE` (YAML; README \"Policies\"); exit 1 on a violation")
	fs.StringVar(&p.flags.MinVersion, "min-version", "", "policy: negotiated version at least `V` (1.0, 1.1, 1.2, 1.3)")
	fs.StringArrayVar(&p.flags.DenySuites, "deny-suite", nil, "policy: no cipher suite matching `GLOB` (IANA names, e.g. '*_CBC_*'); repeatable")
	fs.BoolVar(&p.flags.RequireMTLS, "require-mtls", false, "policy: the server requested a client certificate and the client sent one")
	fs.BoolVar(&p.flags.RequireSNI, "require-sni", false, "policy: the client sent SNI")
	fs.BoolVar(&p.flags.RequireEstablished, "require-established", false, "policy: the handshake completed")
	fs.StringArrayVar(&p.flags.FailOn, "fail-on", nil, "policy: no finding of `SEVERITY` (info, low, medium, high: that and above) or finding ID (glob); repeatable")
	fs.IntVar(&p.flags.ExpectConnections, "expect-connections", 0, "policy: at least `N` TLS connections in the input")
	fs.StringVar(&p.junit, "junit", "", "write the policy results as JUnit XML to `FILE` (one test case per rule and connection)")
}

// policyGate runs the policy checks on each summary.
type policyGate struct {
	checker  *policy.Checker
	stderr   io.Writer
	junit    string
	markdown bool
}

// newPolicyGate returns nil when no policy was asked for.
func newPolicyGate(o options, stderr io.Writer) (*policyGate, error) {
	p := o.policy
	pol, err := policy.FromFlags(p.flags)
	if err != nil {
		return nil, err
	}
	if p.file != "" {
		fromFile, err := policy.Load(p.file)
		if err != nil {
			return nil, err
		}
		if pol, err = fromFile.Merge(pol); err != nil {
			return nil, err
		}
	}
	if pol.Empty() {
		if p.junit != "" {
			return nil, fmt.Errorf("--junit needs a policy: --policy FILE or a policy flag (--min-version, --require-mtls, …)")
		}
		return nil, nil
	}
	return &policyGate{checker: policy.NewChecker(pol), stderr: stderr, junit: p.junit, markdown: o.format == "markdown"}, nil
}

// add checks one summary and reports its violations at once, so that a
// live capture shows them as they happen.
func (g *policyGate) add(s *tlsconn.Summary) {
	for _, v := range g.checker.Check(s) {
		fmt.Fprintf(g.stderr, "tlsinspect: violation: %s\n", v)
	}
}

// finish reports what only the whole input can tell (expected connection
// count, rules that matched nothing), writes the JUnit file and the
// markdown summary, and says whether the policy failed.
func (g *policyGate) finish(stdout io.Writer, quiet bool) (bool, error) {
	res := g.checker.Finish()
	for _, v := range res.Violations {
		if v.Connection == 0 { // run-level: expected connections, a required rule unmatched
			fmt.Fprintf(g.stderr, "tlsinspect: violation: %s\n", v)
		}
	}
	for _, name := range res.Unmatched {
		fmt.Fprintf(g.stderr, "tlsinspect: warning: policy rule %q matched no connection (a typo in its match?)\n", name)
	}
	if g.junit != "" {
		if err := writeFile(g.junit, res.WriteJUnit); err != nil {
			return false, fmt.Errorf("--junit: %w", err)
		}
	}
	if g.markdown {
		fmt.Fprintln(stdout) // end the connection table
		if err := res.WriteMarkdown(stdout); err != nil {
			return false, err
		}
	}
	if !quiet {
		verdict := "passed"
		if res.Failed() {
			verdict = "FAILED"
		}
		fmt.Fprintf(g.stderr, "tlsinspect: policy %s: %d connections checked, %d violations\n", verdict, res.Connections, len(res.Violations)+res.OmittedViolations)
	}
	return res.Failed(), nil
}
