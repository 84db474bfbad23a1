package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// certView is what one endpoint of a tls13-clientauth-* capture saw of client
// authentication (generate.sh: tlspeer, OpenSSL -msg, GnuTLS logs).
type certView struct {
	Role                string `json:"role"`
	ClientCertRequested *bool  `json:"client_cert_requested"`
	ClientCertSent      *bool  `json:"client_cert_sent"`
}

// TestClientCertInference compares the TLS 1.3 size-based guess with what the
// endpoints of real handshakes saw: Go, OpenSSL and GnuTLS clients, a server
// that does not ask for a certificate, one that gets a certificate, and one
// that gets an empty Certificate message.
func TestClientCertInference(t *testing.T) {
	right, total := 0, 0
	for _, cli := range []string{"go", "openssl", "gnutls"} {
		for _, kind := range []string{"none", "cert", "empty"} {
			name := fmt.Sprintf("tls13-clientauth-%s-%s", cli, kind)
			total++
			t.Run(name, func(t *testing.T) {
				raw, err := os.ReadFile(filepath.Join(pcapDir, name+".truth.json"))
				if err != nil {
					t.Fatal(err)
				}
				var truth struct {
					Client []certView `json:"client"`
					Server []certView `json:"server"`
				}
				if err := json.Unmarshal(raw, &truth); err != nil {
					t.Fatal(err)
				}
				if len(truth.Client) != 1 || len(truth.Server) != 1 {
					t.Fatalf("truth has %d client and %d server views, want 1 each", len(truth.Client), len(truth.Server))
				}
				cv, sv := truth.Client[0], truth.Server[0]
				if cv.ClientCertRequested == nil || cv.ClientCertSent == nil {
					t.Fatal("truth: the client's view lacks client_cert_requested/client_cert_sent")
				}
				// The scenario's name and both endpoints must agree.
				wantReq, wantSent := kind != "none", kind == "cert"
				if *cv.ClientCertRequested != wantReq || *cv.ClientCertSent != wantSent ||
					sv.ClientCertRequested == nil || *sv.ClientCertRequested != wantReq ||
					sv.ClientCertSent == nil || *sv.ClientCertSent != wantSent {
					t.Fatalf("truth file disagrees with the scenario: client %s, server %s", mustMarshal(cv), mustMarshal(sv))
				}

				out, stderr, code := runCmd("-q", "-T", "json", "-r", filepath.Join(pcapDir, name+".pcap"))
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				objs := jsonLines(t, out)
				if len(objs) != 1 {
					t.Fatalf("%d handshakes, want 1", len(objs))
				}
				got := objs[0]
				if got["version"] != "TLS 1.3" || got["established"] != true {
					t.Fatalf("version %v, established %v: want an established TLS 1.3 handshake", got["version"], got["established"])
				}
				// The encrypted facts stay unknown; the guess has its own field.
				if got["client_cert_requested"] != nil || got["client_cert_sent"] != nil {
					t.Errorf("client_cert_requested %v, client_cert_sent %v: must be null in TLS 1.3",
						got["client_cert_requested"], got["client_cert_sent"])
				}
				inf, _ := got["client_cert_inferred"].(map[string]any)
				if inf == nil {
					t.Fatal("no client_cert_inferred")
				}
				if inf["requested"] != wantReq || inf["sent"] != wantSent {
					t.Errorf("inferred requested %v, sent %v (%v); the endpoints saw requested %v, sent %v",
						inf["requested"], inf["sent"], inf["reason"], wantReq, wantSent)
					return
				}
				if r, _ := inf["reason"].(string); r == "" {
					t.Error("inferred without a reason")
					return
				}
				right++
			})
		}
	}
	t.Logf("client_cert_inferred matches the endpoints in %d of %d captures", right, total)
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
