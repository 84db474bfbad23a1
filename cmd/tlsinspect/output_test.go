package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/internal/testcap"
)

// tickingClock is the clock of file rotation in tests: each reading is a
// second after the one before, so that time rotation happens at the same
// packets on every run, without sleeping.
type tickingClock struct{ t time.Time }

func (c *tickingClock) now() time.Time {
	c.t = c.t.Add(time.Second)
	return c.t
}

func clockEnv() environment {
	env := defaultEnvironment
	env.now = (&tickingClock{time.Date(2026, 5, 6, 7, 0, 0, 0, time.UTC)}).now
	return env
}

func runWithEnv(env environment, stdin io.Reader, args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := runEnv(env, args, stdin, &out, &errb)
	return out.String(), errb.String(), code
}

// readAll reads a capture with the project's reader and returns its
// packet count; the file must be complete.
func readAll(t *testing.T, name string) int {
	t.Helper()
	n := 0
	testcap.Each(t, name, func(*testcap.Packet) { n++ })
	return n
}

// concat returns the contents of files one after the other.
func concat(t *testing.T, files []string) []byte {
	t.Helper()
	var b []byte
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, d...)
	}
	return b
}

// numbered lists base, base1, base2, … as far as they exist.
func numbered(base string) []string {
	files := []string{base}
	for i := 1; ; i++ {
		n := base + strconv.Itoa(i)
		if _, err := os.Stat(n); err != nil {
			return files
		}
		files = append(files, n)
	}
}

// readArgs reads every capture of the project: -r FILE for each.
func readArgs(t *testing.T) []string {
	var args []string
	for _, f := range captures(t) {
		args = append(args, "-r", f)
	}
	return args
}

