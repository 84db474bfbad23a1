package packet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/ip6defrag"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlsinspect/tlsinspect/capture"
)

// Limits on fragment reassembly.
const (
	// MaxPendingFragmentBytes bounds the bytes held per IP version for
	// datagrams whose fragments have not all arrived. Beyond it every
	// incomplete datagram of that version is given up.
	MaxPendingFragmentBytes = 8 << 20
	// FragmentTimeout is how long, in capture time, incomplete datagrams
	// are kept.
	FragmentTimeout = 60 * time.Second
)

// maxEncapsulation bounds nested headers (VLAN tags, MPLS labels, IPv6
// extension headers, IP-in-IP).
const maxEncapsulation = 16

// ErrUnsupportedLinkType is wrapped by the error for packets of a link type
// the Decoder does not know.
var ErrUnsupportedLinkType = errors.New("unsupported link type")

// Segment is one decoded TCP segment.
type Segment struct {
	Timestamp time.Time
	Src, Dst  netip.Addr  // unmapped (IPv4 as 4-byte)
	TCP       *layers.TCP // header fields + Payload; valid until the next Decode call
	// Truncated is set when fewer bytes were captured than the IP header
	// says (snap length): TCP.Payload holds only the captured part.
	Truncated bool
}

// Datagram is one decoded UDP datagram (see Decoder.Datagram).
type Datagram struct {
	Timestamp        time.Time
	Src, Dst         netip.Addr // unmapped (IPv4 as 4-byte)
	SrcPort, DstPort uint16
	// Payload is the UDP payload, valid until the next Decode call.
	Payload []byte
	// Truncated is set when fewer bytes were captured than the UDP header
	// says: Payload holds only the captured part.
	Truncated bool
}

// Stats counts what a Decoder has seen.
type Stats struct {
	Packets     int // packets given to Decode
	TCP         int // TCP segments returned
	NonTCP      int // packets without TCP (non-IP, UDP, ICMP, …)
	UDP         int // UDP datagrams decoded (among NonTCP)
	Fragments   int // IP fragments seen
	Reassembled int // datagrams reassembled from fragments
	Errors      int // packets that could not be decoded
	Truncated   int // packets with fewer bytes captured than sent
	// FragmentBytesDropped counts the bytes of incomplete datagrams given
	// up (MaxPendingFragmentBytes, FragmentTimeout); PendingFragmentBytes
	// tells those still held.
	FragmentBytesDropped int
}

// feedback records gopacket's truncation reports.
type feedback struct{ truncated bool }

func (f *feedback) SetTruncated() { f.truncated = true }

// defrag bounds one family's reassembly state.
type defragState struct {
	pending int       // bytes held, approximately
	since   time.Time // capture time of the first fragment held since pending was 0
}

// Decoder decodes packets to TCP segments. It is reusable and not safe for
// concurrent use.
type Decoder struct {
	eth   layers.Ethernet
	dot1q layers.Dot1Q
	sll   layers.LinuxSLL
	sll2  layers.LinuxSLL2
	ip4   layers.IPv4
	ip6   layers.IPv6
	tcp   layers.TCP
	df    feedback

	defrag4 *ip4defrag.IPv4Defragmenter
	defrag6 *ip6defrag.IPv6Defragmenter
	state4  defragState
	state6  defragState

	// the packet being decoded
	idx      int
	now      time.Time
	capTrunc bool

	seg   Segment
	stats Stats
	// dg is the UDP datagram of the last packet decoded, when dgOK.
	dg   Datagram
	dgOK bool
}

// NewDecoder returns a Decoder.
func NewDecoder() *Decoder {
	return &Decoder{
		defrag4: ip4defrag.NewIPv4Defragmenter(),
		defrag6: ip6defrag.NewIPv6Defragmenter(),
	}
}

// Stats returns the counts so far.
func (d *Decoder) Stats() Stats { return d.stats }

// result of decoding one packet
type result uint8

const (
	resNonTCP result = iota
	resTCP
	resFragment // a fragment held for reassembly
	resUDP      // a UDP datagram (Decoder.Datagram)
)

// Decode decodes one packet. ok=false with a nil error means the packet
// carries no TCP segment (yet: it may be a fragment held for reassembly).
func (d *Decoder) Decode(p capture.Packet) (seg Segment, ok bool, err error) {
	var h Header
	if h.Read(p.LinkType, p.Data) {
		return d.DecodeHeader(p, &h), true, nil
	}
	return d.DecodeLayers(p)
}

