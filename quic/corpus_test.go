package quic_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"go.yaml.in/yaml/v3"

	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/fingerprint"
	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
	"github.com/tlsinspect/tlsinspect/quic"
)

// The corpus tests run the UDP payloads of the captures in
// ../shared/corpus (never committed to the project) through
// quic.Connection, and compare what they give with the outputs shipped
// beside the captures:
//
//   - ja4/*.ja4-rust.snap: the FoxIO Rust ja4 tool's snapshots, whose
//     "transport: udp" entries are QUIC connections with their SNI and
//     q-prefixed JA4;
//   - zeek/.../quic/*.quic.log(.cut): Zeek's quic.log (version,
//     connection IDs, server_name, client_protocol);
//   - suricata-verify/tests/*quic*/test.yaml: Suricata's quic events
//     (JA4, extension order), checked by hand below.
//
// Every capture of the corpus is read, so captures without QUIC check
// that no other UDP traffic (DNS, DTLS, ...) is taken for it.

// endpoint is "ip|port", which avoids IPv6 bracket rules.
type endpoint string

// corpusConn is one QUIC connection found in a capture.
type corpusConn struct {
	client, server endpoint
	conn           *quic.Connection
	firstFrame     int // capture packet number (from 1) of the client's first Initial
	clientHellos   []*dissect.ClientHello
	helloPackets   [][]uint64 // packet numbers that carried each ClientHello
	serverHellos   []*dissect.ServerHello
	handshake      [2][]uint8 // Handshake-space message types [client, server]
	ee             *dissect.EncryptedExtensions
	closes         []string
	problems       []string
}

// dsbSecret matches handshake secrets in a pcapng Decryption Secrets Block
// (the key log text is stored as is).
var dsbSecret = regexp.MustCompile(`(CLIENT|SERVER)_HANDSHAKE_TRAFFIC_SECRET ([0-9a-f]{64}) ([0-9a-f]{64,96})`)

type secretPair struct{ client, server []byte }

func embeddedSecrets(raw []byte) map[string]*secretPair {
	m := map[string]*secretPair{}
	for _, g := range dsbSecret.FindAllSubmatch(raw, -1) {
		random := string(g[2])
		sp := m[random]
		if sp == nil {
			sp = &secretPair{}
			m[random] = sp
		}
		secret, _ := hex.DecodeString(string(g[3]))
		if string(g[1]) == "CLIENT" {
			sp.client = secret
		} else {
			sp.server = secret
		}
	}
	return m
}

// packetSource reads a pcap or pcapng file, gzip-compressed or not.
type packetSource struct {
	read     func() ([]byte, gopacket.CaptureInfo, error)
	linkType func(ci gopacket.CaptureInfo) layers.LinkType
}

func openCapture(t *testing.T, raw []byte) (*packetSource, error) {
	var r io.Reader = bytes.NewReader(raw)
	if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		r = gz
	}
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, err
		}
		return &packetSource{ng.ReadPacketData, func(ci gopacket.CaptureInfo) layers.LinkType {
			if iface, err := ng.Interface(ci.InterfaceIndex); err == nil {
				return iface.LinkType
			}
			return ng.LinkType()
		}}, nil
	}
	pr, err := pcapgo.NewReader(br)
	if err != nil {
		return nil, err
	}
	return &packetSource{pr.ReadPacketData, func(gopacket.CaptureInfo) layers.LinkType { return pr.LinkType() }}, nil
}

