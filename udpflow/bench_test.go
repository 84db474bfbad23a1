package udpflow

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/internal/testcap"
)

type datagram struct {
	ts       time.Time
	src, dst netip.AddrPort
	payload  []byte
}

// dnsDatagrams returns a DNS query and its answer, encoded by
// golang.org/x/net/dns/dnsmessage, for each of flows clients of one
// resolver: the most common UDP traffic beside DTLS and QUIC.
func dnsDatagrams(tb testing.TB, flows int) []datagram {
	tb.Helper()
	ts := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	resolver := netip.MustParseAddrPort("192.0.2.53:53")
	var out []datagram
	for i := range flows {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(30000+i%30000))
		name := dnsmessage.MustNewName("www.example.com.")
		q := dnsmessage.Question{Name: name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}
		query := dnsmessage.Message{Header: dnsmessage.Header{ID: uint16(i), RecursionDesired: true}, Questions: []dnsmessage.Question{q}}
		answer := query
		answer.Header.Response, answer.Header.RecursionAvailable = true, true
		answer.Answers = []dnsmessage.Resource{{
			Header: dnsmessage.ResourceHeader{Name: name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 300},
			Body:   &dnsmessage.AResource{A: [4]byte{192, 0, 2, 80}},
		}}
		qb, err := query.Pack()
		if err != nil {
			tb.Fatal(err)
		}
		ab, err := answer.Pack()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, datagram{ts, client, resolver, qb}, datagram{ts, resolver, client, ab})
	}
	return out
}

// dtlsMidstream returns the datagrams of a real DTLS 1.2 handshake
// without the client's hellos, for flows clients: flows picked up after
// their start, which the table judges not to be DTLS.
func dtlsMidstream(tb testing.TB, flows int) []datagram {
	tb.Helper()
	var base []datagram
	testcap.Each(tb, testcap.Path("dtls/dtls12-openssl.pcap"), func(p *testcap.Packet) {
		dg := p.Datagram
		if !p.UDP || dissect.IsDTLSClientHello(dg.Payload) {
			return
		}
		base = append(base, datagram{dg.Timestamp, netip.AddrPortFrom(dg.Src, dg.SrcPort), netip.AddrPortFrom(dg.Dst, dg.DstPort), bytes.Clone(dg.Payload)})
	})
	if len(base) < DefaultProbe {
		tb.Fatalf("%d datagrams", len(base))
	}
	server := base[0].src // the HelloVerifyRequest's or ServerHello's sender
	var out []datagram
	for i := range flows {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 40000)
		for _, d := range base {
			if d.src == server {
				d.dst = client
			} else {
				d.src = client
			}
			out = append(out, d)
		}
	}
	return out
}

// ignoredSetup passes every datagram through a Table once (each flow is
// probed and judged not DTLS/QUIC) and returns it.
func ignoredSetup(tb testing.TB, dgs []datagram, flows int) *Table {
	tb.Helper()
	t := New(&recorder{}, Config{})
	for range DefaultProbe {
		for _, d := range dgs {
			t.Datagram(d.ts, d.src, d.dst, d.payload)
		}
	}
	if st := t.Stats(); st.Ignored != flows || st.DTLS+st.QUIC != 0 || t.Len() != flows {
		tb.Fatalf("after setup: %d flows, stats %+v", t.Len(), st)
	}
	return t
}

var ignoredCases = []struct {
	name string
	gen  func(testing.TB, int) []datagram
}{
	{"dns", dnsDatagrams},
	{"dtls-midstream", dtlsMidstream},
}

// BenchmarkIgnoredFlow is the fast path of UDP flows that are neither
// DTLS nor QUIC: a map lookup by the 4-tuple and a move to the front of
// the LRU list, over 1,000 flows. It must not allocate.
func BenchmarkIgnoredFlow(b *testing.B) {
	const flows = 1000
	for _, tc := range ignoredCases {
		b.Run(tc.name, func(b *testing.B) {
			dgs := tc.gen(b, flows)
			t := ignoredSetup(b, dgs, flows)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				d := &dgs[i]
				t.Datagram(d.ts, d.src, d.dst, d.payload)
				if i++; i == len(dgs) {
					i = 0
				}
			}
			if st := t.Stats(); st.Flows != flows || st.Ignored != flows {
				b.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestIgnoredFlowNoAlloc(t *testing.T) {
	const flows = 100
	for _, tc := range ignoredCases {
		dgs := tc.gen(t, flows)
		tb := ignoredSetup(t, dgs, flows)
		i := 0
		if n := testing.AllocsPerRun(len(dgs), func() {
			d := &dgs[i%len(dgs)]
			tb.Datagram(d.ts, d.src, d.dst, d.payload)
			i++
		}); n != 0 {
			t.Errorf("%s: %v allocations per datagram", tc.name, n)
		}
	}
}
