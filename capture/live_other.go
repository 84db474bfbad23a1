//go:build !linux && !pcap

package capture

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"
)

// LiveSource would capture from a network interface; this build cannot
// (OpenLive always fails). It exists so that callers compile everywhere.
type LiveSource struct{}

// OpenLive fails: the pure-Go live capture uses Linux AF_PACKET sockets.
func OpenLive(cfg LiveConfig) (*LiveSource, error) {
	if cfg.FanoutGroup != 0 {
		// libpcap, the other way to capture, has no fanout either.
		return nil, fmt.Errorf("cannot capture on %q: %w: fanout needs the Linux AF_PACKET source", cfg.Interface, ErrFanoutUnsupported)
	}
	return nil, fmt.Errorf("cannot capture on %q: %w: live capture needs Linux, or a build with -tags pcap (libpcap, cgo)", cfg.Interface, ErrLiveUnsupported)
}

// Next fails: no LiveSource can be opened in this build.
func (s *LiveSource) Next() (Packet, error) { return Packet{}, ErrLiveUnsupported }

// LinkType is the zero link type.
func (s *LiveSource) LinkType() layers.LinkType { return 0 }

// Interface is empty.
func (s *LiveSource) Interface() string { return "" }

// Stats fails: no LiveSource can be opened in this build.
func (s *LiveSource) Stats() (LiveStats, error) { return LiveStats{}, ErrLiveUnsupported }

// Close does nothing.
func (s *LiveSource) Close() error { return nil }

// ListInterfaces lists the interfaces the system has, though this build
// cannot capture on them ("any" is not listed: it exists only on Linux).
func ListInterfaces() ([]Interface, error) {
	return netInterfaces(false)
}
