// Package bench measures tlsinspect's pipeline (analyze.Run) on synthesized
// captures of real TLS sessions; see README.md.
package bench

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/analyze"
	"github.com/tlsinspect/tlsinspect/bench/capgen"
	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/iana"
	"github.com/tlsinspect/tlsinspect/packet"
	"github.com/tlsinspect/tlsinspect/report"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// cfg is the command's default configuration (cmd/tlsinspect flags).
var cfg = analyze.Config{MaxMessage: 256 << 10, ScanLimit: tlsconn.DefaultScanLimit, MaxBuffer: 256 << 10}

// run analyzes a capture held in memory.
func run(tb testing.TB, capBytes []byte, emit func(*tlsconn.Summary)) analyze.Counts {
	return runWorkers(tb, capBytes, 1, emit)
}

// runWorkers is run with connections spread over that many workers.
func runWorkers(tb testing.TB, capBytes []byte, workers int, emit func(*tlsconn.Summary)) analyze.Counts {
	tb.Helper()
	src, err := capture.NewFileSource("capture", bytes.NewReader(capBytes))
	if err != nil {
		tb.Fatal(err)
	}
	c := cfg
	c.Workers = workers
	counts, err := analyze.Run(src, c, emit)
	if err != nil {
		tb.Fatal(err)
	}
	return counts
}

