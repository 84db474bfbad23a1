package pcapout

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/internal/rotate"
	"github.com/tlsinspect/tlsinspect/internal/testcap"
	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// fakeConn is a connection as the TLS tracker shows it to the writer.
type fakeConn struct {
	tls   bool
	wants bool
}

func (f *fakeConn) Data(tcpstream.Dir, []byte, time.Time)  {}
func (f *fakeConn) Gap(tcpstream.Dir, int, time.Time)      {}
func (f *fakeConn) Note(tcpstream.Dir, string)             {}
func (f *fakeConn) Wants(tcpstream.Dir) bool               { return f.wants }
func (f *fakeConn) Close(tcpstream.CloseReason, time.Time) {}
func (f *fakeConn) TLS() bool                              { return f.tls }
func pkt(i int) capture.Packet {
	return capture.Packet{Index: i, Timestamp: time.Unix(int64(i), 0), LinkType: layers.LinkTypeEthernet, Data: []byte{byte(i)}, Length: 1}
}

func indexes(t *testing.T, b []byte) []int {
	t.Helper()
	if len(b) == 0 {
		return nil
	}
	r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			return got
		}
		got = append(got, int(data[0]))
	}
}

// TestHeldUntilTLS: packets before TLS is found are written once it is,
// in order; a connection judged not TLS is never written; nothing is
// written once the handshake no longer wants bytes.
func TestHeldUntilTLS(t *testing.T) {
	var out bytes.Buffer
	w := New(&out, "test", 65535)
	tlsConn := &fakeConn{wants: true}
	other := &fakeConn{wants: true}
	w.Packet(pkt(1), tlsConn) // SYN
	w.Packet(pkt(2), other)
	w.Packet(pkt(3), tlsConn) // SYN-ACK
	tlsConn.tls = true
	w.Packet(pkt(4), tlsConn) // ClientHello: TLS found
	other.wants = false
	w.Packet(pkt(5), other) // judged not TLS: dropped with what was held
	tlsConn.wants = false
	w.Packet(pkt(6), tlsConn) // the packet that ended the handshake
	w.Packet(pkt(7), nil)     // bulk data: the reassembler returns nil
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := indexes(t, out.Bytes()); len(got) != 4 || got[0] != 1 || got[1] != 3 || got[2] != 4 || got[3] != 6 {
		t.Errorf("written packets %v, want [1 3 4 6]", got)
	}
	if len(w.pending) != 0 {
		t.Errorf("%d connections still held", len(w.pending))
	}
	if s := w.Stats(); s.Written != 4 || s.Connections != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestHoldBackIsBounded: a flood of connections that never show TLS holds
// at most maxPendingConns connections of maxPendingPackets packets each.
func TestHoldBackIsBounded(t *testing.T) {
	w := New(&bytes.Buffer{}, "test", 65535)
	for i := range maxPendingConns + 100 {
		c := &fakeConn{wants: true}
		for j := range maxPendingPackets + 2 {
			w.Packet(pkt(i+j), c)
		}
	}
	if len(w.pending) > maxPendingConns {
		t.Errorf("%d connections held, bound %d", len(w.pending), maxPendingConns)
	}
	for _, p := range w.pending {
		if len(p.packets) > maxPendingPackets {
			t.Fatalf("%d packets held for one connection, bound %d", len(p.packets), maxPendingPackets)
		}
	}
	if s := w.Stats(); s.Forgotten != 100 || s.Overflowed != maxPendingConns+100 {
		t.Errorf("stats %+v", s)
	}
	if len(w.order) > 4*maxPendingConns+1 {
		t.Errorf("hold-back order list grew to %d", len(w.order))
	}
}

// TestRotatingFilesComplete: split into files by size, and then by time,
// every file is a complete pcapng file that the project's reader reads
// (its own section header, and the interface of every link type in it,
// even one first seen in an earlier file), and the files hold every
// packet once, in order: a handshake cut by a new file goes on in the
// next one.
func TestRotatingFilesComplete(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, cfg := range []rotate.Config{
		{Name: "hs.pcapng", MaxBytes: 300},
		{Name: "hs-%H%M%S.pcapng", Interval: 10 * time.Second, Now: func() time.Time { return clock }},
	} {
		dir := t.TempDir()
		cfg.Name = filepath.Join(dir, cfg.Name)
		files, err := rotate.Create(cfg)
		if err != nil {
			t.Fatal(err)
		}
		w := NewRotating(files, "test", 65535)
		a := &fakeConn{wants: true, tls: true}
		b := &fakeConn{wants: true}
		var want []int
		for i := 1; i <= 40; i++ {
			p := pkt(i)
			p.Data = append([]byte{byte(i)}, make([]byte, 40)...)
			if i%3 == 0 {
				p.LinkType = layers.LinkTypeLinuxSLL
			}
			c := a
			if i%2 == 0 {
				c = b // held back until it turns out to be TLS at packet 20
			}
			if i == 20 {
				b.tls = true
			}
			if i < 20 && i%2 == 0 {
				// written later, with the packet that shows TLS
			} else if i == 20 {
				for j := 2; j <= 20; j += 2 {
					want = append(want, j)
				}
			} else {
				want = append(want, i)
			}
			w.Packet(p, c)
			clock = clock.Add(time.Second)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := files.Close(); err != nil {
			t.Fatal(err)
		}
		names := files.Files()
		if len(names) < 3 {
			t.Fatalf("%s: only %d files", cfg.Name, len(names))
		}
		var got []int
		for _, name := range names {
			n := 0
			testcap.Each(t, name, func(p *testcap.Packet) {
				i := int(p.Data[0])
				if (i%3 == 0) != (p.LinkType == layers.LinkTypeLinuxSLL) {
					t.Errorf("%s: packet %d has link type %v", name, i, p.LinkType)
				}
				got = append(got, i)
				n++
			})
			if n == 0 {
				t.Errorf("%s: no packets", name)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: packets across the files %v, want %v", cfg.Name, got, want)
		}
		if w.Stats().Written != len(want) {
			t.Errorf("stats %+v", w.Stats())
		}
	}
}

// failingRotator is an output whose next file cannot be begun.
type failingRotator struct {
	bytes.Buffer
	due bool
}

func (f *failingRotator) Due() bool     { return f.due }
func (f *failingRotator) Rotate() error { return errors.New("disk full") }
func (f *failingRotator) Flush() error  { return nil }

// TestRotateFailure: a new file that cannot be begun stops the writing:
// nothing more is written or counted, and Flush reports it.
func TestRotateFailure(t *testing.T) {
	out := &failingRotator{}
	w := NewRotating(out, "test", 65535)
	c := &fakeConn{wants: true, tls: true}
	w.Packet(pkt(1), c)
	out.due = true
	w.Packet(pkt(2), c)
	out.due = false
	w.Packet(pkt(3), c)
	if err := w.Flush(); err == nil || !strings.Contains(err.Error(), "beginning a new file: disk full") {
		t.Errorf("Flush: %v", err)
	}
	if got := indexes(t, out.Bytes()); !slices.Equal(got, []int{1}) || w.Stats().Written != 1 {
		t.Errorf("written %v, stats %+v; want [1]", got, w.Stats())
	}
}
