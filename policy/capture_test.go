package policy

import (
	"bytes"
	"encoding/xml"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/internal/golden"

	"github.com/tlsinspect/tlsinspect/analyze"
	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// capturePolicy is a small CI policy for the project's captures.
const capturePolicy = `
expect_connections: 5
rules:
  - name: modern
    require:
      version: {min: "1.2"}
  - name: mtls
    match: {sni: server.test}
    require:
      client_cert: {requested: true, sent: true}
  - name: certificates
    on_unknown: pass
    require:
      certificate:
        not_expired: true
        sni_matches: true
        issuer: "CN=tlsinspect Test Intermediate CA,*"
        min_key_bits: {rsa: 2048, ec: 256}
  - name: legacy-gateway
    match: {server: "192.0.2.0/24:443"}
    require: {established: false}
`

var captureFiles = []string{"tls10-openssl.pcap", "tls12-mtls-go.pcap", "tls12-ecdhe-go.pcap", "tls13-mtls-go.pcap", "tls13-go.pcap"}

// runCaptures runs the whole pipeline on real captures, checking each
// Summary as analyze emits it, as the command does.
func runCaptures(t *testing.T, p *Policy, files []string) (*Result, []string) {
	t.Helper()
	c := NewChecker(p)
	var lines []string
	for _, name := range files {
		src, err := capture.OpenFile(filepath.Join("..", "testdata", "pcaps", name))
		if err != nil {
			t.Fatal(err)
		}
		cfg := analyze.Config{MaxMessage: 1 << 20, ScanLimit: 16 << 10, MaxBuffer: 256 << 10, IdleTimeout: 2 * time.Minute}
		_, err = analyze.Run(src, cfg, func(s *tlsconn.Summary) {
			for _, v := range c.Check(s) {
				lines = append(lines, v.String())
			}
		})
		src.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return c.Finish(), lines
}

func TestCaptures(t *testing.T) {
	r, lines := runCaptures(t, mustParse(t, capturePolicy), captureFiles)
	want := []string{
		"rule modern: 127.0.0.1:48144 → 127.0.0.1:44310 (sni server.test, 2026-11-27T00:26:08.776096Z): version.min: expected TLS 1.2 or later, got TLS 1.0",
		"rule mtls: 127.0.0.1:48144 → 127.0.0.1:44310 (sni server.test, 2026-11-27T00:26:08.776096Z): client_cert.requested: expected true, got false",
		"rule mtls: 127.0.0.1:34462 → 127.0.0.1:44312 (sni server.test, 2026-11-27T00:26:10.456315Z): client_cert.requested: expected true, got false",
		"rule mtls: 127.0.0.1:33160 → 127.0.0.1:44320 (sni server.test, 2026-11-27T00:26:16.200191Z): client_cert.requested: expected true, got unknown (TLS 1.3 encrypts the certificate exchange; record sizes suggest true)",
		"rule mtls: 127.0.0.1:45394 → 127.0.0.1:44313 (sni server.test, 2026-11-27T00:26:11.118833Z): client_cert.requested: expected true, got unknown (TLS 1.3 encrypts the certificate exchange; record sizes suggest false)",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", join(lines), join(want))
	}
	if !r.Failed() || r.Connections != 5 || !slices.Equal(r.Unmatched, []string{"legacy-gateway"}) {
		t.Errorf("failed %v, connections %d, unmatched %q", r.Failed(), r.Connections, r.Unmatched)
	}
	// tls12-mtls-go satisfies mutual TLS; the certificate rule holds on
	// the TLS 1.2 chains and skips the encrypted TLS 1.3 ones.
	for _, rr := range r.Rules {
		if rr.Name == "certificates" && (rr.Matched != 5 || rr.Failed != 0) {
			t.Errorf("certificates: matched %d, failed %d", rr.Matched, rr.Failed)
		}
		if rr.Name == "mtls" && (rr.Matched != 5 || rr.Failed != 4) {
			t.Errorf("mtls: matched %d, failed %d", rr.Matched, rr.Failed)
		}
	}

	var junit, md bytes.Buffer
	if err := r.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "captures.junit.xml", junit.Bytes())
	checkGolden(t, "captures.md", md.Bytes())
	checkJUnit(t, junit.Bytes(), junitCounts{tests: 17, failures: 5, skipped: 1, suites: 5})
	xmllint(t, junit.Bytes())

	// Same input, same bytes.
	r2, _ := runCaptures(t, mustParse(t, capturePolicy), captureFiles)
	var junit2, md2 bytes.Buffer
	if err := r2.WriteJUnit(&junit2); err != nil {
		t.Fatal(err)
	}
	if err := r2.WriteMarkdown(&md2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(junit.Bytes(), junit2.Bytes()) || !bytes.Equal(md.Bytes(), md2.Bytes()) {
		t.Errorf("two runs on the same captures differ")
	}
}

// TestCaptureFlags: the quick flags on the captures the README names.
func TestCaptureFlags(t *testing.T) {
	tests := []struct {
		name  string
		flags Flags
		file  string
		want  []string
	}{
		{"TLS 1.0 under --min-version 1.2", Flags{MinVersion: "1.2"}, "tls10-openssl.pcap", []string{
			"rule command-line: 127.0.0.1:48144 → 127.0.0.1:44310 (sni server.test, 2026-11-27T00:26:08.776096Z): version.min: expected TLS 1.2 or later, got TLS 1.0"}},
		{"mutual TLS 1.2", Flags{RequireMTLS: true}, "tls12-mtls-go.pcap", nil},
		{"one-way TLS 1.2", Flags{RequireMTLS: true}, "tls12-ecdhe-go.pcap", []string{
			"rule command-line: 127.0.0.1:34462 → 127.0.0.1:44312 (sni server.test, 2026-11-27T00:26:10.456315Z): client_cert.requested: expected true, got false"}},
		{"TLS 1.3 mutual TLS is unknown", Flags{RequireMTLS: true}, "tls13-mtls-go.pcap", []string{
			"rule command-line: 127.0.0.1:33160 → 127.0.0.1:44320 (sni server.test, 2026-11-27T00:26:16.200191Z): client_cert.requested: expected true, got unknown (TLS 1.3 encrypts the certificate exchange; record sizes suggest true)"}},
		{"refused handshake", Flags{MinVersion: "1.2", RequireEstablished: true, DenySuites: []string{"*_CBC_*"}}, "alert-protocol-version-go.pcap", []string{
			"rule command-line: 127.0.0.1:46126 → 127.0.0.1:44321 (sni server.test, 2026-11-27T00:26:16.859536Z): version.min: expected TLS 1.2 or later, got unknown (no ServerHello: server sent fatal alert protocol_version)",
			"rule command-line: 127.0.0.1:46126 → 127.0.0.1:44321 (sni server.test, 2026-11-27T00:26:16.859536Z): suites.deny: expected none of *_CBC_*, got unknown (no ServerHello: server sent fatal alert protocol_version)",
			"rule command-line: 127.0.0.1:46126 → 127.0.0.1:44321 (sni server.test, 2026-11-27T00:26:16.859536Z): established: expected true, got false (protocol_version)"}},
		{"no SNI, and the finding that says so", Flags{RequireSNI: true, FailOn: []string{"info"}}, "nosni-go.pcap", []string{
			"rule command-line: 127.0.0.1:37072 → 127.0.0.1:44327 (no sni, 2026-11-27T00:26:22.208215Z): sni: expected present, got absent",
			"rule command-line: 127.0.0.1:37072 → 127.0.0.1:44327 (no sni, 2026-11-27T00:26:22.208215Z): deny_findings: expected no finding matching >=info, got no-sni (info): client sent no server_name (SNI)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := FromFlags(tt.flags)
			if err != nil {
				t.Fatal(err)
			}
			_, lines := runCaptures(t, p, []string{tt.file})
			if !slices.Equal(lines, tt.want) {
				t.Errorf("violations:\n%s\nwant:\n%s", join(lines), join(tt.want))
			}
		})
	}
}

func join(lines []string) string {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

type junitCounts struct{ tests, failures, skipped, suites int }

// checkJUnit reads the XML back and checks that the root's counts agree
// with the suites' and with the test cases.
func checkJUnit(t *testing.T, data []byte, want junitCounts) {
	t.Helper()
	var root junitSuites
	if err := xml.Unmarshal(data, &root); err != nil {
		t.Fatalf("JUnit does not parse: %v", err)
	}
	var got junitCounts
	got.suites = len(root.Suites)
	for _, s := range root.Suites {
		var tests, failures, skipped int
		for _, c := range s.Cases {
			tests++
			if c.Failure != nil {
				failures++
			}
			if c.Skipped != nil {
				skipped++
			}
			if c.Name == "" || c.Classname == "" {
				t.Errorf("test case without name or classname in %s", s.Name)
			}
		}
		if s.Tests != tests || s.Failures != failures || s.Skipped != skipped {
			t.Errorf("suite %s: attributes %d/%d/%d, elements %d/%d/%d", s.Name, s.Tests, s.Failures, s.Skipped, tests, failures, skipped)
		}
		got.tests += tests
		got.failures += failures
		got.skipped += skipped
	}
	if root.Name != "tlsinspect" || root.Tests != got.tests || root.Failures != got.failures || root.Skipped != got.skipped {
		t.Errorf("root %q %d/%d/%d, suites add up to %d/%d/%d", root.Name, root.Tests, root.Failures, root.Skipped, got.tests, got.failures, got.skipped)
	}
	if got != want {
		t.Errorf("JUnit counts %+v, want %+v", got, want)
	}
}

// xmllint checks well-formedness with libxml2 when it is installed
// (apt-get install libxml2-utils).
func xmllint(t *testing.T, data []byte) {
	t.Helper()
	path, err := exec.LookPath("xmllint")
	if err != nil {
		t.Log("xmllint not installed: well-formedness checked with encoding/xml only")
		return
	}
	cmd := exec.Command(path, "--noout", "-")
	cmd.Stdin = bytes.NewReader(data)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("xmllint: %v\n%s", err, out)
	}
}
