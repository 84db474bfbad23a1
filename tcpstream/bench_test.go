package tcpstream

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// benchRecv wants limit bytes per direction (0: everything).
type benchRecv struct {
	got   [2]int
	limit [2]int
}

func (r *benchRecv) Data(dir Dir, p []byte, _ time.Time) { r.got[dir] += len(p) }
func (r *benchRecv) Gap(Dir, int, time.Time)             {}
func (r *benchRecv) Note(Dir, string)                    {}
func (r *benchRecv) Wants(dir Dir) bool                  { return r.limit[dir] == 0 || r.got[dir] < r.limit[dir] }
func (r *benchRecv) Close(CloseReason, time.Time)        {}

type benchHandler struct{ limit [2]int }

func (h benchHandler) Open(ConnInfo) Receiver { return &benchRecv{limit: h.limit} }

func BenchmarkInOrder(b *testing.B) {
	for _, bc := range []struct {
		name  string
		limit [2]int
	}{
		{"wants-all", [2]int{0, 0}},
		{"wants-4KB", [2]int{4096, 1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const conns = 4
			a := NewAssembler(benchHandler{bc.limit}, Config{})
			payload := make([]byte, 1460)
			srvAddr := netip.MustParseAddr("192.0.2.1")
			var clients [conns]netip.Addr
			var seqs [conns]uint32
			tcp := &layers.TCP{}
			ts := t0
			send := func(src, dst netip.Addr, sp, dp uint16, syn, ack bool, seq, ackn uint32, p []byte) {
				tcp.SrcPort, tcp.DstPort, tcp.SYN, tcp.ACK, tcp.Seq, tcp.Ack = layers.TCPPort(sp), layers.TCPPort(dp), syn, ack, seq, ackn
				tcp.Payload = p
				a.Segment(ts, src, dst, tcp)
			}
			for i := range conns {
				clients[i] = netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)})
				send(clients[i], srvAddr, 50000, 443, true, false, 100, 0, nil)
				send(srvAddr, clients[i], 443, 50000, true, true, 900, 101, nil)
				send(srvAddr, clients[i], 443, 50000, false, true, 901, 101, []byte("x"))
				seqs[i] = 101
			}
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			b.ResetTimer()
			for n := range b.N {
				i := n % conns
				ts = ts.Add(time.Microsecond)
				send(clients[i], srvAddr, 50000, 443, false, true, seqs[i], 902, payload)
				seqs[i] += uint32(len(payload))
			}
			b.StopTimer()
			st := a.Stats()
			b.ReportMetric(float64(st.Active), "active")
			b.ReportMetric(float64(st.Tombstones), "tombstones")
		})
	}
}

func BenchmarkManyConnections(b *testing.B) {
	const distinct = 100_000
	a := NewAssembler(benchHandler{[2]int{2048, 2048}}, Config{})
	srvAddr := netip.MustParseAddr("192.0.2.1")
	hello := make([]byte, 517)
	reply := make([]byte, 1400)
	tcp := &layers.TCP{}
	ts := t0
	send := func(src, dst netip.Addr, sp, dp uint16, syn, ack, fin bool, seq, ackn uint32, p []byte) {
		tcp.SrcPort, tcp.DstPort, tcp.Seq, tcp.Ack = layers.TCPPort(sp), layers.TCPPort(dp), seq, ackn
		tcp.SYN, tcp.ACK, tcp.FIN = syn, ack, fin
		tcp.Payload = p
		a.Segment(ts, src, dst, tcp)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		i := n % distinct
		c := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		cp := uint16(30000 + i%30000)
		isn, sisn := uint32(n*7919), uint32(n*104729)
		ts = ts.Add(100 * time.Microsecond)
		send(c, srvAddr, cp, 443, true, false, false, isn, 0, nil)
		send(srvAddr, c, 443, cp, true, true, false, sisn, isn+1, nil)
		send(c, srvAddr, cp, 443, false, true, false, isn+1, sisn+1, hello)
		send(srvAddr, c, 443, cp, false, true, false, sisn+1+1400, isn+518, reply) // out of order
		send(srvAddr, c, 443, cp, false, true, false, sisn+1, isn+518, reply)
		send(c, srvAddr, cp, 443, false, true, true, isn+518, sisn+2801, nil)
		send(srvAddr, c, 443, cp, false, true, true, sisn+2801, isn+519, nil)
	}
	b.StopTimer()
	st := a.Stats()
	b.ReportMetric(float64(st.MaxActive), "max-active")
	b.ReportMetric(float64(st.Tombstones), "tombstones")
}
