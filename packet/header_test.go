package packet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
)

// readHeader is Header.Read into a new Header.
func readHeader(lt layers.LinkType, data []byte) (h Header, ok bool) {
	ok = h.Read(lt, data)
	return h, ok
}

// describeSegment lists every field of a decoded segment that is used.
func describeSegment(seg Segment) string {
	t := seg.TCP
	return fmt.Sprintf("%v %v %d>%d seq %d ack %d off %d flags %v%v%v%v%v%v%v%v%v win %d trunc %v payload %x",
		seg.Src, seg.Dst, t.SrcPort, t.DstPort, t.Seq, t.Ack, t.DataOffset,
		t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR, t.NS, t.Window, seg.Truncated, t.Payload)
}

// sameAsLayers checks that what Header.Read reads of p, if anything, is what
// the layers give; it reports whether Header.Read read it.
func sameAsLayers(t *testing.T, p capture.Packet) bool {
	t.Helper()
	h, ok := readHeader(p.LinkType, p.Data)
	if !ok {
		return false
	}
	slow := NewDecoder()
	want, wok, err := slow.DecodeLayers(p)
	if err != nil || !wok {
		t.Fatalf("packet %d: Header.Read read it, the layers say ok=%v, %v", p.Index, wok, err)
	}
	ws := describeSegment(want)
	if h.Hash() != EndpointsHash(layers.IPProtocolTCP, want.Src, want.Dst, uint16(want.TCP.SrcPort), uint16(want.TCP.DstPort)) {
		t.Fatalf("packet %d: Header.Hash differs from the flow's hash", p.Index)
	}
	// What the analyzer's fast path reads without decoding: the addresses
	// as As16 words, SYN/FIN/RST, the payload length.
	srcHi, srcLo, srcPort, dstHi, dstLo, dstPort := h.Endpoints()
	if w := words(want.Src); srcHi != w[0] || srcLo != w[1] || srcPort != uint16(want.TCP.SrcPort) {
		t.Fatalf("packet %d: Endpoints gives source %x %x :%d, want %v:%d", p.Index, srcHi, srcLo, srcPort, want.Src, want.TCP.SrcPort)
	}
	if w := words(want.Dst); dstHi != w[0] || dstLo != w[1] || dstPort != uint16(want.TCP.DstPort) {
		t.Fatalf("packet %d: Endpoints gives destination %x %x :%d, want %v:%d", p.Index, dstHi, dstLo, dstPort, want.Dst, want.TCP.DstPort)
	}
	if c := want.TCP.SYN || want.TCP.FIN || want.TCP.RST; h.Control() != c {
		t.Fatalf("packet %d: Control %v, want %v", p.Index, h.Control(), c)
	}
	if h.PayloadLen() != len(want.TCP.Payload) {
		t.Fatalf("packet %d: PayloadLen %d, want %d", p.Index, h.PayloadLen(), len(want.TCP.Payload))
	}
	fast := NewDecoder()
	got := describeSegment(fast.DecodeHeader(p, &h))
	if got != ws {
		t.Fatalf("packet %d:\nfast   %s\nlayers %s", p.Index, got, ws)
	}
	if fast.Stats() != slow.Stats() {
		t.Fatalf("packet %d: counts %+v, layers %+v", p.Index, fast.Stats(), slow.Stats())
	}
	return true
}

