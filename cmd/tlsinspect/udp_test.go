package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
)

// udpRun runs tlsinspect on a capture and returns its JSON lines of
// handshakes over UDP.
func udpRun(t *testing.T, path string, args ...string) []map[string]any {
	t.Helper()
	out, stderr, code := runCmd(append([]string{"-q", "--format", "json", "-r", path}, args...)...)
	if code != 0 {
		t.Fatalf("%s: exit %d: %s", path, code, stderr)
	}
	var udp []map[string]any
	for _, o := range jsonLines(t, out) {
		if o["transport"] == "udp" {
			udp = append(udp, o)
		}
	}
	return udp
}

// dtlsTruth is what the endpoints of a DTLS capture said (the truth files
// beside testdata/pcaps/dtls/*.pcap): OpenSSL s_client and gnutls-cli.
type dtlsTruth struct {
	Client []struct {
		Conn                int    `json:"conn"`
		Version             string `json:"version"`
		Cipher              string `json:"cipher"`      // OpenSSL
		Description         string `json:"description"` // GnuTLS
		DidResume           bool   `json:"did_resume"`
		HandshakeCompleted  *bool  `json:"handshake_completed"`
		ClientCertRequested bool   `json:"client_cert_requested"`
		ClientCertSent      *bool  `json:"client_cert_sent"`
		ClientCertsSent     *int   `json:"client_certs_sent"`
	} `json:"client"`
}

// dtlsVersion maps the endpoints' version names to tlsinspect's.
var dtlsVersion = map[string]string{
	"DTLSv1": "DTLS 1.0", "DTLSv1.2": "DTLS 1.2", "DTLS1.0": "DTLS 1.0", "DTLS1.2": "DTLS 1.2",
	"DTLSv10": "DTLS 1.0", "DTLSv12": "DTLS 1.2",
}

// suiteMatches compares an IANA suite name with OpenSSL's name or GnuTLS's
// description: every component of the latter must be in the former.
func suiteMatches(iana, openssl, gnutls string) bool {
	if openssl != "" {
		parts := map[string]string{
			"ECDHE-RSA-AES256-GCM-SHA384": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
			"ECDHE-RSA-AES256-SHA":        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
		}
		return parts[openssl] == iana
	}
	// "(DTLS1.2-X.509)-(ECDHE-SECP256R1)-(RSA-SHA256)-(AES-256-GCM)[-(SHA1)]":
	// the key exchange and the cipher must be in the IANA name.
	strip := strings.NewReplacer("_", "", "-", "")
	name := strip.Replace(iana)
	ok := 0
	for _, g := range strings.Split(gnutls, ")-(") {
		g = strip.Replace(strings.Trim(g, "()"))
		switch {
		case strings.HasPrefix(g, "AES"), strings.HasPrefix(g, "CHACHA"):
			if !strings.Contains(name, g) {
				return false
			}
			ok++
		case strings.HasPrefix(g, "ECDHE"):
			if !strings.HasPrefix(name, "TLSECDHE") {
				return false
			}
		}
	}
	return ok == 1
}

