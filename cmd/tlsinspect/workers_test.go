package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
)

// TestWorkersSameOutput: the report and the summary line are the same, byte
// for byte, whatever the number of workers connections are spread over, on
// the project's captures (with their key logs) and the shared corpus
// (VLANs, IP fragments, tunnels, DTLS, QUIC, captures cut short…).
func TestWorkersSameOutput(t *testing.T) {
	files := testcorpus.Files(t, pcapDir) // subfolders (dtls, quic) included
	own := len(files)
	corpus := testcorpus.CapturesIfPresent(t)
	if len(corpus) == 0 {
		t.Log("shared corpus absent: own captures only")
	}
	files = append(files, corpus...)
	compared := 0
	for i, f := range files {
		args := []string{"-T", "json", "-vv", "-r", f}
		if keys := strings.TrimSuffix(strings.TrimSuffix(f, ".gz"), filepath.Ext(strings.TrimSuffix(f, ".gz"))) + ".keys"; i < own {
			if _, err := os.Stat(keys); err == nil {
				args = append(args, "--keylog", keys)
			}
		}
		out1, err1, code1 := runCmd(append(args, "--workers", "1")...)
		for _, n := range []string{"2", "5"} {
			out, errOut, code := runCmd(append(args, "--workers", n)...)
			if out != out1 || errOut != err1 || code != code1 {
				t.Errorf("%s: --workers %s differs from --workers 1 (exit %d vs %d)\n%s", f, n, code, code1, firstDifference(out+errOut, out1+err1))
			}
		}
		if strings.Contains(out1, `"connection"`) {
			compared++
		}
	}
	if compared < own/2 {
		t.Errorf("only %d of %d captures gave any handshake", compared, len(files))
	}
	t.Logf("%d captures compared, %d with handshakes", len(files), compared)
}

// firstDifference shows where two outputs part.
func firstDifference(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n  %s\nwas\n  %s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("one is longer: %d vs %d lines", len(la), len(lb))
}