// readQUIC finds the QUIC connections of a capture: a UDP flow becomes
// one when a datagram passes quic.IsClientInitial, whose sender is the
// client. Datagrams of a flow before that are ignored.
func readQUIC(t *testing.T, path string) []*corpusConn {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	src, err := openCapture(t, raw)
	if err != nil {
		t.Logf("%s: %v", filepath.Base(path), err)
		return nil
	}
	secrets := embeddedSecrets(raw)
	flows := map[[2]endpoint]*corpusConn{}
	var conns []*corpusConn
	for frame := 1; ; frame++ {
		data, ci, err := src.read()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Logf("%s: frame %d: %v", filepath.Base(path), frame, err)
			}
			break
		}
		pkt := gopacket.NewPacket(data, src.linkType(ci), gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		udp, _ := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		netl := pkt.NetworkLayer()
		if udp == nil || netl == nil || len(udp.Payload) == 0 {
			continue
		}
		from := endpoint(fmt.Sprintf("%s|%d", netl.NetworkFlow().Src(), udp.SrcPort))
		to := endpoint(fmt.Sprintf("%s|%d", netl.NetworkFlow().Dst(), udp.DstPort))
		key := [2]endpoint{min(from, to), max(from, to)}
		cc := flows[key]
		if cc == nil {
			if !quic.IsClientInitial(udp.Payload) {
				continue
			}
			cc = &corpusConn{client: from, server: to, conn: &quic.Connection{}, firstFrame: frame}
			cc.conn.HandshakeSecrets = func(random []byte) ([]byte, []byte) {
				if sp := secrets[hex.EncodeToString(random)]; sp != nil {
					return sp.client, sp.server
				}
				return nil, nil
			}
			flows[key] = cc
			conns = append(conns, cc)
		}
		fromClient := from == cc.client
		for _, e := range cc.conn.Datagram(fromClient, udp.Payload) {
			cc.record(t, frame, e)
		}
	}
	return conns
}

func (cc *corpusConn) record(t *testing.T, frame int, e quic.Event) {
	switch e.Kind {
	case quic.EventProblem:
		cc.problems = append(cc.problems, fmt.Sprintf("frame %d: %v", frame, e.Err))
	case quic.EventConnectionClose:
		cc.closes = append(cc.closes, e.Close.String())
	case quic.EventMessage:
		m := e.Message
		if e.Space == quic.SpaceHandshake {
			side := 1
			if e.FromClient {
				side = 0
			}
			cc.handshake[side] = append(cc.handshake[side], m.Type)
			if m.Type == 8 && !e.FromClient {
				ee, err := dissect.ParseEncryptedExtensions(m.Body)
				if err != nil {
					t.Errorf("frame %d: %v", frame, err)
				}
				cc.ee = ee
			}
			return
		}
		switch {
		case m.Type == 1 && e.FromClient:
			ch, err := dissect.ParseClientHello(m.Body)
			if err != nil {
				t.Errorf("frame %d: %v", frame, err)
			}
			cc.clientHellos = append(cc.clientHellos, ch)
			cc.helloPackets = append(cc.helloPackets, m.Packets)
		case m.Type == 2 && !e.FromClient:
			sh, err := dissect.ParseServerHello(m.Body)
			if err != nil {
				t.Errorf("frame %d: %v", frame, err)
			}
			cc.serverHellos = append(cc.serverHellos, sh)
		default:
			cc.problems = append(cc.problems, fmt.Sprintf("frame %d: unexpected message type %d in the Initial space", frame, m.Type))
		}
	}
}

func (cc *corpusConn) ja4() string {
	if len(cc.clientHellos) == 0 {
		return ""
	}
	ja4, _ := fingerprint.JA4(cc.clientHellos[0], 'q')
	return ja4
}

func (cc *corpusConn) sni() string {
	if len(cc.clientHellos) == 0 {
		return ""
	}
	return cc.clientHellos[0].ServerName
}

// corpusResults reads every capture of the corpus once per test binary.
var corpusResults map[string][]*corpusConn

func allQUIC(t *testing.T) map[string][]*corpusConn {
	if corpusResults != nil {
		return corpusResults
	}
	dir := testcorpus.Dir(t)
	res := map[string][]*corpusConn{}
	for _, path := range testcorpus.Captures(t) {
		rel, _ := filepath.Rel(dir, path)
		res[rel] = readQUIC(t, path)
	}
	corpusResults = res
	return res
}

