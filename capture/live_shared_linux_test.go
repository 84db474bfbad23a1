package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Helpers and tests shared by the AF_PACKET and the libpcap builds.

// requireLive skips a test unless this process may capture.
func requireLive(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("live capture tests need root (euid is %d)", os.Geteuid())
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		t.Skipf("live capture tests need CAP_NET_RAW: socket(AF_PACKET): %v", err)
	}
	unix.Close(fd)
}

// filterCall records the arguments a Filter callback was called with.
type filterCall struct {
	calls    int
	linkType layers.LinkType
	cooked   bool
}

// tcpPortFilter returns a Filter that accepts IPv4 TCP to or from port,
// written for the link type it is told about: Ethernet, Linux SLL or SLL2
// (libpcap's "any"), or cooked (the IP header at offset 0, the EtherType
// as an ancillary load). Accepted packets are returned whole (ret #-1).
func tcpPortFilter(port int, rec *filterCall) func(layers.LinkType, bool) ([]bpf.RawInstruction, error) {
	return func(lt layers.LinkType, cooked bool) ([]bpf.RawInstruction, error) {
		rec.calls++
		rec.linkType, rec.cooked = lt, cooked
		var etherType bpf.Instruction
		var ip uint32
		switch {
		case cooked:
			etherType, ip = bpf.LoadExtension{Num: bpf.ExtProto}, 0
		case lt == layers.LinkTypeEthernet:
			etherType, ip = bpf.LoadAbsolute{Off: 12, Size: 2}, 14
		case lt == layers.LinkTypeLinuxSLL:
			etherType, ip = bpf.LoadAbsolute{Off: 14, Size: 2}, 16
		case lt == layers.LinkTypeLinuxSLL2:
			etherType, ip = bpf.LoadAbsolute{Off: 0, Size: 2}, 20
		default:
			return nil, fmt.Errorf("test filter: link type %v not handled", lt)
		}
		return bpf.Assemble([]bpf.Instruction{
			etherType,
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x0800, SkipTrue: 9}, // → drop
			bpf.LoadAbsolute{Off: ip + 9, Size: 1},
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 6, SkipTrue: 7}, // not TCP → drop
			bpf.LoadAbsolute{Off: ip + 6, Size: 2},
			bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: 5}, // fragment → drop
			bpf.LoadMemShift{Off: ip},
			bpf.LoadIndirect{Off: ip, Size: 2},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(port), SkipTrue: 3}, // → accept
			bpf.LoadIndirect{Off: ip + 2, Size: 2},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(port), SkipTrue: 1}, // → accept
			bpf.RetConstant{Val: 0},
			bpf.RetConstant{Val: 0xffffffff},
		})
	}
}

// rejectEverything is a Filter that matches nothing.
func rejectEverything(layers.LinkType, bool) ([]bpf.RawInstruction, error) {
	return bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
}

func TestTCPPortFilterProgram(t *testing.T) {
	// The hand-assembled test filter, checked in user space on frames
	// built here, so that a live test failure is not a test filter bug.
	prog, err := tcpPortFilter(4433, &filterCall{})(layers.LinkTypeEthernet, false)
	if err != nil {
		t.Fatal(err)
	}
	ins := make([]bpf.Instruction, len(prog))
	for i, r := range prog {
		ins[i] = r.Disassemble()
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		src, dst int
		udp      bool
		want     bool
	}{{40000, 4433, false, true}, {4433, 40000, false, true}, {40000, 4434, false, false}, {40000, 4433, true, false}} {
		frame := buildFrame(t, tt.src, tt.dst, tt.udp)
		n, err := vm.Run(frame)
		if err != nil {
			t.Fatal(err)
		}
		if got := n > 0; got != tt.want {
			t.Errorf("%d→%d udp=%v: accepted %v, want %v", tt.src, tt.dst, tt.udp, got, tt.want)
		}
	}
}

