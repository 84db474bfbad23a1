package policy

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// FuzzParse: Parse never panics, every line of an error starts with the
// file name, and an accepted policy checks any connection without
// panicking.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(capturePolicy))
	for _, seed := range []string{
		"rules:\n  - name: r\n    requre: {}\n",
		"rules:\n  - name: r\n    match: {server: [\"[::1]:443\", \"10.0.0.0/8:1\", \":2\"], sni: \"[!a-c]*\"}\n",
		"rules:\n  - name: r\n    require: {version: {min: 1.3, max: 1.2}}\n",
		"a: &x [*x]\n",
		"rules: [&r {name: a}, *r]\n",
		"expect_connections: 1\n---\n",
		"rules:\n  - name: r\n    deny_findings: [\">=low\", \"cert-*\"]\n",
	} {
		f.Add([]byte(seed))
	}
	summaries := []*tlsconn.Summary{tls12(), tls13(), refused(), {}}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.yaml:") {
					t.Fatalf("error line without the file name: %q", line)
				}
			}
			return
		}
		c := NewChecker(p)
		for _, s := range summaries {
			for _, v := range c.Check(s) {
				_ = v.String()
			}
		}
		r := c.Finish()
		if err := r.WriteJUnit(io.Discard); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteMarkdown(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}
