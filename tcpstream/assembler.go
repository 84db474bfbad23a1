package tcpstream

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// maxWindow is the largest distance ahead of the next expected byte at which
// a segment is accepted: the TCP window cannot exceed 2^30 (RFC 7323).
const maxWindow = 1 << 30

// maxNotesPerConn bounds Note calls per connection; Stats.Notes counts all.
const maxNotesPerConn = 32

// maxFreeStates bounds the free list of reassembly states kept for reuse.
const maxFreeStates = 1024

// recentBytes is how many of the bytes last delivered in a direction are
// kept, to compare a retransmission of them with the first copy: the first
// copy wins, and different bytes are noted. Older bytes are not compared.
const recentBytes = 4 << 10

// Key is a connection's 4-tuple as the Assembler's table holds it: the same
// for both directions, and plain words (no pointer, no padding), which
// connTable hashes and compares word by word: every packet is looked up. An IPv4 address and its IPv4-mapped IPv6 form are the
// same address here, as packet decoding gives them; zones are not kept.
type Key struct {
	aHi, aLo, bHi, bLo uint64 // the lower endpoint's address, then the other's
	ports              uint64 // the lower endpoint's port << 16 | the other's
}

// KeyOf is the Key of a segment from src:srcPort to dst:dstPort. An
// address is its 16 bytes (as netip.Addr.As16 gives them, IPv4 in
// IPv4-mapped form) read as two big-endian words, hi and lo.
func KeyOf(srcHi, srcLo uint64, srcPort uint16, dstHi, dstLo uint64, dstPort uint16) Key {
	k, _ := makeKey16(srcHi, srcLo, srcPort, dstHi, dstLo, dstPort)
	return k
}

// makeKey16 is KeyOf; srcIsA tells whether src is the key's lower endpoint.
func makeKey16(srcHi, srcLo uint64, srcPort uint16, dstHi, dstLo uint64, dstPort uint16) (k Key, srcIsA bool) {
	if dstHi < srcHi || dstHi == srcHi && (dstLo < srcLo || dstLo == srcLo && dstPort < srcPort) {
		return Key{dstHi, dstLo, srcHi, srcLo, uint64(dstPort)<<16 | uint64(srcPort)}, false
	}
	return Key{srcHi, srcLo, dstHi, dstLo, uint64(srcPort)<<16 | uint64(dstPort)}, true
}

func makeKey(src, dst Endpoint) (k Key, srcIsA bool) {
	sHi, sLo := addrWords(src.Addr)
	dHi, dLo := addrWords(dst.Addr)
	return makeKey16(sHi, sLo, src.Port, dHi, dLo, dst.Port)
}

// addrWords is a's As16 bytes as two big-endian words.
func addrWords(a netip.Addr) (hi, lo uint64) {
	if a.Is4() { // the common case, without building 16 bytes
		b := a.As4()
		return 0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(b[:]))
	}
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// conn flags.
const (
	fClientIsA uint8 = 1 << iota // key.a is the client
	fHasISN                      // isn holds the client's ISN
	fFinC2S                      // FIN seen client->server
	fFinS2C                      // FIN seen server->client
	fClosed                      // Receiver closed, or the Handler ignored the connection
)

func finFlag(d Dir) uint8 {
	if d == ClientToServer {
		return fFinC2S
	}
	return fFinS2C
}

// conn is one tracked 4-tuple. With st == nil it is a tombstone: either
// closed/ignored (recv == nil) or no longer wanted but not yet closed
// (recv != nil; FIN and RST are still tracked to report the close reason).
type conn struct {
	key        Key
	prev, next *conn // activity list, least recent first
	last       int64 // packet time of last activity, ns since Assembler.base
	recv       Receiver
	st         *state
	isn        uint32
	flags      uint8
}

func (c *conn) dir(srcIsA bool) Dir {
	if srcIsA == (c.flags&fClientIsA != 0) {
		return ClientToServer
	}
	return ServerToClient
}

// state is the reassembly state of a live connection.
type state struct {
	half  [2]half
	notes int
}

