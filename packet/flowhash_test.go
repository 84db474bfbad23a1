package packet

import (
	"bytes"
	"slices"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsinspect/tlsinspect/capture"
)

// decodedHash is the flow hash of what Decode finds in p.
func decodedHash(d *Decoder, p capture.Packet) (uint64, bool) {
	seg, ok, err := d.Decode(p)
	switch {
	case err != nil:
		return 0, false
	case ok:
		return EndpointsHash(layers.IPProtocolTCP, seg.Src, seg.Dst, uint16(seg.TCP.SrcPort), uint16(seg.TCP.DstPort)), true
	}
	if dg, ok := d.Datagram(); ok {
		return EndpointsHash(layers.IPProtocolUDP, dg.Src, dg.Dst, dg.SrcPort, dg.DstPort), true
	}
	return 0, false
}

// TestFlowHash: for every encapsulation the decoder knows, FlowHash either
// reads the packet and agrees with what Decode finds, or leaves it to
// Decode; it reads the common ones.
func TestFlowHash(t *testing.T) {
	reads := map[string]bool{
		"Ethernet IPv4": true, "Ethernet IPv6": true, "Ethernet with trailer": true, "802.1Q": true,
		"QinQ 802.1ad": true, "three stacked tags": true, "Linux SLL": true, "Linux SLL2": true,
		"raw IPv4 (101)": true, "raw IPv6 (101)": true, "raw IPv4 (12)": true, "raw IPv6 (14)": true,
		"IPv4 (228)": true, "IPv6 (229)": true, "NULL little endian AF_INET": true, "NULL big endian AF_INET": true,
		"NULL little endian AF_INET6 (24)": true, "NULL big endian AF_INET6 (28)": true,
		"NULL little endian AF_INET6 (30)": true, "LOOP AF_INET": true,
	}
	d := NewDecoder()
	for _, fr := range frames(t, []byte("hello")) {
		t.Run(fr.name, func(t *testing.T) {
			h, ok := FlowHash(fr.lt, fr.data)
			if ok != reads[fr.name] {
				t.Fatalf("FlowHash read it: %v, want %v", ok, reads[fr.name])
			}
			want, wok := decodedHash(d, pkt(fr.lt, fr.data))
			if !wok {
				t.Fatal("Decode found no flow")
			}
			if ok && h != want {
				t.Errorf("FlowHash %x, Decode's flow %x", h, want)
			}
		})
	}
}

func TestFlowHashBothDirections(t *testing.T) {
	a := tcp4(t, []byte("x"))
	b := bytes.Clone(a)
	copy(b[12:16], a[16:20]) // swap the addresses
	copy(b[16:20], a[12:16])
	copy(b[20:22], a[22:24]) // and the ports
	copy(b[22:24], a[20:22])
	ha, oka := FlowHash(layers.LinkTypeRaw, a)
	hb, okb := FlowHash(layers.LinkTypeRaw, b)
	if !oka || !okb || ha != hb {
		t.Errorf("%x %v, reversed %x %v", ha, oka, hb, okb)
	}
	c := bytes.Clone(a)
	c[21]++ // another source port
	if hc, _ := FlowHash(layers.LinkTypeRaw, c); hc == ha {
		t.Error("another connection has the same hash")
	}
}

// TestFlowHashLeavesFragments: fragments are for Decode to put together.
func TestFlowHashLeavesFragments(t *testing.T) {
	for _, fr := range fragments4(t, 7, bytes.Repeat([]byte("f"), 100), 48) {
		if _, ok := FlowHash(layers.LinkTypeRaw, fr); ok {
			t.Error("an IPv4 fragment was read")
		}
	}
	for _, fr := range fragments6(t, 7, bytes.Repeat([]byte("f"), 100), 48) {
		if _, ok := FlowHash(layers.LinkTypeRaw, fr); ok {
			t.Error("an IPv6 fragment was read")
		}
	}
}

// fuzzLinkTypes are the link types the fuzz targets pick from (by index).
var fuzzLinkTypes = []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeRaw,
	layers.LinkTypeIPv4, layers.LinkTypeIPv6, layers.LinkTypeNull, layers.LinkTypeLoop, 12, 14}

// addFrameSeeds seeds f with every test frame and the index of its link type.
func addFrameSeeds(f *testing.F) {
	for _, fr := range frames(f, []byte("seed")) {
		if i := slices.Index(fuzzLinkTypes, fr.lt); i >= 0 {
			f.Add(uint8(i), fr.data)
		}
	}
}

// FuzzFlowHash: FlowHash never fails, and when it reads a packet, Decode
// finds the same flow or rejects the packet.
func FuzzFlowHash(f *testing.F) {
	addFrameSeeds(f)
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		lt := fuzzLinkTypes[int(which)%len(fuzzLinkTypes)]
		h, ok := FlowHash(lt, data)
		if !ok {
			return
		}
		want, wok := decodedHash(d, capture.Packet{Index: 1, Timestamp: ts0, LinkType: lt, Data: data, Length: len(data)})
		if wok && want != h {
			t.Fatalf("FlowHash %x, Decode's flow %x", h, want)
		}
	})
}
