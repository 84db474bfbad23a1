package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestClearErrors: every way a user can get the input wrong gives one line
// on standard error that says what happened and what to do, and exit
// status 3. (Live capture without privilege: TestLiveNeedsPrivilege; an
// unsupported link type: TestHostileCaptures.)
func TestClearErrors(t *testing.T) {
	dir := t.TempDir()
	gzipped := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	files := map[string][]byte{
		"notes.txt":    []byte("Capture of the outage, see the ticket.\nTaken on the load balancer.\n"),
		"notes.txt.gz": gzipped([]byte("Capture of the outage, see the ticket.\n")),
		"page.pcap":    []byte("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n"),
		"out.pcap":     []byte(`{"ts":"2026-11-27T00:26:14.85796Z","client":"127.0.0.1:35522","server":"127.0.0.1:44318"}` + "\n"),
		"empty.pcap":   nil,
		"tcpdump.txt":  []byte("reading from file x.pcap, link-type EN10MB (Ethernet), snapshot length 262144\n00:26:10.456077 IP 127.0.0.1.34462 > 127.0.0.1.44312: Flags [S]\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const give = "give a pcap or pcapng file, as written by tcpdump -w, dumpcap or Wireshark"
	tests := []struct {
		name string
		args []string
		line string // the first line of standard error; DIR is the test's directory
	}{
		{"file not found", []string{"-r", "DIR/nope.pcap"}, "DIR/nope.pcap: no such file; check the name (-r - reads standard input)"},
		{"a directory", []string{"-r", "DIR"}, "DIR: is a directory, not a capture file; give a file in it"},
		{"text", []string{"-r", "DIR/notes.txt"}, "DIR/notes.txt: not a pcap or pcapng file: this is a text file; " + give},
		{"gzip'd text", []string{"-r", "DIR/notes.txt.gz"}, "DIR/notes.txt.gz: not a pcap or pcapng file: this is a gzip'd text file; " + give},
		{"HTML", []string{"-r", "DIR/page.pcap"}, "DIR/page.pcap: not a pcap or pcapng file: this is HTML; a web page (an error page saved instead of the capture?); " + give},
		{"JSON", []string{"-r", "DIR/out.pcap"}, "DIR/out.pcap: not a pcap or pcapng file: this is a JSON file; " + give},
		{"empty", []string{"-r", "DIR/empty.pcap"}, "DIR/empty.pcap: not a pcap or pcapng file: this is an empty file; was the capture stopped before it wrote anything? " + give},
		{"empty standard input", []string{"-r", "-"}, "(standard input): not a pcap or pcapng file: this is an empty file; was the capture stopped before it wrote anything? " + give},
		{"tcpdump's text output", []string{"-r", "DIR/tcpdump.txt"}, "DIR/tcpdump.txt: not a pcap or pcapng file: this is tcpdump's text output; record a capture file with tcpdump -w FILE"},
		{"no such interface", []string{"-i", "nosuch0"}, `no such interface "nosuch0"; available interfaces: any, `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "DIR", dir)
			}
			out, stderr, code := runCmd(args...)
			if code != exitInput || out != "" {
				t.Errorf("exit %d, stdout %q; want %d and nothing", code, out, exitInput)
			}
			first, _, _ := strings.Cut(stderr, "\n")
			want := "tlsinspect: " + strings.ReplaceAll(tt.line, "DIR", dir)
			if !strings.HasPrefix(first, want) {
				t.Errorf("stderr:\n%s\nwant the first line to start with\n%s", stderr, want)
			}
			if tt.name == "no such interface" && (!strings.Contains(first, " lo") || !strings.HasSuffix(first, "(tlsinspect -D lists them with their addresses)")) {
				t.Errorf("the interfaces that exist are not listed: %s", first)
			}
		})
	}
}

// TestUnreadableFile: a capture file this user may not read. As root,
// which may read anything, the command is run as nobody.
func TestUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "secret.pcap")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "tlsinspect: " + f + ": permission denied: this user may not read it; check its permissions, or have a user who may read it for you (sudo cat " + f + " | tlsinspect -r -)\n"
	if os.Geteuid() != 0 {
		os.Chmod(f, 0)
		_, stderr, code := runCmd("-q", "-r", f)
		if code != exitInput || stderr != want {
			t.Errorf("exit %d, stderr %q; want %d, %q", code, stderr, exitInput, want)
		}
		return
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv not installed")
	}
	bin := binary(t)
	reachable(dir) // nobody may reach the file, not read it
	os.Chmod(filepath.Dir(bin), 0o755)
	var stderr bytes.Buffer
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "-q", "-r", f)
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInput || stderr.String() != want {
		t.Errorf("exit %v, stderr %q; want %d, %q", err, stderr.String(), exitInput, want)
	}
}

// reachable lets every user reach dir: it and its parents under the
// temporary directory get search (x) permission.
func reachable(dir string) {
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			os.Chmod(d, fi.Mode().Perm()|0o011)
		}
	}
}

// TestLimitFlagsMustBePositive: a limit of zero or less is a usage error.
func TestLimitFlagsMustBePositive(t *testing.T) {
	for _, flag := range []string{"--max-flows", "--max-message", "--max-buffer", "--scan-limit"} {
		_, stderr, code := runCmd("-r", "x.pcap", flag, "0")
		if code != exitUsage || !strings.Contains(stderr, "--max-message, --scan-limit, --max-buffer, --max-flows, --idle-timeout and --snaplen must be positive") {
			t.Errorf("%s 0: exit %d, %q", flag, code, stderr)
		}
	}
}
