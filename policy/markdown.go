package policy

import (
	"fmt"
	"io"
	"strings"
)

// markdownMaxRows bounds the violations table: a PR comment holds 65,536
// characters and a step summary 1 MiB; the JUnit report has the rest.
const markdownMaxRows = 100

// WriteMarkdown writes a summary for a pull-request comment or
// $GITHUB_STEP_SUMMARY: a pass/fail heading, a table of rules, a table of
// violations (at most 100 rows) and the rules that matched nothing.
// Wire-derived values are written as code spans, escaped, so that a
// crafted SNI or certificate name cannot inject Markdown or HTML. The
// tables are written by hand: tablewriter's Markdown renderer escapes
// nothing and holds every row in memory.
func (r *Result) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	if r.Failed() {
		b.WriteString("## ❌ tlsinspect policy failed\n\n")
	} else {
		b.WriteString("## ✅ tlsinspect policy passed\n\n")
	}
	total := len(r.Violations) + r.OmittedViolations
	fmt.Fprintf(&b, "%d %s in %d TLS %s (%d %s) checked against %d %s.\n",
		total, plural(total, "violation"),
		r.Connections, plural(r.Connections, "connection"),
		r.Handshakes, plural(r.Handshakes, "handshake"),
		len(r.Rules), plural(len(r.Rules), "rule"))
	if n := r.ExpectConnections; n > 0 {
		fmt.Fprintf(&b, "Expected at least %d TLS %s.\n", n, plural(n, "connection"))
	}

	if len(r.Rules) > 0 {
		b.WriteString("\n| rule | connections | failed |\n|---|---:|---:|\n")
		for _, rr := range r.Rules {
			failed := fmt.Sprint(rr.Failed)
			if rr.Matched == 0 {
				failed = "matched no connection"
				if rr.Required {
					failed += " (required)"
				}
			}
			fmt.Fprintf(&b, "| %s | %d | %s |\n", mdText(rr.Name), rr.Matched, failed)
		}
	}

	if total > 0 {
		b.WriteString("\n### Violations\n\n| rule | connection | SNI | requirement | expected | actual |\n|---|---|---|---|---|---|\n")
		for _, v := range r.Violations[:min(len(r.Violations), markdownMaxRows)] {
			conn, sni := "", ""
			if v.Client != "" || v.Server != "" {
				c := v.Client + " → " + v.Server
				if v.Handshake > 1 {
					c += fmt.Sprintf(" handshake %d", v.Handshake)
				}
				conn, sni = mdCode(c), mdCode(v.SNI)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n",
				mdText(v.Rule), conn, sni, mdText(v.Requirement), mdCode(v.Expected), mdCode(v.Actual))
		}
		if shown := min(len(r.Violations), markdownMaxRows); total > shown {
			fmt.Fprintf(&b, "\n… and %d more %s not shown.\n", total-shown, plural(total-shown, "violation"))
		}
	}

	// Required rules that matched nothing are already violations; the
	// others are a warning.
	var warn []string
	for _, rr := range r.Rules {
		if rr.Matched == 0 && !rr.Required {
			warn = append(warn, mdText(rr.Name))
		}
	}
	switch len(warn) {
	case 0:
	case 1:
		fmt.Fprintf(&b, "\n**Warning:** rule %s matched no connection (a typo in `match`?).\n", warn[0])
	default:
		fmt.Fprintf(&b, "\n**Warning:** these rules matched no connection (a typo in `match`?): %s.\n", strings.Join(warn, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
