package tcpstream

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// words is an address's As16 bytes as two big-endian words, as KeyOf
// takes them.
func words(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

func keyOf(src, dst netip.Addr, srcPort, dstPort uint16) Key {
	sh, sl := words(src)
	dh, dl := words(dst)
	return KeyOf(sh, sl, srcPort, dh, dl, dstPort)
}

func TestKeyOf(t *testing.T) {
	addrs := []netip.Addr{
		netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"),
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::1:0:0:1"),
		netip.MustParseAddr("::"), netip.MustParseAddr("0.0.0.0"),
		netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	}
	ports := []uint16{0, 443, 50000, 65535}
	for _, a := range addrs {
		for _, b := range addrs {
			for _, pa := range ports {
				for _, pb := range ports {
					k := keyOf(a, b, pa, pb)
					if r := keyOf(b, a, pb, pa); r != k {
						t.Fatalf("%v:%d %v:%d: the two directions give %+v and %+v", a, pa, b, pb, k, r)
					}
					mk, srcIsA := makeKey(Endpoint{a, pa}, Endpoint{b, pb})
					if mk != k {
						t.Fatalf("%v:%d %v:%d: KeyOf %+v, makeKey %+v", a, pa, b, pb, k, mk)
					}
					if _, rev := makeKey(Endpoint{b, pb}, Endpoint{a, pa}); srcIsA == rev && (a != b || pa != pb) {
						t.Fatalf("%v:%d %v:%d: both directions say srcIsA %v", a, pa, b, pb, srcIsA)
					}
				}
			}
		}
	}
	// An IPv4 address and its IPv4-mapped form are one address (packet
	// decoding unmaps); distinct addresses or ports are distinct keys.
	v4, v4m := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("::ffff:10.0.0.1")
	other := netip.MustParseAddr("10.0.0.2")
	if keyOf(v4, other, 1, 2) != keyOf(v4m, other, 1, 2) {
		t.Error("10.0.0.1 and ::ffff:10.0.0.1 give different keys")
	}
	seen := map[Key]string{}
	for _, a := range addrs {
		for _, b := range addrs {
			for _, pa := range ports {
				for _, pb := range ports {
					name := fmt.Sprintf("%v:%d-%v:%d", a, pa, b, pb)
					if rname := fmt.Sprintf("%v:%d-%v:%d", b, pb, a, pa); seen[keyOf(a, b, pa, pb)] == rname {
						continue
					}
					if prev, dup := seen[keyOf(a, b, pa, pb)]; dup && prev != name {
						t.Fatalf("%s and %s share a key", name, prev)
					}
					seen[keyOf(a, b, pa, pb)] = name
				}
			}
		}
	}
}

// TestAbsorbIsSegment replays real connections, copied many times with
// their clients' addresses changed, through two Assemblers: one given
// every segment with Segment, the other trying Absorb first for segments
// without SYN, FIN or RST, as the analyzer does. The Receivers must see the
// same calls and the counters must agree, whether connections are
// ignored, stop wanting bytes after a while, or are followed to the end,
// with idle connections flushed along the way.
func TestAbsorbIsSegment(t *testing.T) {
	segs := captureSegments(t, "tls12-ecdhe-go.pcap")
	server := segs[0].tcp.DstPort // segs[0] is a SYN
	var all []capSeg
	for i, client := range []func(i int) netip.Addr{
		func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}) },
		func(i int) netip.Addr {
			return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
		},
		// Clients written as IPv4-mapped IPv6 addresses, servers as plain
		// IPv4: the Assembler takes both as the IPv4 addresses.
		func(i int) netip.Addr {
			return netip.AddrFrom16(netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}).As16())
		},
	} {
		for j := range 40 {
			c := client(j)
			for _, s := range segs {
				if s.tcp.SrcPort == server {
					s.dst = c
				} else {
					s.src = c
				}
				// Interleave the copies in time, a few apart.
				s.ts = s.ts.Add(time.Duration(i*40+j) * 3 * time.Millisecond)
				all = append(all, s)
			}
		}
	}
	// The first third of them again, one second later: late packets of
	// closed connections (whose SYN opens a new one).
	for _, s := range all[:len(all)/3] {
		s.ts = s.ts.Add(time.Second)
		all = append(all, s)
	}
	// Stable: segments of one connection at the same time keep their order.
	slices.SortStableFunc(all, func(a, b capSeg) int { return a.ts.Compare(b.ts) })

	// A connection that stops wanting bytes at once, then stays open for a
	// minute of packets 20 s apart before its FINs: with a 30 s idle
	// timeout, only the absorbed packets keep it from being closed idle.
	var keptAlive []capSeg
	c, sv := cli, srv
	for _, sg := range cat(handshake(100, 500), []seg{{from: 'c', flags: "A", seq: 101, ack: 501, data: "hello"}}) {
		keptAlive = append(keptAlive, toCapSeg(sg, c, sv))
	}
	for i := range 3 {
		sg := seg{from: 's', flags: "A", seq: 501 + uint32(i), ack: 106, data: "x", at: time.Duration(i+1) * 20 * time.Second}
		keptAlive = append(keptAlive, toCapSeg(sg, c, sv))
	}
	for _, sg := range []seg{{from: 'c', flags: "FA", seq: 106, ack: 504}, {from: 's', flags: "FA", seq: 504, ack: 107}} {
		sg.at = 70 * time.Second
		keptAlive = append(keptAlive, toCapSeg(sg, c, sv))
	}

	for _, tc := range []struct {
		name  string
		segs  []capSeg
		h     func() *handler
		idle  time.Duration
		flush bool
	}{
		{"ignored", all, func() *handler { return &handler{ignore: true} }, 0, false},
		{"stops wanting", all, func() *handler { return &handler{limit: [2]int{150, 900}} }, 0, false},
		{"followed to the end", all, func() *handler { return &handler{} }, 0, false},
		{"stops wanting, idle flushes", all, func() *handler { return &handler{limit: [2]int{150, 900}} }, 20 * time.Millisecond, true},
		{"kept alive by absorbed packets", keptAlive, func() *handler { return &handler{limit: [2]int{1, 1}} }, 30 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs, ha := tc.h(), tc.h()
			cfg := Config{IdleTimeout: tc.idle}
			viaSegment, viaAbsorb := NewAssembler(hs, cfg), NewAssembler(ha, cfg)
			absorbed := 0
			for i := range tc.segs {
				s := &tc.segs[i]
				if tc.flush && (i%25 == 0 || len(tc.segs) < 25) {
					viaSegment.FlushIdle(s.ts)
					viaAbsorb.FlushIdle(s.ts)
				}
				rs := viaSegment.Segment(s.ts, s.src, s.dst, &s.tcp)
				if viaAbsorb.Absorb(s.ts, keyOf(s.src, s.dst, uint16(s.tcp.SrcPort), uint16(s.tcp.DstPort)), len(s.tcp.Payload), s.tcp.SYN || s.tcp.FIN || s.tcp.RST) {
					absorbed++
					if rs != nil {
						t.Fatalf("segment %d: absorbed, but Segment returned a Receiver", i)
					}
					continue
				}
				if ra := viaAbsorb.Segment(s.ts, s.src, s.dst, &s.tcp); (ra == nil) != (rs == nil) {
					t.Fatalf("segment %d: Segment returned %v and %v", i, rs, ra)
				}
			}
			viaSegment.FlushAll()
			viaAbsorb.FlushAll()
			if absorbed == 0 {
				t.Fatal("no segment was absorbed")
			}
			if s, a := viaSegment.Stats(), viaAbsorb.Stats(); s != a {
				t.Fatalf("counters differ:\nSegment %+v\nAbsorb  %+v", s, a)
			}
			if len(hs.conns) != len(ha.conns) {
				t.Fatalf("%d and %d connections opened", len(hs.conns), len(ha.conns))
			}
			for i, s := range hs.conns {
				a := ha.conns[i]
				if describe(s) != describe(a) {
					t.Fatalf("connection %d:\nSegment %s\nAbsorb  %s", i, describe(s), describe(a))
				}
			}
			t.Logf("%d segments, %d absorbed, %d connections", len(tc.segs), absorbed, len(hs.conns))
		})
	}
}

