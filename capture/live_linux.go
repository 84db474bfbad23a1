//go:build linux && !pcap

package capture

import (
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Ring geometry. A TPACKET_V3 ring is made of blocks that the kernel fills
// with packets back to back and hands over whole, when full or after the
// block timeout. 32 blocks of 1 MiB (32 MiB in all, allocated by the kernel
// and mapped into the process) absorb a burst of about a quarter of a second
// at 1 Gbit/s while the reader is busy; a block holds at least three packets
// of the largest snap length, and hundreds of typical ones.
const (
	ringBlockSize = 1 << 20
	ringBlocks    = 32
	// frameOverhead bounds what the kernel puts before the packet in its
	// slot: tpacket3_hdr, sockaddr_ll and padding to align the network
	// header (TPACKET_ALIGN(68+16) + a link header of up to 64 bytes).
	frameOverhead = 256
	// maxBPFInstructions is the kernel's BPF_MAXINSNS.
	maxBPFInstructions = 4096
)

// liveReadTimeout bounds how long Next waits before it returns
// ErrNoPacket, so that the caller regularly gets control back.
const liveReadTimeout = 100 * time.Millisecond

// LiveSource captures packets from a network interface through a
// memory-mapped AF_PACKET (TPACKET_V3) socket of its own. Sources opened
// with the same LiveConfig.FanoutGroup share the interface's packets
// instead, each connection going to one of them; each has its own socket
// and ring, so each is read by its own goroutine.
//
// Next and Close must be called from one goroutine (the Data of a packet
// points into the ring that Close unmaps); Stats may be called from
// another. To stop a capture from elsewhere, signal the reading goroutine:
// Next returns at least every 100 ms.
type LiveSource struct {
	tp       *afpacket.TPacket
	iface    string
	linkType layers.LinkType
	snaplen  int
	n        int   // packets returned
	err      error // sticky read error

	statsMu sync.Mutex
	// afpacket sums the kernel counters (which reset on every read) into
	// uint32s; last and total turn them into uint64s, provided they are
	// read before 2^32 packets go by: refreshStats is also called from
	// Next, every statsEvery packets and whenever the link is idle.
	last  [3]uint32 // received, dropped, freezes as afpacket last reported them
	total [3]uint64 // since open, less what was discarded at open
}

const statsEvery = 1 << 16

// socket describes how an interface is captured on.
type socket struct {
	ifindex  int   // 0 for "any"
	cooked   bool  // SOCK_DGRAM: data starts at the network header
	loopback bool  // a named loopback interface: drop every outgoing copy
	loIndex  []int // "any": the loopback interfaces whose outgoing copies are dropped
	linkType layers.LinkType
}

// OpenLive starts capturing on an interface. With a filter (or on
// loopback, "any" and cooked interfaces, which always have one) it takes
// about 100 ms, and the first packet delivered already obeys the filter.
func OpenLive(cfg LiveConfig) (*LiveSource, error) {
	return openLive(cfg, true)
}

// openLive is OpenLive; dropLoopbackDups false keeps the outgoing copies
// on loopback, for the test that shows they exist.
func openLive(cfg LiveConfig, dropLoopbackDups bool) (*LiveSource, error) {
	snaplen, err := normSnaplen(cfg.Snaplen)
	if err != nil {
		return nil, err
	}
	blockTimeout := cfg.BlockTimeout
	switch {
	case blockTimeout == 0:
		blockTimeout = DefaultBlockTimeout
	case blockTimeout < time.Millisecond:
		return nil, fmt.Errorf("block timeout %v too short: the kernel counts it in milliseconds", blockTimeout)
	}
	sk, err := socketFor(cfg.Interface)
	if err != nil {
		return nil, err
	}
	if !dropLoopbackDups {
		sk.loopback, sk.loIndex = false, nil
	}
	var user []bpf.RawInstruction
	if cfg.Filter != nil {
		if user, err = cfg.Filter(sk.linkType, sk.cooked); err != nil {
			return nil, err
		}
	}
	prog, filtering, err := buildProgram(sk, user, snaplen)
	if err != nil {
		return nil, fmt.Errorf("capture filter for %q: %w", cfg.Interface, err)
	}

	opts := []any{
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		afpacket.OptFrameSize(frameSize(snaplen)),
		afpacket.OptBlockSize(ringBlockSize),
		afpacket.OptNumBlocks(ringBlocks),
		afpacket.OptBlockTimeout(blockTimeout),
		afpacket.OptPollTimeout(liveReadTimeout),
	}
	if sk.ifindex != 0 {
		opts = append(opts, afpacket.OptInterface(cfg.Interface))
	}
	if sk.cooked {
		opts = append(opts, afpacket.OptSocketType(afpacket.SocketDgram))
	} else {
		// The kernel strips 802.1Q tags (VLAN offload); put them back so
		// the decoder sees the frame as it was on the wire. Only for
		// Ethernet: in cooked mode there is no header to put them into.
		opts = append(opts, afpacket.OptAddVLANHeader(true))
	}
	tp, err := afpacket.NewTPacket(opts...)
	if err != nil {
		return nil, openError(cfg.Interface, err)
	}
	s := &LiveSource{tp: tp, iface: cfg.Interface, linkType: sk.linkType, snaplen: snaplen}
	if err := s.start(cfg, sk, prog, filtering, blockTimeout); err != nil {
		tp.Close()
		return nil, err
	}
	return s, nil
}

// start sets promiscuous mode and the filter on a new socket.
func (s *LiveSource) start(cfg LiveConfig, sk socket, prog []bpf.RawInstruction, filtering bool, blockTimeout time.Duration) error {
	var attached time.Time
	if filtering {
		// The socket has been receiving into its ring since it was bound,
		// unfiltered. Stop that before anything else, then discard what
		// got in, so that the first packet returned obeys the filter.
		if err := s.tp.SetBPF(rejectAll); err != nil {
			return fmt.Errorf("capture on %q: attaching filter: %w", cfg.Interface, err)
		}
		attached = time.Now()
	}
	if cfg.Promiscuous && sk.ifindex != 0 {
		if err := s.tp.SetPromiscuous(true); err != nil {
			if perr := permissionError(cfg.Interface, err); perr != err {
				return perr
			}
			return fmt.Errorf("capture on %q: setting promiscuous mode: %w", cfg.Interface, err)
		}
	}
	if filtering {
		if err := s.discardUnfiltered(attached, blockTimeout); err != nil {
			return fmt.Errorf("capture on %q: discarding packets received before the filter: %w", cfg.Interface, err)
		}
	}
	if err := s.tp.SetBPF(prog); err != nil {
		return fmt.Errorf("capture on %q: attaching filter (%d instructions): %w", cfg.Interface, len(prog), err)
	}
	if cfg.FanoutGroup != 0 {
		// Last: the group hands a packet to one member, and a member
		// whose filter still rejects everything (or that is draining
		// its ring) would lose it for all. Until the join the socket
		// gets the packets of every connection; the few that arrive in
		// between may be seen by another member too.
		if err := joinFanout(s.tp, cfg.FanoutGroup); err != nil {
			return fanoutError(cfg.Interface, cfg.FanoutGroup, err)
		}
	}
	return nil
}

// fanoutMode is the fanout mode of LiveConfig.FanoutGroup: a symmetric
// flow hash, computed on reassembled IPv4 datagrams.
const fanoutMode = unix.PACKET_FANOUT_HASH | unix.PACKET_FANOUT_FLAG_DEFRAG

// joinFanout makes the socket of tp a member of a fanout group. It does
// not use gopacket's SetFanout, which passes the option as a Go int: 8
// bytes on 64-bit systems, which kernels before 5.11 reject with EINVAL
// (they take exactly a C int) and big-endian ones misread.
func joinFanout(tp *afpacket.TPacket, group uint16) error {
	fd, err := tpacketFD(tp)
	if err != nil {
		return err
	}
	opt := uint32(fanoutMode)<<16 | uint32(group)
	return unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, int(int32(opt)))
}