// TestWriteRotation: -w split by -C (size), -C -W (a ring) and -G (time,
// with an injected clock): every file is a complete pcapng file that the
// project's reader reads to its end, the files are named as tcpdump names
// them, each but the last exceeds the size, and no handshake is lost:
// the files, read one after the other as one capture (pcapng sections),
// give the same report as the single -w file of a run without rotation.
func TestWriteRotation(t *testing.T) {
	args := readArgs(t)
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.pcapng")
	out0, stderr, code := runCmd(append(args, "-T", "json", "-w", ref)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	refPackets := readAll(t, ref)
	refReport, stderr, code := runCmd("-q", "-T", "json", "-r", ref)
	if code != 0 || refReport == "" {
		t.Fatalf("reading the -w file: exit %d: %s", code, stderr)
	}
	// checkFiles reads each file, and all of them as one capture.
	checkFiles := func(what string, files []string, maxSize int64) {
		t.Helper()
		packets := 0
		for i, f := range files {
			n := readAll(t, f)
			if n == 0 {
				t.Errorf("%s: %s holds no packet", what, filepath.Base(f))
			}
			packets += n
			if fi, _ := os.Stat(f); maxSize > 0 && i < len(files)-1 && fi.Size() <= maxSize {
				t.Errorf("%s: %s is %d bytes: a new file was begun before it exceeded %d", what, filepath.Base(f), fi.Size(), maxSize)
			}
		}
		if packets != refPackets {
			t.Errorf("%s: %d packets in %d files, %d in the single file", what, packets, len(files), refPackets)
		}
		out, errs, code := runWithEnv(defaultEnvironment, bytes.NewReader(concat(t, files)), "-q", "-T", "json", "-r", "-")
		if code != 0 || out != refReport {
			t.Errorf("%s: the files read as one capture report differently from the single file (exit %d: %s)", what, code, errs)
		}
	}

	// -C: hs.pcapng, hs.pcapng1, hs.pcapng2, …
	sizeDir := t.TempDir()
	out, stderr, code := runCmd(append(args, "-T", "json", "-w", filepath.Join(sizeDir, "hs.pcapng"), "-C", "8k")...)
	if code != 0 || out != out0 {
		t.Fatalf("-C: exit %d, same report: %v: %s", code, out == out0, stderr)
	}
	files := numbered(filepath.Join(sizeDir, "hs.pcapng"))
	if ents, _ := os.ReadDir(sizeDir); len(files) < 3 || len(ents) != len(files) {
		t.Fatalf("-C 8k: files %v, directory holds %d", files, len(ents))
	}
	checkFiles("-C 8k", files, 8<<10)
	if want := "written to " + strconv.Itoa(len(files)) + " files ("; !strings.Contains(stderr, want) {
		t.Errorf("-C: statistics line does not say %q: %s", want, stderr)
	}

	// -C -W 3: a ring of hs.pcapng0, hs.pcapng1, hs.pcapng2.
	ringDir := t.TempDir()
	_, stderr, code = runCmd(append(args, "-q", "-T", "json", "-w", filepath.Join(ringDir, "hs.pcapng"), "-C", "8k", "-W", "3")...)
	if code != 0 {
		t.Fatalf("-W: exit %d: %s", code, stderr)
	}
	var names []string
	ents, _ := os.ReadDir(ringDir)
	for _, e := range ents {
		names = append(names, e.Name())
		readAll(t, filepath.Join(ringDir, e.Name()))
	}
	if !slices.Equal(names, []string{"hs.pcapng0", "hs.pcapng1", "hs.pcapng2"}) {
		t.Errorf("-C -W 3: files %v", names)
	}
	_, stderr, _ = runCmd(append(args, "-T", "json", "-w", filepath.Join(t.TempDir(), "hs.pcapng"), "-C", "8k", "-W", "3")...)
	if !regexp.MustCompile(`written to \d+ files, the last 3 kept \(`).MatchString(stderr) {
		t.Errorf("-W: statistics line %q", stderr)
	}

	// -G with the time in the name, the clock a second further at each
	// reading (one per packet written).
	timeDir := t.TempDir()
	_, stderr, code = runWithEnv(clockEnv(), nil, append(args, "-T", "json", "-w", filepath.Join(timeDir, "hs-%Y%m%d-%H%M%S.pcapng"), "-G", "60")...)
	if code != 0 || strings.Contains(stderr, "tlsinspect: warning") {
		t.Fatalf("-G: exit %d: %s", code, stderr)
	}
	ents, _ = os.ReadDir(timeDir)
	files = nil
	for _, e := range ents { // named by time: sorted by name is in order
		if !regexp.MustCompile(`^hs-20260506-07\d{4}\.pcapng$`).MatchString(e.Name()) {
			t.Errorf("-G: file %s", e.Name())
		}
		files = append(files, filepath.Join(timeDir, e.Name()))
	}
	if len(files) < 3 || files[0] != filepath.Join(timeDir, "hs-20260506-070001.pcapng") {
		t.Fatalf("-G: files %v", files)
	}
	checkFiles("-G 60", files, 0)

	// A name without time fields with -G: said to overwrite.
	_, stderr, _ = runWithEnv(clockEnv(), nil, append(args, "-w", filepath.Join(t.TempDir(), "hs.pcapng"), "-G", "60")...)
	if !strings.Contains(stderr, "warning: -w ") || !strings.Contains(stderr, "overwrites the previous one") {
		t.Errorf("-G without time fields: %s", stderr)
	}
}

// TestOutputRotation: -o with --output-rotate-size and -time: every file
// holds whole lines, each file of a format with a header (CSV) begins with
// it, and the files one after the other hold the report written to
// standard output without -o; --output-rotate-count keeps the last files.
func TestOutputRotation(t *testing.T) {
	args := readArgs(t)
	want, _, code := runCmd(append(args, "-q", "-T", "json")...)
	if code != 0 {
		t.Fatal(code)
	}
	dir := t.TempDir()
	out, stderr, code := runCmd(append(args, "-T", "json", "-o", filepath.Join(dir, "tls.jsonl"), "--output-rotate-size", "20k")...)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, out, stderr)
	}
	files := numbered(filepath.Join(dir, "tls.jsonl"))
	if len(files) < 3 {
		t.Fatalf("files %v", files)
	}
	for i, f := range files {
		b, _ := os.ReadFile(f)
		if len(b) == 0 || b[len(b)-1] != '\n' {
			t.Errorf("%s does not end with a whole line", filepath.Base(f))
		}
		for _, line := range strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n") {
			if !json.Valid([]byte(line)) {
				t.Errorf("%s: not a JSON line: %.60q", filepath.Base(f), line)
			}
		}
		if i < len(files)-1 && len(b) <= 20<<10 {
			t.Errorf("%s: %d bytes, not above the size", filepath.Base(f), len(b))
		}
	}
	if got := string(concat(t, files)); got != want {
		t.Errorf("the files together differ from the report on standard output")
	}
	if !regexp.MustCompile(`; report written to \d+ files \(`).MatchString(stderr) {
		t.Errorf("statistics line: %s", stderr)
	}

	// CSV by time: the header in every file.
	wantCSV, _, _ := runCmd(append(args, "-q", "-T", "csv")...)
	header := wantCSV[:strings.Index(wantCSV, "\n")+1]
	dir = t.TempDir()
	_, stderr, code = runWithEnv(clockEnv(), nil, append(args, "-q", "-T", "csv", "-o", filepath.Join(dir, "tls-%H%M%S.csv"), "--output-rotate-time", "10s")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ents, _ := os.ReadDir(dir)
	var together strings.Builder
	for i, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if !strings.HasPrefix(string(b), header) || !strings.HasSuffix(string(b), "\n") || len(b) == len(header) {
			t.Errorf("%s: not a complete CSV file with rows:\n%s", e.Name(), b)
		}
		if i > 0 {
			b = b[len(header):]
		}
		together.Write(b)
	}
	if len(ents) < 3 || together.String() != wantCSV {
		t.Errorf("%d CSV files; together the same as standard output: %v", len(ents), together.String() == wantCSV)
	}

	// A ring of 2 by time: the last two files remain, the end of the report.
	dir = t.TempDir()
	_, stderr, code = runWithEnv(clockEnv(), nil, append(args, "-q", "-T", "json", "-o", filepath.Join(dir, "%H%M%S.jsonl"), "--output-rotate-time", "5", "--output-rotate-count", "2")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ents, _ = os.ReadDir(dir)
	var kept []string
	for _, e := range ents {
		kept = append(kept, filepath.Join(dir, e.Name()))
	}
	if len(kept) != 2 || !strings.HasSuffix(want, string(concat(t, kept))) {
		t.Errorf("--output-rotate-count 2: %d files, the end of the report: %v", len(kept), len(kept) == 2 && strings.HasSuffix(want, string(concat(t, kept))))
	}
}

