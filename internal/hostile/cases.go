package hostile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// The endpoints of the connections made here.
const (
	ClientAddr = "10.0.0.1:50000"
	ServerAddr = "192.0.2.1:443"
)

// Sequence numbers of the flows made here, unless a case is about them.
const (
	ClientISN = 1000
	ServerISN = 5000
)

// newFlow is a flow between ClientAddr and ServerAddr.
func newFlow() *Flow { return NewFlow(ClientAddr, ServerAddr, ClientISN, ServerISN) }

// Connection writes ex as one clean connection over f: the reference the
// other cases are compared with, and, with f's Encap or sequence numbers
// set, the encapsulation and sequence cases.
func Connection(ex Exchange, f *Flow) ([]byte, error) {
	return pcapFile(262144, func(w *Writer) error { return f.Replay(w, ex) })
}

// DeepVLAN is ex behind n VLAN tags (QinQ: an 802.1ad tag, then 802.1Q).
func DeepVLAN(ex Exchange, n int) ([]byte, error) {
	f := newFlow()
	for i := range n {
		f.Encap.VLANs = append(f.Encap.VLANs, uint16(100+i))
	}
	return Connection(ex, f)
}

// IPv4Options is ex with 36 bytes of IPv4 options in every packet (NOP,
// record route with 8 slots, end of list): the longest IPv4 header.
func IPv4Options(ex Exchange) ([]byte, error) {
	f := newFlow()
	rr := make([]byte, 33) // pointer + 8 addresses
	rr[0] = 4
	f.Encap.IPv4Options = []layers.IPv4Option{
		{OptionType: 1, OptionLength: 1},
		{OptionType: 7, OptionLength: 35, OptionData: rr[:33]},
	}
	return Connection(ex, f)
}

// IPv6Extensions is ex over IPv6 with a hop-by-hop, a routing and a
// destination options header in front of TCP in every packet.
func IPv6Extensions(ex Exchange) ([]byte, error) {
	f := NewFlow("[2001:db8::1]:50000", "[2001:db8::2]:443", ClientISN, ServerISN)
	f.Encap.IPv6Ext = []layers.IPProtocol{layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Destination}
	return Connection(ex, f)
}

// SeqWrap is ex with initial sequence numbers just below 2^32, so that
// both sides' sequence numbers wrap around in the middle of the handshake.
func SeqWrap(ex Exchange) ([]byte, error) {
	return Connection(ex, NewFlow(ClientAddr, ServerAddr, 1<<32-100, 1<<32-1000))
}

// SYNFlood writes n SYN-only connections to ServerAddr, each from its own
// address and port in 10.0.0.0/8, 1 µs apart, as a pcap file.
func SYNFlood(out io.Writer, n int) error {
	w, err := NewPcap(out, 262144, layers.LinkTypeEthernet)
	if err != nil {
		return err
	}
	w.Step = time.Microsecond
	return synFlood(w, n)
}

func synFlood(w *Writer, n int) error {
	f := newFlow()
	for i := range n {
		a := netip.AddrFrom4([4]byte{10, 1 + byte(i>>16), byte(i >> 8), byte(i)})
		f.Client = netip.AddrPortFrom(a, uint16(1024+i%60000))
		f.ClientISN = uint32(i) * 2654435761
		if err := f.Segment(w, true, SYN, f.ClientISN, nil); err != nil {
			return err
		}
	}
	return nil
}

// FloodAround is a real connection whose ClientHello comes before a SYN
// flood of n connections, and the rest of it after the flood: with fewer
// tracked connections than n it is evicted in the middle.
func FloodAround(ex Exchange, n int) ([]byte, error) {
	return pcapFile(262144, func(w *Writer) error {
		w.Step = time.Microsecond
		f := newFlow()
		if err := f.Open(w); err != nil {
			return err
		}
		if err := f.Send(w, true, ex[0].Data); err != nil {
			return err
		}
		if err := synFlood(w, n); err != nil {
			return err
		}
		for _, c := range ex[1:] {
			if err := f.Send(w, c.FromClient, c.Data); err != nil {
				return err
			}
		}
		return f.Close(w)
	})
}

