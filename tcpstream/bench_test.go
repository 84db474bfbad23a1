package tcpstream

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsinspect/tlsinspect/internal/testcap"
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
	every := Config{}.FlushInterval()
	next := ts.Add(every)
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		if ts.After(next) { // as analyze does
			a.FlushIdle(ts)
			next = ts.Add(every)
		}
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

// capSeg is a TCP segment read from a capture, kept for replay.
type capSeg struct {
	ts       time.Time
	src, dst netip.Addr
	tcp      layers.TCP
}

// captureSegments returns the TCP segments of a capture in testdata/pcaps.
func captureSegments(tb testing.TB, name string) []capSeg {
	tb.Helper()
	var segs []capSeg
	testcap.Each(tb, testcap.Path(name), func(p *testcap.Packet) {
		if !p.TCP {
			return
		}
		seg := p.Segment
		s := capSeg{ts: seg.Timestamp, src: seg.Src, dst: seg.Dst, tcp: *seg.TCP}
		s.tcp.Contents, s.tcp.Options, s.tcp.Padding = nil, nil, nil
		s.tcp.Payload = bytes.Clone(seg.TCP.Payload)
		segs = append(segs, s)
	})
	if len(segs) == 0 {
		tb.Fatalf("%s: no TCP segment", name)
	}
	return segs
}

// fanOut copies the segments of a capture's connections n times, each copy
// with its own client address (10.x.y.z): n×conns distinct 4-tuples with
// the real segments (sequence numbers, flags, payloads, timing).
func fanOut(segs []capSeg, serverPort layers.TCPPort, n int) []capSeg {
	out := make([]capSeg, 0, n*len(segs))
	for i := range n {
		client := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		for _, s := range segs {
			if s.tcp.SrcPort == serverPort {
				s.dst = client
			} else {
				s.src = client
			}
			out = append(out, s)
		}
	}
	return out
}

// tombRecv wants every byte, or none (Wants false from the start: what
// tlsconn says once a handshake is over).
type tombRecv struct{ want bool }

func (r tombRecv) Data(Dir, []byte, time.Time)  {}
func (r tombRecv) Gap(Dir, int, time.Time)      {}
func (r tombRecv) Note(Dir, string)             {}
func (r tombRecv) Wants(Dir) bool               { return r.want }
func (r tombRecv) Close(CloseReason, time.Time) {}

type tombHandler struct{ ignore, want bool }

func (h tombHandler) Open(ConnInfo) Receiver {
	if h.ignore {
		return nil
	}
	return tombRecv{h.want}
}

// tombstoneCases are the ways a connection's later packets reach a
// tombstone: it was ignored (the Handler returned nil: not TLS), it is
// finished (closed by FIN both ways or, in this capture, an RST), or its Receiver wants no more bytes (the
// handshake is over) while its FINs are still awaited.
var tombstoneCases = []struct {
	name    string
	handler tombHandler
	skipFIN bool // replay without FIN and RST segments (they would close it)
}{
	{"ignored", tombHandler{ignore: true}, false},
	{"finished", tombHandler{want: true}, false},
	{"unwanted", tombHandler{want: false}, true},
}

// tombstoneSetup runs the segments of 1,000 copies of real connections (a
// Go TLS 1.2 capture: one connection, 18 segments, ended by an RST)
// through an Assembler once, and returns it with the segments to replay:
// each replayed segment hits a tombstone.
func tombstoneSetup(tb testing.TB, h tombHandler, skipFIN bool) (*Assembler, []capSeg) {
	segs := captureSegments(tb, "tls12-ecdhe-go.pcap")
	all := fanOut(segs, segs[0].tcp.DstPort, 1000) // segs[0] is a SYN
	if !segs[0].tcp.SYN || segs[0].tcp.ACK {
		tb.Fatal("the capture does not start with a SYN")
	}
	a := NewAssembler(h, Config{})
	for i := range all {
		s := &all[i]
		a.Segment(s.ts, s.src, s.dst, &s.tcp)
	}
	replay := all[:0:0]
	for _, s := range all {
		if !skipFIN || !s.tcp.FIN && !s.tcp.RST {
			replay = append(replay, s)
		}
	}
	st := a.Stats()
	if st.Active != 0 || st.Tombstones != int(st.Connections) || st.Connections < 1000 {
		tb.Fatalf("after setup: %d active, %d tombstones of %d connections", st.Active, st.Tombstones, st.Connections)
	}
	return a, replay
}

