// Command pcapmangle derives test captures from real ones. It is used by
// testdata/pcaps/generate.sh; the TLS traffic in the input is real.
//
// -mode reorder: only the order of packets is changed and one packet is
// repeated. In the server's first data flight (the server->client segments carrying
// payload that follow the client's first payload segment) it
//   - swaps the first two data segments (the later one is written first), and
//   - writes a copy of the (original) second data segment again after the
//     last data segment of that flight, as a retransmission.
//
// Packet timestamps stay with their slots in the file, so time still only
// increases; the inserted copy gets the timestamp of the packet before it
// plus 1µs.
//
// -mode vlan: every Ethernet frame gets an 802.1Q tag (TPID 0x8100, VLAN -vlan,
// priority 0) inserted after the MAC addresses, as a trunk port would carry
// it. Used when the kernel that makes the captures has no 802.1Q support.
//
// A JSON line describing the changes (1-based frame numbers of the input) is
// printed to stdout.
//
// The pcap file format is read and written here directly (classic libpcap
// format, microsecond or nanosecond timestamps, either byte order) rather
// than with gopacket/pcapgo, whose package also pulls in golang.org/x/net for
// live capture; gopacket/layers decodes the packets.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

type pkt struct {
	ci   gopacket.CaptureInfo
	data []byte
}

func main() {
	in := flag.String("in", "", "input pcap")
	out := flag.String("out", "", "output pcap")
	mode := flag.String("mode", "reorder", "reorder or vlan")
	port := flag.Int("port", 0, "reorder: server TCP port")
	vlan := flag.Int("vlan", 100, "vlan: VLAN ID to tag frames with")
	flag.Parse()
	var err error
	switch *mode {
	case "reorder":
		err = run(*in, *out, uint16(*port))
	case "vlan":
		err = tagVLAN(*in, *out, uint16(*vlan))
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pcapmangle:", err)
		os.Exit(1)
	}
}

func run(in, out string, port uint16) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr, pkts, err := readPcap(f)
	if err != nil {
		return err
	}

	// Classify packets: +1 client data, -1 server data, 0 other.
	dir := make([]int, len(pkts))
	for i, p := range pkts {
		gp := gopacket.NewPacket(p.data, layers.LinkType(hdr.linkType), gopacket.NoCopy)
		tcp, ok := gp.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok || len(tcp.Payload) == 0 {
			continue
		}
		switch {
		case uint16(tcp.SrcPort) == port:
			dir[i] = -1
		case uint16(tcp.DstPort) == port:
			dir[i] = +1
		}
	}
	first := -1
	for i, d := range dir {
		if d == +1 {
			first = i
			break
		}
	}
	if first < 0 {
		return fmt.Errorf("no client data segment to port %d", port)
	}
	var flight []int
	for i := first + 1; i < len(pkts); i++ {
		if dir[i] == +1 {
			break
		}
		if dir[i] == -1 {
			flight = append(flight, i)
		}
	}
	if len(flight) < 3 {
		return fmt.Errorf("server flight has %d data segments, need at least 3", len(flight))
	}
	a, b, last := flight[0], flight[1], flight[len(flight)-1]
	dup := pkts[b]

	var res []pkt
	for i, p := range pkts {
		switch i {
		case a:
			p.data = pkts[b].data
			p.ci.CaptureLength, p.ci.Length = pkts[b].ci.CaptureLength, pkts[b].ci.Length
		case b:
			p.data = pkts[a].data
			p.ci.CaptureLength, p.ci.Length = pkts[a].ci.CaptureLength, pkts[a].ci.Length
		}
		res = append(res, p)
		if i == last {
			c := dup
			c.ci.Timestamp = p.ci.Timestamp.Add(time.Microsecond)
			if i+1 < len(pkts) && !c.ci.Timestamp.Before(pkts[i+1].ci.Timestamp) {
				c.ci.Timestamp = p.ci.Timestamp
			}
			res = append(res, c)
		}
	}

	o, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := writePcap(o, hdr, res); err != nil {
		o.Close()
		return err
	}
	if err := o.Close(); err != nil {
		return err
	}
	report := map[string]any{
		"input_frames":                     len(pkts),
		"output_frames":                    len(res),
		"server_flight_frames":             plus1(flight),
		"swapped_input_frames":             []int{a + 1, b + 1},
		"retransmitted_input_frame":        b + 1,
		"retransmission_after_input_frame": last + 1,
	}
	js, _ := json.Marshal(report)
	fmt.Println(string(js))
	return nil
}