// tpacketFD returns the socket of tp, which gopacket keeps in its
// unexported field fd. TestTPacketFDField fails if a new gopacket
// version changes that field.
func tpacketFD(tp *afpacket.TPacket) (int, error) {
	f := reflect.ValueOf(tp).Elem().FieldByName("fd")
	if f.Kind() != reflect.Int {
		return -1, errors.New("gopacket's afpacket.TPacket has no field fd: cannot reach its socket")
	}
	return int(f.Int()), nil
}

// fanoutError explains a failure to join a fanout group.
func fanoutError(iface string, group uint16, err error) error {
	if errors.Is(err, unix.EINVAL) {
		// The kernel's only reason with a valid mode: the group
		// exists for another interface, protocol or mode.
		return fmt.Errorf("capture on %q: joining fanout group %d: %w (the group exists on another interface or in another mode, perhaps made by another program)", iface, group, err)
	}
	return fmt.Errorf("capture on %q: joining fanout group %d: %w", iface, group, err)
}

// discardUnfiltered reads and drops what reached the ring before the
// reject-all filter was attached at since. Nothing new is accepted
// meanwhile, but the kernel hands over the block it is filling only when
// the block times out, so this waits for that (with slack for the
// kernel's timer) even when the ring is empty: with a filter, OpenLive
// takes about 100 ms. Counting the packets to discard (PACKET_STATISTICS)
// does not work: gopacket clears the counters after the ring is set up,
// and packets that came in before that would slip through.
func (s *LiveSource) discardUnfiltered(since time.Time, blockTimeout time.Duration) error {
	handedOver := since.Add(blockTimeout + blockTimeout/2 + 20*time.Millisecond)
	for {
		_, _, err := s.tp.ZeroCopyReadPacketData()
		switch {
		case err == nil:
		case errors.Is(err, afpacket.ErrTimeout):
			if time.Now().After(handedOver) {
				// Stats counts only what the real filter passes.
				s.refreshStats()
				s.statsMu.Lock()
				s.total = [3]uint64{}
				s.statsMu.Unlock()
				return nil
			}
		default:
			return err
		}
	}
}

