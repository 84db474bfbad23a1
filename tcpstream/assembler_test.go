package tcpstream

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

type connWant struct {
	c2s, s2c string // delivered bytes with "<gap N>" inline
	reason   CloseReason
	sawSYN   bool
	client   Endpoint // zero: not checked
	notes    []string // each must be a substring of some note
	noNotes  bool     // no note at all
}

const (
	ci = 1000 // client ISN: client data starts at 1001
	si = 5000 // server ISN: server data starts at 5001
)

func TestAssemblerSequences(t *testing.T) {
	finBoth := func(cseq, sseq uint32) []seg {
		return []seg{{from: 'c', flags: "FA", seq: cseq}, {from: 's', flags: "FA", seq: sseq}}
	}
	v6c := Endpoint{netip.MustParseAddr("2001:db8::1"), 51000}
	v6s := Endpoint{netip.MustParseAddr("2001:db8::2"), 443}
	tests := []struct {
		name     string
		c, s     Endpoint // zero: cli, srv
		cfg      Config
		segs     []seg
		flushAll bool
		want     []connWant
		check    func(t *testing.T, st Stats)
	}{
		{
			name: "in order",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1001, data: "hello "},
				{from: 'c', flags: "A", seq: 1007, data: "world"},
				{from: 's', flags: "A", seq: 5001, data: "HI"},
			}, finBoth(1012, 5003)),
			want: []connWant{{c2s: "hello world", s2c: "HI", reason: CloseFIN, sawSYN: true, client: cli, noNotes: true}},
			check: func(t *testing.T, st Stats) {
				if st.BytesDelivered != 13 || st.OutOfOrder != 0 || st.Active != 0 || st.Tombstones != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "reversed",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1011, data: "d"},
				{from: 'c', flags: "A", seq: 1007, data: "worl"},
				{from: 'c', flags: "A", seq: 1004, data: "lo "},
				{from: 'c', flags: "A", seq: 1001, data: "hel"},
			}, finBoth(1012, 5001)),
			want: []connWant{{c2s: "hello world", reason: CloseFIN, sawSYN: true, noNotes: true}},
			check: func(t *testing.T, st Stats) {
				if st.OutOfOrder != 3 || st.Gaps != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "duplicated",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1004, data: "lo"},
				{from: 'c', flags: "A", seq: 1004, data: "lo"}, // duplicate of buffered
				{from: 'c', flags: "A", seq: 1001, data: "hel"},
				{from: 'c', flags: "A", seq: 1001, data: "hel"}, // duplicate of delivered
				{from: 'c', flags: "A", seq: 1004, data: "lo"},
			}, finBoth(1006, 5001)),
			want: []connWant{{c2s: "hello", reason: CloseFIN, sawSYN: true, noNotes: true}},
			check: func(t *testing.T, st Stats) {
				if st.Retransmissions != 3 || st.BytesDelivered != 5 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "overlap same bytes",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1005, data: "o world"},
				{from: 'c', flags: "A", seq: 1001, data: "hello wo"},
				{from: 'c', flags: "A", seq: 1009, data: "rld!!"},
			}, finBoth(1014, 5001)),
			want: []connWant{{c2s: "hello world!!", reason: CloseFIN, sawSYN: true, noNotes: true}},
			check: func(t *testing.T, st Stats) {
				if st.Conflicts != 0 || st.PartialOverlaps != 2 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "overlap different bytes first copy wins",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1007, data: "world"},
				{from: 'c', flags: "A", seq: 1001, data: "hello WORLD!"},
			}, finBoth(1013, 5001)),
			want: []connWant{{c2s: "hello world!", reason: CloseFIN, sawSYN: true,
				notes: []string{"client->server: overlapping retransmission with different bytes at seq+6 (first copy kept)"}}},
			check: func(t *testing.T, st Stats) {
				if st.Conflicts != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "overlap different bytes between buffered segments",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1003, data: "cd"},
				{from: 'c', flags: "A", seq: 1007, data: "gh"},
				{from: 'c', flags: "A", seq: 1002, data: "BXDEFXH"}, // fills 1002, 1005-1006; conflicts at 1003
				{from: 'c', flags: "A", seq: 1001, data: "a"},
			}, finBoth(1009, 5001)),
			want: []connWant{{c2s: "aBcdEFgh", reason: CloseFIN, sawSYN: true,
				notes: []string{"different bytes at seq+2 (first copy kept)"}}},
		},
		{
			name: "missing first segment",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1006, data: "world"},
			}, finBoth(1011, 5001)),
			want: []connWant{{c2s: "<gap 5>world", reason: CloseFIN, sawSYN: true}},
			check: func(t *testing.T, st Stats) {
				if st.Gaps != 1 || st.GapBytes != 5 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "missing middle segment with FIN",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1001, data: "hello"},
				{from: 'c', flags: "FA", seq: 1011, data: "world"},
				{from: 's', flags: "FA", seq: 5001},
			}),
			want: []connWant{{c2s: "hello<gap 5>world", reason: CloseFIN, sawSYN: true}},
		},
		{
			name: "missing last segment before empty FIN",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1001, data: "hello"},
				{from: 'c', flags: "FA", seq: 1010},
				{from: 's', flags: "FA", seq: 5001},
			}),
			want: []connWant{{c2s: "hello<gap 4>", reason: CloseFIN, sawSYN: true}},
		},
		{
			name: "hole acknowledged by peer is skipped at once",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1001, data: "abc"},
				{from: 'c', flags: "A", seq: 1007, data: "ghi"},
				{from: 's', flags: "A", seq: 5001, ack: 1010},
			}),
			flushAll: true,
			want:     []connWant{{c2s: "abc<gap 3>ghi", reason: CloseEndOfInput, sawSYN: true}},
		},
		{
			name: "sequence wrap-around",
			segs: cat(handshake(0xFFFFFFF8, 0xFFFFFFFE), []seg{
				{from: 'c', flags: "A", seq: 0xFFFFFFFD, data: "456789"}, // crosses 0
				{from: 'c', flags: "A", seq: 3, data: "abc"},
				{from: 'c', flags: "A", seq: 0xFFFFFFF9, data: "0123"},
				{from: 's', flags: "A", seq: 0xFFFFFFFF, data: "xy"},
				{from: 's', flags: "A", seq: 1, data: "z"},
				{from: 'c', flags: "A", seq: 0xFFFFFFF9, data: "0123"},
			}, finBoth(6, 2)),
			want: []connWant{{c2s: "0123456789abc", s2c: "xyz", reason: CloseFIN, sawSYN: true, noNotes: true}},
		},
		{
			name: "retransmission of delivered bytes with different bytes",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1001, data: "hello"},
				{from: 'c', flags: "A", seq: 1001, data: "hello"},       // same bytes: no note
				{from: 'c', flags: "A", seq: 1003, data: "LLo world"},   // differs at 1003, then new bytes
				{from: 'c', flags: "A", seq: 1007, data: "WORLD"},       // all delivered: differs at 1007
				{from: 's', flags: "A", seq: 5001, data: "ok"},          // the other direction is unaffected
				{from: 's', flags: "A", seq: 5001, data: "ok"},          //
				{from: 'c', flags: "A", seq: 1001, data: "hello world"}, // same as the first copy
			}, finBoth(1012, 5003)),
			want: []connWant{{c2s: "hello world", s2c: "ok", reason: CloseFIN, sawSYN: true,
				notes: []string{
					"client->server: overlapping retransmission with different bytes at seq+2 (first copy kept)",
					"client->server: overlapping retransmission with different bytes at seq+6 (first copy kept)",
				}}},
			check: func(t *testing.T, st Stats) {
				if st.Conflicts != 2 || st.Retransmissions != 4 || st.PartialOverlaps != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "different bytes in a retransmission across the sequence wrap",
			segs: cat(handshake(0xFFFFFFF8, si), []seg{
				{from: 'c', flags: "A", seq: 0xFFFFFFF9, data: "0123456789"}, // crosses 0
				{from: 'c', flags: "A", seq: 0xFFFFFFFD, data: "45x7"},       // differs at seq+6 (= 1)
			}, finBoth(3, 5001)),
			want: []connWant{{c2s: "0123456789", reason: CloseFIN, sawSYN: true,
				notes: []string{"overlapping retransmission with different bytes at seq+6 (first copy kept)"}}},
		},
		{
			name: "bytes before a gap are not compared",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1001, data: "ab"},
				{from: 'c', flags: "A", seq: 1005, data: "ef"},
				{from: 's', flags: "A", seq: 5001, ack: 1007}, // acknowledges the hole: skipped
				{from: 'c', flags: "A", seq: 1001, data: "XY"},
			}, finBoth(1007, 5001)),
			want: []connWant{{c2s: "ab<gap 2>ef", reason: CloseFIN, sawSYN: true}},
			check: func(t *testing.T, st Stats) {
				if st.Conflicts != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "RST closes and flushes",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1001, data: "ab"},
				{from: 'c', flags: "A", seq: 1005, data: "ef"},
				{from: 's', flags: "RA", seq: 5001},
				{from: 'c', flags: "A", seq: 1003, data: "cd"}, // after close: tombstone
			}),
			want: []connWant{{c2s: "ab<gap 2>ef", reason: CloseRST, sawSYN: true}},
			check: func(t *testing.T, st Stats) {
				if st.ClosedBy(CloseRST) != 1 || st.TombstoneHits != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "TCP Fast Open data in SYN",
			segs: []seg{
				{from: 'c', flags: "S", seq: ci, data: "GET "},
				{from: 's', flags: "SA", seq: si, ack: ci + 5},
				{from: 'c', flags: "A", seq: 1005, ack: si + 1, data: "/"},
				{from: 'c', flags: "S", seq: ci, data: "GET "}, // retransmitted SYN
				{from: 'c', flags: "FA", seq: 1006},
				{from: 's', flags: "FA", seq: 5001},
			},
			want: []connWant{{c2s: "GET /", reason: CloseFIN, sawSYN: true, noNotes: true}},
		},
		{
			name: "mid-connection start guesses server by port",
			segs: []seg{
				{from: 's', flags: "A", seq: 777, data: "late"},
				{from: 'c', flags: "A", seq: 99, data: "req"},
				{from: 's', flags: "A", seq: 781, data: "r"},
			},
			flushAll: true,
			want: []connWant{{c2s: "req", s2c: "later", reason: CloseEndOfInput, sawSYN: false, client: cli,
				notes: []string{"server->client: no SYN seen: stream picked up mid-connection", "client->server: no SYN seen"}}},
			check: func(t *testing.T, st Stats) {
				if st.MidConnection != 1 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "mid-connection start first sender is client",
			c:    Endpoint{netip.MustParseAddr("10.1.1.1"), 5000},
			s:    Endpoint{netip.MustParseAddr("10.1.1.2"), 6000},
			segs: []seg{
				{from: 's', flags: "A", seq: 1, data: "x"},
			},
			flushAll: true,
			want: []connWant{{s2c: "", c2s: "x", reason: CloseEndOfInput,
				client: Endpoint{netip.MustParseAddr("10.1.1.2"), 6000}}},
		},
		{
			name: "SYN-ACK first gives roles and client start",
			segs: []seg{
				{from: 's', flags: "SA", seq: si, ack: ci + 1},
				{from: 'c', flags: "A", seq: 1004, data: "def"},
				{from: 'c', flags: "A", seq: 1001, data: "abc"},
			},
			flushAll: true,
			want: []connWant{{c2s: "abcdef", reason: CloseEndOfInput, sawSYN: true, client: cli,
				notes: []string{"client->server: SYN not seen in this direction"}}},
		},
		{
			name: "SYN-ACK missed: client ACK anchors server stream",
			segs: []seg{
				{from: 'c', flags: "S", seq: ci},
				{from: 'c', flags: "A", seq: 1001, ack: si + 1, data: "hello"},
				{from: 's', flags: "A", seq: 5004, data: "lo"}, // 5001-5003 lost
			},
			flushAll: true,
			want:     []connWant{{c2s: "hello", s2c: "<gap 3>lo", reason: CloseEndOfInput, sawSYN: true}},
		},
		{
			name: "data before SYN",
			segs: []seg{
				{from: 'c', flags: "A", seq: 1001, data: "abc"},
				{from: 'c', flags: "S", seq: ci},
				{from: 'c', flags: "A", seq: 1004, data: "d"},
			},
			flushAll: true,
			want: []connWant{{c2s: "abcd", reason: CloseEndOfInput, client: cli,
				notes: []string{"client->server: data before SYN"}}},
		},
		{
			name: "tuple reuse after FIN",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1001, data: "one"},
			}, finBoth(1004, 5001), []seg{
				{from: 'c', flags: "A", seq: 1005, ack: 5002}, // last ACK: tombstone
			}, handshake(90000, 70000), []seg{
				{from: 'c', flags: "A", seq: 90001, data: "two"},
				{from: 'c', flags: "RA", seq: 90004},
			}),
			want: []connWant{
				{c2s: "one", reason: CloseFIN, sawSYN: true},
				{c2s: "two", reason: CloseRST, sawSYN: true},
			},
			check: func(t *testing.T, st Stats) {
				if st.Connections != 2 || st.Reused != 1 || st.Tombstones != 1 || st.Active != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "new SYN on open connection closes it as reused",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1001, data: "one"},
				{from: 'c', flags: "A", seq: 1006, data: "x"},
			}, handshake(90000, 70000), []seg{
				{from: 's', flags: "A", seq: 70001, data: "two"},
			}),
			flushAll: true,
			want: []connWant{
				{c2s: "one<gap 2>x", reason: CloseReused, sawSYN: true},
				{s2c: "two", reason: CloseEndOfInput, sawSYN: true},
			},
		},
		{
			name: "IPv6",
			c:    v6c, s: v6s,
			segs: cat(handshake(ci, si), []seg{
				{from: 's', flags: "A", seq: 5003, data: "cd"},
				{from: 's', flags: "A", seq: 5001, data: "ab"},
			}, finBoth(1001, 5005)),
			want: []connWant{{s2c: "abcd", reason: CloseFIN, sawSYN: true, client: v6c, noNotes: true}},
		},
		{
			name: "buffer cap skips the hole",
			cfg:  Config{MaxBufferedPerDir: 8},
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1003, data: "cdef"},
				{from: 'c', flags: "A", seq: 1007, data: "ghij"}, // 8 buffered
				{from: 'c', flags: "A", seq: 1012, data: "lm"},   // would exceed: skip hole 1001-1002
				{from: 'c', flags: "A", seq: 1001, data: "ab"},   // too late: retransmission
				{from: 'c', flags: "A", seq: 1020, data: "0123456789"},
			}),
			flushAll: true,
			want: []connWant{{c2s: "<gap 2>cdefghij<gap 1>lm", reason: CloseEndOfInput, sawSYN: true,
				notes: []string{"out-of-order buffer full (--max-buffer): skipping a hole", "dropped 10 bytes at seq+19"}}},
			check: func(t *testing.T, st Stats) {
				if st.BytesDropped != 10 {
					t.Errorf("BytesDropped = %d", st.BytesDropped)
				}
			},
		},
		{
			name: "segment beyond the window ignored",
			segs: cat(handshake(ci, si), []seg{
				{from: 'c', flags: "A", seq: 1001 + 1<<30 + 1, data: "far"},
				{from: 'c', flags: "A", seq: 1001, data: "near"},
			}),
			flushAll: true,
			want: []connWant{{c2s: "near", reason: CloseEndOfInput, sawSYN: true,
				notes: []string{"beyond the next expected byte ignored"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s := tt.c, tt.s
			if c == (Endpoint{}) {
				c, s = cli, srv
			}
			h := &handler{}
			a := NewAssembler(h, tt.cfg)
			feed(a, c, s, tt.segs)
			if tt.flushAll {
				a.FlushAll()
			}
			if len(h.conns) != len(tt.want) {
				t.Fatalf("got %d connections, want %d", len(h.conns), len(tt.want))
			}
			for i, w := range tt.want {
				r := h.conns[i]
				if r.info.ID != uint64(i+1) {
					t.Errorf("conn %d: ID %d", i, r.info.ID)
				}
				if got := r.stream[ClientToServer].String(); got != w.c2s {
					t.Errorf("conn %d: c2s %q, want %q", i, got, w.c2s)
				}
				if got := r.stream[ServerToClient].String(); got != w.s2c {
					t.Errorf("conn %d: s2c %q, want %q", i, got, w.s2c)
				}
				if r.closes != 1 || r.reason != w.reason {
					t.Errorf("conn %d: closed %d times, reason %v, want once with %v", i, r.closes, r.reason, w.reason)
				}
				if len(r.after) > 0 {
					t.Errorf("conn %d: calls after Close: %v", i, r.after)
				}
				if r.info.SawSYN != w.sawSYN {
					t.Errorf("conn %d: SawSYN %v", i, r.info.SawSYN)
				}
				if w.client != (Endpoint{}) && r.info.Client != w.client {
					t.Errorf("conn %d: client %v, want %v", i, r.info.Client, w.client)
				}
				if w.noNotes && len(r.notes) > 0 {
					t.Errorf("conn %d: unexpected notes %q", i, r.notes)
				}
				for _, n := range w.notes {
					if !slices.ContainsFunc(r.notes, func(s string) bool { return strings.Contains(s, n) }) {
						t.Errorf("conn %d: no note %q in %q", i, n, r.notes)
					}
				}
			}
			if tt.check != nil {
				tt.check(t, a.Stats())
			}
		})
	}
}

