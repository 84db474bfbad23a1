package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/internal/hostile"
)

// The real exchanges the hostile captures are built around.
var exchanges = sync.OnceValues(func() ([2]hostile.Exchange, error) {
	var ex [2]hostile.Exchange
	var err error
	for i, name := range []string{"tls12-ecdhe-go.pcap", "tls13-go.pcap"} {
		if ex[i], err = hostile.LoadExchange(filepath.Join(pcapDir, name)); err != nil {
			return ex, err
		}
	}
	return ex, nil
})

// TestHostileCaptures runs the command on adversarial captures generated
// by internal/hostile: each must give the expected report, warnings, exit
// status and standard error, without a panic.
func TestHostileCaptures(t *testing.T) {
	ex, err := exchanges()
	if err != nil {
		t.Fatal(err)
	}
	ex12, ex13 := ex[0], ex[1]
	clean := func(ex hostile.Exchange) func() ([]byte, error) {
		return func() ([]byte, error) {
			return hostile.Connection(ex, hostile.NewFlow(hostile.ClientAddr, hostile.ServerAddr, hostile.ClientISN, hostile.ServerISN))
		}
	}
	const (
		ok12    = "tlsinspect: 15 packets, 1 TCP connections, 1 TLS connections, 1 handshakes (1 completed), 0 warnings\n"
		ok13    = "tlsinspect: 16 packets, 1 TCP connections, 1 TLS connections, 1 handshakes (1 completed), 0 warnings\n"
		inProg  = "handshake still in progress when the capture ended"
		endedFN = "connection ended (fin) before the handshake completed"
	)
	// ref12 and ref13 stand for the JSON of the clean connection: a case
	// whose report must not differ from it.
	tests := []struct {
		name   string
		file   func() ([]byte, error)
		ext    string
		args   []string
		code   int
		stderr string   // all of standard error
		want   []string // per summary: the JSON fields to check ("ref12"/"ref13": all of them as in the clean capture)
	}{
		{"clean TLS 1.2 (the reference)", clean(ex12), ".pcap", nil, 0, ok12, []string{"ref12"}},
		{"clean TLS 1.3 (the reference)", clean(ex13), ".pcap", nil, 0, ok13, []string{"ref13"}},
		{"5 VLAN tags (QinQ)", func() ([]byte, error) { return hostile.DeepVLAN(ex12, 5) }, ".pcap", nil, 0, ok12, []string{"ref12"}},
		{"17 VLAN tags: beyond the decoder's limit", func() ([]byte, error) { return hostile.DeepVLAN(ex12, 17) }, ".pcap", nil, 0,
			"tlsinspect: 15 packets, 0 TCP connections, 0 TLS connections, 0 handshakes (0 completed), 0 warnings, 15 undecodable packets\n", nil},
		{"IPv4 options", func() ([]byte, error) { return hostile.IPv4Options(ex12) }, ".pcap", nil, 0, ok12, []string{"ref12"}},
		{"IPv6 hop-by-hop, routing and destination options headers", func() ([]byte, error) { return hostile.IPv6Extensions(ex13) }, ".pcap", nil, 0, ok13,
			[]string{`{"client": "[2001:db8::1]:50000", "server": "[2001:db8::2]:443", "sni": "server.test", "version": "TLS 1.3", "established": true, "history": "CsidID", "warnings": []}`}},
		{"sequence numbers wrap around in the handshake", func() ([]byte, error) { return hostile.SeqWrap(ex12) }, ".pcap", nil, 0, ok12, []string{"ref12"}},
		{"packets longer than the snapshot length", func() ([]byte, error) { return hostile.SmallSnaplen(ex12) }, ".pcap", nil, 0, ok12, []string{"ref12"}},
		{"pcapng with unknown block types", func() ([]byte, error) { return hostile.Pcapng(ex12, -1) }, ".pcapng", nil, 0, ok12, []string{"ref12"}},
		{"pcapng with a bad block length", func() ([]byte, error) { return hostile.Pcapng(ex12, 5) }, ".pcapng", nil, 3,
			"tlsinspect: FILE: packet 6: pcapng block of type 0xbad has an invalid length 13 (at least 12, a multiple of 4)\n" +
				"tlsinspect: 5 packets, 1 TCP connections, 1 TLS connections, 1 handshakes (0 completed), 1 warnings\n",
			[]string{`{"version": "TLS 1.2", "history": "Cs", "established": false, "warnings": ["` + inProg + `"]}`}},
		{"packet claiming more bytes than the file holds", func() ([]byte, error) { return hostile.PastEOF(ex12) }, ".pcap", nil, 3,
			"tlsinspect: FILE: packet 15: truncated packet record (header says 1060 bytes, 60 present)\n" +
				"tlsinspect: 14 packets, 1 TCP connections, 1 TLS connections, 1 handshakes (1 completed), 0 warnings\n",
			[]string{`{"version": "TLS 1.2", "established": true, "warnings": []}`}},
		{"file cut in the middle of a packet", func() ([]byte, error) { return hostile.CutMidPacket(ex12) }, ".pcap", nil, 3,
			"tlsinspect: FILE: packet 5: truncated packet record (header says 1502 bytes, 751 present)\n" +
				"tlsinspect: 4 packets, 1 TCP connections, 1 TLS connections, 1 handshakes (0 completed), 1 warnings\n",
			[]string{`{"sni": "server.test", "version": null, "history": "C", "established": false, "warnings": ["` + inProg + `"]}`}},
		{"handshake message claiming 16 MB", func() ([]byte, error) { return hostile.BigMessage(ex12) }, ".pcap", nil, 0,
			"tlsinspect: 743 packets, 1 TCP connections, 1 TLS connections, 1 handshakes (0 completed), 2 warnings, 1 oversized handshake messages skipped (--max-message)\n",
			[]string{`{"version": "TLS 1.2", "cipher_suite": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "history": "Csz", "established": false, "server_certificates": [],
				"warnings": ["server stream: handshake message type 11 claims 16777215 bytes, more than the 1048576-byte limit: skipped", "` + endedFN + `"]}`}},
		{"zero-length records and a record of the largest length", func() ([]byte, error) { return hostile.OddRecords(ex12, false) }, ".pcap", nil, 0,
			"tlsinspect: 29 packets, 1 TCP connections, 1 TLS connections, 1 handshakes (1 completed), 0 warnings\n",
			[]string{`{"version": "TLS 1.2", "history": "CsxkndGIFtif", "established": true, "warnings": []}`}},
		{"a record one byte longer than allowed", func() ([]byte, error) { return hostile.OddRecords(ex12, true) }, ".pcap", nil, 0,
			"tlsinspect: 29 packets, 1 TCP connections, 1 TLS connections, 1 handshakes (0 completed), 2 warnings\n",
			[]string{`{"version": "TLS 1.2", "history": "CsxkndGIF", "established": false,
				"warnings": ["server stream: not a TLS record: record length 18433 exceeds 18432 at offset 2223", "` + endedFN + `"]}`}},
		{"zero-length records in TLS 1.3", func() ([]byte, error) { return hostile.OddRecords(ex13, false) }, ".pcap", nil, 0,
			"tlsinspect: 30 packets, 1 TCP connections, 1 TLS connections, 1 handshakes (1 completed), 0 warnings\n",
			[]string{`{"version": "TLS 1.3", "history": "CsidID", "established": true, "warnings": []}`}},
		{"overlapping retransmissions with different bytes: first copy wins", func() ([]byte, error) { return hostile.Conflicts(ex12) }, ".pcap", nil, 0,
			"tlsinspect: 18 packets, 1 TCP connections, 1 TLS connections, 1 handshakes (1 completed), 2 warnings, 2 retransmissions with different bytes (first copy kept)\n",
			[]string{`{"sni": "server.test", "version": "TLS 1.2", "history": "CsxknGIFtif", "established": true, "warnings": [
				"client stream: overlapping retransmission with different bytes at seq+111 (first copy kept)",
				"server stream: overlapping retransmission with different bytes at seq+724 (first copy kept)"]}`}},
		{"out-of-order data beyond --max-buffer", func() ([]byte, error) { return hostile.Swapped(ex12) }, ".pcap", []string{"--max-buffer", "500"}, 0,
			"tlsinspect: 15 packets, 1 TCP connections, 1 TLS connections, 1 handshakes (0 completed), 3 warnings, 765 out-of-order bytes dropped (--max-buffer)\n",
			[]string{`{"version": "TLS 1.2", "history": "CsGIF", "established": false, "warnings": [
				"server stream: out-of-order buffer full (--max-buffer): dropped 765 bytes at seq+1448",
				"server stream: 765 bytes missing from the capture; later records not parsed", "` + endedFN + `"]}`}},
		{"out-of-order data within --max-buffer", func() ([]byte, error) { return hostile.Swapped(ex12) }, ".pcap", nil, 0, ok12, []string{"ref12"}},
		{"random bytes after a valid record", func() ([]byte, error) { return hostile.Garbage(ex12) }, ".pcap", nil, 0,
			"tlsinspect: 15 packets, 1 TCP connections, 1 TLS connections, 1 handshakes (0 completed), 2 warnings\n",
			[]string{`{"sni": "server.test", "version": "TLS 1.2", "history": "Csxkntif", "established": false,
				"warnings": ["client stream: not a TLS record: content type 153 at offset 225", "` + endedFN + `"]}`}},
		{"HTTP and SSH on port 443", func() ([]byte, error) { return hostile.NotTLSOn443(ex12) }, ".pcap", nil, 0,
			"tlsinspect: 61 packets, 2 TCP connections, 0 TLS connections, 0 handshakes (0 completed), 0 warnings\n", nil},
		{"a connection that never ends", func() ([]byte, error) { return hostile.Unfinished(ex12) }, ".pcap", nil, 0,
			"tlsinspect: 6 packets, 1 TCP connections, 1 TLS connections, 1 handshakes (0 completed), 1 warnings\n",
			[]string{`{"version": "TLS 1.2", "history": "Csxkn", "established": false, "client_cert_requested": false, "warnings": ["` + inProg + `"]}`}},
		{"a connection idle longer than --idle-timeout", func() ([]byte, error) { return hostile.IdleThenMore(ex12, 3*time.Minute) }, ".pcap", nil, 0,
			"tlsinspect: 21 packets, 2 TCP connections, 2 TLS connections, 2 handshakes (1 completed), 1 warnings, 1 connections closed idle (--idle-timeout)\n",
			[]string{
				`{"client": "10.0.0.1:50000", "history": "Csxkn", "established": false, "warnings": ["connection ended (idle) before the handshake completed: no packet for longer than the idle timeout (--idle-timeout)"]}`,
				`{"client": "10.0.0.2:50001", "established": true, "warnings": []}`,
			}},
		{"SYN flood beyond --max-flows", func() ([]byte, error) {
			var b bytes.Buffer
			err := hostile.SYNFlood(&b, 20000)
			return b.Bytes(), err
		}, ".pcap", []string{"--max-flows", "1000"}, 0,
			"tlsinspect: 20000 packets, 20000 TCP connections, 0 TLS connections, 0 handshakes (0 completed), 0 warnings, 19000 connections evicted (--max-flows)\n", nil},
		{"a handshake evicted by a SYN flood", func() ([]byte, error) { return hostile.FloodAround(ex12, 2000) }, ".pcap", []string{"--max-flows", "1000"}, 0,
			"tlsinspect: 2015 packets, 2002 TCP connections, 2 TLS connections, 2 handshakes (1 completed), 6 warnings, 1002 connections evicted (--max-flows)\n",
			[]string{
				`{"client": "10.0.0.1:50000", "sni": "server.test", "history": "C", "established": false,
					"warnings": ["connection ended (evicted) before the handshake completed: more connections at once than the connection limit (--max-flows); the least recently active was forgotten"]}`,
				// What follows the eviction is a new connection, picked up mid-stream.
				`{"client": "10.0.0.1:50000", "sni": null, "version": "TLS 1.2", "history": "sxknGIFtif", "established": true}`,
			}},
		{"unsupported link type", hostile.UnsupportedLink, ".pcap", nil, 3,
			"tlsinspect: FILE: link type 802.11 (105) is not supported, 3 packets skipped; tlsinspect reads Ethernet (1), Linux cooked SLL (113) and SLL2 (276), raw IP (12, 14, 101, 228, 229), BSD loopback (0, 108), PPP (9, 50) and Cisco HDLC (104): capture on a wired interface or on \"any\"\n" +
				"tlsinspect: 3 packets, 0 TCP connections, 0 TLS connections, 0 handshakes (0 completed), 0 warnings, 3 undecodable packets\n", nil},
	}
	dir := t.TempDir()
	refs := map[string]string{}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := tt.file()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, strings.NewReplacer(" ", "-", ":", "", "(", "", ")", "", ",", "").Replace(tt.name)+tt.ext)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			out, stderr, code := runCmd(append([]string{"-T", "json", "-r", path}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if want := strings.ReplaceAll(tt.stderr, "FILE", path); stderr != want {
				t.Errorf("stderr\n%s\nwant\n%s", stderr, want)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if out == "" {
				lines = nil
			}
			if len(lines) != len(tt.want) {
				t.Fatalf("%d summaries, want %d:\n%s", len(lines), len(tt.want), out)
			}
			if i < 2 {
				refs[tt.want[0]] = lines[0]
			}
			for j, want := range tt.want {
				if ref, ok := refs[want]; ok {
					if lines[j] != ref {
						t.Errorf("summary %d differs from the clean capture's:\n%s\nwant\n%s", j+1, lines[j], ref)
					}
					continue
				}
				checkJSONFields(t, lines[j], want)
			}
			// The same, byte for byte, whatever the number of workers;
			// but --max-flows is shared out among them, so what it
			// evicts differs.
			if slices.Contains(tt.args, "--max-flows") {
				return
			}
			for _, n := range []string{"1", "3"} {
				o, e, c := runCmd(append([]string{"-T", "json", "-r", path, "--workers", n}, tt.args...)...)
				if o != out || e != stderr || c != code {
					t.Errorf("--workers %s: exit %d, output\n%s\nstderr %s\ndiffer from the default's", n, c, o, e)
				}
			}
		})
	}
}

// checkJSONFields checks that the JSON object line has the fields of want
// with the same values.
func checkJSONFields(t *testing.T, line, want string) {
	t.Helper()
	var got, w map[string]any
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want: %v: %s", err, want)
	}
	for k, v := range w {
		a, _ := json.Marshal(got[k])
		b, _ := json.Marshal(v)
		if _, ok := got[k]; !ok && v != nil {
			t.Errorf("%s: missing, want %s", k, b)
		} else if !bytes.Equal(a, b) {
			t.Errorf("%s = %s, want %s", k, a, b)
		}
	}
}