func TestCaptures(t *testing.T) {
	for _, tc := range []struct {
		name string
		gen  func(*bytes.Buffer) (*capgen.Manifest, error)
	}{
		{"bulk", func(w *bytes.Buffer) (*capgen.Manifest, error) { return capgen.Bulk(w, 30, 64<<10, 256<<10, 1) }},
		{"handshakes", func(w *bytes.Buffer) (*capgen.Manifest, error) { return capgen.Handshakes(w, 200, 2) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			m, err := tc.gen(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if int64(buf.Len()) != m.Bytes {
				t.Fatalf("manifest says %d bytes, wrote %d", m.Bytes, buf.Len())
			}
			byClient := make(map[string]*tlsconn.Summary)
			c := run(t, buf.Bytes(), func(s *tlsconn.Summary) {
				if prev := byClient[s.Client]; prev != nil {
					t.Errorf("%s: second summary (handshake %d)", s.Client, s.Handshake)
				}
				byClient[s.Client] = s
			})
			n := len(m.Conns)
			kinds := make(map[capgen.Kind]int)
			for _, conn := range m.Conns {
				e := conn.Entry
				kinds[e.Kind]++
				s := byClient[conn.Client.String()]
				if s == nil {
					t.Errorf("%v (%v): no summary", conn.Client, e.Kind)
					continue
				}
				if err := check(s, conn); err != nil {
					t.Errorf("%v (entry %d, %v): %v", conn.Client, e.Index, e.Kind, err)
				}
			}
			if len(byClient) != n {
				t.Errorf("%d summaries for %d connections", len(byClient), n)
			}
			if len(kinds) != 8 {
				t.Errorf("kinds replayed: %v, want all 8", kinds)
			}
			want := analyze.Counts{Packets: m.Packets, Decodable: m.Packets, TLS: tlsconn.Stats{TCPConnections: n, TLSConnections: n, Handshakes: n, Established: n}}
			got := c
			got.TCP = want.TCP
			if !reflect.DeepEqual(got, want) {
				t.Errorf("counts %+v, want %+v", got, want)
			}
			if c.TCP.Connections != uint64(n) || c.TCP.MidConnection != 0 || c.TCP.Gaps != 0 || c.TCP.OutOfOrder != 0 || c.TCP.Notes != 0 {
				t.Errorf("TCP stats %+v", c.TCP)
			}
			// Flat memory: only the connections open at once hold reassembly state.
			if c.TCP.MaxActive > 50 {
				t.Errorf("MaxActive %d, want ≤ 50 (the generator's concurrency)", c.TCP.MaxActive)
			}
		})
	}
}

// check compares a summary with what the recorded session negotiated.
func check(s *tlsconn.Summary, conn capgen.Conn) error {
	e := conn.Entry
	switch {
	case s.Server != conn.Server.String():
		return fmt.Errorf("server %s, want %s", s.Server, conn.Server)
	case !s.Established:
		return fmt.Errorf("not established (history %s, warnings %q)", s.History, s.Warnings)
	case len(s.Warnings) > 0:
		return fmt.Errorf("warnings %q", s.Warnings)
	case s.SNI == nil || *s.SNI != e.SNI:
		return fmt.Errorf("sni %v, want %s", deref(s.SNI), e.SNI)
	case s.VersionID == nil || *s.VersionID != int(e.Version):
		return fmt.Errorf("version %v, want %#x", deref(s.Version), e.Version)
	case s.CipherSuiteID == nil || *s.CipherSuiteID != int(e.CipherSuite):
		return fmt.Errorf("cipher suite %v, want %#x", deref(s.CipherSuite), e.CipherSuite)
	case s.CipherSuite == nil || *s.CipherSuite != iana.CipherSuiteName(e.CipherSuite):
		return fmt.Errorf("cipher suite name %v", deref(s.CipherSuite))
	case s.Resumed == nil || *s.Resumed != e.Resumed:
		return fmt.Errorf("resumed %v, want %v", s.Resumed, e.Resumed)
	}
	// The certificates are valid at the packets' times, as in real traffic.
	for _, f := range s.Findings {
		if f.ID == "cert-expired" || f.ID == "cert-not-yet-valid" {
			return fmt.Errorf("finding %s: %s", f.ID, f.Text)
		}
	}
	if e.Version == 0x0303 { // TLS 1.2: the certificate exchange is visible
		if !e.Resumed && len(s.ServerCertificates) != 3 {
			return fmt.Errorf("%d server certificates, want 3", len(s.ServerCertificates))
		}
		if s.ClientCertSent == nil || *s.ClientCertSent != e.Mutual {
			return fmt.Errorf("client_cert_sent %v, want %v", s.ClientCertSent, e.Mutual)
		}
	}
	return nil
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// Benchmark captures, generated once per process.
const (
	bulkConns      = 620 // ≈100 MB
	handshakeConns = 20000
)

type genCapture struct {
	once  sync.Once
	bytes []byte
	m     *capgen.Manifest
	err   error
}

var bulkCap, hsCap genCapture

func (g *genCapture) get(b *testing.B, gen func(*bytes.Buffer) (*capgen.Manifest, error)) ([]byte, *capgen.Manifest) {
	b.Helper()
	g.once.Do(func() {
		var buf bytes.Buffer
		g.m, g.err = gen(&buf)
		g.bytes = buf.Bytes()
	})
	if g.err != nil {
		b.Fatal(g.err)
	}
	return g.bytes, g.m
}

func bulkCapture(b *testing.B) ([]byte, *capgen.Manifest) {
	return bulkCap.get(b, func(w *bytes.Buffer) (*capgen.Manifest, error) {
		return capgen.Bulk(w, bulkConns, 64<<10, 256<<10, 1)
	})
}

func handshakeCapture(b *testing.B) ([]byte, *capgen.Manifest) {
	return hsCap.get(b, func(w *bytes.Buffer) (*capgen.Manifest, error) {
		return capgen.Handshakes(w, handshakeConns, 2)
	})
}

// benchPipeline runs the capture with 1 and 2 workers (workers=2 against
// workers=1 is the speed-up of sharding on this machine).
func benchPipeline(b *testing.B, capBytes []byte, m *capgen.Manifest) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			benchWorkers(b, capBytes, m, n, nil)
		})
	}
}

