package hostile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// frame is one Ethernet/IPv4/TCP packet of an input capture.
type frame struct {
	at         time.Duration // since the capture's first packet
	data       []byte
	fromClient bool
}

// RepeatOptions shapes Repeat's output.
type RepeatOptions struct {
	// Bytes is the size to reach (the file ends after the batch that
	// reaches it).
	Bytes int64
	// Concurrency is how many copies run at once, their packets
	// interleaved in time order (default 100).
	Concurrency int
}

// Repeat writes a pcap file of copies of the connections in the given
// captures (Ethernet, IPv4, TCP: the project's own captures), each copy
// with its own client address (10.0.0.0/8) and the server at 192.0.2.1, so
// that every copy is a connection of its own, until opt.Bytes are written.
// Packets keep their bytes (checksums are recomputed) and their spacing in
// time. It returns the number of copies (of all inputs together) written.
func Repeat(out io.Writer, inputs []string, opt RepeatOptions) (int, error) {
	var frames []frame
	var span time.Duration
	for _, in := range inputs {
		fs, err := readFrames(in)
		if err != nil {
			return 0, err
		}
		for i := range fs {
			fs[i].at += span
		}
		if len(fs) > 0 {
			span = fs[len(fs)-1].at + time.Millisecond
		}
		frames = append(frames, fs...)
	}
	if len(frames) == 0 {
		return 0, errors.New("hostile: no Ethernet/IPv4/TCP packets in the inputs")
	}
	conc := opt.Concurrency
	if conc <= 0 {
		conc = 100
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	w := pcapgo.NewWriterNanos(bw)
	if err := w.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		return 0, err
	}
	written := int64(24)
	server := netip.MustParseAddr("192.0.2.1")
	type timed struct {
		at   time.Time
		copy int
		f    *frame
	}
	batch := make([]timed, 0, conc*len(frames))
	start := Epoch
	copies := 0
	buf := make([]byte, 0, 65536)
	for written < opt.Bytes {
		batch = batch[:0]
		for c := range conc {
			for i := range frames {
				batch = append(batch, timed{start.Add(frames[i].at + time.Duration(c)*time.Microsecond), copies + c, &frames[i]})
			}
		}
		slices.SortStableFunc(batch, func(a, b timed) int { return a.at.Compare(b.at) })
		for _, p := range batch {
			client := clientAddr(p.copy)
			src, dst := client, server
			if !p.f.fromClient {
				src, dst = server, client
			}
			buf = rewrite(buf[:0], p.f.data, src, dst)
			if err := w.WritePacket(ciOf(p.at, len(buf)), buf); err != nil {
				return copies, err
			}
			written += int64(16 + len(buf))
		}
		copies += conc
		start = start.Add(span + time.Duration(conc)*time.Microsecond)
	}
	return copies, bw.Flush()
}

// clientAddr is the client address of copy k: 10.0.0.1, 10.0.0.2, …
func clientAddr(k int) netip.Addr {
	k++
	return netip.AddrFrom4([4]byte{10, byte(k >> 16), byte(k >> 8), byte(k)})
}

// readFrames reads the Ethernet/IPv4/TCP packets of a pcap file; the
// client of each connection is the sender of its SYN.
func readFrames(path string) ([]frame, error) {
	f, r, err := openPcap(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if r.LinkType() != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("%s: link type %v, want Ethernet", path, r.LinkType())
	}
	type ep struct {
		a [4]byte
		p uint16
	}
	clients := map[ep]bool{}
	var out []frame
	var t0 time.Time
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(data) < 14+20 || binary.BigEndian.Uint16(data[12:]) != 0x0800 || data[14+9] != 6 {
			continue
		}
		ihl := int(data[14]&0x0f) * 4
		if len(data) < 14+ihl+20 {
			continue
		}
		tcp := data[14+ihl:]
		src := ep{[4]byte(data[14+12 : 14+16]), binary.BigEndian.Uint16(tcp)}
		flags := tcp[13]
		if flags&0x12 == 0x02 { // SYN without ACK
			clients[src] = true
		}
		if t0.IsZero() {
			t0 = ci.Timestamp
		}
		out = append(out, frame{at: ci.Timestamp.Sub(t0), data: data, fromClient: clients[src]})
	}
}

// rewrite appends to b the frame with new IPv4 addresses and recomputed
// IPv4 and TCP checksums.
func rewrite(b, data []byte, src, dst netip.Addr) []byte {
	b = append(b, data...)
	ip := b[14:]
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	if total < ihl || total > len(ip) {
		total = len(ip)
	}
	s, d := src.As4(), dst.As4()
	copy(ip[12:16], s[:])
	copy(ip[16:20], d[:])
	ip[10], ip[11] = 0, 0
	binary.BigEndian.PutUint16(ip[10:], checksum(0, ip[:ihl]))
	seg := ip[ihl:total]
	seg[16], seg[17] = 0, 0
	var pseudo [12]byte
	copy(pseudo[0:4], s[:])
	copy(pseudo[4:8], d[:])
	pseudo[9] = 6
	binary.BigEndian.PutUint16(pseudo[10:], uint16(len(seg)))
	binary.BigEndian.PutUint16(seg[16:], checksum(sum(0, pseudo[:]), seg))
	return b
}

func sum(acc uint32, b []byte) uint32 {
	for len(b) >= 2 {
		acc += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint32(b[0]) << 8
	}
	return acc
}

func checksum(acc uint32, b []byte) uint16 {
	acc = sum(acc, b)
	for acc > 0xffff {
		acc = acc>>16 + acc&0xffff
	}
	return ^uint16(acc)
}

func ciOf(t time.Time, n int) gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: t, CaptureLength: n, Length: n}
}