// socketFor decides the socket type and link type for an interface.
func socketFor(name string) (socket, error) {
	if name == AnyInterface {
		ifs, err := net.Interfaces()
		if err != nil {
			return socket{}, fmt.Errorf("listing network interfaces: %w", err)
		}
		sk := socket{cooked: true, linkType: layers.LinkTypeRaw}
		for _, ifi := range ifs {
			if ifi.Flags&net.FlagLoopback != 0 {
				sk.loIndex = append(sk.loIndex, ifi.Index)
			}
		}
		return sk, nil
	}
	ifi, err := lookupInterface(name)
	if err != nil {
		return socket{}, err
	}
	typ, err := hardwareType(name)
	if err != nil {
		return socket{}, fmt.Errorf("interface %q: reading its hardware type: %w", name, err)
	}
	switch typ {
	case unix.ARPHRD_ETHER:
		return socket{ifindex: ifi.Index, linkType: layers.LinkTypeEthernet}, nil
	case unix.ARPHRD_LOOPBACK:
		// Linux loopback frames carry an Ethernet header of zeros.
		return socket{ifindex: ifi.Index, loopback: true, linkType: layers.LinkTypeEthernet}, nil
	}
	// tun, WireGuard (ARPHRD_NONE), PPP, GRE, IPIP, ...: no Ethernet
	// header, or one the decoder would not understand. Cooked capture
	// hands over the packet from the IP header on.
	return socket{ifindex: ifi.Index, cooked: true, linkType: layers.LinkTypeRaw}, nil
}

// hardwareType returns the ARPHRD_* type of an interface, the value of
// /sys/class/net/NAME/type. It asks the kernel (SIOCGIFHWADDR) rather than
// sysfs, which shows the network namespace that mounted it, not the
// caller's, and is missing in some containers.
func hardwareType(name string) (uint16, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, err
	}
	return ifr.Uint16(), nil // ifr_hwaddr.sa_family
}

// frameSize is the ring's frame size for a snap length: a power of two
// (so it divides the block size) with room for the kernel's headers.
// TPACKET_V3 packs packets by their real size, but some kernels still cap
// a packet at the frame size.
func frameSize(snaplen int) int {
	n := 2048
	for n < snaplen+frameOverhead {
		n *= 2
	}
	return min(n, ringBlockSize)
}

