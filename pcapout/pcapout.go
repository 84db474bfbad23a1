// Package pcapout writes the packets of TLS handshakes, and not the bulk
// data that follows them, to a pcapng file (`-w`), so that exactly those
// can be opened in Wireshark later.
//
// Which packets belong to a handshake is decided by the layers above: the
// TCP reassembler hands back the Receiver of each segment's connection
// while that connection still wants bytes, and the TLS tracker's Receiver
// says whether TLS was found on it. Packets of a connection are held back
// (a few per connection, a bounded number of connections) until TLS is
// found, so a written connection starts with its TCP handshake and any
// STARTTLS preamble; connections without TLS are never written.
//
// The output may be split into files (-C, -G: see NewRotating); each file
// is a complete pcapng file, and a handshake cut by a new file goes on in
// the next one.
package pcapout

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/tcpstream"
	"github.com/tlsinspect/tlsinspect/udpflow"
)

// Limits on packets held back while a connection is not yet known to be
// TLS. A connection past maxPendingPackets is no longer held (its later
// packets are still written if it turns out to be TLS, and a warning is
// counted); the oldest connection is forgotten past maxPendingConns.
const (
	maxPendingPackets = 32
	maxPendingConns   = 16384
)

// TLSReceiver is what a Receiver must also implement to be written: the
// TLS tracker's connections do.
type TLSReceiver interface {
	tcpstream.Receiver
	TLS() bool
}

type heldPacket struct {
	p    capture.Packet
	data []byte
}

type pending struct {
	packets []heldPacket
	full    bool
}

// Stats counts what the writer did.
type Stats struct {
	Written     int // packets written
	Connections int // connections with at least one packet written
	Overflowed  int // connections whose early packets exceeded maxPendingPackets
	Forgotten   int // connections dropped from the hold-back list (maxPendingConns)
}

// Rotator is an output split into files, such as rotate.File: the Writer
// asks Due before each packet, and on Rotate begins the new file with its
// own section header and interface descriptions.
type Rotator interface {
	io.Writer
	Due() bool
	Rotate() error
	Flush() error
}

// Writer writes handshake packets to one pcapng file, or to a succession
// of them (NewRotating).
type Writer struct {
	out     io.Writer
	rot     Rotator // nil for New
	w       *pcapgo.NgWriter
	ifaces  map[layers.LinkType]int
	snaplen int
	name    string
	pending map[tcpstream.Receiver]*pending
	order   []tcpstream.Receiver // hold-back list, oldest first
	written map[tcpstream.Receiver]bool
	stats   Stats
	err     error
}

// New returns a Writer to out. name describes the capture interface or
// file (pcapng interface name); snaplen is recorded in the file.
func New(out io.Writer, name string, snaplen int) *Writer {
	return &Writer{
		out:     out,
		name:    name,
		snaplen: snaplen,
		ifaces:  map[layers.LinkType]int{},
		pending: map[tcpstream.Receiver]*pending{},
		written: map[tcpstream.Receiver]bool{},
	}
}

// NewRotating returns a Writer to out, a succession of files: it begins a
// new file before a packet whenever out says it is due. Every file is a
// complete pcapng file, and out sees whole blocks (the Writer's buffer is
// flushed into it after each packet, so that its size is exact).
func NewRotating(out Rotator, name string, snaplen int) *Writer {
	w := New(out, name, snaplen)
	w.rot = out
	return w
}

// Packet considers one packet whose TCP segment the reassembler returned r
// for (nil: a connection that wants nothing more, or none).
func (w *Writer) Packet(p capture.Packet, r tcpstream.Receiver) {
	if r == nil || w.err != nil {
		return
	}
	if c, ok := r.(*closeNotifier); ok && c.closed {
		// The segment closed the connection (FIN, RST): write it if the
		// connection is TLS, and keep nothing.
		defer w.forget(r)
	}
	tr, ok := r.(TLSReceiver)
	if !ok {
		return
	}
	if tr.TLS() {
		if pd := w.pending[r]; pd != nil {
			for _, h := range pd.packets {
				w.write(h.p, h.data)
			}
			delete(w.pending, r)
		}
		if !w.written[r] {
			w.written[r] = true
			w.stats.Connections++
		}
		w.write(p, p.Data)
		if !tr.Wants(0) && !tr.Wants(1) {
			// The handshake is over: nothing more of it will be written.
			delete(w.written, r)
		}
		return
	}
	if !tr.Wants(0) && !tr.Wants(1) {
		delete(w.pending, r) // judged not to be TLS
		return
	}
	pd := w.pending[r]
	if pd == nil {
		if len(w.pending) >= maxPendingConns {
			w.forgetOldest()
		}
		pd = &pending{}
		w.pending[r] = pd
		w.order = append(w.order, r)
	}
	if len(pd.packets) >= maxPendingPackets {
		if !pd.full {
			pd.full = true
			w.stats.Overflowed++
		}
		return
	}
	pd.packets = append(pd.packets, heldPacket{p: p, data: append([]byte(nil), p.Data...)})
}

