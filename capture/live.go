package capture

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// AnyInterface captures on every interface at once.
const AnyInterface = "any"

const (
	// DefaultSnaplen is the snap length used when LiveConfig.Snaplen is 0:
	// whole packets, as tcpdump does.
	DefaultSnaplen = MaxPacketSize
	// DefaultBlockTimeout is used when LiveConfig.BlockTimeout is 0. It is
	// short so that a packet on a quiet link is seen promptly, not when a
	// ring block fills up.
	DefaultBlockTimeout = 50 * time.Millisecond
)

// Errors of live capture, for errors.Is.
var (
	// ErrNoPacket: nothing arrived within about 100 ms. It is not a failure:
	// call Next again (after flushing idle state or checking for a stop
	// request).
	ErrNoPacket = errors.New("no packet within the read timeout")
	// ErrPermission: the process lacks the privilege to capture. The error
	// is a *PermissionError that says how to grant it.
	ErrPermission = errors.New("live capture not permitted")
	// ErrNoInterface: the interface does not exist.
	ErrNoInterface = errors.New("no such interface")
	// ErrInterfaceDown: the interface is down (at open), or went down or
	// disappeared during the capture.
	ErrInterfaceDown = errors.New("interface is down")
	// ErrLiveUnsupported: this build cannot capture live.
	ErrLiveUnsupported = errors.New("live capture not supported by this build")
	// ErrFanoutUnsupported: LiveConfig.FanoutGroup was set, but this build
	// has no AF_PACKET source (libpcap builds, other systems).
	ErrFanoutUnsupported = errors.New("fanout not supported by this build")
)

// LiveConfig selects an interface and how to capture on it.
type LiveConfig struct {
	// Interface is an interface name, or "any" for all interfaces.
	Interface string
	// Snaplen is the number of bytes kept per packet; 0 means
	// DefaultSnaplen. Larger values are lowered to MaxPacketSize.
	Snaplen int
	// Promiscuous puts a named interface into promiscuous mode for as long
	// as the source is open. It is ignored for "any".
	Promiscuous bool
	// Filter, when set, is called once with the link type the source will
	// deliver and whether the socket is "cooked": then the data starts at
	// the network header and the EtherType is only available through the
	// ancillary load bpf.ExtProto (SKF_AD_PROTOCOL). It returns the classic
	// BPF program to attach, nil to accept everything. Its error is
	// returned by OpenLive unchanged. The program runs on a socket that
	// already receives only what this package delivers (IPv4 and IPv6 in
	// cooked mode, no loopback duplicates), and a packet it accepts is
	// captured up to the smaller of its return value and Snaplen.
	Filter func(linkType layers.LinkType, cooked bool) ([]bpf.RawInstruction, error)
	// BlockTimeout is how long the kernel fills a ring block before handing
	// it over even if it is not full (TPACKET_V3 tp_retire_blk_tov, at
	// least 1 ms); 0 means DefaultBlockTimeout. Only the Linux AF_PACKET
	// source uses it.
	BlockTimeout time.Duration
	// FanoutGroup, when not 0, makes the source one of several that share
	// the packets of the interface, each read by its own worker: its
	// socket joins the AF_PACKET fanout group with this id in hash mode
	// (PACKET_FANOUT_HASH), and the kernel hands each packet to one socket
	// of the group, chosen by a hash of its addresses and ports that is
	// the same in both directions, so that each TCP or UDP connection is
	// seen whole by one source. IPv4 fragments are reassembled before
	// hashing (PACKET_FANOUT_FLAG_DEFRAG), and the source receives the
	// whole datagram; IPv6 fragments are not. The kernel picks the socket
	// before running its filter, so all sources of a group must be opened
	// with the same Interface and Filter, and best before the traffic of
	// interest: when a source joins or leaves the group, connections in
	// progress may move to another source. Group ids are shared by every
	// process in the network namespace; FanoutGroupID picks one for this
	// process. 0 means no fanout: the source sees every packet. Only the
	// Linux AF_PACKET source has fanout; other builds fail with
	// ErrFanoutUnsupported.
	FanoutGroup uint16
}

// FanoutGroupID returns a fanout group id for the sources of this
// process: its process id folded into 16 bits, never 0. A socket that
// joins a group that another program made on the same interface in the
// same mode silently takes a share of that program's packets; an id from
// the process id keeps concurrent runs of this program apart, though it
// cannot rule out every other program.
func FanoutGroupID() uint16 {
	pid := uint32(os.Getpid())
	id := uint16(pid) ^ uint16(pid>>16)
	if id == 0 {
		id = 1 // 0 means no fanout
	}
	return id
}

// LiveStats are cumulative counters of a live source since it was opened.
type LiveStats struct {
	// Received counts the packets that passed the filter and were handed
	// to the capture socket, including those then dropped (libpcap's
	// ps_recv).
	Received uint64
	// KernelDropped counts packets lost because the capture buffer (the
	// ring) was full: the reader did not keep up.
	KernelDropped uint64
	// QueueFreezes counts how often the ring became full (AF_PACKET
	// TPACKET_V3 only); each freeze may have cost many packets.
	QueueFreezes uint64
	// InterfaceDropped counts packets dropped by the interface or its
	// driver, where the capture library reports it (libpcap's ps_ifdrop);
	// 0 where unknown.
	InterfaceDropped uint64
}

// Interface describes a network interface that can be captured on.
type Interface struct {
	Name        string
	Index       int // 0 for the "any" pseudo-interface
	Description string
	Up          bool // administratively up
	Running     bool // up with a carrier (link detected)
	Loopback    bool
	Addrs       []netip.Prefix
	Flags       string // as net.Flags prints them, e.g. "up|broadcast|running|multicast"
}

// normSnaplen applies the default and the upper bound to a snap length.
func normSnaplen(n int) (int, error) {
	switch {
	case n < 0:
		return 0, fmt.Errorf("invalid snap length %d", n)
	case n == 0 || n > MaxPacketSize:
		return MaxPacketSize, nil
	}
	return n, nil
}

// PermissionError reports that the process may not capture. Its message
// says what is missing and how to grant it.
type PermissionError struct {
	Interface  string
	Executable string // the program to grant the capabilities to
	Err        error  // the system's error, e.g. EPERM from socket(2)
}

func (e *PermissionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cannot capture on %q: %v: ", e.Interface, e.Err)
	switch runtime.GOOS {
	case "linux":
		b.WriteString("live capture needs root or the CAP_NET_RAW capability; grant it with: sudo setcap cap_net_raw,cap_net_admin=eip ")
	case "windows":
		b.WriteString("live capture needs Administrator rights (or Npcap installed without its admin-only option); run as Administrator: ")
	default:
		b.WriteString("live capture needs root or read access to the capture devices (/dev/bpf*); run it with: sudo ")
	}
	b.WriteString(e.Executable)
	return b.String()
}

// Unwrap makes both ErrPermission and the system error (thus also
// os.ErrPermission) match with errors.Is.
func (e *PermissionError) Unwrap() []error { return []error{ErrPermission, e.Err} }

// permissionError turns a lack of privilege (EPERM, EACCES) into a
// *PermissionError; any other error is returned as it is.
func permissionError(iface string, err error) error {
	if err == nil || !errors.Is(err, os.ErrPermission) {
		return err
	}
	exe, xerr := os.Executable()
	if xerr != nil {
		exe = "/path/to/tlsinspect"
	}
	return &PermissionError{Interface: iface, Executable: exe, Err: err}
}