// openError describes a failure to create the capture socket.
func openError(iface string, err error) error {
	if perr := permissionError(iface, err); perr != err {
		return perr
	}
	return fmt.Errorf("capture on %q: %w", iface, err)
}

// rejectAll is the filter attached while the ring is emptied at open.
var rejectAll = []bpf.RawInstruction{{Op: unix.BPF_RET | unix.BPF_K, K: 0}}

// buildProgram puts in front of the user's program the instructions that
// drop what this package never delivers:
//
//   - in cooked mode, everything but IPv4 and IPv6 (ARP and the like),
//     tested on the EtherType that the kernel keeps in skb->protocol;
//   - on loopback, the outgoing copy of every packet (PACKET_OUTGOING),
//     which is seen once sent and once received, as libpcap does; for
//     "any", only when the interface is a loopback one. gopacket's
//     afpacket does not report sll_pkttype, so this must be done here.
//
// Classic BPF jumps are relative and only forward, so the user's program
// runs unchanged after the prefix; the prefix resets A and X to 0 before
// it, as the kernel does at the start of a program. Constant returns
// above the snap length are lowered to it so that the kernel copies no
// more than that into the ring. filtering reports whether the program
// drops anything.
func buildProgram(sk socket, user []bpf.RawInstruction, snaplen int) (prog []bpf.RawInstruction, filtering bool, err error) {
	if user != nil && len(user) == 0 {
		return nil, false, errors.New("empty filter program (return nil to accept everything)")
	}
	var pre []bpf.Instruction
	reject := bpf.RetConstant{Val: 0}
	if sk.cooked {
		pre = append(pre,
			bpf.LoadExtension{Num: bpf.ExtProto},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.ETH_P_IP, SkipTrue: 2},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.ETH_P_IPV6, SkipTrue: 1},
			reject,
		)
	}
	switch {
	case sk.loopback:
		pre = append(pre,
			bpf.LoadExtension{Num: bpf.ExtType},
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: unix.PACKET_OUTGOING, SkipTrue: 1},
			reject,
		)
	case len(sk.loIndex) > 0:
		// ld ifindex; jeq lo1, drop-if-outgoing; ...; ja on;
		// drop-if-outgoing: ld pkttype; jneq OUTGOING, on; ret 0; on:
		n := len(sk.loIndex)
		pre = append(pre, bpf.LoadExtension{Num: bpf.ExtInterfaceIndex})
		for i, idx := range sk.loIndex {
			pre = append(pre, bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(idx), SkipTrue: uint8(n - i)})
		}
		pre = append(pre,
			bpf.Jump{Skip: 3},
			bpf.LoadExtension{Num: bpf.ExtType},
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: unix.PACKET_OUTGOING, SkipTrue: 1},
			reject,
		)
	}
	filtering = len(pre) > 0 || user != nil
	if user == nil {
		pre = append(pre, bpf.RetConstant{Val: uint32(snaplen)})
	} else if len(pre) > 0 {
		pre = append(pre,
			bpf.LoadConstant{Dst: bpf.RegA, Val: 0},
			bpf.LoadConstant{Dst: bpf.RegX, Val: 0},
		)
	}
	if len(pre)+len(user) > maxBPFInstructions {
		return nil, false, fmt.Errorf("program too long: %d instructions, of which %d added by the capture, the kernel allows %d",
			len(pre)+len(user), len(pre), maxBPFInstructions)
	}
	prog, err = bpf.Assemble(pre)
	if err != nil {
		return nil, false, err
	}
	for _, ins := range user {
		if ins.Op == unix.BPF_RET|unix.BPF_K && ins.K > uint32(snaplen) {
			ins.K = uint32(snaplen)
		}
		prog = append(prog, ins)
	}
	return prog, filtering, nil
}

