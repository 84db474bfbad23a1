package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
)

// TestCorpusSuricataQUICEndToEnd checks, through the command, what the
// suricata-verify QUIC tests assert about Suricata's quic events (their
// test.yaml): JA4, the order of the hello extensions (quic.extensions[i];
// Suricata's "alpn" is application_layer_protocol_negotiation here), SNI,
// ALPN and the version. quic/corpus_test.go checks the same at the quic
// layer; here the pipeline, the summary and the JSON are in between.
func TestCorpusSuricataQUICEndToEnd(t *testing.T) {
	dir := filepath.Join(testcorpus.Dir(t), "suricata-verify", "tests")
	const chromeJA4 = "q13d0310h3_55b375c5d22e_cd85d2d88918"
	extAt := func(s map[string]any, field string, i int) string {
		l, _ := s[field].([]any)
		if i >= len(l) {
			return "(none)"
		}
		return fmt.Sprint(l[i])
	}
	for _, tt := range []struct {
		test  string
		conns int
		check func(s map[string]any) string // what is wrong, or ""
	}{
		{"ja4-quic", 11, func(s map[string]any) string {
			if s["ja4"] != chromeJA4 {
				return fmt.Sprintf("ja4 %v", s["ja4"])
			}
			return ""
		}},
		{"ja4-tls-quic", 1, func(s map[string]any) string {
			if s["ja4"] != chromeJA4 {
				return fmt.Sprintf("ja4 %v", s["ja4"])
			}
			return ""
		}},
		{"quic-frag-unordered", 1, func(s map[string]any) string {
			if extAt(s, "client_extensions", 0) != "supported_groups" || extAt(s, "client_extensions", 7) != "server_name" || s["sni"] != "mastodon.social" {
				return fmt.Sprintf("extensions %v sni %v", s["client_extensions"], s["sni"])
			}
			return ""
		}},
		{"quic-initial-not-first", 1, func(s map[string]any) string {
			if extAt(s, "client_extensions", 1) != "server_name" || extAt(s, "server_extensions", 0) != "supported_versions" {
				return fmt.Sprintf("client extensions %v, server extensions %v", s["client_extensions"], s["server_extensions"])
			}
			return ""
		}},
		{"quic-retry", 1, func(s map[string]any) string {
			warnings, _ := s["warnings"].([]any)
			if extAt(s, "client_extensions", 0) != "supported_groups" || extAt(s, "server_extensions", 0) != "supported_versions" || !slices.Contains(warnings, any("server sent a Retry")) {
				return fmt.Sprintf("client extensions %v, server extensions %v, warnings %v", s["client_extensions"], s["server_extensions"], warnings)
			}
			return ""
		}},
		{"quic-v2", 1, func(s map[string]any) string {
			alpn, _ := s["client_alpn"].([]any)
			if extAt(s, "client_extensions", 0) != "status_request" || extAt(s, "client_extensions", 6) != "application_layer_protocol_negotiation" ||
				len(alpn) == 0 || alpn[0] != "h3" || s["quic_version"] != "v2" {
				return fmt.Sprintf("extensions %v alpn %v quic_version %v", s["client_extensions"], alpn, s["quic_version"])
			}
			return ""
		}},
	} {
		t.Run(tt.test, func(t *testing.T) {
			var quic []map[string]any
			for _, s := range udpRun(t, filepath.Join(dir, tt.test, "input.pcap")) {
				if s["protocol"] == "quic" {
					quic = append(quic, s)
				}
			}
			if len(quic) != tt.conns {
				t.Fatalf("%d QUIC connections, Suricata's test has %d", len(quic), tt.conns)
			}
			for _, s := range quic {
				if what := tt.check(s); what != "" {
					t.Errorf("%s: %s", s["client"], what)
				}
			}
		})
	}
}
