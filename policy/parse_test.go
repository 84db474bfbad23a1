package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // the whole error
	}{
		{"unknown top-level key", "rule: []\n",
			`policy.yaml:1: unknown key "rule" (expected one of: expect_connections, fail_on_unmatched, rules)`},
		{"unknown rule key", "rules:\n  - name: payments-api-mtls\n    requre: {}\n",
			`policy.yaml:3: unknown key "requre" in rule "payments-api-mtls" (expected one of: name, required, on_unknown, match, require, deny_findings)`},
		{"unknown key before the name", "rules:\n  - requre: {}\n    name: later\n",
			`policy.yaml:2: unknown key "requre" in rule "later" (expected one of: name, required, on_unknown, match, require, deny_findings)`},
		{"unknown match key", "rules:\n  - name: r\n    match:\n      host: a\n",
			`policy.yaml:4: unknown key "host" in rule "r" match (expected one of: server, client, sni, client_ja4, client_ja3)`},
		{"unknown require key", "rules:\n  - name: r\n    require:\n      tls_version: {min: 1.2}\n",
			`policy.yaml:4: unknown key "tls_version" in rule "r" require (expected one of: version, suites, groups, alpn, client_cert, established, sni, certificate)`},
		{"unknown certificate key", "rules:\n  - name: r\n    require:\n      certificate:\n        not_expird: true\n",
			`policy.yaml:5: unknown key "not_expird" in rule "r" require.certificate (expected one of: not_expired, sni_matches, issuer, min_key_bits)`},
		{"unknown version key", "rules:\n  - name: r\n    require:\n      version: {minimum: 1.2}\n",
			`policy.yaml:4: unknown key "minimum" in rule "r" require.version (expected one of: min, max)`},
		{"unknown list key", "rules:\n  - name: r\n    require:\n      suites: {denied: [x]}\n",
			`policy.yaml:4: unknown key "denied" in rule "r" require.suites (expected one of: allow, deny)`},
		{"unknown key_bits key", "rules:\n  - name: r\n    require:\n      certificate: {min_key_bits: {dsa: 2048}}\n",
			`policy.yaml:4: unknown key "dsa" in rule "r" require.certificate.min_key_bits (expected one of: rsa, ec)`},
		{"duplicate key", "rules:\n  - name: r\n    require:\n      sni: true\n      sni: false\n",
			`policy.yaml:5: duplicate key "sni" in rule "r" require (first at line 4)`},
		{"bool as string", "rules:\n  - name: r\n    require:\n      established: \"yes\"\n",
			`policy.yaml:4: rule "r" require.established: expected true or false, got a string ("yes")`},
		{"yaml 1.1 yes is not a bool", "rules:\n  - name: r\n    require:\n      sni: yes\n",
			`policy.yaml:4: rule "r" require.sni: expected true or false, got a string ("yes")`},
		{"list for a bool", "rules:\n  - name: r\n    required: [true]\n",
			`policy.yaml:3: rule "r" required: expected true or false, got a list`},
		{"string for a mapping", "rules:\n  - name: r\n    require: strict\n",
			`policy.yaml:3: rule "r" require: expected a mapping with keys version, suites, groups, alpn, client_cert, established, sni, certificate, got a string ("strict")`},
		{"rules not a list", "rules: {name: r}\n",
			`policy.yaml:1: rules: expected a list of rules, got a mapping`},
		{"policy not a mapping", "- name: r\n",
			`policy.yaml:1: the policy: expected a mapping with keys expect_connections, fail_on_unmatched, rules, got a list`},
		{"expect_connections negative", "expect_connections: -1\n",
			`policy.yaml:1: expect_connections: -1 is not a number from 0 to 1099511627776`},
		{"expect_connections string", "expect_connections: three\n",
			`policy.yaml:1: expect_connections: expected a whole number, got a string ("three")`},
		{"bad version", "rules:\n  - name: r\n    require:\n      version: {min: 1.4}\n",
			`policy.yaml:4: rule "r" require.version.min: "1.4" is not a TLS version (expected 1.0, 1.1, 1.2 or 1.3)`},
		{"SSL 3 is not a policy version", "rules:\n  - name: r\n    require:\n      version:\n        max: SSL 3.0\n",
			`policy.yaml:5: rule "r" require.version.max: "SSL 3.0" is not a TLS version (expected 1.0, 1.1, 1.2 or 1.3)`},
		{"version as list", "rules:\n  - name: r\n    require:\n      version: {min: [1.2]}\n",
			`policy.yaml:4: rule "r" require.version.min: expected a TLS version such as 1.2, got a list`},
		{"min above max", "rules:\n  - name: r\n    require:\n      version:\n        min: 1.3\n        max: \"TLS 1.2\"\n",
			`policy.yaml:5: rule "r" require.version: min TLS 1.3 is above max TLS 1.2`},
		{"bad CIDR", "rules:\n  - name: r\n    match:\n      server: 10.0.0.0/33\n",
			`policy.yaml:4: rule "r" match.server: "10.0.0.0/33" is not a valid CIDR network (prefix length out of range)`},
		{"CIDR with host bits", "rules:\n  - name: r\n    match:\n      client: [10.0.0.0/8, 10.1.2.3/16]\n",
			`policy.yaml:4: rule "r" match.client: "10.1.2.3/16" has host bits set (the network is 10.1.0.0/16)`},
		{"host name", "rules:\n  - name: r\n    match:\n      server: api.internal:443\n",
			`policy.yaml:4: rule "r" match.server: "api.internal:443" is not an IP address, CIDR network or :PORT (host names are not resolved; use sni)`},
		{"bad port", "rules:\n  - name: r\n    match:\n      server: \":99999\"\n",
			`policy.yaml:4: rule "r" match.server: ":99999": port "99999" is not a number from 1 to 65535`},
		{"bad glob", "rules:\n  - name: r\n    match:\n      sni: \"[a-\"\n",
			`policy.yaml:4: rule "r" match.sni: pattern "[a-": unterminated [`},
		{"bad glob in a list", "rules:\n  - name: r\n    require:\n      suites:\n        deny:\n          - \"*_CBC_*\"\n          - \"TLS_[\"\n",
			`policy.yaml:7: rule "r" require.suites.deny: pattern "TLS_[": unterminated [`},
		{"empty match list", "rules:\n  - name: r\n    match:\n      server: []\n",
			`policy.yaml:4: rule "r" match.server: an empty list would match no connection`},
		{"empty allow list", "rules:\n  - name: r\n    require:\n      suites: {allow: []}\n",
			`policy.yaml:4: rule "r" require.suites.allow: an empty list would reject every connection`},
		{"finding typo", "rules:\n  - name: r\n    deny_findings: [\"weak-cipher-*\"]\n",
			`policy.yaml:3: rule "r" deny_findings: "weak-cipher-*" is not a severity (info, low, medium, high) and matches no finding ID (see the README's Findings table)`},
		{"bad severity", "rules:\n  - name: r\n    deny_findings: \">=severe\"\n",
			`policy.yaml:3: rule "r" deny_findings: ">=severe": unknown severity (expected info, low, medium or high)`},
		{"duplicate name", "rules:\n  - name: r\n    require: {sni: true}\n  - name: r\n    require: {sni: true}\n",
			`policy.yaml:4: duplicate rule name "r" (first at line 2)`},
		{"empty name", "rules:\n  - name: \"\"\n    require: {sni: true}\n",
			`policy.yaml:2: rule #1: empty name`},
		{"missing name", "rules:\n  - name: a\n  - require: {sni: true}\n",
			`policy.yaml:3: rule #2 has no name`},
		{"control character in name", "rules:\n  - name: \"a\\x1bb\"\n",
			`policy.yaml:2: rule "a\x1bb": name "a\x1bb" contains a control or invisible character`},
		{"on_unknown", "rules:\n  - name: r\n    on_unknown: ignore\n",
			`policy.yaml:3: rule "r" on_unknown: "ignore" is neither fail nor pass`},
		{"min_key_bits as a number", "rules:\n  - name: r\n    require:\n      certificate: {min_key_bits: 2048}\n",
			`policy.yaml:4: rule "r" require.certificate.min_key_bits: expected a mapping {rsa: BITS, ec: BITS}, got a number (2048): one number cannot fit both RSA (2048) and EC (256) keys`},
		{"sent without request", "rules:\n  - name: r\n    require:\n      client_cert: {requested: false, sent: true}\n",
			`policy.yaml:4: rule "r" require.client_cert: sent: true needs requested: true (a client sends a certificate only when asked)`},
		{"merge key", "rules:\n  - name: r\n    require:\n      <<: {sni: true}\n",
			`policy.yaml:4: merge keys (<<) are not supported in rule "r" require; repeat the keys or use an alias for a whole value`},
		{"nothing to check", "fail_on_unmatched: true\n",
			`policy.yaml:1: the policy has no rules and no expect_connections`},
		{"empty file", "", `policy.yaml: empty policy file (expected keys: expect_connections, fail_on_unmatched, rules)`},
		{"only a comment", "# nothing\n", `policy.yaml: empty policy file (expected keys: expect_connections, fail_on_unmatched, rules)`},
		{"two documents", "expect_connections: 1\n---\nexpect_connections: 2\n",
			`policy.yaml:2: more than one YAML document (--- separates documents)`},
		{"syntax error", "expect_connections: 1\nrules: [\n",
			`policy.yaml:2: did not find expected node content`},
		{"tab indentation", "rules:\n\t- name: r\n",
			`policy.yaml:2: found character that cannot start any token`},
		{"several errors, one per line", "rules:\n  - name: r\n    require:\n      sni: maybe\n      established: 1\n",
			"policy.yaml:4: rule \"r\" require.sni: expected true or false, got a string (\"maybe\")\n" +
				"policy.yaml:5: rule \"r\" require.established: expected true or false, got a number (1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("policy.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tt.src)
			}
			if p != nil {
				t.Errorf("Parse returned a policy with the error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n got  %s\n want %s", got, tt.want)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	big := "# " + strings.Repeat("x", MaxFileSize) + "\n"
	if _, err := Parse("big.yaml", []byte(big)); err == nil || !strings.HasPrefix(err.Error(), "big.yaml: policy file larger than") {
		t.Errorf("oversized file: %v", err)
	}
	var b strings.Builder
	b.WriteString("rules:\n")
	for i := range MaxRules + 1 {
		b.WriteString("  - {name: r" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + ", require: {sni: true}}\n")
	}
	if _, err := Parse("many.yaml", []byte(b.String())); err == nil || !strings.HasPrefix(err.Error(), "many.yaml:2: rules: more than 1000 rules") {
		t.Errorf("too many rules: %v", err)
	}
	var errs strings.Builder
	errs.WriteString("rules:\n")
	for range 30 {
		errs.WriteString("  - {}\n")
	}
	_, err := Parse("errs.yaml", []byte(errs.String()))
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxParseError+1 || lines[len(lines)-1] != "errs.yaml: and 10 more errors" {
		t.Errorf("error list: %d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

// TestParseAccepts: the forms the schema allows, and that the example
// file in the README parses.
func TestParseAccepts(t *testing.T) {
	for _, src := range []string{
		"expect_connections: 1\n",
		"expect_connections: 0x10\nrules: []\n",
		"rules:\n  - name: only-required\n    required: true\n    match: {server: \":443\"}\n",
		"rules:\n  - name: r\n    match:\n    require:\n",
		"rules:\n  - name: \"spaces and ünïcode\"\n    require: {version: {min: \"TLS 1.2\", max: TLSv1.3}}\n",
	} {
		if _, err := Parse("ok.yaml", []byte(src)); err != nil {
			t.Errorf("Parse(%q): %v", src, err)
		}
	}
	// Anchors and aliases share values between rules.
	p := mustParse(t, `
rules:
  - name: a
    require:
      suites: {deny: &weak ["*_CBC_*", "*_RC4_*"]}
  - name: b
    require:
      suites: {deny: *weak}
`)
	if len(p.rules) != 2 || len(p.rules[1].checks) != 1 {
		t.Errorf("alias: %d rules", len(p.rules))
	}

	p, err := Load(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range p.rules {
		names = append(names, r.name)
	}
	if got := strings.Join(names, ","); got != "baseline,payments-api-mtls,public-web" || p.expectConnections != 3 {
		t.Errorf("example.yaml: rules %s, expect_connections %d", got, p.expectConnections)
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !os.IsNotExist(err) || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("Load of a missing file: %v", err)
	}
}
