package quic

import (
	"encoding/binary"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
)

// PacketType is the kind of a QUIC packet, independent of how the version
// encodes it on the wire.
type PacketType uint8

// Packet types. The first four are long-header types whose encoding depends
// on the version (RFC 9000 §17.2, RFC 9369 §3.2).
const (
	PacketInitial PacketType = iota + 1
	Packet0RTT
	PacketHandshake
	PacketRetry
	PacketVersionNegotiation // long header with version 0 (RFC 9000 §17.2.1)
	Packet1RTT               // short header (RFC 9000 §17.3)
	// PacketUnknownVersion is a long header of a version this package does
	// not know: only the version-independent fields (RFC 8999 §5.1) are
	// read, and it runs to the end of the datagram.
	PacketUnknownVersion
)

var packetTypeNames = [...]string{
	PacketInitial:            "Initial",
	Packet0RTT:               "0-RTT",
	PacketHandshake:          "Handshake",
	PacketRetry:              "Retry",
	PacketVersionNegotiation: "Version Negotiation",
	Packet1RTT:               "1-RTT",
	PacketUnknownVersion:     "unknown-version",
}

func (t PacketType) String() string {
	if int(t) < len(packetTypeNames) && packetTypeNames[t] != "" {
		return packetTypeNames[t]
	}
	return fmt.Sprintf("PacketType(%d)", uint8(t))
}

// Header form and fixed bits of the first byte (RFC 9000 §17.2, §17.3).
const (
	headerFormLong = 0x80
	fixedBit       = 0x40
)

// MaxConnectionIDLength is the longest connection ID QUIC versions 1 and 2
// allow (RFC 9000 §17.2); Version Negotiation packets may carry up to 255
// bytes, as other versions may use them (RFC 8999 §5.1).
const MaxConnectionIDLength = 20

// MinInitialDatagram is the least size of a UDP datagram carrying a
// client's Initial packet (RFC 9000 §14.1).
const MinInitialDatagram = 1200

// Packet is one QUIC packet of a datagram, with the fields its header
// carries in the clear. Byte slices alias the datagram. Header protection
// is still on: the packet number and the low bits of the first byte are
// read by Keys.Open.
type Packet struct {
	Type    PacketType
	Version Version // 0 for Version Negotiation and 1-RTT packets
	// FixedBit is the second bit of the first byte, which RFC 9000
	// requires to be 1 except in Version Negotiation packets (and when
	// both peers sent grease_quic_bit, RFC 9287).
	FixedBit bool
	DCID     []byte // for 1-RTT packets only after ParseShortHeader
	SCID     []byte // long headers only

	// Token is the Initial packet's token, or the Retry packet's Retry Token.
	Token []byte
	// RetryIntegrityTag is the last 16 bytes of a Retry packet.
	RetryIntegrityTag []byte
	// SupportedVersions is the list of a Version Negotiation packet.
	SupportedVersions []Version

	// Length is the Length field of Initial, 0-RTT and Handshake packets:
	// the bytes of packet number and protected payload.
	Length uint64
	// PNOffset is the offset in Raw of the protected packet number: after
	// Length for long headers, after the DCID for a 1-RTT packet parsed
	// with ParseShortHeader; 0 for packets without one.
	PNOffset int

	// Raw is the whole packet: for Initial, 0-RTT and Handshake packets up
	// to the end given by Length, for the others to the end of the datagram.
	Raw []byte
	// Offset is the packet's position in the datagram.
	Offset int
}

// Protected reports whether the packet has a packet number and payload
// protected by packet protection.
func (p *Packet) Protected() bool { return p.PNOffset > 0 }

// String summarises the header, for logs and test failures.
func (p *Packet) String() string {
	switch p.Type {
	case PacketVersionNegotiation:
		return fmt.Sprintf("Version Negotiation dcid=%x scid=%x versions=%v", p.DCID, p.SCID, p.SupportedVersions)
	case Packet1RTT:
		return fmt.Sprintf("1-RTT %d bytes", len(p.Raw))
	}
	return fmt.Sprintf("%s %v dcid=%x scid=%x %d bytes", p.Type, p.Version, p.DCID, p.SCID, len(p.Raw))
}

