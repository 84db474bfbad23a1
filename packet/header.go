package packet

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsinspect/tlsinspect/capture"
)

// Header is a plain TCP segment as the fast path of Decode reads it: the
// fields reassembly needs and where the payload is, without the layers.
// Most packets of a capture are plain (Ethernet, maybe VLAN tags, Linux
// SLL, or raw IP; IPv4 without options, or IPv6 without extension headers;
// complete, not a fragment), and reading them by hand costs a fraction of
// decoding them with gopacket's layers.
type Header struct {
	// The addresses' 16 bytes as two big-endian words each, IPv4 in
	// IPv4-mapped form (::ffff:a.b.c.d). Words, not arrays, so that the
	// compiler keeps them in registers.
	srcHi, srcLo, dstHi, dstLo uint64
	srcPort, dstPort           uint16
	seq, ack                   uint32
	flags                      uint16 // NS << 8 | the flags byte
	window                     uint16
	dataOffset                 uint8
	start, end                 int32 // the payload in the packet's Data
}

// Read reads a plain TCP segment into h. It returns false for anything
// else, which DecodeLayers decodes; when true, that would give the same
// segment, and every field of h has been set, whatever h held before.
func (h *Header) Read(lt layers.LinkType, data []byte) bool {
	version, off, ok := ipStart(lt, data)
	if !ok {
		return false
	}
	ip := data[off:]
	var tcp []byte
	switch version {
	case 4:
		// No options; a total length within what was captured; not a
		// fragment.
		if len(ip) < 20 || ip[0] != 0x45 || ip[9] != byte(layers.IPProtocolTCP) ||
			binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
			return false
		}
		total := int(binary.BigEndian.Uint16(ip[2:4]))
		if total < 20 || total > len(ip) {
			return false
		}
		// Every field is set: a Header is reused from packet to packet.
		h.srcHi, h.dstHi = 0, 0
		h.srcLo = 0xffff<<32 | uint64(binary.BigEndian.Uint32(ip[12:16]))
		h.dstLo = 0xffff<<32 | uint64(binary.BigEndian.Uint32(ip[16:20]))
		tcp = ip[20:total]
		off += 20
	case 6:
		if len(ip) < 40 || ip[0]>>4 != 6 || ip[6] != byte(layers.IPProtocolTCP) {
			return false
		}
		n := int(binary.BigEndian.Uint16(ip[4:6]))
		if n == 0 || 40+n > len(ip) {
			return false
		}
		h.srcHi, h.srcLo = binary.BigEndian.Uint64(ip[8:16]), binary.BigEndian.Uint64(ip[16:24])
		h.dstHi, h.dstLo = binary.BigEndian.Uint64(ip[24:32]), binary.BigEndian.Uint64(ip[32:40])
		tcp = ip[40 : 40+n]
		off += 40
	default:
		return false
	}
	if len(tcp) < 20 {
		return false
	}
	hlen := int(tcp[12]>>4) * 4
	if hlen < 20 || hlen > len(tcp) {
		return false
	}
	h.srcPort = binary.BigEndian.Uint16(tcp[0:2])
	h.dstPort = binary.BigEndian.Uint16(tcp[2:4])
	h.seq = binary.BigEndian.Uint32(tcp[4:8])
	h.ack = binary.BigEndian.Uint32(tcp[8:12])
	h.flags = uint16(tcp[12]&1)<<8 | uint16(tcp[13])
	h.window = binary.BigEndian.Uint16(tcp[14:16])
	h.dataOffset = tcp[12] >> 4
	h.start = int32(off + hlen)
	h.end = int32(off + len(tcp))
	return true
}

// Hash is FlowHash of the packet the header was read from (hash16 hashes
// an IPv4-mapped address as the IPv4 one).
func (h *Header) Hash() uint64 {
	a := hash16(h.srcHi, h.srcLo, h.srcPort)
	b := hash16(h.dstHi, h.dstLo, h.dstPort)
	return combine(a, b, byte(layers.IPProtocolTCP))
}

// Endpoints returns the segment's addresses and ports. An address is its 16
// bytes (as netip.Addr.As16 gives them, IPv4 in IPv4-mapped form) read as
// two big-endian words, hi and lo.
func (h *Header) Endpoints() (srcHi, srcLo uint64, srcPort uint16, dstHi, dstLo uint64, dstPort uint16) {
	return h.srcHi, h.srcLo, h.srcPort, h.dstHi, h.dstLo, h.dstPort
}

// Control reports whether the segment has SYN, FIN or RST set: whether it
// can open or close a connection.
func (h *Header) Control() bool { return h.flags&0x07 != 0 }

// PayloadLen is the length of the segment's payload.
func (h *Header) PayloadLen() int { return int(h.end - h.start) }

// DecodeHeader is Decode of p, whose header h.Read read: the same
// segment and counts, without reading p.Data again (the payload is a slice
// of it, valid as long as p.Data is).
func (d *Decoder) DecodeHeader(p capture.Packet, h *Header) Segment {
	d.stats.Packets++
	d.stats.TCP++
	if p.Truncated {
		d.stats.Truncated++
	}
	d.dgOK = false
	t := &d.tcp
	t.SrcPort, t.DstPort = layers.TCPPort(h.srcPort), layers.TCPPort(h.dstPort)
	t.Seq, t.Ack = h.seq, h.ack
	t.DataOffset = h.dataOffset
	f := h.flags
	t.FIN, t.SYN, t.RST, t.PSH = f&0x01 != 0, f&0x02 != 0, f&0x04 != 0, f&0x08 != 0
	t.ACK, t.URG, t.ECE, t.CWR, t.NS = f&0x10 != 0, f&0x20 != 0, f&0x40 != 0, f&0x80 != 0, f&0x100 != 0
	t.Window = h.window
	t.Contents, t.Options, t.Padding = nil, t.Options[:0], nil
	t.Payload = p.Data[h.start:h.end:h.end]
	return Segment{
		Timestamp: p.Timestamp,
		TCP:       t,
		Src:       addrFrom16(h.srcHi, h.srcLo).Unmap(), // IPv4 is mapped
		Dst:       addrFrom16(h.dstHi, h.dstLo).Unmap(),
	}
}

func addrFrom16(hi, lo uint64) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return netip.AddrFrom16(b)
}
