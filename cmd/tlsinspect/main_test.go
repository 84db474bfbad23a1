package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tlsinspect/tlsinspect/internal/golden"
	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
)

const pcapDir = "../../testdata/pcaps"

// captures lists the project's own captures.
func captures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz"} {
		m, err := filepath.Glob(filepath.Join(pcapDir, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no captures in testdata/pcaps")
	}
	return files
}

// runCmd runs the command in-process and returns stdout, stderr and status.
func runCmd(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var o map[string]any
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("output line is not JSON: %v: %s", err, sc.Text())
		}
		objs = append(objs, o)
	}
	return objs
}

// TestGolden compares the JSON output for every capture in testdata/pcaps
// with its reviewed golden file.
func TestGolden(t *testing.T) {
	for _, f := range captures(t) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			out, stderr, code := runCmd("-q", "--format", "json", "-r", f)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden.Check(t, filepath.Join(pcapDir, "golden", name+".jsonl"), []byte(out))
		})
	}
}

// TestTableFitsTerminal checks that the default table fits a 120-column
// terminal and carries no control characters.
func TestTableFitsTerminal(t *testing.T) {
	for _, f := range captures(t) {
		out, stderr, code := runCmd("-q", "-r", f)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", f, code, stderr)
		}
		for _, line := range strings.Split(out, "\n") {
			if n := utf8.RuneCountInString(line); n > 120 {
				t.Errorf("%s: line of %d columns:\n%s", filepath.Base(f), n, line)
			}
			for _, r := range line {
				if r < 0x20 || r == 0x7f {
					t.Errorf("%s: control character %U in table output", filepath.Base(f), r)
				}
			}
		}
	}
}

func TestExitStatus(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pcap")
	if err := os.WriteFile(garbage, []byte("<!DOCTYPE html><html>not a capture</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A capture cut in the middle of a packet: everything before the cut is
	// still reported, and stderr says which file and packet.
	src := filepath.Join(pcapDir, "tls12-ecdhe-go.pcap")
	full, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	badPolicy := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badPolicy, []byte("rules:\n  - name: typo\n    requre: {established: true}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcap")
	if err := os.WriteFile(cut, full[:len(full)-30], 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		code       int
		stderr     string // regexp
		wantOutput bool
	}{
		{"help", []string{"--help"}, 0, `Usage:\n  tlsinspect -r FILE(.|\n)*Exit status: 0`, false},
		{"version", []string{"--version"}, 0, "^$", true},
		{"no input", nil, 2, "no input", false},
		{"unknown flag", []string{"--bogus"}, 2, "unknown flag: --bogus", false},
		{"bad format", []string{"-r", src, "--format", "xml"}, 2, `unknown format "xml"`, false},
		{"filter outside the subset", []string{"-r", src, "extra"}, 2, `unsupported primitive "extra" at offset 0`, false},
		{"filter given twice", []string{"-r", src, "-f", "port 1", "port", "2"}, 2, `both with -f and as arguments`, false},
		{"filter and bpf file", []string{"-r", src, "-f", "port 1", "--bpf-file", src}, 2, `either as an expression or with --bpf-file`, false},
		{"bad bpf file", []string{"-r", src, "--bpf-file", garbage}, 2, `--bpf-file .*garbage.pcap: `, false},
		{"filter rejects all", []string{"-r", src, "port", "1"}, 0, `, \d+ filtered out`, false},
		{"-r and -i", []string{"-r", src, "-i", "lo"}, 2, `-r and -i cannot be used together`, false},
		{"duration on a file", []string{"-r", src, "--duration", "1s"}, 2, `--duration is for live capture`, false},
		{"unwritable -w", []string{"-r", src, "-w", filepath.Join(dir, "no", "such", "dir.pcapng")}, 3, `-w: open .*no such file`, false},
		{"policy file with a typo", []string{"-r", src, "--policy", badPolicy}, 2, `bad.yaml:3: unknown key "requre"`, false},
		{"junit without a policy", []string{"-r", src, "--junit", filepath.Join(dir, "j.xml")}, 2, `--junit needs a policy`, false},
		{"bad min-version", []string{"-r", src, "--min-version", "1.5"}, 2, `min-version`, false},
		{"policy violated", []string{"-T", "json", "-r", src, "--require-mtls"}, 1, `violation: rule command-line: .*client_cert.requested: expected true, got false`, true},
		{"policy held", []string{"-T", "json", "-r", src, "--min-version", "1.2", "--expect-connections", "1"}, 0, `policy passed: 1 connections checked, 0 violations`, true},
		{"violation in a damaged file", []string{"-T", "json", "-r", cut, "--require-mtls"}, 3, `violation: `, true},
		{"unknown interface", []string{"-i", "nosuch0"}, 3, `no such interface "nosuch0"; available interfaces: .*lo`, false},
		{"missing file", []string{"-r", filepath.Join(dir, "nope.pcap")}, 3, "nope.pcap: .*no such file", false},
		{"not a capture", []string{"-r", garbage}, 3, `garbage.pcap: not a pcap or pcapng file`, false},
		{"cut short", []string{"--format", "json", "-r", cut}, 3, `cut.pcap: packet \d+: `, true},
		{"good file", []string{"--format", "json", "-r", src}, 0, `\d+ packets, 1 TCP connections, 1 TLS connections`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := runCmd(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr: %s)", code, tt.code, stderr)
			}
			if !regexp.MustCompile(tt.stderr).MatchString(stderr) {
				t.Errorf("stderr %q does not match %q", stderr, tt.stderr)
			}
			if (out != "") != tt.wantOutput {
				t.Errorf("stdout = %q, want output: %v", out, tt.wantOutput)
			}
		})
	}
}

