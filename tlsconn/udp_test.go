package tlsconn

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/tlsinspect/tlsinspect/internal/testcap"
	"github.com/tlsinspect/tlsinspect/tcpstream"
	"github.com/tlsinspect/tlsinspect/udpflow"
)

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
	dgs := captureDatagrams(t, testcap.Path("dtls/dtls12-mtls-openssl.pcap"))
	// Unchanged, the handshake is read whole.
	info.ID++
	info.Protocol = udpflow.DTLS
	r := tr.OpenFlow(info)
	for _, d := range dgs {
		r.Datagram(d.dir == 0, d.b, t0)
	}
	r.Close(tcpstream.CloseEndOfInput, t0)
	if s := got[len(got)-1]; !s.Established || s.ClientCertSent == nil || !*s.ClientCertSent {
		t.Fatalf("unchanged handshake: %s", dump(s))
	}
	for range 200 {
		info.ID++
		info.Protocol = udpflow.DTLS
		r := tr.OpenFlow(info)
		for _, d := range dgs {
			b := append([]byte(nil), d.b...)
			if len(b) > 0 {
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
			}
			r.Datagram(d.dir == 0, b, t0)
		}
		r.Close(tcpstream.CloseEndOfInput, t0)
	}
	if st := tr.Stats(); st.Failed != 0 || st.DTLSConnections != 202 || st.QUICConnections != 1 {
		t.Fatalf("stats %+v", st)
	}
	reported := map[uint64]bool{}
	for _, s := range got {
		if s.Transport != "udp" || s.Protocol != "dtls" && s.Protocol != "quic" {
			t.Fatalf("transport %q protocol %q", s.Transport, s.Protocol)
		}
		reported[s.Connection] = true
	}
	for id := uint64(1); id <= info.ID; id++ {
		if !reported[id] {
			t.Errorf("flow %d not reported", id)
		}
	}
}
