package tlsconn

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsinspect/tlsinspect/tcpstream"
	"github.com/tlsinspect/tlsinspect/udpflow"
)

// dtlsDatagrams reads the UDP payloads of a DTLS test capture with their
// direction (true: from the client, the sender of the first datagram).
func dtlsDatagrams(t *testing.T, name string) (payloads [][]byte, fromClient []bool) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "pcaps", "dtls", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var first []byte
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		// Ethernet or loopback captures: find the IPv4 header by its
		// first byte after the link header.
		off := 0
		for _, o := range []int{14, 16, 4, 0} {
			if len(data) > o+28 && data[o]>>4 == 4 && data[o+9] == 17 {
				off = o
				break
			}
		}
		ihl := int(data[off]&0x0f) * 4
		if first == nil {
			first = append([]byte(nil), data[off+ihl:off+ihl+2]...)
		}
		payloads = append(payloads, data[off+ihl+8:])
		fromClient = append(fromClient, string(data[off+ihl:off+ihl+2]) == string(first)) // by source port
	}
	return payloads, fromClient
}

// TestUDPHostile feeds a DTLS flow and a QUIC flow datagrams of random
// bytes, and a real DTLS handshake with random bytes flipped: no panic
// (Stats.Failed stays 0), and every flow is reported at Close.
func TestUDPHostile(t *testing.T) {
	var got []*Summary
	tr := NewTracker(Config{}, func(s *Summary) { got = append(got, s) })
	rng := rand.New(rand.NewPCG(1, 2))
	info := udpflow.Info{Client: netip.MustParseAddrPort("10.0.0.1:1000"), Server: netip.MustParseAddrPort("10.0.0.2:2000")}
	for _, p := range []udpflow.Protocol{udpflow.DTLS, udpflow.QUIC} {
		info.ID++
		info.Protocol = p
		r := tr.OpenFlow(info)
		for i := range 500 {
			b := make([]byte, rng.IntN(1500))
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			if len(b) > 0 && i%3 == 0 {
				b[0] = 22 // a handshake record type, for DTLS
			}
			r.Datagram(i%2 == 0, b, t0)
		}
		r.Close(tcpstream.CloseEndOfInput, t0)
	}
	payloads, fromClient := dtlsDatagrams(t, "dtls12-mtls-openssl.pcap")
	// Unchanged, the handshake is read whole.
	info.ID++
	info.Protocol = udpflow.DTLS
	r := tr.OpenFlow(info)
	for i, p := range payloads {
		r.Datagram(fromClient[i], p, t0)
	}
	r.Close(tcpstream.CloseEndOfInput, t0)
	if s := got[len(got)-1]; !s.Established || s.ClientCertSent == nil || !*s.ClientCertSent {
		t.Fatalf("unchanged handshake: %s", dump(s))
	}
	for range 200 {
		info.ID++
		info.Protocol = udpflow.DTLS
		r := tr.OpenFlow(info)
		for i, p := range payloads {
			b := append([]byte(nil), p...)
			if len(b) > 0 {
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
			}
			r.Datagram(fromClient[i], b, t0)
		}
		r.Close(tcpstream.CloseEndOfInput, t0)
	}
	if st := tr.Stats(); st.Failed != 0 || st.DTLSConnections != 202 || st.QUICConnections != 1 {
		t.Fatalf("stats %+v", st)
	}
	if len(got) == 0 {
		t.Fatal("nothing reported")
	}
	for _, s := range got {
		if s.Transport != "udp" || s.Protocol != "dtls" && s.Protocol != "quic" {
			t.Fatalf("transport %q protocol %q", s.Transport, s.Protocol)
		}
	}
}