// DecodeLayers is Decode without the fast path: for a packet that
// Header.Read did not read, with gopacket's layers.
func (d *Decoder) DecodeLayers(p capture.Packet) (seg Segment, ok bool, err error) {
	d.stats.Packets++
	d.df.truncated = false
	d.idx, d.now, d.capTrunc = p.Index, p.Timestamp, p.Truncated
	d.seg = Segment{Timestamp: p.Timestamp}
	d.dgOK = false
	res := resNonTCP
	defer func() {
		if r := recover(); r != nil {
			err = d.errorf("decoder failed on malformed data: %v", r)
			ok = false
			seg = Segment{}
		}
		if p.Truncated || d.df.truncated {
			d.stats.Truncated++
		}
		switch {
		case err != nil:
			d.stats.Errors++
		case res == resTCP:
			d.stats.TCP++
		case res == resNonTCP:
			d.stats.NonTCP++
		case res == resUDP:
			d.stats.NonTCP++
			d.stats.UDP++
		}
	}()
	res, err = d.link(p.LinkType, p.Data)
	if err != nil || res != resTCP {
		if err == nil && res == resUDP {
			d.dg.Timestamp, d.dg.Src, d.dg.Dst = p.Timestamp, d.seg.Src, d.seg.Dst
			d.dgOK = true
		}
		return Segment{}, false, err
	}
	d.seg.Truncated = d.df.truncated
	d.seg.TCP = &d.tcp
	return d.seg, true, nil
}

// Datagram returns the UDP datagram of the packet last given to Decode,
// when it held one (Decode then returned ok=false and a nil error). The
// payload is valid until the next Decode call. UDP datagrams split into IP
// fragments are not reassembled.
func (d *Decoder) Datagram() (Datagram, bool) {
	if !d.dgOK {
		return Datagram{}, false
	}
	return d.dg, true
}

func (d *Decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("packet %d: %s", d.idx, fmt.Sprintf(format, args...))
}

// truncErr reports a header cut short.
func (d *Decoder) truncErr(what string, have, want int) error {
	d.df.truncated = true
	return d.errorf("%s truncated (%d of %d bytes captured)", what, have, want)
}

func (d *Decoder) link(lt layers.LinkType, data []byte) (result, error) {
	switch lt {
	case layers.LinkTypeEthernet:
		if err := d.eth.DecodeFromBytes(data, &d.df); err != nil {
			return resNonTCP, d.truncErr("Ethernet header", len(data), 14)
		}
		return d.ether(d.eth.EthernetType, d.eth.Payload)
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return resNonTCP, d.truncErr("Linux SLL header", len(data), 16)
		}
		if err := d.sll.DecodeFromBytes(data, &d.df); err != nil {
			return resNonTCP, d.errorf("Linux SLL: %v", err)
		}
		return d.ether(d.sll.EthernetType, d.sll.Payload)
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return resNonTCP, d.truncErr("Linux SLL2 header", len(data), 20)
		}
		if err := d.sll2.DecodeFromBytes(data, &d.df); err != nil {
			return resNonTCP, d.errorf("Linux SLL2: %v", err)
		}
		return d.ether(d.sll2.ProtocolType, d.sll2.Payload)
	case layers.LinkTypeRaw, 12, 14:
		return d.rawIP(data, 0)
	case layers.LinkTypeIPv4:
		return d.ipv4(data, 0)
	case layers.LinkTypeIPv6:
		return d.ipv6(data, 0)
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(data) < 4 {
			return resNonTCP, d.truncErr("loopback header", len(data), 4)
		}
		switch nullFamily(data) {
		case 4:
			return d.ipv4(data[4:], 0)
		case 6:
			return d.ipv6(data[4:], 0)
		}
		return resNonTCP, nil
	case layers.LinkTypePPP, layers.LinkTypePPP_HDLC:
		return d.ppp(data, 0)
	case layers.LinkTypeC_HDLC:
		if len(data) < 4 {
			return resNonTCP, d.truncErr("Cisco HDLC header", len(data), 4)
		}
		return d.ether(layers.EthernetType(binary.BigEndian.Uint16(data[2:4])), data[4:])
	}
	return resNonTCP, fmt.Errorf("packet %d: %w %d (%s)", d.idx, ErrUnsupportedLinkType, uint16(lt), lt)
}

