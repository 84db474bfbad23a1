package tcpstream

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

var (
	cli = Endpoint{netip.MustParseAddr("10.0.0.1"), 40000}
	srv = Endpoint{netip.MustParseAddr("10.0.0.2"), 443}
)

// recorder is a Receiver that renders each direction as a string with gaps
// inline ("hello<gap 5>world").
type recorder struct {
	info    ConnInfo
	stream  [2]strings.Builder
	got     [2]int
	notes   []string
	limit   [2]int // Wants(dir) is false once got[dir] >= limit[dir] (0: unlimited)
	closes  int
	reason  CloseReason
	closeTS time.Time
	after   []string // calls after Close
}

func (r *recorder) Data(dir Dir, p []byte, ts time.Time) {
	if r.closes > 0 {
		r.after = append(r.after, "Data")
	}
	r.stream[dir].Write(p)
	r.got[dir] += len(p)
}

func (r *recorder) Gap(dir Dir, n int, ts time.Time) {
	if r.closes > 0 {
		r.after = append(r.after, "Gap")
	}
	fmt.Fprintf(&r.stream[dir], "<gap %d>", n)
}

func (r *recorder) Note(dir Dir, note string) {
	r.notes = append(r.notes, dir.String()+": "+note)
}

func (r *recorder) Wants(dir Dir) bool {
	return r.limit[dir] == 0 || r.got[dir] < r.limit[dir]
}

func (r *recorder) Close(reason CloseReason, ts time.Time) {
	r.closes++
	r.reason, r.closeTS = reason, ts
}

type handler struct {
	conns  []*recorder
	limit  [2]int
	ignore bool
}

func (h *handler) Open(info ConnInfo) Receiver {
	r := &recorder{info: info, limit: h.limit}
	h.conns = append(h.conns, r)
	if h.ignore {
		return nil
	}
	return r
}

// seg is one test segment. from is 'c' (client to server) or 's'.
type seg struct {
	from  byte
	flags string // letters: S A F R
	seq   uint32
	ack   uint32
	data  string
	at    time.Duration // offset from t0
}

func (s seg) tcp(c, sv Endpoint) (src, dst Endpoint, t *layers.TCP) {
	src, dst = c, sv
	if s.from == 's' {
		src, dst = sv, c
	}
	t = &layers.TCP{
		SrcPort: layers.TCPPort(src.Port),
		DstPort: layers.TCPPort(dst.Port),
		Seq:     s.seq,
		Ack:     s.ack,
		SYN:     strings.Contains(s.flags, "S"),
		ACK:     strings.Contains(s.flags, "A"),
		FIN:     strings.Contains(s.flags, "F"),
		RST:     strings.Contains(s.flags, "R"),
	}
	t.Payload = []byte(s.data)
	return src, dst, t
}

func feed(a *Assembler, c, sv Endpoint, segs []seg) {
	for _, s := range segs {
		src, dst, t := s.tcp(c, sv)
		a.Segment(t0.Add(s.at), src.Addr, dst.Addr, t)
	}
}

// handshake returns SYN, SYN-ACK, ACK with client ISN ci and server ISN si.
func handshake(ci, si uint32) []seg {
	return []seg{
		{from: 'c', flags: "S", seq: ci},
		{from: 's', flags: "SA", seq: si, ack: ci + 1},
		{from: 'c', flags: "A", seq: ci + 1, ack: si + 1},
	}
}

func cat(parts ...[]seg) []seg {
	var out []seg
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
