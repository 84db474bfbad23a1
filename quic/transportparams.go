package quic

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// TLS extension types that carry QUIC transport parameters.
const (
	ExtensionQUICTransportParameters      uint16 = 0x39   // 57, RFC 9001 §8.2
	ExtensionQUICTransportParametersDraft uint16 = 0xffa5 // drafts before 33, still sent by some clients
)

// Transport parameter IDs (RFC 9000 §18.2 and the registry's extensions).
const (
	ParamOriginalDestinationConnectionID uint64 = 0x00
	ParamMaxIdleTimeout                  uint64 = 0x01
	ParamStatelessResetToken             uint64 = 0x02
	ParamMaxUDPPayloadSize               uint64 = 0x03
	ParamInitialMaxData                  uint64 = 0x04
	ParamInitialMaxStreamDataBidiLocal   uint64 = 0x05
	ParamInitialMaxStreamDataBidiRemote  uint64 = 0x06
	ParamInitialMaxStreamDataUni         uint64 = 0x07
	ParamInitialMaxStreamsBidi           uint64 = 0x08
	ParamInitialMaxStreamsUni            uint64 = 0x09
	ParamAckDelayExponent                uint64 = 0x0a
	ParamMaxAckDelay                     uint64 = 0x0b
	ParamDisableActiveMigration          uint64 = 0x0c
	ParamPreferredAddress                uint64 = 0x0d
	ParamActiveConnectionIDLimit         uint64 = 0x0e
	ParamInitialSourceConnectionID       uint64 = 0x0f
	ParamRetrySourceConnectionID         uint64 = 0x10
	ParamVersionInformation              uint64 = 0x11   // RFC 9368
	ParamMaxDatagramFrameSize            uint64 = 0x20   // RFC 9221
	ParamGreaseQUICBit                   uint64 = 0x2ab2 // RFC 9287
)

var paramNames = map[uint64]string{
	ParamOriginalDestinationConnectionID: "original_destination_connection_id",
	ParamMaxIdleTimeout:                  "max_idle_timeout",
	ParamStatelessResetToken:             "stateless_reset_token",
	ParamMaxUDPPayloadSize:               "max_udp_payload_size",
	ParamInitialMaxData:                  "initial_max_data",
	ParamInitialMaxStreamDataBidiLocal:   "initial_max_stream_data_bidi_local",
	ParamInitialMaxStreamDataBidiRemote:  "initial_max_stream_data_bidi_remote",
	ParamInitialMaxStreamDataUni:         "initial_max_stream_data_uni",
	ParamInitialMaxStreamsBidi:           "initial_max_streams_bidi",
	ParamInitialMaxStreamsUni:            "initial_max_streams_uni",
	ParamAckDelayExponent:                "ack_delay_exponent",
	ParamMaxAckDelay:                     "max_ack_delay",
	ParamDisableActiveMigration:          "disable_active_migration",
	ParamPreferredAddress:                "preferred_address",
	ParamActiveConnectionIDLimit:         "active_connection_id_limit",
	ParamInitialSourceConnectionID:       "initial_source_connection_id",
	ParamRetrySourceConnectionID:         "retry_source_connection_id",
	ParamVersionInformation:              "version_information",
	ParamMaxDatagramFrameSize:            "max_datagram_frame_size",
	ParamGreaseQUICBit:                   "grease_quic_bit",
}

// ParamName names a transport parameter ID: its registered name,
// "reserved" for the 31*N+27 IDs RFC 9000 §18.1 reserves for greasing, or
// its hex value.
func ParamName(id uint64) string {
	if n, ok := paramNames[id]; ok {
		return n
	}
	if id%31 == 27 {
		return fmt.Sprintf("reserved 0x%x", id)
	}
	return fmt.Sprintf("0x%x", id)
}

// maxTransportParameters bounds TransportParameters.Parameters; the
// extension that holds them is at most 65535 bytes.
const maxTransportParameters = 1024

// TransportParameters are the decoded quic_transport_parameters of a
// ClientHello or EncryptedExtensions (RFC 9000 §18). Integer fields are
// what was sent, or 0 when the parameter is absent (use Has): the
// defaults of RFC 9000 §18.2 are not filled in, so that what a peer
// actually sent can be reported.
type TransportParameters struct {
	OriginalDestinationConnectionID []byte
	MaxIdleTimeout                  uint64 // milliseconds
	StatelessResetToken             []byte
	MaxUDPPayloadSize               uint64
	InitialMaxData                  uint64
	InitialMaxStreamDataBidiLocal   uint64
	InitialMaxStreamDataBidiRemote  uint64
	InitialMaxStreamDataUni         uint64
	InitialMaxStreamsBidi           uint64
	InitialMaxStreamsUni            uint64
	AckDelayExponent                uint64
	MaxAckDelay                     uint64 // milliseconds
	DisableActiveMigration          bool
	PreferredAddress                *PreferredAddress
	ActiveConnectionIDLimit         uint64
	InitialSourceConnectionID       []byte
	RetrySourceConnectionID         []byte
	VersionInformation              *VersionInformation
	MaxDatagramFrameSize            uint64
	GreaseQUICBit                   bool

	// Parameters lists every parameter in wire order, known or not, with
	// its length (up to 1024 of them).
	Parameters []TransportParameter
	// Anomalies are values that break RFC 9000 §18.2 or that are
	// repeated; they do not stop decoding.
	Anomalies []string
}

