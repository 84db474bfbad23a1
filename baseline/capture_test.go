package baseline

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/internal/golden"
)

// Real captures through the real pipeline.
func TestCaptures(t *testing.T) {
	tests := []struct {
		name     string
		old, cur []string
		want     []string // Drift.String()
	}{
		{"TLS 1.0 after TLS 1.2", []string{"tls12-ecdhe-go.pcap"}, []string{"tls10-openssl.pcap"}, []string{
			"server.test: version-downgrade (downgrade): TLS 1.2 -> TLS 1.0",
			"server.test: suite-added: TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
			"server.test: suite-removed: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
			"server.test: suite-downgrade (downgrade): TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (recommended) -> TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA (not recommended)",
			"server.test: new-client-fingerprint: t10d090600_c491f621fb4c_195413a0cc0f",
		}},
		{"mutual TLS no longer requested", []string{"tls12-mtls-go.pcap"}, []string{"tls12-ecdhe-go.pcap"}, []string{
			"server.test: client-auth-dropped (downgrade): yes 1, no 0, unknown 0 -> yes 0, no 1, unknown 0",
		}},
		{"mutual TLS newly requested", []string{"tls12-ecdhe-go.pcap"}, []string{"tls12-mtls-go.pcap"}, []string{
			"server.test: client-auth-added: yes 0, no 1, unknown 0 -> yes 1, no 0, unknown 0",
		}},
		{"server refuses the client's versions", []string{"tls12-ecdhe-go.pcap"}, []string{"alert-protocol-version-go.pcap"}, []string{
			"server.test: new-client-fingerprint: t11d040900_cefcabfea53d_acf91fffa60d",
			"server.test: handshakes-failing (downgrade): 1 established, 0 failed -> 0 established, 1 failed",
		}},
		{"TLS 1.3 after TLS 1.2: client authentication becomes unknown, not dropped", []string{"tls12-mtls-go.pcap"}, []string{"tls13-go.pcap"}, []string{
			"server.test: version-upgrade: TLS 1.2 -> TLS 1.3",
			"server.test: suite-added: TLS_AES_128_GCM_SHA256",
			"server.test: suite-removed: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
			"server.test: group-added: X25519MLKEM768",
			"server.test: group-removed: x25519",
			"server.test: new-client-fingerprint: t13d131300_f57a46bbacb6_fb48f8b98a29",
		}},
		{"no SNI: keyed by address", []string{"tls12-ecdhe-go.pcap"}, []string{"tls12-ecdhe-go.pcap", "nosni-go.pcap"}, []string{
			"127.0.0.1:44327: new-server: 1 handshake, 1 established",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range Compare(captureBaseline(t, tt.old...), captureBaseline(t, tt.cur...)) {
				got = append(got, d.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// Every capture compared with itself, in memory and after a round trip
// through a file, shows no drift.
func TestCapturesSelf(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "pcaps", "*.pcap*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	all := NewBuilder()
	for _, p := range paths {
		name := filepath.Base(p)
		b := NewBuilder()
		for _, s := range captureSummaries(t, name) {
			b.Add(s)
			all.Add(s)
		}
		checkSelf(t, name, b.Baseline())
	}
	checkSelf(t, "all captures", all.Baseline())
}

func checkSelf(t *testing.T, name string, bl *Baseline) {
	t.Helper()
	if d := Compare(bl, bl); d != nil {
		t.Errorf("%s: drift from itself: %q", name, d)
	}
	back, err := Read(bytes.NewReader(encode(t, bl)), name+".json")
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if d := Compare(back, bl); d != nil {
		t.Errorf("%s: drift after a round trip: %q", name, d)
	}
}

// testdata/example.json is the documented example of the format; it must
// be what the current code writes (go test ./baseline -run Example -update).
func TestExample(t *testing.T) {
	bl := captureBaseline(t,
		"tls12-ecdhe-go.pcap", "tls12-mtls-go.pcap", "tls12-ticket-go.pcap", "tls10-openssl.pcap",
		"tls13-go.pcap", "alpn-h2-tls12-go.pcap", "alert-protocol-version-go.pcap",
		"tls13-curl-openssl.pcap", "nosni-go.pcap")
	got := encode(t, bl)
	path := filepath.Join("testdata", "example.json")
	golden.Check(t, path, got)
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Read(bytes.NewReader(want), path)
	if err != nil {
		t.Fatal(err)
	}
	if again := encode(t, back); !bytes.Equal(again, want) {
		t.Errorf("%s: Read then Write differs", path)
	}
}
