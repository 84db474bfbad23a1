package quic

import (
	"bytes"
	"crypto/tls"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/internal/testpki"
)

// Connection IDs of the synthetic connections.
var (
	testDCID     = []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}
	testClientID = []byte{0xc1, 0xc2, 0xc3, 0xc4}
	testServerID = []byte{0x51, 0x52, 0x53, 0x54, 0x55}
)

// clientTransportParameters and serverTransportParameters encode a few
// parameters the way a client and a server send them.
func clientTransportParameters() []byte {
	var b []byte
	for _, p := range []struct {
		id uint64
		v  []byte
	}{
		{ParamInitialMaxData, appendVarint(nil, 1<<20)},
		{ParamMaxIdleTimeout, appendVarint(nil, 30000)},
		{ParamInitialSourceConnectionID, testClientID},
		{ParamGreaseQUICBit, nil},
		{27 + 31*5, []byte("grease")},
	} {
		b = appendVarint(b, p.id)
		b = appendVarint(b, uint64(len(p.v)))
		b = append(b, p.v...)
	}
	return b
}

func serverTransportParameters(odcid []byte) []byte {
	var b []byte
	for _, p := range []struct {
		id uint64
		v  []byte
	}{
		{ParamOriginalDestinationConnectionID, odcid},
		{ParamInitialSourceConnectionID, testServerID},
		{ParamStatelessResetToken, bytes.Repeat([]byte{0xaa}, 16)},
		{ParamActiveConnectionIDLimit, appendVarint(nil, 4)},
	} {
		b = appendVarint(b, p.id)
		b = appendVarint(b, uint64(len(p.v)))
		b = append(b, p.v...)
	}
	return b
}

// tlsConfigs returns client and server configurations for QUIC (TLS 1.3,
// ALPN h3); with mutual the server requires a client certificate.
func tlsConfigs(t testing.TB, mutual bool) (*tls.Config, *tls.Config) {
	pki, err := testpki.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	client, server := pki.ClientConfig(mutual), pki.ServerConfig(mutual)
	for _, c := range []*tls.Config{client, server} {
		c.MinVersion = tls.VersionTLS13
		c.NextProtos = []string{"h3"}
	}
	return client, server
}

// messagesOf returns the messages of the events, in order, and fails the
// test on problems unless allowed.
func messagesOf(t *testing.T, ev []Event, allowProblems bool) []*HandshakeMessage {
	t.Helper()
	var out []*HandshakeMessage
	for _, e := range ev {
		switch e.Kind {
		case EventMessage:
			out = append(out, e.Message)
		case EventProblem:
			if !allowProblems {
				t.Errorf("problem (client %v, %v): %v", e.FromClient, e.Space, e.Err)
			}
		}
	}
	return out
}

