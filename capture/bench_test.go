package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// benchRecs are the packets of the read benchmarks: full-size frames as in
// a bulk transfer, or a mix of small ones as in handshakes and ACKs, where
// the cost per block counts most.
var benchRecs = sync.OnceValues(func() (bulk, small []rec) {
	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	frame := make([]byte, 1514)
	for i := range frame {
		frame[i] = byte(i)
	}
	for i := range 40000 { // ≈60 MB
		bulk = append(bulk, rec{ts: base.Add(time.Duration(i) * time.Microsecond), lt: layers.LinkTypeEthernet, data: frame})
	}
	sizes := []int{66, 66, 74, 583, 1514, 66, 140, 320}
	for i := range 200000 { // ≈70 MB
		small = append(small, rec{ts: base.Add(time.Duration(i) * time.Microsecond), lt: layers.LinkTypeEthernet, data: frame[:sizes[i%len(sizes)]]})
	}
	return bulk, small
})

// benchRead reads file with Next, or with NextBatch batch packets at a
// time when batch > 0.
func benchRead(b *testing.B, file []byte, batch int) {
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	buf := make([]Packet, max(batch, 1))
	for b.Loop() {
		s, err := NewFileSource("bench", bytes.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		for {
			if batch > 0 {
				_, err = s.NextBatch(buf)
			} else {
				_, err = s.Next()
			}
			if err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}

// BenchmarkFileSource measures reading alone, per format and packet mix.
func BenchmarkFileSource(b *testing.B) {
	bulk, small := benchRecs()
	for _, tc := range []struct {
		name string
		file func() []byte
	}{
		{"pcap/bulk", func() []byte { f, _ := writePcap(binary.LittleEndian, false, layers.LinkTypeEthernet, bulk); return f }},
		{"pcap/small", func() []byte { f, _ := writePcap(binary.LittleEndian, false, layers.LinkTypeEthernet, small); return f }},
		{"pcapng/bulk", func() []byte { f, _ := writeNg([]order{binary.LittleEndian}, bulk); return f }},
		{"pcapng/small", func() []byte { f, _ := writeNg([]order{binary.LittleEndian}, small); return f }},
	} {
		file := tc.file()
		b.Run(tc.name, func(b *testing.B) { benchRead(b, file, 0) })
		b.Run(tc.name+"/batch64", func(b *testing.B) { benchRead(b, file, 64) })
	}
}