// TestCorpusQUICSummary reads every capture and reports what it found;
// every QUIC connection must give its ClientHello, whole and parsable.
func TestCorpusQUICSummary(t *testing.T) {
	res := allQUIC(t)
	files := slices.Sorted(func(yield func(string) bool) {
		for f := range res {
			if !yield(f) {
				return
			}
		}
	})
	total, hellos, spanning, serverHellos, decryptedHS := 0, 0, 0, 0, 0
	for _, f := range files {
		for _, cc := range res[f] {
			total++
			hellos += len(cc.clientHellos)
			serverHellos += len(cc.serverHellos)
			for _, pns := range cc.helloPackets {
				if len(pns) > 1 {
					spanning++
				}
			}
			if len(cc.handshake[1]) > 0 {
				decryptedHS++
			}
			t.Logf("%s: %s -> %s %v dcid=%x: SNI %q JA4 %s, %d ClientHello(s) in packets %v, %d ServerHello(s), handshake messages %v, retries %d, problems %d",
				f, cc.client, cc.server, cc.conn.Version, cc.conn.OriginalDCID, cc.sni(), cc.ja4(), len(cc.clientHellos), cc.helloPackets,
				len(cc.serverHellos), cc.handshake, cc.conn.Retries, len(cc.problems))
			for _, p := range cc.problems {
				t.Logf("    %s", p)
			}
			if len(cc.clientHellos) == 0 {
				t.Errorf("%s: %s -> %s: no ClientHello", f, cc.client, cc.server)
			}
		}
	}
	t.Logf("%d QUIC connections, %d ClientHellos (%d over several Initial packets), %d ServerHellos, %d with Handshake packets decrypted", total, hellos, spanning, serverHellos, decryptedHS)
	if total == 0 {
		t.Fatal("no QUIC connection in the corpus")
	}
}

// rustEntry is one stream of a FoxIO Rust snapshot.
type rustEntry struct {
	Transport     string `yaml:"transport"`
	Src           string `yaml:"src"`
	Dst           string `yaml:"dst"`
	SrcPort       int    `yaml:"src_port"`
	DstPort       int    `yaml:"dst_port"`
	TLSServerName string `yaml:"tls_server_name"`
	JA4           string `yaml:"ja4"`
}

// TestCorpusFoxIOQUIC compares with every QUIC stream of the FoxIO Rust
// snapshots: the same connections, SNI and JA4.
func TestCorpusFoxIOQUIC(t *testing.T) {
	res := allQUIC(t)
	snaps, _ := filepath.Glob(filepath.Join(testcorpus.Dir(t), "ja4", "*.ja4-rust.snap"))
	checked := 0
	for _, snap := range snaps {
		raw, err := os.ReadFile(snap)
		if err != nil {
			t.Fatal(err)
		}
		// The first three lines are insta metadata.
		body := raw
		if i := bytes.Index(raw, []byte("\n---\n")); i >= 0 {
			body = raw[i+5:]
		}
		var entries []rustEntry
		if err := yaml.Unmarshal(body, &entries); err != nil {
			t.Fatalf("%s: %v", snap, err)
		}
		capture := filepath.Join("ja4", strings.TrimSuffix(filepath.Base(snap), ".ja4-rust.snap"))
		conns := res[capture]
		want := 0
		for _, e := range entries {
			if e.Transport != "udp" || !strings.HasPrefix(e.JA4, "q") {
				continue
			}
			want++
			client := endpoint(fmt.Sprintf("%s|%d", e.Src, e.SrcPort))
			server := endpoint(fmt.Sprintf("%s|%d", e.Dst, e.DstPort))
			i := slices.IndexFunc(conns, func(cc *corpusConn) bool { return cc.client == client && cc.server == server })
			if i < 0 {
				t.Errorf("%s: %s -> %s: QUIC connection not found", capture, client, server)
				continue
			}
			cc := conns[i]
			if cc.ja4() != e.JA4 || cc.sni() != e.TLSServerName {
				t.Errorf("%s: %s -> %s: JA4 %s SNI %q, want %s %q", capture, client, server, cc.ja4(), cc.sni(), e.JA4, e.TLSServerName)
			}
			checked++
		}
		if want != len(conns) {
			t.Errorf("%s: %d QUIC connections, the snapshot has %d", capture, len(conns), want)
		}
	}
	t.Logf("%d QUIC connections agree with the FoxIO snapshots", checked)
	if checked == 0 {
		t.Error("no QUIC connection in the FoxIO snapshots to compare with")
	}
}

