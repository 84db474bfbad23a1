package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/iana"
	"github.com/tlsinspect/tlsinspect/internal/testcap"
	"github.com/tlsinspect/tlsinspect/quic"
)

// The QUIC captures of testdata/pcaps/quic, made by generate-quic.sh from
// quic-go (internal/quicpeer) with the client's key log beside each.

// quicEndpoint is one line of a QUIC truth file: what quicpeer's client or
// server said about one connection.
type quicEndpoint struct {
	Conn                int      `json:"conn"`
	Local               string   `json:"local"`
	Remote              string   `json:"remote"`
	Error               string   `json:"error"`
	HandshakeComplete   bool     `json:"handshake_complete"`
	Version             string   `json:"version"`
	CipherSuite         string   `json:"cipher_suite"`
	CipherSuiteID       uint16   `json:"cipher_suite_id"`
	Group               string   `json:"group"`
	ALPN                string   `json:"alpn"`
	ServerName          string   `json:"server_name"`
	PeerCertSubjects    []string `json:"peer_cert_subjects"`
	ClientCertRequested *bool    `json:"client_cert_requested"`
	ClientCertSent      bool     `json:"client_cert_sent"`
	OfferedALPN         []string `json:"offered_alpn"`
	OfferedServerName   *string  `json:"offered_server_name"`
	QUICVersion         string   `json:"quic_version"`
	ClientInitialDCID   string   `json:"client_initial_dcid"`
	ClientSCID          string   `json:"client_scid"`
}

type quicTruth struct {
	File   string         `json:"file"`
	Client []quicEndpoint `json:"client"`
	Server []quicEndpoint `json:"server"`
}

// server returns the server's line for the client's connection.
func (tr *quicTruth) server(c *quicEndpoint) *quicEndpoint {
	for i := range tr.Server {
		if tr.Server[i].Remote == c.Local {
			return &tr.Server[i]
		}
	}
	return nil
}

// accepted reports whether both ends completed the handshake without error:
// what tlsinspect's `established` should say once it has seen everything.
func (tr *quicTruth) accepted(c *quicEndpoint) bool {
	s := tr.server(c)
	return c.HandshakeComplete && c.Error == "" && s != nil && s.HandshakeComplete && s.Error == ""
}

func quicCaptures(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(pcapDir, "quic", "*.pcap"))
	if len(files) == 0 {
		t.Fatal("no QUIC captures in testdata/pcaps/quic (sudo bash testdata/pcaps/generate-quic.sh)")
	}
	return files
}

func readQUICTruth(t *testing.T, capture string) *quicTruth {
	t.Helper()
	raw, err := os.ReadFile(strings.TrimSuffix(capture, ".pcap") + ".truth.json")
	if err != nil {
		t.Fatal(err)
	}
	var tr quicTruth
	if err := json.Unmarshal(raw, &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Client) == 0 {
		t.Fatal("truth file without client connections")
	}
	return &tr
}

func quicKeys(capture string) string { return strings.TrimSuffix(capture, ".pcap") + ".keys" }

// quicRun runs tlsinspect on a capture and returns its QUIC summaries.
func quicRun(t *testing.T, capture string, args ...string) []map[string]any {
	t.Helper()
	var q []map[string]any
	for _, s := range udpRun(t, capture, args...) {
		if s["protocol"] == "quic" {
			q = append(q, s)
		}
	}
	return q
}

// byClient finds the summary of the connection from the client address.
func byClient(got []map[string]any, client string) map[string]any {
	for _, s := range got {
		if s["client"] == client {
			return s
		}
	}
	return nil
}

// strList turns a JSON array of strings into a []string (nil if absent).
func strList(v any) []string {
	a, _ := v.([]any)
	var l []string
	for _, e := range a {
		s, _ := e.(string)
		l = append(l, s)
	}
	return l
}

// certCNs lists the subject CNs of a summary's certificate chain.
func certCNs(v any) []string {
	a, _ := v.([]any)
	var l []string
	for _, e := range a {
		m, _ := e.(map[string]any)
		s, _ := m["subject_cn"].(string)
		l = append(l, s)
	}
	return l
}

// refusedMTLS names the capture whose handshake the server refuses with a
// TLS alert in a Handshake-packet CONNECTION_CLOSE after the client's
// Finished: see TestQUICRefusedMTLSAlert for what tlsinspect gets wrong.
const refusedMTLS = "quic-mtls-refused-go.pcap"