// BigMessage is a TLS 1.2 handshake whose server, after its ServerHello,
// starts a Certificate message that claims 16 MB (2^24-1 bytes) and sends
// 1 MB of it in full-size records before the connection closes.
func BigMessage(ex Exchange) ([]byte, error) {
	recs := Records(ex.Stream(false))
	server := append([]byte(nil), recs[0]...) // ServerHello
	body := make([]byte, 1<<14)
	first := append([]byte{11, 0xff, 0xff, 0xff}, body[:1<<14-4]...)
	server = append(server, Record(22, first)...)
	for range 64 {
		server = append(server, Record(22, body)...)
	}
	return pcapFile(262144, func(w *Writer) error {
		f := newFlow()
		if err := f.Open(w); err != nil {
			return err
		}
		if err := f.Send(w, true, ex[0].Data); err != nil {
			return err
		}
		if err := f.Send(w, false, server); err != nil {
			return err
		}
		return f.Close(w)
	})
}

// MaxRecord is the largest record fragment TLS allows (2^14 + 2048, RFC
// 5246 §6.2.3).
const MaxRecord = 1<<14 + 2048

// OddRecords is ex with records of the extreme lengths: a zero-length
// handshake record after the first record in each direction, and at the
// end of the server's first flight a zero-length application_data record
// followed by one of exactly MaxRecord bytes (MaxRecord+1 with tooLong).
func OddRecords(ex Exchange, tooLong bool) ([]byte, error) {
	n := MaxRecord
	if tooLong {
		n++
	}
	flightEnd := append(Record(23, nil), Record(23, bytes.Repeat([]byte{0xa5}, n))...)
	var out Exchange
	var sent [2]int       // stream bytes of each side so far
	var firstEnd [2]int   // end of each side's first record
	serverFlight := false // the server's first flight is being sent
	for _, c := range ex {
		s := side(c.FromClient)
		d := c.Data
		if sent[s] == 0 {
			stream := ex.Stream(c.FromClient)
			firstEnd[s] = 5 + (int(stream[3])<<8 | int(stream[4]))
		}
		if at := firstEnd[s] - sent[s]; at > 0 && at <= len(d) {
			d = append(append(append([]byte(nil), d[:at]...), Record(22, nil)...), d[at:]...)
		}
		sent[s] += len(c.Data)
		switch {
		case !c.FromClient:
			serverFlight = true
		case serverFlight && c.FromClient:
			out = append(out, Chunk{false, flightEnd})
			serverFlight = false
			flightEnd = nil
		}
		out = append(out, Chunk{c.FromClient, d})
	}
	return pcapFile(262144, func(w *Writer) error { return newFlow().Replay(w, out) })
}

// Conflicts is ex in which two segments are sent twice with different
// bytes: the client's first segment again after it was delivered, with
// the SNI changed ("server.test" to "SERVER.TEST"), and the server's second
// segment while it waits, out of order, for the first. The first copy of
// each must win.
func Conflicts(ex Exchange) ([]byte, error) {
	ch := ex[0].Data
	sni := bytes.Index(ch, []byte("server.test"))
	if sni < 0 {
		return nil, fmt.Errorf("hostile: no SNI server.test in the ClientHello")
	}
	evil := append([]byte(nil), ch...)
	copy(evil[sni:], "SERVER.TEST")
	return pcapFile(262144, func(w *Writer) error {
		f := newFlow()
		if err := f.Open(w); err != nil {
			return err
		}
		seq := f.Next(true)
		if err := f.Send(w, true, ch); err != nil {
			return err
		}
		if err := f.Segment(w, true, ACK|PSH, seq, evil); err != nil {
			return err
		}
		for i, c := range ex[1:] {
			if i == 0 && !c.FromClient && len(c.Data) > 200 {
				// The server's first flight: second half first, then a
				// different copy of it, then the first half.
				half := len(c.Data) / 2
				s := f.Next(false)
				other := bytes.Repeat([]byte{0xee}, len(c.Data)-half)
				if err := f.Segment(w, false, ACK|PSH, s+uint32(half), c.Data[half:]); err != nil {
					return err
				}
				if err := f.Segment(w, false, ACK|PSH, s+uint32(half), other); err != nil {
					return err
				}
				if err := f.Segment(w, false, ACK|PSH, s, c.Data[:half]); err != nil {
					return err
				}
				f.next[1] += uint32(len(c.Data))
				continue
			}
			if err := f.Send(w, c.FromClient, c.Data); err != nil {
				return err
			}
		}
		return f.Close(w)
	})
}

// Swapped is ex with the server's first two segments sent in reverse
// order: the second waits, out of order, for the first.
func Swapped(ex Exchange) ([]byte, error) {
	return pcapFile(262144, func(w *Writer) error {
		f := newFlow()
		if err := f.Open(w); err != nil {
			return err
		}
		swapped := false
		for i := 0; i < len(ex); i++ {
			c := ex[i]
			if !swapped && !c.FromClient && i+1 < len(ex) && !ex[i+1].FromClient {
				swapped = true
				s, next := f.Next(false), ex[i+1].Data
				if err := f.Segment(w, false, ACK|PSH, s+uint32(len(c.Data)), next); err != nil {
					return err
				}
				if err := f.Segment(w, false, ACK|PSH, s, c.Data); err != nil {
					return err
				}
				f.next[1] += uint32(len(c.Data) + len(next))
				i++
				continue
			}
			if err := f.Send(w, c.FromClient, c.Data); err != nil {
				return err
			}
		}
		return f.Close(w)
	})
}