// BenchmarkTombstone is a packet of a connection that is no longer
// followed, given to Segment: one map lookup keyed by the 4-tuple (and the
// activity list's move to front). It must not allocate. BenchmarkAbsorb is
// the analyzer's fast path for the same packets.
func BenchmarkTombstone(b *testing.B) {
	for _, tc := range tombstoneCases {
		b.Run(tc.name, func(b *testing.B) {
			a, replay := tombstoneSetup(b, tc.handler, tc.skipFIN)
			before := a.Stats()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s := &replay[i]
				a.Segment(s.ts, s.src, s.dst, &s.tcp)
				if i++; i == len(replay) {
					i = 0
				}
			}
			st := a.Stats()
			if st.Connections != before.Connections || st.TombstoneHits-before.TombstoneHits != st.Packets-before.Packets {
				b.Fatalf("replayed packets did not all hit tombstones: %+v", st)
			}
		})
	}
}

// BenchmarkAbsorb is Absorb on the segments of BenchmarkTombstone that
// have no SYN, FIN or RST, with their Keys made from the addresses as the
// analyzer makes them from a packet header.
func BenchmarkAbsorb(b *testing.B) {
	for _, tc := range tombstoneCases {
		b.Run(tc.name, func(b *testing.B) {
			a, replay, keys := absorbSetup(b, tc.handler)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s := &replay[i]
				if !a.Absorb(s.ts, KeyOf(keys[i].srcHi, keys[i].srcLo, uint16(s.tcp.SrcPort), keys[i].dstHi, keys[i].dstLo, uint16(s.tcp.DstPort)), len(s.tcp.Payload), false) {
					b.Fatal("not absorbed")
				}
				if i++; i == len(replay) {
					i = 0
				}
			}
		})
	}
}

type segWords struct{ srcHi, srcLo, dstHi, dstLo uint64 }

// absorbSetup is tombstoneSetup keeping the segments without SYN, FIN or
// RST, and their addresses as words.
func absorbSetup(tb testing.TB, h tombHandler) (*Assembler, []capSeg, []segWords) {
	a, replay := tombstoneSetup(tb, h, true)
	replay = slices.DeleteFunc(replay, func(s capSeg) bool { return s.tcp.SYN })
	keys := make([]segWords, len(replay))
	for i, s := range replay {
		keys[i].srcHi, keys[i].srcLo = words(s.src)
		keys[i].dstHi, keys[i].dstLo = words(s.dst)
	}
	return a, replay, keys
}

// TestTombstoneNoAlloc guards BenchmarkTombstone's and BenchmarkAbsorb's
// 0 allocs/op.
func TestTombstoneNoAlloc(t *testing.T) {
	for _, tc := range tombstoneCases {
		a, replay := tombstoneSetup(t, tc.handler, tc.skipFIN)
		before := a.Stats()
		i := 0
		allocs := testing.AllocsPerRun(len(replay), func() {
			s := &replay[i%len(replay)]
			a.Segment(s.ts, s.src, s.dst, &s.tcp)
			i++
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per tombstone packet", tc.name, allocs)
		}
		if st := a.Stats(); st.Connections != before.Connections {
			t.Errorf("%s: replay opened %d connections", tc.name, st.Connections-before.Connections)
		}

		a, replay, keys := absorbSetup(t, tc.handler)
		i = 0
		allocs = testing.AllocsPerRun(len(replay), func() {
			j := i % len(replay)
			s := &replay[j]
			if !a.Absorb(s.ts, KeyOf(keys[j].srcHi, keys[j].srcLo, uint16(s.tcp.SrcPort), keys[j].dstHi, keys[j].dstLo, uint16(s.tcp.DstPort)), len(s.tcp.Payload), false) {
				t.Fatalf("%s: segment %d not absorbed", tc.name, j)
			}
			i++
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per absorbed packet", tc.name, allocs)
		}
	}
}
