//go:build pcap

package capture

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
)

// liveReadTimeout bounds how long Next waits before it returns
// ErrNoPacket, so that the caller regularly gets control back.
const liveReadTimeout = 100 * time.Millisecond

// pcapBufferSize is libpcap's capture buffer, as large as the AF_PACKET
// source's ring.
const pcapBufferSize = 32 << 20

// LiveSource captures packets from a network interface through libpcap
// (this build has the pcap tag; it needs cgo and libpcap).
//
// Next and Close must be called from one goroutine (the Data of a packet
// points into libpcap's buffer); Stats may be called from another. To stop
// a capture from elsewhere, signal the reading goroutine: Next returns at
// least every 100 ms or so.
type LiveSource struct {
	h        *pcap.Handle
	iface    string
	linkType layers.LinkType
	n        int
	err      error

	statsMu sync.Mutex // guards h against Close during Stats, and final
	final   LiveStats  // the counts at Close
}

// OpenLive starts capturing on an interface.
func OpenLive(cfg LiveConfig) (*LiveSource, error) {
	snaplen, err := normSnaplen(cfg.Snaplen)
	if err != nil {
		return nil, err
	}
	name := cfg.Interface
	if cfg.FanoutGroup != 0 {
		return nil, fmt.Errorf("capture on %q: %w: fanout needs the Linux AF_PACKET source (a build without the pcap tag)", name, ErrFanoutUnsupported)
	}
	if err := checkPcapInterface(name); err != nil {
		return nil, err
	}
	inactive, err := pcap.NewInactiveHandle(name)
	if err != nil {
		return nil, openError(name, err)
	}
	defer inactive.CleanUp() // closes nothing once activated
	promisc := cfg.Promiscuous && name != AnyInterface
	for _, set := range []func() error{
		func() error { return inactive.SetSnapLen(snaplen) },
		func() error { return inactive.SetPromisc(promisc) },
		// Not immediate mode: on Linux libpcap then falls back from
		// TPACKET_V3 to V2, whose ring has one snaplen-sized slot per
		// packet (8 packets in 2 MiB at the default snap length, so a
		// burst overflows it). The timeout makes the kernel hand packets
		// over within 100 ms on a quiet link all the same.
		func() error { return inactive.SetTimeout(liveReadTimeout) },
		func() error { return inactive.SetBufferSize(pcapBufferSize) },
	} {
		if err := set(); err != nil {
			return nil, fmt.Errorf("capture on %q: %w", name, err)
		}
	}
	h, err := inactive.Activate()
	if err != nil {
		return nil, activateError(name, err, inactive.Error())
	}
	s := &LiveSource{h: h, iface: name, linkType: h.LinkType()}
	if cfg.Filter != nil {
		// libpcap's own filters are built for its link type, so the
		// program sees whole frames: never "cooked".
		prog, err := cfg.Filter(s.linkType, false)
		if err != nil {
			h.Close()
			return nil, err
		}
		if prog != nil {
			ins := make([]pcap.BPFInstruction, len(prog))
			for i, r := range prog {
				ins[i] = pcap.BPFInstruction{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
			}
			if err := h.SetBPFInstructionFilter(ins); err != nil {
				h.Close()
				return nil, fmt.Errorf("capture filter for %q: %w", name, err)
			}
		}
	}
	return s, nil
}

// checkPcapInterface reports an unknown or down interface before libpcap
// does, with the names of the ones that exist.
func checkPcapInterface(name string) error {
	if name == "" {
		return fmt.Errorf("no interface given (use %q for all interfaces)", AnyInterface)
	}
	devs, err := pcap.FindAllDevs()
	if err != nil {
		return nil // let libpcap report it when opening
	}
	var names []string
	for _, d := range devs {
		names = append(names, d.Name)
	}
	if !slices.Contains(names, name) {
		// libpcap lists only interfaces it can open; one it does not list
		// may still exist (e.g. down ones on some systems).
		if ifi, err := net.InterfaceByName(name); err == nil {
			if ifi.Flags&net.FlagUp == 0 {
				return fmt.Errorf("cannot capture on %q: %w (bring it up first)", name, ErrInterfaceDown)
			}
			return nil
		}
		return fmt.Errorf("%w %q; available interfaces: %s (tlsinspect -D lists them with their addresses)", ErrNoInterface, name, strings.Join(names, ", "))
	}
	if ifi, err := net.InterfaceByName(name); err == nil && ifi.Flags&net.FlagUp == 0 {
		return fmt.Errorf("cannot capture on %q: %w (bring it up first)", name, ErrInterfaceDown)
	}
	return nil
}

// activateError maps pcap_activate's failures to this package's errors.
// gopacket's error type is unexported: its messages are what it offers;
// libpcap's own message (pcap_geterr) says more.
func activateError(name string, err, detail error) error {
	msg := err.Error()
	if detail != nil && detail.Error() != "" {
		msg = detail.Error()
	}
	switch err.Error() {
	case "Permission Denied":
		return permissionError(name, &causeError{msg, syscall.EPERM})
	case "No Such Device":
		return fmt.Errorf("%w %q (%s)", ErrNoInterface, name, msg)
	case "Interface Not Up":
		return fmt.Errorf("cannot capture on %q: %w", name, ErrInterfaceDown)
	}
	return openError(name, errors.New(msg))
}

// causeError is libpcap's message for a failure, which matches the
// system error it stands for with errors.Is.
type causeError struct {
	msg   string
	cause error
}

func (e *causeError) Error() string { return e.msg }
func (e *causeError) Unwrap() error { return e.cause }

func openError(iface string, err error) error {
	if perr := permissionError(iface, err); perr != err {
		return perr
	}
	return fmt.Errorf("capture on %q: %w", iface, err)
}

// Next returns the next packet. ErrNoPacket means that none arrived within
// about 100 ms. Data is valid until the next call to Next or Close.
func (s *LiveSource) Next() (Packet, error) {
	if s.err != nil {
		return Packet{}, s.err
	}
	if s.h == nil {
		return Packet{}, io.EOF
	}
	data, ci, err := s.h.ZeroCopyReadPacketData()
	if err != nil {
		if err == pcap.NextErrorTimeoutExpired {
			return Packet{}, ErrNoPacket
		}
		if detail := s.h.Error(); detail != nil && detail.Error() != "" {
			err = fmt.Errorf("%w: %v", err, detail)
		}
		s.err = fmt.Errorf("capture on %q: %w", s.iface, err)
		return Packet{}, s.err
	}
	s.n++
	length := max(ci.Length, len(data))
	return Packet{
		Index:     s.n,
		Timestamp: ci.Timestamp.UTC(),
		LinkType:  s.linkType,
		Data:      data,
		Length:    length,
		Truncated: len(data) < length,
	}, nil
}

// LinkType is the link type of every packet, as libpcap reports it
// (Linux SLL for "any").
func (s *LiveSource) LinkType() layers.LinkType { return s.linkType }

// Interface is the name of the captured interface.
func (s *LiveSource) Interface() string { return s.iface }

// Stats returns libpcap's counters since the source was opened. They are
// 32-bit in libpcap and wrap.
func (s *LiveSource) Stats() (LiveStats, error) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.h == nil {
		return s.final, nil
	}
	st, err := s.h.Stats()
	if err != nil {
		return LiveStats{}, fmt.Errorf("capture on %q: reading statistics: %w", s.iface, err)
	}
	return LiveStats{
		Received:         uint64(uint32(st.PacketsReceived)),
		KernelDropped:    uint64(uint32(st.PacketsDropped)),
		InterfaceDropped: uint64(uint32(st.PacketsIfDropped)),
	}, nil
}

