package packet

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsinspect/tlsinspect/capture"
)

var (
	src4, dst4 = netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7")
	src6, dst6 = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8:ffff::443")
	macA       = net.HardwareAddr{0, 1, 2, 3, 4, 5}
	macB       = net.HardwareAddr{0, 1, 2, 3, 4, 6}
	ts0        = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
)

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func tcpLayer(payload []byte) (*layers.TCP, gopacket.Payload) {
	return &layers.TCP{SrcPort: 50123, DstPort: 443, Seq: 1000, Ack: 1, ACK: true, PSH: true, Window: 512}, gopacket.Payload(payload)
}

// tcp4 is an IPv4 packet with a TCP segment.
func tcp4(t testing.TB, payload []byte) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 77, Protocol: layers.IPProtocolTCP, SrcIP: src4.AsSlice(), DstIP: dst4.AsSlice()}
	tcp, pl := tcpLayer(payload)
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	return serialize(t, ip, tcp, pl)
}

// tcp6 is an IPv6 packet with a TCP segment.
func tcp6(t testing.TB, payload []byte) []byte {
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: src6.AsSlice(), DstIP: dst6.AsSlice()}
	tcp, pl := tcpLayer(payload)
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	return serialize(t, ip, tcp, pl)
}

func ether(et layers.EthernetType, rest []byte) []byte {
	b := append([]byte(nil), macB...)
	b = append(b, macA...)
	b = binary.BigEndian.AppendUint16(b, uint16(et))
	return append(b, rest...)
}

func tag(tpid layers.EthernetType, vlan uint16, rest []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(tpid))
	b = binary.BigEndian.AppendUint16(b, vlan)
	return append(b, rest...)
}

func concat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

type frame struct {
	name string
	lt   layers.LinkType
	data []byte
	v6   bool
}

func frames(t testing.TB, payload []byte) []frame {
	p4, p6 := tcp4(t, payload), tcp6(t, payload)
	vlan := serialize(t,
		&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4},
		gopacket.Payload(p4))
	pppoe := concat([]byte{0x11, 0x00}, be16(0x1234), be16(uint16(2+len(p6))), be16(0x0057), p6)
	sll := concat(be16(0), be16(1), be16(6), macA, []byte{0, 0}, be16(uint16(layers.EthernetTypeIPv4)), p4)
	sll2 := concat(be16(uint16(layers.EthernetTypeIPv6)), be16(0), be32(3), be16(1), []byte{4, 6}, macA, []byte{0, 0}, p6)
	hbh := serialize(t, &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Destination, SrcIP: src6.AsSlice(), DstIP: dst6.AsSlice()},
		gopacket.Payload(concat([]byte{byte(layers.IPProtocolTCP), 0, 1, 4, 0, 0, 0, 0}, p6[40:])))
	ipip := serialize(t, &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolIPv6, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}}, gopacket.Payload(p6))
	return []frame{
		{"Ethernet IPv4", layers.LinkTypeEthernet, ether(layers.EthernetTypeIPv4, p4), false},
		{"Ethernet IPv6", layers.LinkTypeEthernet, ether(layers.EthernetTypeIPv6, p6), true},
		{"Ethernet with trailer", layers.LinkTypeEthernet, concat(ether(layers.EthernetTypeIPv4, p4), make([]byte, 6)), false},
		{"802.1Q", layers.LinkTypeEthernet, vlan, false},
		{"QinQ 802.1ad", layers.LinkTypeEthernet, ether(layers.EthernetTypeQinQ, tag(layers.EthernetTypeDot1Q, 20, concat(be16(uint16(layers.EthernetTypeIPv6)), p6))[2:]), true},
		{"three stacked tags", layers.LinkTypeEthernet, ether(0x9100, concat(be16(5), be16(0x88a8), be16(6), be16(0x8100), be16(7), be16(0x0800), p4)), false},
		{"PPPoE over QinQ", layers.LinkTypeEthernet, ether(layers.EthernetTypeQinQ, concat(be16(100), be16(0x8100), be16(200), be16(0x8864), pppoe)), true},
		{"MPLS", layers.LinkTypeEthernet, ether(layers.EthernetTypeMPLSUnicast, concat([]byte{0, 1, 0, 64, 0, 2, 1, 64}, p4)), false},
		{"Linux SLL", layers.LinkTypeLinuxSLL, sll, false},
		{"Linux SLL2", layers.LinkTypeLinuxSLL2, sll2, true},
		{"raw IPv4 (101)", layers.LinkTypeRaw, p4, false},
		{"raw IPv6 (101)", layers.LinkTypeRaw, p6, true},
		{"raw IPv4 (12)", 12, p4, false},
		{"raw IPv6 (14)", 14, p6, true},
		{"IPv4 (228)", layers.LinkTypeIPv4, p4, false},
		{"IPv6 (229)", layers.LinkTypeIPv6, p6, true},
		{"NULL little endian AF_INET", layers.LinkTypeNull, concat(le32(2), p4), false},
		{"NULL big endian AF_INET", layers.LinkTypeNull, concat(be32(2), p4), false},
		{"NULL little endian AF_INET6 (24)", layers.LinkTypeNull, concat(le32(24), p6), true},
		{"NULL big endian AF_INET6 (28)", layers.LinkTypeNull, concat(be32(28), p6), true},
		{"NULL little endian AF_INET6 (30)", layers.LinkTypeNull, concat(le32(30), p6), true},
		{"LOOP AF_INET", layers.LinkTypeLoop, concat(be32(2), p4), false},
		{"PPP", layers.LinkTypePPP, concat([]byte{0xff, 0x03}, be16(0x0021), p4), false},
		{"PPP without address and control", layers.LinkTypePPP, concat(be16(0x0057), p6), true},
		{"Cisco HDLC", layers.LinkTypeC_HDLC, concat([]byte{0x0f, 0}, be16(0x0800), p4), false},
		{"IPv6 destination options", layers.LinkTypeRaw, hbh, true},
		{"IPv6 in IPv4", layers.LinkTypeRaw, ipip, true},
	}
}

