package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/tlsconn"
)

func TestViolationString(t *testing.T) {
	tests := []struct {
		name string
		v    Violation
		want string
	}{
		{"connection", Violation{
			Rule: "payments-api-mtls", Requirement: "client_cert.sent",
			Client: "10.0.0.9:51514", Server: "10.0.0.5:8443", SNI: "api.payments.internal",
			Time: time.Date(2026, 11, 27, 10, 0, 1, 0, time.UTC), Connection: 1, Handshake: 1,
			Expected: "true", Actual: "false",
		}, "rule payments-api-mtls: 10.0.0.9:51514 → 10.0.0.5:8443 (sni api.payments.internal, 2026-11-27T10:00:01Z): client_cert.sent: expected true, got false"},
		{"no sni, second handshake, fractional time", Violation{
			Rule: "r", Requirement: "sni", Client: "[::1]:5000", Server: "[::1]:443",
			Time: time.Date(2026, 11, 27, 10, 0, 1, 250_000_000, time.FixedZone("CET", 3600)), Handshake: 2,
			Expected: "present", Actual: "absent",
		}, "rule r: [::1]:5000 → [::1]:443 (no sni, handshake 2, 2026-11-27T09:00:01.25Z): sni: expected present, got absent"},
		{"control characters from the wire", Violation{
			Rule: "r", Requirement: "sni", Client: "a:1", Server: "b:2", SNI: "evil\x1b[31m\n.com\u202e",
			Expected: "absent", Actual: "present (evil\x1b[31m\n.com\u202e)",
		}, `rule r: a:1 → b:2 (sni evil\x1b[31m\x0a.com\u202e): sni: expected absent, got present (evil\x1b[31m\x0a.com\u202e)`},
		{"backslashes cannot forge escapes", Violation{
			Requirement: "x", Client: "a:1", Server: "b:2", SNI: `a\x41`, Expected: "1", Actual: "2",
		}, `a:1 → b:2 (sni a\\x41): x: expected 1, got 2`},
		{"run level", Violation{Requirement: "expect_connections", Expected: "at least 3 TLS connections", Actual: "0"},
			"expect_connections: expected at least 3 TLS connections, got 0"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("%s:\n got  %s\n want %s", tt.name, got, tt.want)
		}
	}
	// JSON names follow the Summary's (ts, sni, connection, handshake).
	j, err := json.Marshal(tests[0].v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"rule":"payments-api-mtls","requirement":"client_cert.sent","client":"10.0.0.9:51514","server":"10.0.0.5:8443","sni":"api.payments.internal","ts":"2026-11-27T10:00:01Z","connection":1,"handshake":1,"expected":"true","actual":"false"}`
	if string(j) != want {
		t.Errorf("JSON:\n got  %s\n want %s", j, want)
	}
	j, _ = json.Marshal(tests[len(tests)-1].v)
	if want := `{"requirement":"expect_connections","expected":"at least 3 TLS connections","actual":"0"}`; string(j) != want {
		t.Errorf("JSON:\n got  %s\n want %s", j, want)
	}
}

func TestFinish(t *testing.T) {
	tests := []struct {
		name          string
		policy        string
		summaries     []*tlsconn.Summary
		wantFailed    bool
		wantUnmatched []string
		wantRunLevel  []string // violations without a connection
	}{
		{"unmatched rule is a warning", `
rules:
  - name: typo
    match: {server: ":8444"}
    require: {sni: true}
`, []*tlsconn.Summary{tls12()}, false, []string{"typo"}, nil},
		{"required rule fails", `
rules:
  - name: typo
    required: true
    match: {server: ":8444"}
`, []*tlsconn.Summary{tls12()}, true, []string{"typo"},
			[]string{"rule typo: match: expected at least one matching connection, got none of 1 TLS connection"}},
		{"fail_on_unmatched", `
fail_on_unmatched: true
rules:
  - name: a
    match: {server: ":1"}
  - name: b
`, []*tlsconn.Summary{tls12(), tls13()}, true, []string{"a"},
			[]string{"rule a: match: expected at least one matching connection, got none of 2 TLS connections"}},
		{"expect_connections met", "expect_connections: 2\n", []*tlsconn.Summary{tls12(), tls13()}, false, nil, nil},
		{"second handshake is not a connection", "expect_connections: 2\n",
			[]*tlsconn.Summary{tls12(), with(tls12(), func(s *tlsconn.Summary) { s.Handshake = 2 })}, true, nil,
			[]string{"expect_connections: expected at least 2 TLS connections, got 1"}},
		{"empty capture", "expect_connections: 1\n", nil, true, nil,
			[]string{"expect_connections: expected at least 1 TLS connection, got 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewChecker(mustParse(t, tt.policy))
			for _, s := range tt.summaries {
				c.Check(s)
			}
			r := c.Finish()
			if r.Failed() != tt.wantFailed {
				t.Errorf("Failed() = %v", r.Failed())
			}
			if !slices.Equal(r.Unmatched, tt.wantUnmatched) {
				t.Errorf("Unmatched = %q, want %q", r.Unmatched, tt.wantUnmatched)
			}
			var runLevel []string
			for _, v := range r.Violations {
				if v.Client == "" {
					runLevel = append(runLevel, v.String())
				}
			}
			if !slices.Equal(runLevel, tt.wantRunLevel) {
				t.Errorf("run-level violations %q, want %q", runLevel, tt.wantRunLevel)
			}
			if again := c.Finish(); again != r || len(again.Violations) != len(r.Violations) {
				t.Errorf("second Finish changed the result")
			}
		})
	}
}

// TestBounds: a long capture keeps at most MaxPassingCasesPerRule passing
// cases per rule and counts the rest; failing cases are all kept below
// MaxViolations.
func TestBounds(t *testing.T) {
	c := NewChecker(mustParse(t, "rules:\n  - name: r\n    require: {sni: true}\n"))
	const n = MaxPassingCasesPerRule + 100
	for i := range n {
		s := tls12()
		s.Connection = uint64(i + 1)
		if i%1000 == 0 {
			s.SNI = nil
		}
		c.Check(s)
	}
	r := c.Finish()
	rr := r.Rules[0]
	failing := (n + 999) / 1000
	if rr.Matched != n || rr.Failed != failing || len(r.Violations) != failing {
		t.Fatalf("matched %d failed %d violations %d", rr.Matched, rr.Failed, len(r.Violations))
	}
	if len(rr.Cases) != MaxPassingCasesPerRule+failing || rr.UnlistedPassed != n-failing-MaxPassingCasesPerRule {
		t.Errorf("cases %d, unlisted passing %d", len(rr.Cases), rr.UnlistedPassed)
	}
	var junit bytes.Buffer
	if err := r.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("<system-out>and %d more passing connections (not listed)</system-out>", rr.UnlistedPassed); rr.UnlistedPassed == 0 || !strings.Contains(junit.String(), want) {
		t.Errorf("JUnit does not count the unlisted cases")
	}
}

// TestViolationCap fills the violation list and checks that the rest is
// counted and the run still fails.
func TestViolationCap(t *testing.T) {
	c := NewChecker(mustParse(t, "rules:\n  - name: r\n    require: {sni: true, established: true}\n"))
	s := with(refused(), func(s *tlsconn.Summary) { s.SNI = nil })
	for range MaxViolations/2 + 3 {
		if got := len(c.Check(s)); got != 2 {
			t.Fatalf("Check returned %d violations, want 2", got)
		}
	}
	r := c.Finish()
	if len(r.Violations) != MaxViolations || r.OmittedViolations != 6 || r.Rules[0].UnlistedFailed != 3 || !r.Failed() {
		t.Errorf("kept %d, omitted %d, unlisted failing %d", len(r.Violations), r.OmittedViolations, r.Rules[0].UnlistedFailed)
	}
}

func TestFromFlags(t *testing.T) {
	tests := []struct {
		name  string
		flags Flags
		s     *tlsconn.Summary
		want  []string
	}{
		{"nothing", Flags{}, refused(), nil},
		{"min version", Flags{MinVersion: "1.3"}, tls12(), []string{"version.min: expected TLS 1.3 or later, got TLS 1.2"}},
		{"deny suite, comma separated", Flags{DenySuites: []string{"*_CBC_*,*_GCM_*"}}, tls12(),
			[]string{"suites.deny: expected none of *_CBC_*, *_GCM_*, got TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (matches *_GCM_*)"}},
		{"require mtls", Flags{RequireMTLS: true}, tls12(), nil},
		{"require mtls, not requested", Flags{RequireMTLS: true}, with(tls12(), func(s *tlsconn.Summary) { s.ClientCertRequested, s.ClientCertSent = ptr(false), ptr(false) }),
			[]string{"client_cert.requested: expected true, got false"}},
		{"require mtls, TLS 1.3", Flags{RequireMTLS: true}, tls13(),
			[]string{"client_cert.requested: expected true, got unknown (TLS 1.3 encrypts the certificate exchange; record sizes suggest true)"}},
		{"require sni and established", Flags{RequireSNI: true, RequireEstablished: true}, with(refused(), func(s *tlsconn.Summary) { s.SNI = nil }),
			[]string{"established: expected true, got false (protocol_version)", "sni: expected present, got absent"}},
		{"fail on severity", Flags{FailOn: []string{"medium"}}, with(tls12(), func(s *tlsconn.Summary) {
			s.Findings = []tlsconn.Finding{{ID: "no-sni", Severity: "info", Text: "t"}, {ID: "cert-expired", Severity: "medium", Text: "t"}}
		}), []string{"deny_findings: expected no finding matching >=medium, got cert-expired (medium): t"}},
		{"fail on id", Flags{FailOn: []string{"no-sni"}}, with(tls12(), func(s *tlsconn.Summary) {
			s.Findings = []tlsconn.Finding{{ID: "no-sni", Severity: "info", Text: "t"}}
		}), []string{"deny_findings: expected no finding matching no-sni, got no-sni (info): t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := FromFlags(tt.flags)
			if err != nil {
				t.Fatal(err)
			}
			vs := NewChecker(p).Check(tt.s)
			for _, v := range vs {
				if v.Rule != CommandLineRule {
					t.Errorf("rule %q, want %q", v.Rule, CommandLineRule)
				}
			}
			if got := short(vs); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestFromFlagsErrors(t *testing.T) {
	tests := []struct {
		flags Flags
		want  string
	}{
		{Flags{MinVersion: "1.4"}, `--min-version "1.4": not a TLS version (expected 1.0, 1.1, 1.2 or 1.3)`},
		{Flags{DenySuites: []string{"TLS_[AES"}}, `--deny-suite: pattern "TLS_[AES": unterminated [`},
		{Flags{FailOn: []string{"mediun"}}, `--fail-on "mediun" is not a severity (info, low, medium, high) and matches no finding ID (see the README's Findings table)`},
		{Flags{FailOn: []string{">=critical"}}, `--fail-on ">=critical": unknown severity (expected info, low, medium or high)`},
		{Flags{ExpectConnections: -1}, `--expect-connections -1: must not be negative`},
	}
	for _, tt := range tests {
		_, err := FromFlags(tt.flags)
		if err == nil || err.Error() != tt.want {
			t.Errorf("FromFlags(%+v) = %v, want %s", tt.flags, err, tt.want)
		}
	}
}

func TestMerge(t *testing.T) {
	flags, err := FromFlags(Flags{MinVersion: "1.2", ExpectConnections: 5})
	if err != nil {
		t.Fatal(err)
	}
	file := mustParse(t, "expect_connections: 2\nfail_on_unmatched: true\nrules:\n  - name: file-rule\n    require: {sni: true}\n")
	m, err := flags.Merge(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.rules) != 2 || m.rules[0].name != CommandLineRule || m.rules[1].name != "file-rule" || m.expectConnections != 5 || !m.failOnUnmatched {
		t.Errorf("merged: %d rules, expect %d, fail_on_unmatched %v", len(m.rules), m.expectConnections, m.failOnUnmatched)
	}
	if len(flags.rules) != 1 || len(file.rules) != 1 {
		t.Errorf("Merge changed its inputs")
	}
	clash := mustParse(t, "rules:\n  - name: command-line\n    require: {sni: true}\n")
	if _, err := flags.Merge(clash); err == nil || err.Error() != `rule "command-line" is defined both in the command line and in policy.yaml` {
		t.Errorf("name clash: %v", err)
	}
	var nilPolicy *Policy
	if m, err := nilPolicy.Merge(file); err != nil || len(m.rules) != 1 {
		t.Errorf("nil.Merge: %v", err)
	}
	if !nilPolicy.Empty() || (&Policy{}).Empty() == false || flags.Empty() {
		t.Errorf("Empty")
	}
}
