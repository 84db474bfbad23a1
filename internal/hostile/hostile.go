// Package hostile writes adversarial capture files for tests: floods,
// damaged files, odd encapsulations and TCP tricks, around the bytes of a
// real TLS exchange where a valid one is needed (read from one of the
// project's captures, testdata/pcaps/tls12-ecdhe-go.pcap or tls13-go.pcap).
// Packets are serialized with gopacket's layers and written with pcapgo;
// damage that no writer produces is patched into the bytes afterwards.
//
// The files are made at test time (into t.TempDir()); nothing is sent on
// a network.
package hostile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Chunk is the payload of one TCP segment of a real connection.
type Chunk struct {
	FromClient bool
	Data       []byte
}

// Exchange is the payload of a real TCP connection, segment by segment in
// capture order.
type Exchange []Chunk

// LoadExchange reads the payloads of the first TCP connection in a pcap
// file of Ethernet frames (the client is the sender of the first SYN).
func LoadExchange(path string) (Exchange, error) {
	f, r, err := openPcap(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ex Exchange
	var client, server layers.TCPPort
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok {
			continue
		}
		if client == 0 {
			if !tcp.SYN || tcp.ACK {
				continue
			}
			client, server = tcp.SrcPort, tcp.DstPort
		}
		fromClient := tcp.SrcPort == client && tcp.DstPort == server
		if !fromClient && (tcp.SrcPort != server || tcp.DstPort != client) {
			continue
		}
		if len(tcp.Payload) > 0 {
			ex = append(ex, Chunk{fromClient, append([]byte(nil), tcp.Payload...)})
		}
	}
	if len(ex) == 0 {
		return nil, fmt.Errorf("%s: no TCP connection with payload", path)
	}
	return ex, nil
}

// openPcap opens a pcap file for reading; the caller closes f.
func openPcap(path string) (f *os.File, r *pcapgo.Reader, err error) {
	f, err = os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	if r, err = pcapgo.NewReader(f); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, r, nil
}

// Stream is everything one side sent.
func (ex Exchange) Stream(fromClient bool) []byte {
	var b []byte
	for _, c := range ex {
		if c.FromClient == fromClient {
			b = append(b, c.Data...)
		}
	}
	return b
}

// Records splits a TLS byte stream into whole records (header and
// fragment); a tail that is not a whole record is the last element.
func Records(stream []byte) [][]byte {
	var out [][]byte
	for len(stream) >= 5 {
		n := 5 + (int(stream[3])<<8 | int(stream[4]))
		if n > len(stream) {
			break
		}
		out = append(out, stream[:n])
		stream = stream[n:]
	}
	if len(stream) > 0 {
		out = append(out, stream)
	}
	return out
}

// Record builds a TLS record of content type typ (version TLS 1.2).
func Record(typ byte, fragment []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(fragment) >> 8), byte(len(fragment))}, fragment...)
}

// Encap says how the packets of a Flow are framed.
type Encap struct {
	// VLANs are 802.1Q tags, outermost first; with more than one, the
	// outermost is an 802.1ad service tag (QinQ, EtherType 0x88a8).
	VLANs []uint16
	// IPv4Options are put in every IPv4 header.
	IPv4Options []layers.IPv4Option
	// IPv6Ext lists IPv6 extension headers put in front of TCP, in order:
	// layers.IPProtocolIPv6HopByHop, IPv6Routing, IPv6Destination.
	IPv6Ext []layers.IPProtocol
}

// Flags of a segment.
type Flags uint8

// TCP flags.
const (
	SYN Flags = 1 << iota
	ACK
	FIN
	RST
	PSH
)

// Flow is one synthetic TCP connection between Client and Server (both
// IPv4 or both IPv6).
type Flow struct {
	Client, Server       netip.AddrPort
	ClientISN, ServerISN uint32
	Encap                Encap

	next [2]uint32 // next sequence number: [0] client, [1] server
	buf  gopacket.SerializeBuffer
}