func TestWantsFalseFreesState(t *testing.T) {
	h := &handler{limit: [2]int{4, 3}}
	a := NewAssembler(h, Config{})
	feed(a, cli, srv, cat(handshake(ci, si), []seg{
		{from: 'c', flags: "A", seq: 1005, data: "efgh"}, // buffered
		{from: 'c', flags: "A", seq: 1001, data: "abcd"}, // delivers abcd; then unwanted
		{from: 'c', flags: "A", seq: 1009, data: "ijkl"}, // ignored
	}))
	if st := a.Stats(); st.Active != 1 || st.Tombstones != 0 {
		t.Fatalf("one direction done: %+v", st)
	}
	feed(a, cli, srv, []seg{
		{from: 's', flags: "A", seq: 5001, data: "xyz"},
		{from: 's', flags: "A", seq: 5004, data: "more"},
		{from: 'c', flags: "A", seq: 1013, data: "mnop"},
	})
	r := h.conns[0]
	if got := r.stream[0].String(); got != "abcd" {
		t.Errorf("c2s %q", got)
	}
	if got := r.stream[1].String(); got != "xyz" {
		t.Errorf("s2c %q", got)
	}
	st := a.Stats()
	if st.Active != 0 || st.Tombstones != 1 || st.TombstoneHits != 2 || st.BytesDelivered != 7 {
		t.Errorf("after both done: %+v", st)
	}
	if r.closes != 0 {
		t.Fatalf("closed early")
	}
	// The tombstone still tracks FIN so Close reports the real reason.
	feed(a, cli, srv, finBoth(1017, 5008))
	if r.closes != 1 || r.reason != CloseFIN {
		t.Errorf("close %d %v", r.closes, r.reason)
	}
	a.FlushAll()
	if r.closes != 1 {
		t.Errorf("closed %d times", r.closes)
	}
	if st := a.Stats(); st.Tombstones != 0 || st.Active != 0 {
		t.Errorf("after FlushAll: %+v", st)
	}
}

