package analyze

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/internal/hostile"
	"github.com/tlsinspect/tlsinspect/keylog"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

func exchange(t *testing.T, name string) hostile.Exchange {
	t.Helper()
	ex, err := hostile.LoadExchange("../testdata/pcaps/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// heapSampler is a Source that measures the live heap (after a GC) every
// `every` packets while the run reads src.
type heapSampler struct {
	src   Source
	n     int
	every int
	base  uint64
	peak  uint64
}

func (h *heapSampler) live() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func (h *heapSampler) Next() (capture.Packet, error) {
	if h.n++; h.n%h.every == 0 {
		if l := h.live(); l > h.base {
			h.peak = max(h.peak, l-h.base)
		}
	}
	return h.src.Next()
}

// TestSYNFloodMemoryBounded: a SYN flood larger than MaxFlows is counted
// in full, evicts the least recently active connections, and the memory it
// holds stays bounded by MaxFlows, not by the size of the flood.
func TestSYNFloodMemoryBounded(t *testing.T) {
	const n = 50000
	var b bytes.Buffer
	if err := hostile.SYNFlood(&b, n); err != nil {
		t.Fatal(err)
	}
	flood := b.Bytes()
	run := func(maxFlows int) (Counts, uint64) {
		src, err := capture.NewFileSource("flood.pcap", bytes.NewReader(flood))
		if err != nil {
			t.Fatal(err)
		}
		h := &heapSampler{src: src, every: 10000}
		h.base = h.live()
		c := cfg
		c.MaxFlows = maxFlows
		counts, err := Run(h, c, func(*tlsconn.Summary) { t.Error("a summary for a SYN") })
		if err != nil {
			t.Fatal(err)
		}
		return counts, h.peak
	}
	bounded, small := run(1000)
	if bounded.Packets != n || bounded.TLS.TCPConnections != n || bounded.TCP.MaxActive > 1000 {
		t.Errorf("counts %+v", bounded)
	}
	if want := "50000 packets, 50000 TCP connections, 0 TLS connections, 0 handshakes (0 completed), 0 warnings, 49000 connections evicted (--max-flows)"; bounded.String() != want {
		t.Errorf("summary %q, want %q", bounded.String(), want)
	}
	all, big := run(n)
	if all.TCP.ClosedBy(0) != 0 || all.TCP.MaxActive != n || len(all.Dropped()) != 0 {
		t.Errorf("unbounded run: %+v", all.TCP)
	}
	t.Logf("live heap: %d KB with 1000 flows, %d KB with %d", small>>10, big>>10, n)
	if small > 4<<20 || big < 8*small {
		t.Errorf("live heap grew by %d KB with 1000 tracked flows, %d KB with %d: not bounded by the limit", small>>10, big>>10, n)
	}
}

// TestNotTLSReleasedEarly: HTTP and SSH connections are let go after their
// first bytes: the 20 KB HTTP body (which holds a ClientHello) and the SSH
// packets are never buffered or searched.
func TestNotTLSReleasedEarly(t *testing.T) {
	data, err := hostile.NotTLSOn443(exchange(t, "tls12-ecdhe-go.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	got, c, err := runBytes(t, "nottls.pcap", data)
	if err != nil || len(got) != 0 {
		t.Fatalf("%d summaries, %v", len(got), err)
	}
	if c.TCP.BytesDelivered > 200 || c.TCP.BytesIgnored < 60000 || c.TLS.TLSConnections != 0 || c.TLS.Warnings != 0 {
		t.Errorf("%d bytes delivered, %d ignored; %+v", c.TCP.BytesDelivered, c.TCP.BytesIgnored, c.TLS)
	}
}

// failingKeys panics the first time it is asked for secrets: a bug reached
// in the middle of a dissection.
type failingKeys struct{ asked int }

func (k *failingKeys) Lookup([]byte) *keylog.Secrets {
	if k.asked++; k.asked == 1 {
		panic("injected failure")
	}
	return nil
}

func (k *failingKeys) Len() int { return 0 }

// TestDissectionFailureContained: a panic in one connection's dissection
// does not end the run; the connection is reported with a warning, the
// summary line counts it, and the connections after it are analysed.
func TestDissectionFailureContained(t *testing.T) {
	ex := exchange(t, "tls13-go.pcap")
	data, err := hostile.Interleaved(ex, 2)
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.NewFileSource("two.pcap", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := cfg
	c.Keys = &failingKeys{}
	var failed []uint64
	c.Panic = func(id uint64, v any, stack []byte) { failed = append(failed, id) }
	var got []*tlsconn.Summary
	counts, err := Run(src, c, func(s *tlsconn.Summary) { got = append(got, s) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(failed) != 1 || failed[0] != 1 || counts.TLS.Failed != 1 || counts.TLS.Established != 1 {
		t.Fatalf("%d summaries, failures in connections %v, counts %+v", len(got), failed, counts.TLS)
	}
	if s := got[0]; s.Connection != 1 || s.SNI == nil || len(s.Warnings) != 1 || !strings.HasPrefix(s.Warnings[0], "internal error while dissecting this connection (injected failure)") {
		t.Errorf("failed connection: %d, sni %v, warnings %q", s.Connection, s.SNI, s.Warnings)
	}
	if s := got[1]; s.Connection <= 1 || !s.Established || len(s.Warnings) != 0 {
		t.Errorf("next connection: %d, established %v, warnings %q", s.Connection, s.Established, s.Warnings)
	}
	if !strings.HasSuffix(counts.String(), ", 1 connections not fully analysed (internal error, see their warnings)") {
		t.Errorf("summary %q", counts.String())
	}
}
