package packet

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// FlowHash reads the addresses and ports of a plain TCP or UDP packet
// without decoding it, and returns a hash of them that is the same in both
// directions, for spreading connections over workers. ok is false for
// anything it does not read (IP fragments, tunnels, MPLS, PPP, IPv6
// extension headers, other protocols, headers cut short): Decode such a
// packet to learn its flow. When ok, Decode finds the same addresses and
// ports or an error.
func FlowHash(lt layers.LinkType, data []byte) (hash uint64, ok bool) {
	version, off, ok := ipStart(lt, data)
	if !ok {
		return 0, false
	}
	return ipFlowHash(version, data[off:])
}

// ipStart finds where the IP header of a packet begins, and its version,
// for the link layers that FlowHash and Header.Read read by hand: Ethernet
// (VLAN tags skipped as Decoder.ether does), Linux SLL and SLL2, raw IP and
// BSD null/loopback. It refuses what gopacket's layers would reject, so
// that Decode agrees.
func ipStart(lt layers.LinkType, data []byte) (version byte, off int, ok bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		if len(data) < 14 {
			return 0, 0, false
		}
		et, off := binary.BigEndian.Uint16(data[12:14]), 14
		for tags := 0; isVLAN(et); tags++ {
			if tags == maxEncapsulation || len(data) < off+4 {
				return 0, 0, false
			}
			et, off = binary.BigEndian.Uint16(data[off+2:off+4]), off+4
		}
		return etherVersion(et), off, etherVersion(et) != 0
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 || binary.BigEndian.Uint16(data[4:6]) > 8 { // gopacket rejects longer addresses
			return 0, 0, false
		}
		v := etherVersion(binary.BigEndian.Uint16(data[14:16]))
		return v, 16, v != 0
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 || data[11] > 8 {
			return 0, 0, false
		}
		v := etherVersion(binary.BigEndian.Uint16(data[0:2]))
		return v, 20, v != 0
	case layers.LinkTypeRaw, 12, 14:
		if len(data) == 0 {
			return 0, 0, false
		}
		return data[0] >> 4, 0, true
	case layers.LinkTypeIPv4:
		return 4, 0, true
	case layers.LinkTypeIPv6:
		return 6, 0, true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(data) < 4 {
			return 0, 0, false
		}
		v := nullFamily(data)
		return v, 4, v != 0
	}
	return 0, 0, false
}

func isVLAN(et uint16) bool {
	switch layers.EthernetType(et) {
	case layers.EthernetTypeDot1Q, layers.EthernetTypeQinQ, 0x9100, 0x9200:
		return true
	}
	return false
}

// etherVersion is the IP version an EtherType carries, or 0.
func etherVersion(et uint16) byte {
	switch layers.EthernetType(et) {
	case layers.EthernetTypeIPv4:
		return 4
	case layers.EthernetTypeIPv6:
		return 6
	}
	return 0
}

// nullFamily is the IP version of a BSD null/loopback header's address
// family (at least 4 bytes), or 0. The family is in the byte order of the
// capturing host (NULL) or big endian (LOOP); real values are below 256.
func nullFamily(data []byte) byte {
	af := binary.LittleEndian.Uint32(data)
	if af > 0xffff {
		af = binary.BigEndian.Uint32(data)
	}
	switch af {
	case 2: // AF_INET everywhere
		return 4
	case 10, 23, 24, 28, 30: // AF_INET6: Linux, Windows, NetBSD/OpenBSD, FreeBSD, Darwin
		return 6
	}
	return 0
}

func ipFlowHash(version byte, data []byte) (uint64, bool) {
	var proto byte
	var a, b uint64 // the two endpoints' hashes
	switch version {
	case 4:
		if len(data) < 20 || data[0]>>4 != 4 {
			return 0, false
		}
		ihl := int(data[0]&0x0f) * 4
		if ihl < 20 || len(data) < ihl+4 {
			return 0, false
		}
		if binary.BigEndian.Uint16(data[6:8])&0x3fff != 0 { // MF or an offset: a fragment
			return 0, false
		}
		proto = data[9]
		ports := data[ihl:]
		a = hash4(binary.BigEndian.Uint32(data[12:16]), binary.BigEndian.Uint16(ports[0:2]))
		b = hash4(binary.BigEndian.Uint32(data[16:20]), binary.BigEndian.Uint16(ports[2:4]))
	case 6:
		if len(data) < 44 || data[0]>>4 != 6 {
			return 0, false
		}
		proto = data[6]
		ports := data[40:]
		a = hash16(binary.BigEndian.Uint64(data[8:16]), binary.BigEndian.Uint64(data[16:24]), binary.BigEndian.Uint16(ports[0:2]))
		b = hash16(binary.BigEndian.Uint64(data[24:32]), binary.BigEndian.Uint64(data[32:40]), binary.BigEndian.Uint16(ports[2:4]))
	default:
		return 0, false
	}
	if proto != byte(layers.IPProtocolTCP) && proto != byte(layers.IPProtocolUDP) {
		return 0, false
	}
	return combine(a, b, proto), true
}

// EndpointsHash is FlowHash for a segment or datagram Decode returned
// (proto is layers.IPProtocolTCP or UDP): the same value as FlowHash gives
// for the packets of that flow that it reads.
func EndpointsHash(proto layers.IPProtocol, src, dst netip.Addr, srcPort, dstPort uint16) uint64 {
	return combine(addrHash(src, srcPort), addrHash(dst, dstPort), byte(proto))
}

func addrHash(a netip.Addr, port uint16) uint64 {
	if a.Is4() {
		v := a.As4()
		return hash4(binary.BigEndian.Uint32(v[:]), port)
	}
	v := a.As16()
	return hash16(binary.BigEndian.Uint64(v[0:8]), binary.BigEndian.Uint64(v[8:16]), port)
}

func hash4(addr uint32, port uint16) uint64 { return mix64(uint64(addr)<<16 | uint64(port)) }

func hash16(hi, lo uint64, port uint16) uint64 {
	if hi == 0 && lo>>32 == 0xffff { // IPv4-mapped: Decode unmaps it
		return hash4(uint32(lo), port)
	}
	return mix64(hi ^ mix64(lo^uint64(port)))
}

// combine is the same whichever endpoint comes first.
func combine(a, b uint64, proto byte) uint64 { return mix64(a+b) ^ uint64(proto) }

// mix64 is SplitMix64's finalizer: every input bit affects every output bit.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