// TestClientHelloAcrossInitialsOutOfOrder is the case other tools get
// wrong: a post-quantum ClientHello (X25519MLKEM768 key share, over 1200
// bytes) split into CRYPTO frames across several Initial packets, sent out
// of order, with a retransmitted and an overlapping frame.
func TestClientHelloAcrossInitialsOutOfOrder(t *testing.T) {
	client, server := tlsConfigs(t, false)
	tr := runTLS(t, client, server, clientTransportParameters(), serverTransportParameters(testDCID))
	hello := tr.crypto[0][tls.QUICEncryptionLevelInitial]
	if len(hello) < 1200 || hello[0] != 1 {
		t.Fatalf("ClientHello is %d bytes (type %d); a post-quantum key share should make it over 1200", len(hello), hello[0])
	}
	for _, v := range []Version{Version1, Version2} {
		t.Run(v.String(), func(t *testing.T) {
			ck, _, err := InitialKeys(v, testDCID)
			if err != nil {
				t.Fatal(err)
			}
			parts := chunks(hello, 300, 700, 1100)
			offsets := []int{0, 300, 700, 1100}
			packet := func(pn uint64, payload []byte) []byte {
				return sealLong(t, ck, longPacket{typ: PacketInitial, dcid: testDCID, scid: testClientID, pn: pn, payload: payload, padTo: MinInitialDatagram})
			}
			// Packet 0 carries the last part and the second (as two
			// frames, in reverse order); packet 1 the third and a
			// repeat of the last; packet 2 a frame overlapping parts 1
			// and 2 and, last of all, the first part.
			overlap := hello[250:800]
			datagrams := [][]byte{
				packet(0, append(cryptoFrame(uint64(offsets[3]), parts[3]), cryptoFrame(uint64(offsets[1]), parts[1])...)),
				packet(1, append(cryptoFrame(uint64(offsets[2]), parts[2]), cryptoFrame(uint64(offsets[3]), parts[3])...)),
				packet(2, append(cryptoFrame(250, overlap), cryptoFrame(0, parts[0])...)),
			}
			c := &Connection{}
			for i, d := range datagrams {
				if !IsLongHeader(d) || !IsClientInitial(d) {
					t.Fatalf("datagram %d not recognised", i)
				}
				ev := c.Datagram(true, d)
				msgs := messagesOf(t, ev, false)
				if i < len(datagrams)-1 && len(msgs) != 0 {
					t.Fatalf("datagram %d: a message before the stream is whole", i)
				}
				if i == len(datagrams)-1 {
					if len(msgs) != 1 {
						t.Fatalf("%d messages, want the ClientHello", len(msgs))
					}
					m := msgs[0]
					if m.Type != 1 || !bytes.Equal(m.Raw, hello) || m.Offset != 0 {
						t.Fatalf("message type %d, %d bytes, offset %d", m.Type, len(m.Raw), m.Offset)
					}
					if !slices.Equal(m.Packets, []uint64{0, 1, 2}) {
						t.Errorf("carried by packets %v, want [0 1 2]", m.Packets)
					}
					checkGoClientHello(t, m.Body)
				}
			}
			if c.Version != v || !bytes.Equal(c.OriginalDCID, testDCID) || !bytes.Equal(c.ClientSCID, testClientID) {
				t.Errorf("version %v dcid %x scid %x", c.Version, c.OriginalDCID, c.ClientSCID)
			}
			if c.Client.Initial != 3 || c.Client.Opened != 3 || c.Client.Unopened != 0 {
				t.Errorf("counts %+v", c.Client)
			}
		})
	}
}