// TestDTLSAgainstEndpoints compares the DTLS handshakes of
// testdata/pcaps/dtls with what their endpoints reported.
func TestDTLSAgainstEndpoints(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(pcapDir, "dtls", "*.pcap"))
	if len(files) == 0 {
		t.Fatal("no DTLS captures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(strings.TrimSuffix(f, ".pcap") + ".truth.json")
			if err != nil {
				t.Fatal(err)
			}
			var truth dtlsTruth
			if err := json.Unmarshal(raw, &truth); err != nil {
				t.Fatal(err)
			}
			got := udpRun(t, f)
			if len(got) != len(truth.Client) {
				t.Fatalf("%d DTLS handshakes, the client made %d", len(got), len(truth.Client))
			}
			for i, c := range truth.Client {
				s := got[i]
				if s["protocol"] != "dtls" {
					t.Errorf("conn %d: protocol %v", c.Conn, s["protocol"])
				}
				if want := dtlsVersion[c.Version]; s["version"] != want {
					t.Errorf("conn %d: version %v, want %s (%s)", c.Conn, s["version"], want, c.Version)
				}
				suite, _ := s["cipher_suite"].(string)
				if !suiteMatches(suite, c.Cipher, c.Description) {
					t.Errorf("conn %d: suite %s, the client says %s%s", c.Conn, suite, c.Cipher, c.Description)
				}
				if s["client_cert_requested"] != c.ClientCertRequested {
					t.Errorf("conn %d: client_cert_requested %v, want %v", c.Conn, s["client_cert_requested"], c.ClientCertRequested)
				}
				sent := c.ClientCertSent != nil && *c.ClientCertSent || c.ClientCertsSent != nil && *c.ClientCertsSent > 0
				if s["client_cert_sent"] != sent {
					t.Errorf("conn %d: client_cert_sent %v, want %v", c.Conn, s["client_cert_sent"], sent)
				}
				if s["resumed"] != c.DidResume {
					t.Errorf("conn %d: resumed %v, want %v", c.Conn, s["resumed"], c.DidResume)
				}
				established := c.HandshakeCompleted == nil || *c.HandshakeCompleted
				if s["established"] != established {
					t.Errorf("conn %d: established %v, want %v", c.Conn, s["established"], established)
				}
				if ja4, _ := s["ja4"].(string); !strings.HasPrefix(ja4, "d") {
					t.Errorf("conn %d: JA4 %q without the d prefix", c.Conn, ja4)
				}
				if sent && len(s["client_certificates"].([]any)) == 0 {
					t.Errorf("conn %d: client certificate sent but not listed", c.Conn)
				}
			}
		})
	}
}

// TestCorpusDTLSZeek compares with Zeek's ssl.log of its DTLS traces:
// endpoints, version, suite, resumption, establishment. (Zeek's
// ssl_history has no letters for encrypted Finished messages, so the
// histories differ by design and are not compared.)
func TestCorpusDTLSZeek(t *testing.T) {
	dir := filepath.Join(testcorpus.Dir(t), "zeek", "testing", "btest", "Traces", "tls")
	for capture, log := range map[string]string{
		"dtls1_0.pcap": "dtls1_0.pcap.zeek.dtls.ssl.log",
		"dtls1_2.pcap": "dtls1_2.pcap.zeek.dtls.ssl1_2.log",
	} {
		t.Run(capture, func(t *testing.T) {
			rows := testcorpus.ZeekLog(t, filepath.Join(dir, log))
			got := udpRun(t, filepath.Join(dir, capture))
			if len(got) != len(rows) {
				t.Fatalf("%d DTLS handshakes, Zeek has %d", len(got), len(rows))
			}
			for i, z := range rows {
				s := got[i]
				client := netip.AddrPortFrom(netip.MustParseAddr(z["id.orig_h"]), mustPort(t, z["id.orig_p"])).String()
				server := netip.AddrPortFrom(netip.MustParseAddr(z["id.resp_h"]), mustPort(t, z["id.resp_p"])).String()
				if s["client"] != client || s["server"] != server {
					t.Errorf("%v -> %v, Zeek %s -> %s", s["client"], s["server"], client, server)
				}
				if s["version"] != dtlsVersion[z["version"]] || s["cipher_suite"] != z["cipher"] {
					t.Errorf("%v %v, Zeek %s %s", s["version"], s["cipher_suite"], z["version"], z["cipher"])
				}
				if s["established"] != (z["established"] == "T") || s["resumed"] != (z["resumed"] == "T") {
					t.Errorf("established %v resumed %v, Zeek %s %s", s["established"], s["resumed"], z["established"], z["resumed"])
				}
				if certs := s["server_certificates"].([]any); len(certs) == 0 {
					t.Error("no server certificate")
				}
			}
		})
	}
}

func mustPort(t *testing.T, s string) uint16 {
	t.Helper()
	var p uint16
	if _, err := fmt.Sscan(s, &p); err != nil {
		t.Fatalf("port %q: %v", s, err)
	}
	return p
}