// TransportParameter is one parameter as sent: its ID and value length.
type TransportParameter struct {
	ID     uint64
	Length int
}

// PreferredAddress is the server's preferred_address (RFC 9000 §18.2).
type PreferredAddress struct {
	IPv4                [4]byte
	IPv4Port            uint16
	IPv6                [16]byte
	IPv6Port            uint16
	ConnectionID        []byte
	StatelessResetToken []byte
}

// VersionInformation is the version_information parameter (RFC 9368 §3).
type VersionInformation struct {
	Chosen    Version
	Available []Version
}

// Has reports whether the parameter with ID id was sent.
func (tp *TransportParameters) Has(id uint64) bool {
	for _, p := range tp.Parameters {
		if p.ID == id {
			return true
		}
	}
	return false
}

func (tp *TransportParameters) note(id uint64, off int, format string, args ...any) {
	tp.Anomalies = append(tp.Anomalies, fmt.Sprintf("parameter 0x%x (%s): %s at offset %d", id, ParamName(id), fmt.Sprintf(format, args...), off))
}

// ParseTransportParameters decodes the body of a quic_transport_parameters
// extension: a sequence of (ID varint, length varint, value). It returns
// what it read together with a *ParseError when the sequence does not fit
// the body; a value that does not fit its parameter is an anomaly, and
// decoding goes on with the next parameter.
func ParseTransportParameters(b []byte) (*TransportParameters, error) {
	tp := &TransportParameters{}
	s := cryptobyte.String(b)
	seen := map[uint64]bool{}
	for len(s) > 0 {
		at := len(b) - len(s)
		var id, n uint64
		if !readVarint(&s, &id) {
			return tp, parseErr("transport parameters", "parameter ID", at, "truncated")
		}
		if !readVarint(&s, &n) {
			return tp, parseErr("transport parameters", fmt.Sprintf("parameter 0x%x (%s) length", id, ParamName(id)), at, "truncated")
		}
		if n > uint64(len(s)) {
			return tp, parseErr("transport parameters", fmt.Sprintf("parameter 0x%x (%s)", id, ParamName(id)), at, "length %d exceeds remaining %d", n, len(s))
		}
		value := s[:n]
		s = s[n:]
		if len(tp.Parameters) >= maxTransportParameters {
			tp.note(id, at, "more than %d parameters, the rest are not listed", maxTransportParameters)
			return tp, nil
		}
		tp.Parameters = append(tp.Parameters, TransportParameter{ID: id, Length: len(value)})
		if seen[id] {
			tp.note(id, at, "repeated; the first is kept")
			continue
		}
		seen[id] = true
		tp.decode(id, value, at)
	}
	return tp, nil
}

