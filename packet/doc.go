// Package packet decodes captured packets down to TCP segments: link layer,
// IPv4 or IPv6 (fragments reassembled), TCP.
//
// Link types: Ethernet (with any number of stacked 802.1Q / 802.1ad tags,
// MPLS, and PPPoE sessions inside), Linux cooked captures SLL (113) and SLL2
// (276), raw IP (101, and the 12 and 14 some systems use), IPv4 (228) and
// IPv6 (229), BSD loopback NULL (0, address family in either byte order)
// and LOOP (108), PPP (9), PPP in HDLC framing (50) and Cisco HDLC (104).
// IP-in-IP (IPv4 or IPv6 inside IPv4 or IPv6) is unwrapped.
//
// A Decoder reuses its gopacket layer values (DecodeFromBytes) for every
// packet, so decoding a packet that is not a fragment allocates nothing.
// The Segment it returns points into the packet's bytes and into the
// Decoder: it is valid until the next call to Decode.
//
// Decode returns ok=false and no error for packets that carry no TCP (ARP,
// UDP, ICMP, …) and for IP fragments still waiting for the rest of their
// datagram. Malformed packets give an error that names the packet and what
// is wrong ("packet 12: IPv4 header length 3 < 5"). A panic inside a
// gopacket decoder is turned into an error. Checksums are not verified
// (capture hosts offload them).
//
// Fragments are reassembled with gopacket's ip4defrag and ip6defrag. The
// bytes held for incomplete datagrams are bounded (MaxPendingFragmentBytes);
// datagrams still incomplete FragmentTimeout of capture time after the
// first fragment was held are given up.
package packet
