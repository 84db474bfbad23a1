// Package testcorpus locates the shared corpus of third-party captures
// (../shared/corpus beside the repository) for tests. The corpus is never
// copied into the project; tests that use it skip when it is absent.
package testcorpus

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Shared returns the ../shared directory beside the repository, or skips
// the test when it is absent.
func Shared(t testing.TB) string {
	t.Helper()
	dir, ok := shared()
	if !ok {
		t.Skipf("shared corpus not present at %s", dir)
	}
	return dir
}

// shared is the ../shared directory beside the repository, and whether its
// corpus is there.
func shared() (string, bool) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", false
	}
	// file is <repo>/internal/testcorpus/testcorpus.go.
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared")
	fi, err := os.Stat(filepath.Join(dir, "corpus"))
	return dir, err == nil && fi.IsDir()
}

// CapturesIfPresent is Captures, or none when the shared corpus is absent:
// for a test that goes on with the project's own captures.
func CapturesIfPresent(tb testing.TB) []string {
	tb.Helper()
	dir, ok := shared()
	if !ok {
		return nil
	}
	return Files(tb, filepath.Join(dir, "corpus"))
}

// Dir returns the corpus directory, or skips the test.
func Dir(t testing.TB) string {
	t.Helper()
	return filepath.Join(Shared(t), "corpus")
}

// Captures lists every capture file in the corpus (pcap, pcapng, cap,
// gzip), or skips the test.
func Captures(t testing.TB) []string {
	t.Helper()
	return Files(t, Dir(t))
}

// Files lists the capture files under dir (pcap, pcapng, cap, gzip'd
// pcap), subfolders included, in lexical order; a directory that cannot be
// read or holds none fails tb. (The project's own captures are listed with
// it too: it lives here because this package imports nothing of the
// project.)
func Files(tb testing.TB, dir string) []string {
	tb.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, ext := range []string{".pcap", ".pcapng", ".cap", ".pcap.gz"} {
			if strings.HasSuffix(p, ext) {
				files = append(files, p)
				break
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no captures in %s", dir)
	}
	return files
}

// ZeekLog reads the rows of a Zeek TSV log as maps by field name: column
// names from "#fields", or, for a zeek-cut file (no "#fields"), from the
// first line after the btest banner.
func ZeekLog(tb testing.TB, path string) []map[string]string {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var fields []string
	var rows []map[string]string
	for i, line := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "#fields\t"):
			fields = strings.Split(line, "\t")[1:]
		case line == "" || strings.HasPrefix(line, "#"):
		case i == 1 && fields == nil:
			fields = strings.Split(line, "\t")
		case fields != nil:
			row := map[string]string{}
			for j, v := range strings.Split(line, "\t") {
				if j < len(fields) {
					row[fields[j]] = v
				}
			}
			rows = append(rows, row)
		}
	}
	return rows
}