func finBoth(cseq, sseq uint32) []seg {
	return []seg{{from: 'c', flags: "FA", seq: cseq}, {from: 's', flags: "FA", seq: sseq}}
}

func TestIgnoredConnectionIsTombstoned(t *testing.T) {
	h := &handler{ignore: true}
	a := NewAssembler(h, Config{})
	feed(a, cli, srv, cat(handshake(ci, si), []seg{{from: 'c', flags: "S", seq: ci}}))
	st := a.Stats()
	if st.Connections != 1 || st.Ignored != 1 || st.Tombstones != 1 || st.Active != 0 || st.TombstoneHits != 4 {
		t.Errorf("stats %+v", st)
	}
	// A SYN with a new ISN is a new connection.
	feed(a, cli, srv, handshake(777, 888))
	if st := a.Stats(); st.Connections != 2 || st.Reused != 1 || st.Tombstones != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestIdleFlushByPacketTime(t *testing.T) {
	h := &handler{}
	a := NewAssembler(h, Config{IdleTimeout: time.Minute})
	other := Endpoint{netip.MustParseAddr("10.9.9.9"), 41000}
	feed(a, cli, srv, cat(handshake(ci, si), []seg{
		{from: 'c', flags: "A", seq: 1001, data: "ab"},
		{from: 'c', flags: "A", seq: 1005, data: "ef", at: 10 * time.Second},
	}))
	closedAt := t0.Add(10 * time.Second)
	// A second connection that closes normally leaves a tombstone.
	feed(a, other, srv, cat(handshake(1, 2), finBoth(2, 3)))
	if st := a.Stats(); st.Active != 1 || st.Tombstones != 1 {
		t.Fatalf("stats %+v", st)
	}
	a.FlushIdle(t0.Add(70 * time.Second)) // 60s after last packet: not yet idle
	if h.conns[0].closes != 0 {
		t.Fatal("closed too early")
	}
	// A packet of an unrelated connection 75s later, then the flush its
	// time calls for (the caller's: analyze flushes every FlushInterval).
	third := Endpoint{netip.MustParseAddr("10.8.8.8"), 42000}
	feed(a, third, srv, []seg{{from: 'c', flags: "S", seq: 5, at: 75 * time.Second}})
	a.FlushIdle(t0.Add(75 * time.Second))
	r := h.conns[0]
	if r.closes != 1 || r.reason != CloseIdle || !r.closeTS.Equal(closedAt) {
		t.Fatalf("close %d %v at %v", r.closes, r.reason, r.closeTS)
	}
	if got := r.stream[0].String(); got != "ab<gap 2>ef" {
		t.Errorf("c2s %q", got)
	}
	st := a.Stats()
	if st.Tombstones != 0 || st.Active != 1 || st.ClosedBy(CloseIdle) != 1 {
		t.Errorf("stats %+v", st)
	}
	a.FlushIdle(t0.Add(200 * time.Second))
	if st := a.Stats(); st.Active != 0 || st.Tombstones != 0 || st.ClosedBy(CloseIdle) != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestEvictionLeastRecentlyActive(t *testing.T) {
	h := &handler{}
	a := NewAssembler(h, Config{MaxConnections: 3})
	ep := func(i int) Endpoint { return Endpoint{netip.AddrFrom4([4]byte{10, 0, 1, byte(i)}), 40000} }
	for i := range 3 {
		feed(a, ep(i), srv, []seg{{from: 'c', flags: "S", seq: 1, at: time.Duration(i) * time.Second}})
	}
	// Touch connection 0 so connection 1 is the least recently active.
	feed(a, ep(0), srv, []seg{{from: 'c', flags: "A", seq: 2, data: "x", at: 4 * time.Second}})
	feed(a, ep(3), srv, []seg{{from: 'c', flags: "S", seq: 1, at: 5 * time.Second}})
	for i, want := range []int{0, 1, 0, 0} {
		if h.conns[i].closes != want {
			t.Errorf("conn %d closed %d times, want %d", i, h.conns[i].closes, want)
		}
	}
	if h.conns[1].reason != CloseEvicted {
		t.Errorf("reason %v", h.conns[1].reason)
	}
	st := a.Stats()
	if st.Active != 3 || st.MaxActive != 3 || st.ClosedBy(CloseEvicted) != 1 || st.Connections != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestStrayRSTOpensNothing(t *testing.T) {
	h := &handler{}
	a := NewAssembler(h, Config{})
	feed(a, cli, srv, []seg{{from: 's', flags: "RA", seq: 1}})
	if len(h.conns) != 0 || a.Stats().StrayPackets != 1 {
		t.Errorf("conns %d stats %+v", len(h.conns), a.Stats())
	}
	a.Segment(t0, cli.Addr, srv.Addr, nil) // no panic
}

func TestEndpointString(t *testing.T) {
	tests := []struct {
		e    Endpoint
		want string
	}{
		{Endpoint{netip.MustParseAddr("10.0.0.1"), 443}, "10.0.0.1:443"},
		{Endpoint{netip.MustParseAddr("2001:db8::1"), 443}, "[2001:db8::1]:443"},
		{Endpoint{netip.MustParseAddr("::ffff:1.2.3.4"), 80}, "[::ffff:1.2.3.4]:80"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("%#v: %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestNames(t *testing.T) {
	for r, want := range map[CloseReason]string{
		CloseFIN: "fin", CloseRST: "rst", CloseIdle: "idle", CloseEvicted: "evicted",
		CloseEndOfInput: "end-of-input", CloseReused: "reused", CloseReason(42): "CloseReason(42)",
	} {
		if got := r.String(); got != want {
			t.Errorf("%d: %q", int(r), got)
		}
	}
	if ClientToServer.String() != "client->server" || ServerToClient.String() != "server->client" || Dir(7).String() != "Dir(7)" {
		t.Error("Dir names")
	}
}

func TestExistingConnectionPacketsDoNotAllocate(t *testing.T) {
	var r *benchRecv
	a := NewAssembler(handlerFunc(func(ConnInfo) Receiver { r = &benchRecv{}; return r }), Config{})
	feed(a, cli, srv, handshake(ci, si))
	tcp := seg{from: 'c', flags: "A", seq: 1001, ack: 5001, data: strings.Repeat("x", 1460)}
	src, dst, p := tcp.tcp(cli, srv)
	allocs := testing.AllocsPerRun(1000, func() {
		a.Segment(t0, src.Addr, dst.Addr, p)
		p.Seq += 1460
	})
	if allocs != 0 || r.got[0] != 1001*1460 {
		t.Errorf("%v allocations per in-order packet, %d bytes delivered", allocs, r.got[0])
	}
	// Tombstone path.
	r.limit = [2]int{1, 1}
	a.Segment(t0, src.Addr, dst.Addr, p)
	feed(a, cli, srv, []seg{{from: 's', flags: "A", seq: 5001, data: "y"}})
	if st := a.Stats(); st.Tombstones != 1 || st.Active != 0 {
		t.Fatalf("stats %+v", st)
	}
	allocs = testing.AllocsPerRun(1000, func() { a.Segment(t0, src.Addr, dst.Addr, p) })
	if allocs != 0 {
		t.Errorf("%v allocations per tombstone packet", allocs)
	}
}

type handlerFunc func(ConnInfo) Receiver

func (f handlerFunc) Open(info ConnInfo) Receiver { return f(info) }

func TestMaxConnectionsCountsTombstones(t *testing.T) {
	h := &handler{}
	a := NewAssembler(h, Config{MaxConnections: 2})
	other := Endpoint{netip.MustParseAddr("10.9.9.9"), 41000}
	third := Endpoint{netip.MustParseAddr("10.8.8.8"), 42000}
	feed(a, cli, srv, cat(handshake(ci, si), finBoth(1001, 5001))) // tombstone
	feed(a, other, srv, handshake(1, 2))
	feed(a, third, srv, handshake(1, 2)) // evicts the tombstone, not the live one
	if h.conns[1].closes != 0 || h.conns[0].closes != 1 || h.conns[0].reason != CloseFIN {
		t.Errorf("closes %d %d", h.conns[0].closes, h.conns[1].closes)
	}
	if st := a.Stats(); st.Active != 2 || st.Tombstones != 0 || st.ClosedBy(CloseEvicted) != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestUnwantedConnectionClosedByRST(t *testing.T) {
	h := &handler{limit: [2]int{1, 1}}
	a := NewAssembler(h, Config{})
	feed(a, cli, srv, cat(handshake(ci, si), []seg{
		{from: 'c', flags: "A", seq: 1001, data: "ab"},
		{from: 's', flags: "A", seq: 5001, data: "cd"},
		{from: 'c', flags: "FA", seq: 1003}, // one FIN only: stays open
		{from: 's', flags: "RA", seq: 5003},
		{from: 's', flags: "RA", seq: 5003}, // closed tombstone: nothing more
	}))
	r := h.conns[0]
	if r.closes != 1 || r.reason != CloseRST || r.stream[0].String() != "ab" || r.stream[1].String() != "cd" {
		t.Errorf("closes %d %v %q %q", r.closes, r.reason, r.stream[0].String(), r.stream[1].String())
	}
	if st := a.Stats(); st.Active != 0 || st.Tombstones != 1 || st.ClosedBy(CloseRST) != 1 || st.TombstoneHits != 3 {
		t.Errorf("stats %+v", st)
	}
}

// TestClosedConnectionsForgottenSooner: a closed connection lingers only
// closedLinger (for late retransmissions), not the whole idle timeout, so
// memory follows the connection rate; open connections keep IdleTimeout.
func TestClosedConnectionsForgottenSooner(t *testing.T) {
	h := &handler{}
	a := NewAssembler(h, Config{IdleTimeout: time.Minute})
	other := Endpoint{netip.MustParseAddr("10.9.9.9"), 41000}
	feed(a, cli, srv, cat(handshake(ci, si), []seg{{from: 'c', flags: "A", seq: 1001, data: "ab"}})) // stays open
	feed(a, other, srv, cat(handshake(1, 2), finBoth(2, 3)))                                         // closes at t0
	if st := a.Stats(); st.Tombstones != 1 || st.Active != 1 {
		t.Fatalf("stats %+v", st)
	}
	a.FlushIdle(t0.Add(closedLinger / 2))
	if st := a.Stats(); st.Tombstones != 1 {
		t.Fatalf("closed connection forgotten before closedLinger: %+v", st)
	}
	a.FlushIdle(t0.Add(closedLinger + time.Second))
	if st := a.Stats(); st.Tombstones != 0 || st.Active != 1 {
		t.Fatalf("after closedLinger: %+v", st)
	}
	if h.conns[0].closes != 0 {
		t.Fatal("open connection closed before its idle timeout")
	}
	// Eviction takes closed connections before open ones.
	b := NewAssembler(&handler{}, Config{MaxConnections: 2})
	feed(b, cli, srv, handshake(ci, si))                     // open, older
	feed(b, other, srv, cat(handshake(1, 2), finBoth(2, 3))) // closed, newer
	third := Endpoint{netip.MustParseAddr("10.8.8.8"), 42000}
	feed(b, third, srv, []seg{{from: 'c', flags: "S", seq: 5}})
	if st := b.Stats(); st.Active != 2 || st.Tombstones != 0 {
		t.Errorf("eviction removed an open connection before a closed one: %+v", st)
	}
}
