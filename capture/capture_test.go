package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// rec is a packet to write into a generated capture.
type rec struct {
	ts      time.Time
	lt      layers.LinkType
	data    []byte
	wireLen int // 0: len(data)
}

func (r rec) wire() int {
	if r.wireLen != 0 {
		return r.wireLen
	}
	return len(r.data)
}

func testRecs(n int) []rec {
	var rs []rec
	base := time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC)
	for i := range n {
		data := make([]byte, 40+i*7)
		for j := range data {
			data[j] = byte(i + j)
		}
		r := rec{ts: base.Add(time.Duration(i) * 1001 * time.Microsecond), lt: layers.LinkTypeEthernet, data: data}
		if i == 2 {
			r.wireLen = len(data) + 100 // snap length cut
		}
		rs = append(rs, r)
	}
	return rs
}

// writePcap writes a classic pcap by hand, in either byte order and
// timestamp resolution. It returns the file and the end offset of the file
// header and of every record.
func writePcap(order binary.ByteOrder, nanos bool, lt layers.LinkType, rs []rec) ([]byte, []int) {
	var b bytes.Buffer
	magic := uint32(0xa1b2c3d4)
	if nanos {
		magic = 0xa1b23c4d
	}
	hdr := make([]byte, 24)
	order.PutUint32(hdr[0:], magic)
	order.PutUint16(hdr[4:], 2)
	order.PutUint16(hdr[6:], 4)
	order.PutUint32(hdr[16:], 65535)
	order.PutUint32(hdr[20:], uint32(lt))
	b.Write(hdr)
	ends := []int{b.Len()}
	for _, r := range rs {
		h := make([]byte, 16)
		order.PutUint32(h[0:], uint32(r.ts.Unix()))
		frac := r.ts.Nanosecond() / 1000
		if nanos {
			frac = r.ts.Nanosecond()
		}
		order.PutUint32(h[4:], uint32(frac))
		order.PutUint32(h[8:], uint32(len(r.data)))
		order.PutUint32(h[12:], uint32(r.wire()))
		b.Write(h)
		b.Write(r.data)
		ends = append(ends, b.Len())
	}
	return b.Bytes(), ends
}

// order is a byte order that can append.
type order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// ngBlock builds one pcapng block.
func ngBlock(order order, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	b := make([]byte, 8, 12+len(body))
	order.PutUint32(b[0:], typ)
	order.PutUint32(b[4:], uint32(12+len(body)))
	b = append(b, body...)
	return order.AppendUint32(b, uint32(12+len(body)))
}

func ngSection(order order, major uint16) []byte {
	body := order.AppendUint32(nil, 0x1a2b3c4d)
	body = order.AppendUint16(body, major)
	body = order.AppendUint16(body, 0)
	body = order.AppendUint64(body, ^uint64(0))
	return ngBlock(order, 0x0a0d0d0a, body)
}

func ngInterface(order order, lt layers.LinkType) []byte {
	body := order.AppendUint16(nil, uint16(lt))
	body = order.AppendUint16(body, 0)
	body = order.AppendUint32(body, 0)
	return ngBlock(order, 1, body) // default resolution: µs
}

// mkEPB is an enhanced packet block of r, in microseconds.
func mkEPB(order order, iface int, r rec) []byte {
	return ngEPBAt(order, iface, uint64(r.ts.UnixMicro()), r)
}

// writeNg writes a pcapng by hand: one section per entry of orders, each
// with an Ethernet and a raw-IP interface; packets alternate between the
// sections and use the interface for their link type. It returns the block
// end offsets after which a clean EOF is expected (end of the header blocks
// and of every packet block) and the packets in order.
func writeNg(orders []order, rs []rec) ([]byte, []int) {
	var b bytes.Buffer
	var ends []int
	per := (len(rs) + len(orders) - 1) / len(orders)
	for si, o := range orders {
		order := o
		b.Write(ngSection(order, 1))
		b.Write(ngInterface(order, layers.LinkTypeEthernet))
		b.Write(ngInterface(order, layers.LinkTypeRaw))
		if si == 0 {
			ends = append(ends, b.Len())
		}
		for i := si * per; i < min(len(rs), (si+1)*per); i++ {
			iface := 0
			if rs[i].lt == layers.LinkTypeRaw {
				iface = 1
			}
			b.Write(mkEPB(order, iface, rs[i]))
			ends = append(ends, b.Len())
		}
	}
	return b.Bytes(), ends
}

