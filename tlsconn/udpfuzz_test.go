package tlsconn

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/tlsinspect/tlsinspect/internal/testcap"
	"github.com/tlsinspect/tlsinspect/udpflow"
)

// UDP fuzz input framing: datagrams, each [dir][len hi][len lo][bytes];
// dir bit 0 says the server sent it.
func encodeDatagrams(dgs []fuzzDatagram) []byte {
	var out []byte
	for _, d := range dgs {
		n := min(len(d.b), 0xffff)
		out = append(out, d.dir, byte(n>>8), byte(n))
		out = append(out, d.b[:n]...)
	}
	return out
}

type fuzzDatagram struct {
	dir byte
	b   []byte
}

// captureDatagrams reads the UDP payloads of a capture; the sender of the
// first is the client.
func captureDatagrams(tb testing.TB, path string) []fuzzDatagram {
	tb.Helper()
	var client netip.AddrPort
	var out []fuzzDatagram
	testcap.Each(tb, path, func(p *testcap.Packet) {
		if !p.UDP {
			return
		}
		dg := p.Datagram
		from := netip.AddrPortFrom(dg.Src, dg.SrcPort)
		if !client.IsValid() {
			client = from
		}
		var dir byte
		if from != client {
			dir = 1
		}
		out = append(out, fuzzDatagram{dir, append([]byte(nil), dg.Payload...)})
	})
	return out
}

// FuzzUDPFlows feeds arbitrary datagrams between two endpoints through
// udpflow (DTLS and QUIC are recognised by content) into a Tracker: no
// dissection fails (a contained panic counts as one), and every summary is
// whole and encodes.
func FuzzUDPFlows(f *testing.F) {
	var seeds []string
	for _, dir := range []string{"dtls", "quic"} {
		m, _ := filepath.Glob(testcap.Path(dir + "/*.pcap"))
		seeds = append(seeds, m...)
	}
	if len(seeds) == 0 {
		f.Fatal("no DTLS captures to seed from")
	}
	for _, s := range seeds {
		dgs := captureDatagrams(f, s)
		f.Add(encodeDatagrams(dgs))
		if len(dgs) > 3 {
			f.Add(encodeDatagrams(dgs[:3]))
		}
	}
	clientAP := netip.MustParseAddrPort("192.0.2.1:40000")
	serverAP := netip.MustParseAddrPort("198.51.100.7:4433")
	f.Fuzz(func(t *testing.T, in []byte) {
		var got []*Summary
		tr := NewTracker(Config{MaxMessage: 1 << 16}, func(s *Summary) { got = append(got, s) })
		tab := udpflow.New(tr, udpflow.Config{})
		for i := 0; len(in) >= 3; i++ {
			dir, n := in[0], int(in[1])<<8|int(in[2])
			in = in[3:]
			n = min(n, len(in))
			from, to := clientAP, serverAP
			if dir&1 != 0 {
				from, to = to, from
			}
			tab.Datagram(chunkTime(i), from, to, in[:n])
			in = in[n:]
		}
		tab.FlushAll()
		st := tr.Stats()
		if st.Failed != 0 {
			t.Fatalf("%d flows failed (a panic was contained): %+v", st.Failed, got)
		}
		if st.Handshakes != len(got) {
			t.Errorf("Stats.Handshakes = %d, %d emitted", st.Handshakes, len(got))
		}
		for i, s := range got {
			if s.Transport != "udp" || (s.Protocol != "dtls" && s.Protocol != "quic") {
				t.Errorf("summary %d: transport %q protocol %q", i, s.Transport, s.Protocol)
			}
			if s.ClientVersions == nil || s.ClientCipherSuites == nil || s.ServerCertificates == nil || s.Alerts == nil || s.Warnings == nil {
				t.Errorf("summary %d has a nil slice", i)
			}
			if _, err := json.Marshal(s); err != nil {
				t.Errorf("summary %d: %v", i, err)
			}
		}
	})
}
