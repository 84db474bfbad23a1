//go:build pcap

package capture

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// TestPcapLoopback is TestLiveLoopback for the libpcap build: every packet
// of the filtered connection once (libpcap drops the outgoing loopback
// copies itself), nothing of the other one.
func TestPcapLoopback(t *testing.T) {
	requireLive(t)
	for _, iface := range []string{"lo", AnyInterface} {
		t.Run(iface, func(t *testing.T) {
			ln, port := listenTCP(t)
			other, _ := listenTCP(t)
			var fc filterCall
			start := time.Now()
			s, err := OpenLive(LiveConfig{Interface: iface, Filter: tcpPortFilter(port, &fc)})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			lt := s.LinkType()
			if fc.calls != 1 || fc.linkType != lt || fc.cooked {
				t.Errorf("Filter called %d times with (%v, cooked %v), want once with (%v, false)", fc.calls, fc.linkType, fc.cooked, lt)
			}
			want := layers.LinkTypeEthernet
			if iface == AnyInterface {
				want = layers.LinkTypeLinuxSLL
			}
			if lt != want && !(iface == AnyInterface && lt == layers.LinkTypeLinuxSLL2) {
				t.Errorf("link type %v, want %v", lt, want)
			}
			converse(t, other, []byte("not for the capture"), []byte("nor this"))
			request, response := []byte("hello over libpcap"), []byte("bye")
			converse(t, ln, request, response)
			ps := readUntilQuiet(t, s, bothFINs(port), 5*time.Second)
			checkConversation(t, ps, lt, port, request, response, start, 1)
			st, err := s.Stats()
			if err != nil || st.Received < uint64(len(ps)) {
				t.Errorf("stats %+v, %v after %d packets", st, err, len(ps))
			}
			s.Close()
			if _, err := s.Next(); err != io.EOF {
				t.Errorf("Next after Close: %v, want io.EOF", err)
			}
		})
	}
}

func TestPcapIdle(t *testing.T) {
	requireLive(t)
	s, err := OpenLive(LiveConfig{Interface: "lo", Filter: rejectEverything})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 3; i++ {
		start := time.Now()
		_, err := s.Next()
		if !errors.Is(err, ErrNoPacket) {
			t.Fatalf("Next: %v, want ErrNoPacket", err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("ErrNoPacket after %v", took)
		}
	}
}

func TestPcapFilterError(t *testing.T) {
	requireLive(t)
	boom := fmt.Errorf("bad filter")
	_, err := OpenLive(LiveConfig{Interface: "lo", Filter: func(layers.LinkType, bool) ([]bpf.RawInstruction, error) { return nil, boom }})
	if err != boom {
		t.Errorf("OpenLive = %v, want the Filter's error unchanged", err)
	}
}
