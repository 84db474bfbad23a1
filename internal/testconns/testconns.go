// Package testconns reassembles the TCP connections of the project's own
// captures for tests and benchmarks (internal/testcap reads the packets).
package testconns

import (
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/internal/testcap"
	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// Conn is one TCP connection's two byte streams, by tcpstream.Dir.
type Conn [2][]byte

// Streams reassembles the TCP connections of the capture at path (a
// testcap.Path), in order of first packet.
func Streams(tb testing.TB, path string) []*Conn {
	tb.Helper()
	var s sink
	a := tcpstream.NewAssembler(&s, tcpstream.Config{})
	testcap.Each(tb, path, func(p *testcap.Packet) {
		if p.TCP {
			a.Segment(p.Segment.Timestamp, p.Segment.Src, p.Segment.Dst, p.Segment.TCP)
		}
	})
	a.FlushAll()
	return s.conns
}

type sink struct{ conns []*Conn }

func (s *sink) Open(tcpstream.ConnInfo) tcpstream.Receiver {
	c := &Conn{}
	s.conns = append(s.conns, c)
	return c
}

func (c *Conn) Data(d tcpstream.Dir, p []byte, _ time.Time) { c[d] = append(c[d], p...) }
func (c *Conn) Gap(tcpstream.Dir, int, time.Time)           {}
func (c *Conn) Note(tcpstream.Dir, string)                  {}
func (c *Conn) Wants(tcpstream.Dir) bool                    { return true }
func (c *Conn) Close(tcpstream.CloseReason, time.Time)      {}
