package udpflow

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/tcpstream"
)

type recorder struct {
	opened []Info
	got    []string // "c" or "s" per datagram, then the close reason
}

type recv struct{ r *recorder }

func (v recv) Datagram(fromClient bool, p []byte, ts time.Time) {
	if fromClient {
		v.r.got = append(v.r.got, "c")
	} else {
		v.r.got = append(v.r.got, "s")
	}
}

func (v recv) Close(reason tcpstream.CloseReason, ts time.Time) {
	v.r.got = append(v.r.got, reason.String())
}

func (r *recorder) OpenFlow(info Info) Receiver {
	r.opened = append(r.opened, info)
	return recv{r}
}

// dtlsHello is a minimal DTLS 1.2 ClientHello datagram.
func dtlsHello() []byte {
	body := []byte{
		0xfe, 0xfd, // client_version
	}
	body = append(body, make([]byte, 32)...) // random
	body = append(body, 0)                   // session_id
	body = append(body, 0)                   // cookie
	body = append(body, 0, 2, 0xc0, 0x2f)    // cipher suites
	body = append(body, 1, 0)                // compression
	n := len(body)
	hs := []byte{1, 0, byte(n >> 8), byte(n), 0, 0, 0, 0, 0, 0, byte(n >> 8), byte(n)}
	hs = append(hs, body...)
	rec := []byte{22, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, byte(len(hs) >> 8), byte(len(hs))}
	return append(rec, hs...)
}

var (
	a = netip.MustParseAddrPort("10.0.0.1:5000")
	b = netip.MustParseAddrPort("10.0.0.2:6000")
	c = netip.MustParseAddrPort("10.0.0.3:7000")
)

func TestRolesByContent(t *testing.T) {
	r := &recorder{}
	tb := New(r, Config{})
	t0 := time.Unix(1000, 0)
	// The server's address sends first (a stray datagram), then the
	// client's hello on a high port decides the roles.
	tb.Datagram(t0, b, a, []byte("junk"))
	tb.Datagram(t0, a, b, dtlsHello())
	tb.Datagram(t0, b, a, []byte{22})
	tb.FlushAll()
	if len(r.opened) != 1 || r.opened[0].Client != a || r.opened[0].Server != b || r.opened[0].Protocol != DTLS {
		t.Fatalf("opened %+v", r.opened)
	}
	if got := r.got; len(got) != 3 || got[0] != "c" || got[1] != "s" || got[2] != "end-of-input" {
		t.Fatalf("got %v", got)
	}
	if s := tb.Stats(); s.Flows != 1 || s.DTLS != 1 || s.QUIC != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestIgnoredAfterProbe(t *testing.T) {
	r := &recorder{}
	tb := New(r, Config{Probe: 2})
	t0 := time.Unix(1000, 0)
	for range 5 {
		tb.Datagram(t0, a, b, []byte("dns?"))
	}
	tb.Datagram(t0, a, b, dtlsHello()) // too late: the flow is judged
	if len(r.opened) != 0 || tb.Stats().Ignored != 1 {
		t.Fatalf("opened %v, stats %+v", r.opened, tb.Stats())
	}
}

func TestIdleAndEviction(t *testing.T) {
	r := &recorder{}
	tb := New(r, Config{IdleTimeout: time.Second, MaxFlows: 2})
	t0 := time.Unix(1000, 0)
	tb.Datagram(t0, a, b, dtlsHello())
	tb.FlushIdle(t0.Add(3 * time.Second)) // the caller's flush: a-b idle
	tb.Datagram(t0.Add(3*time.Second), a, c, dtlsHello())
	if len(r.got) < 2 || r.got[1] != "idle" {
		t.Fatalf("got %v", r.got)
	}
	tb.Datagram(t0.Add(3*time.Second), b, c, []byte("x"))
	tb.Datagram(t0.Add(3*time.Second), c, a, []byte("y")) // same flow as a-c
	tb.Datagram(t0.Add(3*time.Second), b, a, []byte("z")) // third flow: evicts the oldest
	if tb.Len() != 2 || tb.Stats().Evicted != 1 {
		t.Fatalf("len %d, stats %+v", tb.Len(), tb.Stats())
	}
}

// wantRecv wants datagrams until it has taken limit of them.
type wantRecv struct {
	recv
	taken *int
	limit int
}

func (w wantRecv) Datagram(fromClient bool, p []byte, ts time.Time) {
	*w.taken++
	w.recv.Datagram(fromClient, p, ts)
}

func (w wantRecv) Wants() bool { return *w.taken < w.limit }

type wantHandler struct {
	r     *recorder
	taken int
	limit int
}

func (h *wantHandler) OpenFlow(info Info) Receiver {
	h.r.opened = append(h.r.opened, info)
	return wantRecv{recv{h.r}, &h.taken, h.limit}
}

// TestWants: Datagram returns the flow's Receiver for the datagrams it
// wanted as they arrived (what -w writes) and nil once it wants no more,
// but delivers every datagram of the flow either way; a Receiver that is
// not a Wanter is always returned.
func TestWants(t *testing.T) {
	t0 := time.Unix(1000, 0)
	h := &wantHandler{r: &recorder{}, limit: 3}
	tb := New(h, Config{})
	var returned []bool
	for i, p := range [][]byte{dtlsHello(), {22}, {22}, {23}, {23}} {
		src, dst := a, b
		if i%2 == 1 {
			src, dst = b, a
		}
		returned = append(returned, tb.Datagram(t0, src, dst, p) != nil)
	}
	// The hello opens the flow (returned, as every new flow is); the next
	// two arrive while it wants them (2 then 3 taken, checked before); the
	// last two after.
	if want := []bool{true, true, true, false, false}; !slices.Equal(returned, want) {
		t.Errorf("returned %v, want %v", returned, want)
	}
	if h.taken != 5 {
		t.Errorf("the receiver took %d datagrams of 5", h.taken)
	}
	plain := New(&recorder{}, Config{})
	for i, p := range [][]byte{dtlsHello(), {23}, {23}} {
		if plain.Datagram(t0, a, b, p) == nil {
			t.Errorf("datagram %d: a Receiver that is not a Wanter was not returned", i)
		}
	}
}