// ether dispatches on an EtherType, unwrapping VLAN tags, MPLS labels and
// PPPoE sessions.
func (d *Decoder) ether(et layers.EthernetType, data []byte) (result, error) {
	for range maxEncapsulation {
		switch et {
		case layers.EthernetTypeIPv4:
			return d.ipv4(data, 0)
		case layers.EthernetTypeIPv6:
			return d.ipv6(data, 0)
		case layers.EthernetTypeDot1Q, layers.EthernetTypeQinQ, 0x9100, 0x9200:
			if err := d.dot1q.DecodeFromBytes(data, &d.df); err != nil {
				return resNonTCP, d.truncErr("802.1Q tag", len(data), 4)
			}
			et, data = d.dot1q.Type, d.dot1q.Payload
		case layers.EthernetTypeMPLSUnicast, layers.EthernetTypeMPLSMulticast:
			return d.mpls(data)
		case layers.EthernetTypePPPoESession:
			if len(data) < 6 {
				return resNonTCP, d.truncErr("PPPoE header", len(data), 6)
			}
			if data[1] != 0 { // code: 0 for session data
				return resNonTCP, nil
			}
			n := int(binary.BigEndian.Uint16(data[4:6]))
			data = data[6:]
			if n < len(data) {
				data = data[:n]
			}
			return d.ppp(data, 0)
		default:
			return resNonTCP, nil
		}
	}
	return resNonTCP, d.errorf("more than %d VLAN tags", maxEncapsulation)
}

func (d *Decoder) mpls(data []byte) (result, error) {
	for range maxEncapsulation {
		if len(data) < 4 {
			return resNonTCP, d.truncErr("MPLS label", len(data), 4)
		}
		bottom := data[2]&1 != 0
		data = data[4:]
		if bottom {
			if len(data) == 0 {
				return resNonTCP, nil
			}
			switch data[0] >> 4 {
			case 4:
				return d.ipv4(data, 0)
			case 6:
				return d.ipv6(data, 0)
			}
			return resNonTCP, nil // pseudowire or other payload
		}
	}
	return resNonTCP, d.errorf("more than %d MPLS labels", maxEncapsulation)
}

// ppp decodes a PPP frame with optional HDLC address and control bytes and
// a 1- or 2-byte protocol field.
func (d *Decoder) ppp(data []byte, depth int) (result, error) {
	if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
		data = data[2:]
	}
	if len(data) < 1 {
		return resNonTCP, d.truncErr("PPP header", len(data), 2)
	}
	var proto uint16
	if data[0]&1 == 1 { // compressed protocol field
		proto, data = uint16(data[0]), data[1:]
	} else {
		if len(data) < 2 {
			return resNonTCP, d.truncErr("PPP header", len(data), 2)
		}
		proto, data = binary.BigEndian.Uint16(data), data[2:]
	}
	switch proto {
	case 0x0021:
		return d.ipv4(data, depth)
	case 0x0057:
		return d.ipv6(data, depth)
	}
	return resNonTCP, nil
}

func (d *Decoder) rawIP(data []byte, depth int) (result, error) {
	if len(data) == 0 {
		return resNonTCP, d.truncErr("IP header", 0, 20)
	}
	switch v := data[0] >> 4; v {
	case 4:
		return d.ipv4(data, depth)
	case 6:
		return d.ipv6(data, depth)
	default:
		return resNonTCP, d.errorf("raw IP packet with IP version %d", v)
	}
}

func (d *Decoder) ipv4(data []byte, depth int) (result, error) {
	if len(data) < 20 {
		return resNonTCP, d.truncErr("IPv4 header", len(data), 20)
	}
	if v := data[0] >> 4; v != 4 {
		return resNonTCP, d.errorf("IPv4 header with IP version %d", v)
	}
	ihl := int(data[0] & 0x0f)
	if ihl < 5 {
		return resNonTCP, d.errorf("IPv4 header length %d < 5", ihl)
	}
	if ihl*4 > len(data) {
		return resNonTCP, d.truncErr("IPv4 header", len(data), ihl*4)
	}
	if total := int(binary.BigEndian.Uint16(data[2:4])); total != 0 && total < ihl*4 {
		return resNonTCP, d.errorf("IPv4 total length %d < header length %d", total, ihl*4)
	}
	if err := d.ip4.DecodeFromBytes(data, &d.df); err != nil {
		return resNonTCP, d.errorf("IPv4: %v", err)
	}
	d.seg.Src = netip.AddrFrom4([4]byte(data[12:16]))
	d.seg.Dst = netip.AddrFrom4([4]byte(data[16:20]))
	proto, payload := d.ip4.Protocol, d.ip4.Payload
	if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
		d.stats.Fragments++
		if !carriesTCP(proto) {
			return resNonTCP, nil
		}
		var err error
		payload, err = d.defragIPv4(data[:len(d.ip4.Contents)+len(d.ip4.Payload)])
		if err != nil || payload == nil {
			return resFragment, err
		}
	}
	return d.transport(proto, payload, depth)
}

