package tcpstream

import (
	"net/netip"
	"strconv"
	"time"
)

// Endpoint is one side of a TCP connection.
type Endpoint struct {
	Addr netip.Addr
	Port uint16
}

// String formats the endpoint as "10.0.0.1:443" or "[2001:db8::1]:443".
func (e Endpoint) String() string {
	return netip.AddrPortFrom(e.Addr, e.Port).String()
}

// Dir is the direction of a byte stream within a connection.
type Dir uint8

// Directions.
const (
	ClientToServer Dir = 0
	ServerToClient Dir = 1
)

// String returns "client->server" or "server->client".
func (d Dir) String() string {
	switch d {
	case ClientToServer:
		return "client->server"
	case ServerToClient:
		return "server->client"
	}
	return "Dir(" + strconv.Itoa(int(d)) + ")"
}

// ConnInfo describes a connection when it is opened.
type ConnInfo struct {
	ID             uint64 // the number of its first packet (Assembler.NumberPacket), else 1, 2, 3… in order of first packet
	Client, Server Endpoint
	// SawSYN is true when the roles come from the handshake (the first
	// packet was a SYN or a SYN-ACK). When false they are guessed: the first
	// packet's sender is the client, unless only the lower port looks like a
	// server (source port < 1024 and destination port >= 1024).
	SawSYN bool
	Start  time.Time // timestamp of the first packet
}

// Receiver consumes one connection's reassembled streams. Its methods are
// called synchronously from Assembler methods and must not call back into
// the Assembler.
type Receiver interface {
	// Data delivers in-order bytes; p is only valid during the call.
	Data(dir Dir, p []byte, ts time.Time)
	// Gap reports n bytes missing before the next Data in dir.
	Gap(dir Dir, n int, ts time.Time)
	// Note reports an anomaly in dir.
	Note(dir Dir, note string)
	// Wants reports whether more bytes of dir are wanted. Once it returns
	// false the direction is never delivered again; when both directions are
	// unwanted the connection's state is freed (a tombstone remains).
	Wants(dir Dir) bool
	// Close is called exactly once, when the connection ends. ts is the
	// time of the packet that ended it, or of the connection's last packet
	// for CloseIdle and CloseEndOfInput.
	Close(reason CloseReason, ts time.Time)
}

// Handler creates a Receiver per connection.
type Handler interface {
	// Open is called on the first packet of a connection. Returning nil
	// ignores the connection (its later packets hit a tombstone).
	Open(info ConnInfo) Receiver
}

// CloseReason says why a connection was closed.
type CloseReason int

// Close reasons.
const (
	CloseFIN        CloseReason = iota // FIN seen in both directions
	CloseRST                           // RST seen
	CloseIdle                          // no packet for Config.IdleTimeout (packet time)
	CloseEvicted                       // Config.MaxConnections exceeded; least recently active
	CloseEndOfInput                    // FlushAll
	CloseReused                        // new SYN on the 4-tuple before the old connection closed
	numCloseReasons
)

var closeReasonNames = [numCloseReasons]string{"fin", "rst", "idle", "evicted", "end-of-input", "reused"}

// String returns a short lower-case name ("fin", "rst", "idle", "evicted",
// "end-of-input", "reused").
func (r CloseReason) String() string {
	if r >= 0 && r < numCloseReasons {
		return closeReasonNames[r]
	}
	return "CloseReason(" + strconv.Itoa(int(r)) + ")"
}

// Config bounds the Assembler. Zero fields take their defaults.
type Config struct {
	// MaxBufferedPerDir is the number of out-of-order bytes held per
	// direction (default 256 KiB). When a segment would exceed it, the
	// oldest hole is skipped (Gap) to make room; a segment that still does
	// not fit is dropped with a Note and becomes part of a later Gap.
	MaxBufferedPerDir int
	// MaxConnections is the number of tracked 4-tuples, live connections
	// and tombstones together (default 1<<17). Beyond it the least recently
	// active entry is evicted (Close(CloseEvicted) if still open), closed
	// connections first.
	MaxConnections int
	// IdleTimeout closes connections and expires tombstones with no packet
	// for this long, in packet time (default 2m).
	IdleTimeout time.Duration
}

