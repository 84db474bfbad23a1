package capfilter

import (
	"errors"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// fuzzTargets are every kind of target Compile has.
var fuzzTargets = []Target{
	{LinkType: layers.LinkTypeEthernet},
	{LinkType: layers.LinkTypeLinuxSLL},
	{LinkType: layers.LinkTypeLinuxSLL2},
	{LinkType: layers.LinkTypeRaw},
	{LinkType: layers.LinkTypeIPv4},
	{LinkType: layers.LinkTypeIPv6},
	{LinkType: layers.LinkTypeNull},
	{LinkType: layers.LinkTypeLoop},
	{LinkType: layers.LinkTypeEthernet, Live: true, Snaplen: 1500},
	{Live: true, Cooked: true},
}

// FuzzParse: Parse and Compile never panic; errors are of the documented
// types; a canonical form parses back to itself; every program passes
// the kernel's checks and, for files, bpf.VM's, and runs.
func FuzzParse(f *testing.F) {
	for _, s := range fileExprs {
		f.Add(s)
	}
	for _, s := range []string{"", "()", "(tcp", "tcp[13] & 2 != 0", "host (10.0.0.1 or not (::1))",
		"net 10 mask 255.0.255.0", "port 0443", "vlan 4095 and vlan and vlan", "src and dst portrange 9-1",
		"! ! ! tcp || udp && ip6", "host 10.0.0.1 and (tcp) or 10.0.0.2", "net ::ffff:0.0.0.0/96"} {
		f.Add(s)
	}
	pkts := synthPackets(50, 3)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			var ue *UnsupportedError
			if !errors.As(err, &se) && !errors.As(err, &ue) {
				t.Fatalf("Parse(%q): error of type %T", s, err)
			}
			return
		}
		again, err := Parse(e.String())
		if err != nil || again.String() != e.String() {
			t.Fatalf("Parse(%q): canonical form %q gives %v, %v", s, e, again, err)
		}
		for _, tg := range fuzzTargets {
			prog, err := e.Compile(tg)
			if err != nil {
				var ue *UnsupportedError
				if !errors.As(err, &ue) {
					t.Fatalf("Compile(%q, %+v): error of type %T: %v", s, tg, err, err)
				}
				continue
			}
			raw, err := bpf.Assemble(prog)
			if err != nil {
				t.Fatalf("Compile(%q, %+v): does not assemble: %v", s, tg, err)
			}
			if i, msg := checkProgram(raw); msg != "" {
				t.Fatalf("Compile(%q, %+v): instruction %d: %s", s, tg, i, msg)
			}
			if tg.Live {
				continue // ancillary loads: bpf.VM cannot run them
			}
			vm, err := bpf.NewVM(prog)
			if err != nil {
				t.Fatalf("Compile(%q, %+v): bpf.NewVM: %v", s, tg, err)
			}
			for _, p := range pkts {
				if _, err := vm.Run(p.data(tg.LinkType)); err != nil {
					t.Fatalf("Compile(%q, %+v): Run: %v", s, tg, err)
				}
			}
		}
	})
}
