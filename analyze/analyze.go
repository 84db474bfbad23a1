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
	"time"

	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/findings"
	"github.com/tlsinspect/tlsinspect/packet"
	"github.com/tlsinspect/tlsinspect/pcapout"
	"github.com/tlsinspect/tlsinspect/tcpstream"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// Config holds the limits of every step.
type Config struct {
	MaxMessage  int           // largest handshake message reassembled
	ScanLimit   int           // bytes searched for the start of TLS per direction
	MaxBuffer   int           // out-of-order bytes held per direction
	IdleTimeout time.Duration // in packet time
	Messages    bool          // list every handshake message in Summary.Messages
	// DecodeError, when set, is called for each packet that cannot be decoded.
	DecodeError func(err error)
	// Handshakes, when set, receives the packets of TLS handshakes (-w).
	Handshakes *pcapout.Writer
	// Match, when set, keeps only the packets it accepts (a capture filter
	// applied to files; live sources filter in the kernel).
	Match func(p capture.Packet) bool
	// Keys, when set, holds session secrets for decrypting TLS 1.3
	// handshakes (key logs).
	Keys tlsconn.Keys
}

// Counts are the figures of one run.
type Counts struct {
	Packets      int
	Filtered     int // packets the capture filter rejected (files only)
	DecodeErrors int
	TCP          tcpstream.Stats
	TLS          tlsconn.Stats
}

// Add accumulates o into c (for several input files).
func (c *Counts) Add(o Counts) {
	c.Packets += o.Packets
	c.Filtered += o.Filtered
	c.DecodeErrors += o.DecodeErrors
	c.TLS.TCPConnections += o.TLS.TCPConnections
	c.TLS.TLSConnections += o.TLS.TLSConnections
	c.TLS.Handshakes += o.TLS.Handshakes
	c.TLS.Established += o.TLS.Established
	c.TLS.Warnings += o.TLS.Warnings
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
func RunContext(ctx context.Context, src Source, cfg Config, emit func(*tlsconn.Summary)) (Counts, error) {
	var c Counts
	withFindings := func(s *tlsconn.Summary) {
		s.Findings = findings.Check(s) // never nil
		emit(s)
	}
	tracker := tlsconn.NewTracker(tlsconn.Config{MaxMessage: cfg.MaxMessage, ScanLimit: cfg.ScanLimit, Messages: cfg.Messages, Keys: cfg.Keys}, withFindings)
	var handler tcpstream.Handler = tracker
	if cfg.Handshakes != nil {
		handler = cfg.Handshakes.Handler(tracker)
	}
	asm := tcpstream.NewAssembler(handler, tcpstream.Config{MaxBufferedPerDir: cfg.MaxBuffer, IdleTimeout: cfg.IdleTimeout})
	dec := packet.NewDecoder()
	done := ctx.Done()
	var readErr error
loop:
	for {
		select {
		case <-done:
			break loop
		default:
		}
		p, err := src.Next()
		if errors.Is(err, capture.ErrNoPacket) {
			// A quiet live link: time still passes for idle connections.
			asm.FlushIdle(time.Now())
			if cfg.Handshakes != nil {
				cfg.Handshakes.Flush()
			}
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		c.Packets++
		if cfg.Match != nil && !cfg.Match(p) {
			c.Filtered++
			continue
		}
		seg, ok, err := dec.Decode(p)
		if err != nil {
			c.DecodeErrors++
			if cfg.DecodeError != nil {
				cfg.DecodeError(err)
			}
			continue
		}
		if ok {
			r := asm.Segment(seg.Timestamp, seg.Src, seg.Dst, seg.TCP)
			if cfg.Handshakes != nil {
				cfg.Handshakes.Packet(p, r)
			}
		}
	}
	asm.FlushAll()
	c.TCP = asm.Stats()
	c.TLS = tracker.Stats()
	return c, readErr
}

// String is the one-line summary printed at the end of a run.
func (c *Counts) String() string {
	s := fmt.Sprintf("%d packets, %d TCP connections, %d TLS connections, %d handshakes (%d completed), %d warnings",
		c.Packets, c.TLS.TCPConnections, c.TLS.TLSConnections, c.TLS.Handshakes, c.TLS.Established, c.TLS.Warnings)
	if c.Filtered > 0 {
		s += fmt.Sprintf(", %d filtered out", c.Filtered)
	}
	if c.DecodeErrors > 0 {
		s += fmt.Sprintf(", %d undecodable packets", c.DecodeErrors)
	}
	return s
}
