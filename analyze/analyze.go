// Package analyze wires the steps of the data flow together for one packet
// source: capture → packet → tcpstream → tlsconn, then findings on each
// Summary. Commands (offline files, later live capture) and benchmarks use
// it; it holds no logic of its own beyond counting.
package analyze

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/pcapout"
	"github.com/tlsinspect/tlsinspect/tcpstream"
	"github.com/tlsinspect/tlsinspect/tlsconn"
	"github.com/tlsinspect/tlsinspect/udpflow"
)

// Config holds the limits of every step.
type Config struct {
	MaxMessage  int           // largest handshake message reassembled
	ScanLimit   int           // bytes searched for the start of TLS per direction
	MaxBuffer   int           // out-of-order bytes held per direction
	IdleTimeout time.Duration // in packet time
	MaxFlows    int           // TCP connections tracked at once (tcpstream.Config.MaxConnections)
	Messages    bool          // list every handshake message in Summary.Messages
	// DecodeError, when set, is called for each packet that cannot be decoded.
	DecodeError func(err error)
	// Handshakes, when set, receives the packets of TLS handshakes (-w).
	Handshakes *pcapout.Writer
	// Match, when set, keeps only the packets it accepts (a capture filter
	// applied to files; live sources filter in the kernel).
	Match func(p capture.Packet) bool
	// Keys, when set, holds session secrets (key logs) for decrypting
	// handshakes; see tlsconn.Config.Keys.
	Keys tlsconn.Keys
	// Panic, when set, is told of each connection whose dissection failed
	// (a recovered panic, see tlsconn.Config.Panic). With several Workers
	// it is called from their goroutines, one call at a time.
	Panic func(connection uint64, value any, stack []byte)
	// Workers is the number of goroutines that connections are spread
	// over, by a hash of their addresses and ports, after the packets are
	// read; 0 or 1 for one. It is one when Handshakes is set (the -w
	// file follows connections in packet order). MaxFlows is shared out
	// among them.
	Workers int
	// ReadAhead has a source that can (capture.FileSource) read its file
	// ahead, on a goroutine of its own: worth it when the run leaves a
	// core idle, which its caller knows, and for a pipe, which may stall:
	// with several workers, what they hold is then reported without
	// waiting for more packets.
	ReadAhead bool
	// Share and Shares, when Shares > 1, say that this run reads source
	// Share (0, 1, …) of Shares that split one capture between them (live
	// capture with AF_PACKET fanout). Packets are then numbered Share+1,
	// Share+1+Shares, … so that connection numbers, which are the numbers
	// of their first packets, stay unique across the runs.
	Share, Shares int
}

// number is the number of the nth packet of the source.
func (cfg *Config) number(n int) uint64 {
	if cfg.Shares > 1 {
		return uint64(n-1)*uint64(cfg.Shares) + uint64(cfg.Share) + 1
	}
	return uint64(n)
}

// Counts are the figures of one run.
type Counts struct {
	Packets      int
	Filtered     int // packets the capture filter rejected (files only)
	DecodeErrors int
	// Decodable counts the packets of link types the decoder knows;
	// UnsupportedLinkTypes the others by link type (they are among
	// DecodeErrors).
	Decodable            int
	UnsupportedLinkTypes map[layers.LinkType]int
	// FragmentBytesDropped counts the bytes of IP fragments whose
	// datagram was never completed (packet.MaxPendingFragmentBytes,
	// packet.FragmentTimeout, or the end of the input).
	FragmentBytesDropped int
	TCP                  tcpstream.Stats
	TLS                  tlsconn.Stats
	// UDP counts the UDP flows (DTLS and QUIC are recognised by content).
	UDP udpflow.Stats
}