// Next returns the next packet. ErrNoPacket means that none arrived within
// about 100 ms. Data is valid until the next call to Next or Close.
func (s *LiveSource) Next() (Packet, error) {
	if s.err != nil {
		return Packet{}, s.err
	}
	if s.tp == nil {
		return Packet{}, io.EOF
	}
	data, ci, err := s.tp.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, afpacket.ErrTimeout) {
			// Idle: a good time to fold the kernel counters in.
			s.refreshStats()
			return Packet{}, ErrNoPacket
		}
		s.err = s.readError(err)
		return Packet{}, s.err
	}
	s.n++
	if s.n%statsEvery == 0 {
		s.refreshStats()
	}
	if len(data) > s.snaplen {
		// The filter's return value was above the snap length.
		data = data[:s.snaplen]
	}
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

// readError explains a failure to read. The kernel reports POLLERR
// (ENETDOWN, its only error on a packet socket) when the interface goes
// down or is removed, and keeps doing so: the capture cannot go on.
func (s *LiveSource) readError(err error) error {
	if errors.Is(err, afpacket.ErrPoll) {
		return fmt.Errorf("capture on %q: %w: it went down or was removed", s.iface, ErrInterfaceDown)
	}
	return fmt.Errorf("capture on %q: %w", s.iface, err)
}

// refreshStats folds the kernel's counters into the uint64 totals. The
// lock also keeps Close from releasing the socket under a concurrent Stats.
func (s *LiveSource) refreshStats() error {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.tp == nil {
		return nil
	}
	_, v3, err := s.tp.SocketStats()
	if err != nil {
		return err
	}
	now := [3]uint32{uint32(v3.Packets()), uint32(v3.Drops()), uint32(v3.QueueFreezes())}
	for i := range now {
		s.total[i] += uint64(now[i] - s.last[i]) // modular: correct across a wrap
	}
	s.last = now
	return nil
}

// LinkType is the link type of every packet: Ethernet, or Raw (IPv4/IPv6)
// for "any" and interfaces without an Ethernet header.
func (s *LiveSource) LinkType() layers.LinkType { return s.linkType }

// Interface is the name of the captured interface.
func (s *LiveSource) Interface() string { return s.iface }

// Stats returns the kernel's counters since the source was opened.
func (s *LiveSource) Stats() (LiveStats, error) {
	if err := s.refreshStats(); err != nil {
		return LiveStats{}, fmt.Errorf("capture on %q: reading statistics: %w", s.iface, err)
	}
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return LiveStats{Received: s.total[0], KernelDropped: s.total[1], QueueFreezes: s.total[2]}, nil
}

// Close stops the capture and releases the ring. Next then returns io.EOF;
// Stats still reports the final counts.
func (s *LiveSource) Close() error {
	if s.tp == nil {
		return nil
	}
	s.refreshStats()
	s.statsMu.Lock()
	s.tp.Close()
	s.tp = nil
	s.statsMu.Unlock()
	return nil
}

// ListInterfaces lists the interfaces that can be captured on, with their
// addresses and state, and the pseudo-interface "any" last.
func ListInterfaces() ([]Interface, error) {
	return netInterfaces(true)
}

// lookupInterface finds a named interface and checks that it is up.
func lookupInterface(name string) (*net.Interface, error) {
	if name == "" {
		return nil, fmt.Errorf("no interface given (use %q for all interfaces)", AnyInterface)
	}
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		if names, lerr := interfaceNames(); lerr == nil && !slices.Contains(names, name) {
			return nil, fmt.Errorf("%w %q; available interfaces: %s (tlsinspect -D lists them with their addresses)", ErrNoInterface, name, strings.Join(names, ", "))
		}
		return nil, fmt.Errorf("interface %q: %w", name, err)
	}
	if ifi.Flags&net.FlagUp == 0 {
		return nil, fmt.Errorf("cannot capture on %q: %w (bring it up first, e.g. ip link set %s up)", name, ErrInterfaceDown, name)
	}
	return ifi, nil
}

// interfaceNames lists the names that OpenLive accepts, sorted, "any" first.
func interfaceNames() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ifs))
	for _, ifi := range ifs {
		names = append(names, ifi.Name)
	}
	sort.Strings(names)
	return append([]string{AnyInterface}, names...), nil
}
