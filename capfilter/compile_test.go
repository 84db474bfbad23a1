package capfilter

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// ipv4Frame is an Ethernet frame with an IPv4 UDP header.
func ipv4Frame(src, dst string, sport, dport uint16) []byte {
	p := synthPkt{etype: etherIPv4, net: make([]byte, 28)}
	p.net[0], p.net[9] = 0x45, protoNumUDP
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(p.net[12:], s[:])
	copy(p.net[16:], d[:])
	p.net[20], p.net[21], p.net[22], p.net[23] = byte(sport>>8), byte(sport), byte(dport>>8), byte(dport)
	return p.data(layers.LinkTypeEthernet)
}

// TestLongJumps compiles expressions whose jumps exceed the 8-bit reach
// of conditional jumps and checks the program still decides right.
func TestLongJumps(t *testing.T) {
	var hosts []string
	for i := 0; i < 150; i++ {
		hosts = append(hosts, fmt.Sprintf("10.0.%d.%d", i/200, 1+i%200))
	}
	tests := []struct {
		expr  string
		match map[string]bool // frame description: verdict
	}{
		{"udp and host (" + strings.Join(hosts, " or ") + ") and dst port 53", map[string]bool{
			"10.0.0.1 53":   true,
			"10.0.0.150 53": true,
			"10.0.0.75 53":  true,
			"10.0.0.151 53": false,
			"10.0.0.1 54":   false,
		}},
		{"not host (" + strings.Join(hosts, " or ") + ") or port 99", map[string]bool{
			"10.0.0.1 53":   false,
			"10.0.0.150 99": true,
			"10.9.9.9 53":   true,
		}},
	}
	for _, tt := range tests {
		e := mustParse(t, tt.expr)
		prog, err := e.Compile(Target{LinkType: layers.LinkTypeEthernet})
		if err != nil {
			t.Fatal(err)
		}
		trampolines := 0
		for _, in := range prog {
			if _, ok := in.(bpf.Jump); ok {
				trampolines++
			}
		}
		if len(prog) < 300 || trampolines == 0 {
			t.Fatalf("%d instructions, %d unconditional jumps: the test needs long jumps", len(prog), trampolines)
		}
		if _, err := bpf.NewVM(prog); err != nil {
			t.Fatal(err)
		}
		m := NewMatcher(e)
		for desc, want := range tt.match {
			var host string
			var port uint16
			fmt.Sscan(desc, &host, &port)
			if got := m.Match(layers.LinkTypeEthernet, ipv4Frame(host, "192.0.2.1", 1234, port)); got != want {
				t.Errorf("%.30q: %s: %v, want %v", tt.expr, desc, got, want)
			}
		}
	}
}

func TestCompileShapes(t *testing.T) {
	tests := []struct {
		expr   string
		target Target
		want   []bpf.Instruction
	}{
		{"", Target{LinkType: layers.LinkTypeEthernet}, []bpf.Instruction{bpf.RetConstant{Val: DefaultSnaplen}}},
		{"", Target{LinkType: layers.LinkTypePPP, Snaplen: 96}, []bpf.Instruction{bpf.RetConstant{Val: 96}}},
		{"ip6", Target{LinkType: layers.LinkTypeIPv4}, []bpf.Instruction{bpf.RetConstant{Val: 0}}},
		{"ip", Target{LinkType: layers.LinkTypeIPv4, Snaplen: 128}, []bpf.Instruction{bpf.RetConstant{Val: 128}}},
		{"ip6", Target{LinkType: layers.LinkTypeEthernet, Snaplen: 100}, []bpf.Instruction{
			bpf.LoadAbsolute{Off: 12, Size: 2},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherIPv6, SkipTrue: 0, SkipFalse: 1},
			bpf.RetConstant{Val: 100},
			bpf.RetConstant{Val: 0},
		}},
		{"ip", Target{Live: true, Cooked: true}, []bpf.Instruction{
			bpf.LoadExtension{Num: bpf.ExtProto},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherIPv4, SkipTrue: 0, SkipFalse: 1},
			bpf.RetConstant{Val: DefaultSnaplen},
			bpf.RetConstant{Val: 0},
		}},
		{"vlan 7", Target{LinkType: layers.LinkTypeEthernet, Live: true}, []bpf.Instruction{
			bpf.LoadExtension{Num: bpf.ExtVLANTagPresent},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 1, SkipTrue: 0, SkipFalse: 3},
			bpf.LoadExtension{Num: bpf.ExtVLANTag},
			bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xfff},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 7, SkipTrue: 7, SkipFalse: 8},
			bpf.LoadAbsolute{Off: 12, Size: 2},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x8100, SkipTrue: 2, SkipFalse: 0},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x88a8, SkipTrue: 1, SkipFalse: 0},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x9100, SkipTrue: 0, SkipFalse: 4},
			bpf.LoadAbsolute{Off: 14, Size: 2},
			bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xfff},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 7, SkipTrue: 0, SkipFalse: 1},
			bpf.RetConstant{Val: DefaultSnaplen},
			bpf.RetConstant{Val: 0},
		}},
	}
	for _, tt := range tests {
		got, err := mustParse(t, tt.expr).Compile(tt.target)
		if err != nil {
			t.Errorf("%q: %v", tt.expr, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%q %+v:\n got %v\nwant %v", tt.expr, tt.target, got, tt.want)
		}
	}
}

func TestMatcher(t *testing.T) {
	udp := ipv4Frame("10.0.0.1", "10.0.0.2", 1234, 53)
	raw := udp[14:]
	null := append([]byte{2, 0, 0, 0}, raw...)
	tests := []struct {
		expr string
		lt   layers.LinkType
		data []byte
		want bool
		err  bool // from Prepare
	}{
		{"", layers.LinkTypePPP, nil, true, false},
		{"udp port 53", layers.LinkTypeEthernet, udp, true, false},
		{"udp port 53", layers.LinkTypeRaw, raw, true, false},
		{"udp port 53", layers.LinkTypeNull, null, true, false},
		{"udp port 53", layers.LinkTypeEthernet, raw, false, false},
		{"tcp", layers.LinkTypeEthernet, udp, false, false},
		{"udp", layers.LinkTypePPP, raw, false, true},
		{"vlan or udp", layers.LinkTypeRaw, raw, false, true},
		{"udp or vlan", layers.LinkTypeEthernet, udp, true, false},
		// As in tcpdump, udp after vlan is looked for 4 bytes further on.
		{"vlan or udp", layers.LinkTypeEthernet, udp, false, false},
	}
	for _, tt := range tests {
		m := NewMatcher(mustParse(t, tt.expr))
		if err := m.Prepare(tt.lt); (err != nil) != tt.err {
			t.Errorf("%q on %v: Prepare: %v", tt.expr, tt.lt, err)
		}
		if got := m.Match(tt.lt, tt.data); got != tt.want {
			t.Errorf("%q on %v: Match = %v, want %v", tt.expr, tt.lt, got, tt.want)
		}
	}
	// One Matcher for packets of several link types, as in pcapng.
	m := NewMatcher(mustParse(t, "udp port 53"))
	for i := 0; i < 3; i++ {
		if !m.Match(layers.LinkTypeEthernet, udp) || !m.Match(layers.LinkTypeRaw, raw) || m.Match(layers.LinkTypeRaw, udp) {
			t.Fatal("link types mixed up")
		}
	}
	if !NewMatcher(nil).Match(layers.LinkTypeEthernet, nil) {
		t.Error("a nil expression matches everything")
	}
}
