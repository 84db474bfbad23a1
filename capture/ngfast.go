package capture

import (
	"time"

	"github.com/gopacket/gopacket/layers"
)

// The common pcapng packet, an Enhanced Packet Block without options in the
// file's first section, is read in place from the read buffer, as pcap
// records are, rather than copied out of it by pcapgo's NgReader: that is
// half the cost of reading a pcapng file. NgReader still reads every other
// block (interfaces, statistics, name resolution, secrets, simple and
// obsolete packet blocks, EPBs with options), and the interfaces it has
// read are what the fast path uses. Anything the fast path is not sure of
// (a block it has not seen whole, a second section, an unknown interface,
// a timestamp past the year 9999) goes to NgReader, which reads it, or
// says what is wrong with it, as before. Which section a block is in is
// known from ngObserver, which follows every block header as the bytes are
// read, whether or not checkNgBlocks could look at the block.

// ngIface is what the fast path needs of an interface: its link type and
// timestamp scale, computed as pcapgo computes them.
type ngIface struct {
	linkType                       layers.LinkType
	secondMask, scaleUp, scaleDown uint64
	offset                         uint64
}

// ngFastPacket reads the next packet if it is an EPB without options, of
// an interface NgReader knows, whole in the buffer, in the first section.
func (s *FileSource) ngFastPacket() (Packet, bool) {
	if s.ngSlow || s.br.Buffered() < 32 || !s.cr.ng.firstSection(s) {
		return Packet{}, false // (a Peek beyond what is buffered could move it)
	}
	h, _ := s.br.Peek(32)
	// In the first section's byte order (s.big): the fast path stops at a second.
	if get32(s.big, h[0:4]) != ngEPB {
		return Packet{}, false
	}
	length := int(get32(s.big, h[4:8]))
	caplen := int(get32(s.big, h[20:24]))
	if caplen > MaxPacketSize || length != 32+caplen+(4-caplen&3)&3 || length > s.br.Buffered() {
		return Packet{}, false // options, or not whole: NgReader's
	}
	ifc, ok := s.ngInterface(int(get32(s.big, h[8:12])))
	if !ok {
		return Packet{}, false
	}
	ts := uint64(get32(s.big, h[12:16]))<<32 | uint64(get32(s.big, h[16:20]))
	t := time.Unix(int64(ts/ifc.secondMask+ifc.offset), int64(ts%ifc.secondMask*ifc.scaleUp/ifc.scaleDown)).UTC()
	if t.Year() > 9999 {
		return Packet{}, false // NgReader's path reports it
	}
	wire := int(get32(s.big, h[24:28]))
	b, _ := s.br.Peek(length)
	data := b[28 : 28+caplen : 28+caplen]
	// The bytes stay where they are until the next call reads more.
	s.br.Discard(length)
	s.n++
	s.ngFast++
	return Packet{
		Index:     s.n,
		Timestamp: t,
		LinkType:  ifc.linkType,
		Data:      data,
		Length:    wire,
		Truncated: caplen < wire,
	}, true
}

// ngInterface returns interface id of the current section as NgReader read
// it.
func (s *FileSource) ngInterface(id int) (ngIface, bool) {
	if id < 0 || id >= s.ng.NInterfaces() {
		return ngIface{}, false
	}
	for i := len(s.ngIfaces); i <= id; i++ {
		ni, err := s.ng.Interface(i)
		if err != nil {
			return ngIface{}, false
		}
		res := ni.TimestampResolution // NgReader made 0 the default, 6
		var mask uint64 = 1
		if res.Binary() {
			mask <<= res.Exponent()
		} else {
			for range res.Exponent() {
				mask *= 10 // overflows for 10^-20 and finer, as in pcapgo
			}
		}
		if mask == 0 {
			return ngIface{}, false
		}
		f := ngIface{linkType: ni.LinkType, secondMask: mask, scaleUp: 1, scaleDown: 1, offset: ni.TimestampOffset}
		if mask < 1e9 {
			f.scaleUp = 1e9 / mask
		} else {
			f.scaleDown = mask / 1e9
		}
		s.ngIfaces = append(s.ngIfaces, f)
	}
	return s.ngIfaces[id], true
}
