//go:build linux && !pcap

package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// fanoutConns is the number of connections TestLiveFanout spreads over
// two sources: the chance that all land on one is 2^-39.
const fanoutConns = 40

// TestLiveFanout opens two sources in one fanout group and a reference
// source outside it, all with the same filter, makes fanoutConns TCP
// connections on 127.0.0.1, and checks that every packet of a connection,
// in both directions, went to one member; that the members together saw
// exactly what the reference saw, every packet once; and that both
// members got some connections. On "any" the group spans all interfaces
// and behaves the same.
func TestLiveFanout(t *testing.T) {
	requireLive(t)
	for _, iface := range []string{"lo", AnyInterface} {
		t.Run(iface, func(t *testing.T) { testLiveFanout(t, iface) })
	}
}

func testLiveFanout(t *testing.T, iface string) {
	ln, port := listenTCP(t)
	filter := tcpPortFilter(port, &filterCall{})
	group := FanoutGroupID()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sources []*LiveSource
	defer func() {
		close(stop)
		wg.Wait() // Close only once Next is no longer running
		for _, s := range sources {
			s.Close()
		}
	}()
	open := func(cfg LiveConfig) *backgroundReader {
		s, err := OpenLive(cfg)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, s)
		return readInBackground(s, stop, &wg)
	}
	ref := open(LiveConfig{Interface: iface, Filter: filter})
	var members []*backgroundReader
	for range 2 {
		members = append(members, open(LiveConfig{Interface: iface, Filter: filter, FanoutGroup: group}))
	}
	for i, s := range sources[1:] {
		checkFanoutOption(t, s, group, fmt.Sprintf("member %d", i))
	}
	checkFanoutOption(t, sources[0], 0, "reference")

	start := time.Now()
	flows := runConnections(t, ln, fanoutConns)
	sent := time.Now()

	var refPkts []captured
	memberPkts := make([][]captured, len(members))
	for deadline := time.Now().Add(10 * time.Second); ; {
		var err error
		if refPkts, err = ref.snapshot(); err != nil {
			t.Fatalf("reference source: %v", err)
		}
		var all []captured
		for i, m := range members {
			if memberPkts[i], err = m.snapshot(); err != nil {
				t.Fatalf("member %d: %v", i, err)
			}
			all = append(all, memberPkts[i]...)
		}
		// Quiet for a few block timeouts after the traffic: the last
		// ACKs are in too.
		done := time.Since(sent) > 4*DefaultBlockTimeout &&
			allClosed(flows, refPkts) && allClosed(flows, all) && sameMultiset(refPkts, all)
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	// (a) Each connection, both directions, on one member only.
	owner := map[fanoutFlow]int{}
	perMember := make([]map[fanoutFlow]int, len(members)) // packets per connection
	var union []captured
	for i, ps := range memberPkts {
		perMember[i] = map[fanoutFlow]int{}
		for _, p := range ps {
			f, _, _, ok := flowOf(p)
			if !ok || !flows[f].known {
				t.Errorf("member %d: packet %d is not of a test connection: %v", i, p.Index, p.pkt)
				continue
			}
			perMember[i][f]++
			if o, seen := owner[f]; seen && o != i {
				t.Errorf("connection %v: packets on member %d and member %d", f, o, i)
			}
			owner[f] = i
		}
		union = append(union, ps...)
	}
	for f := range flows {
		if _, ok := owner[f]; !ok {
			t.Errorf("connection %v: no packet on any member", f)
		}
	}

	// (b) Together, every packet of every connection once: what the
	// reference saw, and each handshake, close and payload complete.
	if missing, extra := multisetDiff(refPkts, union); len(missing)+len(extra) > 0 {
		t.Errorf("members saw %d packets, the reference %d: %d missing from the members, %d not seen by the reference or seen twice",
			len(union), len(refPkts), len(missing), len(extra))
	}
	checkFanoutFlows(t, flows, union, start)

	// (c) Both members got connections.
	for i, m := range perMember {
		t.Logf("member %d: %d connections, %d packets", i, len(m), len(memberPkts[i]))
		if len(m) == 0 {
			t.Errorf("member %d got no connection of %d", i, len(flows))
		}
	}
	t.Logf("reference: %d packets", len(refPkts))
	for i, s := range sources[1:] {
		st, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Received < uint64(len(memberPkts[i])) || st.KernelDropped != 0 {
			t.Errorf("member %d: stats %+v after %d packets delivered, none dropped", i, st, len(memberPkts[i]))
		}
	}
}