// carriesTCP tells whether a datagram with this protocol may hold TCP.
func carriesTCP(p layers.IPProtocol) bool {
	return p == layers.IPProtocolTCP || p == layers.IPProtocolIPv4 || p == layers.IPProtocolIPv6
}

func (d *Decoder) transport(proto layers.IPProtocol, payload []byte, depth int) (result, error) {
	switch proto {
	case layers.IPProtocolTCP:
		return d.tcpSegment(payload)
	case layers.IPProtocolUDP:
		return d.udpDatagram(payload)
	case layers.IPProtocolIPv4, layers.IPProtocolIPv6:
		if depth >= maxEncapsulation {
			return resNonTCP, d.errorf("more than %d nested IP headers", maxEncapsulation)
		}
		if proto == layers.IPProtocolIPv4 {
			return d.ipv4(payload, depth+1)
		}
		return d.ipv6(payload, depth+1)
	}
	return resNonTCP, nil
}

// sweep gives up a family's incomplete datagrams when they hold too many
// bytes or are too old. It returns how many bytes were given up.
func (st *defragState) sweep(now time.Time) int {
	if n := st.pending; n > 0 && (n > MaxPendingFragmentBytes || now.Sub(st.since) > FragmentTimeout) {
		*st = defragState{}
		return n
	}
	return 0
}

// PendingFragmentBytes returns the bytes of incomplete datagrams held for
// reassembly (given up if the input ends now).
func (d *Decoder) PendingFragmentBytes() int { return d.state4.pending + d.state6.pending }

func (st *defragState) held(n int, now time.Time) {
	if st.pending <= 0 {
		st.pending = 0
		st.since = now
	}
	st.pending += n
}

func (st *defragState) done(n int) {
	st.pending -= n
	if st.pending < 0 {
		st.pending = 0
	}
}

// defragIPv4 hands a fragment (the IPv4 packet) to ip4defrag, which keeps
// it: it is copied out of the capture buffer. It returns the datagram's
// payload once complete.
func (d *Decoder) defragIPv4(pkt []byte) ([]byte, error) {
	now := d.now
	if n := d.state4.sweep(now); n > 0 {
		d.stats.FragmentBytesDropped += n
		d.defrag4 = ip4defrag.NewIPv4Defragmenter()
	}
	frag := new(layers.IPv4)
	if err := frag.DecodeFromBytes(append([]byte(nil), pkt...), gopacket.NilDecodeFeedback); err != nil {
		return nil, d.errorf("IPv4 fragment: %v", err)
	}
	out, err := d.defrag4.DefragIPv4WithTimestamp(frag, now)
	if err != nil {
		return nil, d.errorf("IPv4 fragment (id %d, offset %d): %v", frag.Id, int(frag.FragOffset)*8, err)
	}
	if out == nil {
		d.state4.held(len(frag.Payload), now)
		return nil, nil
	}
	d.stats.Reassembled++
	d.state4.done(len(out.Payload))
	return out.Payload, nil
}

func (d *Decoder) ipv6(data []byte, depth int) (result, error) {
	if len(data) < 40 {
		return resNonTCP, d.truncErr("IPv6 header", len(data), 40)
	}
	if v := data[0] >> 4; v != 6 {
		return resNonTCP, d.errorf("IPv6 header with IP version %d", v)
	}
	if err := d.ip6.DecodeFromBytes(data, &d.df); err != nil {
		return resNonTCP, d.errorf("IPv6: %v", err)
	}
	d.seg.Src = netip.AddrFrom16([16]byte(data[8:24])).Unmap()
	d.seg.Dst = netip.AddrFrom16([16]byte(data[24:40])).Unmap()
	nh, payload := d.ip6.NextHeader, d.ip6.Payload
	if d.ip6.HopByHop != nil {
		nh = d.ip6.HopByHop.NextHeader
	}
	reassembled := false
	for range maxEncapsulation {
		switch nh {
		case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Destination,
			135, 139, 140: // Mobility, HIP, Shim6
			if len(payload) < 2 {
				return resNonTCP, d.truncErr("IPv6 extension header", len(payload), 8)
			}
			n := (int(payload[1]) + 1) * 8
			if n > len(payload) {
				return resNonTCP, d.truncErr("IPv6 extension header", len(payload), n)
			}
			nh, payload = layers.IPProtocol(payload[0]), payload[n:]
		case layers.IPProtocolAH:
			if len(payload) < 2 {
				return resNonTCP, d.truncErr("IPv6 authentication header", len(payload), 12)
			}
			n := (int(payload[1]) + 2) * 4
			if n > len(payload) {
				return resNonTCP, d.truncErr("IPv6 authentication header", len(payload), n)
			}
			nh, payload = layers.IPProtocol(payload[0]), payload[n:]
		case layers.IPProtocolIPv6Fragment:
			if reassembled {
				return resNonTCP, d.errorf("IPv6 fragment header inside a reassembled packet")
			}
			if len(payload) < 8 {
				return resNonTCP, d.truncErr("IPv6 fragment header", len(payload), 8)
			}
			offset := binary.BigEndian.Uint16(payload[2:4]) >> 3
			more := payload[3]&1 != 0
			if offset == 0 && !more { // atomic fragment (RFC 6946)
				nh, payload = layers.IPProtocol(payload[0]), payload[8:]
				continue
			}
			d.stats.Fragments++
			switch next := layers.IPProtocol(payload[0]); next {
			case layers.IPProtocolUDP, layers.IPProtocolICMPv6, layers.IPProtocolESP, layers.IPProtocolNoNextHeader:
				return resNonTCP, nil
			}
			var err error
			nh, payload, err = d.defragIPv6(payload)
			if err != nil || payload == nil {
				return resFragment, err
			}
			reassembled = true
		default:
			return d.transport(nh, payload, depth)
		}
	}
	return resNonTCP, d.errorf("more than %d IPv6 extension headers", maxEncapsulation)
}

