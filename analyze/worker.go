package analyze

import (
	"cmp"
	"errors"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/findings"
	"github.com/tlsinspect/tlsinspect/packet"
	"github.com/tlsinspect/tlsinspect/tcpstream"
	"github.com/tlsinspect/tlsinspect/tlsconn"
	"github.com/tlsinspect/tlsinspect/udpflow"
)

// A worker follows the connections of its share of the packets: it decodes
// them, reassembles TCP, tracks UDP flows and dissects TLS. What it reports
// is kept, with the place in the input it came from, until the caller takes
// it: one worker's output, or several workers' merged by that place, comes
// out in the same order.
type worker struct {
	cfg     *Config
	dec     *packet.Decoder
	asm     *tcpstream.Assembler
	udp     *udpflow.Table
	tracker *tlsconn.Tracker
	key     uint64 // orderKey of what is being processed
	out     []emission
	c       Counts // the decoding counts
}

// emission is a summary, or an error about a packet, and its place.
type emission struct {
	key  uint64 // orderKey
	conn uint64 // the summary's connection: the order within one key
	s    *tlsconn.Summary
	err  error // a packet that could not be decoded
}

// orderKey places what happens at packet n of the input: idle connections
// flushed before it is processed (flushing), then what the packet itself
// brings. endKey is for what is reported at the end of the input.
func orderKey(n uint64, flushing bool) uint64 {
	if flushing {
		return 2 * n
	}
	return 2*n + 1
}

const endKey = math.MaxUint64

func (e *emission) deliver(cfg *Config, emit func(*tlsconn.Summary)) {
	if e.err != nil {
		if cfg.DecodeError != nil {
			cfg.DecodeError(e.err)
		}
		return
	}
	emit(e.s)
}

// sortEmissions puts emissions in input order; at one place, by connection
// (several at one place come from a flush, or from one connection).
func sortEmissions(es []emission) {
	slices.SortStableFunc(es, func(a, b emission) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.conn, b.conn)
	})
}

// newWorker returns a worker tracking at most maxFlows connections.
func newWorker(cfg *Config, maxFlows int) *worker {
	w := &worker{cfg: cfg, dec: packet.NewDecoder()}
	checker := findings.NewChecker() // the tracker's certificates repeat
	w.tracker = tlsconn.NewTracker(tlsconn.Config{MaxMessage: cfg.MaxMessage, ScanLimit: cfg.ScanLimit, Messages: cfg.Messages, Keys: cfg.Keys, Panic: cfg.Panic}, func(s *tlsconn.Summary) {
		s.Findings = checker.Check(s) // never nil
		w.out = append(w.out, emission{key: w.key, conn: s.Connection, s: s})
	})
	var handler tcpstream.Handler = w.tracker
	if cfg.Handshakes != nil {
		handler = cfg.Handshakes.Handler(w.tracker)
	}
	// Idle connections are flushed at the same packets whatever the number
	// of workers: the reader decides when (flushClock).
	w.asm = tcpstream.NewAssembler(handler, tcpstream.Config{MaxBufferedPerDir: cfg.MaxBuffer, IdleTimeout: cfg.IdleTimeout, MaxConnections: maxFlows})
	// UDP flows (DTLS, QUIC) share the TCP limits.
	w.udp = udpflow.New(w.tracker, udpflow.Config{IdleTimeout: cfg.IdleTimeout, MaxFlows: maxFlows})
	return w
}

// take returns what was reported since the last call, in order.
func (w *worker) take() []emission {
	es := w.out
	w.out = nil
	if len(es) > 1 {
		sortEmissions(es)
	}
	return es
}

// flush closes the connections idle at ts, before packet n.
func (w *worker) flush(n uint64, ts time.Time) {
	w.key = orderKey(n, true)
	w.asm.FlushIdle(ts)
	w.udp.FlushIdle(ts)
}

// packet decodes and follows packet n.
func (w *worker) packet(n uint64, p *capture.Packet) {
	var h packet.Header
	if h.Read(p.LinkType, p.Data) {
		r := w.header(n, p, &h)
		if w.cfg.Handshakes != nil {
			w.cfg.Handshakes.Packet(*p, r)
		}
		return
	}
	w.layers(n, p)
}