// TestRotationFlags: the rotation flags' values and combinations.
func TestRotationFlags(t *testing.T) {
	src := filepath.Join(pcapDir, "tls13-go.pcapng")
	w := filepath.Join(t.TempDir(), "hs.pcapng")
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"-C", "10"}, `-C, -G and -W go with -w FILE`},
		{[]string{"-w", w, "-W", "3"}, `-W \(the number of files kept\) goes with -C or -G`},
		{[]string{"-w", w, "-C", "0"}, `invalid argument "0" for "-C, --write-rotate-size"`},
		{[]string{"-w", w, "-C", "1x"}, `want a positive number of millions of bytes`},
		{[]string{"-w", w, "-G", "0"}, `want a positive number of seconds`},
		{[]string{"-w", w, "-G", "5ms"}, `duration of at least 1s`},
		{[]string{"-w", w + "-%Q", "-G", "60"}, `time field %Q is not supported`},
		{[]string{"-w", w, "-C", "1", "-W", "-1"}, `-W must be positive`},
		{[]string{"--output-rotate-size", "1"}, `go with --output FILE`},
		{[]string{"-o", w, "--output-rotate-count", "2"}, `goes with --output-rotate-size or --output-rotate-time`},
		{[]string{"-o", w, "--summary", "--output-rotate-time", "1h"}, `--summary writes its counts once`},
		{[]string{"-o", w, "-T", "markdown", "--output-rotate-size", "1"}, `--format markdown writes its table once`},
		{[]string{"--jobs", "-1"}, `--jobs must not be negative`},
	}
	for _, tt := range tests {
		_, stderr, code := runCmd(append([]string{"-r", src}, tt.args...)...)
		if code != 2 || !regexp.MustCompile(tt.stderr).MatchString(stderr) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.stderr)
		}
	}
	if _, stderr, code := runCmd("-i", "lo", "--jobs", "2"); code != 2 || !strings.Contains(stderr, "--jobs is for -r files") {
		t.Errorf("--jobs with -i: exit %d: %s", code, stderr)
	}

	var s sizeFlag
	for v, want := range map[string]sizeFlag{"1": 1_000_000, "250": 250_000_000, "4k": 4096, "10M": 10 << 20, "2g": 2 << 30} {
		if err := s.Set(v); err != nil || s != want {
			t.Errorf("-C %s: %d, %v; want %d", v, s, err, want)
		}
	}
	var d secondsFlag
	for v, want := range map[string]time.Duration{"3600": time.Hour, "90s": 90 * time.Second, "15m": 15 * time.Minute} {
		if err := d.Set(v); err != nil || time.Duration(d) != want {
			t.Errorf("-G %s: %v, %v; want %v", v, time.Duration(d), err, want)
		}
	}
}

// TestOutputsCreatedTogether: when the -w file cannot be created, the -o
// file already created is removed: a run that cannot start writes nothing.
func TestOutputsCreatedTogether(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report.csv")
	_, stderr, code := runCmd("-T", "csv", "-o", report, "-w", filepath.Join(dir, "missing", "hs.pcapng"), "-r", captures(t)[0])
	if code != exitInput || !strings.Contains(stderr, "-w") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(report); !os.IsNotExist(err) {
		t.Errorf("the -o file is left behind: %v", err)
	}
}
