package packet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
)

// describeSegment lists every field of a decoded segment that is used.
func describeSegment(seg Segment) string {
	t := seg.TCP
	return fmt.Sprintf("%v %v %d>%d seq %d ack %d off %d flags %v%v%v%v%v%v%v%v%v win %d trunc %v payload %x",
		seg.Src, seg.Dst, t.SrcPort, t.DstPort, t.Seq, t.Ack, t.DataOffset,
		t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR, t.NS, t.Window, seg.Truncated, t.Payload)
}

// sameAsLayers checks that what ReadHeader reads of p, if anything, is what
// the layers give; it reports whether ReadHeader read it.
func sameAsLayers(t *testing.T, p capture.Packet) bool {
	t.Helper()
	h, ok := ReadHeader(p.LinkType, p.Data)
	if !ok {
		return false
	}
	slow := NewDecoder()
	want, wok, err := slow.decodeLayers(p)
	if err != nil || !wok {
		t.Fatalf("packet %d: ReadHeader read it, the layers say ok=%v, %v", p.Index, wok, err)
	}
	ws := describeSegment(want)
	if h.Hash() != EndpointsHash(layers.IPProtocolTCP, want.Src, want.Dst, uint16(want.TCP.SrcPort), uint16(want.TCP.DstPort)) {
		t.Fatalf("packet %d: Header.Hash differs from the flow's hash", p.Index)
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
			t.Errorf("%s: ReadHeader read it: %v, FlowHash: %v", fr.name, got, flowOK)
		}
	}
	p4 := tcp4(t, []byte("x"))
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
		if _, ok := ReadHeader(layers.LinkTypeRaw, tt.data); ok {
			t.Errorf("%s: read by the fast path", tt.name)
		}
	}
}

// FuzzReadHeader: whatever ReadHeader reads, the layers read the same way.
func FuzzReadHeader(f *testing.F) {
	addFrameSeeds(f)
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		lt := fuzzLinkTypes[int(which)%len(fuzzLinkTypes)]
		sameAsLayers(t, capture.Packet{Index: 1, Timestamp: ts0, LinkType: lt, Data: data, Length: len(data)})
	})
}