// TestCorpusQUICFoxIO compares every QUIC connection of the FoxIO Rust
// snapshots (ja4/*.ja4-rust.snap, read as quic/corpus_test.go reads them)
// with tlsinspect's output: the same connections, SNI and q-prefixed JA4.
func TestCorpusQUICFoxIO(t *testing.T) {
	snaps, _ := filepath.Glob(filepath.Join(testcorpus.Dir(t), "ja4", "*.ja4-rust.snap"))
	checked := 0
	for _, snap := range snaps {
		raw, err := os.ReadFile(snap)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(raw, []byte("\n---\n")); i >= 0 {
			raw = raw[i+5:] // after the insta metadata
		}
		var entries []struct {
			Transport     string `yaml:"transport"`
			Src           string `yaml:"src"`
			Dst           string `yaml:"dst"`
			SrcPort       uint16 `yaml:"src_port"`
			DstPort       uint16 `yaml:"dst_port"`
			TLSServerName string `yaml:"tls_server_name"`
			JA4           string `yaml:"ja4"`
		}
		if err := yaml.Unmarshal(raw, &entries); err != nil {
			t.Fatalf("%s: %v", snap, err)
		}
		capture := strings.TrimSuffix(snap, ".ja4-rust.snap")
		var quic []map[string]any
		for _, s := range udpRun(t, capture) {
			if s["protocol"] == "quic" {
				quic = append(quic, s)
			}
		}
		want := 0
		for _, e := range entries {
			if e.Transport != "udp" || !strings.HasPrefix(e.JA4, "q") {
				continue
			}
			want++
			client := netip.AddrPortFrom(netip.MustParseAddr(e.Src), e.SrcPort).String()
			server := netip.AddrPortFrom(netip.MustParseAddr(e.Dst), e.DstPort).String()
			var s map[string]any
			for _, q := range quic {
				if q["client"] == client && q["server"] == server {
					s = q
				}
			}
			if s == nil {
				t.Errorf("%s: %s -> %s: QUIC connection not reported", filepath.Base(capture), client, server)
				continue
			}
			sni, _ := s["sni"].(string)
			if s["ja4"] != e.JA4 || sni != e.TLSServerName {
				t.Errorf("%s: %s -> %s: JA4 %v SNI %q, want %s %q", filepath.Base(capture), client, server, s["ja4"], sni, e.JA4, e.TLSServerName)
			}
			if s["transport"] != "udp" || s["quic_version"] != "v1" || s["client_initial_dcid"] == nil {
				t.Errorf("%s: %s: transport %v quic_version %v client_initial_dcid %v", filepath.Base(capture), client, s["transport"], s["quic_version"], s["client_initial_dcid"])
			}
			checked++
		}
		if want != len(quic) {
			t.Errorf("%s: %d QUIC connections, the snapshot has %d", filepath.Base(capture), len(quic), want)
		}
	}
	if checked == 0 {
		t.Fatal("no QUIC connection in the FoxIO snapshots")
	}
	t.Logf("%d QUIC connections agree with the FoxIO snapshots", checked)
}

// TestCorpusQUICWithSecrets reads the QUIC handshake of a capture whose
// pcapng Decryption Secrets Block holds its key log: the Handshake packets
// are decrypted, so ALPN chosen and the server's certificates are known.
func TestCorpusQUICWithSecrets(t *testing.T) {
	f := filepath.Join(testcorpus.Dir(t), "ja4", "chrome-cloudflare-quic-with-secrets.pcapng")
	var s map[string]any
	for _, o := range udpRun(t, f) {
		if o["protocol"] == "quic" {
			if s != nil {
				t.Fatal("more than one QUIC connection")
			}
			s = o
		}
	}
	if s == nil {
		t.Fatal("no QUIC connection reported")
	}
	checks := []struct {
		field string
		want  any
	}{
		{"decrypted", true},
		{"alpn", "h3"},
		{"established", true},
		{"version", "TLS 1.3"},
		{"sni", "cloudflare-quic.com"},
		{"client_cert_requested", false},
		{"client_cert_sent", false},
		{"quic_version", "v1"},
		{"ja4", "q13d0310h3_55b375c5d22e_cd85d2d88918"},
	}
	for _, c := range checks {
		if s[c.field] != c.want {
			t.Errorf("%s: %v, want %v", c.field, s[c.field], c.want)
		}
	}
	certs, _ := s["server_certificates"].([]any)
	if len(certs) == 0 {
		t.Error("no server certificates")
	}
	if !strings.Contains(fmt.Sprint(s["history"]), "F") || !strings.Contains(fmt.Sprint(s["history"]), "f") {
		t.Errorf("history %v without both Finished", s["history"])
	}
}