// FlushInterval is how often, in packet time, idle connections are looked
// for: often enough for the shorter of the idle timeout and the time a
// closed connection is remembered.
func (c Config) FlushInterval() time.Duration {
	c = c.withDefaults()
	return max(min(c.IdleTimeout, closedLinger)/8, 1)
}

// Defaults for zero Config fields.
const (
	DefaultMaxBufferedPerDir = 256 << 10
	// DefaultMaxConnections keeps tlsinspect below 256 MiB on a flood of
	// a million SYNs (about 160 MiB measured, README "Limits").
	DefaultMaxConnections = 1 << 17
	DefaultIdleTimeout    = 2 * time.Minute
)

func (c Config) withDefaults() Config {
	if c.MaxBufferedPerDir <= 0 {
		c.MaxBufferedPerDir = DefaultMaxBufferedPerDir
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	return c
}

// Stats are cumulative counters plus current gauges.
type Stats struct {
	Packets         uint64                  // segments passed to Segment
	TombstoneHits   uint64                  // packets absorbed by a tombstone (ignored or no longer wanted)
	StrayPackets    uint64                  // RST or SYN-with-different-ISN packets ignored without opening a connection
	Connections     uint64                  // connections opened (IDs handed out), including ignored ones
	Ignored         uint64                  // connections the Handler returned nil for
	MidConnection   uint64                  // connections picked up without a SYN or SYN-ACK
	Reused          uint64                  // new connections started by a SYN on a known 4-tuple
	Active          int                     // connections holding reassembly state now
	MaxActive       int                     // high-water mark of Active
	Tombstones      int                     // tracked 4-tuples without reassembly state now
	Closed          [numCloseReasons]uint64 // Receivers closed, indexed by CloseReason
	BytesDelivered  uint64                  // bytes passed to Data
	BytesIgnored    uint64                  // payload bytes of unwanted directions and tombstones
	BytesDropped    uint64                  // out-of-order bytes dropped because the buffer was full
	Overflows       uint64                  // holes skipped (reported as Gaps) to make room in a full out-of-order buffer
	OutOfOrder      uint64                  // segments buffered ahead of a hole
	Retransmissions uint64                  // segments whose payload had been seen entirely
	PartialOverlaps uint64                  // segments partly overlapping data already seen
	Conflicts       uint64                  // overlaps whose bytes differed from the first copy (the first copy is kept)
	Gaps            uint64                  // Gap calls
	GapBytes        uint64                  // bytes reported missing by Gap
	Notes           uint64                  // Note calls (including suppressed ones)
}

// ClosedBy returns how many Receivers were closed for reason r.
func (s Stats) ClosedBy(r CloseReason) uint64 {
	if r >= 0 && r < numCloseReasons {
		return s.Closed[r]
	}
	return 0
}

// Add accumulates the counters of o into s (runs over several inputs). The
// gauges Active and Tombstones are summed, MaxActive is the larger one.
func (s *Stats) Add(o Stats) {
	s.Packets += o.Packets
	s.TombstoneHits += o.TombstoneHits
	s.StrayPackets += o.StrayPackets
	s.Connections += o.Connections
	s.Ignored += o.Ignored
	s.MidConnection += o.MidConnection
	s.Reused += o.Reused
	s.Active += o.Active
	s.MaxActive = max(s.MaxActive, o.MaxActive)
	s.Tombstones += o.Tombstones
	for i := range s.Closed {
		s.Closed[i] += o.Closed[i]
	}
	s.BytesDelivered += o.BytesDelivered
	s.BytesIgnored += o.BytesIgnored
	s.BytesDropped += o.BytesDropped
	s.Overflows += o.Overflows
	s.OutOfOrder += o.OutOfOrder
	s.Retransmissions += o.Retransmissions
	s.PartialOverlaps += o.PartialOverlaps
	s.Conflicts += o.Conflicts
	s.Gaps += o.Gaps
	s.GapBytes += o.GapBytes
	s.Notes += o.Notes
}