// Close stops the capture. Next then returns io.EOF; Stats still reports
// the final counts.
func (s *LiveSource) Close() error {
	if s.h == nil {
		return nil
	}
	st, _ := s.Stats()
	s.statsMu.Lock()
	s.final = st
	s.h.Close()
	s.h = nil
	s.statsMu.Unlock()
	return nil
}

// ListInterfaces lists the interfaces libpcap can capture on (on Linux
// including "any"), with their addresses and state.
func ListInterfaces() ([]Interface, error) {
	devs, err := pcap.FindAllDevs()
	if err != nil {
		return nil, fmt.Errorf("listing capture interfaces: %w", err)
	}
	out := make([]Interface, 0, len(devs))
	for _, d := range devs {
		it := Interface{
			Name:        d.Name,
			Description: d.Description,
			// libpcap's PCAP_IF_LOOPBACK, PCAP_IF_UP, PCAP_IF_RUNNING.
			Loopback: d.Flags&0x1 != 0,
			Up:       d.Flags&0x2 != 0,
			Running:  d.Flags&0x4 != 0,
		}
		if ifi, err := net.InterfaceByName(d.Name); err == nil {
			it.Index = ifi.Index
			it.Flags = ifi.Flags.String()
		} else {
			it.Flags = pcapFlags(it)
		}
		if d.Name == AnyInterface {
			it.Up, it.Running = true, true
		}
		for _, a := range d.Addresses {
			ip, ok := netip.AddrFromSlice(a.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			bits := ip.BitLen()
			if a.Netmask != nil {
				if ones, all := a.Netmask.Size(); all != 0 {
					bits = ones
				}
			}
			it.Addrs = append(it.Addrs, netip.PrefixFrom(ip, bits))
		}
		out = append(out, it)
	}
	return out, nil
}

func pcapFlags(it Interface) string {
	var f []string
	if it.Up {
		f = append(f, "up")
	}
	if it.Loopback {
		f = append(f, "loopback")
	}
	if it.Running {
		f = append(f, "running")
	}
	return strings.Join(f, "|")
}
