package analyze

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tlsinspect/tlsinspect/bench/capgen"
	"github.com/tlsinspect/tlsinspect/capture"
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