// TestQUICAgainstEndpoints compares every connection of the QUIC captures,
// without and with the client's key log, with what quic-go's client and
// server reported.
func TestQUICAgainstEndpoints(t *testing.T) {
	for _, f := range quicCaptures(t) {
		name := filepath.Base(f)
		tr := readQUICTruth(t, f)
		for _, withKeys := range []bool{false, true} {
			mode := "plain"
			var args []string
			if withKeys {
				mode = "keylog"
				args = []string{"--keylog", quicKeys(f)}
			}
			t.Run(name+"/"+mode, func(t *testing.T) {
				got := quicRun(t, f, args...)
				if len(got) != len(tr.Client) {
					t.Fatalf("%d QUIC connections reported, the client made %d", len(got), len(tr.Client))
				}
				for i := range tr.Client {
					checkQUICConn(t, name, tr, &tr.Client[i], got, withKeys)
				}
			})
		}
	}
}

func checkQUICConn(t *testing.T, name string, tr *quicTruth, c *quicEndpoint, got []map[string]any, withKeys bool) {
	t.Helper()
	s := byClient(got, c.Local)
	if s == nil {
		t.Errorf("conn %d: no summary for client %s", c.Conn, c.Local)
		return
	}
	srv := tr.server(c)
	if srv == nil {
		t.Fatalf("conn %d: the truth has no server line for %s", c.Conn, c.Local)
	}
	errorf := func(format string, args ...any) {
		t.Helper()
		t.Errorf("conn %d (%s): %s", c.Conn, c.Local, fmt.Sprintf(format, args...))
	}
	eq := func(field string, want any) {
		t.Helper()
		if s[field] != want {
			errorf("%s %v, want %v", field, s[field], want)
		}
	}
	// From the Initial packets: always readable.
	eq("server", c.Remote)
	eq("transport", "udp")
	eq("protocol", "quic")
	eq("quic_version", c.QUICVersion)
	eq("client_initial_dcid", c.ClientInitialDCID)
	eq("client_scid", c.ClientSCID)
	eq("sni", c.ServerName)
	if srv.OfferedServerName == nil || *srv.OfferedServerName != c.ServerName {
		errorf("the server saw SNI %v, the client sent %q", srv.OfferedServerName, c.ServerName)
	}
	if alpn := strList(s["client_alpn"]); !slices.Equal(alpn, c.OfferedALPN) || !slices.Equal(alpn, srv.OfferedALPN) {
		errorf("client_alpn %q, the client offered %q, the server saw %q", alpn, c.OfferedALPN, srv.OfferedALPN)
	}
	eq("version", c.Version)
	eq("version", "TLS 1.3")
	eq("cipher_suite", c.CipherSuite)
	eq("cipher_suite_id", float64(c.CipherSuiteID))
	eq("group", c.Group)
	eq("resumed", false)
	if ja4, _ := s["ja4"].(string); !strings.HasPrefix(ja4, "q13") {
		errorf("JA4 %q does not start with q13", ja4)
	}
	if w := strList(s["warnings"]); len(w) > 0 {
		errorf("warnings %q", w)
	}
	if !withKeys {
		// TLS 1.3 encrypts all of these: null, never guessed.
		for _, field := range []string{"alpn", "client_cert_requested", "client_cert_sent", "decrypted"} {
			if v, ok := s[field]; ok && v != nil {
				errorf("%s %v without the key log, want null", field, v)
			}
		}
		if name == refusedMTLS {
			// The alert is in an encrypted Handshake packet; by the README's
			// definition (the client sent 1-RTT packets after the
			// ServerHello) the connection counts as established, with no
			// alert seen.
			if a, ok := s["alerts"].([]any); ok && len(a) > 0 {
				errorf("alerts %v without the key log, want none", a)
			}
		}
		eq("established", true)
		return
	}
	eq("decrypted", true)
	eq("alpn", c.ALPN)
	if srv.HandshakeComplete {
		eq("alpn", srv.ALPN)
	}
	eq("client_cert_requested", *c.ClientCertRequested)
	eq("client_cert_sent", c.ClientCertSent)
	if got, want := certCNs(s["server_certificates"]), c.PeerCertSubjects; !slices.Equal(got, want) {
		errorf("server certificates %q, the client received %q", got, want)
	}
	if c.ClientCertSent {
		if got, want := certCNs(s["client_certificates"]), srv.PeerCertSubjects; !slices.Equal(got, want) {
			errorf("client certificates %q, the server received %q", got, want)
		}
	}
	if name == refusedMTLS {
		return // established and the alert: TestQUICRefusedMTLSAlert
	}
	eq("established", tr.accepted(c))
	if h, _ := s["history"].(string); !strings.Contains(h, "f") || !strings.Contains(h, "F") {
		errorf("history %q without both Finished", h)
	}
}