// Add accumulates o into c (for several input files).
func (c *Counts) Add(o Counts) {
	c.Packets += o.Packets
	c.Filtered += o.Filtered
	c.DecodeErrors += o.DecodeErrors
	c.Decodable += o.Decodable
	for lt, n := range o.UnsupportedLinkTypes {
		if c.UnsupportedLinkTypes == nil {
			c.UnsupportedLinkTypes = map[layers.LinkType]int{}
		}
		c.UnsupportedLinkTypes[lt] += n
	}
	c.FragmentBytesDropped += o.FragmentBytesDropped
	c.TCP.Add(o.TCP)
	c.TLS.Add(o.TLS)
	c.UDP.Add(o.UDP)
}

// Source yields packets; capture.FileSource and capture.LiveSource are.
// A live source returns capture.ErrNoPacket when nothing arrived for a
// while, so that idle connections are reported by the wall clock.
type Source interface {
	Next() (capture.Packet, error)
}

// Run reads src to its end and calls emit for every handshake summary as
// soon as it is complete. At the end of the source every connection still
// open is reported as it stands. The error is nil at a clean end (io.EOF),
// else the source's error; everything read before it has been reported.
func Run(src Source, cfg Config, emit func(*tlsconn.Summary)) (Counts, error) {
	return RunContext(context.Background(), src, cfg, emit)
}

// RunContext is Run that also stops, cleanly, when ctx is done: connections
// in progress are reported as they stand and the error is nil.
//
// With cfg.Workers above 1, connections are spread over that many
// goroutines by flow hash, and the summaries are put back in the order one
// goroutine gives: the output is the same whatever the number of workers.
func RunContext(ctx context.Context, src Source, cfg Config, emit func(*tlsconn.Summary)) (Counts, error) {
	if ra, ok := src.(interface{ ReadAhead() }); ok && cfg.ReadAhead {
		ra.ReadAhead()
	}
	if cfg.Workers > 1 && cfg.Handshakes == nil {
		return runSharded(ctx, src, cfg, emit)
	}
	var c Counts
	w := newWorker(&cfg, cfg.MaxFlows)
	out := func() {
		if len(w.out) == 0 {
			return
		}
		es := w.take()
		for i := range es {
			es[i].deliver(&cfg, emit)
		}
		clear(es)
		w.out = es[:0] // reused: one goroutine, delivered at once
	}
	readErr := readLoop(ctx, src, &cfg, &c, func(n uint64, at time.Time, quiet bool) {
		w.flush(n, at)
		out()
		if quiet && cfg.Handshakes != nil {
			cfg.Handshakes.Flush()
		}
	}, func(n uint64, p *capture.Packet) {
		w.packet(n, p)
		out()
	}, nil) // every report is made as its packet is read: nothing is held
	w.end()
	out()
	w.counts(&c)
	return c, readErr
}

