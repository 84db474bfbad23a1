package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	for _, n := range clientAuthMatrix {
		name := "tls13-clientauth-" + n
		out, _ := exec.Command("python3", filepath.Join(shared, "tools", "tshark-compare"), "--tlsinspect", bin,
			"--keylog", filepath.Join(pcapDir, name+".keys"), filepath.Join(pcapDir, name+".pcap")).CombinedOutput()
		if !strings.Contains(string(out), "1 passed, 0 failed") {
			t.Errorf("%s:\n%s", name, out)
		}
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
