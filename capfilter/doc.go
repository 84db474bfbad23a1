// Package capfilter compiles tcpdump-style capture filters, a common
// subset of pcap-filter(7), to classic BPF: attached to a Linux AF_PACKET
// socket for live capture, so that unwanted packets never reach user space,
// and run in user space (bpf.VM) on packets read from capture files. An
// expression outside the subset is refused with an error that names the
// unsupported part and its offset; nothing is silently ignored. A filter
// beyond the subset can be compiled with tcpdump -ddd and loaded with
// ParseDDD and NewProgramMatcher.
//
// # Supported subset
//
// Primitives, with the meaning tcpdump gives them:
//
//	host H               IPv4 or IPv6 address H as source or destination;
//	                     an IPv4 H also matches ARP/RARP sender and target
//	src host H, dst host H, src or dst host H, src and dst host H
//	src H, dst H         short for src host H, dst host H
//	ip host H, ip6 host H  (ip: no ARP)
//	net N/LEN            network: IPv4 (N may be abbreviated: "net 10" is
//	                     10.0.0.0/8, "net 172.16" 172.16.0.0/16) or IPv6
//	net N mask M         IPv4 only; also with src, dst, ip, ip6
//	port P               TCP, UDP or SCTP source or destination port P,
//	                     over IPv4 and IPv6; also src/dst port P
//	tcp port P, udp port P, tcp src port P...
//	portrange A-B        ports A to B inclusive; same qualifiers as port
//	tcp, udp             over IPv4 or IPv6
//	ip, ip6              the network protocol
//	vlan, vlan ID        an 802.1Q/802.1ad tag (TPID 0x8100, 0x88a8 or
//	                     0x9100), with VLAN ID 0-4095
//
// Operators: "and" or "&&", "or" or "||", "not" or "!", parentheses. As in
// pcap-filter, "not" binds tightest, and "and" and "or" have equal
// precedence and group from the left: "a or b and c" is "(a or b) and c".
// A bare value after and/or repeats the previous qualifier: "host a or b"
// is "host a or host b", "tcp port 443 or 8443" is "tcp port 443 or tcp
// port 8443"; so does a parenthesized list, "host (a or b)". The empty
// expression matches every packet.
//
// Addresses are literals: host and network names are not resolved. Port
// numbers are decimal (no service names; tcpdump would read a leading 0 as
// octal, so that is refused too).
//
// Semantics that follow tcpdump:
//   - port and portrange look at the first IPv4 fragment only (fragment
//     offset 0), and at IPv6 only when TCP, UDP or SCTP follows the fixed
//     header directly (extension headers are not walked); tcp and udp look
//     through one IPv6 fragment header.
//   - vlan moves the offsets of every primitive after it in the text by 4
//     bytes, whatever the operators: "vlan and port 443" tests the port of
//     tagged frames, "port 443 or vlan" of untagged ones. vlan is
//     supported on Ethernet only (and on a live cooked socket, below).
//
// # Targets
//
// Compile supports the link types Ethernet (1), Linux SLL (113) and SLL2
// (276), raw IP (101, 12, 14: IPv4 or IPv6 by the version nibble; 228 IPv4,
// 229 IPv6) and BSD loopback: Null (0, a 4-byte address family in the
// capturing host's byte order, both orders accepted; AF_INET6 is 24, 28 or
// 30) and Loop (108, network byte order). For a live Linux socket
// (Target.Live) on Ethernet, the kernel has taken the outer VLAN tag out of
// the frame: vlan reads it with the ancillary loads SKF_AD_VLAN_TAG_PRESENT
// and SKF_AD_VLAN_TAG and primitives after it keep their offsets; a frame
// whose tag is still inline is tested as in a file. A Cooked target is a
// SOCK_DGRAM socket (Linux "any"): the data starts at the network header
// and the EtherType is read with SKF_AD_PROTOCOL; vlan tests the
// out-of-band tag only and moves no offsets. Live programs need the kernel: bpf.VM cannot run
// ancillary loads, so Matcher compiles for files.
//
// A test that reads past the captured bytes of a packet rejects it, as in
// any BPF program. tcpdump's optimizer may order the loads differently, so
// a packet cut short by the snap length inside the headers that a filter
// reads can get a different verdict from tcpdump; complete packets get the
// same.
//
// Limits: expressions up to MaxExprLen bytes, programs up to
// MaxInstructions (the kernel's BPF_MAXINSNS). Conditional jumps whose
// 8-bit offsets would overflow go through unconditional jumps.
package capfilter
