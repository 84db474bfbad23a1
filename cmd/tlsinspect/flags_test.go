package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSummaryFlag: --summary counts handshakes across all inputs, as
// tables or (with --format json) as one JSON object.
func TestSummaryFlag(t *testing.T) {
	tls10 := filepath.Join(pcapDir, "tls10-openssl.pcap")
	tls12 := filepath.Join(pcapDir, "tls12-ecdhe-go.pcap")
	alert := filepath.Join(pcapDir, "alert-protocol-version-go.pcap")

	out, stderr, code := runCmd("-q", "--summary", "-r", tls10, "-r", tls12, "-r", alert)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, row := range []string{
		`handshakes: 3`,
		`\| Version +\| Count \| Share \|`,
		`\| TLS 1\.0 +\| +1 \| +33\.3% \|`,
		`\| TLS 1\.2 +\| +1 \| +33\.3% \|`,
		`\| \? +\| +1 \| +33\.3% \|`,
		`\| server\.test +\| +3 \| +100\.0% \|`,
		`\| version-tls10 +\| +1 \| `,
		`\| established +\| +2 \| +66\.7% \|`,
		`\| protocol_version +\| +1 \| +33\.3% \|`,
		`\| Client certificate \| Requested \| Sent \|`,
	} {
		if !regexp.MustCompile(row).MatchString(out) {
			t.Errorf("summary lacks %s:\n%s", row, out)
		}
	}
	if strings.Contains(out, "→") {
		t.Errorf("--summary printed connection rows:\n%s", out)
	}

	out, stderr, code = runCmd("-q", "--summary", "--format", "json", "-r", tls10, "-r", tls12)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sum struct {
		Handshakes int `json:"handshakes"`
		Versions   []struct {
			Name  *string `json:"name"`
			Count int     `json:"count"`
		} `json:"versions"`
	}
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("want one JSON object, got:\n%s", out)
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, v := range sum.Versions {
		if v.Name != nil {
			got[*v.Name] = v.Count
		}
	}
	if sum.Handshakes != 2 || len(sum.Versions) != 2 || got["TLS 1.0"] != 1 || got["TLS 1.2"] != 1 {
		t.Errorf("JSON summary = %s", out)
	}
}

// TestColorFlag: colour follows --color and NO_COLOR; the test's stdout is
// a buffer, not a terminal, so auto means no colour.
func TestColorFlag(t *testing.T) {
	src := filepath.Join(pcapDir, "tls10-openssl.pcap")
	tests := []struct {
		name    string
		noColor string
		args    []string
		colour  bool
	}{
		{"default is auto", "", nil, false},
		{"auto, not a terminal", "", []string{"--color", "auto"}, false},
		{"always", "", []string{"--color", "always"}, true},
		{"always overrides NO_COLOR", "1", []string{"--color=always"}, true},
		{"never", "", []string{"--color", "never"}, false},
		{"summary always", "", []string{"--color", "always", "--summary"}, true},
		{"json is never coloured", "", []string{"--color", "always", "-T", "json"}, false},
		{"json summary is never coloured", "", []string{"--color", "always", "-T", "json", "--summary"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("NO_COLOR", tt.noColor)
			out, stderr, code := runCmd(append([]string{"-q", "-r", src}, tt.args...)...)
			if code != 0 || out == "" {
				t.Fatalf("exit %d, output %q: %s", code, out, stderr)
			}
			if got := strings.Contains(out, "\x1b["); got != tt.colour {
				t.Errorf("ANSI codes in output: %v, want %v:\n%q", got, tt.colour, out)
			}
			if tt.colour && !strings.Contains(out, "\x1b[33mTLS 1.0") {
				t.Errorf("TLS 1.0 is not yellow:\n%q", out)
			}
		})
	}
}

func TestColorFlagInvalid(t *testing.T) {
	src := filepath.Join(pcapDir, "tls12-ecdhe-go.pcap")
	for _, v := range []string{"purple", "", "ALWAYS"} {
		out, stderr, code := runCmd("-r", src, "--color="+v)
		if code != exitUsage {
			t.Errorf("--color=%q: exit %d, want %d", v, code, exitUsage)
		}
		want := `invalid argument "` + v + `" for "--color" flag: want auto, always or never`
		if !strings.Contains(stderr, want) {
			t.Errorf("--color=%q: stderr %q lacks %q", v, stderr, want)
		}
		if out != "" {
			t.Errorf("--color=%q: output %q", v, out)
		}
	}
}
