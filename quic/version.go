package quic

import "fmt"

// Version is a QUIC version number as it appears in a long header.
type Version uint32

// Versions this package knows.
const (
	// VersionNegotiation is not a version: a long header with version 0 is
	// a Version Negotiation packet (RFC 9000 §17.2.1).
	VersionNegotiation Version = 0
	Version1           Version = 0x00000001 // RFC 9000
	Version2           Version = 0x6b3343cf // RFC 9369
	VersionDraft29     Version = 0xff00001d // draft-ietf-quic-transport-29, still seen from old clients
)

// String names the version: "v1", "v2", "draft-29", "negotiation", or its
// hex value, marked when it is a reserved (GREASE) version.
func (v Version) String() string {
	switch v {
	case VersionNegotiation:
		return "negotiation"
	case Version1:
		return "v1"
	case Version2:
		return "v2"
	case VersionDraft29:
		return "draft-29"
	}
	if v.Reserved() {
		return fmt.Sprintf("0x%08x (reserved)", uint32(v))
	}
	return fmt.Sprintf("0x%08x", uint32(v))
}

// Reserved reports whether v is one of the versions of the form
// 0x?a?a?a?a that RFC 9000 §15 reserves to exercise version negotiation.
func (v Version) Reserved() bool { return v&0x0f0f0f0f == 0x0a0a0a0a }

// Supported reports whether this package can parse and decrypt packets of
// version v.
func (v Version) Supported() bool { return versionParams(v) != nil }

// versionParameters is what differs between the versions this package
// decrypts: the Initial salt, the HKDF labels, the Retry integrity key and
// nonce, and the encoding of the long-header packet types.
type versionParameters struct {
	initialSalt []byte
	// keyLabel, ivLabel and hpLabel derive packet protection keys from a
	// secret (RFC 9001 §5.1; RFC 9369 §3.3.2).
	keyLabel, ivLabel, hpLabel string
	retryKey, retryNonce       []byte
	// packetTypes maps the two type bits of the first byte to a type.
	packetTypes [4]PacketType
}

var (
	// typesV1 is the RFC 9000 §17.2 encoding, also used by draft-29.
	typesV1 = [4]PacketType{PacketInitial, Packet0RTT, PacketHandshake, PacketRetry}
	// typesV2 is the RFC 9369 §3.2 encoding.
	typesV2 = [4]PacketType{PacketRetry, PacketInitial, Packet0RTT, PacketHandshake}

	paramsV1 = &versionParameters{
		initialSalt: []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
		keyLabel:    "quic key", ivLabel: "quic iv", hpLabel: "quic hp",
		retryKey:    []byte{0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e},
		retryNonce:  []byte{0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb},
		packetTypes: typesV1,
	}
	paramsV2 = &versionParameters{
		initialSalt: []byte{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
		keyLabel:    "quicv2 key", ivLabel: "quicv2 iv", hpLabel: "quicv2 hp",
		retryKey:    []byte{0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2, 0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92},
		retryNonce:  []byte{0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a},
		packetTypes: typesV2,
	}
	paramsDraft29 = &versionParameters{
		initialSalt: []byte{0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99},
		keyLabel:    "quic key", ivLabel: "quic iv", hpLabel: "quic hp",
		retryKey:    []byte{0xcc, 0xce, 0x18, 0x7e, 0xd0, 0x9a, 0x09, 0xd0, 0x57, 0x28, 0x15, 0x5a, 0x6c, 0xb9, 0x6b, 0xe1},
		retryNonce:  []byte{0xe5, 0x49, 0x30, 0xf9, 0x7f, 0x21, 0x36, 0xf0, 0x53, 0x0a, 0x8c, 0x1c},
		packetTypes: typesV1,
	}
)

// versionParams returns the parameters of a supported version, or nil.
func versionParams(v Version) *versionParameters {
	switch v {
	case Version1:
		return paramsV1
	case Version2:
		return paramsV2
	case VersionDraft29:
		return paramsDraft29
	}
	return nil
}
