package rotate

import (
	"bytes"
	"encoding/binary"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clock is a time injected into a File: tests move it, never sleep.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newClock() *clock {
	return &clock{time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
}

// record writes one record as a caller does: rotating first when due.
func record(t *testing.T, f *File, data string) {
	t.Helper()
	if f.Due() {
		if err := f.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
}

// dirFiles maps the base name of each file in dir to its content.
func dirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = string(b)
	}
	return m
}

func bases(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Base(n)
	}
	return out
}

// TestSizeNamesAsTcpdump: -C names FILE, FILE1, FILE2…; with -W the
// numbers are zero-padded to the width of W-1, start at 0 and wrap around.
// A file is replaced once it holds more than MaxBytes, never in the middle
// of a record.
func TestSizeNamesAsTcpdump(t *testing.T) {
	tests := []struct {
		maxFiles int
		want     map[string]string
		kept     []string
	}{
		{0, map[string]string{"out": "aaaabbbb", "out1": "ccccdddd", "out2": "eeeeffff", "out3": "gg"}, []string{"out", "out1", "out2", "out3"}},
		// A ring of 2: out0 is overwritten by the third file, out1 by the fourth.
		{2, map[string]string{"out0": "eeeeffff", "out1": "gg"}, []string{"out0", "out1"}},
		{3, map[string]string{"out0": "gg", "out1": "ccccdddd", "out2": "eeeeffff"}, []string{"out1", "out2", "out0"}},
		{11, map[string]string{"out00": "aaaabbbb", "out01": "ccccdddd", "out02": "eeeeffff", "out03": "gg"}, []string{"out00", "out01", "out02", "out03"}},
		// W=1 has no digits (tcpdump: getWflagChars(1) is 0): one file, rewritten.
		{1, map[string]string{"out": "gg"}, []string{"out"}},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		f, err := Create(Config{Name: filepath.Join(dir, "out"), MaxBytes: 7, MaxFiles: tt.maxFiles})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{"aaaa", "bbbb", "cccc", "dddd", "eeee", "ffff", "gg"} {
			record(t, f, r)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if got := dirFiles(t, dir); !maps.Equal(got, tt.want) {
			t.Errorf("-W %d: files %v, want %v", tt.maxFiles, got, tt.want)
		}
		if got := bases(f.Files()); !slices.Equal(got, tt.kept) {
			t.Errorf("-W %d: Files() %v, want %v", tt.maxFiles, got, tt.kept)
		}
		if f.Begun() != 4 {
			t.Errorf("-W %d: %d files begun, want 4", tt.maxFiles, f.Begun())
		}
	}
}

// TestTimeRotation: with an interval, a new file is begun before the first
// record once the interval has passed, named from the time then; the time
// fields are expanded only with an interval.
func TestTimeRotation(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	f, err := Create(Config{Name: filepath.Join(dir, "hs-%Y%m%d-%H%M%S.pcapng"), Interval: time.Minute, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	record(t, f, "a")
	c.t = c.t.Add(59 * time.Second)
	record(t, f, "b") // same period
	c.t = c.t.Add(time.Second)
	record(t, f, "c") // 60 s: a new file
	c.t = c.t.Add(10 * time.Minute)
	record(t, f, "d") // one new file however long the pause
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"hs-20260304-050607.pcapng": "ab",
		"hs-20260304-050707.pcapng": "c",
		"hs-20260304-051707.pcapng": "d",
	}
	if got := dirFiles(t, dir); !maps.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}

	// Without an interval the name is literal, as with tcpdump -w alone.
	dir = t.TempDir()
	f, err = Create(Config{Name: filepath.Join(dir, "hs-%Y.pcapng"), MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	record(t, f, "x")
	f.Close()
	if got := dirFiles(t, dir); got["hs-%Y.pcapng"] != "x" {
		t.Errorf("files %v", got)
	}
}

// TestTimeAndSize: with both, the size number restarts at each period
// (tcpdump -G -C): FILE(time), FILE(time)1, …, then FILE(new time).
func TestTimeAndSize(t *testing.T) {
	for _, maxFiles := range []int{0, 3} {
		dir := t.TempDir()
		c := newClock()
		f, err := Create(Config{Name: filepath.Join(dir, "x-%H%M"), MaxBytes: 3, Interval: time.Hour, MaxFiles: maxFiles, Now: c.now})
		if err != nil {
			t.Fatal(err)
		}
		record(t, f, "aa")
		record(t, f, "bb") // 4 bytes now
		record(t, f, "cc") // over 3: x-05061
		c.t = c.t.Add(time.Hour)
		record(t, f, "dd") // new period: x-0606
		record(t, f, "ee")
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"x-0506": "aabb", "x-05061": "cc", "x-0606": "ddee"}
		if maxFiles == 3 {
			want = map[string]string{"x-05060": "aabb", "x-05061": "cc", "x-06060": "ddee"}
		}
		if got := dirFiles(t, dir); !maps.Equal(got, want) {
			t.Errorf("-W %d: files %v, want %v", maxFiles, got, want)
		}
	}
}

// TestTimeRing: with an interval and MaxFiles (no size), the oldest file
// is removed when one more is begun: at most MaxFiles files remain.
// (tcpdump -G -W stops capturing at W files instead.)
func TestTimeRing(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	f, err := Create(Config{Name: filepath.Join(dir, "%H%M%S.jsonl"), Interval: 10 * time.Second, MaxFiles: 2, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"1\n", "2\n", "3\n", "4\n"} {
		record(t, f, r)
		c.t = c.t.Add(10 * time.Second)
	}
	f.Close()
	want := map[string]string{"050627.jsonl": "3\n", "050637.jsonl": "4\n"}
	if got := dirFiles(t, dir); !maps.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	if got := bases(f.Files()); !slices.Equal(got, []string{"050627.jsonl", "050637.jsonl"}) {
		t.Errorf("Files() %v", got)
	}
}

// TestEmptyFileNotKept: when the interval passes with nothing written,
// the empty file is replaced, not left behind; the last one is kept.
func TestEmptyFileNotKept(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	f, err := Create(Config{Name: filepath.Join(dir, "%H%M"), Interval: time.Minute, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(5 * time.Minute)
	record(t, f, "late")
	c.t = c.t.Add(5 * time.Minute)
	if !f.Due() {
		t.Fatal("not due after the interval")
	}
	if err := f.Rotate(); err != nil { // and nothing written after it
		t.Fatal(err)
	}
	f.Close()
	want := map[string]string{"0511": "late", "0516": ""}
	if got := dirFiles(t, dir); !maps.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
}

func TestStrftime(t *testing.T) {
	tm := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for pat, want := range map[string]string{
		"cap.pcapng":               "cap.pcapng",
		"%Y-%m-%d_%H:%M:%S":        "2026-01-02_03:04:05",
		"%y%j.%s":                  "26002.1767323045",
		"%F %T 100%%":              "2026-01-02 03:04:05 100%",
		"/var/log/tls/%Y/%m/h.log": "/var/log/tls/2026/01/h.log",
	} {
		got, err := Strftime(pat, tm)
		if err != nil || got != want {
			t.Errorf("Strftime(%q) = %q, %v; want %q", pat, got, err, want)
		}
	}
	for _, bad := range []string{"%Q.pcap", "end%"} {
		if _, err := Strftime(bad, tm); err == nil {
			t.Errorf("Strftime(%q): no error", bad)
		}
	}
	if _, err := Create(Config{Name: filepath.Join(t.TempDir(), "%b"), Interval: time.Second}); err == nil || !strings.Contains(err.Error(), "%b") {
		t.Errorf("Create with an unsupported field: %v", err)
	}
}

func TestGranularity(t *testing.T) {
	for pat, want := range map[string]time.Duration{
		"x":            0,
		"%Y%m%d":       24 * time.Hour,
		"%Y%m%d-%H":    time.Hour,
		"%F_%H%M":      time.Minute,
		"%s":           time.Second,
		"100%%-%H.log": time.Hour,
	} {
		if got := Granularity(pat); got != want {
			t.Errorf("Granularity(%q) = %v, want %v", pat, got, want)
		}
	}
}

// TestSameFilesAsTcpdump writes a pcap through File exactly as tcpdump -C
// does (the file header at the start of each file, then whole records)
// and checks that tcpdump -r … -w … -C 1 [-W N] makes the same files,
// byte for byte.
func TestSameFilesAsTcpdump(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (tcpdump -Z root)")
	}
	src, err := os.ReadFile("../../testdata/pcaps/longchain-go.pcap")
	if err != nil {
		t.Fatal(err)
	}
	// A pcap of about 2.5 MB: the records of the capture, repeated.
	hdr, recs := src[:24], splitPcap(t, src[24:])
	var records [][]byte
	for len(records) < 60*len(recs) {
		records = append(records, recs...)
	}
	in := filepath.Join(t.TempDir(), "in.pcap")
	all := bytes.Clone(hdr)
	for _, r := range records {
		all = append(all, r...)
	}
	if err := os.WriteFile(in, all, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{0, 2, 11} {
		tdDir, ourDir := t.TempDir(), t.TempDir()
		args := []string{"-Z", "root", "-r", in, "-w", filepath.Join(tdDir, "out"), "-C", "1"}
		if w > 0 {
			args = append(args, "-W", strconv.Itoa(w))
		}
		if out, err := exec.Command(tcpdump, args...).CombinedOutput(); err != nil {
			t.Fatalf("tcpdump %v: %v: %s", args, err, out)
		}
		f, err := Create(Config{Name: filepath.Join(ourDir, "out"), MaxBytes: 1_000_000, MaxFiles: w})
		if err != nil {
			t.Fatal(err)
		}
		f.Write(hdr)
		for _, r := range records {
			if f.Due() {
				if err := f.Rotate(); err != nil {
					t.Fatal(err)
				}
				f.Write(hdr)
			}
			f.Write(r)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		td, ours := dirFiles(t, tdDir), dirFiles(t, ourDir)
		if len(td) < 2 || !maps.Equal(td, ours) {
			t.Errorf("-W %d: tcpdump made %v, we made %v", w, sizes(td), sizes(ours))
		}
	}
}

func sizes(m map[string]string) map[string]int {
	s := map[string]int{}
	for k, v := range m {
		s[k] = len(v)
	}
	return s
}

// splitPcap cuts the records of a little-endian pcap body.
func splitPcap(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var recs [][]byte
	for len(b) > 0 {
		if len(b) < 16 {
			t.Fatal("truncated pcap record")
		}
		n := 16 + int(binary.LittleEndian.Uint32(b[8:12]))
		recs = append(recs, b[:n])
		b = b[n:]
	}
	return recs
}

// TestErrorsStick: once a new file cannot be begun (its directory is
// gone), Rotate, Write, Flush and Close all report that first error, and
// nothing more is written; after Close, Write fails.
func TestErrorsStick(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := Create(Config{Name: filepath.Join(dir, "x"), MaxBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	record(t, f, "ab")
	if !f.Due() {
		t.Fatal("not due past MaxBytes")
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	first := f.Rotate()
	if first == nil {
		t.Fatal("Rotate into a removed directory: no error")
	}
	if _, err := f.Write([]byte("c")); err != first {
		t.Errorf("Write after the failure: %v, want %v", err, first)
	}
	if err := f.Flush(); err != first {
		t.Errorf("Flush after the failure: %v, want %v", err, first)
	}
	if err := f.Close(); err != first {
		t.Errorf("Close after the failure: %v, want %v", err, first)
	}

	f, err = Create(Config{Name: filepath.Join(t.TempDir(), "y")})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("late")); err == nil {
		t.Error("Write after Close: no error")
	}
}
