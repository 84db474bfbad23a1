package capgen

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// MSS is the largest TCP payload of a generated segment.
const MSS = 1448

// Options shape a synthesized capture.
type Options struct {
	Seed uint64
	// Concurrency is how many connections are open at once, their packets
	// interleaved (default 50).
	Concurrency int
	// MinBytes and MaxBytes bound the server's response per connection,
	// drawn uniformly and cut at a record boundary (at least one record is
	// kept). Zero MaxBytes replays each entry's whole response.
	MinBytes, MaxBytes int
	// Gap is the mean time between two packets of the capture (default 40µs).
	Gap time.Duration
	// Start is the time of the first packet (default 2026-01-01 UTC).
	Start time.Time
}

// Conn describes one synthesized connection.
type Conn struct {
	Client, Server netip.AddrPort
	Entry          *Entry
	ResponseBytes  int // TLS bytes of the server's response kept
}

// Manifest describes a synthesized capture.
type Manifest struct {
	Conns   []Conn
	Packets int
	Bytes   int64 // bytes written, file header included
	First   time.Time
	Last    time.Time
}

// DefaultStart is the time of the first packet unless Options.Start says
// otherwise. It is fixed, so that a seed gives the same capture.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Write synthesizes n connections from pool into w as a pcap file
// (Ethernet, microsecond timestamps, snap length 65535).
func Write(w io.Writer, pool *Pool, n int, opt Options) (*Manifest, error) {
	if pool == nil || len(pool.Entries) == 0 {
		return nil, errors.New("capgen: empty pool")
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 50
	}
	if opt.Gap <= 0 {
		opt.Gap = 40 * time.Microsecond
	}
	if opt.Start.IsZero() {
		opt.Start = DefaultStart
	}
	if opt.MaxBytes < opt.MinBytes {
		return nil, fmt.Errorf("capgen: MaxBytes %d < MinBytes %d", opt.MaxBytes, opt.MinBytes)
	}
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 1<<20)
	pw := pcapgo.NewWriter(bw)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))
	m := &Manifest{Conns: make([]Conn, 0, n), First: opt.Start}
	s := &serializer{buf: gopacket.NewSerializeBuffer()}
	ts := opt.Start
	var active []*connGen
	started := 0
	for started < n || len(active) > 0 {
		for len(active) < opt.Concurrency && started < n {
			c := newConn(pool, started, rng, opt)
			m.Conns = append(m.Conns, c.Conn)
			active = append(active, c)
			started++
		}
		i := rng.IntN(len(active))
		c := active[i]
		data, err := s.packet(c, &c.pkts[c.next])
		if err != nil {
			return nil, err
		}
		ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}
		if err := pw.WritePacket(ci, data); err != nil {
			return nil, err
		}
		m.Packets++
		m.Last = ts
		ts = ts.Add(time.Duration(rng.Int64N(2*int64(opt.Gap)) + 1))
		c.next++
		if c.next == len(c.pkts) {
			active[i] = active[len(active)-1]
			active = active[:len(active)-1]
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	m.Bytes = cw.n
	return m, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// pkt is one TCP segment of a connection, not yet serialized.
type pkt struct {
	dir           Dir
	syn, fin, ack bool
	seq, ackn     uint32
	payload       []byte
}

type connGen struct {
	Conn
	ipID [2]uint16
	pkts []pkt
	next int
}

// clientAddr gives connection i a distinct client address in 10.0.0.0/8
// (beyond 16M connections the port keeps the 4-tuple distinct).
func clientAddr(i int) netip.AddrPort {
	j := i + 1
	a := netip.AddrFrom4([4]byte{10, byte(j >> 16), byte(j >> 8), byte(j)})
	return netip.AddrPortFrom(a, uint16(32768+i%28000))
}

func newConn(pool *Pool, i int, rng *rand.Rand, opt Options) *connGen {
	e := pool.Entries[rng.IntN(len(pool.Entries))]
	c := &connGen{Conn: Conn{
		Client: clientAddr(i),
		Server: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + e.Index%254)}), 443),
		Entry:  e,
	}}
	c.ipID = [2]uint16{uint16(rng.Uint32()), uint16(rng.Uint32())}

	// The chunks of this connection: the server's response is cut at a
	// record boundary once at least the drawn size is reached.
	limit := -1
	if opt.MaxBytes > 0 {
		limit = opt.MinBytes + rng.IntN(opt.MaxBytes-opt.MinBytes+1)
	}
	var chunks []Chunk
	resp := 0
	for j, ch := range e.Chunks {
		if j >= e.RespStart && j < e.RespEnd && ch.Dir == ServerToClient {
			if limit >= 0 && resp >= limit {
				continue
			}
			resp += len(ch.Data)
		}
		chunks = append(chunks, ch)
	}
	c.ResponseBytes = resp

	// Flights: consecutive writes of one side, sent together.
	isn := [2]uint32{rng.Uint32(), rng.Uint32()}
	next := [2]uint32{isn[0] + 1, isn[1] + 1}
	add := func(p pkt) { c.pkts = append(c.pkts, p) }
	ackFrom := func(d Dir) {
		add(pkt{dir: d, ack: true, seq: next[d], ackn: next[1-d]})
	}
	add(pkt{dir: ClientToServer, syn: true, seq: isn[0]})
	add(pkt{dir: ServerToClient, syn: true, ack: true, seq: isn[1], ackn: next[0]})
	add(pkt{dir: ClientToServer, ack: true, seq: next[0], ackn: next[1]})
	for j := 0; j < len(chunks); {
		d := chunks[j].Dir
		var flight []byte
		for ; j < len(chunks) && chunks[j].Dir == d; j++ {
			flight = append(flight, chunks[j].Data...)
		}
		for k := 0; len(flight) > 0; k++ {
			n := min(len(flight), MSS)
			add(pkt{dir: d, ack: true, seq: next[d], ackn: next[1-d], payload: flight[:n]})
			next[d] += uint32(n)
			flight = flight[n:]
			if k%2 == 1 && len(flight) > 0 {
				ackFrom(1 - d) // delayed ACK: every second full segment
			}
		}
		if j == len(chunks) {
			ackFrom(1 - d) // else the other side's next flight acknowledges it
		}
	}
	// Close: the client's FIN, the server's FIN, the last ACK.
	add(pkt{dir: ClientToServer, fin: true, ack: true, seq: next[0], ackn: next[1]})
	next[0]++
	add(pkt{dir: ServerToClient, fin: true, ack: true, seq: next[1], ackn: next[0]})
	next[1]++
	add(pkt{dir: ClientToServer, ack: true, seq: next[0], ackn: next[1]})
	return c
}