// TestCorpusZeekQUIC compares with Zeek's quic.log baselines: version,
// connection IDs, server_name and the first ALPN offered. Zeek logs a
// connection answered by a Retry as two rows (before and after); here it
// is one Connection, whose OriginalDCID is the first row's and
// InitialDCID the second's.
func TestCorpusZeekQUIC(t *testing.T) {
	res := allQUIC(t)
	dir := testcorpus.Dir(t)
	logs, _ := filepath.Glob(filepath.Join(dir, "zeek", "testing", "btest", "Traces", "quic", "*.quic.log*"))
	more, _ := filepath.Glob(filepath.Join(dir, "zeek", "testing", "btest", "Traces", "quic", "*", "*", "*.quic.log*"))
	logs = append(logs, more...)
	if len(logs) == 0 {
		t.Skip("no Zeek quic.log baselines")
	}
	checked := 0
	for _, log := range logs {
		rel, _ := filepath.Rel(dir, log)
		capture := rel[:strings.Index(rel, ".pcap")+len(".pcap")]
		conns := res[capture]
		if len(conns) != 1 {
			t.Errorf("%s: %d QUIC connections, want 1", capture, len(conns))
			continue
		}
		cc := conns[0]
		for _, row := range testcorpus.ZeekLog(t, log) {
			check := func(field, got string) {
				want, ok := row[field]
				if !ok || want == "-" && got == "" || want == "(empty)" && got == "" {
					return
				}
				if got != want {
					t.Errorf("%s: %s %q, Zeek has %q", capture, field, got, want)
				}
			}
			if d := row["client_initial_dcid"]; d != "" && d != hex.EncodeToString(cc.conn.OriginalDCID) && d != hex.EncodeToString(cc.conn.InitialDCID) {
				t.Errorf("%s: client_initial_dcid %s is neither %x nor %x", capture, d, cc.conn.OriginalDCID, cc.conn.InitialDCID)
			}
			version := map[quic.Version]string{quic.Version1: "1", quic.Version2: "quicv2"}[cc.conn.Version]
			check("version", version)
			check("client_scid", hex.EncodeToString(cc.conn.ClientSCID))
			// The row before a Retry has no server SCID: the server's
			// Initial answered the client's second attempt.
			if !(cc.conn.Retries > 0 && row["client_initial_dcid"] == hex.EncodeToString(cc.conn.OriginalDCID)) {
				check("server_scid", hex.EncodeToString(cc.conn.ServerSCID))
			}
			check("server_name", cc.sni())
			if len(cc.clientHellos) > 0 && len(cc.clientHellos[0].ALPN) > 0 {
				check("client_protocol", cc.clientHellos[0].ALPN[0])
			}
			checked++
		}
	}
	t.Logf("%d quic.log rows agree", checked)
	if checked == 0 {
		t.Error("no quic.log row to compare with")
	}
}