// forgetOldest drops the oldest held-back connection still pending. The
// order list may name connections already resolved; they are skipped.
func (w *Writer) forgetOldest() {
	for len(w.order) > 0 {
		r := w.order[0]
		w.order = w.order[1:]
		if _, ok := w.pending[r]; ok {
			delete(w.pending, r)
			w.stats.Forgotten++
			break
		}
	}
	if cap(w.order) > 4*maxPendingConns {
		w.order = append([]tcpstream.Receiver(nil), w.order...)
	}
}

// Datagram writes the packet of a UDP datagram whose flow is DTLS or QUIC
// and still in its handshake: r is what udpflow.Table.Datagram returned
// for it (nil for other datagrams).
func (w *Writer) Datagram(p capture.Packet, r udpflow.Receiver) {
	if r == nil || w.err != nil {
		return
	}
	w.write(p, p.Data)
}

// Handler wraps the TLS tracker so that the Writer hears of every closed
// connection and forgets it. Its Receivers must implement TLSReceiver.
func (w *Writer) Handler(h tcpstream.Handler) tcpstream.Handler { return handler{h, w} }

type handler struct {
	h tcpstream.Handler
	w *Writer
}

func (h handler) Open(info tcpstream.ConnInfo) tcpstream.Receiver {
	r, ok := h.h.Open(info).(TLSReceiver)
	if !ok || r == nil {
		return nil
	}
	return &closeNotifier{TLSReceiver: r, w: h.w}
}

// closeNotifier tells the Writer when its connection closes.
type closeNotifier struct {
	TLSReceiver
	w      *Writer
	closed bool
}

func (c *closeNotifier) Close(reason tcpstream.CloseReason, ts time.Time) {
	c.TLSReceiver.Close(reason, ts)
	c.closed = true
	c.w.forget(c)
}

func (w *Writer) forget(r tcpstream.Receiver) {
	delete(w.pending, r)
	delete(w.written, r)
}

func (w *Writer) write(p capture.Packet, data []byte) {
	if w.err != nil {
		return
	}
	if w.rot != nil && w.rot.Due() {
		// The pcapgo writer holds nothing: it is flushed after each packet.
		if err := w.rot.Rotate(); err != nil {
			w.err = fmt.Errorf("writing handshake packets: beginning a new file: %w", err)
			return
		}
		w.w = nil
		clear(w.ifaces)
	}
	id, ok := w.ifaces[p.LinkType]
	if !ok {
		intf := pcapgo.NgInterface{
			Name:                w.name,
			OS:                  runtime.GOOS,
			LinkType:            p.LinkType,
			SnapLength:          uint32(w.snaplen),
			TimestampResolution: 9,
		}
		var err error
		if w.w == nil {
			w.w, err = pcapgo.NewNgWriterInterface(w.out, intf, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
				OS: runtime.GOOS, Hardware: runtime.GOARCH, Application: "tlsinspect (TLS handshake packets only)",
			}})
		} else {
			id, err = w.w.AddInterface(intf)
		}
		if err != nil {
			w.err = fmt.Errorf("writing handshake packets: %w", err)
			return
		}
		w.ifaces[p.LinkType] = id
	}
	ci := gopacket.CaptureInfo{Timestamp: p.Timestamp, CaptureLength: len(data), Length: max(p.Length, len(data)), InterfaceIndex: id}
	if err := w.w.WritePacket(ci, data); err != nil {
		w.err = fmt.Errorf("writing handshake packets: %w", err)
		return
	}
	if w.rot != nil {
		if err := w.w.Flush(); err != nil {
			w.err = fmt.Errorf("writing handshake packets: %w", err)
			return
		}
	}
	w.stats.Written++
}

// Flush writes buffered packets out, so that a reader of a live capture's
// file sees them; it returns the first error met.
func (w *Writer) Flush() error {
	if w.err == nil && w.w != nil {
		if err := w.w.Flush(); err != nil {
			w.err = fmt.Errorf("writing handshake packets: %w", err)
		}
	}
	if w.err == nil && w.rot != nil {
		if err := w.rot.Flush(); err != nil {
			w.err = fmt.Errorf("writing handshake packets: %w", err)
		}
	}
	return w.err
}

// Stats returns the counters so far.
func (w *Writer) Stats() Stats { return w.stats }