func buildFrame(t *testing.T, src, dst int, udp bool) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: make(net.HardwareAddr, 6), DstMAC: make(net.HardwareAddr, 6), EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(127, 0, 0, 1), DstIP: net.IPv4(127, 0, 0, 1),
		Options: []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}} // IHL 6: the filter must use it
	var l4 gopacket.SerializableLayer
	if udp {
		ip.Protocol = layers.IPProtocolUDP
		u := &layers.UDP{SrcPort: layers.UDPPort(src), DstPort: layers.UDPPort(dst)}
		_ = u.SetNetworkLayerForChecksum(ip)
		l4 = u
	} else {
		tc := &layers.TCP{SrcPort: layers.TCPPort(src), DstPort: layers.TCPPort(dst), SYN: true, Window: 1000}
		_ = tc.SetNetworkLayerForChecksum(ip)
		l4 = tc
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, l4, gopacket.Payload("x")); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// listenTCP listens on 127.0.0.1 at a free port.
func listenTCP(t *testing.T) (*net.TCPListener, int) {
	t.Helper()
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// converse runs one TCP connection to ln: the client sends request and
// half-closes, the server answers with response and closes.
func converse(t *testing.T, ln *net.TCPListener, request, response []byte) {
	t.Helper()
	ln.SetDeadline(time.Now().Add(5 * time.Second))
	errc := make(chan error, 1)
	go func() {
		c, err := ln.AcceptTCP()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(c)
		if err == nil && !bytes.Equal(got, request) {
			err = fmt.Errorf("server got %q, want %q", got, request)
		}
		if err == nil {
			_, err = c.Write(response)
		}
		errc <- err
	}()
	c, err := net.DialTCP("tcp4", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(request); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, response) {
		t.Fatalf("client got %q, want %q", got, response)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// captured is a packet returned by a LiveSource, its Data copied.
type captured struct {
	Packet
	pkt gopacket.Packet
}

func (c captured) tcp() *layers.TCP {
	l, _ := c.pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
	return l
}

func decode(p Packet) gopacket.Packet {
	first := layers.LayerTypeEthernet
	switch p.LinkType {
	case layers.LinkTypeRaw:
		first = layers.LayerTypeIPv4
		if len(p.Data) > 0 && p.Data[0]>>4 == 6 {
			first = layers.LayerTypeIPv6
		}
	case layers.LinkTypeLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		first = layers.LayerTypeLinuxSLL2
	}
	return gopacket.NewPacket(p.Data, first, gopacket.Default)
}

// readUntilQuiet returns what s delivers until it reports ErrNoPacket
// after done says enough was seen, or until the deadline.
func readUntilQuiet(t *testing.T, s *LiveSource, done func([]captured) bool, within time.Duration) []captured {
	t.Helper()
	var got []captured
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		p, err := s.Next()
		if errors.Is(err, ErrNoPacket) {
			if done == nil || done(got) {
				return got
			}
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		p.Data = bytes.Clone(p.Data)
		got = append(got, captured{Packet: p, pkt: decode(p)})
	}
	if done != nil && !done(got) {
		t.Fatalf("after %v: %d packets captured, not all expected", within, len(got))
	}
	return got
}

// bothFINs reports whether the connection on port closed in both directions.
func bothFINs(port int) func([]captured) bool {
	return func(ps []captured) bool {
		var toServer, toClient bool
		for _, p := range ps {
			if tcp := p.tcp(); tcp != nil && tcp.FIN {
				toServer = toServer || int(tcp.DstPort) == port
				toClient = toClient || int(tcp.SrcPort) == port
			}
		}
		return toServer && toClient
	}
}

// checkConversation checks the packets of the connection made by converse
// on port: each seen copies times, nothing of another connection, sane
// metadata.
func checkConversation(t *testing.T, ps []captured, lt layers.LinkType, port int, request, response []byte, start time.Time, copies int) {
	t.Helper()
	var syn, synack, finC, finS int
	var toServer, toClient []byte
	seen := map[string]int{}
	for i, p := range ps {
		if p.LinkType != lt {
			t.Errorf("packet %d: link type %v, want %v", p.Index, p.LinkType, lt)
		}
		if i > 0 && p.Index != ps[i-1].Index+1 {
			t.Errorf("packet index %d follows %d", p.Index, ps[i-1].Index)
		}
		if p.Timestamp.Location() != time.UTC || p.Timestamp.Before(start.Add(-time.Second)) || p.Timestamp.After(time.Now().Add(time.Second)) {
			t.Errorf("packet %d: timestamp %v, not UTC within the test (started %v)", p.Index, p.Timestamp, start)
		}
		if p.Length != len(p.Data) || p.Truncated {
			t.Errorf("packet %d: length %d, %d captured, truncated %v", p.Index, p.Length, len(p.Data), p.Truncated)
		}
		tcp := p.tcp()
		if tcp == nil {
			t.Errorf("packet %d is not TCP: %v", p.Index, p.pkt)
			continue
		}
		if int(tcp.SrcPort) != port && int(tcp.DstPort) != port {
			t.Errorf("packet %d: %d→%d, not of the filtered connection (port %d)", p.Index, tcp.SrcPort, tcp.DstPort, port)
			continue
		}
		seen[string(p.Data)]++
		fromClient := int(tcp.DstPort) == port
		switch {
		case tcp.SYN && !tcp.ACK:
			syn++
		case tcp.SYN:
			synack++
		}
		if tcp.FIN && fromClient {
			finC++
		} else if tcp.FIN {
			finS++
		}
		if fromClient {
			toServer = append(toServer, tcp.Payload...)
		} else {
			toClient = append(toClient, tcp.Payload...)
		}
	}
	if syn != copies || synack != copies || finC != copies || finS != copies {
		t.Errorf("SYN %d, SYN-ACK %d, FIN from client %d, from server %d; want %d of each", syn, synack, finC, finS, copies)
	}
	for data, n := range seen {
		if n != copies {
			t.Errorf("a packet was seen %d times, want %d: % x", n, copies, data[:min(len(data), 64)])
		}
	}
	if want := bytes.Repeat(request, copies); !bytes.Equal(toServer, want) {
		t.Errorf("payload to the server %q, want %q", toServer, want)
	}
	if want := bytes.Repeat(response, copies); !bytes.Equal(toClient, want) {
		t.Errorf("payload to the client %q, want %q", toClient, want)
	}
}

func TestLiveUnknownInterface(t *testing.T) {
	const name = "tlsi-nosuch0"
	_, err := OpenLive(LiveConfig{Interface: name})
	if err == nil {
		t.Fatal("OpenLive succeeded on an interface that does not exist")
	}
	if !errors.Is(err, ErrNoInterface) {
		t.Errorf("error %v does not wrap ErrNoInterface", err)
	}
	for _, want := range []string{name, "lo", AnyInterface} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestListInterfaces(t *testing.T) {
	ifs, err := ListInterfaces()
	if err != nil {
		t.Fatal(err)
	}
	var lo, anyIf *Interface
	for i := range ifs {
		switch ifs[i].Name {
		case "lo":
			lo = &ifs[i]
		case AnyInterface:
			anyIf = &ifs[i]
		}
	}
	if anyIf == nil || !anyIf.Up || anyIf.Index != 0 {
		t.Errorf(`"any" missing or wrong: %+v`, anyIf)
	}
	if lo == nil {
		t.Fatalf("no lo in %+v", ifs)
	}
	if !lo.Up || !lo.Loopback || lo.Index == 0 || !strings.Contains(lo.Flags, "loopback") {
		t.Errorf("lo: %+v, want up, loopback, with an index", *lo)
	}
	want := netip.MustParsePrefix("127.0.0.1/8")
	found := false
	for _, a := range lo.Addrs {
		found = found || a == want
	}
	if !found {
		t.Errorf("lo addresses %v lack %v", lo.Addrs, want)
	}
}

// TestLivePermissionDenied runs OpenLive as nobody, without capabilities,
// in a copy of the test binary, and checks the error it reports.
func TestLivePermissionDenied(t *testing.T) {
	if os.Getenv("TLSINSPECT_LIVE_PERM_HELPER") == "1" {
		_, err := OpenLive(LiveConfig{Interface: "lo"})
		exe, _ := os.Executable()
		fmt.Printf("EXE=%s\nIS_PERMISSION=%v\nERR=%v\n", exe, errors.Is(err, ErrPermission), err)
		return
	}
	requireLive(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) not installed: cannot drop privileges for this test")
	}
	// The go test build directory is private to root: copy the binary
	// where nobody may run it.
	dir, err := os.MkdirTemp("", "tlsi-perm-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "capture.test")
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
		exe, "-test.run=^TestLivePermissionDenied$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TLSINSPECT_LIVE_PERM_HELPER=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, out)
	}
	t.Logf("unprivileged run:\n%s", out)
	if !strings.Contains(string(out), "IS_PERMISSION=true") {
		t.Errorf("the error is not an ErrPermission")
	}
	var msg string
	for _, line := range strings.Split(string(out), "\n") {
		if m, ok := strings.CutPrefix(line, "ERR="); ok {
			msg = m
		}
	}
	checkGrantHint(t, msg, exe)
}