func gz(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// readAll reads every packet; it returns copies of them and the final error.
func readAll(t testing.TB, name string, b []byte) ([]Packet, error) {
	t.Helper()
	s, err := NewFileSource(name, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var ps []Packet
	for {
		p, err := s.Next()
		if err != nil {
			if err2 := func() error { _, e := s.Next(); return e }(); err2 != err {
				t.Errorf("error not sticky: %v then %v", err, err2)
			}
			return ps, err
		}
		if p.Index != len(ps)+1 {
			t.Fatalf("packet index %d, want %d", p.Index, len(ps)+1)
		}
		p.Data = append([]byte(nil), p.Data...)
		ps = append(ps, p)
	}
}

func checkPackets(t *testing.T, got []Packet, want []rec, res time.Duration) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i, p := range got {
		w := want[i]
		if !p.Timestamp.Equal(w.ts.Truncate(res)) {
			t.Errorf("packet %d: timestamp %v, want %v", i+1, p.Timestamp, w.ts.Truncate(res))
		}
		if p.LinkType != w.lt {
			t.Errorf("packet %d: link type %v, want %v", i+1, p.LinkType, w.lt)
		}
		if !bytes.Equal(p.Data, w.data) {
			t.Errorf("packet %d: data differs", i+1)
		}
		if p.Length != w.wire() || p.Truncated != (w.wire() > len(w.data)) {
			t.Errorf("packet %d: length %d truncated %v, want %d %v", i+1, p.Length, p.Truncated, w.wire(), w.wire() > len(w.data))
		}
	}
}

func TestFormats(t *testing.T) {
	rs := testRecs(5)
	mixed := testRecs(6)
	for i := range mixed {
		if i%2 == 1 {
			mixed[i].lt = layers.LinkTypeRaw
		}
	}
	pcapLE, _ := writePcap(binary.LittleEndian, false, layers.LinkTypeEthernet, rs)
	pcapBE, _ := writePcap(binary.BigEndian, false, layers.LinkTypeEthernet, rs)
	pcapNsLE, _ := writePcap(binary.LittleEndian, true, layers.LinkTypeEthernet, rs)
	pcapNsBE, _ := writePcap(binary.BigEndian, true, layers.LinkTypeEthernet, rs)
	ngLE, _ := writeNg([]order{binary.LittleEndian}, mixed)
	ngBE, _ := writeNg([]order{binary.BigEndian}, mixed)
	ngSections, _ := writeNg([]order{binary.LittleEndian, binary.BigEndian, binary.LittleEndian}, mixed)
	// a section of an unknown version is skipped
	ngSkip := append(append(append([]byte(nil), ngLE...), ngSection(binary.LittleEndian, 9)...), mkEPB(binary.LittleEndian, 0, rs[0])...)
	ngSkip = append(ngSkip, ngLE...)

	// written by pcapgo
	var gopcap, gopcapNs, gong bytes.Buffer
	w := pcapgo.NewWriter(&gopcap)
	wn := pcapgo.NewWriterNanos(&gopcapNs)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	if err := wn.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ngw, err := pcapgo.NewNgWriterInterface(&gong, pcapgo.NgInterface{LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ngw.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkTypeRaw, SnapLength: 65535}); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		ci := gopacket.CaptureInfo{Timestamp: r.ts, CaptureLength: len(r.data), Length: r.wire()}
		if err := w.WritePacket(ci, r.data); err != nil {
			t.Fatal(err)
		}
		if err := wn.WritePacket(ci, r.data); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range mixed {
		ci := gopacket.CaptureInfo{Timestamp: r.ts, CaptureLength: len(r.data), Length: r.wire()}
		if r.lt == layers.LinkTypeRaw {
			ci.InterfaceIndex = 1
		}
		if err := ngw.WritePacket(ci, r.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := ngw.Flush(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		file   []byte
		want   []rec
		res    time.Duration
		format string
	}{
		{"pcap µs little endian", pcapLE, rs, time.Microsecond, "pcap"},
		{"pcap µs big endian", pcapBE, rs, time.Microsecond, "pcap"},
		{"pcap ns little endian", pcapNsLE, rs, 1, "pcap"},
		{"pcap ns big endian", pcapNsBE, rs, 1, "pcap"},
		{"pcapgo Writer", gopcap.Bytes(), rs, time.Microsecond, "pcap"},
		{"pcapgo Writer ns", gopcapNs.Bytes(), rs, 1, "pcap"},
		{"pcapng little endian mixed link types", ngLE, mixed, time.Microsecond, "pcapng"},
		{"pcapng big endian mixed link types", ngBE, mixed, time.Microsecond, "pcapng"},
		{"pcapng three sections both byte orders", ngSections, mixed, time.Microsecond, "pcapng"},
		{"pcapng skips unknown section version", ngSkip, append(append([]rec(nil), mixed...), mixed...), time.Microsecond, "pcapng"},
		{"pcapgo NgWriter two interfaces", gong.Bytes(), mixed, 1, "pcapng"},
	}
	for _, tt := range tests {
		for _, gzipped := range []bool{false, true} {
			name, file, format := tt.name, tt.file, tt.format
			if gzipped {
				name, file, format = name+" gzip", gz(t, file), format+" (gzip)"
			}
			t.Run(name, func(t *testing.T) {
				s, err := NewFileSource("x", bytes.NewReader(file))
				if err != nil {
					t.Fatal(err)
				}
				if s.Format() != format {
					t.Errorf("Format() = %q, want %q", s.Format(), format)
				}
				got, err := readAll(t, "x", file)
				if err != io.EOF {
					t.Fatalf("final error %v, want io.EOF", err)
				}
				checkPackets(t, got, tt.want, tt.res)
			})
		}
	}
}

func TestHeaderErrors(t *testing.T) {
	pcapFile, _ := writePcap(binary.LittleEndian, false, layers.LinkTypeEthernet, testRecs(1))
	badVersion := append([]byte(nil), pcapFile...)
	badVersion[4] = 3
	badBOM := ngSection(binary.LittleEndian, 1)
	badBOM[8] = 0x99
	tests := []struct {
		name string
		file []byte
		kind error
		msg  string
	}{
		{"html", []byte("<!DOCTYPE html><html>"), ErrFormat, "capture.pcap: not a pcap or pcapng file: this is HTML; a web page (an error page saved instead of the capture?); give a pcap or pcapng file, as written by tcpdump -w, dumpcap or Wireshark"},
		{"empty", nil, ErrFormat, "capture.pcap: not a pcap or pcapng file: this is an empty file; was the capture stopped before it wrote anything? give a pcap or pcapng file, as written by tcpdump -w, dumpcap or Wireshark"},
		{"two bytes", []byte{0x00, 0x21}, ErrFormat, "capture.pcap: not a pcap or pcapng file: unknown content (first bytes 00 21); give a pcap or pcapng file, as written by tcpdump -w, dumpcap or Wireshark"},
		{"text", []byte("hello world\n"), ErrFormat, "capture.pcap: not a pcap or pcapng file: this is a text file; give a pcap or pcapng file, as written by tcpdump -w, dumpcap or Wireshark"},
		{"json lines", []byte(`{"ts":"2026-11-27T00:26:14.85796Z","client":"127.0.0.1:35522"}` + "\n"), ErrFormat, "capture.pcap: not a pcap or pcapng file: this is a JSON file; give a pcap or pcapng file, as written by tcpdump -w, dumpcap or Wireshark"},
		{"tcpdump text", []byte("00:26:10.456077 IP 127.0.0.1.34462 > 127.0.0.1.44312: Flags [S]\n"), ErrFormat, "capture.pcap: not a pcap or pcapng file: this is tcpdump's text output; record a capture file with tcpdump -w FILE"},
		{"key log", []byte("CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("cd", 48) + "\n"), ErrFormat, "capture.pcap: not a pcap or pcapng file: this is a TLS key log; give it with --keylog FILE, and the capture with -r"},
		{"bzip2", []byte("BZh91AY&SY"), ErrFormat, "capture.pcap: not a pcap or pcapng file: this is a bzip2-compressed file; decompress it first (bunzip2); gzip is the only compression read directly"},
		{"utf-8 text cut in a character", append(bytes.Repeat([]byte("é"), 300), 0xc3), ErrFormat, "capture.pcap: not a pcap or pcapng file: this is a text file; give a pcap or pcapng file, as written by tcpdump -w, dumpcap or Wireshark"},
		{"gzip text", gz(t, []byte("hello world")), ErrFormat, "capture.pcap: not a pcap or pcapng file: this is a gzip'd text file; give a pcap or pcapng file, as written by tcpdump -w, dumpcap or Wireshark"},
		{"gzip html", gz(t, []byte("<html><body>502 Bad Gateway</body></html>")), ErrFormat, "capture.pcap: not a pcap or pcapng file: this is gzip'd HTML; a web page (an error page saved instead of the capture?); give a pcap or pcapng file, as written by tcpdump -w, dumpcap or Wireshark"},
		{"gzip empty", gz(t, nil), ErrFormat, "capture.pcap: not a pcap or pcapng file: this is a gzip'd empty file; was the capture stopped before it wrote anything? give a pcap or pcapng file, as written by tcpdump -w, dumpcap or Wireshark"},
		{"cut magic", []byte{0xd4, 0xc3}, ErrTruncated, "capture.pcap: truncated file header (2 bytes)"},
		{"cut pcap header", pcapFile[:20], ErrTruncated, "capture.pcap: truncated pcap file header (20 of 24 bytes)"},
		{"pcap version", badVersion, ErrFormat, "capture.pcap: unsupported pcap version 3.4 (want 2.4)"},
		{"gzip binary inside", gz(t, []byte{1, 2, 3, 4, 5}), ErrFormat, "capture.pcap: not a pcap or pcapng file: this is gzip-compressed data of an unknown kind (first bytes 01 02 03 04); give a pcap or pcapng file, as written by tcpdump -w, dumpcap or Wireshark"},
		{"gzip cut header", gz(t, pcapFile)[:5], ErrTruncated, "capture.pcap: truncated gzip header"},
		{"pcapng bad byte order", badBOM, ErrCorrupt, "capture.pcap: pcapng section header has an invalid byte-order magic (99 3c 2b 1a)"},
		{"pcapng cut section header", ngSection(binary.LittleEndian, 1)[:10], ErrTruncated, "capture.pcap: truncated pcapng section header (10 of 12 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewFileSource("capture.pcap", bytes.NewReader(tt.file))
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			var re *ReadError
			if !errors.As(err, &re) || re.Packet != 0 {
				t.Errorf("error %T %v, want *ReadError for the header", err, err)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("error %v is not %v", err, tt.kind)
			}
			if err.Error() != tt.msg {
				t.Errorf("error\n %q, want\n %q", err.Error(), tt.msg)
			}
		})
	}
}

// TestCutEverywhere cuts generated files at every byte offset: all packets
// that end before the cut are returned, then io.EOF when the cut falls
// between records, else a ReadError for the next packet.
func TestCutEverywhere(t *testing.T) {
	rs := testRecs(4)
	pcapFile, pcapEnds := writePcap(binary.LittleEndian, true, layers.LinkTypeEthernet, rs)
	ngFile, ngEnds := writeNg([]order{binary.BigEndian}, rs)
	for _, tt := range []struct {
		name   string
		file   []byte
		ends   []int // header end, then record ends
		header int   // cuts below this fail at open
		eof    []int // other offsets where the file may end cleanly
		res    time.Duration
	}{
		{"pcap", pcapFile, pcapEnds, 24, nil, 1},
		{"pcapng", ngFile, ngEnds, 28, []int{28, 48}, time.Microsecond}, // after the section header and each interface
	} {
		t.Run(tt.name, func(t *testing.T) {
			for cut := 1; cut <= len(tt.file); cut++ {
				got, err := readAll(t, "cut.pcap", tt.file[:cut])
				complete := 0
				for _, e := range tt.ends[1:] {
					if e <= cut {
						complete++
					}
				}
				var re *ReadError
				if !errors.As(err, &re) {
					if err == io.EOF && (contains(tt.ends, cut) || contains(tt.eof, cut)) && len(got) == complete {
						continue
					}
					t.Fatalf("cut %d: %d packets, error %v; want %d packets and a ReadError or EOF at a record boundary", cut, len(got), err, complete)
				}
				if !errors.Is(err, ErrTruncated) {
					t.Errorf("cut %d: %v is not ErrTruncated", cut, err)
				}
				switch {
				case cut < tt.header:
					if re.Packet != 0 || got != nil {
						t.Errorf("cut %d inside the file header: %v", cut, err)
					}
				case len(got) != complete || re.Packet != complete+1:
					t.Errorf("cut %d: %d packets then error for packet %d (%v); want %d then %d", cut, len(got), re.Packet, err, complete, complete+1)
				}
				checkPackets(t, got, rs[:len(got)], tt.res)
			}
		})
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestCutGzip cuts a gzip-compressed capture at many offsets: the packets
// returned are a prefix of the real ones and reading ends in a ReadError.
func TestCutGzip(t *testing.T) {
	rs := testRecs(30)
	file, _ := writePcap(binary.LittleEndian, false, layers.LinkTypeEthernet, rs)
	z := gz(t, file)
	for cut := 0; cut < len(z); cut++ {
		got, err := readAll(t, "cut.pcap.gz", z[:cut])
		var re *ReadError
		if !errors.As(err, &re) {
			t.Fatalf("cut %d: error %v, want *ReadError", cut, err)
		}
		if len(got) > 0 && re.Packet != len(got)+1 {
			t.Errorf("cut %d: error for packet %d after %d packets", cut, re.Packet, len(got))
		}
		checkPackets(t, got, rs[:len(got)], time.Microsecond)
	}
}

func TestCorruptRecords(t *testing.T) {
	rs := testRecs(3)
	le := binary.LittleEndian
	huge, ends := writePcap(le, false, layers.LinkTypeEthernet, rs)
	le.PutUint32(huge[ends[1]+8:], 4325376)
	le.PutUint32(huge[ends[1]+12:], 4325376)
	capOverWire, ends := writePcap(le, false, layers.LinkTypeEthernet, rs)
	le.PutUint32(capOverWire[ends[2]+12:], 10)
	cut, _ := writePcap(le, false, layers.LinkTypeEthernet, []rec{rs[0], {ts: rs[1].ts, lt: rs[1].lt, data: make([]byte, 1514)}})
	cut = cut[:len(cut)-1314]

	ngHuge, ngEnds := writeNg([]order{le}, rs)
	le.PutUint32(ngHuge[ngEnds[1]+20:], 4325376)
	ngOver, ngEnds := writeNg([]order{le}, rs)
	le.PutUint32(ngOver[ngEnds[2]+20:], 1000)
	ngBadLen, ngEnds := writeNg([]order{le}, rs)
	le.PutUint32(ngBadLen[ngEnds[1]+4:], 4)
	ngBadIface, ngEnds := writeNg([]order{le}, rs)
	le.PutUint32(ngBadIface[ngEnds[1]+8:], 7)

	tests := []struct {
		name    string
		file    []byte
		packets int
		kind    error
		msg     string
	}{
		{"pcap 4 MB record", huge, 1, ErrCorrupt, "c.pcap: packet 2: record header claims a 4325376-byte packet (limit 262144): file is damaged"},
		{"pcap captured > wire", capOverWire, 2, ErrCorrupt, "c.pcap: packet 3: record header says 54 bytes captured of a 10-byte packet: file is damaged"},
		{"pcap cut record", cut, 1, ErrTruncated, "c.pcap: packet 2: truncated packet record (header says 1514 bytes, 200 present)"},
		{"pcapng 4 MB packet", ngHuge, 1, ErrCorrupt, "c.pcap: packet 2: packet block claims a 4325376-byte packet (limit 262144): file is damaged"},
		{"pcapng captured > block", ngOver, 2, ErrCorrupt, "c.pcap: packet 3: packet block says 1000 bytes captured, more than its block length 88 holds"},
		{"pcapng block length 4", ngBadLen, 1, ErrCorrupt, "c.pcap: packet 2: pcapng block of type 0x6 has an invalid length 4 (at least 12, a multiple of 4)"},
		{"pcapng bad interface", ngBadIface, 1, ErrCorrupt, "c.pcap: packet 2: pcapng: interface id 7 not present in section (have only 2 interfaces)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, "c.pcap", tt.file)
			if len(got) != tt.packets {
				t.Errorf("%d packets before the error, want %d", len(got), tt.packets)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("error %v is not %v", err, tt.kind)
			}
			if err == nil || err.Error() != tt.msg {
				t.Errorf("error\n %v, want\n %s", err, tt.msg)
			}
		})
	}
}

func TestOpenFile(t *testing.T) {
	rs := testRecs(3)
	file, _ := writePcap(binary.LittleEndian, false, layers.LinkTypeEthernet, rs)
	dir := t.TempDir()
	path := filepath.Join(dir, "a.cap")
	if err := os.WriteFile(path, gz(t, file), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, err := s.Next(); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d packets, want 3", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err == nil || err == io.EOF {
		t.Errorf("Next after Close: %v", err)
	}
	if _, err := OpenFile(filepath.Join(dir, "missing.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}

	// "-" is standard input
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = saved }()
	s, err = OpenFile("-")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.Next(); err != nil || p.Index != 1 || s.Name() != "(standard input)" {
		t.Errorf("stdin: %v %v %q", p.Index, err, s.Name())
	}
	s.Close()

	// The wrap sees every byte, of a file (compressed) and of standard input.
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, "-"} {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		var through countReader // the package's own, without a pcapng observer
		s, err := OpenFileThrough(name, func(r io.Reader) io.Reader { through.r = r; return &through })
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, err := s.Next(); err == nil; _, err = s.Next() {
			n++
		}
		s.Close()
		if n != 3 || through.n != fi.Size() {
			t.Errorf("OpenFileThrough(%q): %d packets, %d bytes through the wrap; want 3 and the file's %d", name, n, through.n, fi.Size())
		}
	}
}

func corpusDir(t testing.TB) string { return testcorpus.Dir(t) }

func TestCorpusDamagedFiles(t *testing.T) {
	c := corpusDir(t)
	for _, f := range []string{
		"suricata-verify/tests/bug-1450-04/tls_DER-incomplete-header.pcap",
		"suricata-verify/tests/bug-1450-05/tls_DER-incomplete-content.pcap",
	} {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(c, f))
			if err != nil {
				t.Skip(err)
			}
			got, err := readAll(t, "f.pcap", b)
			var re *ReadError
			if len(got) != 6 || !errors.As(err, &re) || re.Packet != 7 || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%d packets, then %v; want 6 then a ReadError for packet 7", len(got), err)
			}
			if !strings.Contains(err.Error(), "4325376-byte packet") {
				t.Errorf("error %q does not name the claimed size", err)
			}
		})
	}
}

// tsharkCounts reads the packet counts tshark reports from the corpus
// INDEX.md: rows "| `path` | link | packets | ...".
func tsharkCounts(t *testing.T, corpus string) map[string]int {
	b, err := os.ReadFile(filepath.Join(corpus, "INDEX.md"))
	if err != nil {
		return nil
	}
	counts := map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		cols := strings.Split(line, "|")
		if len(cols) < 4 || !strings.HasPrefix(strings.TrimSpace(cols[1]), "`") {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(cols[3]), "%d", &n); err == nil {
			counts[strings.Trim(strings.TrimSpace(cols[1]), "`")] = n
		}
	}
	t.Logf("tshark packet counts for %d captures", len(counts))
	return counts
}