// layers decodes packet n, which Header.Read did not read, with the
// layers, and follows it.
func (w *worker) layers(n uint64, p *capture.Packet) {
	w.key = orderKey(n, false)
	seg, ok, err := w.dec.DecodeLayers(*p)
	if !countDecode(&w.c, *p, err) {
		w.out = append(w.out, emission{key: w.key, err: err})
		return
	}
	switch {
	case ok:
		r := w.segment(n, &seg)
		if w.cfg.Handshakes != nil {
			w.cfg.Handshakes.Packet(*p, r)
		}
	default:
		if dg, ok := w.dec.Datagram(); ok {
			r := w.datagram(n, dg)
			if w.cfg.Handshakes != nil {
				w.cfg.Handshakes.Datagram(*p, r)
			}
		}
	}
}

// header follows packet n, a plain TCP segment whose header was read, and
// returns what tcpstream.Assembler.Segment does. Most packets of a long
// capture belong to connections no longer followed: those are absorbed by
// one lookup, without decoding the segment.
func (w *worker) header(n uint64, p *capture.Packet, h *packet.Header) tcpstream.Receiver {
	w.c.Decodable++
	if w.asm.Absorb(p.Timestamp, tcpstream.KeyOf(h.Endpoints()), h.PayloadLen(), h.Control()) {
		return nil
	}
	seg := w.dec.DecodeHeader(*p, h)
	return w.segment(n, &seg)
}

// segment follows packet n, a TCP segment, and returns what
// tcpstream.Assembler.Segment does.
func (w *worker) segment(n uint64, seg *packet.Segment) tcpstream.Receiver {
	w.key = orderKey(n, false)
	w.asm.NumberPacket(n)
	return w.asm.Segment(seg.Timestamp, seg.Src, seg.Dst, seg.TCP)
}

func (w *worker) datagram(n uint64, dg packet.Datagram) udpflow.Receiver {
	w.key = orderKey(n, false)
	w.udp.NumberPacket(n)
	return w.udp.Datagram(dg.Timestamp, netip.AddrPortFrom(dg.Src, dg.SrcPort), netip.AddrPortFrom(dg.Dst, dg.DstPort), dg.Payload)
}

// end reports every connection still open.
func (w *worker) end() {
	w.key = endKey
	w.asm.FlushAll()
	w.udp.FlushAll()
}

// counts adds the worker's figures to c.
func (w *worker) counts(c *Counts) {
	w.c.FragmentBytesDropped = w.dec.Stats().FragmentBytesDropped + w.dec.PendingFragmentBytes()
	w.c.TCP = w.asm.Stats()
	w.c.TLS = w.tracker.Stats()
	w.c.UDP = w.udp.Stats()
	c.Add(w.c)
}

// countDecode counts the outcome of decoding p; it reports whether err is
// nil.
func countDecode(c *Counts, p capture.Packet, err error) bool {
	if errors.Is(err, packet.ErrUnsupportedLinkType) {
		if c.UnsupportedLinkTypes == nil {
			c.UnsupportedLinkTypes = map[layers.LinkType]int{}
		}
		c.UnsupportedLinkTypes[p.LinkType]++
	} else {
		c.Decodable++
	}
	if err != nil {
		c.DecodeErrors++
		return false
	}
	return true
}

// flushClock says when, in packet time, idle connections are looked for:
// every tcpstream.Config.FlushInterval from the first packet.
type flushClock struct {
	every   int64 // ns
	next    int64 // Unix ns of the next flush
	started bool
}

func newFlushClock(cfg *Config) flushClock {
	return flushClock{every: int64(tcpstream.Config{IdleTimeout: cfg.IdleTimeout}.FlushInterval())}
}

func (f *flushClock) due(ts time.Time) bool {
	t := ts.UnixNano()
	if !f.started {
		f.next, f.started = t+f.every, true
		return false
	}
	if t < f.next {
		return false
	}
	f.next = t + f.every
	return true
}