// words is an address's As16 bytes as two big-endian words.
func words(a netip.Addr) [2]uint64 {
	b := a.As16()
	return [2]uint64{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// TestReadHeaderSameAsLayers: on every packet of the project's captures
// and of the shared corpus, the fast path gives what the layers give; it
// reads most of them.
func TestReadHeaderSameAsLayers(t *testing.T) {
	files := testcorpus.Files(t, "../testdata/pcaps")
	own := len(files)
	files = append(files, testcorpus.CapturesIfPresent(t)...)
	var packets, fast int
	for i, f := range files {
		// The project's captures must read whole; the corpus has
		// damaged ones on purpose.
		src, err := capture.OpenFile(f)
		if err != nil {
			if i < own {
				t.Fatal(err)
			}
			continue
		}
		for {
			p, err := src.Next()
			if err != nil {
				if i < own && !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
			packets++
			if sameAsLayers(t, p) {
				fast++
			}
		}
		src.Close()
	}
	t.Logf("%d files, %d packets, %d read by the fast path", len(files), packets, fast)
	if fast < packets/2 {
		t.Errorf("the fast path read %d of %d packets", fast, packets)
	}
}

// TestReadHeaderEncapsulations: the encapsulations it reads, and those it
// leaves to the layers.
func TestReadHeaderEncapsulations(t *testing.T) {
	for _, fr := range frames(t, []byte("hello")) {
		p := pkt(fr.lt, fr.data)
		_, flowOK := FlowHash(fr.lt, fr.data)
		if got := sameAsLayers(t, p); got != flowOK {
			t.Errorf("%s: Header.Read read it: %v, FlowHash: %v", fr.name, got, flowOK)
		}
	}
	p4 := tcp4(t, []byte("x"))
	// IPv6 with IPv4-mapped addresses is the IPv4 connection (as the
	// layers give it: Unmap).
	ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
		SrcIP: netip.AddrFrom16(src4.As16()).AsSlice(), DstIP: netip.AddrFrom16(dst4.As16()).AsSlice()}
	tcp, pl := tcpLayer([]byte("x"))
	if err := tcp.SetNetworkLayerForChecksum(ip6); err != nil {
		t.Fatal(err)
	}
	mapped := serialize(t, ip6, tcp, pl)
	if !sameAsLayers(t, pkt(layers.LinkTypeRaw, mapped)) {
		t.Error("IPv4-mapped IPv6: not read by the fast path")
	}
	h4, _ := readHeader(layers.LinkTypeRaw, p4)
	h6, _ := readHeader(layers.LinkTypeRaw, mapped)
	s4hi, s4lo, s4p, d4hi, d4lo, d4p := h4.Endpoints()
	s6hi, s6lo, s6p, d6hi, d6lo, d6p := h6.Endpoints()
	if [6]uint64{s4hi, s4lo, uint64(s4p), d4hi, d4lo, uint64(d4p)} != [6]uint64{s6hi, s6lo, uint64(s6p), d6hi, d6lo, uint64(d6p)} {
		t.Errorf("IPv4-mapped IPv6 endpoints %x %x :%d, %x %x :%d differ from IPv4's %x %x :%d, %x %x :%d",
			s6hi, s6lo, s6p, d6hi, d6lo, d6p, s4hi, s4lo, s4p, d4hi, d4lo, d4p)
	}
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"IPv4 options", func() []byte { b := bytes.Clone(p4); b[0] = 0x46; return b }()},
		{"IPv4 total length over the capture", func() []byte { b := bytes.Clone(p4); b[3] += 10; return b }()},
		{"IPv4 total length 0", func() []byte { b := bytes.Clone(p4); b[2], b[3] = 0, 0; return b }()},
		{"IPv4 fragment", func() []byte { b := bytes.Clone(p4); b[6] |= 0x20; return b }()},
		{"TCP data offset 4", func() []byte { b := bytes.Clone(p4); b[32] = 0x40; return b }()},
		{"TCP data offset past the end", func() []byte { b := bytes.Clone(p4); b[32] = 0xf0; return b }()},
	} {
		if _, ok := readHeader(layers.LinkTypeRaw, tt.data); ok {
			t.Errorf("%s: read by the fast path", tt.name)
		}
	}
}

// FuzzReadHeader: whatever Header.Read reads, the layers read the same way.
func FuzzReadHeader(f *testing.F) {
	addFrameSeeds(f)
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		lt := fuzzLinkTypes[int(which)%len(fuzzLinkTypes)]
		sameAsLayers(t, capture.Packet{Index: 1, Timestamp: ts0, LinkType: lt, Data: data, Length: len(data)})
	})
}

// TestReadReusedHeader: a Header read into again reads as a new one,
// whatever the packet before was (IPv6 then IPv4 left the IPv6 address's
// high half and the v6 flag behind, once).
func TestReadReusedHeader(t *testing.T) {
	fs := frames(t, []byte("hello"))
	for _, a := range fs {
		for _, b := range fs {
			var h Header
			h.Read(a.lt, a.data)
			ok := h.Read(b.lt, b.data)
			want, wantOK := readHeader(b.lt, b.data)
			if ok != wantOK || ok && h != want {
				t.Errorf("%s after %s: %+v, %v; read afresh %+v, %v", b.name, a.name, h, ok, want, wantOK)
			}
		}
	}
}
