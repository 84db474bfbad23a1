package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
)

// clientAuthMatrix lists the TLS 1.3 captures recorded with the clients'
// key logs (testdata/pcaps/NAME.keys).
var clientAuthMatrix = []string{
	"go-none", "go-cert", "go-empty", "openssl-none", "openssl-cert", "openssl-empty", "gnutls-none", "gnutls-cert", "gnutls-empty",
}

// TestKeylogDecryptsTLS13ClientAuth: with the client's key log, TLS 1.3
// client authentication is read from the decrypted CertificateRequest and
// Certificate, and agrees exactly with what the endpoints reported, for
// Go, OpenSSL and GnuTLS clients; the certificate chains come from the
// decrypted messages.
func TestKeylogDecryptsTLS13ClientAuth(t *testing.T) {
	for _, n := range clientAuthMatrix {
		name := "tls13-clientauth-" + n
		t.Run(n, func(t *testing.T) {
			var truth struct {
				Client []struct {
					Requested *bool `json:"client_cert_requested"`
					Sent      *bool `json:"client_cert_sent"`
				} `json:"client"`
			}
			b, err := os.ReadFile(filepath.Join(pcapDir, name+".truth.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &truth); err != nil || len(truth.Client) != 1 || truth.Client[0].Requested == nil || truth.Client[0].Sent == nil {
				t.Fatalf("truth file: %v %s", err, b)
			}
			out, stderr, code := runCmd("-q", "-T", "json", "-r", filepath.Join(pcapDir, name+".pcap"), "--keylog", filepath.Join(pcapDir, name+".keys"))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			objs := jsonLines(t, out)
			if len(objs) != 1 {
				t.Fatalf("%d summaries", len(objs))
			}
			o := objs[0]
			want := truth.Client[0]
			if o["decrypted"] != true || o["client_cert_requested"] != *want.Requested || o["client_cert_sent"] != *want.Sent {
				t.Errorf("decrypted %v, requested %v, sent %v; the client saw requested %v, sent %v",
					o["decrypted"], o["client_cert_requested"], o["client_cert_sent"], *want.Requested, *want.Sent)
			}
			if _, ok := o["client_cert_inferred"]; ok {
				t.Error("client_cert_inferred given although the handshake was decrypted")
			}
			if certs, _ := o["server_certificates"].([]any); len(certs) == 0 {
				t.Error("no server certificates from the decrypted Certificate")
			}
			clientCerts, _ := o["client_certificates"].([]any)
			if (len(clientCerts) > 0) != *want.Sent {
				t.Errorf("%d client certificates; sent %v", len(clientCerts), *want.Sent)
			}
		})
	}
}

// TestKeylogWrongKeys: secrets for other handshakes are reported as not
// found; a damaged secret fails authentication and is reported, and
// nothing is taken from it.
func TestKeylogWrongKeys(t *testing.T) {
	capture := filepath.Join(pcapDir, "tls13-clientauth-go-cert.pcap")
	keys, err := os.ReadFile(filepath.Join(pcapDir, "tls13-clientauth-go-cert.keys"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	other := filepath.Join(pcapDir, "tls13-clientauth-go-none.keys")
	// Flip one hex digit of every secret (the last field of each line).
	var damaged []string
	for _, line := range strings.Split(strings.TrimSpace(string(keys)), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 {
			last := []byte(f[2])
			last[0] ^= 1
			if last[0] > 'f' || (last[0] > '9' && last[0] < 'a') {
				last[0] = '0'
			}
			f[2] = string(last)
		}
		damaged = append(damaged, strings.Join(f, " "))
	}
	bad := filepath.Join(dir, "bad.keys")
	os.WriteFile(bad, []byte(strings.Join(damaged, "\n")+"\n"), 0o600)
	for _, tt := range []struct {
		keys, warning string
	}{
		{other, "no secrets for this handshake in the key log"},
		{bad, "authentication failed"},
	} {
		out, stderr, code := runCmd("-q", "-T", "json", "-r", capture, "--keylog", tt.keys)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		o := jsonLines(t, out)[0]
		if o["decrypted"] != nil || o["client_cert_requested"] != nil || !strings.Contains(string(mustJSON(o["warnings"])), tt.warning) {
			t.Errorf("keys %s: decrypted %v, requested %v, warnings %v", filepath.Base(tt.keys), o["decrypted"], o["client_cert_requested"], o["warnings"])
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// TestKeylogSources: the key log is also taken from $SSLKEYLOGFILE and from
// secrets embedded in a pcapng file (editcap --inject-secrets).
func TestKeylogSources(t *testing.T) {
	capture := filepath.Join(pcapDir, "tls13-clientauth-openssl-cert.pcap")
	keys := filepath.Join(pcapDir, "tls13-clientauth-openssl-cert.keys")
	t.Setenv("SSLKEYLOGFILE", keys)
	out, stderr, _ := runCmd("-T", "json", "-r", capture)
	if o := jsonLines(t, out)[0]; o["decrypted"] != true || !strings.Contains(stderr, "using the key log in $SSLKEYLOGFILE") {
		t.Errorf("$SSLKEYLOGFILE: decrypted %v\n%s", o["decrypted"], stderr)
	}
	t.Setenv("SSLKEYLOGFILE", "")
	editcap, err := exec.LookPath("editcap")
	if err != nil {
		t.Skip("editcap not installed")
	}
	withSecrets := filepath.Join(t.TempDir(), "with-secrets.pcapng")
	if b, err := exec.Command(editcap, "--inject-secrets", "tls,"+keys, capture, withSecrets).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v\n%s", err, b)
	}
	out, stderr, code := runCmd("-q", "-T", "json", "-r", withSecrets)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if o := jsonLines(t, out)[0]; o["decrypted"] != true || o["client_cert_sent"] != true {
		t.Errorf("embedded secrets: decrypted %v, sent %v", o["decrypted"], o["client_cert_sent"])
	}
	// TLS 1.2 master secrets embedded the same way: the renegotiation that
	// asks for the client's certificate is read.
	reneg := filepath.Join(t.TempDir(), "reneg.pcapng")
	if b, err := exec.Command(editcap, "--inject-secrets", "tls,"+filepath.Join(pcapDir, "tls12-reneg-mtls-openssl.keys"),
		filepath.Join(pcapDir, "tls12-reneg-mtls-openssl.pcap"), reneg).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v\n%s", err, b)
	}
	out, stderr, code = runCmd("-q", "-T", "json", "-r", reneg)
	if objs := jsonLines(t, out); code != 0 || len(objs) != 2 || objs[1]["renegotiation"] != true || objs[1]["client_cert_sent"] != true {
		t.Errorf("embedded TLS 1.2 secrets: exit %d, %d handshakes, %s", code, len(objs), stderr)
	}
	// Embedded secrets that are not a key log are reported, not ignored.
	junk := filepath.Join(t.TempDir(), "junk.keys")
	os.WriteFile(junk, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n"), 0o600)
	withJunk := filepath.Join(t.TempDir(), "with-junk.pcapng")
	if b, err := exec.Command(editcap, "--inject-secrets", "tls,"+junk, capture, withJunk).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v\n%s", err, b)
	}
	out, stderr, code = runCmd("-q", "-T", "json", "-r", withJunk)
	if o := jsonLines(t, out)[0]; code != 0 || o["decrypted"] != nil || !strings.Contains(stderr, "with-junk.pcapng (embedded secrets): ") {
		t.Errorf("junk embedded secrets: exit %d, decrypted %v, stderr %q", code, o["decrypted"], stderr)
	}
}

// TestKeylogAgainstTshark: ../shared/tools/tshark-compare --keylog, which
// lets tshark decrypt with the same key log and then checks the TLS 1.3
// CertificateRequest too, agrees on every capture of the matrix.
func TestKeylogAgainstTshark(t *testing.T) {
	shared := testcorpus.Shared(t)
	for _, tool := range []string{"tshark", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	bin := binary(t)
	var names []string
	for _, n := range clientAuthMatrix {
		names = append(names, "tls13-clientauth-"+n)
	}
	for _, c := range keylogCaptures {
		names = append(names, c.name)
	}
	// tshark-compare takes the first object tlsinspect prints for a
	// connection and counts a CertificateRequest anywhere on it; a
	// renegotiation is a handshake of its own here, and only its row has
	// the CertificateRequest (TestKeylogCaptures checks that row).
	knownDisagreement := map[string]string{
		"tls12-reneg-mtls-openssl": "client_cert_requested: expected True, tlsinspect False",
	}
	for _, name := range names {
		out, _ := exec.Command("python3", filepath.Join(shared, "tools", "tshark-compare"), "--tlsinspect", bin,
			"--keylog", filepath.Join(pcapDir, name+".keys"), filepath.Join(pcapDir, name+".pcap")).CombinedOutput()
		if d, ok := knownDisagreement[name]; ok {
			if !strings.Contains(string(out), d) || !strings.Contains(string(out), "0 passed, 1 failed") {
				t.Errorf("%s: want only the known disagreement %q in:\n%s", name, d, out)
			}
			continue
		}
		// At least one connection compared, none failed.
		if m := comparedOK.FindStringSubmatch(string(out)); m == nil || m[1] == "0" {
			t.Errorf("%s: want every connection to agree in:\n%s", name, out)
		}
	}
}

// comparedOK is tshark-compare's last line when every connection agreed.
var comparedOK = regexp.MustCompile(`(?m)^(\d+) passed, 0 failed$`)

// keylogCapture is what a capture recorded with its client's key log
// (testdata/pcaps/NAME.keys) must read as, handshake by handshake.
type keylogCapture struct {
	name       string
	handshakes []keylogWant
}

type keylogWant struct {
	version, suite  string
	resumed, reneg  bool
	requested, sent bool
	clientCerts     int
	established     bool
	alerts          string // descriptions, comma-separated
	parts           string // decrypted_parts, comma-separated
}

const (
	parts13 = "server handshake,client handshake"
	parts12 = "client Finished,server Finished"
)

// keylogCaptures covers the suites, versions and flows of decryption: each
// from a real stack (Go, OpenSSL s_client, curl, GnuTLS) with the key log it
// wrote; the client-side facts agree with the truth files (what the
// endpoints reported).
var keylogCaptures = []keylogCapture{
	{"tls13-refused-mtls-go", []keylogWant{{"TLS 1.3", "TLS_AES_128_GCM_SHA256", false, false, true, false, 0, false, "certificate_required,close_notify", parts13}}},
	{"tls13-hrr-keylog-go", []keylogWant{{"TLS 1.3", "TLS_AES_128_GCM_SHA256", false, false, true, true, 2, true, "", parts13}}},
	{"tls13-psk-keylog-openssl", []keylogWant{
		{"TLS 1.3", "TLS_AES_256_GCM_SHA384", false, false, true, true, 2, true, "", parts13},
		{"TLS 1.3", "TLS_AES_256_GCM_SHA384", true, false, false, false, 0, true, "", parts13},
	}},
	{"tls13-chacha-keylog-openssl", []keylogWant{{"TLS 1.3", "TLS_CHACHA20_POLY1305_SHA256", false, false, true, true, 2, true, "", parts13}}},
	{"tls13-aes256-mtls-curl", []keylogWant{{"TLS 1.3", "TLS_AES_256_GCM_SHA384", false, false, true, true, 2, true, "", parts13}}},
	{"tls13-ccm-keylog-openssl", []keylogWant{
		{"TLS 1.3", "TLS_AES_128_CCM_SHA256", false, false, false, false, 0, true, "", parts13},
		{"TLS 1.3", "TLS_AES_128_CCM_8_SHA256", false, false, false, false, 0, true, "", parts13},
	}},
	{"tls12-reneg-mtls-openssl", []keylogWant{
		{"TLS 1.2", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", false, false, false, false, 0, true, "", parts12},
		{"TLS 1.2", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", false, true, true, true, 2, true, "", parts13},
	}},
	{"tls12-keylog-go", []keylogWant{{"TLS 1.2", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", false, false, true, true, 2, true, "", parts12}}},
	{"tls12-gcm-keylog-gnutls", []keylogWant{{"TLS 1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", false, false, true, true, 2, true, "", parts12}}},
	{"tls13-0rtt-keylog-openssl", []keylogWant{
		{"TLS 1.3", "TLS_AES_256_GCM_SHA384", false, false, false, false, 0, true, "", parts13},
		{"TLS 1.3", "TLS_AES_256_GCM_SHA384", true, false, false, false, 0, true, "", "server handshake,early data,client handshake"},
	}},
	{"tls10-keylog-openssl", []keylogWant{{"TLS 1.0", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", false, false, false, false, 0, true, "", parts12}}},
}

// TestKeylogCaptures: every capture recorded with a key log reads as its
// endpoints saw it, from the decrypted messages, without warnings; and
// without the key log the same capture gives nothing decrypted.
func TestKeylogCaptures(t *testing.T) {
	for _, c := range keylogCaptures {
		t.Run(c.name, func(t *testing.T) {
			capture := filepath.Join(pcapDir, c.name+".pcap")
			out, stderr, code := runCmd("-q", "-T", "json", "-r", capture, "--keylog", filepath.Join(pcapDir, c.name+".keys"))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			objs := jsonLines(t, out)
			if len(objs) != len(c.handshakes) {
				t.Fatalf("%d handshakes, want %d", len(objs), len(c.handshakes))
			}
			for i, o := range objs {
				w := c.handshakes[i]
				var alerts []string
				for _, a := range o["alerts"].([]any) {
					alerts = append(alerts, a.(map[string]any)["description"].(string))
				}
				var parts []string
				for _, p := range o["decrypted_parts"].([]any) {
					parts = append(parts, p.(string))
				}
				got := keylogWant{
					version: fmt.Sprint(o["version"]), suite: fmt.Sprint(o["cipher_suite"]),
					resumed: o["resumed"] == true, reneg: o["renegotiation"] == true,
					requested: o["client_cert_requested"] == true, sent: o["client_cert_sent"] == true,
					clientCerts: len(o["client_certificates"].([]any)), established: o["established"] == true,
					alerts: strings.Join(alerts, ","), parts: strings.Join(parts, ","),
				}
				if got != w {
					t.Errorf("handshake %d:\n got %+v\nwant %+v", i+1, got, w)
				}
				if o["decrypted"] != true || o["client_cert_requested"] == nil || o["client_cert_sent"] == nil {
					t.Errorf("handshake %d: decrypted %v, requested %v, sent %v", i+1, o["decrypted"], o["client_cert_requested"], o["client_cert_sent"])
				}
				if ws := o["warnings"].([]any); len(ws) > 0 && !(len(ws) == 1 && strings.Contains(ws[0].(string), "0-RTT early data")) {
					t.Errorf("handshake %d: warnings %v", i+1, ws)
				}
			}
			// The endpoints' own account: each client line (in connection
			// order) that says whether a certificate was asked for and sent.
			var truth struct {
				Client []struct {
					Conn      int `json:"conn"`
					Requested any `json:"client_cert_requested"` // per handshake (a list) for a renegotiation
					Sent      any `json:"client_cert_sent"`
				} `json:"client"`
			}
			b, err := os.ReadFile(filepath.Join(pcapDir, c.name+".truth.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &truth); err != nil {
				t.Fatal(err)
			}
			// The truth numbers connections 1, 2, 3… in order; tlsinspect
			// by the frame number of their first packet.
			var ids []float64
			for _, o := range objs {
				if id := o["connection"].(float64); !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
			slices.Sort(ids)
			checked := 0
			for _, tc := range truth.Client {
				var handshakes []map[string]any
				for _, o := range objs {
					if tc.Conn >= 1 && tc.Conn <= len(ids) && o["connection"] == ids[tc.Conn-1] {
						handshakes = append(handshakes, o)
					}
				}
				req, sent := tc.Requested, tc.Sent
				if _, ok := req.(bool); ok {
					req, sent = []any{req}, []any{sent}
				}
				reqs, _ := req.([]any)
				sents, _ := sent.([]any)
				if len(reqs) == 0 {
					continue // this endpoint did not say
				}
				if len(reqs) != len(handshakes) || len(sents) != len(handshakes) {
					t.Errorf("connection %d: the client reported %d handshakes, tlsinspect %d", tc.Conn, len(reqs), len(handshakes))
					continue
				}
				for i, o := range handshakes {
					checked++
					if o["client_cert_requested"] != reqs[i] || o["client_cert_sent"] != sents[i] {
						t.Errorf("connection %d handshake %d: requested %v sent %v; the client saw %v %v", tc.Conn, i+1, o["client_cert_requested"], o["client_cert_sent"], reqs[i], sents[i])
					}
				}
			}
			if checked == 0 && slices.ContainsFunc(c.handshakes, func(w keylogWant) bool { return w.requested }) {
				t.Error("the truth file says nothing of client authentication")
			}

			if c.name == "tls13-0rtt-keylog-openssl" && objs[1]["early_data_accepted"] != true {
				t.Errorf("early_data_accepted %v", objs[1]["early_data_accepted"])
			}
			// Without keys: nothing decrypted, TLS 1.3 client auth unknown.
			out, _, _ = runCmd("-q", "-T", "json", "-r", capture)
			for i, o := range jsonLines(t, out) {
				if o["decrypted"] != nil || o["renegotiation"] != nil {
					t.Errorf("without keys, handshake %d: decrypted %v renegotiation %v", i+1, o["decrypted"], o["renegotiation"])
				}
				if o["version"] == "TLS 1.3" && o["client_cert_sent"] != nil {
					t.Errorf("without keys, handshake %d: client_cert_sent %v", i+1, o["client_cert_sent"])
				}
			}
		})
	}
}

// TestKeylogCompressedCertificate: Chrome's brotli-compressed certificate
// (RFC 8879), decrypted with the secrets embedded in the corpus capture,
// gives the chain tshark shows for it.
func TestKeylogCompressedCertificate(t *testing.T) {
	f := filepath.Join(testcorpus.Dir(t), "ja4", "chrome-cloudflare-quic-with-secrets.pcapng")
	if _, err := os.Stat(f); err != nil {
		t.Skip("corpus capture absent")
	}
	out, stderr, code := runCmd("-q", "-T", "json", "-r", f)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	o := jsonLines(t, out)[0]
	certs, _ := o["server_certificates"].([]any)
	if o["decrypted"] != true || o["alpn"] != "h2" || len(certs) < 2 {
		t.Fatalf("decrypted %v, alpn %v, %d certificates", o["decrypted"], o["alpn"], len(certs))
	}
	leaf := certs[0].(map[string]any)
	// As tshark shows them (x509ce.dNSName, issuer).
	if got := fmt.Sprint(leaf["dns_names"]); got != "[*.cloudflare-quic.com sni.cloudflaressl.com cloudflare-quic.com]" ||
		!strings.HasPrefix(leaf["issuer"].(string), "CN=Cloudflare Inc ECC CA-3,") {
		t.Errorf("leaf: dns_names %s, issuer %v", got, leaf["issuer"])
	}
}

// TestKeylogServerSecretsOnly: with only the server's secrets the server's
// flight is read (the request is known) but the client's answer is not.
func TestKeylogServerSecretsOnly(t *testing.T) {
	keys, err := os.ReadFile(filepath.Join(pcapDir, "tls13-clientauth-go-cert.keys"))
	if err != nil {
		t.Fatal(err)
	}
	var server []string
	for _, line := range strings.Split(string(keys), "\n") {
		if strings.HasPrefix(line, "SERVER_") {
			server = append(server, line)
		}
	}
	f := filepath.Join(t.TempDir(), "server.keys")
	os.WriteFile(f, []byte(strings.Join(server, "\n")+"\n"), 0o600)
	out, stderr, code := runCmd("-q", "-T", "json", "-r", filepath.Join(pcapDir, "tls13-clientauth-go-cert.pcap"), "--keylog", f)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	o := jsonLines(t, out)[0]
	if o["decrypted"] != true || o["client_cert_requested"] != true || o["client_cert_sent"] != nil || o["established"] != true {
		t.Errorf("decrypted %v, requested %v, sent %v, established %v", o["decrypted"], o["client_cert_requested"], o["client_cert_sent"], o["established"])
	}
}
