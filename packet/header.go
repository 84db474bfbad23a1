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
	src, dst         [16]byte // IPv4 in the first 4 bytes
	v6               bool
	srcPort, dstPort uint16
	seq, ack         uint32
	flags            uint16 // NS << 8 | the flags byte
	window           uint16
	dataOffset       uint8
	start, end       int32 // the payload in the packet's Data
}

// ReadHeader reads a plain TCP segment. ok is false for anything else,
// which Decode decodes the slow way; when ok, that would give the same
// segment.
func ReadHeader(lt layers.LinkType, data []byte) (h Header, ok bool) {
	version, off, ok := ipStart(lt, data)
	if !ok {
		return h, false
	}
	ip := data[off:]
	var tcp []byte
	switch version {
	case 4:
		// No options; a total length within what was captured; not a
		// fragment.
		if len(ip) < 20 || ip[0] != 0x45 || ip[9] != byte(layers.IPProtocolTCP) ||
			binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
			return h, false
		}
		total := int(binary.BigEndian.Uint16(ip[2:4]))
		if total < 20 || total > len(ip) {
			return h, false
		}
		copy(h.src[:4], ip[12:16])
		copy(h.dst[:4], ip[16:20])
		tcp = ip[20:total]
		off += 20
	case 6:
		if len(ip) < 40 || ip[0]>>4 != 6 || ip[6] != byte(layers.IPProtocolTCP) {
			return h, false
		}
		n := int(binary.BigEndian.Uint16(ip[4:6]))
		if n == 0 || 40+n > len(ip) {
			return h, false
		}
		copy(h.src[:], ip[8:24])
		copy(h.dst[:], ip[24:40])
		h.v6 = true
		tcp = ip[40 : 40+n]
		off += 40
	default:
		return h, false
	}
	if len(tcp) < 20 {
		return h, false
	}
	hlen := int(tcp[12]>>4) * 4
	if hlen < 20 || hlen > len(tcp) {
		return h, false
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
	return h, true
}

// Hash is FlowHash of the packet the header was read from.
func (h *Header) Hash() uint64 {
	var a, b uint64
	if h.v6 {
		a = hash16(binary.BigEndian.Uint64(h.src[0:8]), binary.BigEndian.Uint64(h.src[8:16]), h.srcPort)
		b = hash16(binary.BigEndian.Uint64(h.dst[0:8]), binary.BigEndian.Uint64(h.dst[8:16]), h.dstPort)
	} else {
		a = hash4(binary.BigEndian.Uint32(h.src[:4]), h.srcPort)
		b = hash4(binary.BigEndian.Uint32(h.dst[:4]), h.dstPort)
	}
	return combine(a, b, byte(layers.IPProtocolTCP))
}

// DecodeHeader is Decode of p, whose header ReadHeader read: the same
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
	seg := Segment{Timestamp: p.Timestamp, TCP: t}
	if h.v6 {
		seg.Src = netip.AddrFrom16(h.src).Unmap()
		seg.Dst = netip.AddrFrom16(h.dst).Unmap()
	} else {
		seg.Src = netip.AddrFrom4([4]byte(h.src[:4]))
		seg.Dst = netip.AddrFrom4([4]byte(h.dst[:4]))
	}
	return seg
}
