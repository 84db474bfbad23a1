// Package udpflow groups UDP datagrams into flows by their 4-tuple and
// hands the flows that carry a TLS handshake over UDP (DTLS or QUIC) to a
// Handler. It decides the roles by content: the client is the sender of the
// first DTLS ClientHello or QUIC client Initial, on any port. Flows whose
// first datagrams are neither are remembered as such, so that the rest of
// their datagrams is dropped with one map lookup.
//
// Time is packet time: a flow is closed once no datagram was seen for
// Config.IdleTimeout. At most Config.MaxFlows flows are held; beyond it the
// least recently seen one is evicted.
package udpflow

import (
	"container/list"
	"net/netip"
	"time"

	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/quic"
	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// Protocol is what a flow carries.
type Protocol uint8

const (
	DTLS Protocol = iota + 1
	QUIC
)

func (p Protocol) String() string {
	switch p {
	case DTLS:
		return "dtls"
	case QUIC:
		return "quic"
	}
	return "unknown"
}

// Defaults of Config.
const (
	DefaultIdleTimeout = 2 * time.Minute
	DefaultMaxFlows    = 100_000
	// DefaultProbe is how many datagrams of a flow are looked at for a
	// client hello before the flow is judged to be something else.
	DefaultProbe = 4
)

// Config bounds a Table.
type Config struct {
	IdleTimeout time.Duration // DefaultIdleTimeout when zero
	MaxFlows    int           // DefaultMaxFlows when zero
	Probe       int           // DefaultProbe when zero
}

// Info describes a flow found to carry DTLS or QUIC.
type Info struct {
	ID             uint64 // the number of the client hello's packet (Table.NumberPacket), else 1, 2, 3… in order of recognition
	Client, Server netip.AddrPort
	Protocol       Protocol
	Start          time.Time // time of the first client hello
}

// Receiver takes one flow's datagrams, from the recognised client hello on.
// Payloads are only valid during the call.
type Receiver interface {
	Datagram(fromClient bool, payload []byte, ts time.Time)
	// Close ends the flow: tcpstream.CloseIdle, CloseEvicted or
	// CloseEndOfInput.
	Close(reason tcpstream.CloseReason, ts time.Time)
}

// Wanter is a Receiver that can tell whether it still wants datagrams (its
// handshake is not over); Table.Datagram asks it before delivering, for
// callers that keep the packets of handshakes (-w).
type Wanter interface {
	Wants() bool
}

// Handler makes a Receiver for each recognised flow.
type Handler interface {
	OpenFlow(info Info) Receiver
}

// Stats counts what a Table saw.
type Stats struct {
	Datagrams int // datagrams given to the table
	Flows     int // flows seen (4-tuples), recognised or not
	DTLS      int // flows recognised as DTLS
	QUIC      int // flows recognised as QUIC
	Ignored   int // flows judged to be neither
	Idle      int // recognised flows closed for being idle
	Evicted   int // flows evicted for MaxFlows (recognised or not)
}

// Add accumulates o into s.
func (s *Stats) Add(o Stats) {
	s.Datagrams += o.Datagrams
	s.Flows += o.Flows
	s.DTLS += o.DTLS
	s.QUIC += o.QUIC
	s.Ignored += o.Ignored
	s.Idle += o.Idle
	s.Evicted += o.Evicted
}

type key struct{ a, b netip.AddrPort } // a < b

type flow struct {
	key    key
	client netip.AddrPort // valid when recv != nil
	recv   Receiver
	probed int // datagrams looked at before recognition; Config.Probe: judged not DTLS/QUIC
	last   time.Time
	elem   *list.Element
}

// Table is the flow table. It is not safe for concurrent use.
type Table struct {
	h     Handler
	cfg   Config
	flows map[key]*flow
	lru   list.List // front: most recently seen
	ids   uint64
	frame uint64 // NumberPacket
	stats Stats
}

// NumberPacket gives the number of the packet whose datagram is passed next
// to Datagram; a flow recognised in it takes it as its Info.ID (see
// tcpstream.Assembler.NumberPacket).
func (t *Table) NumberPacket(n uint64) { t.frame = n }

// New returns a Table handing recognised flows to h.
func New(h Handler, cfg Config) *Table {
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxFlows <= 0 {
		cfg.MaxFlows = DefaultMaxFlows
	}
	if cfg.Probe <= 0 {
		cfg.Probe = DefaultProbe
	}
	return &Table{h: h, cfg: cfg, flows: map[key]*flow{}}
}

// Stats returns the counts so far.
func (t *Table) Stats() Stats { return t.stats }

// Len returns the number of flows held.
func (t *Table) Len() int { return len(t.flows) }

func keyOf(src, dst netip.AddrPort) key {
	if src.Compare(dst) <= 0 {
		return key{src, dst}
	}
	return key{dst, src}
}

// Datagram takes one UDP datagram from src to dst. It returns the Receiver
// of the datagram's flow when the flow is DTLS or QUIC and wanted the
// datagram as it arrived (see Wanter), and nil otherwise.
func (t *Table) Datagram(ts time.Time, src, dst netip.AddrPort, payload []byte) Receiver {
	t.stats.Datagrams++
	k := keyOf(src, dst)
	f := t.flows[k]
	if f == nil {
		if len(t.flows) >= t.cfg.MaxFlows {
			t.evict(ts)
		}
		f = &flow{key: k}
		f.elem = t.lru.PushFront(f)
		t.flows[k] = f
		t.stats.Flows++
	} else {
		t.lru.MoveToFront(f.elem)
	}
	f.last = ts
	switch {
	case f.probed >= t.cfg.Probe:
		return nil
	case f.recv != nil:
		r := f.recv
		if w, ok := r.(Wanter); ok && !w.Wants() {
			r = nil
		}
		f.recv.Datagram(src == f.client, payload, ts)
		return r
	}
	var p Protocol
	switch {
	case quic.IsClientInitial(payload):
		p = QUIC
		t.stats.QUIC++
	case dissect.IsDTLSClientHello(payload):
		p = DTLS
		t.stats.DTLS++
	default:
		if f.probed++; f.probed == t.cfg.Probe {
			t.stats.Ignored++
		}
		return nil
	}
	t.ids++
	id := t.ids
	if t.frame != 0 {
		id = t.frame
	}
	f.client = src
	f.recv = t.h.OpenFlow(Info{ID: id, Client: src, Server: dst, Protocol: p, Start: ts})
	f.recv.Datagram(true, payload, ts)
	return f.recv
}

// expire closes the flows idle at ts.
func (t *Table) expire(ts time.Time) {
	for e := t.lru.Back(); e != nil; e = t.lru.Back() {
		f := e.Value.(*flow)
		if ts.Sub(f.last) <= t.cfg.IdleTimeout {
			return
		}
		if f.recv != nil {
			t.stats.Idle++
		}
		t.remove(f, tcpstream.CloseIdle, f.last.Add(t.cfg.IdleTimeout))
	}
}

// evict removes the least recently seen flow.
func (t *Table) evict(ts time.Time) {
	if e := t.lru.Back(); e != nil {
		t.stats.Evicted++
		t.remove(e.Value.(*flow), tcpstream.CloseEvicted, ts)
	}
}

func (t *Table) remove(f *flow, reason tcpstream.CloseReason, ts time.Time) {
	t.lru.Remove(f.elem)
	delete(t.flows, f.key)
	if f.recv != nil {
		f.recv.Close(reason, ts)
	}
}

// FlushIdle closes the flows idle at now. The caller calls it as packet
// time advances (analyze: every tcpstream.Config.FlushInterval, for TCP and
// UDP alike, and by the wall clock when a live link is quiet); Datagram
// never does.
func (t *Table) FlushIdle(now time.Time) { t.expire(now) }

// FlushAll closes every flow, at the end of the input.
func (t *Table) FlushAll() {
	for e := t.lru.Back(); e != nil; e = t.lru.Back() {
		f := e.Value.(*flow)
		t.remove(f, tcpstream.CloseEndOfInput, f.last)
	}
}
