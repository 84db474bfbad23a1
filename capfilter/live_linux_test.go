//go:build linux

package capfilter

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// TestAttachToSocket attaches programs to AF_PACKET sockets on the
// loopback interface and sends itself UDP datagrams on 127.0.0.1: those
// to port A must come through, those to port B must not. Only loopback
// traffic is sent.
func TestAttachToSocket(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("AF_PACKET sockets need root")
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no loopback interface: %v", err)
	}
	// Listening reserves the ports, so nothing else uses them.
	la, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer la.Close()
	lb, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	portA := la.LocalAddr().(*net.UDPAddr).Port

	var many []string // enough hosts that jumps need trampolines
	for i := 1; i <= 40; i++ {
		many = append(many, fmt.Sprintf("10.9.%d.%d", i/250, i%250))
	}
	ethernet := Target{LinkType: layers.LinkTypeEthernet, Live: true}
	cooked := Target{Live: true, Cooked: true}
	tests := []struct {
		name     string
		sockType int
		target   Target
		expr     string
	}{
		{"raw", unix.SOCK_RAW, ethernet, "udp and dst port A"},
		{"raw vlan", unix.SOCK_RAW, ethernet, "udp dst port A and not vlan 100"},
		{"raw long", unix.SOCK_RAW, ethernet, "ip and udp dst port A and not host (" + strings.Join(many, " or ") + ")"},
		{"cooked", unix.SOCK_DGRAM, cooked, "ip and udp and dst port A"},
		{"cooked vlan", unix.SOCK_DGRAM, cooked, "not vlan 100 and udp dst port A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expr := strings.ReplaceAll(tt.expr, "port A", fmt.Sprint("port ", portA))
			raw, err := mustParse(t, expr).Assemble(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "raw long" && len(raw) <= 256 {
				t.Fatalf("program of %d instructions: too short to need trampolines", len(raw))
			}
			fd := packetSocket(t, tt.sockType, lo.Index, raw)
			defer unix.Close(fd)

			s, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for i := 0; i < 3; i++ {
				s.WriteTo([]byte("capfilter-test-A"), la.LocalAddr())
				s.WriteTo([]byte("capfilter-test-B"), lb.LocalAddr())
			}
			sawA, sawB := 0, 0
			buf := make([]byte, 65536)
			deadline := time.Now().Add(2 * time.Second)
			for time.Now().Before(deadline) && sawA < 3 {
				n, _, err := unix.Recvfrom(fd, buf, 0)
				if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				sawA += bytes.Count(buf[:n], []byte("capfilter-test-A"))
				sawB += bytes.Count(buf[:n], []byte("capfilter-test-B"))
			}
			// Drain what is left: B must not show up late either.
			for {
				n, _, err := unix.Recvfrom(fd, buf, 0)
				if err != nil {
					break
				}
				sawB += bytes.Count(buf[:n], []byte("capfilter-test-B"))
			}
			if sawA == 0 || sawB != 0 {
				t.Errorf("%q: %d datagrams to port A, %d to port B came through; want some and none", expr, sawA, sawB)
			}
		})
	}
}

// packetSocket opens an AF_PACKET socket bound to ifindex with prog
// attached. The socket gets no packets before it is bound, so none come
// through unfiltered.
func packetSocket(t *testing.T, sockType, ifindex int, prog []bpf.RawInstruction) int {
	fd, err := unix.Socket(unix.AF_PACKET, sockType|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	filter := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		filter[i] = unix.SockFilter{Code: in.Op, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}); err != nil {
		unix.Close(fd)
		t.Fatalf("SO_ATTACH_FILTER: %v", err)
	}
	tv := unix.Timeval{Usec: 100_000}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	proto := uint16(unix.ETH_P_ALL)<<8 | uint16(unix.ETH_P_ALL)>>8 // network byte order
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: ifindex}); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	return fd
}