// half is one direction of a live connection.
type half struct {
	ooo      []oooSeg // out-of-order data: sorted, non-overlapping, all after next
	buffered int      // bytes in ooo
	recent   []byte   // the last bytes delivered (at most recentBytes), ending at next
	base     uint32   // sequence number of the stream's first byte
	next     uint32   // next expected sequence number
	isn      uint32   // SYN sequence number when syn
	finSeq   uint32   // sequence number of the FIN when fin
	started  bool     // base/next are set
	syn      bool     // SYN seen
	fin      bool     // FIN seen
	done     bool     // Wants returned false: ignore payload
	wantOK   bool     // Wants returned true and nothing was delivered since
	noted    bool     // buffer-full note given
}

type oooSeg struct {
	seq  uint32
	data []byte
}

// Assembler reassembles TCP connections. It is not safe for concurrent use.
type Assembler struct {
	handler Handler
	cfg     Config
	conns   connTable
	live    connList  // open connections and tombstones not yet closed
	closed  connList  // closed connections: kept briefly for late packets
	base    time.Time // packet time origin; times are stored as ns since base
	baseSec int64     // base.Unix()
	baseSet bool
	nextID  uint64
	frame   uint64 // NumberPacket
	free    []*state
	stats   Stats
}

// NewAssembler returns an Assembler that opens connections through h.
func NewAssembler(h Handler, cfg Config) *Assembler {
	cfg = cfg.withDefaults()
	return &Assembler{
		handler: h,
		cfg:     cfg,
		conns:   newConnTable(),
	}
}

// NumberPacket gives the number of the packet whose segment is passed next
// to Segment (its frame number in the capture). A connection opened by that
// segment takes it as its ConnInfo.ID, which then names the connection
// whatever else is in the capture and however connections are spread over
// Assemblers. Without it, IDs count 1, 2, 3… in order of first packet.
func (a *Assembler) NumberPacket(n uint64) { a.frame = n }

// Stats returns the current counters.
func (a *Assembler) Stats() Stats { return a.stats }

func (a *Assembler) rel(ts time.Time) int64 {
	if !a.baseSet {
		a.base, a.baseSec, a.baseSet = ts, ts.Unix(), true
	}
	// ts.Sub(a.base), without its overflow check (it adds the difference
	// back and compares) unless the times are centuries apart, where Sub
	// saturates.
	if d := ts.Unix() - a.baseSec; -1<<33 < d && d < 1<<33 {
		return d*int64(time.Second) + int64(ts.Nanosecond()-a.base.Nanosecond())
	}
	return int64(ts.Sub(a.base))
}

func (a *Assembler) timeOf(t int64) time.Time { return a.base.Add(time.Duration(t)) }

// Segment processes one TCP segment seen at ts from src to dst. The payload
// is tcp.Payload; it is copied only when it must be buffered out of order.
// It returns the Receiver of the segment's connection when the connection
// still had reassembly state (it wanted bytes) as the segment arrived, and
// nil for segments of ignored, finished or unknown connections: a caller
// that keeps packets (the -w handshake writer) asks it what it is.
func (a *Assembler) Segment(ts time.Time, src, dst netip.Addr, tcp *layers.TCP) Receiver {
	if tcp == nil {
		return nil
	}
	a.stats.Packets++
	t := a.rel(ts)
	s := Endpoint{src, uint16(tcp.SrcPort)}
	d := Endpoint{dst, uint16(tcp.DstPort)}
	key, srcIsA := makeKey(s, d)
	c := a.conns.get(&key)
	if c != nil && tcp.SYN && !tcp.ACK && a.reused(c, srcIsA, tcp.Seq, ts) {
		c = nil
	}
	if c == nil {
		if tcp.RST {
			a.stats.StrayPackets++
			return nil
		}
		c = a.open(key, srcIsA, s, d, ts, t, tcp)
	} else {
		a.touch(c, t)
	}
	if c.st == nil {
		a.tombstone(c, srcIsA, tcp, ts)
		return nil
	}
	r := c.recv
	a.process(c, srcIsA, tcp, ts)
	return r
}

