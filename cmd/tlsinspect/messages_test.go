package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/iana"
)

// handshakeTypeNames is the set of names the per-message view gives
// plaintext handshake messages (records of other kinds have other names).
var handshakeTypeNames = func() map[string]bool {
	m := map[string]bool{}
	for i := range 256 {
		m[iana.HandshakeTypeName(uint8(i))] = true
	}
	return m
}()

// TestMessagesAgainstTshark checks the per-message view against tshark: on
// every project capture, each direction of each connection lists the same
// plaintext handshake messages, in the same order, as tshark dissects.
func TestMessagesAgainstTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	compared := 0
	for _, f := range captures(t) {
		if strings.HasSuffix(f, ".gz") {
			continue // the same capture as its uncompressed twin
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			out, stderr, code := runCmd("-q", "-v", "-f", "json", "-r", f)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			ours := map[string][]string{} // "src -> dst" → handshake types in order
			for _, o := range jsonLines(t, out) {
				msgs, _ := o["messages"].([]any)
				if len(msgs) == 0 {
					t.Fatalf("connection %v has no messages with -v", o["connection"])
				}
				for _, m := range msgs {
					m := m.(map[string]any)
					typ := m["type"].(string)
					if !handshakeTypeNames[typ] {
						continue
					}
					key := o["client"].(string) + " -> " + o["server"].(string)
					if m["from"] == "server" {
						key = o["server"].(string) + " -> " + o["client"].(string)
					}
					ours[key] = append(ours[key], typ)
				}
			}
			theirs := tsharkHandshakeTypes(t, f)
			if len(theirs) == 0 {
				t.Fatal("tshark sees no handshake messages")
			}
			for key, want := range theirs {
				if got := ours[key]; !slices.Equal(got, want) {
					t.Errorf("%s:\n tshark      %v\n tlsinspect  %v", key, want, got)
				}
				compared += len(want)
			}
			for key, got := range ours {
				if _, ok := theirs[key]; !ok {
					t.Errorf("%s: tlsinspect lists %v; tshark sees no handshake message", key, got)
				}
			}
		})
	}
	t.Logf("%d handshake messages compared", compared)
}

// tsharkHandshakeTypes returns, for each direction of each TCP connection
// ("src -> dst"), the names of the plaintext handshake messages tshark
// dissects, in order.
func tsharkHandshakeTypes(t *testing.T, capture string) map[string][]string {
	t.Helper()
	// The project's captures use ports 44310-44343, unknown to Wireshark.
	args := []string{"-n", "-r", capture, "-o", "tcp.check_checksum:FALSE",
		"-o", "tcp.reassemble_out_of_order:TRUE", "-d", "tcp.port==44310-44343,tls",
		"-Y", "tls.handshake.type", "-T", "fields", "-E", "separator=/t", "-E", "aggregator=,",
		"-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport",
		"-e", "tls.handshake.type"}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	got := map[string][]string{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			continue
		}
		addr := func(v4, v6, port string) string {
			if v6 != "" {
				return "[" + v6 + "]:" + port
			}
			return v4 + ":" + port
		}
		key := addr(f[0], f[1], f[2]) + " -> " + addr(f[3], f[4], f[5])
		for _, n := range strings.Split(f[6], ",") {
			typ, err := strconv.Atoi(n)
			if err != nil {
				t.Fatalf("tshark handshake type %q", n)
			}
			got[key] = append(got[key], iana.HandshakeTypeName(uint8(typ)))
		}
	}
	return got
}

// TestVerboseTable checks the per-message view in the table: every message
// under its row, within the table's width, with no control characters.
func TestVerboseTable(t *testing.T) {
	f := filepath.Join(pcapDir, "tls12-mtls-go.pcap")
	out, stderr, code := runCmd("-q", "-v", "-r", f)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var heads []string
	for _, line := range strings.Split(out, "\n") {
		if len([]rune(line)) > 120 {
			t.Errorf("line wider than 120 columns: %q", line)
		}
		if strings.ContainsFunc(line, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Errorf("control character in %q", line)
		}
		if fs := strings.Fields(line); len(fs) >= 4 && strings.HasPrefix(fs[0], "+") && fs[1] == "ms" {
			heads = append(heads, fs[2]+" "+fs[3])
		}
	}
	want := []string{"client client_hello", "server server_hello", "server certificate", "server server_key_exchange",
		"server certificate_request", "server server_hello_done", "client certificate", "client client_key_exchange",
		"client certificate_verify", "client change_cipher_spec", "client encrypted", "server new_session_ticket",
		"server change_cipher_spec", "server encrypted"}
	if !slices.Equal(heads, want) {
		t.Errorf("messages listed:\n got  %q\n want %q", heads, want)
	}
	for _, field := range []string{
		"cipher_suites: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,",
		"server_name: server.test",
		"certificate_authorities: CN=tlsinspect Test Root CA,O=tlsinspect test",
		"subject: CN=client.test,O=tlsinspect test",
		"key: ECDSA P-256",
	} {
		if !strings.Contains(out, field) {
			t.Errorf("per-message view lacks %q", field)
		}
	}
	// Without -v the JSON has no messages.
	plain, _, _ := runCmd("-q", "-f", "json", "-r", f)
	if strings.Contains(plain, `"messages"`) {
		t.Error("messages listed without -v")
	}
	if testing.Verbose() {
		fmt.Println(out)
	}
}
