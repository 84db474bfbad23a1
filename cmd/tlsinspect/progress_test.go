package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestFormatProgress(t *testing.T) {
	st := progressState{read: 12_345_678, total: 448_000_000, elapsed: 2 * time.Second, conns: 1204, handshakes: 1310}
	same := st
	same.handshakes = same.conns
	tests := []struct {
		st    progressState
		width int
		want  string
	}{
		{st, 200, "tlsinspect: 12.3/448.0 MB (2%), 6.2 MB/s, 1m11s left, 1204 TLS connections, 1310 handshakes"},
		// What does not fit is left out, the least useful first.
		{st, 0, "tlsinspect: 12.3/448.0 MB (2%), 6.2 MB/s, 1204 TLS connections, 1310 handshakes"},
		{same, 80, "tlsinspect: 12.3/448.0 MB (2%), 6.2 MB/s, 1m11s left, 1204 TLS connections"},
		{st, 64, "tlsinspect: 12.3/448.0 MB (2%), 6.2 MB/s, 1204 TLS connections"},
		{st, 60, "tlsinspect: 12.3/448.0 MB (2%), 1204 TLS connections"},
		{st, 40, "tlsinspect: 12.3/448.0 MB (2%)"},
		{st, 20, "tlsinspect: 12.3/44"},
		// Standard input: the total is unknown.
		{progressState{read: 999, total: -1, elapsed: time.Second, conns: 1, handshakes: 2}, 120,
			"tlsinspect: 999 B read, 999 B/s, 1 TLS connection, 2 handshakes"},
		// Before the first second: no estimate of the time left yet.
		{progressState{read: 1_500_000, total: 3_000_000, elapsed: 500 * time.Millisecond}, 120,
			"tlsinspect: 1.5/3.0 MB (50%), 3.0 MB/s, 0 TLS connections, 0 handshakes"},
		{progressState{read: 999_000, total: 3_000_000_000, elapsed: 10 * time.Second, conns: 1, handshakes: 1}, 120,
			"tlsinspect: 999.0 kB/3.0 GB (0%), 99.9 kB/s, 8h20m left, 1 TLS connection, 1 handshake"},
		// A file that grew while read: never more than 100%.
		{progressState{read: 2000, total: 1000, elapsed: 0}, 120,
			"tlsinspect: 2.0/1.0 kB (100%), 0 TLS connections, 0 handshakes"},
	}
	for _, tt := range tests {
		if got := formatProgress(tt.st, tt.width); got != tt.want {
			t.Errorf("formatProgress(%+v, %d) =\n%q, want\n%q", tt.st, tt.width, got, tt.want)
		}
	}
	for d, want := range map[time.Duration]string{
		9 * time.Second: "9s", 245 * time.Second: "4m05s", 2*time.Hour + 7*time.Minute + 3*time.Second: "2h07m",
	} {
		if got := formatETA(d); got != want {
			t.Errorf("formatETA(%v) = %q, want %q", d, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 999_949: "999.9 kB", 999_950: "1.0 MB", 5e12: "5.0 TB", 5e15: "5000.0 TB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestProgressWanted: progress only on a terminal, never in CI or pipes,
// and not with --no-progress, -q or live capture.
func TestProgressWanted(t *testing.T) {
	files := options{read: []string{"a.pcap"}}
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	with := func(f func(*options)) options { o := files; f(&o); return o }
	tests := []struct {
		name     string
		o        options
		terminal bool
		getenv   func(string) string
		want     bool
	}{
		{"terminal", files, true, env("TERM", "xterm-256color"), true},
		{"pipe or file", files, false, env(), false},
		{"--no-progress", with(func(o *options) { o.noProgress = true }), true, env(), false},
		{"-q", with(func(o *options) { o.quiet = true }), true, env(), false},
		{"live capture", options{iface: "eth0"}, true, env(), false},
		{"CI=true", files, true, env("CI", "true"), false},
		{"CI=1", files, true, env("CI", "1"), false},
		{"CI=false", files, true, env("CI", "false"), true},
		{"dumb terminal", files, true, env("TERM", "dumb"), false},
	}
	for _, tt := range tests {
		if got := progressWanted(tt.o, tt.terminal, tt.getenv); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// gatedReader gives the first half of data, then waits until ready says
// so before giving the rest: the progress line is drawn in between.
type gatedReader struct {
	data  []byte
	half  int
	ready func() bool
	pos   int
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.pos == g.half {
		deadline := time.Now().Add(20 * time.Second)
		for !g.ready() && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	if g.pos >= len(g.data) {
		return 0, io.EOF
	}
	end := len(g.data)
	if g.pos < g.half {
		end = g.half
	}
	n := copy(p, g.data[g.pos:end])
	g.pos += n
	return n, nil
}

var progressSeq = regexp.MustCompile(`\r[^\r\n\x1b]*\x1b\[K`)

// TestProgressSharesTheTerminal: with output and messages on the same
// terminal as the progress line, the line is drawn only at the start of a
// line, taken away before anything else is written, and cleared at the
// end; without it the text is exactly that of a run without progress.
func TestProgressSharesTheTerminal(t *testing.T) {
	first := filepath.Join(pcapDir, "tls12-mtls-go.pcap")
	data, err := os.ReadFile(filepath.Join(pcapDir, "tls13-hrr-go.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	env := defaultEnvironment
	env.isTerminal = func(io.Writer) bool { return true }
	env.termWidth = func(io.Writer) int { return 100 }
	env.getenv = func(string) string { return "" }
	env.progressDelay, env.progressInterval = 0, time.Millisecond
	args := []string{"-r", first, "-r", "-", "-v", "--require-mtls"} // rows, messages and violations
	term := &lockedBuffer{}
	stdin := &gatedReader{data: data, half: len(data) / 2, ready: func() bool {
		return strings.Contains(term.String(), "\rtlsinspect: ")
	}}
	code := runEnv(env, args, stdin, term, term)
	withProgress := term.String()

	plain := &lockedBuffer{}
	code2 := runEnv(env, append(args, "--no-progress"), bytes.NewReader(data), plain, plain)
	if code != code2 || code != 1 {
		t.Fatalf("exit %d and %d, want 1 (a violation)", code, code2)
	}
	if strings.Contains(plain.String(), "\x1b[K") {
		t.Errorf("--no-progress: progress written:\n%q", plain.String())
	}
	draws := 0
	var clean strings.Builder
	last := 0
	for _, m := range progressSeq.FindAllStringIndex(withProgress, -1) {
		clean.WriteString(withProgress[last:m[0]])
		last = m[1]
		seq := withProgress[m[0]:m[1]]
		if seq == "\r\x1b[K" {
			continue
		}
		draws++
		if !strings.Contains(seq, " read, ") || !strings.Contains(seq, "TLS connection") || len(seq) > 1+99+3 {
			t.Errorf("progress line %q", seq)
		}
		if c := clean.String(); c != "" && !strings.HasSuffix(c, "\n") {
			t.Errorf("progress drawn in the middle of a line, after %q", c[max(0, len(c)-40):])
		}
	}
	clean.WriteString(withProgress[last:])
	if draws == 0 {
		t.Fatalf("no progress line drawn:\n%q", withProgress)
	}
	if clean.String() != plain.String() {
		t.Errorf("without the progress line the terminal shows\n%s\nwant\n%s", clean.String(), plain.String())
	}
	// Cleared at the end, before the statistics line.
	all := progressSeq.FindAllStringIndex(withProgress, -1)
	end := all[len(all)-1]
	if withProgress[end[0]:end[1]] != "\r\x1b[K" || end[0] > strings.Index(withProgress, "tlsinspect: 47 packets") {
		t.Errorf("the progress line is not cleared before the statistics line:\n%q", withProgress[end[0]:])
	}
}

// TestNoProgressInPipes: the command's standard error is not a terminal
// (a buffer, as a pipe or a CI log): no progress, nothing but lines.
func TestNoProgressInPipes(t *testing.T) {
	_, stderr, code := runCmd("-r", filepath.Join(pcapDir, "tls12-mtls-go.pcap"), "-r", filepath.Join(pcapDir, "tls13-go.pcapng"))
	if code != 0 || strings.ContainsAny(stderr, "\r\x1b") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
