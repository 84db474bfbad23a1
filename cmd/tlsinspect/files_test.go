package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// withJobs returns args for reading files with --jobs n.
func withJobs(n string, args []string) []string {
	return append([]string{"--jobs", n}, args...)
}

// TestJobsSameAsOneByOne reads all of testdata/pcaps in one run, plus a
// missing file, a file that is not a capture and one cut short among them:
// with several files read at once (--jobs 4, and as many as CPUs) the
// output, standard error and exit status are exactly those of reading the
// files one by one (--jobs 1), in every format and with the options that
// change what is reported. The JSON output is also the concatenation of
// the outputs of one run per file.
func TestJobsSameAsOneByOne(t *testing.T) {
	dir := t.TempDir()
	files := captures(t)
	full, err := os.ReadFile(filepath.Join(pcapDir, "tls13-go.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcapng")
	garbage := filepath.Join(dir, "notes.txt")
	os.WriteFile(cut, full[:len(full)-50], 0o644)
	os.WriteFile(garbage, []byte("not a capture\n"), 0o644)
	inputs := append([]string{}, files[:3]...)
	inputs = append(inputs, cut, filepath.Join(dir, "missing.pcap"), garbage)
	inputs = append(inputs, files[3:]...)
	var reads []string
	for _, f := range inputs {
		reads = append(reads, "-r", f)
	}

	for _, extra := range [][]string{
		{"-T", "json"},
		{"-T", "json", "-v"},
		{}, // table
		{"-T", "csv"},
		{"-T", "zeek"},
		{"--summary"},
		{"-T", "json", "--summary"},
		{"-T", "json", "tcp and not port 1"},   // a capture filter on every file
		{"-T", "json", "--min-version", "1.2"}, // violations on stderr as found
		{"-T", "json", "--keylog", filepath.Join(pcapDir, "tls13-hrr-keylog-go.keys")},
	} {
		args := append(append([]string{}, reads...), extra...)
		out1, err1, code1 := runCmd(withJobs("1", args)...)
		if code1 != 3 {
			t.Errorf("%v: exit %d with a missing file, want 3", extra, code1)
		}
		for _, jobs := range []string{"4", "0", "3 holding 1"} {
			j, limit := jobs, heldEventLimit
			if jobs == "3 holding 1" {
				// The readers ahead of their turn wait after one event.
				j, heldEventLimit = "3", 1
			}
			out, errs, code := runCmd(withJobs(j, args)...)
			heldEventLimit = limit
			if out != out1 || errs != err1 || code != code1 {
				t.Errorf("%v --jobs %s: differs from one by one:\nexit %d, want %d\nstderr:\n%s\nwant:\n%s\nstdout equal: %v",
					extra, jobs, code, code1, errs, err1, out == out1)
			}
		}
	}

	// JSON: N files at once is the concatenation of one run per file.
	var concat strings.Builder
	for _, f := range files {
		out, stderr, code := runCmd("-q", "-T", "json", "-r", f)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", f, code, stderr)
		}
		concat.WriteString(out)
	}
	out, stderr, code := runCmd(withJobs("4", append(readArgs(t), "-q", "-T", "json"))...)
	if code != 0 || out != concat.String() {
		t.Errorf("--jobs 4: exit %d, output equal to one run per file: %v; %s", code, out == concat.String(), stderr)
	}
	if !strings.Contains(out, "\n") {
		t.Fatal("no output")
	}
}

// TestJobsEmbeddedSecrets: secrets embedded in a pcapng file decrypt the
// files after it, when they are read at the same time too (the later file
// began before the secrets were known, and is read again); the secrets of
// a file do not reach the files before it.
func TestJobsEmbeddedSecrets(t *testing.T) {
	editcap, err := exec.LookPath("editcap")
	if err != nil {
		t.Skip("editcap not installed")
	}
	dir := t.TempDir()
	encrypted := filepath.Join(pcapDir, "tls13-clientauth-openssl-cert.pcap")
	keys := filepath.Join(pcapDir, "tls13-clientauth-openssl-cert.keys")
	// Another capture carrying the first one's secrets.
	carrier := filepath.Join(dir, "carrier.pcapng")
	if b, err := exec.Command(editcap, "--inject-secrets", "tls,"+keys, filepath.Join(pcapDir, "tls12-ecdhe-go.pcap"), carrier).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v\n%s", err, b)
	}
	junk := filepath.Join(dir, "junk.keys")
	os.WriteFile(junk, []byte("not a key log\n"), 0o600)
	junkCarrier := filepath.Join(dir, "junk.pcapng")
	if b, err := exec.Command(editcap, "--inject-secrets", "tls,"+junk, filepath.Join(pcapDir, "tls13-go.pcapng"), junkCarrier).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v\n%s", err, b)
	}
	args := []string{"-T", "json", "-r", encrypted, "-r", junkCarrier, "-r", carrier, "-r", encrypted, "-r", encrypted}
	out1, err1, code1 := runCmd(withJobs("1", args)...)
	objs := jsonLines(t, out1)
	if code1 != 0 || len(objs) != 5 {
		t.Fatalf("one by one: exit %d, %d objects: %s", code1, len(objs), err1)
	}
	// Not decrypted before the carrier, decrypted after it.
	if objs[0]["decrypted"] != nil || objs[3]["decrypted"] != true || objs[4]["decrypted"] != true {
		t.Fatalf("one by one: decrypted %v, %v, %v", objs[0]["decrypted"], objs[3]["decrypted"], objs[4]["decrypted"])
	}
	if !strings.Contains(err1, "junk.pcapng (embedded secrets)") {
		t.Errorf("stderr does not report the junk secrets: %s", err1)
	}
	for range 5 { // the files race each other: try a few times
		out, errs, code := runCmd(withJobs("5", args)...)
		if out != out1 || errs != err1 || code != code1 {
			t.Fatalf("--jobs 5 differs from one by one:\nexit %d\n%s\nwant:\n%s\n%s\nwant:\n%s", code, errs, err1, out, out1)
		}
	}
}

