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
	switch lt {
	case layers.LinkTypeEthernet:
		if len(data) < 14 {
			return 0, false
		}
		return etherFlowHash(binary.BigEndian.Uint16(data[12:14]), data[14:])
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return 0, false
		}
		return etherFlowHash(binary.BigEndian.Uint16(data[14:16]), data[16:])
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return 0, false
		}
		return etherFlowHash(binary.BigEndian.Uint16(data[0:2]), data[20:])
	case layers.LinkTypeRaw, 12, 14:
		if len(data) == 0 {
			return 0, false
		}
		return ipFlowHash(data[0]>>4, data)
	case layers.LinkTypeIPv4:
		return ipFlowHash(4, data)
	case layers.LinkTypeIPv6:
		return ipFlowHash(6, data)
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(data) < 4 {
			return 0, false
		}
		af := binary.LittleEndian.Uint32(data) // as Decoder.link reads it
		if af > 0xffff {
			af = binary.BigEndian.Uint32(data)
		}
		switch af {
		case 2:
			return ipFlowHash(4, data[4:])
		case 10, 23, 24, 28, 30:
			return ipFlowHash(6, data[4:])
		}
	}
	return 0, false
}

// etherFlowHash skips VLAN tags as Decoder.ether does.
func etherFlowHash(et uint16, data []byte) (uint64, bool) {
	for range maxEncapsulation {
		switch layers.EthernetType(et) {
		case layers.EthernetTypeIPv4:
			return ipFlowHash(4, data)
		case layers.EthernetTypeIPv6:
			return ipFlowHash(6, data)
		case layers.EthernetTypeDot1Q, layers.EthernetTypeQinQ, 0x9100, 0x9200:
			if len(data) < 4 {
				return 0, false
			}
			et, data = binary.BigEndian.Uint16(data[2:4]), data[4:]
		default:
			return 0, false
		}
	}
	return 0, false
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
