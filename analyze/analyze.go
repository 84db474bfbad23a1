// Package analyze wires the steps of the data flow together for one packet
// source: capture → packet → tcpstream → tlsconn, then findings on each
// Summary. Commands (offline files, later live capture) and benchmarks use
// it; it holds no logic of its own beyond counting.
package analyze

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/findings"
	"github.com/tlsinspect/tlsinspect/packet"
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
}

// Counts are the figures of one run.
type Counts struct {
	Packets      int
	DecodeErrors int
	TCP          tcpstream.Stats
	TLS          tlsconn.Stats
}

// Add accumulates o into c (for several input files).
func (c *Counts) Add(o Counts) {
	c.Packets += o.Packets
	c.DecodeErrors += o.DecodeErrors
	c.TLS.TCPConnections += o.TLS.TCPConnections
	c.TLS.TLSConnections += o.TLS.TLSConnections
	c.TLS.Handshakes += o.TLS.Handshakes
	c.TLS.Established += o.TLS.Established
	c.TLS.Warnings += o.TLS.Warnings
}

// Source yields packets; capture.FileSource is one.
type Source interface {
	Next() (capture.Packet, error)
}

// Run reads src to its end and calls emit for every handshake summary as
// soon as it is complete. At the end of the source every connection still
// open is reported as it stands. The error is nil at a clean end (io.EOF),
// else the source's error; everything read before it has been reported.
func Run(src Source, cfg Config, emit func(*tlsconn.Summary)) (Counts, error) {
	var c Counts
	withFindings := func(s *tlsconn.Summary) {
		s.Findings = findings.Check(s) // never nil
		emit(s)
	}
	tracker := tlsconn.NewTracker(tlsconn.Config{MaxMessage: cfg.MaxMessage, ScanLimit: cfg.ScanLimit, Messages: cfg.Messages}, withFindings)
	asm := tcpstream.NewAssembler(tracker, tcpstream.Config{MaxBufferedPerDir: cfg.MaxBuffer, IdleTimeout: cfg.IdleTimeout})
	dec := packet.NewDecoder()
	var readErr error
	for {
		p, err := src.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		c.Packets++
		seg, ok, err := dec.Decode(p)
		if err != nil {
			c.DecodeErrors++
			if cfg.DecodeError != nil {
				cfg.DecodeError(err)
			}
			continue
		}
		if ok {
			asm.Segment(seg.Timestamp, seg.Src, seg.Dst, seg.TCP)
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
	if c.DecodeErrors > 0 {
		s += fmt.Sprintf(", %d undecodable packets", c.DecodeErrors)
	}
	return s
}