// TestQUICRefusedMTLSAlert: the server requires a client certificate, the
// client sends an empty Certificate and its Finished, then 1-RTT packets;
// the server answers with CONNECTION_CLOSE CRYPTO_ERROR 0x174 (TLS alert
// certificate_required) in a Handshake packet (coalesced with a 1-RTT one),
// which the key log decrypts (tshark shows it). With the key log the
// handshake is reported only once the server answers the client's
// Finished, so the refusal is seen.
func TestQUICRefusedMTLSAlert(t *testing.T) {
	f := filepath.Join(pcapDir, "quic", refusedMTLS)
	tr := readQUICTruth(t, f)
	got := quicRun(t, f, "--keylog", quicKeys(f))
	if len(got) != 1 || len(tr.Client) != 1 {
		t.Fatalf("%d connections reported, %d in the truth", len(got), len(tr.Client))
	}
	s := got[0]
	if tr.accepted(&tr.Client[0]) {
		t.Fatal("the truth says the handshake was accepted")
	}
	if s["established"] != false {
		t.Errorf("established %v, want false: the server refused the handshake (%s)", s["established"], tr.Server[0].Error)
	}
	want := []any{map[string]any{"from": "server", "level": "fatal", "description": "certificate_required"}}
	if fmt.Sprint(s["alerts"]) != fmt.Sprint(want) {
		t.Errorf("alerts %v, want %v", s["alerts"], want)
	}
	if h, _ := s["history"].(string); !strings.Contains(h, "l") {
		t.Errorf("history %q without the server's alert (l)", h)
	}
}

// quicDatagrams reads the UDP datagrams of a capture, in order.
type quicDatagram struct {
	src, dst string
	payload  []byte
}

func readUDP(t *testing.T, path string) []quicDatagram {
	t.Helper()
	var out []quicDatagram
	testcap.Each(t, path, func(p *testcap.Packet) {
		if p.UDP {
			d := p.Datagram
			out = append(out, quicDatagram{
				src:     netip.AddrPortFrom(d.Src, d.SrcPort).String(),
				dst:     netip.AddrPortFrom(d.Dst, d.DstPort).String(),
				payload: bytes.Clone(d.Payload), // valid only during the call
			})
		}
	})
	return out
}

// clientHelloPackets returns, for each client address, the packet numbers
// of the Initial packets that carried its ClientHello, as package quic
// reassembles them.
func clientHelloPackets(t *testing.T, path string) map[string][]uint64 {
	t.Helper()
	conns := map[string]*quic.Connection{}
	clients := map[string]bool{}
	out := map[string][]uint64{}
	for _, d := range readUDP(t, path) {
		fromClient := clients[d.src]
		if !fromClient && !clients[d.dst] && quic.IsClientInitial(d.payload) {
			clients[d.src], fromClient = true, true
		}
		client := d.dst
		if fromClient {
			client = d.src
		}
		if !clients[client] {
			continue
		}
		qc := conns[client]
		if qc == nil {
			qc = &quic.Connection{}
			conns[client] = qc
		}
		for _, ev := range qc.Datagram(fromClient, d.payload) {
			if ev.Kind == quic.EventMessage && ev.FromClient && ev.Message.Type == 1 {
				out[client] = ev.Message.Packets
			}
		}
	}
	return out
}