// checkGoClientHello checks what crypto/tls puts in the ClientHello of
// runTLS.
func checkGoClientHello(t *testing.T, body []byte) {
	t.Helper()
	ch, err := dissect.ParseClientHello(body)
	if err != nil {
		t.Fatal(err)
	}
	if ch.ServerName != "server.test" || !slices.Equal(ch.ALPN, []string{"h3"}) {
		t.Errorf("SNI %q ALPN %q", ch.ServerName, ch.ALPN)
	}
	if !slices.Contains(ch.KeyShareGroups, uint16(tls.X25519MLKEM768)) {
		t.Errorf("key shares %x: no X25519MLKEM768", ch.KeyShareGroups)
	}
	for _, e := range ch.Extensions {
		if e.Type != ExtensionQUICTransportParameters {
			continue
		}
		tp, err := ParseTransportParameters(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		if tp.InitialMaxData != 1<<20 || tp.MaxIdleTimeout != 30000 || !bytes.Equal(tp.InitialSourceConnectionID, testClientID) || !tp.GreaseQUICBit {
			t.Errorf("transport parameters %+v", tp)
		}
		if len(tp.Parameters) != 5 || tp.Parameters[4].ID != 27+31*5 || tp.Parameters[4].Length != 6 {
			t.Errorf("parameters %+v", tp.Parameters)
		}
		return
	}
	t.Error("no quic_transport_parameters")
}

// handshakeDatagrams builds the datagrams of a whole handshake from a
// transcript: the client's Initials with the ClientHello (two packets),
// the server's Initial with the ServerHello coalesced with its first
// Handshake packet, more Handshake packets, and the client's Handshake
// flight.
func handshakeDatagrams(t *testing.T, v Version, tr *transcript) (client1, client2, server1, server2, client3 []byte) {
	t.Helper()
	ci, si, err := InitialKeys(v, testDCID)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := NewKeys(v, tr.suite, tr.clientHS)
	if err != nil {
		t.Fatal(err)
	}
	sh, err := NewKeys(v, tr.suite, tr.serverHS)
	if err != nil {
		t.Fatal(err)
	}
	hello := tr.crypto[0][tls.QUICEncryptionLevelInitial]
	half := len(hello) / 2
	client1 = sealLong(t, ci, longPacket{typ: PacketInitial, dcid: testDCID, scid: testClientID, pn: 0, payload: cryptoFrame(0, hello[:half]), padTo: MinInitialDatagram})
	client2 = sealLong(t, ci, longPacket{typ: PacketInitial, dcid: testDCID, scid: testClientID, pn: 1, payload: cryptoFrame(uint64(half), hello[half:]), padTo: MinInitialDatagram})

	serverHello := tr.crypto[1][tls.QUICEncryptionLevelInitial]
	flight := tr.crypto[1][tls.QUICEncryptionLevelHandshake]
	cut := min(600, len(flight))
	server1 = sealLong(t, si, longPacket{typ: PacketInitial, dcid: testClientID, scid: testServerID, pn: 0, payload: append(ackFrame(1), cryptoFrame(0, serverHello)...)})
	server1 = append(server1, sealLong(t, sh, longPacket{typ: PacketHandshake, dcid: testClientID, scid: testServerID, pn: 0, payload: cryptoFrame(0, flight[:cut])})...)
	for pn, off := uint64(1), cut; off < len(flight); pn++ {
		end := min(off+1000, len(flight))
		server2 = append(server2, sealLong(t, sh, longPacket{typ: PacketHandshake, dcid: testClientID, scid: testServerID, pn: pn, pnLen: 1, payload: cryptoFrame(uint64(off), flight[off:end])})...)
		off = end
	}
	client3 = sealLong(t, ch, longPacket{typ: PacketHandshake, dcid: testServerID, scid: testClientID, pn: 0, payload: cryptoFrame(0, tr.crypto[0][tls.QUICEncryptionLevelHandshake])})
	return
}

// TestMutualTLSHandshakeWithSecrets decrypts the Handshake packets of a
// mutual-TLS handshake with the secrets a key log would give: the server's
// EncryptedExtensions (ALPN, transport parameters), CertificateRequest and
// Certificate, and the client's Certificate.
func TestMutualTLSHandshakeWithSecrets(t *testing.T) {
	client, server := tlsConfigs(t, true)
	tr := runTLS(t, client, server, clientTransportParameters(), serverTransportParameters(testDCID))
	for _, v := range []Version{Version1, Version2} {
		for _, reordered := range []bool{false, true} {
			name := v.String()
			if reordered {
				name += "/handshake-before-initial"
			}
			t.Run(name, func(t *testing.T) {
				c1, c2, s1, s2, c3 := handshakeDatagrams(t, v, tr)
				var asked []byte
				c := &Connection{HandshakeSecrets: func(random []byte) ([]byte, []byte) {
					asked = random
					return tr.clientHS, tr.serverHS
				}}
				var ev []Event
				ev = append(ev, c.Datagram(true, c1)...)
				ev = append(ev, c.Datagram(true, c2)...)
				if reordered {
					ev = append(ev, c.Datagram(false, s2)...) // held until the ServerHello
					ev = append(ev, c.Datagram(false, s1)...)
				} else {
					ev = append(ev, c.Datagram(false, s1)...)
					ev = append(ev, c.Datagram(false, s2)...)
				}
				ev = append(ev, c.Datagram(true, c3)...)
				msgs := messagesOf(t, ev, false)
				var got []string
				for _, m := range msgs {
					side := "s"
					if slices.ContainsFunc(ev, func(e Event) bool { return e.Message == m && e.FromClient }) {
						side = "c"
					}
					got = append(got, side+string(rune('0'+m.Type/10))+string(rune('0'+m.Type%10)))
				}
				// ClientHello, ServerHello, EncryptedExtensions,
				// CertificateRequest, Certificate, CertificateVerify,
				// Finished; the client's Certificate, CertificateVerify,
				// Finished.
				want := []string{"c01", "s02", "s08", "s13", "s11", "s15", "s20", "c11", "c15", "c20"}
				if !slices.Equal(got, want) {
					t.Fatalf("messages %v, want %v", got, want)
				}
				if len(asked) != 32 {
					t.Errorf("HandshakeSecrets asked with a %d-byte random", len(asked))
				}
				ee, err := dissect.ParseEncryptedExtensions(msgs[2].Body)
				if err != nil || ee.ALPN != "h3" {
					t.Errorf("EncryptedExtensions ALPN %q, %v", ee.ALPN, err)
				}
				for _, e := range ee.Extensions {
					if e.Type == ExtensionQUICTransportParameters {
						tp, err := ParseTransportParameters(e.Data)
						if err != nil || !bytes.Equal(tp.OriginalDestinationConnectionID, testDCID) || tp.ActiveConnectionIDLimit != 4 || len(tp.StatelessResetToken) != 16 {
							t.Errorf("server transport parameters %+v, %v", tp, err)
						}
					}
				}
				cert, err := dissect.ParseCertificate(msgs[7].Body, true)
				if err != nil || len(cert.Certificates) != 1 {
					t.Errorf("client Certificate: %d certificates, %v", len(cert.Certificates), err)
				}
				if !bytes.Equal(c.ServerSCID, testServerID) || c.ServerVersion != v {
					t.Errorf("server scid %x version %v", c.ServerSCID, c.ServerVersion)
				}
				if c.Server.Unopened != 0 || c.Client.Unopened != 0 || c.Server.Handshake < 2 {
					t.Errorf("counts client %+v server %+v", c.Client, c.Server)
				}
			})
		}
	}
}

// TestHandshakeWithoutSecrets: without a key log the Handshake packets are
// counted, not held, and the hellos are still read.
func TestHandshakeWithoutSecrets(t *testing.T) {
	client, server := tlsConfigs(t, false)
	tr := runTLS(t, client, server, clientTransportParameters(), serverTransportParameters(testDCID))
	c1, c2, s1, s2, c3 := handshakeDatagrams(t, Version1, tr)
	c := &Connection{}
	var ev []Event
	for _, d := range []struct {
		client bool
		b      []byte
	}{{true, c1}, {true, c2}, {false, s1}, {false, s2}, {true, c3}} {
		ev = append(ev, c.Datagram(d.client, d.b)...)
	}
	msgs := messagesOf(t, ev, false)
	if len(msgs) != 2 || msgs[0].Type != 1 || msgs[1].Type != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	if c.Server.Handshake == 0 || c.Server.Unopened != c.Server.Handshake || c.Client.Unopened != 1 {
		t.Errorf("counts client %+v server %+v", c.Client, c.Server)
	}
	for _, s := range c.sides {
		if len(s.held) != 0 {
			t.Error("Handshake packets held without a key log")
		}
	}
	// A key log without this connection: packets are held until the
	// ServerHello, then dropped.
	c = &Connection{HandshakeSecrets: func([]byte) ([]byte, []byte) { return nil, nil }}
	c.Datagram(true, c1)
	c.Datagram(true, c2)
	c.Datagram(false, s2)
	if len(c.sides[1].held) == 0 {
		t.Fatal("nothing held before the ServerHello")
	}
	c.Datagram(false, s1)
	if len(c.sides[1].held) != 0 || c.Server.Unopened != c.Server.Handshake {
		t.Errorf("held %d, counts %+v", len(c.sides[1].held), c.Server)
	}
}

// TestRetry follows a Retry: the client's next Initial goes to the Retry's
// SCID, the Initial keys derive from it, and the ClientHello is read again.
// As in the suricata-verify quic-retry capture, the server sends two
// Retries and the client answers the first.
func TestRetry(t *testing.T) {
	client, server := tlsConfigs(t, false)
	tr := runTLS(t, client, server, clientTransportParameters(), serverTransportParameters(testDCID))
	hello := tr.crypto[0][tls.QUICEncryptionLevelInitial]
	retrySCID := []byte{0xee, 1, 2, 3, 4, 5}
	otherSCID := []byte{0xdd, 1, 2, 3}
	for _, v := range []Version{Version1, Version2} {
		t.Run(v.String(), func(t *testing.T) {
			ck, _, _ := InitialKeys(v, testDCID)
			rk, rs, _ := InitialKeys(v, retrySCID)
			first := sealLong(t, ck, longPacket{typ: PacketInitial, dcid: testDCID, scid: testClientID, pn: 0, payload: cryptoFrame(0, hello), padTo: 1400})
			retry1 := retryPacket(t, v, testClientID, retrySCID, []byte("token-1"), testDCID)
			retry2 := retryPacket(t, v, testClientID, otherSCID, []byte("token-2"), testDCID)
			forged := retryPacket(t, v, testClientID, otherSCID, []byte("token-3"), []byte{9, 9, 9, 9, 9, 9, 9, 9})
			again := sealLong(t, rk, longPacket{typ: PacketInitial, dcid: retrySCID, scid: testClientID, token: []byte("token-1"), pn: 1, payload: cryptoFrame(0, hello), padTo: 1400})
			answer := sealLong(t, rs, longPacket{typ: PacketInitial, dcid: testClientID, scid: testServerID, pn: 0, payload: cryptoFrame(0, tr.crypto[1][tls.QUICEncryptionLevelInitial])})

			c := &Connection{}
			var kinds []string
			for _, d := range []struct {
				client bool
				b      []byte
			}{{true, first}, {false, retry1}, {false, retry2}, {false, forged}, {true, again}, {false, retry1}, {false, answer}} {
				for _, e := range c.Datagram(d.client, d.b) {
					k := e.Kind.String()
					if e.Kind == EventMessage {
						k += string(rune('0' + e.Message.Type))
					}
					if e.Kind == EventProblem && !errors.Is(e.Err, ErrRetryIntegrity) {
						t.Errorf("problem: %v", e.Err)
					}
					kinds = append(kinds, k)
				}
			}
			// The late copy of the first Retry is genuine but not followed.
			want := []string{"message1", "retry", "retry", "problem", "message1", "retry", "message2"}
			if !slices.Equal(kinds, want) {
				t.Errorf("events %v, want %v", kinds, want)
			}
			if c.Retries != 3 || !bytes.Equal(c.OriginalDCID, testDCID) || !bytes.Equal(c.InitialDCID, retrySCID) || !bytes.Equal(c.ServerSCID, testServerID) {
				t.Errorf("retries %d original %x keys from %x server %x", c.Retries, c.OriginalDCID, c.InitialDCID, c.ServerSCID)
			}
		})
	}
}

// TestVersionNegotiation: the client tries an unsupported-by-the-server
// version, gets a Version Negotiation packet, and starts again in v1
// with a new Destination Connection ID.
func TestVersionNegotiation(t *testing.T) {
	client, server := tlsConfigs(t, false)
	tr := runTLS(t, client, server, clientTransportParameters(), serverTransportParameters(testDCID))
	hello := tr.crypto[0][tls.QUICEncryptionLevelInitial]
	k2, _, _ := InitialKeys(Version2, testDCID)
	newDCID := []byte{0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab}
	k1, s1, _ := InitialKeys(Version1, newDCID)
	c := &Connection{}
	ev := c.Datagram(true, sealLong(t, k2, longPacket{typ: PacketInitial, dcid: testDCID, scid: testClientID, pn: 0, payload: cryptoFrame(0, hello), padTo: 1400}))
	vn := versionNegotiationPacket(testClientID, testDCID, 0x1a2a3a4a, Version1)
	if !IsLongHeader(vn) || IsClientInitial(vn) {
		t.Error("Version Negotiation packet not recognised")
	}
	ev = append(ev, c.Datagram(false, vn)...)
	ev = append(ev, c.Datagram(true, sealLong(t, k1, longPacket{typ: PacketInitial, dcid: newDCID, scid: testClientID, pn: 0, payload: cryptoFrame(0, hello), padTo: 1400}))...)
	ev = append(ev, c.Datagram(false, sealLong(t, s1, longPacket{typ: PacketInitial, dcid: testClientID, scid: testServerID, pn: 0, payload: cryptoFrame(0, tr.crypto[1][tls.QUICEncryptionLevelInitial])}))...)
	var kinds []string
	for _, e := range ev {
		kinds = append(kinds, e.Kind.String())
		if e.Kind == EventProblem {
			t.Errorf("problem: %v", e.Err)
		}
	}
	if want := []string{"message", "version_negotiation", "message", "message"}; !slices.Equal(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}
	if !slices.Equal(c.VersionNegotiation, []Version{0x1a2a3a4a, Version1}) || c.Version != Version1 || c.ServerVersion != Version1 {
		t.Errorf("negotiation %v version %v/%v", c.VersionNegotiation, c.Version, c.ServerVersion)
	}
	if ev[1].Packet == nil || !bytes.Equal(ev[1].Packet.Raw, vn) || &ev[1].Packet.Raw[0] == &vn[0] {
		t.Error("Version Negotiation event does not hold its own copy of the packet")
	}
}

// TestCompatibleVersionNegotiation: the client sends v1, the server
// answers in v2 (RFC 9368); the server's keys derive from the client's
// DCID with the v2 salt.
func TestCompatibleVersionNegotiation(t *testing.T) {
	client, server := tlsConfigs(t, false)
	tr := runTLS(t, client, server, clientTransportParameters(), serverTransportParameters(testDCID))
	k1, _, _ := InitialKeys(Version1, testDCID)
	_, s2, _ := InitialKeys(Version2, testDCID)
	c := &Connection{}
	ev := c.Datagram(true, sealLong(t, k1, longPacket{typ: PacketInitial, dcid: testDCID, scid: testClientID, pn: 0, payload: cryptoFrame(0, tr.crypto[0][tls.QUICEncryptionLevelInitial]), padTo: 1400}))
	ev = append(ev, c.Datagram(false, sealLong(t, s2, longPacket{typ: PacketInitial, dcid: testClientID, scid: testServerID, pn: 0, payload: cryptoFrame(0, tr.crypto[1][tls.QUICEncryptionLevelInitial])}))...)
	if msgs := messagesOf(t, ev, false); len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	if c.Version != Version1 || c.ServerVersion != Version2 {
		t.Errorf("versions %v/%v", c.Version, c.ServerVersion)
	}
}

// TestConnectionCloseInInitial: a server refusing the handshake with a TLS
// alert in a CONNECTION_CLOSE (RFC 9001 §4.8).
func TestConnectionCloseInInitial(t *testing.T) {
	ck, sk, _ := InitialKeys(Version1, testDCID)
	c := &Connection{}
	c.Datagram(true, sealLong(t, ck, longPacket{typ: PacketInitial, dcid: testDCID, pn: 0, payload: []byte{1}, padTo: 1200}))
	ev := c.Datagram(false, sealLong(t, sk, longPacket{typ: PacketInitial, dcid: nil, scid: testServerID, pn: 0, payload: closeFrame(0x0128, 0x06, "no application protocol")}))
	if len(ev) != 1 || ev[0].Kind != EventConnectionClose {
		t.Fatalf("events %+v", ev)
	}
	alert, ok := ev[0].Close.TLSAlert()
	if !ok || alert != 40 || string(ev[0].Close.Reason) != "no application protocol" || ev[0].Close.FrameType != FrameCrypto {
		t.Errorf("close %v", ev[0].Close)
	}
	if !strings.Contains(ev[0].Close.String(), "0x128") {
		t.Errorf("String %q", ev[0].Close.String())
	}
}

// TestConnectionProblems: what a Connection reports instead of failing.
func TestConnectionProblems(t *testing.T) {
	ck, sk, _ := InitialKeys(Version1, testDCID)
	wrong, _, _ := InitialKeys(Version1, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	for _, tc := range []struct {
		name string
		run  func(c *Connection) []Event
		want string
	}{
		{"server first", func(c *Connection) []Event {
			return c.Datagram(false, sealLong(t, sk, longPacket{typ: PacketInitial, scid: testServerID, payload: []byte{1}}))
		}, "before any client Initial"},
		{"wrong keys", func(c *Connection) []Event {
			return c.Datagram(true, sealLong(t, wrong, longPacket{typ: PacketInitial, dcid: testDCID, payload: []byte{1}, padTo: 1200}))
		}, "did not decrypt"},
		{"stream frame in Initial", func(c *Connection) []Event {
			return c.Datagram(true, sealLong(t, ck, longPacket{typ: PacketInitial, dcid: testDCID, payload: []byte{0x08, 0x00, 'x'}, padTo: 1200}))
		}, "type 0x08 (STREAM): not allowed in Initial packets"},
		{"junk after packet", func(c *Connection) []Event {
			d := sealLong(t, ck, longPacket{typ: PacketInitial, dcid: testDCID, payload: []byte{1}})
			return c.Datagram(true, append(d, 0x01, 0x02))
		}, "not a QUIC packet"},
		{"message too large", func(c *Connection) []Event {
			c.MaxCryptoBuffer = 1024
			return c.Datagram(true, sealLong(t, ck, longPacket{typ: PacketInitial, dcid: testDCID, payload: cryptoFrame(0, []byte{1, 0, 0x10, 0}), padTo: 1200}))
		}, "too large"},
		{"Retry from client", func(c *Connection) []Event {
			return c.Datagram(true, retryPacket(t, Version1, nil, nil, nil, testDCID))
		}, "from the client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := tc.run(&Connection{})
			var errs []string
			for _, e := range ev {
				if e.Kind == EventProblem {
					errs = append(errs, e.Err.Error())
				}
			}
			if len(errs) != 1 || !strings.Contains(errs[0], tc.want) {
				t.Errorf("problems %q, want one with %q", errs, tc.want)
			}
		})
	}
}

// TestTrailingZeros: zero bytes after the last packet of a datagram are
// padding, not a packet.
func TestTrailingZeros(t *testing.T) {
	ck, _, _ := InitialKeys(Version1, testDCID)
	d := sealLong(t, ck, longPacket{typ: PacketInitial, dcid: testDCID, payload: []byte{1}})
	d = append(d, make([]byte, 1200-len(d))...)
	packets, err := SplitDatagram(d)
	if err != nil || len(packets) != 1 {
		t.Fatalf("%d packets, %v", len(packets), err)
	}
	if !IsClientInitial(d) {
		t.Error("zero-padded Initial not recognised")
	}
}