func describe(r *recorder) string {
	return fmt.Sprintf("%+v c2s %q s2c %q notes %q closes %d %v at %v after %q",
		r.info, r.stream[0].String(), r.stream[1].String(), r.notes, r.closes, r.reason, r.closeTS, r.after)
}

func toCapSeg(s seg, c, sv Endpoint) capSeg {
	src, dst, tcp := s.tcp(c, sv)
	return capSeg{ts: t0.Add(s.at), src: src.Addr, dst: dst.Addr, tcp: *tcp}
}

// TestRelIsSub: packet times relative to the first are what time.Time.Sub
// gives, saturation included, near and far.
func TestRelIsSub(t *testing.T) {
	bases := []time.Time{t0, time.Unix(0, 999_999_999).UTC(), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC)}
	offsets := []time.Duration{0, 1, -1, time.Second - 1, -time.Second + 1, time.Hour, -time.Hour, 100 * 365 * 24 * time.Hour, -100 * 365 * 24 * time.Hour, time.Duration(1<<63 - 1), time.Duration(-1 << 63)}
	for _, base := range bases {
		for _, far := range []time.Time{{}, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 5, time.UTC)} {
			a := NewAssembler(&handler{}, Config{})
			a.rel(base)
			if got, want := a.rel(far), int64(far.Sub(base)); got != want {
				t.Errorf("base %v, ts %v: rel %d, Sub %d", base, far, got, want)
			}
			for _, off := range offsets {
				ts := base.Add(off)
				if got, want := a.rel(ts), int64(ts.Sub(base)); got != want {
					t.Errorf("base %v, ts %v: rel %d, Sub %d", base, ts, got, want)
				}
			}
		}
	}
}
