package findings_test

import (
	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/analyze"
	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/findings"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

var cfg = analyze.Config{MaxMessage: 1 << 20, ScanLimit: 16 << 10, MaxBuffer: 256 << 10, IdleTimeout: 2 * time.Minute}

// run returns the summaries of one capture, findings filled by analyze.Run.
func run(t *testing.T, path string) []*tlsconn.Summary {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []*tlsconn.Summary
	if _, err := analyze.Run(src, cfg, func(s *tlsconn.Summary) { out = append(out, s) }); err != nil {
		t.Logf("%s: %v", path, err)
	}
	return out
}

func ids(s *tlsconn.Summary) []string {
	out := []string{}
	for _, f := range s.Findings {
		out = append(out, f.ID)
	}
	return out
}

// checkWellFormed: known ID, its severity, one line of text.
func checkWellFormed(t *testing.T, where string, s *tlsconn.Summary) {
	t.Helper()
	if s.Findings == nil {
		t.Errorf("%s: Findings is nil", where)
	}
	sev := map[string]string{}
	for _, e := range findings.IDs {
		sev[e.ID] = e.Severity
	}
	seen := map[string]bool{}
	for _, f := range s.Findings {
		if sev[f.ID] == "" || f.Severity != sev[f.ID] {
			t.Errorf("%s: finding %+v: unknown ID or wrong severity", where, f)
		}
		if seen[f.ID] {
			t.Errorf("%s: %s twice", where, f.ID)
		}
		seen[f.ID] = true
		if f.Text == "" || strings.ContainsAny(f.Text, "\r\n") {
			t.Errorf("%s: %s: text %q is not one line", where, f.ID, f.Text)
		}
	}
}

// TestProjectCaptures checks the findings of every handshake in some of
// the project's own captures (certificates valid for 100 years).
func TestProjectCaptures(t *testing.T) {
	tests := []struct {
		file string
		want []string // for every handshake in the file
	}{
		{"tls10-openssl.pcap", []string{"version-tls10", "suite-not-recommended"}},
		{"tls11-openssl.pcap", []string{"version-tls11", "suite-not-recommended"}},
		{"alert-protocol-version-go.pcap", []string{"alert-fatal"}},
		{"alert-handshake-failure-openssl.pcap", []string{"alert-fatal"}},
		{"nosni-go.pcap", []string{"no-sni"}},
		{"tls12-rsa-kx-openssl.pcap", []string{"suite-not-recommended"}},
		{"tls12-ecdhe-go.pcap", []string{}},
		{"tls12-mtls-go.pcap", []string{}},
		{"longchain-go.pcap", []string{}},
		{"tls13-hrr-go.pcap", []string{}},
		{"tls12-sessionid-openssl.pcap", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := run(t, filepath.Join("..", "testdata", "pcaps", tt.file))
			if len(got) == 0 {
				t.Fatal("no handshakes")
			}
			for _, s := range got {
				checkWellFormed(t, tt.file, s)
				if g := ids(s); !reflect.DeepEqual(g, tt.want) {
					t.Errorf("handshake %d: findings %q, want %q (%+v)", s.Handshake, g, tt.want, s.Findings)
				}
			}
		})
	}
	got := run(t, "../testdata/pcaps/alert-protocol-version-go.pcap")
	if txt := got[0].Findings[0].Text; txt != "server sent fatal alert protocol_version" {
		t.Errorf("alert text %q", txt)
	}
}

// TestSharedCorpus runs every capture of ../shared/corpus (third-party
// captures, some old, broken or crafted) and checks known facts.
func TestSharedCorpus(t *testing.T) {
	corpus := testcorpus.Dir(t)
	all := map[string][]*tlsconn.Summary{}
	for _, p := range testcorpus.Captures(t) {
		rel, _ := filepath.Rel(corpus, p)
		src, err := capture.OpenFile(p)
		if err != nil {
			continue // damaged on purpose; analyze's tests cover it
		}
		_, _ = analyze.Run(src, cfg, func(s *tlsconn.Summary) {
			checkWellFormed(t, rel, s)
			all[filepath.ToSlash(rel)] = append(all[filepath.ToSlash(rel)], s)
		})
		src.Close()
	}
	facts := []struct {
		file    string
		has     []string
		hasNot  []string
		textHas string
	}{
		{"zeek/testing/btest/Traces/tls/ssl-v2.pcap", []string{"version-ssl2"}, nil, "negotiated SSL 2.0"},
		{"arkime/tests/pcap/ssl-selfsign.pcap", []string{"version-ssl3", "cert-self-signed", "cert-weak-key", "client-cert-weak-key"}, []string{"client-cert-self-signed"}, "negotiated SSL 3.0"},
		{"zeek/testing/btest/Traces/tls/tls1.2.pcap", []string{"suite-rc4", "cert-weak-signature"}, []string{"version-tls10"}, "TLS_RSA_WITH_RC4_128_MD5 (RC4)"},
		{"zeek/testing/btest/Traces/tls/tls1_1.pcap", []string{"version-tls11"}, nil, ""},
		{"zeek/testing/btest/Traces/tls/pop3-starttls.pcap", []string{"compression", "cert-weak-signature"}, nil, "server chose DEFLATE compression"},
		// Certificate valid 1969-12-31 .. 2038, captured 2023: valid then
		// (a pre-1970 notBefore is not "not yet valid").
		{"suricata-verify/tests/tls/tls-pre-1970/input.pcap", []string{"version-tls10", "suite-rc4"}, []string{"cert-expired", "cert-not-yet-valid"}, ""},
		// Expired long before the capture, judged at capture time.
		{"zeek/testing/btest/Traces/tls/tls-early-alert.pcap", []string{"cert-expired"}, []string{"cert-not-yet-valid"}, "expired 2011-04-16 (handshake at 2015-10-22)"},
		{"suricata-verify/tests/tls/tls-altname-zero/input.pcap", []string{"cert-expired"}, nil, "expired 2023-03-01 (handshake at 2024-04-03)"},
		// Captured in 2023 with a certificate issued for 2026 onwards.
		{"zeek/testing/btest/Traces/tls/ml-dsa-44-cert.pcap", []string{"cert-not-yet-valid", "cert-self-signed"}, []string{"cert-expired"}, "not valid before 2026-04-03 (handshake at 2023-11-14)"},
		{"ja4/badcurveball.pcap", []string{"alert-fatal", "cert-unparsable"}, nil, "client sent fatal alert certificate_unknown"},
		{"ja4/tls-handshake.pcapng", nil, []string{"version-tls10", "suite-rc4", "server-chose-unoffered-suite", "server-chose-unoffered-version"}, ""},
	}
	for _, f := range facts {
		sums, ok := all[f.file]
		if !ok {
			t.Errorf("%s: not in the corpus or no handshakes", f.file)
			continue
		}
		got := map[string]bool{}
		var texts []string
		for _, s := range sums {
			for _, x := range s.Findings {
				got[x.ID] = true
				texts = append(texts, x.Text)
			}
		}
		for _, id := range f.has {
			if !got[id] {
				t.Errorf("%s: no %s among %q", f.file, id, texts)
			}
		}
		for _, id := range f.hasNot {
			if got[id] {
				t.Errorf("%s: unexpected %s among %q", f.file, id, texts)
			}
		}
		if j := strings.Join(texts, " | "); !strings.Contains(j, f.textHas) {
			t.Errorf("%s: texts %q do not contain %q", f.file, j, f.textHas)
		}
	}
}
