package tlsconn

import (
	"testing"

	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// TestSilentConnectionCostsLittle: a connection that never carries a byte
// (a SYN flood) gets no parsing state, and reports nothing; one that does
// still tells the -w writer it was TLS after it closed.
func TestSilentConnectionCostsLittle(t *testing.T) {
	h := newHarness(t, Config{}).open(connInfo())
	l := h.rcv.(*lazyConn)
	if !l.Wants(c2s) || !l.Wants(s2c) || l.TLS() || l.c != nil {
		t.Fatalf("fresh connection: wants %v/%v, TLS %v, conn %v", l.Wants(c2s), l.Wants(s2c), l.TLS(), l.c)
	}
	h.close(tcpstream.CloseRST)
	if l.c != nil || len(h.got) != 0 || h.tr.Stats() != (Stats{TCPConnections: 1}) {
		t.Errorf("after Close: conn %v, %d summaries, %+v", l.c, len(h.got), h.tr.Stats())
	}

	h = newHarness(t, Config{}).open(connInfo())
	h.replay(tls12Handshake(t).chunks, 0)
	h.close(tcpstream.CloseRST)
	if l := h.rcv.(*lazyConn); !l.TLS() || len(h.got) != 1 {
		t.Errorf("closed TLS connection: TLS() = %v, %d summaries", l.TLS(), len(h.got))
	}
}
