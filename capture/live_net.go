//go:build !pcap

package capture

import (
	"fmt"
	"net"
	"net/netip"
)

// anyEntry is the pseudo-interface that ListInterfaces adds.
func anyEntry() Interface {
	return Interface{
		Name:        AnyInterface,
		Description: "pseudo-interface: all interfaces",
		Up:          true,
		Running:     true,
	}
}

// netInterfaces lists the interfaces the Go runtime sees, with "any"
// last (as tcpdump -D does) if withAny.
func netInterfaces(withAny bool) ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	out := make([]Interface, 0, len(ifs)+1)
	for _, ifi := range ifs {
		it := Interface{
			Name:     ifi.Name,
			Index:    ifi.Index,
			Up:       ifi.Flags&net.FlagUp != 0,
			Running:  ifi.Flags&net.FlagRunning != 0,
			Loopback: ifi.Flags&net.FlagLoopback != 0,
			Flags:    ifi.Flags.String(),
		}
		// An interface whose addresses cannot be read is still listed:
		// it can be captured on.
		if addrs, err := ifi.Addrs(); err == nil {
			for _, a := range addrs {
				if p, ok := prefixOf(a); ok {
					it.Addrs = append(it.Addrs, p)
				}
			}
		}
		out = append(out, it)
	}
	if withAny {
		out = append(out, anyEntry())
	}
	return out, nil
}

func prefixOf(a net.Addr) (netip.Prefix, bool) {
	n, ok := a.(*net.IPNet)
	if !ok {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, bits := n.Mask.Size()
	if bits == 0 { // non-canonical mask
		return netip.Prefix{}, false
	}
	ip = ip.Unmap()
	if ip.Is4() && bits == 128 {
		ones -= 96
	}
	return netip.PrefixFrom(ip, ones), true
}