// Absorb is Segment for the commonest packet of a long capture: one
// without SYN, FIN or RST (control false) of a connection no longer
// followed (closed, ignored, or whose Receiver wants nothing more). It
// costs one table lookup by k, the segment's Key, and needs no decoded
// segment. It returns false, having done nothing, for a control segment
// (it can open, reopen or close a connection) or when the connection is
// unknown or still followed: the caller then passes the segment to
// Segment. payload is the length of the segment's payload.
func (a *Assembler) Absorb(ts time.Time, k Key, payload int, control bool) bool {
	if control {
		return false
	}
	c := a.conns.get(&k)
	if c == nil || c.st != nil {
		return false
	}
	// What Segment does for such a packet (no FIN, no RST).
	a.stats.Packets++
	a.touch(c, a.rel(ts))
	a.ignored(payload)
	return true
}

// ignored counts a segment taken by a tombstone.
func (a *Assembler) ignored(payload int) {
	a.stats.TombstoneHits++
	a.stats.BytesIgnored += uint64(payload)
}

// reused decides whether a SYN on a known 4-tuple starts a new connection,
// and if so removes the old entry.
func (a *Assembler) reused(c *conn, srcIsA bool, seq uint32, ts time.Time) bool {
	fromClient := c.dir(srcIsA) == ClientToServer
	if fromClient && c.flags&fHasISN != 0 && seq == c.isn {
		return false // retransmitted SYN
	}
	if st := c.st; st != nil && fromClient && !st.half[ClientToServer].syn {
		h := &st.half[ClientToServer]
		if !h.started || uint32(h.base-(seq+1)) < 1<<20 {
			return false // SYN arriving after the first data: process notes it
		}
	}
	a.stats.Reused++
	a.remove(c, CloseReused, ts)
	return true
}

func (a *Assembler) open(key Key, srcIsA bool, s, d Endpoint, ts time.Time, t int64, tcp *layers.TCP) *conn {
	for a.conns.len() >= a.cfg.MaxConnections {
		oldest := a.closed.head
		if oldest == nil {
			oldest = a.live.head
		}
		if oldest == nil {
			break
		}
		a.remove(oldest, CloseEvicted, ts)
	}
	client, server, clientIsA := s, d, srcIsA
	if (tcp.SYN && tcp.ACK) || (!tcp.SYN && s.Port < 1024 && d.Port >= 1024) {
		client, server, clientIsA = d, s, !srcIsA
	}
	a.nextID++
	id := a.nextID
	if a.frame != 0 {
		id = a.frame
	}
	a.stats.Connections++
	if !tcp.SYN {
		a.stats.MidConnection++
	}
	c := &conn{key: key, last: t}
	if clientIsA {
		c.flags |= fClientIsA
	}
	if tcp.SYN && !tcp.ACK {
		c.isn = tcp.Seq
		c.flags |= fHasISN
	}
	a.conns.put(c)
	r := a.handler.Open(ConnInfo{ID: id, Client: client, Server: server, SawSYN: tcp.SYN, Start: ts})
	if r == nil {
		c.flags |= fClosed
		a.closed.push(c)
		a.stats.Ignored++
		a.stats.Tombstones++
		return c
	}
	a.live.push(c)
	c.recv = r
	c.st = a.newState()
	a.stats.Active++
	if a.stats.Active > a.stats.MaxActive {
		a.stats.MaxActive = a.stats.Active
	}
	return c
}

// tombstone absorbs a packet of a connection without reassembly state.
func (a *Assembler) tombstone(c *conn, srcIsA bool, tcp *layers.TCP, ts time.Time) {
	a.ignored(len(tcp.Payload))
	if c.recv == nil {
		return
	}
	if tcp.RST {
		a.close(c, CloseRST, ts)
		return
	}
	if tcp.FIN {
		c.flags |= finFlag(c.dir(srcIsA))
		if c.flags&(fFinC2S|fFinS2C) == fFinC2S|fFinS2C {
			a.close(c, CloseFIN, ts)
		}
	}
}