// TestLiveFanoutMismatch joins a group on "lo", then tries to join it on
// "any": the kernel refuses, and the error says which group and why.
func TestLiveFanoutMismatch(t *testing.T) {
	requireLive(t)
	group := FanoutGroupID()
	s, err := OpenLive(LiveConfig{Interface: "lo", Filter: rejectEverything, FanoutGroup: group})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := OpenLive(LiveConfig{Interface: AnyInterface, Filter: rejectEverything, FanoutGroup: group})
	if err == nil {
		other.Close()
		t.Fatalf("a source on %q joined fanout group %d made on lo", AnyInterface, group)
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, unix.EINVAL) {
		t.Errorf("error %v is not EINVAL", err)
	}
	for _, want := range []string{fmt.Sprintf("fanout group %d", group), `"any"`, "another interface"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestTPacketFDField guards tpacketFD: a gopacket upgrade that renames or
// retypes afpacket.TPacket's socket field must fail here, not at run time.
func TestTPacketFDField(t *testing.T) {
	f, ok := reflect.TypeFor[afpacket.TPacket]().FieldByName("fd")
	if !ok || f.Type.Kind() != reflect.Int {
		t.Fatalf("afpacket.TPacket field fd: found %v, type %v; want an int (the socket)", ok, f.Type)
	}
}

// checkFanoutOption checks that the kernel has the socket of s in group
// (0: in none) in hash mode with defragmentation; it also shows that
// tpacketFD reaches the right socket.
func checkFanoutOption(t *testing.T, s *LiveSource, group uint16, name string) {
	t.Helper()
	fd, err := tpacketFD(s.tp)
	if err != nil {
		t.Fatal(err)
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT)
	if err != nil {
		t.Fatalf("%s: getsockopt(PACKET_FANOUT): %v", name, err)
	}
	want := uint32(0)
	if group != 0 {
		// The kernel reports id | type<<16 | flags<<24, the layout of
		// the option set.
		want = uint32(fanoutMode)<<16 | uint32(group)
	}
	if uint32(got) != want {
		t.Errorf("%s: PACKET_FANOUT is %#x, want %#x", name, uint32(got), want)
	}
}

// backgroundReader collects what a source delivers, read by a goroutine
// of its own as Next requires.
type backgroundReader struct {
	mu  sync.Mutex
	got []captured
	err error
}

func readInBackground(s *LiveSource, stop <-chan struct{}, wg *sync.WaitGroup) *backgroundReader {
	r := &backgroundReader{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			p, err := s.Next()
			if errors.Is(err, ErrNoPacket) {
				continue
			}
			r.mu.Lock()
			if err != nil {
				r.err = err
				r.mu.Unlock()
				return
			}
			p.Data = bytes.Clone(p.Data)
			r.got = append(r.got, captured{Packet: p, pkt: decode(p)})
			r.mu.Unlock()
		}
	}()
	return r
}

// snapshot returns what was read so far, and the error that ended the
// reading if any.
func (r *backgroundReader) snapshot() ([]captured, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got), r.err
}

// fanoutFlow is a connection's 4-tuple, lower address first: the same for
// both directions.
type fanoutFlow struct{ a, b netip.AddrPort }

func (f fanoutFlow) String() string { return f.a.String() + "<->" + f.b.String() }

// flowOf returns the connection of a TCP/IPv4 packet and its sender.
func flowOf(p captured) (f fanoutFlow, from netip.AddrPort, tcp *layers.TCP, ok bool) {
	ip, _ := p.pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if tcp = p.tcp(); ip == nil || tcp == nil {
		return fanoutFlow{}, netip.AddrPort{}, nil, false
	}
	src, ok1 := netip.AddrFromSlice(ip.SrcIP.To4())
	dst, ok2 := netip.AddrFromSlice(ip.DstIP.To4())
	if !ok1 || !ok2 {
		return fanoutFlow{}, netip.AddrPort{}, nil, false
	}
	from = netip.AddrPortFrom(src, uint16(tcp.SrcPort))
	return newFanoutFlow(from, netip.AddrPortFrom(dst, uint16(tcp.DstPort))), from, tcp, true
}

func newFanoutFlow(a, b netip.AddrPort) fanoutFlow {
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return fanoutFlow{a, b}
}

// fanoutConn is what runConnections exchanged on a connection.
type fanoutConn struct {
	known             bool
	client            netip.AddrPort
	request, response []byte
}