// benchWorkers runs the capture with workers workers, each time giving the
// summaries to a report.Writer newOut makes for the run (nil: to nothing)
// and closing it at the end of the run.
func benchWorkers(b *testing.B, capBytes []byte, m *capgen.Manifest, workers int, newOut func() report.Writer) {
	b.SetBytes(int64(len(capBytes)))
	b.ReportAllocs()
	var c analyze.Counts
	b.ResetTimer()
	for b.Loop() {
		emit := func(*tlsconn.Summary) {}
		var out report.Writer
		if newOut != nil {
			out = newOut()
			emit = func(s *tlsconn.Summary) {
				if err := out.Write(s); err != nil {
					b.Fatal(err)
				}
			}
		}
		c = runWorkers(b, capBytes, workers, emit)
		if out != nil {
			if err := out.Close(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if c.TLS.Established != len(m.Conns) {
		b.Fatalf("%d handshakes established, want %d", c.TLS.Established, len(m.Conns))
	}
	b.ReportMetric(float64(c.TLS.Handshakes)*float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
	b.ReportMetric(float64(c.Packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(c.TCP.MaxActive), "max-active-conns")
}

// BenchmarkBulk: ≈620 connections with 64–256 KB of application data each.
func BenchmarkBulk(b *testing.B) {
	capBytes, m := bulkCapture(b)
	benchPipeline(b, capBytes, m)
}

// BenchmarkHandshakes: 20,000 short connections.
func BenchmarkHandshakes(b *testing.B) {
	capBytes, m := handshakeCapture(b)
	benchPipeline(b, capBytes, m)
}

// BenchmarkHandshakesJSON: BenchmarkHandshakes with one worker, writing
// JSON lines (to io.Discard): inline, each line written as its connection
// ends, and in the background, on a goroutine of its own
// (report.Background), as `tlsinspect -r FILE -T json` does when its output
// is not a terminal.
func BenchmarkHandshakesJSON(b *testing.B) {
	capBytes, m := handshakeCapture(b)
	b.Run("inline", func(b *testing.B) {
		benchWorkers(b, capBytes, m, 1, func() report.Writer { return report.NewJSON(io.Discard) })
	})
	b.Run("background", func(b *testing.B) {
		benchWorkers(b, capBytes, m, 1, func() report.Writer {
			return report.NewBackground(report.NewJSON(io.Discard), 50*time.Millisecond, nil)
		})
	})
}

// BenchmarkDecodeFloor reads the bulk capture and decodes every packet down
// to its TCP segment, nothing more: the floor under BenchmarkBulk.
func BenchmarkDecodeFloor(b *testing.B) {
	capBytes, _ := bulkCapture(b)
	b.SetBytes(int64(len(capBytes)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		src, err := capture.NewFileSource("capture", bytes.NewReader(capBytes))
		if err != nil {
			b.Fatal(err)
		}
		dec := packet.NewDecoder()
		n := 0
		for {
			p, err := src.Next()
			if err != nil {
				break
			}
			if _, ok, err := dec.Decode(p); err == nil && ok {
				n++
			}
		}
		if n == 0 {
			b.Fatal("no TCP segment decoded")
		}
	}
}

// BenchmarkLiveHeap measures how the live heap grows with the number of
// (finished) connections in a handshake capture: the capture is generated
// on the fly through a pipe, and every 2,000 summaries a GC runs and the live
// heap is sampled. peak-live-MB is the largest sample, minus the heap before
// the run. With the default idle timeout (2m of packet time) every closed
// connection keeps a tombstone until it expires; the idle=10s runs show the
// heap once tombstones expire within the capture (≈1,600 connections/s of
// packet time).
func BenchmarkLiveHeap(b *testing.B) {
	pool, err := capgen.NewPool(capgen.PoolSize, capgen.ShortResponse)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		conns int
		idle  time.Duration
	}{{5000, 0}, {20000, 0}, {80000, 0}, {80000, 10 * time.Second}} {
		name := fmt.Sprintf("conns=%d", bc.conns)
		if bc.idle > 0 {
			name += "/idle=" + bc.idle.String()
		}
		b.Run(name, func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				peak = max(peak, liveHeapRun(b, pool, bc.conns, bc.idle))
			}
			b.ReportMetric(float64(peak)/1e6, "peak-live-MB")
			b.ReportMetric(float64(peak)/float64(bc.conns), "peak-live-B/conn")
		})
	}
}

func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func liveHeapRun(b *testing.B, pool *capgen.Pool, conns int, idle time.Duration) uint64 {
	pr, pw := io.Pipe()
	go func() {
		_, err := capgen.Write(pw, pool, conns, capgen.Options{Seed: 3})
		pw.CloseWithError(err)
	}()
	base := liveHeap()
	src, err := capture.NewFileSource("pipe", pr)
	if err != nil {
		b.Fatal(err)
	}
	var peak uint64
	n := 0
	c := cfg
	c.IdleTimeout = idle
	_, err = analyze.Run(src, c, func(*tlsconn.Summary) {
		if n++; n%2000 == 0 {
			if h := liveHeap(); h > base {
				peak = max(peak, h-base)
			}
		}
	})
	pr.Close()
	if err != nil {
		b.Fatal(err)
	}
	if n != conns {
		b.Fatalf("%d summaries, want %d", n, conns)
	}
	return peak
}