// NewFlow returns a flow between two "addr:port" endpoints with the given
// initial sequence numbers.
func NewFlow(client, server string, clientISN, serverISN uint32) *Flow {
	f := &Flow{
		Client:    netip.MustParseAddrPort(client),
		Server:    netip.MustParseAddrPort(server),
		ClientISN: clientISN,
		ServerISN: serverISN,
	}
	f.next = [2]uint32{clientISN + 1, serverISN + 1}
	return f
}

func side(fromClient bool) int {
	if fromClient {
		return 0
	}
	return 1
}

// Next is the sequence number of the next byte a side sends.
func (f *Flow) Next(fromClient bool) uint32 { return f.next[side(fromClient)] }

// Frame builds the Ethernet frame of one segment.
func (f *Flow) Frame(fromClient bool, flags Flags, seq uint32, payload []byte) ([]byte, error) {
	src, dst := f.Client, f.Server
	if !fromClient {
		src, dst = dst, src
	}
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(src.Port()),
		DstPort: layers.TCPPort(dst.Port()),
		Seq:     seq,
		Ack:     f.next[1-side(fromClient)],
		SYN:     flags&SYN != 0,
		ACK:     flags&ACK != 0,
		FIN:     flags&FIN != 0,
		RST:     flags&RST != 0,
		PSH:     flags&PSH != 0,
		Window:  64240,
	}
	if flags&ACK == 0 {
		tcp.Ack = 0
	}
	ls := []gopacket.SerializableLayer{}
	eth := &layers.Ethernet{SrcMAC: mac(src.Addr()), DstMAC: mac(dst.Addr())}
	ls = append(ls, eth)
	var l3 gopacket.NetworkLayer
	ipType := layers.EthernetTypeIPv4
	if src.Addr().Is6() {
		ipType = layers.EthernetTypeIPv6
	}
	for i, id := range f.Encap.VLANs {
		if i == 0 {
			eth.EthernetType = layers.EthernetTypeDot1Q
			if len(f.Encap.VLANs) > 1 {
				eth.EthernetType = layers.EthernetTypeQinQ
			}
		}
		tag := &layers.Dot1Q{VLANIdentifier: id, Type: layers.EthernetTypeDot1Q}
		if i == len(f.Encap.VLANs)-1 {
			tag.Type = ipType
		}
		ls = append(ls, tag)
	}
	if len(f.Encap.VLANs) == 0 {
		eth.EthernetType = ipType
	}
	if src.Addr().Is4() {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, Flags: layers.IPv4DontFragment,
			SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice(), Options: f.Encap.IPv4Options}
		ls = append(ls, ip)
		l3 = ip
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		ls = append(ls, ip)
		l3 = ip
		ext := f.Encap.IPv6Ext
		if len(ext) > 0 {
			ip.NextHeader = ext[0]
		}
		for i, typ := range ext {
			next := layers.IPProtocolTCP
			if i+1 < len(ext) {
				next = ext[i+1]
			}
			l, err := extHeader(typ, next, dst.Addr())
			if err != nil {
				return nil, err
			}
			ls = append(ls, l)
		}
	}
	if err := tcp.SetNetworkLayerForChecksum(l3); err != nil {
		return nil, err
	}
	ls = append(ls, tcp, gopacket.Payload(payload))
	if f.buf == nil {
		f.buf = gopacket.NewSerializeBuffer()
	}
	if err := gopacket.SerializeLayers(f.buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		return nil, err
	}
	return append([]byte(nil), f.buf.Bytes()...), nil
}

// extHeader builds one IPv6 extension header: hop-by-hop with a PadN
// option, a segment-routing header (type 4) whose only segment, already
// reached, is dst, or destination options with an unknown option the
// receiver skips.
func extHeader(typ, next layers.IPProtocol, dst netip.Addr) (gopacket.SerializableLayer, error) {
	switch typ {
	case layers.IPProtocolIPv6HopByHop:
		h := &layers.IPv6HopByHop{}
		h.NextHeader = next
		h.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: make([]byte, 4)}}
		return h, nil
	case layers.IPProtocolIPv6Routing:
		h := &layers.IPv6Routing{RoutingType: 4, SegmentsLeft: 0, Reserved: make([]byte, 4),
			Data: dst.AsSlice()}
		h.NextHeader = next
		return h, nil
	case layers.IPProtocolIPv6Destination:
		h := &layers.IPv6Destination{}
		h.NextHeader = next
		h.Options = []*layers.IPv6DestinationOption{{OptionType: 0x1e, OptionLength: 4, OptionData: []byte{1, 2, 3, 4}}}
		return h, nil
	}
	return nil, fmt.Errorf("hostile: no extension header of type %d", typ)
}