func isCaptureName(name string) bool {
	name = strings.TrimSuffix(name, ".gz")
	return strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng") || strings.HasSuffix(name, ".cap")
}

func TestCorpusReadsAll(t *testing.T) {
	c := corpusDir(t)
	index := tsharkCounts(t, c)
	n := 0
	err := filepath.WalkDir(c, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isCaptureName(d.Name()) {
			return err
		}
		n++
		s, err := OpenFile(path)
		if err != nil {
			t.Errorf("%v", err)
			return nil
		}
		defer s.Close()
		packets := 0
		rel, _ := filepath.Rel(c, path)
		for {
			if _, err := s.Next(); err != nil {
				if err != io.EOF {
					t.Logf("%s: %d packets, then %v", rel, packets, err)
				}
				break
			}
			packets++
		}
		if want, ok := index[rel]; ok && want != packets {
			t.Errorf("%s: %d packets, tshark counts %d", rel, packets, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Skip("no captures in the corpus")
	}
}

func FuzzFileSource(f *testing.F) {
	rs := testRecs(3)
	p, _ := writePcap(binary.LittleEndian, false, layers.LinkTypeEthernet, rs)
	pb, _ := writePcap(binary.BigEndian, true, layers.LinkTypeEthernet, rs)
	ng, _ := writeNg([]order{binary.LittleEndian, binary.BigEndian}, rs)
	f.Add(p)
	f.Add(pb)
	f.Add(ng)
	f.Add(gz(f, p))
	f.Add(gz(f, ng))
	f.Add(p[:50])
	f.Add([]byte("<!DOCTYPE"))
	// Decryption Secrets Blocks
	dsb, _, _ := dsbFile(binary.LittleEndian, binary.BigEndian)
	f.Add(dsb)
	f.Add(gz(f, dsb))
	f.Add(dsb[:len(dsb)-9])
	le := binary.LittleEndian
	bad := append(ngSection(le, 1), ngInterface(le, layers.LinkTypeEthernet)...)
	bad = append(bad, mkDSB(le, SecretsTLSKeyLog, []byte("0123456789"), nil)...)
	le.PutUint32(bad[len(bad)-20:], 11) // secrets length over the block's
	f.Add(append(bad, mkEPB(le, 0, rs[0])...))
	// Picosecond timestamps with an offset: the fast path's scaling.
	ps := append(ngSection(le, 1), ngInterfaceTS(le, layers.LinkTypeEthernet, 12, 1000)...)
	f.Add(append(append(ps, ngEPBAt(le, 0, 1<<50+12345, rs[0])...), ngEPBAt(le, 0, 1<<51+7, rs[1])...))
	f.Fuzz(func(t *testing.T, b []byte) {
		got := fuzzRead(t, bytes.NewReader(b), false, 0)
		// pcapng packets read in place read as pcapgo's NgReader reads them.
		if ng := fuzzReadWith(t, bytes.NewReader(b), false, 0, true, -1); ng != got {
			t.Fatalf("read:\n%s\nread by NgReader alone:\n%s", got, ng)
		}
		// The blocks are followed in the byte stream, whatever pieces
		// it comes in: one byte at a time reads the same.
		if slow := fuzzRead(t, iotest.OneByteReader(bytes.NewReader(b)), false, 0); slow != got {
			t.Fatalf("read whole:\n%s\nread byte by byte:\n%s", got, slow)
		}
		// So does NextBatch, whole or in pieces.
		for _, r := range []io.Reader{bytes.NewReader(b), iotest.HalfReader(bytes.NewReader(b))} {
			if batched := fuzzRead(t, r, false, 5); batched != got {
				t.Fatalf("read:\n%s\nread with NextBatch:\n%s", got, batched)
			}
		}
		// Keeping the packets' bytes reads the same, and the bytes stay:
		// in large buffers with NextBatch (a batch from one buffer), and
		// in small ones, so that packets move between them.
		if kept := fuzzRead(t, bytes.NewReader(b), true, 4); kept != got {
			t.Fatalf("read:\n%s\nread with KeepData and NextBatch:\n%s", got, kept)
		}
		defer func(n int) { keepBufSize = n }(keepBufSize)
		keepBufSize = 100
		if kept := fuzzRead(t, bytes.NewReader(b), true, 0); kept != got {
			t.Fatalf("read:\n%s\nread with KeepData:\n%s", got, kept)
		}
		if kept := fuzzRead(t, bytes.NewReader(b), true, 3); kept != got {
			t.Fatalf("read:\n%s\nread with KeepData and NextBatch:\n%s", got, kept)
		}
		// Reading ahead reads the same, from the start or from the second
		// packet on, with Next, NextBatch and KeepData. The file comes in
		// small reads, each a chunk: opening it buffers only its start
		// (a whole fuzz input otherwise), so that the rest is read ahead.
		for _, ahead := range []struct {
			r     io.Reader
			keep  bool
			batch int
			from  int
		}{
			{&smallReads{bytes.NewReader(b), 7}, false, 0, 0},
			{&smallReads{bytes.NewReader(b), 33}, false, 5, 0},
			{iotest.OneByteReader(bytes.NewReader(b)), false, 0, 1},
			{&smallReads{bytes.NewReader(b), 33}, true, 3, 1},
		} {
			if a := fuzzReadWith(t, ahead.r, ahead.keep, ahead.batch, false, ahead.from); a != got {
				t.Fatalf("read:\n%s\nread ahead (keep %v, batch %d, from packet %d):\n%s", got, ahead.keep, ahead.batch, ahead.from+1, a)
			}
		}
	})
}

// smallReads gives r at most n bytes per read.
type smallReads struct {
	r io.Reader
	n int
}

func (s *smallReads) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), s.n)]) }

