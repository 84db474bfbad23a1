package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/internal/twogen"
	"github.com/tlsinspect/tlsinspect/msgview"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// This file encodes a tlsconn.Summary without reflection, appending to a
// caller's buffer. Its output is byte for byte what encoding/json writes
// for the same value with SetEscapeHTML(false): the keys and order of the
// struct tags, omitempty as encoding/json reads it (false, 0, "", nil
// pointer, empty slice), null for nil slices and pointers, and
// encoding/json's rules for strings, floats and times. The -T json output
// is a public contract, so TestSummaryJSONEveryField fails when a field is
// added to Summary, or to a type it holds, without being added here.
//
// Every struct here starts with a field that is never omitted, so each
// later key is written with its leading comma.
//
// When encoding/json would fail (a time outside RFC 3339, a NaN, a
// msgview value it cannot marshal), the append functions return an error
// and JSON.Write lets encoding/json encode the record, so that the error
// is reported in its words.

// appendSummaryJSON appends the JSON encoding of s to b, taking the
// certificates' from certs (nil: none kept).
func appendSummaryJSON(b []byte, s *tlsconn.Summary, certs *certJSON) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	var err error
	b = append(b, `{"ts":`...)
	if b, err = appendTimeJSON(b, s.TS); err != nil {
		return nil, err
	}
	b = append(b, `,"client":`...)
	b = appendStringJSON(b, s.Client)
	b = append(b, `,"server":`...)
	b = appendStringJSON(b, s.Server)
	b = append(b, `,"transport":`...)
	b = appendStringJSON(b, s.Transport)
	if s.Protocol != "" {
		b = append(b, `,"protocol":`...)
		b = appendStringJSON(b, s.Protocol)
	}
	b = append(b, `,"connection":`...)
	b = strconv.AppendUint(b, s.Connection, 10)
	b = append(b, `,"handshake":`...)
	b = strconv.AppendInt(b, int64(s.Handshake), 10)

	if s.QUICVersion != "" {
		b = append(b, `,"quic_version":`...)
		b = appendStringJSON(b, s.QUICVersion)
	}
	if s.ClientInitialDCID != "" {
		b = append(b, `,"client_initial_dcid":`...)
		b = appendStringJSON(b, s.ClientInitialDCID)
	}
	if s.ClientSCID != "" {
		b = append(b, `,"client_scid":`...)
		b = appendStringJSON(b, s.ClientSCID)
	}
	if s.ServerSCID != "" {
		b = append(b, `,"server_scid":`...)
		b = appendStringJSON(b, s.ServerSCID)
	}
	if s.ClientTransportParameters != nil {
		b = append(b, `,"client_transport_parameters":`...)
		b = appendTransportParametersJSON(b, s.ClientTransportParameters)
	}
	if s.ServerTransportParameters != nil {
		b = append(b, `,"server_transport_parameters":`...)
		b = appendTransportParametersJSON(b, s.ServerTransportParameters)
	}

	if s.UpgradedFrom != "" {
		b = append(b, `,"upgraded_from":`...)
		b = appendStringJSON(b, s.UpgradedFrom)
	}
	b = append(b, `,"sni":`...)
	b = appendStringPtrJSON(b, s.SNI)

	b = append(b, `,"client_versions":`...)
	b = appendStringsJSON(b, s.ClientVersions)
	b = append(b, `,"client_legacy_version":`...)
	b = appendStringPtrJSON(b, s.ClientLegacyVersion)
	b = append(b, `,"version":`...)
	b = appendStringPtrJSON(b, s.Version)
	b = append(b, `,"version_id":`...)
	b = appendIntPtrJSON(b, s.VersionID)

	b = append(b, `,"client_cipher_suites":`...)
	b = appendStringsJSON(b, s.ClientCipherSuites)
	b = append(b, `,"cipher_suite":`...)
	b = appendStringPtrJSON(b, s.CipherSuite)
	b = append(b, `,"cipher_suite_id":`...)
	b = appendIntPtrJSON(b, s.CipherSuiteID)

	if len(s.ClientCompression) > 0 {
		b = append(b, `,"client_compression":`...)
		b = appendStringsJSON(b, s.ClientCompression)
	}
	b = append(b, `,"compression":`...)
	b = appendStringPtrJSON(b, s.Compression)

	b = append(b, `,"client_alpn":`...)
	b = appendStringsJSON(b, s.ClientALPN)
	b = append(b, `,"alpn":`...)
	b = appendStringPtrJSON(b, s.ALPN)

	b = append(b, `,"client_extensions":`...)
	b = appendStringsJSON(b, s.ClientExtensions)
	if len(s.ClientGroups) > 0 {
		b = append(b, `,"client_groups":`...)
		b = appendStringsJSON(b, s.ClientGroups)
	}
	if len(s.ClientKeyShareGroups) > 0 {
		b = append(b, `,"client_key_share_groups":`...)
		b = appendStringsJSON(b, s.ClientKeyShareGroups)
	}
	if len(s.ClientSignatureAlgorithms) > 0 {
		b = append(b, `,"client_signature_algorithms":`...)
		b = appendStringsJSON(b, s.ClientSignatureAlgorithms)
	}
	if len(s.ServerExtensions) > 0 {
		b = append(b, `,"server_extensions":`...)
		b = appendStringsJSON(b, s.ServerExtensions)
	}
	if len(s.ClientSignatureAlgorithmsCert) > 0 {
		b = append(b, `,"client_signature_algorithms_cert":`...)
		b = appendStringsJSON(b, s.ClientSignatureAlgorithmsCert)
	}
	if len(s.ClientPointFormats) > 0 {
		b = append(b, `,"client_point_formats":`...)
		b = appendStringsJSON(b, s.ClientPointFormats)
	}
	if len(s.ClientPSKModes) > 0 {
		b = append(b, `,"client_psk_modes":`...)
		b = appendStringsJSON(b, s.ClientPSKModes)
	}
	if s.ClientPSKIdentities != 0 {
		b = append(b, `,"client_psk_identities":`...)
		b = strconv.AppendInt(b, int64(s.ClientPSKIdentities), 10)
	}
	if s.ClientSessionTicketLength != nil {
		b = append(b, `,"client_session_ticket_length":`...)
		b = strconv.AppendInt(b, int64(*s.ClientSessionTicketLength), 10)
	}
	b = append(b, `,"client_session_id_length":`...)
	b = strconv.AppendInt(b, int64(s.ClientSessionIDLength), 10)
	if s.ClientRecordSizeLimit != 0 {
		b = append(b, `,"client_record_size_limit":`...)
		b = strconv.AppendInt(b, int64(s.ClientRecordSizeLimit), 10)
	}
	if len(s.ClientCompressCertificate) > 0 {
		b = append(b, `,"client_compress_certificate":`...)
		b = appendStringsJSON(b, s.ClientCompressCertificate)
	}
	if s.ClientPaddingLength != nil {
		b = append(b, `,"client_padding_length":`...)
		b = strconv.AppendInt(b, int64(*s.ClientPaddingLength), 10)
	}
	if s.ClientEarlyData {
		b = append(b, `,"client_early_data":true`...)
	}
	if s.EarlyDataAccepted != nil {
		b = append(b, `,"early_data_accepted":`...)
		b = strconv.AppendBool(b, *s.EarlyDataAccepted)
	}

	b = append(b, `,"key_exchange":`...)
	b = appendStringPtrJSON(b, s.KeyExchange)
	b = append(b, `,"group":`...)
	b = appendStringPtrJSON(b, s.Group)
	if s.DHBits != 0 {
		b = append(b, `,"dh_bits":`...)
		b = strconv.AppendInt(b, int64(s.DHBits), 10)
	}
	if s.ServerSignature != nil {
		b = append(b, `,"server_signature_scheme":`...)
		b = appendStringJSON(b, *s.ServerSignature)
	}

	b = append(b, `,"resumed":`...)
	b = appendBoolPtrJSON(b, s.Resumed)
	b = append(b, `,"resumption":`...)
	b = appendStringPtrJSON(b, s.Resumption)
	if s.TicketLifetime != nil {
		b = append(b, `,"ticket_lifetime":`...)
		b = strconv.AppendUint(b, uint64(*s.TicketLifetime), 10)
	}
	b = append(b, `,"hello_retry":`...)
	b = strconv.AppendBool(b, s.HelloRetry)
	if s.Renegotiation {
		b = append(b, `,"renegotiation":true`...)
	}
	if s.HelloRetryGroup != nil {
		b = append(b, `,"hello_retry_group":`...)
		b = appendStringJSON(b, *s.HelloRetryGroup)
	}
	if s.OCSPStapled {
		b = append(b, `,"ocsp_stapled":true`...)
	}
	if s.ECH {
		b = append(b, `,"ech":true`...)
	}

	if s.JA3 != "" {
		b = append(b, `,"ja3":`...)
		b = appendStringJSON(b, s.JA3)
	}
	if s.JA3String != "" {
		b = append(b, `,"ja3_string":`...)
		b = appendStringJSON(b, s.JA3String)
	}
	if s.JA4 != "" {
		b = append(b, `,"ja4":`...)
		b = appendStringJSON(b, s.JA4)
	}
	if s.JA4R != "" {
		b = append(b, `,"ja4_r":`...)
		b = appendStringJSON(b, s.JA4R)
	}
	if s.JA3S != "" {
		b = append(b, `,"ja3s":`...)
		b = appendStringJSON(b, s.JA3S)
	}
	if s.JA3SString != "" {
		b = append(b, `,"ja3s_string":`...)
		b = appendStringJSON(b, s.JA3SString)
	}
	if len(s.ClientHellos) > 0 {
		b = append(b, `,"client_hellos":`...)
		b = appendHelloPrintsJSON(b, s.ClientHellos)
	}

	if s.Decrypted {
		b = append(b, `,"decrypted":true`...)
	}
	if len(s.DecryptedParts) > 0 {
		b = append(b, `,"decrypted_parts":`...)
		b = appendStringsJSON(b, s.DecryptedParts)
	}

	b = append(b, `,"client_cert_requested":`...)
	b = appendBoolPtrJSON(b, s.ClientCertRequested)
	if s.ClientCertInferred != nil {
		b = append(b, `,"client_cert_inferred":`...)
		b = appendCertInferenceJSON(b, s.ClientCertInferred)
	}
	if s.ClientCertRequest != nil {
		b = append(b, `,"client_cert_request":`...)
		b = appendCertRequestJSON(b, s.ClientCertRequest)
	}
	b = append(b, `,"client_cert_sent":`...)
	b = appendBoolPtrJSON(b, s.ClientCertSent)
	b = append(b, `,"server_certificates":`...)
	if b, err = certs.appendChain(b, s.ServerCertificates); err != nil {
		return nil, err
	}
	b = append(b, `,"client_certificates":`...)
	if b, err = certs.appendChain(b, s.ClientCertificates); err != nil {
		return nil, err
	}

	b = append(b, `,"alerts":`...)
	b = appendAlertsJSON(b, s.Alerts)
	b = append(b, `,"findings":`...)
	b = appendFindingsJSON(b, s.Findings)
	b = append(b, `,"established":`...)
	b = strconv.AppendBool(b, s.Established)
	b = append(b, `,"history":`...)
	b = appendStringJSON(b, s.History)
	b = append(b, `,"warnings":`...)
	b = appendStringsJSON(b, s.Warnings)

	if len(s.Messages) > 0 {
		b = append(b, `,"messages":`...)
		if b, err = appendMessagesJSON(b, s.Messages); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func appendTransportParametersJSON(b []byte, tp *tlsconn.TransportParameters) []byte {
	b = append(b, `{"sent":`...)
	b = appendStringsJSON(b, tp.Sent)
	for _, p := range [...]struct {
		key string
		v   *uint64
	}{
		{`,"max_idle_timeout_ms":`, tp.MaxIdleTimeoutMS},
		{`,"max_udp_payload_size":`, tp.MaxUDPPayloadSize},
		{`,"initial_max_data":`, tp.InitialMaxData},
		{`,"initial_max_stream_data_bidi_local":`, tp.InitialMaxStreamDataBidiLocal},
		{`,"initial_max_stream_data_bidi_remote":`, tp.InitialMaxStreamDataBidiRemote},
		{`,"initial_max_stream_data_uni":`, tp.InitialMaxStreamDataUni},
		{`,"initial_max_streams_bidi":`, tp.InitialMaxStreamsBidi},
		{`,"initial_max_streams_uni":`, tp.InitialMaxStreamsUni},
		{`,"ack_delay_exponent":`, tp.AckDelayExponent},
		{`,"max_ack_delay_ms":`, tp.MaxAckDelayMS},
		{`,"active_connection_id_limit":`, tp.ActiveConnectionIDLimit},
		{`,"max_datagram_frame_size":`, tp.MaxDatagramFrameSize},
	} {
		if p.v != nil {
			b = append(b, p.key...)
			b = strconv.AppendUint(b, *p.v, 10)
		}
	}
	if tp.DisableActiveMigration {
		b = append(b, `,"disable_active_migration":true`...)
	}
	if tp.GreaseQUICBit {
		b = append(b, `,"grease_quic_bit":true`...)
	}
	if tp.InitialSourceConnectionID != nil {
		b = append(b, `,"initial_source_connection_id":`...)
		b = appendStringJSON(b, *tp.InitialSourceConnectionID)
	}
	if tp.OriginalDestinationConnectionID != nil {
		b = append(b, `,"original_destination_connection_id":`...)
		b = appendStringJSON(b, *tp.OriginalDestinationConnectionID)
	}
	if tp.RetrySourceConnectionID != nil {
		b = append(b, `,"retry_source_connection_id":`...)
		b = appendStringJSON(b, *tp.RetrySourceConnectionID)
	}
	if len(tp.PreferredAddress) > 0 {
		b = append(b, `,"preferred_address":`...)
		b = appendStringsJSON(b, tp.PreferredAddress)
	}
	if vi := tp.VersionInformation; vi != nil {
		b = append(b, `,"version_information":{"chosen":`...)
		b = appendStringJSON(b, vi.Chosen)
		b = append(b, `,"available":`...)
		b = appendStringsJSON(b, vi.Available)
		b = append(b, '}')
	}
	if len(tp.Anomalies) > 0 {
		b = append(b, `,"anomalies":`...)
		b = appendStringsJSON(b, tp.Anomalies)
	}
	return append(b, '}')
}

func appendHelloPrintsJSON(b []byte, hs []tlsconn.HelloPrint) []byte {
	if hs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range hs {
		if i > 0 {
			b = append(b, ',')
		}
		h := &hs[i]
		b = append(b, `{"ja3":`...)
		b = appendStringJSON(b, h.JA3)
		b = append(b, `,"ja3_string":`...)
		b = appendStringJSON(b, h.JA3String)
		b = append(b, `,"ja4":`...)
		b = appendStringJSON(b, h.JA4)
		b = append(b, `,"ja4_r":`...)
		b = appendStringJSON(b, h.JA4R)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendCertInferenceJSON(b []byte, ci *tlsconn.CertInference) []byte {
	b = append(b, `{"requested":`...)
	b = appendBoolPtrJSON(b, ci.Requested)
	b = append(b, `,"sent":`...)
	b = appendBoolPtrJSON(b, ci.Sent)
	b = append(b, `,"reason":`...)
	b = appendStringJSON(b, ci.Reason)
	return append(b, '}')
}

func appendCertRequestJSON(b []byte, cr *tlsconn.CertRequest) []byte {
	b = append(b, `{"certificate_types":`...)
	b = appendStringsJSON(b, cr.CertificateTypes)
	if len(cr.SignatureAlgorithms) > 0 {
		b = append(b, `,"signature_algorithms":`...)
		b = appendStringsJSON(b, cr.SignatureAlgorithms)
	}
	b = append(b, `,"certificate_authorities":`...)
	b = appendStringsJSON(b, cr.CertificateAuthorities)
	return append(b, '}')
}

// certJSON keeps the JSON of the certificates encoded: a chain repeats
// across connections, and encoding a certificate costs more than the rest
// of a summary's strings. An entry is found by the certificate's SHA256,
// the hash of the DER that every other field is read from; a certificate
// without one is not kept, nor one whose JSON is over maxCertJSONBytes. A
// nil *certJSON keeps nothing.
type certJSON struct {
	m *twogen.Map[[]byte]
}

// The bounds of certJSON: two generations of maxCertJSON entries of at most
// maxCertJSONBytes each, 8 MiB at worst (a chain's certificates are about
// 500 bytes each).
const (
	maxCertJSON      = 1024
	maxCertJSONBytes = 4 << 10
)

func (cj *certJSON) appendChain(b []byte, certs []*certinfo.Certificate) ([]byte, error) {
	if certs == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, c := range certs {
		if i > 0 {
			b = append(b, ',')
		}
		if c == nil {
			b = append(b, "null"...)
			continue
		}
		keep := cj != nil && c.SHA256 != ""
		if keep {
			if cj.m == nil {
				cj.m = twogen.New[[]byte](maxCertJSON)
			}
			if e, ok := cj.m.GetString(c.SHA256); ok {
				b = append(b, e...)
				continue
			}
		}
		start := len(b)
		var err error
		if b, err = appendCertificateJSON(b, c); err != nil {
			return nil, err
		}
		if keep && len(b)-start <= maxCertJSONBytes {
			cj.m.Put(c.SHA256, bytes.Clone(b[start:]))
		}
	}
	return append(b, ']'), nil
}

func appendCertificateJSON(b []byte, c *certinfo.Certificate) ([]byte, error) {
	var err error
	b = append(b, `{"subject":`...)
	b = appendStringJSON(b, c.Subject)
	b = append(b, `,"issuer":`...)
	b = appendStringJSON(b, c.Issuer)
	if c.SubjectCN != "" {
		b = append(b, `,"subject_cn":`...)
		b = appendStringJSON(b, c.SubjectCN)
	}
	b = append(b, `,"serial":`...)
	b = appendStringJSON(b, c.Serial)
	b = append(b, `,"not_before":`...)
	if b, err = appendTimeJSON(b, c.NotBefore); err != nil {
		return nil, err
	}
	b = append(b, `,"not_after":`...)
	if b, err = appendTimeJSON(b, c.NotAfter); err != nil {
		return nil, err
	}
	if len(c.DNSNames) > 0 {
		b = append(b, `,"dns_names":`...)
		b = appendStringsJSON(b, c.DNSNames)
	}
	if len(c.IPAddresses) > 0 {
		b = append(b, `,"ip_addresses":`...)
		b = appendStringsJSON(b, c.IPAddresses)
	}
	if len(c.EmailAddresses) > 0 {
		b = append(b, `,"email_addresses":`...)
		b = appendStringsJSON(b, c.EmailAddresses)
	}
	if len(c.URIs) > 0 {
		b = append(b, `,"uris":`...)
		b = appendStringsJSON(b, c.URIs)
	}
	b = append(b, `,"key_type":`...)
	b = appendStringJSON(b, c.KeyType)
	if c.KeyBits != 0 {
		b = append(b, `,"key_bits":`...)
		b = strconv.AppendInt(b, int64(c.KeyBits), 10)
	}
	if c.Curve != "" {
		b = append(b, `,"curve":`...)
		b = appendStringJSON(b, c.Curve)
	}
	b = append(b, `,"signature_algorithm":`...)
	b = appendStringJSON(b, c.SignatureAlgorithm)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(c.Version), 10)
	b = append(b, `,"is_ca":`...)
	b = strconv.AppendBool(b, c.IsCA)
	b = append(b, `,"self_signed":`...)
	b = strconv.AppendBool(b, c.SelfSigned)
	b = append(b, `,"sha256":`...)
	b = appendStringJSON(b, c.SHA256)
	b = append(b, `,"sha1":`...)
	b = appendStringJSON(b, c.SHA1)
	b = append(b, `,"length":`...)
	b = strconv.AppendInt(b, int64(c.Length), 10)
	if c.ParseError != "" {
		b = append(b, `,"parse_error":`...)
		b = appendStringJSON(b, c.ParseError)
	}
	return append(b, '}'), nil
}

func appendAlertsJSON(b []byte, alerts []tlsconn.Alert) []byte {
	if alerts == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range alerts {
		if i > 0 {
			b = append(b, ',')
		}
		a := &alerts[i]
		b = append(b, `{"from":`...)
		b = appendStringJSON(b, a.From)
		b = append(b, `,"level":`...)
		b = appendStringJSON(b, a.Level)
		b = append(b, `,"description":`...)
		b = appendStringJSON(b, a.Description)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendFindingsJSON(b []byte, fs []tlsconn.Finding) []byte {
	if fs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		f := &fs[i]
		b = append(b, `{"id":`...)
		b = appendStringJSON(b, f.ID)
		b = append(b, `,"severity":`...)
		b = appendStringJSON(b, f.Severity)
		b = append(b, `,"text":`...)
		b = appendStringJSON(b, f.Text)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendMessagesJSON(b []byte, ms []tlsconn.Message) ([]byte, error) {
	if ms == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		m := &ms[i]
		var err error
		b = append(b, `{"from":`...)
		b = appendStringJSON(b, m.From)
		b = append(b, `,"offset_ms":`...)
		if b, err = appendFloatJSON(b, m.OffsetMS); err != nil {
			return nil, err
		}
		b = append(b, `,"type":`...)
		b = appendStringJSON(b, m.Type)
		b = append(b, `,"length":`...)
		b = strconv.AppendInt(b, int64(m.Length), 10)
		if m.Decrypted {
			b = append(b, `,"decrypted":true`...)
		}
		if len(m.Fields) > 0 {
			b = append(b, `,"fields":`...)
			if b, err = appendMarshaledFieldsJSON(b, m.Fields); err != nil {
				return nil, err
			}
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// appendMarshaledFieldsJSON appends what msgview.Fields.MarshalJSON writes,
// compacted, as encoding/json does with any Marshaler's output. Only the
// per-message view (-v) has Fields, so the method's cost is left alone
// rather than its HTML-escaping encoding copied here.
func appendMarshaledFieldsJSON(b []byte, fs msgview.Fields) ([]byte, error) {
	raw, err := fs.MarshalJSON()
	if err != nil {
		return nil, err
	}
	// json.Compact, like the Encoder with SetEscapeHTML(false), does not
	// escape '<', '>' and '&'; it also rejects invalid JSON.
	buf := bytes.NewBuffer(b)
	if err := json.Compact(buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func appendStringsJSON(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStringJSON(b, s)
	}
	return append(b, ']')
}

func appendStringPtrJSON(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendStringJSON(b, *s)
}

func appendIntPtrJSON(b []byte, v *int) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, int64(*v), 10)
}

func appendBoolPtrJSON(b []byte, v *bool) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return strconv.AppendBool(b, *v)
}

// appendTimeJSON appends t as time.Time.MarshalJSON writes it: RFC 3339
// with nanoseconds, quoted. AppendText formats the same text without the
// quotes or an allocation, and fails where MarshalJSON fails (a year
// outside 0-9999, a zone offset of 24 hours or more).
func appendTimeJSON(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	b, err := t.AppendText(b)
	if err != nil {
		return nil, err
	}
	return append(b, '"'), nil
}

// errUnsupportedFloat stands for encoding/json's UnsupportedValueError,
// which JSON.Write then reports by encoding the record with encoding/json.
var errUnsupportedFloat = errors.New("json: unsupported float value")

// appendFloatJSON appends f as encoding/json writes a float64: like
// strconv's shortest 'f' format, switching to 'e' for very small and very
// large magnitudes (ES6 number to string), with a one-digit exponent not
// padded to two.
func appendFloatJSON(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, errUnsupportedFloat
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-07 becomes e-7.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const (
	hexDigits   = "0123456789abcdef"
	ones, highs = 0x0101010101010101, 0x8080808080808080
)

// appendStringJSON appends s quoted as encoding/json quotes strings when
// HTML escaping is off: '"' and '\\' are escaped, as are control
// characters (\b, \f, \n, \r and \t by name, the others as \u00XX); each
// byte of invalid UTF-8 becomes \ufffd; U+2028 and U+2029 are escaped for
// JavaScript's sake. DEL and everything else is written as it is.
func appendStringJSON(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip 8 bytes at a time while none needs escaping: most strings
		// of a Summary are plain ASCII. At the end of s the 8 bytes
		// tested overlap some already passed; where one of those was
		// escaped, the test fails and the byte-by-byte code below goes on.
		for len(s) >= 8 && i < len(s) {
			j := min(i, len(s)-8)
			w := s[j : j+8]
			x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
				uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
			// (v-ones*n)&^v has a high bit set when a byte of v is
			// below n, and only then ("Determine if a word has a byte
			// less than n", Bit Twiddling Hacks). So a high bit is set
			// below exactly when a byte is a control character, '"',
			// '\\' or not ASCII.
			q, bs := x^(ones*'"'), x^(ones*'\\')
			if (x|(x-ones*' ')&^x|(q-ones)&^q|(bs-ones)&^bs)&highs != 0 {
				break
			}
			i = j + 8
		}
		if i == len(s) {
			break
		}
		if c := s[i]; c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