// TestStdinAndRepeatedRead reads the same capture from a file and from
// standard input in one run.
func TestStdinAndRepeatedRead(t *testing.T) {
	src := filepath.Join(pcapDir, "tls13-go.pcapng")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"-T", "json", "-r", src, "-r", "-"}, bytes.NewReader(data), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	objs := jsonLines(t, out.String())
	if len(objs) != 2 || objs[0]["client"] != objs[1]["client"] {
		t.Fatalf("want the same connection twice, got %d objects", len(objs))
	}
	if !strings.Contains(errb.String(), "in 2 files") {
		t.Errorf("summary %q does not count two files", errb.String())
	}
}

// TestCorpusAgainstTshark runs ../shared/tools/tshark-compare over the
// shared corpus of real third-party captures: every connection tshark sees
// must be reported, with the same SNI, version, cipher suite and
// client-certificate request.
func TestCorpusAgainstTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: runs tshark on every corpus capture")
	}
	shared := testcorpus.Shared(t)
	compare := filepath.Join(shared, "tools", "tshark-compare")
	for _, tool := range []string{"tshark", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	bin := filepath.Join(t.TempDir(), "tlsinspect")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	files := testcorpus.Captures(t)
	failLine := regexp.MustCompile(`^FAIL \S+ frame \d+ (\S+ -> \S+): (.*)$`)
	for _, f := range files {
		rel, _ := filepath.Rel(filepath.Join(shared, "corpus"), f)
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			out, _ := exec.Command("python3", compare, "--tlsinspect", bin, f).CombinedOutput()
			if !regexp.MustCompile(`(?m)^\d+ passed, \d+ failed$`).Match(out) {
				t.Fatalf("tshark-compare did not finish:\n%s", out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				m := failLine.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				for _, problem := range strings.Split(m[2], "; ") {
					if why, ok := tsharkDiffers[rel+": "+problem]; ok {
						t.Logf("%s: %s — expected: %s", m[1], problem, why)
						continue
					}
					t.Errorf("%s: %s", m[1], problem)
				}
			}
		})
	}
}

// Where tshark-compare's expectation is known not to hold, for the reason
// given (see ../shared/corpus/INDEX.md). Keyed by capture and problem.
const (
	serverFlightCut = "the capture ends inside the server's first flight (after its Certificate, before ServerHelloDone), " +
		"so whether a CertificateRequest followed cannot be known: tlsinspect says null; tshark-compare assumes false"
	tls13Draft = "TLS 1.3 drafts encrypt CertificateRequest like TLS 1.3 (null: unknown); tshark-compare only treats version 0x0304 as encrypted"
)

var tsharkDiffers = map[string]string{
	"suricata-verify/tests/bug-1450-04/tls_DER-incomplete-header.pcap: client_cert_requested: expected False, tlsinspect None":         serverFlightCut,
	"suricata-verify/tests/bug-1450-05/tls_DER-incomplete-content.pcap: client_cert_requested: expected False, tlsinspect None":        serverFlightCut,
	"zeek/testing/btest/Traces/tls/ml-dsa-44-cert.pcap: client_cert_requested: expected False, tlsinspect None":                        serverFlightCut,
	"suricata-verify/tests/tls/tls13-draft18/tls13_draft18.pcap: client_cert_requested: expected False, tlsinspect None":               tls13Draft,
	"suricata-verify/tests/tls/tls13-draft22/tls13_draft22.pcap: client_cert_requested: expected False, tlsinspect None":               tls13Draft,
	"suricata-verify/tests/tls/tls13-draft28/tls13_draft28.pcap: client_cert_requested: expected False, tlsinspect None":               tls13Draft,
	"zeek/testing/btest/Traces/tls/tls-13draft19-early-data.pcap: client_cert_requested: expected False, tlsinspect None":              tls13Draft,
	"zeek/testing/btest/Traces/tls/tls13draft23-chrome67.0.3368.0-canary.pcap: client_cert_requested: expected False, tlsinspect None": tls13Draft,
	// The capture embeds its key log (pcapng Decryption Secrets Block):
	// tlsinspect decrypts the TLS 1.3 handshake and knows that no
	// CertificateRequest was sent; tshark-compare only expects an answer
	// when it is given --keylog.
	"ja4/chrome-cloudflare-quic-with-secrets.pcapng: client_cert_requested: expected None, tlsinspect False": "decrypted with the capture's embedded secrets",
}