// decode stores one parameter's value, noting values that do not fit.
func (tp *TransportParameters) decode(id uint64, v []byte, at int) {
	switch id {
	case ParamOriginalDestinationConnectionID:
		tp.OriginalDestinationConnectionID = tp.connectionID(id, v, at)
	case ParamInitialSourceConnectionID:
		tp.InitialSourceConnectionID = tp.connectionID(id, v, at)
	case ParamRetrySourceConnectionID:
		tp.RetrySourceConnectionID = tp.connectionID(id, v, at)
	case ParamStatelessResetToken:
		if len(v) != 16 {
			tp.note(id, at, "length %d, want 16", len(v))
		}
		tp.StatelessResetToken = v
	case ParamMaxIdleTimeout:
		tp.MaxIdleTimeout = tp.integer(id, v, at)
	case ParamMaxUDPPayloadSize:
		if tp.MaxUDPPayloadSize = tp.integer(id, v, at); tp.MaxUDPPayloadSize < 1200 {
			tp.note(id, at, "%d is below 1200", tp.MaxUDPPayloadSize)
		}
	case ParamInitialMaxData:
		tp.InitialMaxData = tp.integer(id, v, at)
	case ParamInitialMaxStreamDataBidiLocal:
		tp.InitialMaxStreamDataBidiLocal = tp.integer(id, v, at)
	case ParamInitialMaxStreamDataBidiRemote:
		tp.InitialMaxStreamDataBidiRemote = tp.integer(id, v, at)
	case ParamInitialMaxStreamDataUni:
		tp.InitialMaxStreamDataUni = tp.integer(id, v, at)
	case ParamInitialMaxStreamsBidi:
		tp.InitialMaxStreamsBidi = tp.limit(id, v, at, 1<<60)
	case ParamInitialMaxStreamsUni:
		tp.InitialMaxStreamsUni = tp.limit(id, v, at, 1<<60)
	case ParamAckDelayExponent:
		tp.AckDelayExponent = tp.limit(id, v, at, 20)
	case ParamMaxAckDelay:
		tp.MaxAckDelay = tp.limit(id, v, at, 1<<14-1)
	case ParamActiveConnectionIDLimit:
		if tp.ActiveConnectionIDLimit = tp.integer(id, v, at); tp.ActiveConnectionIDLimit < 2 {
			tp.note(id, at, "%d is below 2", tp.ActiveConnectionIDLimit)
		}
	case ParamMaxDatagramFrameSize:
		tp.MaxDatagramFrameSize = tp.integer(id, v, at)
	case ParamDisableActiveMigration:
		tp.DisableActiveMigration = tp.flag(id, v, at)
	case ParamGreaseQUICBit:
		tp.GreaseQUICBit = tp.flag(id, v, at)
	case ParamPreferredAddress:
		tp.PreferredAddress = tp.preferredAddress(id, v, at)
	case ParamVersionInformation:
		tp.VersionInformation = tp.versionInformation(id, v, at)
	}
}

// integer reads a value that must be exactly one varint.
func (tp *TransportParameters) integer(id uint64, v []byte, at int) uint64 {
	s := cryptobyte.String(v)
	var x uint64
	if !readVarint(&s, &x) || len(s) != 0 {
		tp.note(id, at, "%d bytes are not one variable-length integer", len(v))
	}
	return x
}

// limit is integer with a maximum value.
func (tp *TransportParameters) limit(id uint64, v []byte, at int, max uint64) uint64 {
	x := tp.integer(id, v, at)
	if x > max {
		tp.note(id, at, "%d exceeds %d", x, max)
	}
	return x
}

// flag reads a zero-length parameter.
func (tp *TransportParameters) flag(id uint64, v []byte, at int) bool {
	if len(v) != 0 {
		tp.note(id, at, "length %d, want 0", len(v))
	}
	return true
}

func (tp *TransportParameters) connectionID(id uint64, v []byte, at int) []byte {
	if len(v) > MaxConnectionIDLength {
		tp.note(id, at, "length %d exceeds %d", len(v), MaxConnectionIDLength)
	}
	return v
}

// preferredAddress reads IPv4 address and port, IPv6 address and port,
// a length-prefixed connection ID and a 16-byte reset token.
func (tp *TransportParameters) preferredAddress(id uint64, v []byte, at int) *PreferredAddress {
	s := cryptobyte.String(v)
	pa := &PreferredAddress{}
	var v4, v6, cid, token []byte
	if !s.ReadBytes(&v4, 4) || !s.ReadUint16(&pa.IPv4Port) || !s.ReadBytes(&v6, 16) || !s.ReadUint16(&pa.IPv6Port) ||
		!s.ReadUint8LengthPrefixed((*cryptobyte.String)(&cid)) || !s.ReadBytes(&token, 16) {
		tp.note(id, at, "%d bytes do not hold a preferred address", len(v))
		return nil
	}
	pa.IPv4, pa.IPv6 = [4]byte(v4), [16]byte(v6)
	pa.ConnectionID, pa.StatelessResetToken = cid, token
	if len(cid) == 0 || len(cid) > MaxConnectionIDLength {
		tp.note(id, at, "connection ID length %d, want 1 to %d", len(cid), MaxConnectionIDLength)
	}
	if len(s) != 0 {
		tp.note(id, at, "%d trailing bytes", len(s))
	}
	return pa
}

// versionInformation reads the Chosen Version and the Available Versions
// (RFC 9368 §3): 4-byte versions, at least the chosen one.
func (tp *TransportParameters) versionInformation(id uint64, v []byte, at int) *VersionInformation {
	if len(v) < 4 || len(v)%4 != 0 {
		tp.note(id, at, "length %d is not a positive multiple of 4", len(v))
		if len(v) < 4 {
			return nil
		}
	}
	vi := &VersionInformation{Chosen: Version(binary.BigEndian.Uint32(v))}
	for v = v[4:]; len(v) >= 4; v = v[4:] {
		vi.Available = append(vi.Available, Version(binary.BigEndian.Uint32(v)))
	}
	return vi
}