// TestQUICBigHello: the ClientHello of quic-bighello-go (~4 KB: 12 ALPN
// values of 200 bytes and an ML-KEM key share) spans at least 3 Initial
// packets, and tlsinspect still reads it whole.
func TestQUICBigHello(t *testing.T) {
	f := filepath.Join(pcapDir, "quic", "quic-bighello-go.pcap")
	tr := readQUICTruth(t, f)
	packets := clientHelloPackets(t, f)
	var tsharkFrames map[string]int
	if _, err := exec.LookPath("tshark"); err == nil {
		tsharkFrames = tsharkClientHelloInitials(t, f)
	} else {
		t.Log("tshark not installed: Initial packets counted by package quic only")
	}
	got := quicRun(t, f, "-v")
	if len(got) != len(tr.Client) {
		t.Fatalf("%d QUIC connections reported, the client made %d", len(got), len(tr.Client))
	}
	for _, c := range tr.Client {
		pns := packets[c.Local]
		if len(pns) < 3 {
			t.Errorf("%s: ClientHello carried by Initial packets %v, want at least 3", c.Local, pns)
		}
		if tsharkFrames != nil && tsharkFrames[c.Local] != len(pns) {
			t.Errorf("%s: tshark counts %d Initial packets with CRYPTO frames up to the ClientHello, package quic %d (%v)",
				c.Local, tsharkFrames[c.Local], len(pns), pns)
		}
		t.Logf("%s: ClientHello in Initial packets %v", c.Local, pns)
		s := byClient(got, c.Local)
		if s == nil {
			t.Errorf("%s: not reported", c.Local)
			continue
		}
		if len(c.OfferedALPN) != 13 {
			t.Fatalf("truth: the client offered %d ALPN values, want 13", len(c.OfferedALPN))
		}
		if alpn := strList(s["client_alpn"]); !slices.Equal(alpn, c.OfferedALPN) {
			t.Errorf("%s: client_alpn %d values %q, want all %d offered", c.Local, len(alpn), alpn, len(c.OfferedALPN))
		}
		if s["sni"] != c.ServerName {
			t.Errorf("%s: sni %v, want %s", c.Local, s["sni"], c.ServerName)
		}
		msgs, _ := s["messages"].([]any)
		if len(msgs) == 0 {
			t.Fatalf("%s: no messages with -v", c.Local)
		}
		ch, _ := msgs[0].(map[string]any)
		if n, _ := ch["length"].(float64); ch["type"] != "client_hello" || n < 3000 {
			t.Errorf("%s: first message %v of %v bytes, want a client_hello of over 3000", c.Local, ch["type"], ch["length"])
		}
		fields, _ := ch["fields"].(map[string]any)
		ext, _ := fields["extensions"].(map[string]any)
		if alpn := strList(ext["application_layer_protocol_negotiation"]); !slices.Equal(alpn, c.OfferedALPN) {
			t.Errorf("%s: -v ALPN extension %q, want %q", c.Local, alpn, c.OfferedALPN)
		}
	}
}

// tsharkClientHelloInitials counts, per client address, tshark's Initial
// packets from the client that carry CRYPTO frames, up to the frame where
// it completes the ClientHello.
func tsharkClientHelloInitials(t *testing.T, path string) map[string]int {
	t.Helper()
	rows := tsharkRows(t, path, "", "quic.long.packet_type == 0 && quic.crypto.offset",
		"ip.src", "udp.srcport", "quic.long.packet_type", "tls.handshake.type")
	count := map[string]int{}
	done := map[string]bool{}
	for _, r := range rows {
		client := r[0] + ":" + r[1]
		if done[client] {
			continue
		}
		// quic.long.packet_type lists every long-header packet of the
		// datagram; count its Initial ones.
		for _, pt := range strings.Split(r[2], ",") {
			if pt == "0" {
				count[client]++
			}
		}
		if slices.Contains(strings.Split(r[3], ","), "1") {
			done[client] = true
		}
	}
	for client := range count {
		if !done[client] {
			delete(count, client) // a server address
		}
	}
	return count
}

// tsharkRows runs tshark with a display filter and returns the fields of
// each frame (tab-separated; several occurrences comma-separated).
func tsharkRows(t *testing.T, path, keys, filter string, fields ...string) [][]string {
	t.Helper()
	args := []string{"-r", path, "-Y", filter, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"}
	if keys != "" {
		args = append(args, "-o", "tls.keylog_file:"+keys)
	}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command("tshark", args...)
	cmd.Stderr = io.Discard
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		r := strings.Split(line, "\t")
		for len(r) < len(fields) {
			r = append(r, "")
		}
		rows = append(rows, r)
	}
	return rows
}

// tsharkQUIC is tshark's view of one QUIC connection (with the key log).
type tsharkQUIC struct {
	version        string // of the packet that completed the ClientHello
	sni            string
	clientALPN     []string
	suite          string // ServerHello, hex
	alpn           string // EncryptedExtensions
	certRequested  bool
	clientCertSent bool
	closeCodes     []string // CONNECTION_CLOSE error codes from the server
}

var tsharkQUICVersion = map[string]string{"0x00000001": "v1", "0x6b3343cf": "v2"}

