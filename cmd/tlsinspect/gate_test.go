package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/report"
)

// TestDeterministicOutput: the same captures give byte-identical output in
// every format, so golden files work in CI.
func TestDeterministicOutput(t *testing.T) {
	var args []string
	for _, f := range captures(t) {
		args = append(args, "-r", f)
	}
	for _, format := range report.Formats {
		for _, extra := range [][]string{nil, {"--summary"}} {
			if extra != nil && format != "table" && format != "json" {
				continue
			}
			a := append(append([]string{"-q", "-T", format}, extra...), args...)
			first, stderr, code := runCmd(a...)
			if code != 0 {
				t.Fatalf("%s %v: exit %d: %s", format, extra, code, stderr)
			}
			second, _, _ := runCmd(a...)
			if first != second || first == "" {
				t.Errorf("--format %s %v: output differs between two runs (or is empty)", format, extra)
			}
		}
	}
}

// TestBaselineDrift: --save-baseline then --baseline on another capture
// reports drift on stderr; --fail-on-drift turns it into exit status 1.
func TestBaselineDrift(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	mtls := filepath.Join(pcapDir, "tls12-mtls-go.pcap")
	oneWay := filepath.Join(pcapDir, "tls12-ecdhe-go.pcap")
	if _, stderr, code := runCmd("-q", "-r", mtls, "--save-baseline", base); code != 0 {
		t.Fatalf("save: exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(base); err != nil || !strings.Contains(string(b), `"server.test"`) {
		t.Fatalf("baseline file: %v\n%s", err, b)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"same capture", []string{"-r", mtls, "--baseline", base, "--fail-on-drift", "any"}, 0, "0 changes from the baseline"},
		{"drift reported", []string{"-r", oneWay, "--baseline", base}, 0, `server\.test: client-auth-dropped \(downgrade\)`},
		{"drift fails", []string{"-r", oneWay, "--baseline", base, "--fail-on-drift", "downgrade"}, 1, "client-auth-dropped"},
		{"fail-on-drift alone", []string{"-r", oneWay, "--fail-on-drift", "any"}, 2, "--fail-on-drift needs --baseline"},
		{"bad fail-on-drift", []string{"-r", oneWay, "--baseline", base, "--fail-on-drift", "some"}, 2, `want downgrade or any`},
		{"missing baseline", []string{"-r", oneWay, "--baseline", filepath.Join(dir, "none.json")}, 2, "--baseline: open"},
		{"not a baseline", []string{"-r", oneWay, "--baseline", mtls}, 2, "--baseline: .*tls12-mtls-go.pcap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCmd(append([]string{"-T", "json"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d: %s", code, tt.code, stderr)
			}
			if !regexpMatch(tt.stderr, stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr)
			}
		})
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