// process handles a segment of a live connection.
func (a *Assembler) process(c *conn, srcIsA bool, tcp *layers.TCP, ts time.Time) {
	st := c.st
	dir := c.dir(srcIsA)
	h, peer := &st.half[dir], &st.half[1-dir]
	if tcp.RST {
		a.close(c, CloseRST, ts)
		return
	}
	seq := tcp.Seq
	if tcp.SYN {
		switch {
		case !h.started:
			h.started, h.syn, h.isn = true, true, seq
			h.next, h.base = seq+1, seq+1
		case !h.syn:
			if h.next != h.base || len(h.ooo) > 0 {
				a.note(c, dir, "data before SYN")
			}
			h.syn, h.isn = true, seq
		case seq != h.isn:
			a.stats.StrayPackets++
			a.note(c, dir, "SYN with a different ISN on an open connection ignored")
			return
		}
		if dir == ClientToServer && !tcp.ACK {
			c.isn = seq
			c.flags |= fHasISN
		}
		seq++ // the SYN occupies one sequence number; data (TCP Fast Open) follows
	}
	if tcp.ACK {
		if !peer.started && h.syn {
			// The handshake is known from this side, so its ACK tells where
			// the other side's stream starts even if its SYN was missed.
			peer.started, peer.next, peer.base = true, tcp.Ack, tcp.Ack
			a.note(c, 1-dir, "SYN not seen in this direction: stream start taken from the peer's ACK")
		}
		// The peer's receiver acknowledged bytes beyond a hole we hold data
		// after: the capture lost them and they will not be retransmitted.
		// The ACK must not be beyond the last byte (+FIN) we hold.
		if n := len(peer.ooo); n > 0 && !peer.done {
			last := peer.ooo[n-1].seq + uint32(len(peer.ooo[n-1].data))
			if int32(tcp.Ack-last) <= 1 {
				for len(peer.ooo) > 0 && !peer.done && int32(tcp.Ack-peer.ooo[0].seq) > 0 {
					a.skipHole(c, 1-dir, peer, ts)
				}
			}
		}
	}
	if !h.started {
		h.started, h.next, h.base = true, seq, seq
		a.note(c, dir, "no SYN seen: stream picked up mid-connection")
	}
	if p := tcp.Payload; len(p) > 0 {
		if h.done {
			a.stats.BytesIgnored += uint64(len(p))
		} else {
			a.data(c, dir, h, seq, p, ts)
		}
	}
	if tcp.FIN && !h.fin {
		h.fin, h.finSeq = true, seq+uint32(len(tcp.Payload))
		c.flags |= finFlag(dir)
	}
	if h.fin && peer.fin {
		a.close(c, CloseFIN, ts)
		return
	}
	if st.half[0].done && st.half[1].done {
		a.freeState(c)
	}
}

// wanted asks the Receiver once before data is delivered in a direction.
func (a *Assembler) wanted(c *conn, dir Dir, h *half) bool {
	if h.done {
		return false
	}
	if !h.wantOK {
		if !c.recv.Wants(dir) {
			a.setDone(h)
			return false
		}
		h.wantOK = true
	}
	return true
}

func (a *Assembler) setDone(h *half) {
	// recent keeps its array: it goes back to the free list with the state.
	h.done, h.ooo, h.buffered, h.recent = true, nil, 0, h.recent[:0]
}

// data handles payload p starting at sequence number seq.
func (a *Assembler) data(c *conn, dir Dir, h *half, seq uint32, p []byte, ts time.Time) {
	if !a.wanted(c, dir, h) {
		a.stats.BytesIgnored += uint64(len(p))
		return
	}
	off := int32(seq - h.next)
	if off > maxWindow {
		a.stats.StrayPackets++
		a.note(c, dir, "segment more than 1 GiB beyond the next expected byte ignored")
		return
	}
	if off < 0 {
		n := -int64(off)
		a.compareDelivered(c, dir, h, seq, p[:min(n, int64(len(p)))])
		if n >= int64(len(p)) {
			a.stats.Retransmissions++
			return
		}
		a.stats.PartialOverlaps++
		p, seq, off = p[n:], h.next, 0
	}
	if off > 0 {
		a.stats.OutOfOrder++
		a.buffer(c, dir, h, seq, p, ts)
		return
	}
	if len(h.ooo) > 0 && uint32(len(p)) > h.ooo[0].seq-h.next {
		// In-order data overlapping buffered data: merge so the first copy wins.
		a.insert(c, dir, h, seq, p)
	} else {
		a.deliver(c, dir, h, p, ts)
	}
	a.drain(c, dir, h, ts)
}

