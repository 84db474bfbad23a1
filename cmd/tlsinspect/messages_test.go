package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tlsinspect/tlsinspect/iana"
	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
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
			compared += compareMessages(t, f, nil, nil)
		})
	}
	t.Logf("%d handshake messages compared", compared)
}

// tsharkMisses lists the directions where tshark is known to miss a
// message (INDEX.md), with what it misses; tlsinspect must list it.
var tsharkMisses = map[string]string{
	// A Certificate split over several 16 KiB records: tshark 4.0 does not
	// reassemble it; Zeek's baseline shows the chain (history Csxkn).
	"zeek/testing/btest/Traces/tls/tls-fragmented-handshake.pcap.gz: 104.236.167.107:4433 -> 192.168.6.86:61454": "certificate",
}

// TestCorpusMessagesAgainstTshark is TestMessagesAgainstTshark over the
// shared corpus of third-party captures.
func TestCorpusMessagesAgainstTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: runs tshark on every corpus capture")
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	shared := testcorpus.Shared(t)
	var compared atomic.Int64
	t.Run("corpus", func(t *testing.T) {
		for _, f := range testcorpus.Captures(t) {
			rel, _ := filepath.Rel(filepath.Join(shared, "corpus"), f)
			t.Run(rel, func(t *testing.T) {
				t.Parallel()
				compared.Add(int64(compareMessages(t, f, synPorts(t, f), func(key string) string { return tsharkMisses[rel+": "+key] })))
			})
		}
	})
	t.Logf("%d handshake messages compared", compared.Load())
}

// compareMessages compares the plaintext handshake messages of each
// direction of each connection in capture with tshark's, and returns how
// many were compared.
// missed, when not nil, names a message tshark is known to miss in a
// direction.
func compareMessages(t *testing.T, capture string, ports []string, missed func(key string) string) int {
	out, stderr, code := runCmd("-q", "-v", "-T", "json", "-r", capture)
	if code != 0 && code != exitInput {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ours := map[string][]string{} // "src -> dst" → handshake types in order
	for _, o := range jsonLines(t, out) {
		for _, m := range o["messages"].([]any) {
			m := m.(map[string]any)
			typ := m["type"].(string)
			if n, ok := sslv2Types[typ]; ok {
				typ = iana.HandshakeTypeName(n) // tshark numbers SSLv2 messages alike
			}
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
	theirs := tsharkHandshakeTypes(t, capture, ports)
	compared := 0
	for key, want := range theirs {
		got := ours[key]
		if missed != nil {
			if m := missed(key); m != "" {
				i := slices.Index(got, m)
				if i < 0 {
					t.Errorf("%s: tlsinspect does not list the %s tshark misses: %v", key, m, got)
					continue
				}
				got = slices.Delete(slices.Clone(got), i, i+1)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n tshark      %v\n tlsinspect  %v", key, want, got)
		}
		compared += len(want)
	}
	return compared
}

// sslv2Types maps the per-message view's SSLv2 names to the message
// numbers tshark reports for them in tls.handshake.type.
var sslv2Types = map[string]uint8{"sslv2_client_hello": 1, "sslv2_client_master_key": 2, "sslv2_server_hello": 4}

// synPorts returns the ports connections were opened to, for tshark to
// decode as TLS (it only knows the registered ones). Ports where TLS
// follows another protocol (STARTTLS) are left to tshark's own dissectors.
func synPorts(t *testing.T, capture string) []string {
	out, _ := exec.Command("tshark", "-n", "-r", capture, "-o", "tcp.check_checksum:FALSE",
		"-Y", "tcp.flags.syn==1 && tcp.flags.ack==0", "-T", "fields", "-e", "tcp.dstport").Output()
	keep := map[string]bool{"21": true, "25": true, "110": true, "143": true, "389": true, "443": true, "465": true,
		"587": true, "636": true, "993": true, "995": true, "3306": true, "5222": true, "5269": true, "5432": true}
	seen := map[string]bool{}
	var ports []string
	for _, p := range strings.Fields(string(out)) {
		if !keep[p] && !seen[p] && len(ports) < 200 {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports
}

// tsharkHandshakeTypes returns, for each direction of each TCP connection
// ("src -> dst"), the names of the plaintext handshake messages tshark
// dissects, in order.
func tsharkHandshakeTypes(t *testing.T, capture string, ports []string) map[string][]string {
	t.Helper()
	args := []string{"-n", "-r", capture, "-o", "tcp.check_checksum:FALSE",
		"-o", "tcp.reassemble_out_of_order:TRUE", "-o", "tcp.desegment_tcp_streams:TRUE", "-o", "tls.desegment_ssl_records:TRUE"}
	if ports == nil {
		// The project's captures use ports 44310-44343, unknown to Wireshark.
		args = append(args, "-d", "tcp.port==44310-44343,tls")
	}
	for _, p := range ports {
		args = append(args, "-d", "tcp.port=="+p+",tls")
	}
	args = append(args, "-Y", "tls.handshake.type && tcp", "-T", "fields", "-E", "separator=/t", "-E", "aggregator=,",
		"-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport",
		"-e", "tls.handshake.type")
	// tshark exits non-zero on cut-off files after printing what it read.
	out, _ := exec.Command("tshark", args...).Output()
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
		if f[6] == "" {
			continue
		}
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
	plain, _, _ := runCmd("-q", "-T", "json", "-r", f)
	if strings.Contains(plain, `"messages"`) {
		t.Error("messages listed without -v")
	}
	if testing.Verbose() {
		fmt.Println(out)
	}
}
