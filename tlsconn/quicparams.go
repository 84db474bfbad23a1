package tlsconn

import (
	"encoding/hex"
	"net/netip"

	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/quic"
)

// TransportParameters are a QUIC endpoint's quic_transport_parameters
// (RFC 9000 §18.2) as it sent them: a parameter not sent is absent, never
// filled in with its default. JSON names are a public contract (README
// "JSON fields").
type TransportParameters struct {
	// Sent names every parameter in wire order, unknown and reserved
	// (greasing) ones included.
	Sent                            []string `json:"sent"`
	MaxIdleTimeoutMS                *uint64  `json:"max_idle_timeout_ms,omitempty"`
	MaxUDPPayloadSize               *uint64  `json:"max_udp_payload_size,omitempty"`
	InitialMaxData                  *uint64  `json:"initial_max_data,omitempty"`
	InitialMaxStreamDataBidiLocal   *uint64  `json:"initial_max_stream_data_bidi_local,omitempty"`
	InitialMaxStreamDataBidiRemote  *uint64  `json:"initial_max_stream_data_bidi_remote,omitempty"`
	InitialMaxStreamDataUni         *uint64  `json:"initial_max_stream_data_uni,omitempty"`
	InitialMaxStreamsBidi           *uint64  `json:"initial_max_streams_bidi,omitempty"`
	InitialMaxStreamsUni            *uint64  `json:"initial_max_streams_uni,omitempty"`
	AckDelayExponent                *uint64  `json:"ack_delay_exponent,omitempty"`
	MaxAckDelayMS                   *uint64  `json:"max_ack_delay_ms,omitempty"`
	ActiveConnectionIDLimit         *uint64  `json:"active_connection_id_limit,omitempty"`
	MaxDatagramFrameSize            *uint64  `json:"max_datagram_frame_size,omitempty"`
	DisableActiveMigration          bool     `json:"disable_active_migration,omitempty"`
	GreaseQUICBit                   bool     `json:"grease_quic_bit,omitempty"`
	InitialSourceConnectionID       *string  `json:"initial_source_connection_id,omitempty"` // hex
	OriginalDestinationConnectionID *string  `json:"original_destination_connection_id,omitempty"`
	RetrySourceConnectionID         *string  `json:"retry_source_connection_id,omitempty"`
	PreferredAddress                []string `json:"preferred_address,omitempty"` // "a.b.c.d:port", "[v6]:port"
	// VersionInformation is RFC 9368's: the version chosen and those
	// the endpoint supports.
	VersionInformation *VersionInformation `json:"version_information,omitempty"`
	// Anomalies are values that break RFC 9000 §18.2, repeated
	// parameters, and what could not be decoded.
	Anomalies []string `json:"anomalies,omitempty"`
}

// VersionInformation is the version_information transport parameter.
type VersionInformation struct {
	Chosen    string   `json:"chosen"`
	Available []string `json:"available"`
}

// transportParameters decodes the quic_transport_parameters extension
// among exts (the standard one, else the drafts'), or returns nil.
func transportParameters(exts []dissect.Extension) *TransportParameters {
	var body []byte
	found := false
	for _, e := range exts {
		if e.Type == quic.ExtensionQUICTransportParameters || (e.Type == quic.ExtensionQUICTransportParametersDraft && !found) {
			body, found = e.Data, true
		}
	}
	if !found {
		return nil
	}
	tp, err := quic.ParseTransportParameters(body) // tp holds what was read, even with err
	out := &TransportParameters{Sent: []string{}}
	if err != nil {
		out.Anomalies = append(out.Anomalies, err.Error())
	}
	for _, p := range tp.Parameters {
		out.Sent = append(out.Sent, quic.ParamName(p.ID))
	}
	num := func(id, v uint64) *uint64 {
		if !tp.Has(id) {
			return nil
		}
		return &v
	}
	cid := func(id uint64, v []byte) *string {
		if !tp.Has(id) {
			return nil
		}
		s := hex.EncodeToString(v)
		return &s
	}
	out.MaxIdleTimeoutMS = num(quic.ParamMaxIdleTimeout, tp.MaxIdleTimeout)
	out.MaxUDPPayloadSize = num(quic.ParamMaxUDPPayloadSize, tp.MaxUDPPayloadSize)
	out.InitialMaxData = num(quic.ParamInitialMaxData, tp.InitialMaxData)
	out.InitialMaxStreamDataBidiLocal = num(quic.ParamInitialMaxStreamDataBidiLocal, tp.InitialMaxStreamDataBidiLocal)
	out.InitialMaxStreamDataBidiRemote = num(quic.ParamInitialMaxStreamDataBidiRemote, tp.InitialMaxStreamDataBidiRemote)
	out.InitialMaxStreamDataUni = num(quic.ParamInitialMaxStreamDataUni, tp.InitialMaxStreamDataUni)
	out.InitialMaxStreamsBidi = num(quic.ParamInitialMaxStreamsBidi, tp.InitialMaxStreamsBidi)
	out.InitialMaxStreamsUni = num(quic.ParamInitialMaxStreamsUni, tp.InitialMaxStreamsUni)
	out.AckDelayExponent = num(quic.ParamAckDelayExponent, tp.AckDelayExponent)
	out.MaxAckDelayMS = num(quic.ParamMaxAckDelay, tp.MaxAckDelay)
	out.ActiveConnectionIDLimit = num(quic.ParamActiveConnectionIDLimit, tp.ActiveConnectionIDLimit)
	out.MaxDatagramFrameSize = num(quic.ParamMaxDatagramFrameSize, tp.MaxDatagramFrameSize)
	out.DisableActiveMigration = tp.DisableActiveMigration
	out.GreaseQUICBit = tp.GreaseQUICBit
	out.InitialSourceConnectionID = cid(quic.ParamInitialSourceConnectionID, tp.InitialSourceConnectionID)
	out.OriginalDestinationConnectionID = cid(quic.ParamOriginalDestinationConnectionID, tp.OriginalDestinationConnectionID)
	out.RetrySourceConnectionID = cid(quic.ParamRetrySourceConnectionID, tp.RetrySourceConnectionID)
	if pa := tp.PreferredAddress; pa != nil {
		if v4 := netip.AddrFrom4(pa.IPv4); !v4.IsUnspecified() || pa.IPv4Port != 0 {
			out.PreferredAddress = append(out.PreferredAddress, netip.AddrPortFrom(v4, pa.IPv4Port).String())
		}
		if v6 := netip.AddrFrom16(pa.IPv6); !v6.IsUnspecified() || pa.IPv6Port != 0 {
			out.PreferredAddress = append(out.PreferredAddress, netip.AddrPortFrom(v6, pa.IPv6Port).String())
		}
	}
	if vi := tp.VersionInformation; vi != nil {
		out.VersionInformation = &VersionInformation{Chosen: vi.Chosen.String(), Available: []string{}}
		for _, v := range vi.Available {
			out.VersionInformation.Available = append(out.VersionInformation.Available, v.String())
		}
	}
	out.Anomalies = append(out.Anomalies, tp.Anomalies...)
	return out
}
