package main

import (
	"crypto/tls"
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/internal/testpki"
)

// TestCIGate does what README "Use in CI" shows, locally: two real TLS
// services on loopback (one with mutual TLS, one without), tcpdump
// recording while a client talks to them, then the policy gate on the
// recording: exit status and JUnit report, for a passing and a violating
// service.
func TestCIGate(t *testing.T) {
	needRoot(t)
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump not installed")
	}
	dir := t.TempDir()
	pki, err := testpki.New(dir, net.ParseIP("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	good, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	bad, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	_, goodPort, _ := net.SplitHostPort(good.Addr().String())
	_, badPort, _ := net.SplitHostPort(bad.Addr().String())

	// Record, as a CI job would, with tcpdump. Another package's tests may
	// flood the loopback interface at the same time and make the kernel
	// drop packets of the recording: a recording that lacks a handshake is
	// made again, as testdata/pcaps/generate.sh does.
	pcap := filepath.Join(dir, "tls.pcap")
	sGood, cGood := pki.ServerConfig(true), pki.ClientConfig(true)
	sGood.MaxVersion = tls.VersionTLS12
	sBad, cBad := pki.ServerConfig(false), pki.ClientConfig(true)
	sBad.MaxVersion = tls.VersionTLS12
	record := func() bool {
		rec := exec.Command(tcpdump, "-i", "lo", "-U", "--immediate-mode", "-B", "8192", "-Z", "root", "-w", pcap, fmt.Sprintf("tcp port %s or tcp port %s", goodPort, badPort))
		recErr := &lockedBuffer{}
		rec.Stderr = recErr
		if err := rec.Start(); err != nil {
			t.Fatal(err)
		}
		defer rec.Wait()
		defer rec.Process.Signal(os.Interrupt)
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(recErr.String(), "listening on"); {
			if time.Now().After(deadline) {
				t.Fatalf("tcpdump did not start:\n%s", recErr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		// The "integration tests": TLS 1.2 to both services; only the
		// good one asks for a client certificate.
		for range 2 {
			handshake(t, good, sGood, cGood, false)
			handshake(t, bad, sBad, cBad, false)
		}
		// tcpdump writes as it goes (-U): wait until the recording holds
		// the four complete handshakes.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			out, _, _ := runCmd("-q", "-T", "json", "-r", pcap)
			if strings.Count(out, `"established":true`) >= 4 {
				return true
			}
		}
		return false
	}
	for try := 1; !record(); try++ {
		if try == 3 {
			t.Fatal("three recordings lacked a handshake (packets dropped on a busy loopback?)")
		}
		t.Logf("recording %d lacked a handshake; recording again", try)
	}

	policyFile := filepath.Join(dir, "policy.yaml")
	os.WriteFile(policyFile, []byte(fmt.Sprintf(`expect_connections: 4
rules:
  - name: good-service-mtls
    required: true
    match: {server: ":%s"}
    require:
      version: {min: "1.2"}
      client_cert: {requested: true, sent: true}
      established: true
  - name: bad-service-mtls
    match: {server: ":%s"}
    require:
      client_cert: {requested: true, sent: true}
`, goodPort, badPort)), 0o644)

	type testcase struct {
		Name    string `xml:"name,attr"`
		Failure *struct {
			Message string `xml:"message,attr"`
		} `xml:"failure"`
	}
	type junit struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string     `xml:"name,attr"`
			Cases []testcase `xml:"testcase"`
		} `xml:"testsuite"`
	}
	gate := func(args ...string) (int, string, junit) {
		t.Helper()
		report := filepath.Join(dir, "junit.xml")
		os.Remove(report)
		_, stderr, code := runCmd(append([]string{"-q", "-T", "json", "-r", pcap, "--junit", report}, args...)...)
		var j junit
		b, err := os.ReadFile(report)
		if err != nil {
			t.Fatalf("no JUnit report: %v\n%s", err, stderr)
		}
		if err := xml.Unmarshal(b, &j); err != nil {
			t.Fatalf("JUnit report is not XML: %v\n%s", err, b)
		}
		return code, stderr, j
	}

	// The whole policy: the bad service violates it.
	code, stderr, j := gate("--policy", policyFile)
	if code != exitViolation {
		t.Errorf("exit %d, want %d:\n%s", code, exitViolation, stderr)
	}
	// Two cases per service rule, and one for expect_connections.
	if j.Tests != 5 || j.Failures != 2 || len(j.Suites) != 3 {
		t.Errorf("JUnit: %d tests, %d failures, %d suites; want 5, 2, 3", j.Tests, j.Failures, len(j.Suites))
	}
	for _, s := range j.Suites {
		if s.Name == "expect_connections" {
			if len(s.Cases) != 1 || s.Cases[0].Failure != nil {
				t.Errorf("expect_connections suite: %+v", s.Cases)
			}
			continue
		}
		for _, c := range s.Cases {
			wantFail := s.Name == "bad-service-mtls"
			if (c.Failure != nil) != wantFail || !strings.Contains(c.Name, "127.0.0.1") {
				t.Errorf("suite %s case %q: failure %v", s.Name, c.Name, c.Failure)
			}
			if c.Failure != nil && !strings.Contains(c.Failure.Message, "client_cert.requested: expected true, got false") {
				t.Errorf("failure message %q", c.Failure.Message)
			}
		}
	}
	if !strings.Contains(stderr, "violation: rule bad-service-mtls: 127.0.0.1:") {
		t.Errorf("violations not on stderr:\n%s", stderr)
	}

	// A passing gate: the good service alone, checked with quick flags.
	code, stderr, j = gate("--require-mtls", "--min-version", "1.2", "--expect-connections", "2", "port", goodPort)
	if code != exitOK || j.Failures != 0 || j.Tests != 3 {
		t.Errorf("passing gate: exit %d, %d tests, %d failures:\n%s", code, j.Tests, j.Failures, stderr)
	}
	// A capture that recorded nothing relevant fails on expect-connections.
	code, _, j = gate("--expect-connections", "1", "port", "1")
	if code != exitViolation || j.Failures != 1 {
		t.Errorf("empty capture: exit %d, %d failures; want 1 and 1", code, j.Failures)
	}
}