// fuzzRead reads a capture, checks what FileSource promises, and
// describes what it read. With keep, it reads with KeepData and checks at
// the end that no packet's bytes changed after it was read. With batch > 0 it
// reads with NextBatch, batch packets at most at a time, and describes a
// batch's packets after the call (their bytes must all still be there).
func fuzzRead(t *testing.T, r io.Reader, keep bool, batch int) string {
	return fuzzReadWith(t, r, keep, batch, false, -1)
}

// fuzzReadWith is fuzzRead; with ngReader, every pcapng packet is read by
// pcapgo's NgReader, as before the fast path (ngfast.go). With ahead >= 0,
// the source reads ahead (ReadAhead) once ahead packets were read.
func fuzzReadWith(t *testing.T, r io.Reader, keep bool, batch int, ngReader bool, ahead int) string {
	s, err := NewFileSource("fuzz", r)
	if err != nil {
		var re *ReadError
		if !errors.As(err, &re) {
			t.Fatalf("open error %T %v is not a *ReadError", err, err)
		}
		return err.Error()
	}
	s.ngSlow = ngReader
	var out strings.Builder
	// With keep, every packet's bytes are compared at the end with a copy
	// taken when it was read: they must not have changed.
	keeping := keep && s.KeepData(func(n int) []byte { return make([]byte, n) })
	type keptPacket struct{ data, copy []byte }
	var kept []keptPacket
	describe := func(p Packet) {
		fmt.Fprintf(&out, "packet %d %v %v %d %x\n", p.Index, p.Timestamp, p.LinkType, p.Length, p.Data)
		if keeping {
			kept = append(kept, keptPacket{p.Data, bytes.Clone(p.Data)})
		}
	}
	packets := 0
	s.OnSecrets = func(typ uint32, data []byte) {
		if len(data) > MaxSecretsBlock {
			t.Fatalf("%d bytes of secrets", len(data))
		}
		fmt.Fprintf(&out, "secrets %#x %x after packet %d\n", typ, data, packets)
	}
	buf := make([]Packet, max(batch, 1))
	defer s.Close()
	for i := 1; ; {
		if i-1 >= ahead && ahead >= 0 {
			s.ReadAhead() // more than once changes nothing
		}
		var n int
		var err error
		if batch > 0 {
			n, err = s.NextBatch(buf)
			if (n == 0) == (err == nil) || n > batch {
				t.Fatalf("NextBatch returned %d packets and %v", n, err)
			}
		} else if buf[0], err = s.Next(); err == nil {
			n = 1
		}
		if err != nil {
			var re *ReadError
			if err != io.EOF && (!errors.As(err, &re) || re.Packet != i) {
				t.Fatalf("error %v at packet %d", err, i)
			}
			fmt.Fprintf(&out, "%v\n", err)
			for j, k := range kept {
				if !bytes.Equal(k.data, k.copy) {
					t.Fatalf("kept packet %d changed after it was read", j+1)
				}
			}
			return out.String()
		}
		for _, p := range buf[:n] {
			if p.Index != i || len(p.Data) > MaxPacketSize {
				t.Fatalf("packet %d: index %d, %d bytes", i, p.Index, len(p.Data))
			}
			packets++
			describe(p)
			i++
		}
	}
}