func tagVLAN(in, out string, vid uint16) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr, pkts, err := readPcap(f)
	if err != nil {
		return err
	}
	if hdr.linkType != uint32(layers.LinkTypeEthernet) {
		return fmt.Errorf("link type %d is not Ethernet", hdr.linkType)
	}
	for i := range pkts {
		d := pkts[i].data
		if len(d) < 14 {
			return fmt.Errorf("frame %d: too short for Ethernet", i+1)
		}
		t := make([]byte, 0, len(d)+4)
		t = append(t, d[:12]...)
		t = append(t, 0x81, 0x00, byte(vid>>8)&0x0f, byte(vid))
		t = append(t, d[12:]...)
		pkts[i].data = t
		pkts[i].ci.CaptureLength += 4
		pkts[i].ci.Length += 4
	}
	hdr.snaplen += 4
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := writePcap(o, hdr, pkts); err != nil {
		o.Close()
		return err
	}
	if err := o.Close(); err != nil {
		return err
	}
	js, _ := json.Marshal(map[string]any{"frames_tagged": len(pkts), "vlan_id": vid, "tpid": "0x8100"})
	fmt.Println(string(js))
	return nil
}

func plus1(xs []int) []int {
	r := make([]int, len(xs))
	for i, x := range xs {
		r[i] = x + 1
	}
	return r
}

type fileHeader struct {
	order    binary.ByteOrder
	nano     bool
	snaplen  uint32
	linkType uint32
}

func readPcap(r io.Reader) (fileHeader, []pkt, error) {
	var h fileHeader
	var gh [24]byte
	if _, err := io.ReadFull(r, gh[:]); err != nil {
		return h, nil, fmt.Errorf("pcap header: %w", err)
	}
	switch magic := binary.LittleEndian.Uint32(gh[:4]); magic {
	case 0xa1b2c3d4:
		h.order = binary.LittleEndian
	case 0xa1b23c4d:
		h.order, h.nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		h.order = binary.BigEndian
	case 0x4d3cb2a1:
		h.order, h.nano = binary.BigEndian, true
	default:
		return h, nil, fmt.Errorf("not a pcap file (magic %#08x)", magic)
	}
	h.snaplen = h.order.Uint32(gh[16:20])
	h.linkType = h.order.Uint32(gh[20:24]) & 0x0fffffff
	var pkts []pkt
	for {
		var ph [16]byte
		if _, err := io.ReadFull(r, ph[:]); err == io.EOF {
			return h, pkts, nil
		} else if err != nil {
			return h, pkts, fmt.Errorf("packet %d header: %w", len(pkts)+1, err)
		}
		sec, frac := h.order.Uint32(ph[0:4]), h.order.Uint32(ph[4:8])
		incl, orig := h.order.Uint32(ph[8:12]), h.order.Uint32(ph[12:16])
		if incl > 1<<18 {
			return h, pkts, fmt.Errorf("packet %d: captured length %d too large", len(pkts)+1, incl)
		}
		data := make([]byte, incl)
		if _, err := io.ReadFull(r, data); err != nil {
			return h, pkts, fmt.Errorf("packet %d data: %w", len(pkts)+1, err)
		}
		ns := int64(frac) * 1000
		if h.nano {
			ns = int64(frac)
		}
		pkts = append(pkts, pkt{gopacket.CaptureInfo{
			Timestamp:     time.Unix(int64(sec), ns).UTC(),
			CaptureLength: int(incl),
			Length:        int(orig),
		}, data})
	}
}

func writePcap(w io.Writer, h fileHeader, pkts []pkt) error {
	var gh [24]byte
	magic := uint32(0xa1b2c3d4)
	if h.nano {
		magic = 0xa1b23c4d
	}
	binary.LittleEndian.PutUint32(gh[0:4], magic)
	binary.LittleEndian.PutUint16(gh[4:6], 2)
	binary.LittleEndian.PutUint16(gh[6:8], 4)
	binary.LittleEndian.PutUint32(gh[16:20], h.snaplen)
	binary.LittleEndian.PutUint32(gh[20:24], h.linkType)
	if _, err := w.Write(gh[:]); err != nil {
		return err
	}
	for _, p := range pkts {
		var ph [16]byte
		ts := p.ci.Timestamp
		frac := uint32(ts.Nanosecond() / 1000)
		if h.nano {
			frac = uint32(ts.Nanosecond())
		}
		binary.LittleEndian.PutUint32(ph[0:4], uint32(ts.Unix()))
		binary.LittleEndian.PutUint32(ph[4:8], frac)
		binary.LittleEndian.PutUint32(ph[8:12], uint32(len(p.data)))
		binary.LittleEndian.PutUint32(ph[12:16], uint32(p.ci.Length))
		if _, err := w.Write(ph[:]); err != nil {
			return err
		}
		if _, err := w.Write(p.data); err != nil {
			return err
		}
	}
	return nil
}