// mac is a locally administered MAC address made from an IP address.
func mac(a netip.Addr) []byte {
	b := a.As16()
	return []byte{0x02, 0, b[12], b[13], b[14], b[15]}
}

// Writer writes packets to a capture file, each Step after the previous one.
type Writer struct {
	Time time.Time
	Step time.Duration
	w    packetWriter
}

// packetWriter is a pcapgo.Writer or pcapgo.NgWriter.
type packetWriter interface {
	WritePacket(ci gopacket.CaptureInfo, data []byte) error
}

// Epoch is the time of the first packet of every file made here.
var Epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// NewPcap writes a pcap file header (nanosecond timestamps) with the given
// snapshot length and link type.
func NewPcap(w io.Writer, snaplen uint32, lt layers.LinkType) (*Writer, error) {
	pw := pcapgo.NewWriterNanos(w)
	if err := pw.WriteFileHeader(snaplen, lt); err != nil {
		return nil, err
	}
	return newWriter(pw), nil
}

func newWriter(pw packetWriter) *Writer {
	return &Writer{Time: Epoch, Step: 10 * time.Microsecond, w: pw}
}

// Write writes one packet, all of it captured.
func (w *Writer) Write(frame []byte) error {
	ci := gopacket.CaptureInfo{Timestamp: w.Time, CaptureLength: len(frame), Length: len(frame)}
	w.Time = w.Time.Add(w.Step)
	return w.w.WritePacket(ci, frame)
}

// Segment writes one segment at an explicit sequence number; the flow's
// next sequence numbers do not change.
func (f *Flow) Segment(w *Writer, fromClient bool, flags Flags, seq uint32, payload []byte) error {
	fr, err := f.Frame(fromClient, flags, seq, payload)
	if err != nil {
		return err
	}
	return w.Write(fr)
}

// Open writes the three-way handshake.
func (f *Flow) Open(w *Writer) error {
	if err := f.Segment(w, true, SYN, f.ClientISN, nil); err != nil {
		return err
	}
	if err := f.Segment(w, false, SYN|ACK, f.ServerISN, nil); err != nil {
		return err
	}
	return f.Segment(w, true, ACK, f.next[0], nil)
}

// mss is the most payload Send puts in one segment.
const mss = 1448

// Send writes data from one side in segments of at most mss bytes.
func (f *Flow) Send(w *Writer, fromClient bool, data []byte) error {
	s := side(fromClient)
	for len(data) > 0 {
		n := min(len(data), mss)
		if err := f.Segment(w, fromClient, ACK|PSH, f.next[s], data[:n]); err != nil {
			return err
		}
		f.next[s] += uint32(n)
		data = data[n:]
	}
	return nil
}

// Close writes a FIN from each side and the last ACK.
func (f *Flow) Close(w *Writer) error {
	if err := f.Segment(w, true, FIN|ACK, f.next[0], nil); err != nil {
		return err
	}
	f.next[0]++
	if err := f.Segment(w, false, FIN|ACK, f.next[1], nil); err != nil {
		return err
	}
	f.next[1]++
	return f.Segment(w, true, ACK, f.next[0], nil)
}

// Replay writes a whole connection carrying ex: handshake, each chunk as
// it was sent, and the close.
func (f *Flow) Replay(w *Writer, ex Exchange) error {
	if err := f.Open(w); err != nil {
		return err
	}
	for _, c := range ex {
		if err := f.Send(w, c.FromClient, c.Data); err != nil {
			return err
		}
	}
	return f.Close(w)
}

// pcapFile runs fill on a new Ethernet pcap file and returns its bytes.
func pcapFile(snaplen uint32, fill func(w *Writer) error) ([]byte, error) {
	var b bytes.Buffer
	w, err := NewPcap(&b, snaplen, layers.LinkTypeEthernet)
	if err != nil {
		return nil, err
	}
	if err := fill(w); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
