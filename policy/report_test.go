package policy

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// hostileResult is a run whose wire-derived text tries to break out of
// every output: terminal escapes, XML, Markdown tables, links, HTML.
func hostileResult(t *testing.T) *Result {
	p := mustParse(t, `
expect_connections: 3
rules:
  - name: sni_rule*
    require: {sni: false}
  - name: required-typo
    required: true
    match: {server: ":9"}
`)
	c := NewChecker(p)
	c.Check(with(tls12(), func(s *tlsconn.Summary) {
		s.SNI = ptr("a|b`c``d<script>x</script>[l](http://e.x)*em*\x1b[2J\n\u202e&amp;\xff")
	}))
	c.Check(with(tls12(), func(s *tlsconn.Summary) {
		s.SNI, s.Handshake, s.Connection = ptr("`tick"), 2, 7
	}))
	return c.Finish()
}

func TestHostileOutputs(t *testing.T) {
	r := hostileResult(t)
	var junit, md bytes.Buffer
	if err := r.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "hostile.junit.xml", junit.Bytes())
	checkGolden(t, "hostile.md", md.Bytes())
	checkJUnit(t, junit.Bytes(), junitCounts{tests: 4, failures: 4, skipped: 0, suites: 3})
	xmllint(t, junit.Bytes())

	// The raw bytes never reach an output. (In Markdown, <script> stays
	// as text inside a code span, where it is not HTML.)
	for name, out := range map[string]string{"junit": junit.String(), "markdown": md.String()} {
		for _, raw := range []string{"\x1b", "\u202e", "\xff", "\n\u202e"} {
			if strings.Contains(out, raw) {
				t.Errorf("%s output contains %q", name, raw)
			}
		}
	}
	if strings.Contains(junit.String(), "<script>") {
		t.Errorf("JUnit output contains an unescaped <script>")
	}
	// Every violation row keeps the table's six cells: no | leaks.
	for _, line := range strings.Split(md.String(), "\n") {
		if strings.Contains(line, "10.0.0.9") {
			if cells := splitCells(line); cells != 6 {
				t.Errorf("row has %d cells: %s", cells, line)
			}
		}
	}
	// The JUnit text round-trips to the escaped form.
	var root junitSuites
	if err := xml.Unmarshal(junit.Bytes(), &root); err != nil {
		t.Fatal(err)
	}
	if got := root.Suites[0].Cases[0].Name; !strings.Contains(got, `\x1b[2J\x0a\u202e&amp;\xff`) {
		t.Errorf("test case name %q", got)
	}
}

// splitCells counts GFM table cells: pipes not escaped by a backslash
// (a backslash escapes the next character, so \\ is a pair).
func splitCells(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n - 1
}

func TestMdCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "`plain`"},
		{"a|b", "`a\\|b`"},
		{"a`b", "``a`b``"},
		{"`a", "`` `a ``"},
		{"a``b`", "``` a``b` ```"},
		{"", ""},
		{"x\x00y", "`x\\x00y`"},
	}
	for _, tt := range tests {
		if got := mdCode(tt.in); got != tt.want {
			t.Errorf("mdCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got, want := mdText("a_b*c|d\\e"), `a\_b\*c\|d\\\\e`; got != want {
		t.Errorf("mdText = %q, want %q", got, want)
	}
}

func TestMarkdownPassed(t *testing.T) {
	c := NewChecker(mustParse(t, "rules:\n  - name: r\n    require: {sni: true}\n"))
	c.Check(tls12())
	var md bytes.Buffer
	if err := c.Finish().WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	want := "## ✅ tlsinspect policy passed\n\n" +
		"0 violations in 1 TLS connection (1 handshake) checked against 1 rule.\n\n" +
		"| rule | connections | failed |\n|---|---:|---:|\n| r | 1 | 0 |\n"
	if md.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", md.String(), want)
	}
}