// SplitDatagram splits a UDP payload into its QUIC packets (RFC 9000 §12.2):
// any number of Initial, 0-RTT and Handshake packets, each as long as its
// Length field says, and then possibly one packet that runs to the end of
// the datagram (Retry, Version Negotiation, 1-RTT, or a long header of an
// unknown version). Zero bytes after the last packet (padding some
// implementations add outside any packet) are skipped.
//
// It returns the packets read so far and a *ParseError for the first
// packet whose header does not parse; the datagram is not otherwise
// checked to be QUIC (see IsLongHeader).
func SplitDatagram(datagram []byte) ([]Packet, error) {
	var packets []Packet
	off := 0
	for off < len(datagram) {
		b := datagram[off:]
		if off > 0 && allZero(b) {
			break
		}
		if b[0]&headerFormLong == 0 {
			if off > 0 && b[0]&fixedBit == 0 {
				return packets, parseErr("packet", "", off, "%d bytes after the last packet are not a QUIC packet", len(b))
			}
			packets = append(packets, Packet{Type: Packet1RTT, FixedBit: b[0]&fixedBit != 0, Raw: b, Offset: off})
			break
		}
		p, err := parseLongHeader(b)
		if err != nil {
			err.Offset += off
			return packets, err
		}
		p.Offset = off
		packets = append(packets, p)
		off += len(p.Raw)
	}
	return packets, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// ParseLongHeader parses the long-header packet at the start of b (RFC 9000
// §17.2, RFC 8999 §5.1). Packet.Raw is the packet alone: for Initial,
// 0-RTT and Handshake packets it ends where Length says, and b may hold
// more packets after it.
func ParseLongHeader(b []byte) (Packet, error) {
	p, err := parseLongHeader(b)
	if err != nil {
		return p, err
	}
	return p, nil
}

func parseLongHeader(b []byte) (Packet, *ParseError) {
	p := Packet{}
	what := "long-header packet"
	s := cryptobyte.String(b)
	off := func() int { return len(b) - len(s) }
	var first uint8
	var version uint32
	if !s.ReadUint8(&first) || first&headerFormLong == 0 {
		return p, parseErr(what, "", 0, "not a long header")
	}
	if !s.ReadUint32(&version) {
		return p, parseErr(what, "version", 1, "truncated: need 4 bytes, have %d", len(s))
	}
	p.Version = Version(version)
	p.FixedBit = first&fixedBit != 0
	params := versionParams(p.Version)
	switch {
	case p.Version == VersionNegotiation:
		p.Type = PacketVersionNegotiation
		what = "Version Negotiation packet"
	case params == nil:
		p.Type = PacketUnknownVersion
	default:
		p.Type = params.packetTypes[first>>4&3]
		what = p.Type.String() + " packet"
	}
	// Only versions 1 and 2 (and the drafts) limit connection IDs to 20 bytes.
	maxCID := 255
	if params != nil {
		maxCID = MaxConnectionIDLength
	}
	for _, f := range []struct {
		name string
		cid  *[]byte
	}{{"destination connection ID", &p.DCID}, {"source connection ID", &p.SCID}} {
		at := off()
		var cid cryptobyte.String
		if !s.ReadUint8LengthPrefixed(&cid) {
			return p, parseErr(what, f.name, at, "truncated")
		}
		if len(cid) > maxCID {
			return p, parseErr(what, f.name, at, "length %d exceeds %d", len(cid), maxCID)
		}
		*f.cid = cid
	}

	switch p.Type {
	case PacketVersionNegotiation:
		return p, readSupportedVersions(&p, b, s, off())
	case PacketUnknownVersion:
		p.Raw = b
		return p, nil
	case PacketRetry:
		if len(s) < 16 {
			return p, parseErr(what, "Retry Integrity Tag", off(), "truncated: need 16 bytes, have %d", len(s))
		}
		p.Token = s[:len(s)-16]
		p.RetryIntegrityTag = s[len(s)-16:]
		p.Raw = b
		return p, nil
	case PacketInitial:
		at := off()
		if why := readVarintBytes(&s, &p.Token); why != "" {
			return p, parseErr(what, "Token Length", at, "%s", why)
		}
	}
	at := off()
	if !readVarint(&s, &p.Length) {
		return p, parseErr(what, "Length", at, "truncated")
	}
	if p.Length > uint64(len(s)) {
		return p, parseErr(what, "Length", at, "length %d exceeds remaining %d", p.Length, len(s))
	}
	p.PNOffset = off()
	p.Raw = b[:p.PNOffset+int(p.Length)]
	return p, nil
}

// readSupportedVersions reads the version list that fills the rest of a
// Version Negotiation packet.
func readSupportedVersions(p *Packet, b, s []byte, at int) *ParseError {
	p.Raw = b
	if len(s) == 0 || len(s)%4 != 0 {
		return parseErr("Version Negotiation packet", "Supported Versions", at, "length %d is not a positive multiple of 4", len(s))
	}
	p.SupportedVersions = make([]Version, 0, len(s)/4)
	for ; len(s) >= 4; s = s[4:] {
		p.SupportedVersions = append(p.SupportedVersions, Version(binary.BigEndian.Uint32(s)))
	}
	return nil
}

// ParseShortHeader reads a 1-RTT packet's header (RFC 9000 §17.3). The
// header does not say how long the Destination Connection ID is: dcidLen
// is the length of the connection IDs the receiver issued, which an
// observer learns from the handshake (the SCID of the receiver's long
// headers).
func ParseShortHeader(b []byte, dcidLen int) (Packet, error) {
	p := Packet{Type: Packet1RTT, Raw: b}
	if len(b) == 0 || b[0]&headerFormLong != 0 {
		return p, parseErr("1-RTT packet", "", 0, "not a short header")
	}
	if dcidLen < 0 || dcidLen > MaxConnectionIDLength || 1+dcidLen > len(b) {
		return p, parseErr("1-RTT packet", "destination connection ID", 1, "length %d does not fit %d bytes", dcidLen, len(b)-1)
	}
	p.FixedBit = b[0]&fixedBit != 0
	p.DCID = b[1 : 1+dcidLen]
	p.PNOffset = 1 + dcidLen
	return p, nil
}

// IsLongHeader reports whether a UDP payload starts with a QUIC long-header
// packet that this package recognises, strictly enough that other UDP
// protocols are rarely taken for QUIC: a supported version (v1, v2,
// draft-29) with the fixed bit set, connection IDs of at most 20 bytes and,
// for Initial, 0-RTT and Handshake packets, a Length that fits the
// datagram; or a Version Negotiation packet whose list is non-empty, whole,
// and does not contain version 0 itself.
func IsLongHeader(datagram []byte) bool {
	_, ok := recognise(datagram)
	return ok
}

// IsClientInitial reports whether a UDP payload looks like the first
// datagram of a client's connection attempt: a recognised long header
// (IsLongHeader) that is an Initial packet, in a datagram of at least 1200
// bytes, with a Destination Connection ID of at least 8 bytes (RFC 9000
// §7.2, §14.1). It is how an observer tells which side is the client.
func IsClientInitial(datagram []byte) bool {
	if len(datagram) < MinInitialDatagram {
		return false // most UDP payloads, before any parsing
	}
	p, ok := recognise(datagram)
	return ok && p.Type == PacketInitial && len(p.DCID) >= 8
}

// recognise parses the first packet of a datagram and applies the rules of
// IsLongHeader.
func recognise(datagram []byte) (Packet, bool) {
	p, err := parseLongHeader(datagram)
	if err != nil {
		return p, false
	}
	switch p.Type {
	case PacketVersionNegotiation:
		return p, !slices.Contains(p.SupportedVersions, VersionNegotiation)
	case PacketUnknownVersion:
		return p, false
	}
	return p, p.FixedBit
}