func checkSegment(t *testing.T, seg Segment, v6 bool, payload []byte) {
	t.Helper()
	src, dst := src4, dst4
	if v6 {
		src, dst = src6, dst6
	}
	if seg.Src != src || seg.Dst != dst {
		t.Errorf("addresses %v -> %v, want %v -> %v", seg.Src, seg.Dst, src, dst)
	}
	if seg.TCP == nil || seg.TCP.SrcPort != 50123 || seg.TCP.DstPort != 443 || seg.TCP.Seq != 1000 || !seg.TCP.ACK || !seg.TCP.PSH {
		t.Fatalf("TCP header %+v", seg.TCP)
	}
	if !bytes.Equal(seg.TCP.Payload, payload) {
		t.Errorf("payload %q, want %q", seg.TCP.Payload, payload)
	}
}

// TestLinkTypesThroughFiles writes every frame kind to pcap (µs and ns),
// pcapng (one interface per link type) and gzip copies, then reads them back
// through capture and decodes them.
func TestLinkTypesThroughFiles(t *testing.T) {
	payload := []byte("\x16\x03\x01\x00\x05hello")
	fs := frames(t, payload)

	var ng bytes.Buffer
	ngw, err := pcapgo.NewNgWriterInterface(&ng, pcapgo.NgInterface{LinkType: fs[0].lt, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	ifaces := map[layers.LinkType]int{fs[0].lt: 0}
	for i, f := range fs {
		id, ok := ifaces[f.lt]
		if !ok {
			id, err = ngw.AddInterface(pcapgo.NgInterface{LinkType: f.lt, SnapLength: 65535})
			if err != nil {
				t.Fatal(err)
			}
			ifaces[f.lt] = id
		}
		ci := gopacket.CaptureInfo{Timestamp: ts0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f.data), Length: len(f.data), InterfaceIndex: id}
		if err := ngw.WritePacket(ci, f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := ngw.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(ifaces) < 10 {
		t.Fatalf("only %d interfaces", len(ifaces))
	}
	checkFile := func(t *testing.T, file []byte, want []frame) {
		src, err := capture.NewFileSource("t", bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		d := NewDecoder()
		for i, f := range want {
			p, err := src.Next()
			if err != nil {
				t.Fatalf("frame %d (%s): %v", i+1, f.name, err)
			}
			if p.LinkType != f.lt {
				t.Errorf("%s: link type %v, want %v", f.name, p.LinkType, f.lt)
			}
			seg, ok, err := d.Decode(p)
			if err != nil || !ok {
				t.Fatalf("%s: ok=%v err=%v", f.name, ok, err)
			}
			if !seg.Timestamp.Equal(p.Timestamp) {
				t.Errorf("%s: timestamp %v", f.name, seg.Timestamp)
			}
			checkSegment(t, seg, f.v6, payload)
		}
		if _, err := src.Next(); err != io.EOF {
			t.Errorf("after the frames: %v", err)
		}
		if st := d.Stats(); st.Packets != len(want) || st.TCP != len(want) || st.Errors != 0 {
			t.Errorf("stats %+v", st)
		}
	}
	t.Run("pcapng mixed link types", func(t *testing.T) { checkFile(t, ng.Bytes(), fs) })
	t.Run("pcapng gzip", func(t *testing.T) { checkFile(t, gzipped(t, ng.Bytes()), fs) })
	for _, nanos := range []bool{false, true} {
		for _, f := range fs {
			var b bytes.Buffer
			w := pcapgo.NewWriter(&b)
			if nanos {
				w = pcapgo.NewWriterNanos(&b)
			}
			if err := w.WriteFileHeader(65535, f.lt); err != nil {
				t.Fatal(err)
			}
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts0.Add(123456789), CaptureLength: len(f.data), Length: len(f.data)}, f.data); err != nil {
				t.Fatal(err)
			}
			name := f.name
			if nanos {
				name += " ns"
			}
			t.Run("pcap "+name, func(t *testing.T) { checkFile(t, b.Bytes(), []frame{f}) })
			t.Run("pcap gzip "+name, func(t *testing.T) { checkFile(t, gzipped(t, b.Bytes()), []frame{f}) })
		}
	}
}

func gzipped(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func pkt(lt layers.LinkType, data []byte) capture.Packet {
	return capture.Packet{Index: 12, Timestamp: ts0, LinkType: lt, Data: data, Length: len(data)}
}

func TestNotTCP(t *testing.T) {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src4.AsSlice(), DstIP: dst4.AsSlice()}
	u := &layers.UDP{SrcPort: 53, DstPort: 53}
	if err := u.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	udp := serialize(t, ip, u, gopacket.Payload("x"))
	arp := ether(layers.EthernetTypeARP, make([]byte, 28))
	tests := []struct {
		name string
		lt   layers.LinkType
		data []byte
	}{
		{"UDP", layers.LinkTypeRaw, udp},
		{"ARP", layers.LinkTypeEthernet, arp},
		{"802.3 LLC", layers.LinkTypeEthernet, ether(46, make([]byte, 46))},
		{"NULL AF 7", layers.LinkTypeNull, concat(le32(7), make([]byte, 20))},
		{"PPP LCP", layers.LinkTypePPP, concat([]byte{0xff, 3}, be16(0xc021), make([]byte, 8))},
		{"SLL IPX", layers.LinkTypeLinuxSLL, concat(make([]byte, 14), be16(0x8137), make([]byte, 30))},
	}
	d := NewDecoder()
	for _, tt := range tests {
		_, ok, err := d.Decode(pkt(tt.lt, tt.data))
		if ok || err != nil {
			t.Errorf("%s: ok=%v err=%v, want not TCP", tt.name, ok, err)
		}
	}
	if st := d.Stats(); st.NonTCP != len(tests) || st.TCP != 0 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestMalformed(t *testing.T) {
	p4 := tcp4(t, []byte("data"))
	badIHL := append([]byte(nil), p4...)
	badIHL[0] = 0x43
	badOff := append([]byte(nil), p4...)
	badOff[20+12] = 0x20
	longOff := append([]byte(nil), p4...)
	longOff[20+12] = 0xf0
	p6 := tcp6(t, nil)
	tests := []struct {
		name string
		lt   layers.LinkType
		data []byte
		msg  string
	}{
		{"IHL 3", layers.LinkTypeRaw, badIHL, "packet 12: IPv4 header length 3 < 5"},
		{"TCP data offset 2", layers.LinkTypeRaw, badOff, "packet 12: TCP data offset 2 < 5"},
		{"TCP header longer than IP payload", layers.LinkTypeRaw, longOff, "packet 12: TCP header length 60 exceeds the 24 bytes of the IP payload"},
		{"short Ethernet", layers.LinkTypeEthernet, make([]byte, 10), "packet 12: Ethernet header truncated (10 of 14 bytes captured)"},
		{"short IPv4", layers.LinkTypeIPv4, p4[:12], "packet 12: IPv4 header truncated (12 of 20 bytes captured)"},
		{"short IPv6", layers.LinkTypeIPv6, p6[:39], "packet 12: IPv6 header truncated (39 of 40 bytes captured)"},
		{"IPv4 total length below header", layers.LinkTypeRaw, concat(p4[:2], be16(12), p4[4:]), "packet 12: IPv4 total length 12 < header length 20"},
		{"raw version 5", layers.LinkTypeRaw, concat([]byte{0x50}, p4[1:]), "packet 12: raw IP packet with IP version 5"},
		{"IPv6 link type with IPv4", layers.LinkTypeIPv6, concat(p4, make([]byte, 20)), "packet 12: IPv6 header with IP version 4"},
		{"cut TCP header", layers.LinkTypeRaw, concat(p4[:2], be16(30), p4[4:30]), "packet 12: TCP header truncated (10 of 20 bytes captured)"},
		{"unsupported link type", layers.LinkTypeIEEE802_11, p4, "packet 12: unsupported link type 105 (802.11)"},
		{"empty raw", layers.LinkTypeRaw, nil, "packet 12: IP header truncated (0 of 20 bytes captured)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder()
			_, ok, err := d.Decode(pkt(tt.lt, tt.data))
			if ok || err == nil {
				t.Fatalf("ok=%v err=%v", ok, err)
			}
			if err.Error() != tt.msg {
				t.Errorf("error\n %q, want\n %q", err, tt.msg)
			}
			if st := d.Stats(); st.Errors != 1 || st.NonTCP != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
	if _, _, err := NewDecoder().Decode(pkt(layers.LinkTypeIEEE802_11, p4)); !errors.Is(err, ErrUnsupportedLinkType) {
		t.Errorf("%v is not ErrUnsupportedLinkType", err)
	}
}

func TestSnaplenTruncated(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 1000)
	f := ether(layers.EthernetTypeIPv4, tcp4(t, payload))
	p := pkt(layers.LinkTypeEthernet, f[:200])
	p.Length, p.Truncated = len(f), true
	d := NewDecoder()
	seg, ok, err := d.Decode(p)
	if !ok || err != nil {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if !seg.Truncated || len(seg.TCP.Payload) != 200-14-40 {
		t.Errorf("truncated=%v payload %d bytes", seg.Truncated, len(seg.TCP.Payload))
	}
	if st := d.Stats(); st.Truncated != 1 || st.TCP != 1 {
		t.Errorf("stats %+v", st)
	}
}

// fragments4 splits an IPv4 TCP packet into fragments of at most size bytes
// of payload.
func fragments4(t testing.TB, id uint16, payload []byte, size int) [][]byte {
	whole := tcp4(t, payload)
	body := whole[20:]
	var out [][]byte
	for off := 0; off < len(body); off += size {
		end := min(off+size, len(body))
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: id, Protocol: layers.IPProtocolTCP, SrcIP: src4.AsSlice(), DstIP: dst4.AsSlice(), FragOffset: uint16(off / 8)}
		if end < len(body) {
			ip.Flags = layers.IPv4MoreFragments
		}
		out = append(out, serialize(t, ip, gopacket.Payload(body[off:end])))
	}
	return out
}

func fragments6(t testing.TB, id uint32, payload []byte, size int) [][]byte {
	whole := tcp6(t, payload)
	body := whole[40:]
	var out [][]byte
	for off := 0; off < len(body); off += size {
		end := min(off+size, len(body))
		fh := be16(uint16(off))
		if end < len(body) {
			fh[1] |= 1
		}
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment, SrcIP: src6.AsSlice(), DstIP: dst6.AsSlice()}
		out = append(out, serialize(t, ip, gopacket.Payload(concat([]byte{byte(layers.IPProtocolTCP), 0}, fh, be32(id), body[off:end]))))
	}
	return out
}

func TestFragments(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 20)
	tests := []struct {
		name  string
		lt    layers.LinkType
		frags [][]byte
		order []int
		v6    bool
	}{
		{"IPv4 in order", layers.LinkTypeRaw, fragments4(t, 1, payload, 128), []int{0, 1, 2}, false},
		{"IPv4 out of order", layers.LinkTypeRaw, fragments4(t, 2, payload, 128), []int{2, 0, 1}, false},
		{"IPv4 reversed with duplicate", layers.LinkTypeRaw, fragments4(t, 3, payload, 96), []int{3, 2, 2, 1, 0}, false},
		{"IPv6 in order", layers.LinkTypeRaw, fragments6(t, 1, payload, 128), []int{0, 1, 2}, true},
		{"IPv6 out of order", layers.LinkTypeRaw, fragments6(t, 2, payload, 128), []int{1, 2, 0}, true},
		{"IPv6 reversed", layers.LinkTypeRaw, fragments6(t, 3, payload, 96), []int{3, 2, 1, 0}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder()
			for i, fi := range tt.order {
				// the capture buffer is reused: fragments must be copied
				buf := append([]byte(nil), tt.frags[fi]...)
				p := pkt(tt.lt, buf)
				p.Index = i + 1
				seg, ok, err := d.Decode(p)
				clear(buf)
				if err != nil {
					t.Fatalf("fragment %d: %v", fi, err)
				}
				last := i == len(tt.order)-1
				if ok != last {
					t.Fatalf("fragment %d (step %d): ok=%v", fi, i, ok)
				}
				if last {
					checkSegment(t, seg, tt.v6, payload)
				}
			}
			st := d.Stats()
			if st.Reassembled != 1 || st.Fragments != len(tt.order) || st.TCP != 1 || st.NonTCP != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestFragmentLimits(t *testing.T) {
	d := NewDecoder()
	payload := bytes.Repeat([]byte("z"), 400)
	n := 0
	// first fragments of datagrams that never complete
	for id := range 100 {
		f := fragments4(t, uint16(id), payload, 200)[0]
		p := pkt(layers.LinkTypeRaw, f)
		p.Timestamp = ts0.Add(time.Duration(id) * time.Second)
		if _, ok, err := d.Decode(p); ok || err != nil {
			t.Fatalf("ok=%v err=%v", ok, err)
		}
		n += len(f) - 20
	}
	if d.state4.pending >= n || d.state4.pending > 61*(len(payload)/2+20+8) {
		t.Errorf("pending %d bytes after 100 s of incomplete datagrams (%d sent)", d.state4.pending, n)
	}
	// Nothing vanishes silently: what was given up and what is held add up.
	if st := d.Stats(); st.FragmentBytesDropped+d.PendingFragmentBytes() != n {
		t.Errorf("%d bytes given up + %d held, want %d", st.FragmentBytesDropped, d.PendingFragmentBytes(), n)
	}
	// a late second fragment of datagram 0 no longer completes it
	late := fragments4(t, 0, payload, 200)
	p := pkt(layers.LinkTypeRaw, late[len(late)-1])
	p.Timestamp = ts0.Add(100 * time.Second)
	if _, ok, err := d.Decode(p); ok || err != nil {
		t.Errorf("late fragment: ok=%v err=%v", ok, err)
	}
}

func TestDecodeAllocations(t *testing.T) {
	fs := frames(t, bytes.Repeat([]byte("a"), 100))
	d := NewDecoder()
	for _, f := range fs {
		p := pkt(f.lt, f.data)
		allocs := testing.AllocsPerRun(100, func() {
			if _, ok, err := d.Decode(p); !ok || err != nil {
				t.Fatalf("%s: ok=%v err=%v", f.name, ok, err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Decode", f.name, allocs)
		}
	}
}

func corpusDir(t testing.TB) string { return testcorpus.Dir(t) }

// TestCorpus decodes every packet of every capture in the shared corpus.
func TestCorpus(t *testing.T) {
	c := corpusDir(t)
	var total Stats
	files := 0
	err := filepath.WalkDir(c, func(path string, de os.DirEntry, err error) error {
		name := strings.TrimSuffix(de.Name(), ".gz")
		if err != nil || de.IsDir() || !(strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng") || strings.HasSuffix(name, ".cap")) {
			return err
		}
		rel, _ := filepath.Rel(c, path)
		files++
		src, err := capture.OpenFile(path)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		defer src.Close()
		d := NewDecoder()
		var firstErr error
		for {
			p, err := src.Next()
			if err != nil {
				var re *capture.ReadError
				if err != io.EOF && !errors.As(err, &re) {
					t.Errorf("%s: %v", rel, err)
				}
				if re != nil && !strings.Contains(rel, "bug-1450") {
					t.Errorf("%s: %v", rel, err)
				}
				break
			}
			if _, _, err := d.Decode(p); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		st := d.Stats()
		if st.Errors > 0 {
			t.Logf("%s: %d of %d packets undecodable, first: %v", rel, st.Errors, st.Packets, firstErr)
		}
		total.Packets += st.Packets
		total.TCP += st.TCP
		total.NonTCP += st.NonTCP
		total.Errors += st.Errors
		total.Reassembled += st.Reassembled
		total.Fragments += st.Fragments
		total.Truncated += st.Truncated
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d files: %+v", files, total)
	if files > 0 && total.TCP == 0 {
		t.Error("no TCP segments in the corpus")
	}
}

func FuzzDecode(f *testing.F) {
	linkTypes := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeRaw,
		layers.LinkTypeIPv4, layers.LinkTypeIPv6, layers.LinkTypeNull, layers.LinkTypeLoop, layers.LinkTypePPP, layers.LinkTypeC_HDLC, 12, 14}
	for _, fr := range frames(f, []byte("seed")) {
		for i, lt := range linkTypes {
			if lt == fr.lt {
				f.Add(uint8(i), fr.data)
			}
		}
	}
	for _, fr := range fragments6(f, 9, bytes.Repeat([]byte("q"), 100), 64) {
		f.Add(uint8(3), fr)
	}
	for _, fr := range fragments4(f, 9, bytes.Repeat([]byte("q"), 100), 64) {
		f.Add(uint8(3), fr)
	}
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		p := capture.Packet{Index: 1, Timestamp: ts0, LinkType: linkTypes[int(which)%len(linkTypes)], Data: data, Length: len(data)}
		seg, ok, err := d.Decode(p)
		if ok && (err != nil || seg.TCP == nil || !seg.Src.IsValid() || !seg.Dst.IsValid()) {
			t.Fatalf("ok with err=%v seg=%+v", err, seg)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "packet 1: ") {
			t.Fatalf("error %q does not name the packet", err)
		}
		if ok && len(seg.TCP.Payload) > 65535 {
			t.Fatalf("payload of %d bytes", len(seg.TCP.Payload))
		}
	})
}

// benchCapture is a pcap of n Ethernet/IPv4/TCP frames with payloads of
// mixed sizes.
func benchCapture(b *testing.B, n int) []byte {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		b.Fatal(err)
	}
	sizes := []int{0, 0, 517, 1448, 1448, 1448, 200, 90}
	for i := range n {
		f := ether(layers.EthernetTypeIPv4, tcp4(b, bytes.Repeat([]byte{byte(i)}, sizes[i%len(sizes)])))
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts0.Add(time.Duration(i) * time.Microsecond), CaptureLength: len(f), Length: len(f)}, f); err != nil {
			b.Fatal(err)
		}
	}
	return buf.Bytes()
}

// BenchmarkDecode decodes packets already read (the packet package alone).
func BenchmarkDecode(b *testing.B) {
	file := benchCapture(b, 10000)
	src, err := capture.NewFileSource("bench", bytes.NewReader(file))
	if err != nil {
		b.Fatal(err)
	}
	var ps []capture.Packet
	size := 0
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		p.Data = append([]byte(nil), p.Data...)
		ps = append(ps, p)
		size += len(p.Data)
	}
	d := NewDecoder()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, p := range ps {
			if _, ok, err := d.Decode(p); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	}
}

// BenchmarkReadAndDecode reads a pcap from memory and decodes every packet.
func BenchmarkReadAndDecode(b *testing.B) {
	file := benchCapture(b, 10000)
	d := NewDecoder()
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		src, err := capture.NewFileSource("bench", bytes.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		for {
			p, err := src.Next()
			if err != nil {
				break
			}
			if _, ok, err := d.Decode(p); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	}
}