// readLoop reads src to its end, or until ctx is done, for RunContext and
// runSharded alike: it counts packets in c and applies the capture filter.
// flush is called when idle connections are due to be looked for, before
// packet n, at packet time at, or, when a live link is quiet, at the wall
// clock (quiet); follow with each packet the filter keeps and its number.
// batchDone, when not nil, is called after each call of the source's
// Next or NextBatch has been gone through, filtered packets included. The
// error is the source's, nil at a clean end.
func readLoop(ctx context.Context, src Source, cfg *Config, c *Counts, flush func(n uint64, at time.Time, quiet bool), follow func(n uint64, p *capture.Packet), batchDone func()) error {
	clock := newFlushClock(cfg)
	done := ctx.Done()
	// A file source gives packets in batches (capture.FileSource.NextBatch):
	// one call for many packets, most of which need little else.
	bs, batched := src.(batchSource)
	batch := make([]capture.Packet, readBatch)
	since := 64 // packets since ctx was last looked at: look at once
	// A source waiting for more of a pipe gives up when ctx is done (-c N
	// reached while the pipe is quiet), instead of waiting for the pipe.
	if g, ok := src.(interface{ GiveUpOn(<-chan struct{}) }); ok {
		g.GiveUpOn(done)
		defer g.GiveUpOn(nil)
	}
	for {
		if since >= 64 { // cheaper than looking at every packet
			select {
			case <-done:
				return nil
			default:
			}
			since = 0
		}
		var n int
		var err error
		if batched {
			n, err = bs.NextBatch(batch)
		} else if batch[0], err = src.Next(); err == nil {
			n = 1
		}
		if err != nil {
			select {
			case <-done:
				return nil // the error may be the source giving up
			default:
			}
			if errors.Is(err, capture.ErrNoPacket) {
				flush(cfg.number(c.Packets+1), time.Now(), true)
				since = 64 // a quiet link: look at ctx now, it costs nothing
				continue
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		since += n
		for i := range batch[:n] {
			p := &batch[i]
			c.Packets++
			n := cfg.number(c.Packets)
			if clock.due(p.Timestamp) {
				flush(n, p.Timestamp, false)
			}
			if cfg.Match != nil && !cfg.Match(*p) {
				c.Filtered++
				continue
			}
			follow(n, p)
		}
		if batchDone != nil {
			batchDone()
		}
	}
}

// batchSource is a Source that can give several packets at once.
type batchSource interface {
	NextBatch(ps []capture.Packet) (int, error)
}

// readBatch is the most packets read at once: enough to spread the cost of
// a call, few enough that cancellation is seen soon.
const readBatch = 64

// String is the one-line summary printed at the end of a run.
func (c *Counts) String() string {
	udp := ""
	if c.UDP.DTLS+c.UDP.QUIC > 0 {
		udp = fmt.Sprintf(", %d UDP flows, %d DTLS connections, %d QUIC connections", c.UDP.Flows, c.UDP.DTLS, c.UDP.QUIC)
	}
	s := fmt.Sprintf("%d packets, %d TCP connections, %d TLS connections%s, %d handshakes (%d completed), %d warnings",
		c.Packets, c.TLS.TCPConnections, c.TLS.TLSConnections, udp, c.TLS.Handshakes, c.TLS.Established, c.TLS.Warnings)
	if c.Filtered > 0 {
		s += fmt.Sprintf(", %d filtered out", c.Filtered)
	}
	if c.DecodeErrors > 0 {
		s += fmt.Sprintf(", %d undecodable packets", c.DecodeErrors)
	}
	if d := c.Dropped(); len(d) > 0 {
		s += ", " + strings.Join(d, ", ")
	}
	return s
}

// Dropped lists, for the summary line, what the limits (and failures) made
// the run give up, by cause, each naming the flag that sets the limit; only
// causes that occurred are listed. Each connection concerned also says so
// in its warnings when it was a TLS connection.
func (c *Counts) Dropped() []string {
	var d []string
	add := func(n uint64, format string, args ...any) {
		if n > 0 {
			d = append(d, fmt.Sprintf(format, append([]any{n}, args...)...))
		}
	}
	add(c.TCP.ClosedBy(tcpstream.CloseEvicted), "%d connections evicted (--max-flows)")
	add(uint64(c.UDP.Evicted), "%d UDP flows evicted (--max-flows)")
	add(c.TCP.ClosedBy(tcpstream.CloseIdle), "%d connections closed idle (--idle-timeout)")
	switch o, b := c.TCP.Overflows, c.TCP.BytesDropped; {
	case o > 0 && b > 0:
		d = append(d, fmt.Sprintf("%d holes skipped and %d out-of-order bytes dropped (--max-buffer)", o, b))
	case o > 0:
		d = append(d, fmt.Sprintf("%d holes skipped (--max-buffer)", o))
	case b > 0:
		d = append(d, fmt.Sprintf("%d out-of-order bytes dropped (--max-buffer)", b))
	}
	add(uint64(c.TLS.Oversized), "%d oversized handshake messages skipped (--max-message)")
	add(uint64(c.FragmentBytesDropped), "%d bytes of incomplete IP fragments given up")
	add(c.TCP.Conflicts, "%d retransmissions with different bytes (first copy kept)")
	add(uint64(c.TLS.Failed), "%d connections not fully analysed (internal error, see their warnings)")
	return d
}