// TestJobsOneAtATime: what must be read in order is, whatever --jobs says.
func TestJobsOneAtATime(t *testing.T) {
	two := []string{"-r", "a", "-r", "b"}
	tests := []struct {
		args []string
		want int
	}{
		{append([]string{"--jobs", "4"}, two...), 2},
		{append([]string{"--jobs", "1"}, two...), 1},
		{append([]string{"--jobs", "4", "-c", "1"}, two...), 1},
		{append([]string{"--jobs", "4", "-w", "x.pcapng"}, two...), 1},
		{[]string{"--jobs", "4", "-r", "a", "-r", "-"}, 1},
		{[]string{"--jobs", "4", "-r", "a", "-r", "/dev/null"}, 1}, // not a regular file
		{[]string{"--jobs", "4", "-r", "a"}, 1},
	}
	for _, tt := range tests {
		var o options
		fs := newFlagSet(&o, &strings.Builder{})
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		if got := fileJobs(o); got != tt.want {
			t.Errorf("%v: %d at once, want %d", tt.args, got, tt.want)
		}
	}
}

// TestPlanFiles: with -w the files are followed by one goroutine whatever
// --workers says (the -w file follows packets in order), which leaves the
// second of two CPUs idle.
func TestPlanFiles(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, tt := range []struct {
		args []string
		want filePlan
	}{
		{[]string{"-r", "a"}, filePlan{jobs: 1, workers: 2, spare: false}},
		{[]string{"-r", "a", "--workers", "1"}, filePlan{jobs: 1, workers: 1, spare: true}},
		{[]string{"-r", "a", "-w", "h.pcapng"}, filePlan{jobs: 1, workers: 1, spare: true}},
		{[]string{"-r", "a", "-r", "b"}, filePlan{jobs: 2, workers: 1, spare: false}},
	} {
		var o options
		if err := newFlagSet(&o, &strings.Builder{}).Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		if got := planFiles(o); got != tt.want {
			t.Errorf("%v: %+v, want %+v", tt.args, got, tt.want)
		}
	}
}

// TestSpareCore: a file is read ahead only when the run leaves a core idle.
func TestSpareCore(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	tests := []struct {
		cpus, jobs, workers int
		want                bool
	}{
		{1, 1, 1, false},
		{2, 1, 1, true},
		{2, 1, 2, false}, // a reader and two workers
		{2, 2, 1, false},
		{4, 1, 2, true},
		{4, 2, 1, true},
		{4, 1, 3, false},
		{4, 4, 1, false},
		{8, 2, 3, false},
		{8, 3, 1, true},
	}
	for _, tt := range tests {
		runtime.GOMAXPROCS(tt.cpus)
		if got := spareCore(tt.jobs, tt.workers); got != tt.want {
			t.Errorf("%d CPUs, %d jobs of %d workers: spare core %v, want %v", tt.cpus, tt.jobs, tt.workers, got, tt.want)
		}
	}
}

// failingWriter is an output that goes away after a few writes.
type failingWriter struct{ n int }

func (w *failingWriter) Write(b []byte) (int, error) {
	if w.n <= 0 {
		return 0, os.ErrClosed
	}
	w.n--
	return len(b), nil
}

// TestJobsOutputGone: when the output goes away, files read at once stop
// as files read one by one do: exit status 3, the error said once, and no
// reader left waiting.
func TestJobsOutputGone(t *testing.T) {
	args := readArgs(t)
	for _, jobs := range []string{"1", "4"} {
		var errb strings.Builder
		code := run(withJobs(jobs, append(args, "-T", "json")), strings.NewReader(""), &failingWriter{n: 3}, &errb)
		if code != 3 || strings.Count(errb.String(), "writing output") != 1 {
			t.Errorf("--jobs %s: exit %d: %s", jobs, code, errb.String())
		}
	}
}
