package capfilter

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// tcpdumpPath returns the tcpdump binary, or skips the test.
func tcpdumpPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump not installed")
	}
	return p
}

// tcpdumpProgram compiles expr with tcpdump for the link type named dlt
// (tcpdump -y) without an interface, so with no Linux ancillary loads. A
// non-nil error carries tcpdump's message.
func tcpdumpProgram(t testing.TB, dlt, expr string) ([]bpf.RawInstruction, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(tcpdumpPath(t), "-ddd", "-y", dlt, expr)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, &tcpdumpError{strings.TrimSpace(stderr.String())}
	}
	prog, err := ParseDDD(&stdout)
	if err != nil {
		t.Fatalf("tcpdump -ddd -y %s %q: %v", dlt, expr, err)
	}
	return prog, nil
}

type tcpdumpError struct{ msg string }

func (e *tcpdumpError) Error() string { return "tcpdump: " + e.msg }

// rejectsAll reports tcpdump's refusal of a filter that is constant
// false for the link type, which is no disagreement with an empty match.
func rejectsAll(err error) bool {
	return err != nil && strings.Contains(err.Error(), "expression rejects all packets")
}

// synthPkt is a packet from the network layer down, rendered for any
// link type by data.
type synthPkt struct {
	tags   [][2]uint16 // outer first: TPID, TCI
	etype  uint16
	net    []byte // network header and what follows
	af6    uint32 // BSD AF_INET6 value for loopback link types
	cutEnd int    // bytes cut from the end of the rendered packet
}

var (
	synthV4 = []string{"10.0.0.1", "10.0.0.2", "10.1.2.3", "192.0.2.1", "192.0.2.200", "127.0.0.1"}
	synthV6 = []string{"::1", "2001:db8::1", "2001:db8:1::2", "2001:db8:0:1::5", "fe80::1", "::ffff:10.0.0.1"}
	// synthPorts are the ports of the expressions, their neighbours and
	// the ends of the ranges tested.
	synthPorts = []uint16{0, 22, 53, 439, 440, 443, 445, 450, 451, 1023, 1024, 8443, 40000, 65535}
	synthTags  = []uint16{100, 200, 4095, 0x2000 | 100} // the last with PCP 1
)

// synthPackets returns n pseudo-random packets covering what the
// primitives look at: tags, EtherTypes, IPv4 header length, protocol and
// fragment offset, IPv6 next header, ARP, addresses and ports; some are
// truncated.
func synthPackets(n int, seed uint64) []synthPkt {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	pick := func(k int) int { return r.IntN(k) }
	v4 := func() []byte { a := netip.MustParseAddr(synthV4[pick(len(synthV4))]).As4(); return a[:] }
	v6 := func() []byte { a := netip.MustParseAddr(synthV6[pick(len(synthV6))]).As16(); return a[:] }
	l4 := func() []byte {
		b := make([]byte, 16)
		binary.BigEndian.PutUint16(b[0:], synthPorts[pick(len(synthPorts))])
		binary.BigEndian.PutUint16(b[2:], synthPorts[pick(len(synthPorts))])
		return b
	}
	var out []synthPkt
	for len(out) < n {
		var p synthPkt
		switch x := pick(10); {
		case x == 0:
			p.tags = [][2]uint16{{uint16(vlanTPIDs[pick(3)]), synthTags[pick(4)]}, {0x8100, synthTags[pick(4)]}}
		case x <= 3:
			p.tags = [][2]uint16{{uint16(vlanTPIDs[pick(3)]), synthTags[pick(4)]}}
		}
		p.af6 = []uint32{24, 28, 30}[pick(3)]
		switch x := pick(20); {
		case x < 9:
			p.etype = etherIPv4
			ihl := 5 + pick(2)
			h := make([]byte, 4*ihl)
			h[0] = 0x40 | byte(ihl)
			binary.BigEndian.PutUint16(h[6:], []uint16{0, 0x4000, 0x2000, 0x0001, 0x20b9}[pick(5)])
			h[8] = 64
			h[9] = []byte{protoNumTCP, protoNumUDP, protoNumSCTP, 1, 47}[pick(5)]
			copy(h[12:], v4())
			copy(h[16:], v4())
			p.net = append(h, l4()...)
			binary.BigEndian.PutUint16(p.net[2:], uint16(len(p.net)))
		case x < 16:
			p.etype = etherIPv6
			h := make([]byte, 40)
			h[0] = 0x60
			h[7] = 64
			copy(h[8:], v6())
			copy(h[24:], v6())
			switch nh := []byte{protoNumTCP, protoNumUDP, protoNumSCTP, ip6Fragment, 0, 58}[pick(6)]; nh {
			case ip6Fragment, 0:
				h[6] = nh
				ext := make([]byte, 8)
				ext[0] = []byte{protoNumTCP, protoNumUDP}[pick(2)]
				if nh == ip6Fragment {
					binary.BigEndian.PutUint16(ext[2:], []uint16{0, 1, 8}[pick(3)])
				}
				h = append(h, ext...)
			default:
				h[6] = nh
			}
			p.net = append(h, l4()...)
			binary.BigEndian.PutUint16(p.net[4:], uint16(len(p.net)-40))
		case x < 18:
			p.etype = []uint16{etherARP, etherRARP}[pick(2)]
			a := []byte{0, 1, 8, 0, 6, 4, 0, 1}
			a = append(a, 2, 0, 0, 0, 0, 1)
			a = append(a, v4()...)
			a = append(a, 0, 0, 0, 0, 0, 0)
			p.net = append(a, v4()...)
		default:
			p.etype = 0x88cc
			p.net = l4()
		}
		if pick(8) == 0 {
			p.cutEnd = 1 + pick(len(p.net)+20)
		}
		out = append(out, p)
	}
	return out
}