var (
	macClient = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	macServer = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
	mssOption = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}}}
)

type serializer struct {
	buf gopacket.SerializeBuffer
	eth layers.Ethernet
	ip  layers.IPv4
	tcp layers.TCP
}

// packet serializes p of connection c; the result is valid until the next call.
func (s *serializer) packet(c *connGen, p *pkt) ([]byte, error) {
	src, dst := c.Client, c.Server
	smac, dmac := macClient, macServer
	if p.dir == ServerToClient {
		src, dst = dst, src
		smac, dmac = dmac, smac
	}
	s.eth = layers.Ethernet{SrcMAC: smac, DstMAC: dmac, EthernetType: layers.EthernetTypeIPv4}
	sa, da := src.Addr().As4(), dst.Addr().As4()
	c.ipID[p.dir]++
	s.ip = layers.IPv4{Version: 4, IHL: 5, TTL: 64, Flags: layers.IPv4DontFragment, Id: c.ipID[p.dir],
		Protocol: layers.IPProtocolTCP, SrcIP: sa[:], DstIP: da[:]}
	s.tcp = layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: p.seq, Ack: p.ackn, SYN: p.syn, ACK: p.ack, FIN: p.fin, PSH: len(p.payload) > 0, Window: 65535}
	if p.syn {
		s.tcp.Options = mssOption
	}
	if err := s.tcp.SetNetworkLayerForChecksum(&s.ip); err != nil {
		return nil, err
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(s.buf, opts, &s.eth, &s.ip, &s.tcp, gopacket.Payload(p.payload)); err != nil {
		return nil, err
	}
	return s.buf.Bytes(), nil
}
