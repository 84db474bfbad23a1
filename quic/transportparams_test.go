package quic

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// tpBytes encodes (id, value) pairs as transport parameters.
func tpBytes(params ...any) []byte {
	var b []byte
	for i := 0; i < len(params); i += 2 {
		id := params[i].(uint64)
		var v []byte
		switch x := params[i+1].(type) {
		case []byte:
			v = x
		case int:
			v = appendVarint(nil, uint64(x))
		case uint64:
			v = appendVarint(nil, x)
		}
		b = appendVarint(b, id)
		b = appendVarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b
}

func TestTransportParametersAll(t *testing.T) {
	preferred := []byte{192, 0, 2, 1, 0x01, 0xbb}
	preferred = append(preferred, bytes.Repeat([]byte{0x20}, 16)...)
	preferred = append(preferred, 0x01, 0xbb, 4, 1, 2, 3, 4)
	preferred = append(preferred, bytes.Repeat([]byte{0x77}, 16)...)
	versionInfo := []byte{0, 0, 0, 1, 0x6b, 0x33, 0x43, 0xcf, 0, 0, 0, 1}
	b := tpBytes(
		ParamOriginalDestinationConnectionID, []byte{1, 2, 3, 4, 5, 6, 7, 8},
		ParamMaxIdleTimeout, 30000,
		ParamStatelessResetToken, bytes.Repeat([]byte{0xab}, 16),
		ParamMaxUDPPayloadSize, 1472,
		ParamInitialMaxData, 1<<20,
		ParamInitialMaxStreamDataBidiLocal, 1000,
		ParamInitialMaxStreamDataBidiRemote, 2000,
		ParamInitialMaxStreamDataUni, 3000,
		ParamInitialMaxStreamsBidi, 100,
		ParamInitialMaxStreamsUni, 3,
		ParamAckDelayExponent, 8,
		ParamMaxAckDelay, 26,
		ParamDisableActiveMigration, []byte{},
		ParamPreferredAddress, preferred,
		ParamActiveConnectionIDLimit, 8,
		ParamInitialSourceConnectionID, []byte{9, 9},
		ParamRetrySourceConnectionID, []byte{7},
		ParamVersionInformation, versionInfo,
		ParamMaxDatagramFrameSize, 65535,
		ParamGreaseQUICBit, []byte{},
		uint64(0x3128), []byte("chrome"), // google_connection_options
		uint64(27+31*1000), []byte{},
	)
	tp, err := ParseTransportParameters(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(tp.Anomalies) != 0 {
		t.Errorf("anomalies %q", tp.Anomalies)
	}
	if !bytes.Equal(tp.OriginalDestinationConnectionID, []byte{1, 2, 3, 4, 5, 6, 7, 8}) || tp.MaxIdleTimeout != 30000 ||
		len(tp.StatelessResetToken) != 16 || tp.MaxUDPPayloadSize != 1472 || tp.InitialMaxData != 1<<20 ||
		tp.InitialMaxStreamDataBidiLocal != 1000 || tp.InitialMaxStreamDataBidiRemote != 2000 || tp.InitialMaxStreamDataUni != 3000 ||
		tp.InitialMaxStreamsBidi != 100 || tp.InitialMaxStreamsUni != 3 || tp.AckDelayExponent != 8 || tp.MaxAckDelay != 26 ||
		!tp.DisableActiveMigration || tp.ActiveConnectionIDLimit != 8 || !bytes.Equal(tp.InitialSourceConnectionID, []byte{9, 9}) ||
		!bytes.Equal(tp.RetrySourceConnectionID, []byte{7}) || tp.MaxDatagramFrameSize != 65535 || !tp.GreaseQUICBit {
		t.Errorf("decoded %+v", tp)
	}
	pa := tp.PreferredAddress
	if pa == nil || pa.IPv4 != [4]byte{192, 0, 2, 1} || pa.IPv4Port != 443 || pa.IPv6[0] != 0x20 || pa.IPv6Port != 443 ||
		!bytes.Equal(pa.ConnectionID, []byte{1, 2, 3, 4}) || pa.StatelessResetToken[0] != 0x77 {
		t.Errorf("preferred address %+v", pa)
	}
	vi := tp.VersionInformation
	if vi == nil || vi.Chosen != Version1 || !slices.Equal(vi.Available, []Version{Version2, Version1}) {
		t.Errorf("version information %+v", vi)
	}
	if len(tp.Parameters) != 22 || tp.Parameters[20] != (TransportParameter{0x3128, 6}) || !tp.Has(0x3128) || tp.Has(0x99) {
		t.Errorf("parameters %+v", tp.Parameters)
	}
	if ParamName(27+31*1000) != "reserved 0x7933" || ParamName(0x3128) != "0x3128" || ParamName(ParamGreaseQUICBit) != "grease_quic_bit" {
		t.Errorf("names %q %q", ParamName(27+31*1000), ParamName(0x3128))
	}
}

func TestTransportParametersAnomalies(t *testing.T) {
	b := tpBytes(
		ParamMaxUDPPayloadSize, 1000,
		ParamAckDelayExponent, 21,
		ParamMaxAckDelay, 1<<14,
		ParamActiveConnectionIDLimit, 1,
		ParamInitialSourceConnectionID, bytes.Repeat([]byte{1}, 21),
		ParamStatelessResetToken, []byte{1},
		ParamDisableActiveMigration, []byte{1},
		ParamMaxIdleTimeout, []byte{0x40}, // truncated varint
		ParamInitialMaxData, []byte{1, 2}, // trailing byte
		ParamVersionInformation, []byte{0, 0, 1},
		ParamPreferredAddress, []byte{1, 2, 3},
		ParamMaxIdleTimeout, 5, // repeated
	)
	tp, err := ParseTransportParameters(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"max_udp_payload_size): 1000 is below 1200",
		"ack_delay_exponent): 21 exceeds 20",
		"max_ack_delay): 16384 exceeds 16383",
		"active_connection_id_limit): 1 is below 2",
		"initial_source_connection_id): length 21 exceeds 20",
		"stateless_reset_token): length 1, want 16",
		"disable_active_migration): length 1, want 0",
		"max_idle_timeout): 1 bytes are not one variable-length integer",
		"initial_max_data): 2 bytes are not one variable-length integer",
		"version_information): length 3 is not a positive multiple of 4",
		"preferred_address): 3 bytes do not hold a preferred address",
		"max_idle_timeout): repeated; the first is kept",
	} {
		if !slices.ContainsFunc(tp.Anomalies, func(a string) bool { return strings.Contains(a, want) }) {
			t.Errorf("no anomaly %q in %q", want, tp.Anomalies)
		}
	}
	if tp.MaxIdleTimeout != 0 || tp.VersionInformation != nil || tp.PreferredAddress != nil {
		t.Errorf("values kept from bad parameters: %+v", tp)
	}
}

func TestTransportParametersFraming(t *testing.T) {
	good := tpBytes(ParamMaxIdleTimeout, 100)
	for _, tc := range []struct {
		b      []byte
		params int
		want   string
	}{
		{append(bytes.Clone(good), 0x40), 1, "parameter ID: truncated"},
		{append(bytes.Clone(good), 0x05), 1, "parameter 0x5 (initial_max_stream_data_bidi_local) length: truncated"},
		{append(bytes.Clone(good), 0x05, 0x04, 1), 1, "length 4 exceeds remaining 1"},
	} {
		tp, err := ParseTransportParameters(tc.b)
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) || len(tp.Parameters) != tc.params || tp.MaxIdleTimeout != 100 {
			t.Errorf("%x: %v, %d parameters", tc.b, err, len(tp.Parameters))
		}
	}
	// Many empty parameters: the list is bounded.
	var many []byte
	for range maxTransportParameters + 10 {
		many = append(many, 0x1b, 0)
	}
	tp, err := ParseTransportParameters(many)
	if err != nil || len(tp.Parameters) != maxTransportParameters || len(tp.Anomalies) == 0 {
		t.Errorf("many: %v, %d parameters", err, len(tp.Parameters))
	}
}
