package analyze

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsinspect/tlsinspect/bench/capgen"
	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/internal/testcap"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// TestShardedManyRounds: on captures of real handshakes long enough for
// many rounds per worker and for the reader's kept buffers (1 MiB each) to
// be reused, every number of workers gives the output and counts of one
// (the project's captures are too small for either; run with -race).
func TestShardedManyRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("generates captures of real handshakes")
	}
	for _, c := range []struct {
		name string
		gen  func(*bytes.Buffer) (*capgen.Manifest, error)
	}{
		{"bulk", func(w *bytes.Buffer) (*capgen.Manifest, error) { return capgen.Bulk(w, 40, 64<<10, 128<<10, 3) }},
		{"handshakes", func(w *bytes.Buffer) (*capgen.Manifest, error) { return capgen.Handshakes(w, 1500, 4) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			m, err := c.gen(&buf)
			if err != nil {
				t.Fatal(err)
			}
			want, wantCounts := runWorkers(t, buf.Bytes(), 1)
			if wantCounts.Packets < 4*roundPackets || buf.Len() < 4<<20 {
				t.Fatalf("%d packets, %d bytes: too few for several rounds and buffers", wantCounts.Packets, buf.Len())
			}
			if wantCounts.TLS.Established != len(m.Conns) {
				t.Fatalf("%d handshakes established, want %d", wantCounts.TLS.Established, len(m.Conns))
			}
			for _, n := range []int{2, 3, 4} {
				got, counts := runWorkers(t, buf.Bytes(), n)
				if !bytes.Equal(got, want) {
					t.Errorf("%d workers: output differs from one worker's", n)
				}
				if fmt.Sprint(counts.TLS, counts.Packets, counts.Decodable) != fmt.Sprint(wantCounts.TLS, wantCounts.Packets, wantCounts.Decodable) {
					t.Errorf("%d workers: counts %+v, want %+v", n, counts.TLS, wantCounts.TLS)
				}
			}
		})
	}
}

// runWorkers runs a capture held in memory with n workers and returns its
// summaries as JSON lines.
func runWorkers(t *testing.T, data []byte, n int) ([]byte, Counts) {
	t.Helper()
	src, err := capture.NewFileSource("capgen.pcap", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	c := cfg
	c.Workers = n
	counts, err := Run(src, c, func(s *tlsconn.Summary) {
		if err := enc.Encode(s); err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), counts
}

// TestWorkersMixedFamilies: a capture whose IPv4 and IPv6 connections
// interleave (two of the project's captures, packet by packet) gives the
// same output with several workers as with one. The sharded reader reuses
// one packet.Header, which an IPv6 packet must not leave its mark on.
func TestWorkersMixedFamilies(t *testing.T) {
	var ps [2][]capture.Packet
	// IPv4 first: its connection then has packets before and after the
	// first IPv6 one.
	for i, name := range []string{"tls12-ecdhe-go.pcap", "ipv6-go.pcap"} {
		testcap.Each(t, testcap.Path(name), func(d *testcap.Packet) {
			p := d.Packet
			p.Data = bytes.Clone(p.Data)
			if len(p.Data) >= 54 && p.Data[12] == 0x86 && p.Data[13] == 0xdd {
				// ::1 to 2001::1: addresses whose high half is not zero.
				p.Data[22], p.Data[23], p.Data[38], p.Data[39] = 0x20, 0x01, 0x20, 0x01
			}
			ps[i] = append(ps[i], p)
		})
		if len(ps[i]) == 0 || ps[i][0].LinkType != layers.LinkTypeEthernet {
			t.Fatalf("%s: %d packets, want Ethernet ones", name, len(ps[i]))
		}
	}
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	for i := range max(len(ps[0]), len(ps[1])) {
		for f := range ps {
			if i < len(ps[f]) {
				p := ps[f][i]
				ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(2*i+f) * time.Millisecond), CaptureLength: len(p.Data), Length: p.Length}
				if err := w.WritePacket(ci, p.Data); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	want, wantCounts := runWorkers(t, buf.Bytes(), 1)
	if wantCounts.TLS.Handshakes < 2 || !bytes.Contains(want, []byte(`"127.0.0.1:`)) || !bytes.Contains(want, []byte(`"[`)) {
		t.Fatalf("one worker: %d handshakes, want IPv4 and IPv6 ones:\n%s", wantCounts.TLS.Handshakes, want)
	}
	for _, n := range []int{2, 3} {
		if got, _ := runWorkers(t, buf.Bytes(), n); !bytes.Equal(got, want) {
			t.Errorf("%d workers:\n%s\none worker:\n%s", n, got, want)
		}
	}
}