// compareDelivered checks old, bytes from seq on that were delivered
// already, against the first copy where it is still remembered.
func (a *Assembler) compareDelivered(c *conn, dir Dir, h *half, seq uint32, old []byte) {
	start := h.next - uint32(len(h.recent)) // sequence number of recent[0]
	i, j := 0, int(int32(seq-start))
	if j < 0 {
		i, j = -j, 0
	}
	for ; i < len(old) && j < len(h.recent); i, j = i+1, j+1 {
		if old[i] != h.recent[j] {
			a.stats.Conflicts++
			a.note(c, dir, "overlapping retransmission with different bytes at seq+"+itoa(int(seq+uint32(i)-h.base))+" (first copy kept)")
			return
		}
	}
}

// remember keeps the tail of the delivered bytes for compareDelivered.
func (h *half) remember(p []byte) {
	if len(p) >= recentBytes {
		h.recent = append(h.recent[:0], p[len(p)-recentBytes:]...)
		return
	}
	if over := len(h.recent) + len(p) - recentBytes; over > 0 {
		h.recent = h.recent[:copy(h.recent, h.recent[over:])]
	}
	h.recent = append(h.recent, p...)
}

func (a *Assembler) deliver(c *conn, dir Dir, h *half, p []byte, ts time.Time) {
	c.recv.Data(dir, p, ts)
	h.remember(p)
	h.next += uint32(len(p))
	a.stats.BytesDelivered += uint64(len(p))
	if !c.recv.Wants(dir) {
		a.setDone(h)
	}
}

func (a *Assembler) gap(c *conn, dir Dir, h *half, n uint32, ts time.Time) {
	c.recv.Gap(dir, int(n), ts)
	h.next += n
	h.recent = h.recent[:0] // the bytes before the gap no longer end at next
	a.stats.Gaps++
	a.stats.GapBytes += uint64(n)
	if !c.recv.Wants(dir) {
		a.setDone(h)
	}
}

// drain delivers buffered segments that have become in order.
func (a *Assembler) drain(c *conn, dir Dir, h *half, ts time.Time) {
	for len(h.ooo) > 0 && !h.done {
		s := h.ooo[0]
		off := int32(s.seq - h.next)
		if off > 0 {
			return
		}
		copy(h.ooo, h.ooo[1:])
		h.ooo[len(h.ooo)-1] = oooSeg{}
		h.ooo = h.ooo[:len(h.ooo)-1]
		h.buffered -= len(s.data)
		if n := -int64(off); n < int64(len(s.data)) {
			a.deliver(c, dir, h, s.data[n:], ts)
		}
	}
	if len(h.ooo) == 0 && cap(h.ooo) > 8 {
		h.ooo = nil
	}
}

// skipHole reports the hole before the first buffered segment as a Gap and
// delivers what follows it.
func (a *Assembler) skipHole(c *conn, dir Dir, h *half, ts time.Time) {
	if len(h.ooo) == 0 || h.done {
		return
	}
	if n := h.ooo[0].seq - h.next; int32(n) > 0 {
		a.gap(c, dir, h, n, ts)
	}
	a.drain(c, dir, h, ts)
}

