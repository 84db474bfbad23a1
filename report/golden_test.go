package report_test

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/internal/golden"

	"github.com/tlsinspect/tlsinspect/analyze"
	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/report"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// These tests live in package report_test because they run the whole
// pipeline (analyze), which a report-internal test should not depend on.

const pcapDir = "../testdata/pcaps"

// goldenCaptures cover TLS 1.2 with client certificates, TLS 1.3 with a
// HelloRetryRequest, a fatal alert, TLS 1.0, IPv6 and session resumption.
var goldenCaptures = []string{
	"tls12-mtls-go.pcap",
	"tls13-hrr-go.pcap",
	"alert-protocol-version-go.pcap",
	"tls10-openssl.pcap",
	"ipv6-go.pcap",
	"tls12-sessionid-openssl.pcap",
}

// goldenFormats maps each format to its golden file suffix.
var goldenFormats = []struct{ format, ext string }{
	{"csv", ".csv"},
	{"ecs", ".ecs.jsonl"},
	{"zeek", ".zeek.log"},
	{"zeek-json", ".zeek.jsonl"},
	{"markdown", ".md"},
}

// analyzeFile runs the real pipeline on a capture, with the limits the
// command uses by default.
func analyzeFile(t *testing.T, path string) []*tlsconn.Summary {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []*tlsconn.Summary
	cfg := analyze.Config{MaxMessage: 1 << 20, ScanLimit: 16 << 10, MaxBuffer: 256 << 10, IdleTimeout: 2 * time.Minute}
	if _, err := analyze.Run(src, cfg, func(s *tlsconn.Summary) { out = append(out, s) }); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

func render(t *testing.T, format string, sums []*tlsconn.Summary) string {
	t.Helper()
	var b bytes.Buffer
	w, err := report.New(format, &b)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sums {
		if err := w.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestGoldenFormats compares every format's output for real captures with
// reviewed golden files; run with -update to rewrite them, then review the
// diff.
func TestGoldenFormats(t *testing.T) {
	for _, name := range goldenCaptures {
		sums := analyzeFile(t, filepath.Join(pcapDir, name))
		for _, f := range goldenFormats {
			t.Run(name+"/"+f.format, func(t *testing.T) {
				got := render(t, f.format, sums)
				if again := render(t, f.format, sums); again != got {
					t.Fatalf("two renderings of the same summaries differ")
				}
				golden.Check(t, filepath.Join("testdata", "golden", name+f.ext), []byte(got))
			})
		}
	}
}
