package packet

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/tlsinspect/tlsinspect/capture"
)

// capturePackets reads every packet of the captures in testdata/pcaps
// (pcap and pcapng, dtls/ included: Ethernet, Linux SLL2 and 802.1Q frames,
// IPv4 and IPv6, TCP and UDP) into memory.
func capturePackets(tb testing.TB) (ps []capture.Packet, size int) {
	tb.Helper()
	dir := filepath.Join("..", "testdata", "pcaps")
	var files []string
	for _, pat := range []string{"*.pcap", "*.pcapng", "dtls/*.pcap"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, m...)
	}
	for _, f := range files {
		src, err := capture.OpenFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		for {
			p, err := src.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				tb.Fatalf("%s: %v", f, err)
			}
			p.Data = bytes.Clone(p.Data)
			ps = append(ps, p)
			size += len(p.Data)
		}
		src.Close()
	}
	if len(ps) < 1000 {
		tb.Fatalf("%d packets in %d captures", len(ps), len(files))
	}
	return ps, size
}

// BenchmarkDecodeCaptures decodes the packets of the project's real
// captures, already in memory (BenchmarkDecode's synthetic frames are all
// Ethernet/IPv4/TCP). ns/op and allocs/op are per packet.
func BenchmarkDecodeCaptures(b *testing.B) {
	ps, size := capturePackets(b)
	d := NewDecoder()
	b.SetBytes(int64(size / len(ps)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := d.Decode(ps[i]); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(ps) {
			i = 0
		}
	}
	b.ReportMetric(float64(len(ps)), "packets")
}