func ExampleFileSource() {
	file, _ := writePcap(binary.LittleEndian, false, layers.LinkTypeEthernet, testRecs(2))
	s, err := NewFileSource("example.pcap", bytes.NewReader(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	for {
		p, err := s.Next()
		if err != nil {
			if err != io.EOF {
				fmt.Println(err)
			}
			break
		}
		fmt.Println(p.Index, p.LinkType, len(p.Data))
	}
	// Output:
	// 1 Ethernet 40
	// 2 Ethernet 47
}

// TestKeepData: with KeepData, a pcap file (plain or gzip'd, whole or cut
// anywhere) reads the same packets and errors, every packet's bytes stay
// valid to the end, and packets move between buffers; pcapng files and
// sources already read say no.
func TestKeepData(t *testing.T) {
	defer func(n int) { keepBufSize = n }(keepBufSize)
	keepBufSize = 150 // a few records per buffer
	file, _ := writePcap(binary.BigEndian, false, layers.LinkTypeEthernet, testRecs(12))
	for _, f := range []struct {
		name string
		data []byte
	}{{"pcap", file}, {"pcap.gz", gz(t, file)}} {
		for cut := 25; cut <= len(f.data); cut++ {
			b := f.data[:cut]
			if got, want := fuzzRead(t, bytes.NewReader(b), true, 0), fuzzRead(t, bytes.NewReader(b), false, 0); got != want {
				t.Fatalf("%s cut at %d: with KeepData\n%s\nwithout\n%s", f.name, cut, got, want)
			}
		}
	}
	s, err := NewFileSource("keep.pcap", bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	if !s.KeepData(func(n int) []byte { sizes = append(sizes, n); return make([]byte, n) }) {
		t.Fatal("KeepData refused a pcap file")
	}
	for {
		if _, err := s.Next(); err != nil {
			break
		}
	}
	if len(sizes) < 3 || slices.Min(sizes) < keepBufSize {
		t.Errorf("buffers asked for: %v", sizes)
	}
	if s.KeepData(nil) {
		t.Error("KeepData accepted twice")
	}
	ng, _ := writeNg([]order{binary.LittleEndian}, testRecs(2))
	if s, err := NewFileSource("keep.pcapng", bytes.NewReader(ng)); err != nil || s.KeepData(nil) {
		t.Errorf("pcapng: %v, KeepData accepted", err)
	}
	late, _ := NewFileSource("late.pcap", bytes.NewReader(file))
	late.Next()
	if late.KeepData(nil) {
		t.Error("KeepData accepted after the first packet")
	}
}

// TestTimestampBeyondYear9999: a pcapng timestamp no report can represent
// (a wrong resolution makes them) is damage, reported as such after the
// packets before it.
func TestTimestampBeyondYear9999(t *testing.T) {
	rs := testRecs(3)
	rs[2].ts = time.Date(241785, 5, 26, 0, 0, 0, 0, time.UTC)
	ng, _ := writeNg([]order{binary.LittleEndian}, rs)
	got, err := readAll(t, "future.pcapng", ng)
	var re *ReadError
	if len(got) != 2 || !errors.As(err, &re) || re.Packet != 3 || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "year 241785") {
		t.Errorf("%d packets, error %v", len(got), err)
	}
}
