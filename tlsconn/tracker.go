package tlsconn

import (
	"fmt"
	"time"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/fingerprint"
	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// Config bounds what the tracker keeps per connection.
type Config struct {
	// MaxMessage bounds one handshake message (dissect.DefaultMaxMessage when zero).
	MaxMessage int
	// ScanLimit is how many bytes of each direction are searched for the
	// start of TLS before the connection is judged not to be TLS.
	ScanLimit int
	// Messages lists every message of each handshake in Summary.Messages
	// (the per-message view).
	Messages bool
	// Keys, when set, holds session secrets (a key log): the handshakes
	// whose secrets it has are decrypted (TLS 1.3 handshakes; TLS 1.0-1.2
	// Finished messages, alerts and renegotiations).
	Keys Keys
	// Panic, when set, is told of each connection whose dissection failed
	// (a recovered panic: a bug), with the panic value and stack (recover.go).
	Panic func(connection uint64, value any, stack []byte)
}

// certCacheSize is how many parsed certificates a Tracker keeps
// (certinfo.Cache): enough for the chains of a busy capture's servers, at
// most about 4 MiB (certinfo.CacheBytesPerEntry each).
const certCacheSize = 1024

// printCacheSize is how many JA3, JA4 and JA3S raw forms a Tracker keeps
// per generation and table (fingerprint.Cache): at most 6 × 512 × 2 KiB in
// all, a few hundred KiB for real hellos.
const printCacheSize = 512

// DefaultScanLimit covers the longest plaintext preambles seen in practice
// (SMTP EHLO/STARTTLS exchanges with long capability lists, HTTP CONNECT).
const DefaultScanLimit = 16 << 10

// Stats counts what the tracker saw.
type Stats struct {
	TCPConnections int // connections opened by the TCP layer
	TLSConnections int // connections in which TLS was found
	Handshakes     int // summaries emitted
	Established    int // summaries with Established set
	Warnings       int // warnings across all summaries
	Oversized      int // handshake messages skipped for being larger than MaxMessage
	Failed         int // connections whose dissection failed (recover.go)
	// Over UDP (udp.go): flows found to carry DTLS or QUIC.
	DTLSConnections int
	QUICConnections int
}

// Tracker implements tcpstream.Handler. It calls Emit with each Summary as
// soon as the handshake is established or its connection ends.
type Tracker struct {
	cfg    Config
	emit   func(*Summary)
	stats  Stats
	certs  *certinfo.Cache    // parsed certificates, shared by the summaries
	prints *fingerprint.Cache // JA3, JA4 and JA3S of repeating hellos
	names  *nameLists         // name lists of repeating hellos
	// CertRequest summaries of repeating CertificateRequest messages.
	certReqs *certRequests
}

// NewTracker returns a Tracker that passes every Summary to emit.
func NewTracker(cfg Config, emit func(*Summary)) *Tracker {
	if cfg.ScanLimit <= 0 {
		cfg.ScanLimit = DefaultScanLimit
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = dissect.DefaultMaxMessage
	}
	return &Tracker{cfg: cfg, emit: emit, certs: certinfo.NewCache(certCacheSize), prints: fingerprint.NewCache(printCacheSize), names: newNameLists(), certReqs: newCertRequests()}
}

// Stats returns the counters so far.
func (t *Tracker) Stats() Stats { return t.stats }

// Open is called by the TCP layer for each new connection.
func (t *Tracker) Open(info tcpstream.ConnInfo) tcpstream.Receiver {
	t.stats.TCPConnections++
	return &lazyConn{t: t, info: info} // limits.go: the conn is made at the first bytes
}

func (t *Tracker) newConn(info tcpstream.ConnInfo) *conn {
	c := &conn{t: t, info: info}
	for i := range c.sides {
		c.sides[i].stream.MaxMessage = t.cfg.MaxMessage
	}
	if !info.SawSYN {
		c.notes = append(c.notes, "no TCP handshake seen: connection picked up mid-stream")
	}
	return c
}

// role is the TLS role of a direction; it can differ from the TCP role
// (FTP active data connections, guessed directions without a SYN).
type role uint8

const (
	client role = 0
	server role = 1
)

func (r role) String() string {
	if r == client {
		return "client"
	}
	return "server"
}

type side struct {
	started  bool   // TLS start found in this direction
	scanned  int    // bytes searched before the start was found
	carry    []byte // tail that may begin a record header
	preamble []byte // first plaintext bytes, for ClassifyPreamble
	stream   dissect.HalfStream
	stopped  bool // parsing stopped (error or gap)
	// sslv2Seen: an SSLv2 record was listed in the per-message view, so
	// the next is no hello.
	sslv2Seen bool
}

type conn struct {
	t       *Tracker
	info    tcpstream.ConnInfo
	swapped bool // TLS client is the TCP "server" side
	rolesOK bool // roles decided by TLS content
	sides   [2]side
	tls     bool // TLS found in either direction
	nonTLS  bool
	done    bool // nothing more wanted
	hs      *handshake
	count   int
	// rec12: TLS 1.0-1.2 records decrypted with a key log (decrypt12.go);
	// helloRequest: the server asked for a renegotiation.
	rec12        *records12
	helloRequest bool
	notes        []string
	ts           time.Time // time of the segment being processed
	failed       bool      // dissection failed (recover.go)
	// proto is "dtls" or "quic" for a flow over UDP (udp.go), "" for TCP.
	proto string
}

const maxPreamble = 512

// TLS reports whether TLS was found on the connection.
func (c *conn) TLS() bool { return c.tls && !c.nonTLS }

func (c *conn) roleOf(dir tcpstream.Dir) role {
	r := role(dir)
	if c.swapped {
		r ^= 1
	}
	return r
}

// Data receives in-order bytes of one direction.
func (c *conn) Data(dir tcpstream.Dir, p []byte, ts time.Time) {
	if c.done || c.nonTLS {
		return
	}
	defer c.contain()
	c.ts = ts
	s := &c.sides[dir]
	if s.stopped {
		return
	}
	if !s.started {
		p = c.scan(dir, p)
		if p == nil {
			return
		}
	}
	c.feed(dir, p)
}

// scan looks for the start of TLS in a direction and returns the bytes from
// that start on, or nil when it has not been found yet.
func (c *conn) scan(dir tcpstream.Dir, p []byte) []byte {
	s := &c.sides[dir]
	// pre is the preamble with the first bytes of p added. While the
	// preamble is empty it is a slice of p, copied into s.preamble only
	// if it is kept (not when TLS starts at the first byte, the usual case).
	pre := s.preamble
	if n := maxPreamble - len(s.preamble); n > 0 {
		if len(s.preamble) == 0 {
			pre = p[:min(n, len(p))]
		} else {
			s.preamble = append(s.preamble, p[:min(n, len(p))]...)
			pre = s.preamble
		}
	}
	keepPre := func(b []byte) {
		switch {
		case len(b) == 0:
			s.preamble = s.preamble[:0]
		case len(s.preamble) == 0:
			s.preamble = append(s.preamble, b...) // b is a slice of p: copy
		default:
			s.preamble = b // a prefix of s.preamble
		}
	}
	if !c.tls && dissect.NotTLS(pre) != "" {
		keepPre(pre)
		c.giveUp(dir) // SSH or plain HTTP: let the connection go at once
		return nil
	}
	buf := p
	if len(s.carry) > 0 {
		buf = append(s.carry, p...)
	}
	off, keep, asClient := c.find(dir, buf)
	if off < 0 {
		keepPre(pre)
		s.scanned += len(p)
		s.carry = append(s.carry[:0], buf[len(buf)-keep:]...)
		if s.scanned > c.t.cfg.ScanLimit {
			c.giveUp(dir)
		}
		return nil
	}
	s.started = true
	// buf[0] is at stream offset scanned-len(carry); TLS starts at off.
	if start := s.scanned - len(s.carry) + off; start < len(pre) {
		pre = pre[:start]
	}
	keepPre(pre)
	s.carry = nil
	if !c.rolesOK {
		r := server
		if asClient {
			r = client
		}
		c.swapped = role(dir) != r
		c.rolesOK = true
	}
	if !c.tls {
		c.tls = true
		c.t.stats.TLSConnections++
	}
	// No copy: HalfStream copies whatever it keeps past the call, and the
	// old carry array is no longer written once carry is reset.
	return buf[off:]
}

// find searches buf for the first TLS bytes that this direction may send.
// asClient tells which role the match implies.
func (c *conn) find(dir tcpstream.Dir, buf []byte) (off, keep int, asClient bool) {
	if c.rolesOK {
		asClient = c.roleOf(dir) == client
		if asClient {
			off, keep = dissect.FindClientHello(buf)
		} else {
			off, keep = dissect.FindServerStart(buf)
		}
		if c.sides[dir^1].started && off < 0 {
			// The other side speaks TLS but this side's first records
			// were not captured: pick it up at any record boundary.
			ro, rk := dissect.FindRecord(buf)
			if ro >= 0 {
				c.note(c.roleOf(dir), "first TLS records not captured: picked up mid-stream")
				return ro, 0, asClient
			}
			keep = max(keep, rk)
		}
		return off, keep, asClient
	}
	co, ck := dissect.FindClientHello(buf)
	if co == 0 {
		return 0, 0, true // the common case: TLS from the first byte
	}
	// A server start before the ClientHello decides the roles instead.
	limit := buf
	if co > 0 {
		limit = buf[:co]
	}
	so, sk := dissect.FindServerStart(limit)
	switch {
	case so >= 0:
		return so, 0, false
	case co > 0:
		return co, 0, true
	}
	return -1, max(ck, sk), false
}

func (c *conn) giveUp(dir tcpstream.Dir) {
	s := &c.sides[dir]
	s.stopped = true
	s.carry = nil
	if !c.tls {
		// Neither side started TLS within the scan limit: not TLS.
		c.nonTLS = true
		c.sides[0].carry, c.sides[1].carry = nil, nil
		return
	}
	c.note(c.roleOf(dir), fmt.Sprintf("no TLS record found in the first %d bytes", s.scanned))
}

func (c *conn) feed(dir tcpstream.Dir, p []byte) {
	s := &c.sides[dir]
	r := c.roleOf(dir)
	err := s.stream.Write(p, func(ev dissect.Event) { c.event(r, ev) })
	if err != nil {
		s.stopped = true
		c.lost(r)
		c.note(r, err.Error())
	}
	if c.hs != nil && !c.hs.emitted && c.hs.complete() {
		c.finish()
		// With the keys of a TLS 1.2 connection, follow it on: a
		// renegotiation (client authentication asked for late) is
		// encrypted under them.
		c.done = !c.rec12.following()
	}
}

// note records a warning on the current handshake, or on the connection
// when no handshake has started.
func (c *conn) note(r role, msg string) {
	msg = r.String() + " stream: " + msg
	if c.hs != nil && !c.hs.emitted {
		c.hs.warn(msg)
		return
	}
	c.notes = append(c.notes, msg)
}

// lost records that role r's later messages in this handshake are unknown.
func (c *conn) lost(r role) {
	if c.hs != nil && !c.hs.emitted {
		c.hs.lost[r] = true
	}
}

// Gap reports bytes lost in a direction.
func (c *conn) Gap(dir tcpstream.Dir, n int, ts time.Time) {
	if c.done || c.nonTLS {
		return
	}
	defer c.contain()
	s := &c.sides[dir]
	if s.stopped {
		return
	}
	what := "an unknown number of"
	if n >= 0 {
		what = fmt.Sprint(n)
	}
	if !s.started {
		// Still looking for the start: the bytes around the gap are unrelated.
		s.carry = s.carry[:0]
		if c.tls {
			c.note(c.roleOf(dir), what+" bytes missing from the capture before this side's first TLS record")
		}
		return
	}
	s.stopped = true
	c.lost(c.roleOf(dir))
	c.note(c.roleOf(dir), fmt.Sprintf("%s bytes missing from the capture; later records not parsed", what))
}

// Note records a TCP-level anomaly.
func (c *conn) Note(dir tcpstream.Dir, note string) {
	if c.done || c.nonTLS {
		return
	}
	defer c.contain()
	r := role(dir)
	if c.rolesOK {
		r = c.roleOf(dir)
	}
	c.note(r, note)
}

// Wants tells the TCP layer whether bytes of a direction are still useful.
// A direction that has switched to encrypted records has nothing more to
// tell, so its bytes stop being buffered before the other side is done.
func (c *conn) Wants(dir tcpstream.Dir) bool {
	if c.done || c.nonTLS || c.sides[dir].stopped {
		return false
	}
	defer c.contain() // a panic returns false
	if h := c.hs; h != nil && !h.emitted && h.decrypt != nil && !h.decrypt.done() {
		return true // following the handshake through its encrypted part
	}
	if c.rec12.following() {
		return true // reading TLS 1.2 records with a key log
	}
	return c.hs == nil || c.hs.emitted || !c.hs.encrypted(c.roleOf(dir))
}

// Close ends the connection; an unfinished handshake is reported as it stands.
func (c *conn) Close(reason tcpstream.CloseReason, ts time.Time) {
	defer func() {
		c.t.stats.Oversized += c.sides[0].stream.Skipped + c.sides[1].stream.Skipped
		c.done = true
		c.sides = [2]side{}
	}()
	defer c.contain()
	c.closeHandshake(reason, ts) // limits.go
}

// begin starts a new handshake summary.
func (c *conn) begin(ts time.Time) {
	c.count++
	cl, sv := c.info.Client, c.info.Server
	if c.swapped {
		cl, sv = sv, cl
	}
	c.hs = &handshake{s: &Summary{
		TS:         ts.UTC(),
		Client:     cl.String(),
		Server:     sv.String(),
		Transport:  "tcp",
		Connection: c.info.ID,
		Handshake:  c.count,
	}}
	if c.proto != "" {
		c.hs.s.Transport, c.hs.s.Protocol = "udp", c.proto
	}
	if c.count == 1 {
		c.hs.s.UpgradedFrom = dissect.ClassifyPreamble(c.sides[c.dirOf(client)].preamble, c.sides[c.dirOf(server)].preamble)
		if c.hs.s.UpgradedFrom == "" && len(c.sides[c.dirOf(client)].preamble) > 0 {
			c.hs.warn(fmt.Sprintf("client sent %d bytes of an unrecognised protocol before TLS", len(c.sides[c.dirOf(client)].preamble)))
		}
		for _, n := range c.notes {
			c.hs.warn(n)
		}
		c.notes = nil
	}
}

func (c *conn) dirOf(r role) tcpstream.Dir {
	if c.swapped {
		return tcpstream.Dir(r ^ 1)
	}
	return tcpstream.Dir(r)
}

// finish completes the current summary and emits it.
func (c *conn) finish() {
	h := c.hs
	h.emitted = true
	s := h.summarize()
	c.t.stats.Handshakes++
	if s.Established {
		c.t.stats.Established++
	}
	c.t.stats.Warnings += len(s.Warnings)
	c.t.emit(s)
}