// data renders the packet for a link type.
func (p synthPkt) data(lt layers.LinkType) []byte {
	eth := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
	for _, tg := range p.tags {
		eth = binary.BigEndian.AppendUint16(eth, tg[0])
		eth = binary.BigEndian.AppendUint16(eth, tg[1])
	}
	eth = binary.BigEndian.AppendUint16(eth, p.etype)
	eth = append(eth, p.net...)
	var b []byte
	switch lt {
	case layers.LinkTypeEthernet:
		b = eth
	case layers.LinkTypeLinuxSLL:
		b = append([]byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}, eth[12:]...)
	case layers.LinkTypeLinuxSLL2:
		b = append(append(append([]byte{}, eth[12:14]...), 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0), eth[14:]...)
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		b = append([]byte{}, p.net...)
	case layers.LinkTypeLoop, layers.LinkTypeNull:
		var af uint32 = 0x1234
		switch p.etype {
		case etherIPv4:
			af = 2
		case etherIPv6:
			af = p.af6
		}
		b = binary.BigEndian.AppendUint32(nil, af)
		if lt == layers.LinkTypeNull {
			b = binary.LittleEndian.AppendUint32(nil, af)
		}
		b = append(b, p.net...)
	}
	if p.cutEnd > 0 {
		b = b[:max(0, len(b)-p.cutEnd)]
	}
	return b
}

// fileExprs cover every primitive and operator; the addresses and ports
// are those of synthPackets.
var fileExprs = []string{
	"tcp", "udp", "ip", "ip6", "ip and udp", "ip6 and tcp", "not (tcp or udp)",
	"port 443", "tcp port 443", "udp port 53", "src port 443", "dst port 8443",
	"port 443 or 8443", "src or dst port 22", "src and dst port 443", "tcp src port 443 or 22",
	"portrange 440-450", "tcp dst portrange 1024-65535", "udp portrange 1-1023", "portrange 0-0",
	"host 10.0.0.1", "src host 10.0.0.1", "dst host 10.0.0.2", "host 10.0.0.1 or 10.0.0.2",
	"src 10.0.0.1 and dst 10.0.0.2", "src and dst host 10.0.0.1", "ip host 10.0.0.1",
	"host 10.0.0.1 and not 10.0.0.2",
	"net 10.0.0.0/8", "dst net 10.1", "net 10.0.0.0 mask 255.0.255.0", "src net 192.0.2.0/24", "net 0.0.0.0/0",
	"host ::1", "src host 2001:db8::1", "dst host 2001:db8:1::2", "net 2001:db8::/32",
	"ip6 net 2001:db8::/47", "net fe80::/10", "host ::ffff:10.0.0.1", "net ::/0",
	"not port 22 and host 10.0.0.1", "(host 10.0.0.1 or host 10.0.0.2) and not port 53",
	"host 10.0.0.1 or 10.0.0.2 and tcp", "!tcp && !udp", "tcp and (port 443 || port 8443)",
	"host 10.0.0.1 and (port 443) or 10.0.0.2", "port (443 or 22)", "host (10.0.0.1 or ::1) and tcp",
	"vlan", "vlan and port 443", "vlan 100 and tcp", "vlan and vlan", "vlan 100 and vlan 200 and ip6",
	"not vlan", "vlan and host 10.0.0.1", "port 443 or vlan", "vlan or udp", "not vlan 100 and ip",
	"vlan 4095 and (udp or net 192.0.2.0/24)",
}

// dltNames maps link types to tcpdump -y names.
var dltNames = []struct {
	name string
	lt   layers.LinkType
}{
	{"EN10MB", layers.LinkTypeEthernet},
	{"LINUX_SLL", layers.LinkTypeLinuxSLL},
	{"LINUX_SLL2", layers.LinkTypeLinuxSLL2},
	{"RAW", layers.LinkTypeRaw},
	{"IPV4", layers.LinkTypeIPv4},
	{"IPV6", layers.LinkTypeIPv6},
	// NULL and LOOP are left out: without a file tcpdump compiles ip6 for
	// this host's AF_INET6 (10), not the BSD values that files hold; the
	// capture file test covers them.
}

func mustParse(t testing.TB, s string) *Expr {
	t.Helper()
	e, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return e
}