// buffer stores an out-of-order segment, making room by skipping holes when
// the direction's buffer is full.
func (a *Assembler) buffer(c *conn, dir Dir, h *half, seq uint32, p []byte, ts time.Time) {
	limit := a.cfg.MaxBufferedPerDir
	need := h.uncovered(seq, p)
	for need > 0 && h.buffered+need > limit && len(h.ooo) > 0 {
		if !h.noted {
			h.noted = true
			a.note(c, dir, "out-of-order buffer full (--max-buffer): skipping a hole")
		}
		a.stats.Overflows++
		a.skipHole(c, dir, h, ts)
		if h.done {
			return
		}
		if int32(seq-h.next) <= 0 {
			a.data(c, dir, h, seq, p, ts) // now in order (or old)
			return
		}
		need = h.uncovered(seq, p)
	}
	if h.buffered+need > limit {
		a.stats.BytesDropped += uint64(need)
		a.note(c, dir, "out-of-order buffer full (--max-buffer): dropped "+itoa(need)+" bytes at seq+"+itoa(int(seq-h.base)))
		return
	}
	a.insert(c, dir, h, seq, p)
}

// uncovered counts the bytes of [seq, seq+len(p)) not already buffered.
func (h *half) uncovered(seq uint32, p []byte) int {
	start := int(seq - h.next)
	end := start + len(p)
	n := 0
	cur := start
	for _, s := range h.ooo {
		si := int(s.seq - h.next)
		ei := si + len(s.data)
		if ei <= cur {
			continue
		}
		if si >= end {
			break
		}
		if si > cur {
			n += si - cur
		}
		cur = min(ei, end)
		if cur >= end {
			break
		}
	}
	if cur < end {
		n += end - cur
	}
	return n
}

// insert copies the parts of [seq, seq+len(p)) not yet buffered into the
// sorted buffer. Overlapping parts keep the first copy; differing bytes are
// counted and noted.
func (a *Assembler) insert(c *conn, dir Dir, h *half, seq uint32, p []byte) {
	start := int(seq - h.next)
	end := start + len(p)
	cur := start
	added, overlapped := 0, false
	conflictAt := -1
	put := func(i, from, to int) {
		h.ooo = append(h.ooo, oooSeg{})
		copy(h.ooo[i+1:], h.ooo[i:])
		h.ooo[i] = oooSeg{seq: h.next + uint32(from), data: append([]byte(nil), p[from-start:to-start]...)}
		h.buffered += to - from
		added += to - from
	}
	i := 0
	for i < len(h.ooo) && int(h.ooo[i].seq-h.next)+len(h.ooo[i].data) <= cur {
		i++
	}
	for cur < end {
		if i == len(h.ooo) {
			put(i, cur, end)
			break
		}
		s := h.ooo[i]
		si := int(s.seq - h.next)
		ei := si + len(s.data)
		if si >= end {
			put(i, cur, end)
			break
		}
		if si > cur {
			put(i, cur, si)
			i++
			cur = si
		}
		oe := min(ei, end)
		overlapped = true
		if conflictAt < 0 {
			x, y := p[cur-start:oe-start], s.data[cur-si:oe-si]
			for k := range x {
				if x[k] != y[k] {
					conflictAt = cur + k
					break
				}
			}
		}
		cur = oe
		i++
	}
	switch {
	case overlapped && added == 0:
		a.stats.Retransmissions++
	case overlapped:
		a.stats.PartialOverlaps++
	}
	if conflictAt >= 0 {
		a.stats.Conflicts++
		rel := h.next + uint32(conflictAt) - h.base
		a.note(c, dir, "overlapping retransmission with different bytes at seq+"+itoa(int(rel))+" (first copy kept)")
	}
}

// flushHalf skips every remaining hole, including one before a seen FIN.
func (a *Assembler) flushHalf(c *conn, dir Dir, h *half, ts time.Time) {
	for len(h.ooo) > 0 && !h.done {
		a.skipHole(c, dir, h, ts)
	}
	if h.started && h.fin {
		if n := h.finSeq - h.next; int32(n) > 0 && n <= maxWindow && a.wanted(c, dir, h) {
			a.gap(c, dir, h, n, ts)
		}
	}
}

func (a *Assembler) note(c *conn, dir Dir, msg string) {
	a.stats.Notes++
	st := c.st
	if st == nil || c.recv == nil || st.notes > maxNotesPerConn {
		return
	}
	st.notes++
	if st.notes > maxNotesPerConn {
		msg = "further notes suppressed"
	}
	c.recv.Note(dir, msg)
}