// TestCorpusSuricataQUIC checks what the suricata-verify QUIC tests
// assert about Suricata's quic events: the JA4 (test ja4-quic: eleven
// connections), and the order of the hello extensions, GREASE included
// (quic.extensions[i].name).
func TestCorpusSuricataQUIC(t *testing.T) {
	res := allQUIC(t)
	const chromeJA4 = "q13d0310h3_55b375c5d22e_cd85d2d88918"
	one := func(name string) *corpusConn {
		conns := res[filepath.Join("suricata-verify", "tests", name, "input.pcap")]
		if len(conns) != 1 {
			t.Fatalf("%s: %d QUIC connections, want 1", name, len(conns))
		}
		return conns[0]
	}
	// extAt is the type of a hello's i-th extension.
	extAt := func(exts []dissect.Extension, i int) uint16 {
		if i >= len(exts) {
			return 0xffff
		}
		return exts[i].Type
	}

	ja4quic := res[filepath.Join("suricata-verify", "tests", "ja4-quic", "input.pcap")]
	if len(ja4quic) != 11 {
		t.Errorf("ja4-quic: %d connections, want 11", len(ja4quic))
	}
	for _, cc := range ja4quic {
		if cc.ja4() != chromeJA4 {
			t.Errorf("ja4-quic: %s: JA4 %s", cc.client, cc.ja4())
		}
	}
	if cc := one("ja4-tls-quic"); cc.ja4() != chromeJA4 {
		t.Errorf("ja4-tls-quic: JA4 %s", cc.ja4())
	}

	cc := one("quic-frag-unordered")
	if ch := cc.clientHellos[0]; extAt(ch.Extensions, 0) != dissect.ExtensionSupportedGroups || extAt(ch.Extensions, 7) != dissect.ExtensionServerName || ch.ServerName != "mastodon.social" {
		t.Errorf("quic-frag-unordered: extensions %v SNI %q", ch.Extensions, ch.ServerName)
	}
	if len(cc.helloPackets[0]) < 2 {
		t.Errorf("quic-frag-unordered: ClientHello in packets %v, expected several", cc.helloPackets[0])
	}

	cc = one("quic-initial-not-first")
	if extAt(cc.clientHellos[0].Extensions, 1) != dissect.ExtensionServerName || len(cc.serverHellos) != 1 || extAt(cc.serverHellos[0].Extensions, 0) != dissect.ExtensionSupportedVersions {
		t.Errorf("quic-initial-not-first: hellos %d/%d", len(cc.clientHellos), len(cc.serverHellos))
	}

	cc = one("quic-retry")
	if len(cc.clientHellos) != 2 || cc.conn.Retries != 2 || len(cc.serverHellos) != 1 {
		t.Fatalf("quic-retry: %d ClientHellos, %d retries, %d ServerHellos", len(cc.clientHellos), cc.conn.Retries, len(cc.serverHellos))
	}
	for _, ch := range cc.clientHellos {
		if extAt(ch.Extensions, 0) != dissect.ExtensionSupportedGroups {
			t.Errorf("quic-retry: ClientHello extensions %v", ch.Extensions)
		}
	}
	if extAt(cc.serverHellos[0].Extensions, 0) != dissect.ExtensionSupportedVersions {
		t.Errorf("quic-retry: ServerHello extensions %v", cc.serverHellos[0].Extensions)
	}

	cc = one("quic-v2")
	ch := cc.clientHellos[0]
	if cc.conn.Version != quic.Version2 || extAt(ch.Extensions, 0) != dissect.ExtensionStatusRequest || extAt(ch.Extensions, 6) != dissect.ExtensionALPN || ch.ALPN[0] != "h3" {
		t.Errorf("quic-v2: version %v extensions %v ALPN %q", cc.conn.Version, ch.Extensions, ch.ALPN)
	}
}

// TestCorpusKeyLogHandshake: the Chrome-to-Cloudflare capture embeds the
// key log in a pcapng Decryption Secrets Block; with it the Handshake
// packets decrypt and give EncryptedExtensions (ALPN h3, the server's
// transport parameters), the compressed certificate, CertificateVerify
// and Finished, and the client's Finished.
func TestCorpusKeyLogHandshake(t *testing.T) {
	res := allQUIC(t)
	conns := res[filepath.Join("ja4", "chrome-cloudflare-quic-with-secrets.pcapng")]
	if len(conns) != 1 {
		t.Fatalf("%d QUIC connections", len(conns))
	}
	cc := conns[0]
	if !slices.Equal(cc.handshake[1], []uint8{8, 25, 15, 20}) || !slices.Equal(cc.handshake[0], []uint8{20}) {
		t.Errorf("Handshake messages client %v server %v", cc.handshake[0], cc.handshake[1])
	}
	if cc.ee == nil || cc.ee.ALPN != "h3" {
		t.Fatalf("EncryptedExtensions %+v", cc.ee)
	}
	for _, e := range cc.ee.Extensions {
		if e.Type != quic.ExtensionQUICTransportParameters {
			continue
		}
		tp, err := quic.ParseTransportParameters(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(tp.OriginalDestinationConnectionID, cc.conn.OriginalDCID) || !bytes.Equal(tp.InitialSourceConnectionID, cc.conn.ServerSCID) {
			t.Errorf("server transport parameters: odcid %x iscid %x, connection %x %x", tp.OriginalDestinationConnectionID, tp.InitialSourceConnectionID, cc.conn.OriginalDCID, cc.conn.ServerSCID)
		}
		return
	}
	t.Error("no transport parameters in EncryptedExtensions")
}