// defragIPv6 hands a fragment (header and payload) to ip6defrag, which
// keeps it: it is copied out of the capture buffer. It returns the next
// header and the payload of the packet once complete.
func (d *Decoder) defragIPv6(fragment []byte) (layers.IPProtocol, []byte, error) {
	now := d.now
	if n := d.state6.sweep(now); n > 0 {
		d.stats.FragmentBytesDropped += n
		d.defrag6 = ip6defrag.NewIPv6Defragmenter()
	}
	fg := new(layers.IPv6Fragment)
	if err := fg.DecodeFromBytes(append([]byte(nil), fragment...), gopacket.NilDecodeFeedback); err != nil {
		return 0, nil, d.errorf("IPv6 fragment: %v", err)
	}
	ip := &layers.IPv6{
		Version:      6,
		TrafficClass: d.ip6.TrafficClass,
		FlowLabel:    d.ip6.FlowLabel,
		NextHeader:   layers.IPProtocolIPv6Fragment,
		HopLimit:     d.ip6.HopLimit,
		SrcIP:        append([]byte(nil), d.ip6.SrcIP...),
		DstIP:        append([]byte(nil), d.ip6.DstIP...),
	}
	out := d.defrag6.DefragIPv6(ip, fg)
	if out == nil {
		d.state6.held(len(fg.Payload), now)
		return 0, nil, nil
	}
	d.stats.Reassembled++
	d.state6.done(len(out.Payload))
	return out.NextHeader, out.Payload, nil
}

func (d *Decoder) tcpSegment(data []byte) (result, error) {
	if len(data) < 20 {
		return resNonTCP, d.truncErr("TCP header", len(data), 20)
	}
	off := int(data[12] >> 4)
	if off < 5 {
		return resNonTCP, d.errorf("TCP data offset %d < 5", off)
	}
	if off*4 > len(data) {
		if d.df.truncated || d.capTrunc {
			return resNonTCP, d.truncErr("TCP header", len(data), off*4)
		}
		return resNonTCP, d.errorf("TCP header length %d exceeds the %d bytes of the IP payload", off*4, len(data))
	}
	if err := d.tcp.DecodeFromBytes(data, &d.df); err != nil {
		return resNonTCP, d.errorf("TCP: %v", err)
	}
	return resTCP, nil
}

// udpDatagram reads a UDP header. A datagram cut short by the snap length
// is returned with what was captured; a malformed header is no error (UDP
// is not what this tool is about): the datagram is skipped.
func (d *Decoder) udpDatagram(data []byte) (result, error) {
	if len(data) < 8 {
		return resNonTCP, nil
	}
	n := int(binary.BigEndian.Uint16(data[4:6]))
	d.dg = Datagram{
		SrcPort: binary.BigEndian.Uint16(data[0:2]),
		DstPort: binary.BigEndian.Uint16(data[2:4]),
	}
	switch {
	case n < 8:
		if n != 0 { // 0: a jumbogram (RFC 2675), or unset by offload
			return resNonTCP, nil
		}
		d.dg.Payload = data[8:]
	case n > len(data):
		d.dg.Payload = data[8:]
		d.dg.Truncated = true
	default:
		d.dg.Payload = data[8:n]
	}
	return resUDP, nil
}
