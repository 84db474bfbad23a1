package tcpstream

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// split cuts payload (starting at sequence number start) into random
// segments, adds random duplicates and re-segmented retransmissions, and
// shuffles them.
func split(rng *rand.Rand, from byte, start uint32, ack uint32, payload []byte) []seg {
	var segs []seg
	for off := 0; off < len(payload); {
		n := 1 + rng.IntN(1460)
		if rng.IntN(4) == 0 {
			n = 1 + rng.IntN(8)
		}
		n = min(n, len(payload)-off)
		segs = append(segs, seg{from: from, flags: "A", seq: start + uint32(off), ack: ack, data: string(payload[off : off+n])})
		off += n
	}
	for range rng.IntN(len(segs) + 1) {
		// Retransmission with different segmentation but the same bytes.
		off := rng.IntN(len(payload))
		n := min(1+rng.IntN(3000), len(payload)-off)
		segs = append(segs, seg{from: from, flags: "A", seq: start + uint32(off), ack: ack, data: string(payload[off : off+n])})
	}
	rng.Shuffle(len(segs), func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
	return segs
}

func TestRandomSegmentationProperty(t *testing.T) {
	for iter := range 300 {
		rng := rand.New(rand.NewPCG(uint64(iter), 42))
		payload := [2][]byte{make([]byte, rng.IntN(40000)), make([]byte, rng.IntN(20000))}
		for _, p := range payload {
			for i := range p {
				p[i] = byte(rng.Uint32())
			}
		}
		cISN, sISN := rng.Uint32(), rng.Uint32()
		if iter%3 == 0 {
			cISN = 0xFFFFFFFF - uint32(rng.IntN(5000)) // cross 2^32
		}
		c2s := split(rng, 'c', cISN+1, sISN+1, payload[0])
		s2c := split(rng, 's', sISN+1, cISN+1, payload[1])
		// Interleave the two directions randomly.
		var all []seg
		for len(c2s)+len(s2c) > 0 {
			if len(s2c) == 0 || (len(c2s) > 0 && rng.IntN(2) == 0) {
				all, c2s = append(all, c2s[0]), c2s[1:]
			} else {
				all, s2c = append(all, s2c[0]), s2c[1:]
			}
		}
		h := &handler{}
		a := NewAssembler(h, Config{})
		feed(a, cli, srv, cat(handshake(cISN, sISN), all, []seg{
			{from: 'c', flags: "FA", seq: cISN + 1 + uint32(len(payload[0])), ack: sISN + 1},
			{from: 's', flags: "FA", seq: sISN + 1 + uint32(len(payload[1])), ack: cISN + 1},
		}))
		if len(h.conns) != 1 {
			t.Fatalf("iter %d: %d connections", iter, len(h.conns))
		}
		r := h.conns[0]
		for d := range 2 {
			if got := r.stream[d].String(); got != string(payload[d]) {
				t.Fatalf("iter %d dir %d: delivered %d bytes, want %d (equal prefix? %v)", iter, d, len(got), len(payload[d]),
					bytes.HasPrefix(payload[d], []byte(got)))
			}
		}
		if r.closes != 1 || r.reason != CloseFIN {
			t.Fatalf("iter %d: close %d %v", iter, r.closes, r.reason)
		}
		if st := a.Stats(); st.Gaps != 0 || st.Conflicts != 0 || st.Active != 0 {
			t.Fatalf("iter %d: stats %+v", iter, st)
		}
	}
}

// fuzzRecorder checks every delivered byte against the payload the fuzz
// input sent (possibly corrupted by XOR 0xFF) at its stream position.
type fuzzRecorder struct {
	t       *testing.T
	payload []byte
	pos     int
	unwant  bool
	limit   int
	closes  int
	sawSYN  bool
}

func (r *fuzzRecorder) Data(dir Dir, p []byte, _ time.Time) {
	if r.closes > 0 || r.unwant {
		r.t.Fatalf("Data after Close or Wants=false")
	}
	if dir == ClientToServer && r.sawSYN {
		for i, b := range p {
			at := r.pos + i
			// Positions beyond the payload are only reached by the garbage op.
			if at < len(r.payload) && b != r.payload[at] && b != r.payload[at]^0xFF {
				r.t.Fatalf("byte %#x at stream position %d does not match what was sent", b, at)
			}
		}
	}
	if dir == ClientToServer {
		r.pos += len(p)
	}
}

func (r *fuzzRecorder) Gap(dir Dir, n int, _ time.Time) {
	if r.closes > 0 || n <= 0 {
		r.t.Fatalf("bad Gap %d after %d closes", n, r.closes)
	}
	if dir == ClientToServer {
		r.pos += n
	}
}
func (r *fuzzRecorder) Note(Dir, string) {}
func (r *fuzzRecorder) Wants(dir Dir) bool {
	if dir == ClientToServer && r.limit > 0 && r.pos >= r.limit {
		r.unwant = true
		return false
	}
	return true
}
func (r *fuzzRecorder) Close(CloseReason, time.Time) { r.closes++ }

type fuzzHandler struct {
	t       *testing.T
	payload []byte
	limit   int
	conns   []*fuzzRecorder
}

func (h *fuzzHandler) Open(info ConnInfo) Receiver {
	r := &fuzzRecorder{t: h.t, payload: h.payload, limit: h.limit, sawSYN: info.SawSYN && info.Client == cli}
	h.conns = append(h.conns, r)
	return r
}

func FuzzAssembler(f *testing.F) {
	f.Add([]byte{0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0, 10, 1, 0, 20, 10, 1, 0, 0, 20, 3, 0, 0, 0})
	f.Add([]byte{0, 0, 1, 0, 3, 2, 0, 50, 100, 1, 0, 0, 50, 2, 0, 40, 30, 5, 0, 0, 0, 6})
	f.Add([]byte{1, 2, 3, 4, 8, 7, 0, 0, 0, 1, 0, 0, 200, 4, 0, 0, 9, 6, 0, 0, 0, 0})
	// Data, an RST, then more data: absorbed by the closed connection.
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 6, 0, 0, 0, 1, 0, 0, 32, 4, 0})
	payload := make([]byte, 1<<12)
	for i := range payload {
		payload[i] = byte(i*7 + i>>8)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 6 {
			return
		}
		isn := uint32(in[0])<<24 | uint32(in[1])<<16 | uint32(in[2])<<8 | uint32(in[3])
		h := &fuzzHandler{t: t, payload: payload, limit: int(in[4]) * 16}
		cfg := Config{MaxBufferedPerDir: 64 + int(in[5])*8, MaxConnections: 4, IdleTimeout: time.Hour}
		a := NewAssembler(h, cfg)
		// The same segments through Absorb first, as the analyzer gives
		// them: the counters and what the Receivers see must not differ.
		hb := &fuzzHandler{t: t, payload: payload, limit: h.limit}
		b := NewAssembler(hb, cfg)
		in = in[6:]
		send := func(from byte, tcp *layers.TCP) {
			src, dst := cli, srv
			if from == 's' {
				src, dst = srv, cli
			}
			tcp.SrcPort, tcp.DstPort = layers.TCPPort(src.Port), layers.TCPPort(dst.Port)
			a.Segment(t0, src.Addr, dst.Addr, tcp)
			if !b.Absorb(t0, keyOf(src.Addr, dst.Addr, src.Port, dst.Port), len(tcp.Payload), tcp.SYN || tcp.FIN || tcp.RST) {
				b.Segment(t0, src.Addr, dst.Addr, tcp)
			}
			if a.Stats() != b.Stats() {
				t.Fatalf("counters with Segment %+v, with Absorb %+v", a.Stats(), b.Stats())
			}
		}
		send('c', &layers.TCP{SYN: true, Seq: isn})
		for len(in) >= 5 {
			op, off, n := in[0], int(in[1])<<8|int(in[2]), int(in[3])<<3|int(in[4]&7)
			in = in[5:]
			off %= len(payload)
			n = min(n, len(payload)-off)
			data := payload[off : off+n]
			switch op % 8 {
			case 0, 1, 2: // data segment
				send('c', &layers.TCP{ACK: true, Seq: isn + 1 + uint32(off), BaseLayer: layers.BaseLayer{Payload: data}})
			case 3: // corrupted retransmission
				bad := make([]byte, len(data))
				for i := range data {
					bad[i] = data[i] ^ 0xFF
				}
				send('c', &layers.TCP{ACK: true, Seq: isn + 1 + uint32(off), BaseLayer: layers.BaseLayer{Payload: bad}})
			case 4: // server ACK of an arbitrary client position
				send('s', &layers.TCP{ACK: true, Seq: 1, Ack: isn + 1 + uint32(off)})
			case 5: // FIN from either side
				from := byte('c')
				if n&1 == 1 {
					from = 's'
				}
				send(from, &layers.TCP{FIN: true, ACK: true, Seq: isn + 1 + uint32(off)})
			case 6: // RST, or a new connection on the same tuple with a new ISN
				if n&1 == 1 {
					send('s', &layers.TCP{RST: true, Seq: 1})
				} else {
					isn += uint32(off)*7919 + 1
					send('c', &layers.TCP{SYN: true, Seq: isn})
				}
			case 7: // SYN retransmission, or data at a far (possibly out-of-window) sequence number
				if n&1 == 1 {
					send('c', &layers.TCP{SYN: true, Seq: isn})
				} else {
					send('c', &layers.TCP{ACK: true, Seq: isn + 1 + uint32(off)<<20, BaseLayer: layers.BaseLayer{Payload: data}})
				}
			}
		}
		a.FlushAll()
		b.FlushAll()
		for i, r := range h.conns {
			if r.closes != 1 {
				t.Fatalf("conn %d closed %d times", i, r.closes)
			}
		}
		if len(h.conns) != len(hb.conns) {
			t.Fatalf("%d connections with Segment, %d with Absorb", len(h.conns), len(hb.conns))
		}
		for i, r := range h.conns {
			if rb := hb.conns[i]; r.pos != rb.pos || r.closes != rb.closes || r.unwant != rb.unwant {
				t.Fatalf("connection %d: with Segment %+v, with Absorb %+v", i, *r, *rb)
			}
		}
		if st := a.Stats(); st.Active != 0 || st.Tombstones != 0 {
			t.Fatalf("after FlushAll: %+v", st)
		}
	})
}