// runConnections makes n connections to ln at once (so that their client
// ports differ), then on each in turn the client sends a request and
// half-closes, and the server answers and closes.
func runConnections(t *testing.T, ln *net.TCPListener, n int) map[fanoutFlow]fanoutConn {
	t.Helper()
	ln.SetDeadline(time.Now().Add(10 * time.Second))
	srvErr := make(chan error, n)
	go func() {
		for range n {
			c, err := ln.AcceptTCP()
			if err != nil {
				srvErr <- err
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				req, err := io.ReadAll(c)
				if err == nil {
					_, err = c.Write(append([]byte("answer to "), req...))
				}
				srvErr <- err
			}()
		}
	}()
	flows := map[fanoutFlow]fanoutConn{}
	conns := make([]*net.TCPConn, n)
	for i := range conns {
		c, err := net.DialTCP("tcp4", nil, ln.Addr().(*net.TCPAddr))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		fc := fanoutConn{
			known:    true,
			client:   c.LocalAddr().(*net.TCPAddr).AddrPort(),
			request:  fmt.Appendf(nil, "request %d", i),
			response: fmt.Appendf(nil, "answer to request %d", i),
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(fc.request); err != nil {
			t.Fatal(err)
		}
		c.CloseWrite()
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, fc.response) {
			t.Fatalf("connection %d: client got %q, want %q", i, got, fc.response)
		}
		c.Close()
		flows[newFanoutFlow(fc.client, ln.Addr().(*net.TCPAddr).AddrPort())] = fc
	}
	for range n {
		if err := <-srvErr; err != nil {
			t.Fatalf("server: %v", err)
		}
	}
	if len(flows) != n {
		t.Fatalf("%d connections used %d distinct client ports", n, len(flows))
	}
	return flows
}

// allClosed reports whether ps hold both FINs of every connection.
func allClosed(flows map[fanoutFlow]fanoutConn, ps []captured) bool {
	fins := map[fanoutFlow]int{}
	for _, p := range ps {
		if f, _, tcp, ok := flowOf(p); ok && tcp.FIN {
			fins[f]++
		}
	}
	for f := range flows {
		if fins[f] < 2 {
			return false
		}
	}
	return true
}

// sameMultiset reports whether a and b hold the same packets, as often.
func sameMultiset(a, b []captured) bool {
	missing, extra := multisetDiff(a, b)
	return len(missing) == 0 && len(extra) == 0
}

// multisetDiff returns the packets of want that got lacks and those of
// got beyond want, compared by their bytes.
func multisetDiff(want, got []captured) (missing, extra []captured) {
	n := map[string]int{}
	for _, p := range want {
		n[string(p.Data)]++
	}
	for _, p := range got {
		if n[string(p.Data)] > 0 {
			n[string(p.Data)]--
		} else {
			extra = append(extra, p)
		}
	}
	for _, p := range want {
		if n[string(p.Data)] > 0 {
			n[string(p.Data)]--
			missing = append(missing, p)
		}
	}
	return missing, extra
}

// checkFanoutFlows checks that ps hold each connection whole: one SYN,
// one SYN-ACK, one FIN each way, and the payloads exchanged.
func checkFanoutFlows(t *testing.T, flows map[fanoutFlow]fanoutConn, ps []captured, start time.Time) {
	t.Helper()
	type tally struct {
		syn, synack, finC, finS int
		toServer, toClient      []byte
	}
	seen := map[fanoutFlow]*tally{}
	for _, p := range ps {
		f, from, tcp, ok := flowOf(p)
		if !ok {
			continue // reported by the caller
		}
		if p.Timestamp.Before(start.Add(-time.Second)) || p.Truncated {
			t.Errorf("connection %v: packet %d: timestamp %v (test started %v), truncated %v", f, p.Index, p.Timestamp, start, p.Truncated)
		}
		c := seen[f]
		if c == nil {
			c = &tally{}
			seen[f] = c
		}
		fromClient := from == flows[f].client
		switch {
		case tcp.SYN && !tcp.ACK:
			c.syn++
		case tcp.SYN:
			c.synack++
		}
		switch {
		case tcp.FIN && fromClient:
			c.finC++
		case tcp.FIN:
			c.finS++
		}
		if fromClient {
			c.toServer = append(c.toServer, tcp.Payload...)
		} else {
			c.toClient = append(c.toClient, tcp.Payload...)
		}
	}
	for f, fc := range flows {
		c := seen[f]
		if c == nil {
			continue // reported by the caller
		}
		if c.syn != 1 || c.synack != 1 || c.finC != 1 || c.finS != 1 {
			t.Errorf("connection %v: SYN %d, SYN-ACK %d, FIN from client %d, from server %d; want 1 of each", f, c.syn, c.synack, c.finC, c.finS)
		}
		if !bytes.Equal(c.toServer, fc.request) || !bytes.Equal(c.toClient, fc.response) {
			t.Errorf("connection %v: payloads %q and %q, want %q and %q", f, c.toServer, c.toClient, fc.request, fc.response)
		}
	}
}