// close flushes and closes the Receiver; c stays as a closed tombstone.
func (a *Assembler) close(c *conn, reason CloseReason, ts time.Time) {
	if st := c.st; st != nil {
		a.flushHalf(c, ClientToServer, &st.half[ClientToServer], ts)
		a.flushHalf(c, ServerToClient, &st.half[ServerToClient], ts)
		a.freeState(c)
	}
	if c.flags&fClosed == 0 {
		a.live.unlink(c)
		c.flags |= fClosed
		a.closed.push(c)
	}
	if r := c.recv; r != nil {
		c.recv = nil
		a.stats.Closed[reason]++
		r.Close(reason, ts)
	}
}

// remove closes c if needed and forgets it.
func (a *Assembler) remove(c *conn, reason CloseReason, ts time.Time) {
	a.close(c, reason, ts)
	a.closed.unlink(c)
	a.conns.del(c)
	a.stats.Tombstones--
}

func (a *Assembler) newState() *state {
	if n := len(a.free); n > 0 {
		st := a.free[n-1]
		a.free[n-1] = nil
		a.free = a.free[:n-1]
		return st
	}
	return new(state)
}

// freeState turns c into a tombstone.
func (a *Assembler) freeState(c *conn) {
	st := c.st
	c.st = nil
	r0, r1 := st.half[0].recent[:0], st.half[1].recent[:0]
	*st = state{}
	if len(a.free) < maxFreeStates {
		st.half[0].recent, st.half[1].recent = r0, r1 // reused with the state
		a.free = append(a.free, st)
	}
	a.stats.Active--
	a.stats.Tombstones++
}

// FlushIdle closes connections and expires tombstones that have seen no
// packet for longer than Config.IdleTimeout before now (packet time);
// closed connections are forgotten sooner (closedLinger).
// The caller calls it as packet time advances, every
// Config.FlushInterval (and, for a live source, by the wall clock when no
// packet arrives); Segment never does.
func (a *Assembler) FlushIdle(now time.Time) {
	if a.live.head == nil && a.closed.head == nil {
		return
	}
	a.flushIdle(a.rel(now))
}

// closedLinger is how long a closed connection is remembered, so that late
// retransmissions and ACKs are recognised instead of opening a new
// connection. It is short so that memory follows the connection rate, not
// the rate times the idle timeout.
const closedLinger = 10 * time.Second

func (a *Assembler) flushIdle(t int64) {
	cut := t - int64(a.cfg.IdleTimeout)
	for c := a.live.head; c != nil && c.last < cut; c = a.live.head {
		a.remove(c, CloseIdle, a.timeOf(c.last))
	}
	cut = t - int64(min(closedLinger, a.cfg.IdleTimeout))
	for c := a.closed.head; c != nil && c.last < cut; c = a.closed.head {
		a.remove(c, CloseIdle, a.timeOf(c.last))
	}
}

// FlushAll ends the input: every open connection delivers what it can
// (holes become Gaps) and is closed with CloseEndOfInput; all tombstones are
// dropped. The Assembler can be used again afterwards.
func (a *Assembler) FlushAll() {
	for c := a.live.head; c != nil; c = a.live.head {
		a.remove(c, CloseEndOfInput, a.timeOf(c.last))
	}
	for c := a.closed.head; c != nil; c = a.closed.head {
		a.remove(c, CloseEndOfInput, a.timeOf(c.last))
	}
	a.conns = newConnTable()
}

// connList is a list of connections, least recently active first.
type connList struct{ head, tail *conn }

func (l *connList) push(c *conn) {
	c.prev, c.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
}

func (l *connList) unlink(c *conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
}

func (a *Assembler) touch(c *conn, t int64) {
	if t > c.last {
		c.last = t
	}
	l := &a.live
	if c.flags&fClosed != 0 {
		l = &a.closed
	}
	if l.tail != c {
		l.unlink(c)
		l.push(c)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