// Garbage is ex with 64 random bytes (seeded: always the same) after the
// client's ClientHello record, in the same segment.
func Garbage(ex Exchange) ([]byte, error) {
	rng := rand.New(rand.NewChaCha8([32]byte{'t', 'l', 's'}))
	junk := make([]byte, 64)
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	junk[0] = 0x99 // not a record content type
	out := append(Exchange{}, ex...)
	out[0] = Chunk{true, append(append([]byte(nil), ex[0].Data...), junk...)}
	return pcapFile(262144, func(w *Writer) error { return newFlow().Replay(w, out) })
}

// NotTLSOn443 is two connections to port 443 that never carry TLS: HTTP
// (the response body is a capture file holding a real ClientHello, which
// must not be taken for TLS) and SSH (banners, then binary packets).
func NotTLSOn443(ex Exchange) ([]byte, error) {
	body := append(bytes.Repeat([]byte("x"), 1000), ex[0].Data...)
	body = append(body, bytes.Repeat([]byte("y"), 20000)...)
	rng := rand.New(rand.NewChaCha8([32]byte{'s', 's', 'h'}))
	noise := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	return pcapFile(262144, func(w *Writer) error {
		http := newFlow()
		if err := http.Open(w); err != nil {
			return err
		}
		if err := http.Send(w, true, []byte("GET /capture.pcap HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n")); err != nil {
			return err
		}
		resp := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.tcpdump.pcap\r\nContent-Length: %d\r\n\r\n", len(body))
		if err := http.Send(w, false, append(resp, body...)); err != nil {
			return err
		}
		if err := http.Close(w); err != nil {
			return err
		}
		ssh := NewFlow("10.0.0.2:50001", ServerAddr, ClientISN, ServerISN)
		if err := ssh.Open(w); err != nil {
			return err
		}
		for _, c := range []Chunk{
			{false, []byte("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")},
			{true, []byte("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")},
			{true, noise(1500)}, {false, noise(1100)}, {true, noise(9000)}, {false, noise(30000)},
		} {
			if err := ssh.Send(w, c.FromClient, c.Data); err != nil {
				return err
			}
		}
		return ssh.Close(w)
	})
}

// Unfinished is the start of ex (the client's first chunk and the server's
// answer) and nothing more: a connection still open when the capture ends.
func Unfinished(ex Exchange) ([]byte, error) {
	return pcapFile(262144, func(w *Writer) error {
		f := newFlow()
		if err := f.Open(w); err != nil {
			return err
		}
		return sendUntilClientSpeaksAgain(w, f, ex)
	})
}

func sendUntilClientSpeaksAgain(w *Writer, f *Flow, ex Exchange) error {
	for i, c := range ex {
		if i > 0 && c.FromClient {
			return nil
		}
		if err := f.Send(w, c.FromClient, c.Data); err != nil {
			return err
		}
	}
	return nil
}

// IdleThenMore is Unfinished followed, idle minutes later, by the whole of
// ex on a second connection: the first is closed by the idle timeout.
func IdleThenMore(ex Exchange, idle time.Duration) ([]byte, error) {
	return pcapFile(262144, func(w *Writer) error {
		f := newFlow()
		if err := f.Open(w); err != nil {
			return err
		}
		if err := sendUntilClientSpeaksAgain(w, f, ex); err != nil {
			return err
		}
		w.Time = w.Time.Add(idle)
		return NewFlow("10.0.0.2:50001", ServerAddr, ClientISN, ServerISN).Replay(w, ex)
	})
}

// Interleaved is n copies of ex on n connections (10.0.0.1, .2, …), with
// their packets interleaved: every connection opens, then each chunk of
// ex is sent on each connection in turn.
func Interleaved(ex Exchange, n int) ([]byte, error) {
	return pcapFile(262144, func(w *Writer) error {
		fs := make([]*Flow, n)
		for i := range fs {
			fs[i] = NewFlow(fmt.Sprintf("10.0.0.%d:50000", i+1), ServerAddr, ClientISN, ServerISN)
			if err := fs[i].Open(w); err != nil {
				return err
			}
		}
		for _, c := range ex {
			for _, f := range fs {
				if err := f.Send(w, c.FromClient, c.Data); err != nil {
					return err
				}
			}
		}
		for _, f := range fs {
			if err := f.Close(w); err != nil {
				return err
			}
		}
		return nil
	})
}