// tsharkQUICConns reads a QUIC capture with tshark and the key log, per
// client address; serverPort tells the directions apart.
func tsharkQUICConns(t *testing.T, path, keys, serverPort string) map[string]*tsharkQUIC {
	t.Helper()
	rows := tsharkRows(t, path, keys, "tls.handshake.type || quic.cc.error_code",
		"ip.src", "udp.srcport", "ip.dst", "udp.dstport", "quic.version", "tls.handshake.type",
		"tls.handshake.extensions_server_name", "tls.handshake.extensions_alpn_str",
		"tls.handshake.ciphersuite", "tls.handshake.certificate_length", "quic.cc.error_code")
	conns := map[string]*tsharkQUIC{}
	for _, r := range rows {
		fromClient := r[1] != serverPort
		client := r[0] + ":" + r[1]
		if !fromClient {
			client = r[2] + ":" + r[3]
		}
		c := conns[client]
		if c == nil {
			c = &tsharkQUIC{}
			conns[client] = c
		}
		types := strings.Split(r[5], ",")
		switch {
		case fromClient && slices.Contains(types, "1"):
			c.version = strings.Split(r[4], ",")[0]
			c.sni = r[6]
			c.clientALPN = strings.Split(r[7], ",")
		case fromClient && slices.Contains(types, "11"):
			c.clientCertSent = r[9] != ""
		case !fromClient:
			if slices.Contains(types, "2") {
				c.suite = strings.Split(r[8], ",")[0]
			}
			if slices.Contains(types, "8") {
				c.alpn = r[7]
			}
			if slices.Contains(types, "13") {
				c.certRequested = true
			}
			if r[10] != "" {
				c.closeCodes = append(c.closeCodes, strings.Split(r[10], ",")...)
			}
		}
	}
	return conns
}

// TestQUICAgainstTshark compares tlsinspect with tshark's QUIC dissector
// (decrypting with the key log) on every QUIC capture: the same
// connections, QUIC version, SNI, ALPN offered and chosen, suite, client
// certificate requested and sent, and TLS alerts in CONNECTION_CLOSE.
func TestQUICAgainstTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	for _, f := range quicCaptures(t) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			tr := readQUICTruth(t, f)
			_, serverPort, _ := strings.Cut(tr.Client[0].Remote, ":")
			ts := tsharkQUICConns(t, f, quicKeys(f), serverPort)
			plain := quicRun(t, f)
			keyed := quicRun(t, f, "--keylog", quicKeys(f))
			if len(ts) != len(keyed) || len(ts) != len(plain) {
				t.Fatalf("tshark sees %d QUIC connections, tlsinspect %d (%d with the key log)", len(ts), len(plain), len(keyed))
			}
			for client, w := range ts {
				for _, s := range []map[string]any{byClient(plain, client), byClient(keyed, client)} {
					if s == nil {
						t.Fatalf("%s: tshark sees a connection, tlsinspect does not", client)
					}
					if s["quic_version"] != tsharkQUICVersion[w.version] || s["sni"] != w.sni || !slices.Equal(strList(s["client_alpn"]), w.clientALPN) {
						t.Errorf("%s: quic_version %v sni %v client_alpn %q; tshark %s %s %q",
							client, s["quic_version"], s["sni"], strList(s["client_alpn"]), w.version, w.sni, w.clientALPN)
					}
					if id, _ := s["cipher_suite_id"].(float64); fmt.Sprintf("0x%04x", int(id)) != w.suite {
						t.Errorf("%s: cipher_suite_id %v, tshark %s", client, s["cipher_suite_id"], w.suite)
					}
				}
				s := byClient(keyed, client)
				if s["alpn"] != w.alpn || s["client_cert_requested"] != w.certRequested || s["client_cert_sent"] != w.clientCertSent {
					t.Errorf("%s: alpn %v requested %v sent %v; tshark %q %v %v",
						client, s["alpn"], s["client_cert_requested"], s["client_cert_sent"], w.alpn, w.certRequested, w.clientCertSent)
				}
				var tlsAlerts []string
				for _, code := range w.closeCodes {
					if n, err := strconv.ParseUint(code, 0, 64); err == nil && n >= 0x100 && n <= 0x1ff {
						tlsAlerts = append(tlsAlerts, code)
					}
				}
				// A server may repeat its CONNECTION_CLOSE (tshark lists
				// each); the handshake has the alert once.
				alerts, _ := s["alerts"].([]any)
				if (len(tlsAlerts) > 0) != (len(alerts) > 0) || len(alerts) > 1 {
					t.Errorf("%s: %d alerts %v; tshark: CONNECTION_CLOSE with TLS alert codes %v", client, len(alerts), alerts, tlsAlerts)
				} else if len(alerts) == 1 {
					n, _ := strconv.ParseUint(tlsAlerts[0], 0, 64)
					if d := alerts[0].(map[string]any)["description"]; d != iana.AlertName(uint8(n-0x100)) {
						t.Errorf("%s: alert %v; tshark: code %s", client, d, tlsAlerts[0])
					}
				}
			}
		})
	}
}
