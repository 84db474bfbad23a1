package pcapout

import (
	"bytes"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsinspect/tlsinspect/capture"
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
