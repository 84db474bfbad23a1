//go:build linux && !pcap

package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// TestLiveLoopback captures a TCP connection on 127.0.0.1 through "lo" and
// "any": every packet exactly once, none of another connection that the
// filter excludes. Without the kernel-side drop of outgoing loopback
// copies, every packet is seen twice.
func TestLiveLoopback(t *testing.T) {
	requireLive(t)
	for _, tt := range []struct {
		iface    string
		linkType layers.LinkType
		cooked   bool
		dedup    bool
	}{
		{"lo", layers.LinkTypeEthernet, false, true},
		{AnyInterface, layers.LinkTypeRaw, true, true},
		{"lo", layers.LinkTypeEthernet, false, false},
		{AnyInterface, layers.LinkTypeRaw, true, false},
	} {
		t.Run(fmt.Sprintf("%s/dedup=%v", tt.iface, tt.dedup), func(t *testing.T) {
			ln, port := listenTCP(t)
			other, _ := listenTCP(t)
			var fc filterCall
			start := time.Now()
			s, err := openLive(LiveConfig{Interface: tt.iface, Filter: tcpPortFilter(port, &fc)}, tt.dedup)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if fc.calls != 1 || fc.linkType != tt.linkType || fc.cooked != tt.cooked {
				t.Errorf("Filter called %d times with (%v, cooked %v), want once with (%v, %v)", fc.calls, fc.linkType, fc.cooked, tt.linkType, tt.cooked)
			}
			if s.LinkType() != tt.linkType || s.Interface() != tt.iface {
				t.Errorf("LinkType %v, Interface %q; want %v, %q", s.LinkType(), s.Interface(), tt.linkType, tt.iface)
			}
			// First a connection the filter excludes: had it passed, its
			// packets would come before the others.
			converse(t, other, []byte("not for the capture"), []byte("nor this"))
			request := []byte("GET /live-capture-test HTTP/1.0\r\n\r\n")
			response := []byte("HTTP/1.0 204 No Content\r\n\r\n")
			converse(t, ln, request, response)
			ps := readUntilQuiet(t, s, bothFINs(port), 5*time.Second)
			copies := 1
			if !tt.dedup {
				copies = 2
			}
			checkConversation(t, ps, tt.linkType, port, request, response, start, copies)
			if len(ps) > 0 && ps[0].Index != 1 {
				t.Errorf("first packet has index %d, want 1", ps[0].Index)
			}

			st, err := s.Stats()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d packets delivered; stats %+v", len(ps), st)
			if st.Received < uint64(len(ps)) || st.KernelDropped != 0 {
				t.Errorf("stats %+v after %d packets delivered, none dropped", st, len(ps))
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Next(); err != io.EOF {
				t.Errorf("Next after Close: %v, want io.EOF", err)
			}
			if st2, err := s.Stats(); err != nil || st2.Received < st.Received {
				t.Errorf("Stats after Close: %+v, %v", st2, err)
			}
		})
	}
}

// TestLiveSnaplen checks that packets are cut at the snap length and say so.
func TestLiveSnaplen(t *testing.T) {
	requireLive(t)
	ln, port := listenTCP(t)
	const snaplen = 80
	s, err := OpenLive(LiveConfig{Interface: "lo", Snaplen: snaplen, Filter: tcpPortFilter(port, &filterCall{})})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	request := bytes.Repeat([]byte("0123456789"), 100)
	converse(t, ln, request, []byte("ok"))
	ps := readUntilQuiet(t, s, bothFINs(port), 5*time.Second)
	var cut int
	for _, p := range ps {
		if len(p.Data) > snaplen {
			t.Errorf("packet %d: %d bytes captured, snap length %d", p.Index, len(p.Data), snaplen)
		}
		if p.Truncated != (p.Length > len(p.Data)) {
			t.Errorf("packet %d: Truncated %v with %d of %d bytes", p.Index, p.Truncated, len(p.Data), p.Length)
		}
		if p.Truncated {
			cut++
			if p.Length < 14+20+20+len(request) {
				t.Errorf("packet %d: wire length %d, shorter than the request", p.Index, p.Length)
			}
		}
	}
	if cut != 1 {
		t.Errorf("%d truncated packets, want 1 (the request)", cut)
	}
}

// TestLiveIdle checks that Next comes back with ErrNoPacket when the
// filter passes nothing, even while there is traffic, and that nothing
// rejected is counted as received.
func TestLiveIdle(t *testing.T) {
	requireLive(t)
	for _, iface := range []string{"lo", AnyInterface} {
		t.Run(iface, func(t *testing.T) {
			s, err := OpenLive(LiveConfig{Interface: iface, Filter: rejectEverything})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ln, _ := listenTCP(t)
			converse(t, ln, []byte("hello"), []byte("bye"))
			for i := 0; i < 3; i++ {
				start := time.Now()
				p, err := s.Next()
				took := time.Since(start)
				if !errors.Is(err, ErrNoPacket) {
					t.Fatalf("Next = packet %d (% x), %v; want ErrNoPacket", p.Index, p.Data, err)
				}
				if took > time.Second {
					t.Errorf("ErrNoPacket after %v", took)
				}
			}
			st, err := s.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if st.Received != 0 {
				t.Errorf("Received %d with a filter that passes nothing", st.Received)
			}
		})
	}
}

// TestLiveFilterFromFirstPacket opens sources with a filter that matches
// nothing while loopback is busy: packets that reached the ring before the
// filter was attached must not be delivered.
func TestLiveFilterFromFirstPacket(t *testing.T) {
	requireLive(t)
	dst, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	go func() { // drain the receiver so that the senders never block
		buf := make([]byte, 2048)
		for {
			if _, err := dst.Read(buf); err != nil {
				return
			}
		}
	}()
	conn, err := net.DialUDP("udp4", nil, dst.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // bounded: at most 10 s and 5 million datagrams
		defer wg.Done()
		msg := []byte("flood")
		end := time.Now().Add(10 * time.Second)
		for i := 0; i < 5_000_000 && time.Now().Before(end); i++ {
			select {
			case <-stop:
				return
			default:
			}
			conn.Write(msg)
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	for _, iface := range []string{"lo", AnyInterface} {
		for i := 0; i < 6; i++ {
			s, err := OpenLive(LiveConfig{Interface: iface, Filter: rejectEverything})
			if err != nil {
				t.Fatal(err)
			}
			p, err := s.Next()
			p.Data = bytes.Clone(p.Data) // the ring goes away with Close
			st, _ := s.Stats()
			s.Close()
			if !errors.Is(err, ErrNoPacket) {
				t.Logf("stats %+v", st)
				t.Fatalf("%s, open %d: Next = %d bytes (% x), %v; want ErrNoPacket", iface, i, len(p.Data), p.Data[:min(len(p.Data), 48)], err)
			}
		}
	}
}

func TestBuildProgram(t *testing.T) {
	user := []bpf.RawInstruction{{Op: unix.BPF_RET | unix.BPF_K, K: 0xffffffff}}
	for _, tt := range []struct {
		name      string
		sk        socket
		user      []bpf.RawInstruction
		want      int // instructions
		filtering bool
	}{
		{"ethernet, no filter", socket{}, nil, 1, false},
		{"ethernet, filter", socket{}, user, 1, true},
		{"loopback", socket{loopback: true}, nil, 4, true},
		{"loopback, filter", socket{loopback: true}, user, 3 + 2 + 1, true},
		{"cooked", socket{cooked: true}, nil, 5, true},
		{"any, one loopback", socket{cooked: true, loIndex: []int{1}}, user, 4 + 6 + 2 + 1, true},
		{"any, two loopbacks", socket{cooked: true, loIndex: []int{1, 7}}, nil, 4 + 7 + 1, true},
	} {
		prog, filtering, err := buildProgram(tt.sk, tt.user, 1000)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(prog) != tt.want || filtering != tt.filtering {
			t.Errorf("%s: %d instructions, filtering %v; want %d, %v", tt.name, len(prog), filtering, tt.want, tt.filtering)
		}
		last := prog[len(prog)-1]
		if last.Op != unix.BPF_RET|unix.BPF_K || last.K != 1000 {
			t.Errorf("%s: last instruction %+v, want ret #1000 (the snap length)", tt.name, last)
		}
		// Every jump must land inside the program.
		for i, ins := range prog {
			if ins.Op&0x07 != unix.BPF_JMP {
				continue
			}
			targets := []int{int(ins.Jt), int(ins.Jf)}
			if ins.Op&0xf0 == unix.BPF_JA {
				targets = []int{int(ins.K)}
			}
			for _, off := range targets {
				if i+1+off >= len(prog) {
					t.Errorf("%s: instruction %d jumps past the end", tt.name, i)
				}
			}
		}
	}
	long := make([]bpf.RawInstruction, maxBPFInstructions)
	long[len(long)-1] = user[0]
	if _, _, err := buildProgram(socket{cooked: true}, long, 1000); err == nil || !strings.Contains(err.Error(), "4096") {
		t.Errorf("over-long program: %v, want an error naming the limit", err)
	}
	if _, _, err := buildProgram(socket{}, []bpf.RawInstruction{}, 1000); err == nil {
		t.Error("empty program accepted")
	}
}

// netns is a network namespace made for a test and deleted after it.
type netns string

func newNetns(t *testing.T, tag string) netns {
	t.Helper()
	name := fmt.Sprintf("tlsi-test-%d-%s", os.Getpid(), tag)
	runIP(t, "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	runIP(t, "-n", name, "link", "set", "lo", "up")
	return netns(name)
}

func runIP(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// do runs fn on an OS thread that has entered the namespace. The thread is
// never unlocked, so it ends with the goroutine and no other code runs in
// the namespace. Sockets made there stay in it.
func (ns netns) do(t *testing.T, fn func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + string(ns))
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func (ns netns) open(t *testing.T, cfg LiveConfig) *LiveSource {
	t.Helper()
	var s *LiveSource
	ns.do(t, func() (err error) {
		s, err = OpenLive(cfg)
		return err
	})
	t.Cleanup(func() { s.Close() })
	return s
}

// TestLiveNetns captures real Ethernet traffic between two network
// namespaces joined by a veth pair (198.18.0.1 ↔ .2, a range reserved for
// tests; nothing leaves the namespaces), on a tun device (cooked), and
// checks the errors of a down interface.
func TestLiveNetns(t *testing.T) {
	requireLive(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) not installed")
	}
	if _, err := os.Stat("/run/netns"); err != nil && exec.Command("ip", "netns", "list").Run() != nil {
		t.Skip("ip netns unavailable")
	}
	a, b := newNetns(t, "a"), newNetns(t, "b")
	out, err := exec.Command("ip", "-n", string(a), "link", "add", "tlsiA", "type", "veth", "peer", "name", "tlsiB", "netns", string(b)).CombinedOutput()
	if err != nil {
		t.Skipf("cannot make a veth pair: %v: %s", err, out)
	}
	runIP(t, "-n", string(a), "addr", "add", "198.18.0.1/24", "dev", "tlsiA")
	runIP(t, "-n", string(b), "addr", "add", "198.18.0.2/24", "dev", "tlsiB")
	runIP(t, "-n", string(a), "link", "set", "tlsiA", "up")
	runIP(t, "-n", string(b), "link", "set", "tlsiB", "up")
	var macA, macB net.HardwareAddr
	a.do(t, func() error {
		ifi, err := net.InterfaceByName("tlsiA")
		macA = ifi.HardwareAddr
		return err
	})
	b.do(t, func() error {
		ifi, err := net.InterfaceByName("tlsiB")
		macB = ifi.HardwareAddr
		return err
	})
	payload := []byte("tlsinspect netns test datagram")
	sendUDP := func(t *testing.T, payload []byte) {
		a.do(t, func() error {
			c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(198, 18, 0, 2), Port: 9})
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.Write(payload)
			return err
		})
	}
	// The datagram itself, not the ICMP error that quotes it.
	hasPayload := func(p captured) bool {
		if p.pkt.Layer(layers.LayerTypeICMPv4) != nil {
			return false
		}
		u, _ := p.pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		return u != nil && bytes.Equal(u.Payload, payload)
	}
	untilPayload := func(ps []captured) bool {
		for _, p := range ps {
			if hasPayload(p) {
				return true
			}
		}
		return false
	}

	t.Run("ethernet and any", func(t *testing.T) {
		eth := b.open(t, LiveConfig{Interface: "tlsiB", Promiscuous: true})
		anyIf := b.open(t, LiveConfig{Interface: AnyInterface})
		if eth.LinkType() != layers.LinkTypeEthernet || anyIf.LinkType() != layers.LinkTypeRaw {
			t.Fatalf("link types %v, %v", eth.LinkType(), anyIf.LinkType())
		}
		if out := runIP(t, "-n", string(b), "-d", "link", "show", "tlsiB"); !strings.Contains(out, "promiscuity 1") {
			t.Errorf("tlsiB not promiscuous while captured:\n%s", out)
		}
		sendUDP(t, payload)

		ps := readUntilQuiet(t, eth, untilPayload, 5*time.Second)
		var arp, udp int
		for _, p := range ps {
			if p.pkt.Layer(layers.LayerTypeARP) != nil {
				arp++
			}
			if hasPayload(p) {
				udp++
				e, _ := p.pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
				if e == nil || !bytes.Equal(e.SrcMAC, macA) || !bytes.Equal(e.DstMAC, macB) {
					t.Errorf("datagram's Ethernet header %+v, want %v → %v", e, macA, macB)
				}
			}
		}
		if arp == 0 || udp != 1 {
			t.Errorf("on tlsiB: %d ARP packets, %d datagrams; want some ARP and one datagram", arp, udp)
		}

		ps = readUntilQuiet(t, anyIf, untilPayload, 5*time.Second)
		udp = 0
		for _, p := range ps {
			if v := p.Data[0] >> 4; v != 4 && v != 6 {
				t.Errorf(`"any" delivered a packet that is not IP: % x`, p.Data[:min(len(p.Data), 32)])
			}
			if hasPayload(p) {
				udp++
			}
		}
		if udp != 1 {
			t.Errorf(`on "any": %d datagrams, want 1`, udp)
		}
		eth.Close()
		if out := runIP(t, "-n", string(b), "-d", "link", "show", "tlsiB"); !strings.Contains(out, "promiscuity 0") {
			t.Errorf("tlsiB still promiscuous after Close:\n%s", out)
		}
	})

	t.Run("vlan tag restored", func(t *testing.T) {
		eth := b.open(t, LiveConfig{Interface: "tlsiB"})
		anyIf := b.open(t, LiveConfig{Interface: AnyInterface})
		frame := vlanFrame(t, macA, macB, 7, payload)
		a.do(t, func() error {
			fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			defer unix.Close(fd)
			ifi, err := net.InterfaceByName("tlsiA")
			if err != nil {
				return err
			}
			to := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Protocol: htons(unix.ETH_P_8021Q), Halen: 6}
			copy(to.Addr[:], macB)
			return unix.Sendto(fd, frame, 0, to)
		})
		ps := readUntilQuiet(t, eth, untilPayload, 5*time.Second)
		n := 0
		for _, p := range ps {
			if !hasPayload(p) {
				continue
			}
			n++
			d, _ := p.pkt.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q)
			if d == nil || d.VLANIdentifier != 7 {
				t.Errorf("802.1Q tag missing or wrong: %v", p.pkt)
			}
			if !bytes.Equal(p.Data, frame) || p.Length != len(frame) {
				t.Errorf("captured %d bytes (length %d), sent %d:\n% x\n% x", len(p.Data), p.Length, len(frame), p.Data, frame)
			}
		}
		if n != 1 {
			t.Errorf("tagged frame seen %d times, want 1", n)
		}
		// In cooked mode the tag is not in the data; the packet still is.
		ps = readUntilQuiet(t, anyIf, untilPayload, 5*time.Second)
		n = 0
		for _, p := range ps {
			if hasPayload(p) {
				n++
				if p.Data[0] != 0x45 {
					t.Errorf(`"any": tagged frame delivered as % x`, p.Data[:20])
				}
			}
		}
		if n != 1 {
			t.Errorf(`"any": tagged frame seen %d times, want 1`, n)
		}
	})

	t.Run("tun is cooked", func(t *testing.T) {
		var tun *os.File
		a.do(t, func() error {
			fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			ifr, err := unix.NewIfreq("tlsitun")
			if err != nil {
				return err
			}
			ifr.SetUint16(unix.IFF_TUN) // with the packet information header: it sets the protocol
			if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
				unix.Close(fd)
				return fmt.Errorf("TUNSETIFF: %w", err)
			}
			tun = os.NewFile(uintptr(fd), "tun")
			return nil
		})
		defer tun.Close()
		runIP(t, "-n", string(a), "addr", "add", "198.19.0.1/24", "dev", "tlsitun")
		runIP(t, "-n", string(a), "link", "set", "tlsitun", "up")
		var fc filterCall
		s := a.open(t, LiveConfig{Interface: "tlsitun", Filter: func(lt layers.LinkType, cooked bool) ([]bpf.RawInstruction, error) {
			fc.calls++
			fc.linkType, fc.cooked = lt, cooked
			return nil, nil
		}})
		if fc.calls != 1 || fc.linkType != layers.LinkTypeRaw || !fc.cooked || s.LinkType() != layers.LinkTypeRaw {
			t.Errorf("Filter called %d times with (%v, %v); source link type %v; want Raw, cooked", fc.calls, fc.linkType, fc.cooked, s.LinkType())
		}
		notIP := append([]byte{0, 0, 0x08, 0x06}, bytes.Repeat([]byte{0xee}, 28)...) // "ARP"
		if _, err := tun.Write(notIP); err != nil {
			t.Fatal(err)
		}
		ip := ipv4UDP(t, net.IPv4(198, 19, 0, 2), net.IPv4(198, 19, 0, 1), payload)
		if _, err := tun.Write(append([]byte{0, 0, 0x08, 0x00}, ip...)); err != nil {
			t.Fatal(err)
		}
		ps := readUntilQuiet(t, s, untilPayload, 5*time.Second)
		n := 0
		for _, p := range ps {
			if bytes.Contains(p.Data, notIP[4:]) {
				t.Errorf("a packet that is not IP was delivered: % x", p.Data)
			}
			if hasPayload(p) {
				n++
				if !bytes.Equal(p.Data, ip) {
					t.Errorf("captured\n% x\nwant\n% x", p.Data, ip)
				}
			}
		}
		if n != 1 {
			t.Errorf("datagram seen %d times, want 1", n)
		}
	})

	t.Run("down", func(t *testing.T) {
		runIP(t, "-n", string(a), "link", "add", "tlsidown", "type", "bridge")
		a.do(t, func() error {
			_, err := OpenLive(LiveConfig{Interface: "tlsidown"})
			if !errors.Is(err, ErrInterfaceDown) || !strings.Contains(err.Error(), "tlsidown") {
				return fmt.Errorf("OpenLive on a down interface: %v, want ErrInterfaceDown naming it", err)
			}
			return nil
		})
	})

	t.Run("goes down", func(t *testing.T) {
		s := b.open(t, LiveConfig{Interface: "tlsiB"})
		runIP(t, "-n", string(b), "link", "set", "tlsiB", "down")
		defer runIP(t, "-n", string(b), "link", "set", "tlsiB", "up")
		deadline := time.Now().Add(3 * time.Second)
		for {
			_, err := s.Next()
			if err == nil || errors.Is(err, ErrNoPacket) {
				if time.Now().After(deadline) {
					t.Fatal("no error 3 s after the interface went down")
				}
				continue
			}
			if !errors.Is(err, ErrInterfaceDown) || !strings.Contains(err.Error(), "tlsiB") {
				t.Errorf("error %v, want ErrInterfaceDown saying it went down", err)
			}
			if _, err2 := s.Next(); err2 != err {
				t.Errorf("error not sticky: then %v", err2)
			}
			break
		}
	})
}

func ipv4UDP(t *testing.T, src, dst net.IP, payload []byte) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src, DstIP: dst}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 9}
	_ = udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func vlanFrame(t *testing.T, src, dst net.HardwareAddr, vlan uint16, payload []byte) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: layers.EthernetTypeDot1Q}
	tag := &layers.Dot1Q{VLANIdentifier: vlan, Type: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(198, 18, 0, 1), DstIP: net.IPv4(198, 18, 0, 2)}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 9}
	_ = udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, tag, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