// SmallSnaplen is ex in a file whose header declares a 96-byte snapshot
// length while every packet is captured whole, as some writers do (dpkt).
func SmallSnaplen(ex Exchange) ([]byte, error) {
	return pcapFile(96, func(w *Writer) error { return newFlow().Replay(w, ex) })
}

// PastEOF is ex whose last packet record claims 1000 bytes more than the
// file holds.
func PastEOF(ex Exchange) ([]byte, error) {
	b, err := Connection(ex, newFlow())
	if err != nil {
		return nil, err
	}
	last := lastRecord(b)
	le := binary.LittleEndian
	le.PutUint32(b[last+8:], le.Uint32(b[last+8:])+1000)
	le.PutUint32(b[last+12:], le.Uint32(b[last+12:])+1000)
	return b, nil
}

// CutMidPacket is ex cut in the middle of the data of the packet with the
// most bytes (the server's certificate chain).
func CutMidPacket(ex Exchange) ([]byte, error) {
	b, err := Connection(ex, newFlow())
	if err != nil {
		return nil, err
	}
	at, size := 0, 0
	for off := 24; off+16 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		if n > size {
			at, size = off, n
		}
		off += 16 + n
	}
	return b[:at+16+size/2], nil
}

// lastRecord is the offset of the last packet record of a pcap file
// written by pcapgo (little endian).
func lastRecord(b []byte) int {
	off, last := 24, 24
	for off+16 <= len(b) {
		last = off
		off += 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
	}
	return last
}

// Pcapng is ex as a pcapng file with, before each packet block, two blocks
// no reader can know: blocks of the custom types 0x00000BAD and 0x40000BAD
// without a Private Enterprise Number, which readers skip by their length.
// With badAfter >= 0 they stop after that many packets, and before the
// next packet comes instead a block whose length field (13) is not a
// multiple of 4, which no pcapng file may have.
func Pcapng(ex Exchange, badAfter int) ([]byte, error) {
	var out bytes.Buffer
	ng, err := pcapgo.NewNgWriter(&out, layers.LinkTypeEthernet)
	if err != nil {
		return nil, err
	}
	if err := newFlow().Replay(newWriter(&unknownBlocks{ng: ng, out: &out, badAfter: badAfter}), ex); err != nil {
		return nil, err
	}
	if err := ng.Flush(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// unknownBlocks writes Pcapng's packets to ng, each after the blocks that
// come before it.
type unknownBlocks struct {
	ng       *pcapgo.NgWriter
	out      *bytes.Buffer // ng's output
	badAfter int
	packets  int // written so far
}

func (u *unknownBlocks) WritePacket(ci gopacket.CaptureInfo, data []byte) error {
	if err := u.ng.Flush(); err != nil {
		return err
	}
	switch i := u.packets; {
	case u.badAfter >= 0 && i == u.badAfter:
		u.out.Write(ngBlock(0x00000BAD, []byte("bad length"), 13))
	case u.badAfter < 0 || i < u.badAfter:
		u.out.Write(ngBlock(0x00000BAD, []byte("a custom block no reader knows"), 0))
		u.out.Write(ngBlock(0x40000BAD, []byte("local use"), 0))
	}
	u.packets++
	return u.ng.WritePacket(ci, data)
}

// ngBlock is a little-endian pcapng block of type typ holding body padded
// to 4 bytes; length, when not 0, replaces the length fields.
func ngBlock(typ uint32, body []byte, length uint32) []byte {
	padded := (len(body) + 3) &^ 3
	n := uint32(12 + padded)
	if length != 0 {
		n = length
	}
	b := binary.LittleEndian.AppendUint32(nil, typ)
	b = binary.LittleEndian.AppendUint32(b, n)
	b = append(b, body...)
	b = append(b, make([]byte, padded-len(body))...)
	return binary.LittleEndian.AppendUint32(b, n)
}

// UnsupportedLink is a pcap file of link type 802.11 (105) holding a few
// frames: tlsinspect cannot decode any of them.
func UnsupportedLink() ([]byte, error) {
	var b bytes.Buffer
	w, err := NewPcap(&b, 262144, layers.LinkTypeIEEE802_11)
	if err != nil {
		return nil, err
	}
	for i := range 3 {
		if err := w.Write(append([]byte{0x08, 0x02}, bytes.Repeat([]byte{byte(i)}, 60)...)); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}
