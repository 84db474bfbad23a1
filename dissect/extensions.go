package dissect

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsinspect/tlsinspect/iana"
)

// Extension types decoded by the message parsers (IANA TLS ExtensionType Values).
const (
	ExtensionServerName              uint16 = 0
	ExtensionStatusRequest           uint16 = 5
	ExtensionSupportedGroups         uint16 = 10
	ExtensionECPointFormats          uint16 = 11
	ExtensionSignatureAlgorithms     uint16 = 13
	ExtensionALPN                    uint16 = 16
	ExtensionSCT                     uint16 = 18
	ExtensionPadding                 uint16 = 21
	ExtensionEncryptThenMAC          uint16 = 22
	ExtensionExtendedMasterSecret    uint16 = 23
	ExtensionCompressCertificate     uint16 = 27
	ExtensionRecordSizeLimit         uint16 = 28
	ExtensionSessionTicket           uint16 = 35
	ExtensionPreSharedKey            uint16 = 41
	ExtensionEarlyData               uint16 = 42
	ExtensionSupportedVersions       uint16 = 43
	ExtensionCookie                  uint16 = 44
	ExtensionPSKKeyExchangeModes     uint16 = 45
	ExtensionCertificateAuthorities  uint16 = 47
	ExtensionPostHandshakeAuth       uint16 = 49
	ExtensionSignatureAlgorithmsCert uint16 = 50
	ExtensionKeyShare                uint16 = 51
	ExtensionEncryptedClientHello    uint16 = 0xfe0d
	ExtensionRenegotiationInfo       uint16 = 0xff01
)

// extensionKeyShareDraft is key_share's code point in TLS 1.3 drafts before 23.
const extensionKeyShareDraft uint16 = 40

// extensionNames names the extensions this package decodes, for error
// messages only; package iana has the full registry.
var extensionNames = map[uint16]string{
	ExtensionServerName:              "server_name",
	ExtensionStatusRequest:           "status_request",
	ExtensionSupportedGroups:         "supported_groups",
	ExtensionECPointFormats:          "ec_point_formats",
	ExtensionSignatureAlgorithms:     "signature_algorithms",
	ExtensionALPN:                    "application_layer_protocol_negotiation",
	ExtensionSCT:                     "signed_certificate_timestamp",
	ExtensionPadding:                 "padding",
	ExtensionEncryptThenMAC:          "encrypt_then_mac",
	ExtensionExtendedMasterSecret:    "extended_master_secret",
	ExtensionCompressCertificate:     "compress_certificate",
	ExtensionRecordSizeLimit:         "record_size_limit",
	ExtensionSessionTicket:           "session_ticket",
	ExtensionPreSharedKey:            "pre_shared_key",
	ExtensionEarlyData:               "early_data",
	ExtensionSupportedVersions:       "supported_versions",
	ExtensionCookie:                  "cookie",
	ExtensionPSKKeyExchangeModes:     "psk_key_exchange_modes",
	ExtensionCertificateAuthorities:  "certificate_authorities",
	ExtensionPostHandshakeAuth:       "post_handshake_auth",
	ExtensionSignatureAlgorithmsCert: "signature_algorithms_cert",
	ExtensionKeyShare:                "key_share",
	ExtensionEncryptedClientHello:    "encrypted_client_hello",
	ExtensionRenegotiationInfo:       "renegotiation_info",
}

// extensionLabel is "extension 0x002b (supported_versions)" or "extension 0x1234".
func extensionLabel(typ uint16) string {
	switch {
	case int(typ) < len(extensionLabelsLow):
		return extensionLabelsLow[typ]
	case iana.IsGREASE(typ):
		return greaseLabels[typ>>12]
	}
	if l, ok := extensionLabels[typ]; ok {
		return l
	}
	return fmt.Sprintf("extension 0x%04x", typ)
}

// extensionLabels is built once: labels are needed for every extension of
// every hello, in case an error names them.
var extensionLabels = func() map[uint16]string {
	m := make(map[uint16]string, len(extensionNames))
	for typ, n := range extensionNames {
		m[typ] = fmt.Sprintf("extension 0x%04x (%s)", typ, n)
	}
	return m
}()

// extensionLabelsLow holds the labels of types below 256 (most extensions
// in use), greaseLabels those of the 16 GREASE values (0x0a0a, 0x1a1a, ...).
var extensionLabelsLow, greaseLabels = func() (low [256]string, grease [16]string) {
	for typ := range low {
		if l, ok := extensionLabels[uint16(typ)]; ok {
			low[typ] = l
		} else {
			low[typ] = fmt.Sprintf("extension 0x%04x", typ)
		}
	}
	for i := range grease {
		grease[i] = fmt.Sprintf("extension 0x%04x", i<<12|0x0a0a|i<<4)
	}
	return low, grease
}()

// markEmpty sets *v for an extension whose body must be empty; a non-empty body
// is an anomaly.
func markEmpty(r *reader, v *bool) {
	*v = true
	if len(r.s) > 0 {
		r.note("", r.off(), "expected empty body, got %d bytes", len(r.s))
		r.s = nil
	}
}

// decodeExtension decodes one ClientHello extension body (r covers exactly
// the body). Unknown extensions are left raw in Extensions.
func (m *ClientHello) decodeExtension(r *reader, typ uint16) error {
	var err error
	switch typ {
	case ExtensionServerName:
		var list cryptobyte.String
		if err := r.vec("server_name_list", 2, &list); err != nil {
			return err
		}
		lr := r.sub("server_name_list", list)
		for len(lr.s) > 0 {
			start := lr.off()
			var nameType uint8
			var name []byte
			if err := lr.u8("name_type", &nameType); err != nil {
				return err
			}
			if err := lr.vecBytes("host_name", 2, &name); err != nil {
				return err
			}
			if nameType != 0 {
				lr.note("", start, "unknown name_type %d", nameType)
				continue
			}
			if len(name) == 0 {
				lr.note("host_name", start, "empty name")
			}
			m.ServerNames = append(m.ServerNames, string(name))
		}
		if len(m.ServerNames) > 0 {
			m.ServerName = m.ServerNames[0]
		}
	case ExtensionStatusRequest:
		m.StatusRequest = true
		r.s = nil // status_type + responder ids + extensions: presence is what matters
	case ExtensionSupportedGroups:
		m.SupportedGroups, err = r.u16List("named_group_list", 2)
	case ExtensionECPointFormats:
		m.ECPointFormats, err = r.u8List("ec_point_format_list")
	case ExtensionSignatureAlgorithms:
		m.SignatureAlgorithms, err = r.u16List("supported_signature_algorithms", 2)
	case ExtensionSignatureAlgorithmsCert:
		m.SignatureAlgorithmsCert, err = r.u16List("supported_signature_algorithms", 2)
	case ExtensionALPN:
		m.ALPN, err = readALPN(r)
	case ExtensionSCT:
		markEmpty(r, &m.SignedCertificateTimestamp)
	case ExtensionPadding:
		m.PaddingLength = len(r.s)
		r.s = nil
	case ExtensionEncryptThenMAC:
		markEmpty(r, &m.EncryptThenMAC)
	case ExtensionExtendedMasterSecret:
		markEmpty(r, &m.ExtendedMasterSecret)
	case ExtensionCompressCertificate:
		m.CompressCertificate, err = r.u16List("algorithms", 1)
	case ExtensionRecordSizeLimit:
		err = r.u16("record_size_limit", &m.RecordSizeLimit)
	case ExtensionSessionTicket:
		m.HasSessionTicket = true
		m.SessionTicket = r.s
		r.s = nil
	case ExtensionPreSharedKey:
		m.HasPreSharedKey = true
		var ids, binders cryptobyte.String
		if err := r.vec("identities", 2, &ids); err != nil {
			return err
		}
		ir := r.sub("identities", ids)
		for len(ir.s) > 0 {
			var id []byte
			var age uint32
			if err := ir.vecBytesf("identity %d", m.PSKIdentities, 2, &id); err != nil {
				return err
			}
			if err := ir.u32f("identity %d obfuscated_ticket_age", m.PSKIdentities, &age); err != nil {
				return err
			}
			m.PSKIdentities++
		}
		if err := r.vec("binders", 2, &binders); err != nil {
			return err
		}
		br := r.sub("binders", binders)
		for len(br.s) > 0 {
			var b []byte
			if err := br.vecBytesf("binder %d", m.PSKBinders, 1, &b); err != nil {
				return err
			}
			m.PSKBinders++
		}
		if m.PSKBinders != m.PSKIdentities {
			r.note("", r.off(), "%d identities but %d binders", m.PSKIdentities, m.PSKBinders)
		}
	case ExtensionEarlyData:
		markEmpty(r, &m.EarlyData)
	case ExtensionSupportedVersions:
		m.SupportedVersions, err = r.u16List("versions", 1)
	case ExtensionPSKKeyExchangeModes:
		m.PSKModes, err = r.u8List("ke_modes")
	case ExtensionPostHandshakeAuth:
		markEmpty(r, &m.PostHandshakeAuth)
	case ExtensionKeyShare:
		var list cryptobyte.String
		if err := r.vec("client_shares", 2, &list); err != nil {
			return err
		}
		lr := r.sub("client_shares", list)
		for len(lr.s) > 0 {
			var ks KeyShare
			var key []byte
			if err := lr.u16f("entry %d group", len(m.KeyShares), &ks.Group); err != nil {
				return err
			}
			if err := lr.vecBytesf("entry %d key_exchange", len(m.KeyShares), 2, &key); err != nil {
				return err
			}
			ks.KeyLength = len(key)
			m.KeyShares = append(m.KeyShares, ks)
			m.KeyShareGroups = append(m.KeyShareGroups, ks.Group)
		}
	case ExtensionEncryptedClientHello:
		m.ECH = true
		r.s = nil
	case ExtensionRenegotiationInfo:
		m.HasRenegotiationInfo = true
		var rc []byte
		err = r.vecBytes("renegotiated_connection", 1, &rc)
	default:
		r.s = nil
	}
	return err
}

// readALPN reads a ProtocolNameList.
func readALPN(r *reader) ([]string, error) {
	var list cryptobyte.String
	if err := r.vec("protocol_name_list", 2, &list); err != nil {
		return nil, err
	}
	lr := r.sub("protocol_name_list", list)
	out := []string{}
	for len(lr.s) > 0 {
		var p []byte
		if err := lr.vecBytesf("name %d", len(out), 1, &p); err != nil {
			return out, err
		}
		if len(p) == 0 {
			lr.note(fmt.Sprintf("name %d", len(out)), lr.off()-1, "empty protocol name")
		}
		out = append(out, string(p))
	}
	return out, nil
}

// decodeExtension decodes one ServerHello / HelloRetryRequest extension body.
func (m *ServerHello) decodeExtension(r *reader, typ uint16) error {
	var err error
	switch typ {
	case ExtensionSupportedVersions:
		err = r.u16("selected_version", &m.SupportedVersion)
	case ExtensionKeyShare, extensionKeyShareDraft:
		if typ == extensionKeyShareDraft && !(m.Version >= 0x7f00 && m.Version < 0x7f17) {
			r.s = nil // 40 was key_share only before TLS 1.3 draft 23
			return nil
		}
		if m.IsHelloRetryRequest() {
			return r.u16("selected_group", &m.KeyShareGroup)
		}
		var key []byte
		if err := r.u16("group", &m.KeyShareGroup); err != nil {
			return err
		}
		err = r.vecBytes("key_exchange", 2, &key)
		m.KeyShareLength = len(key)
	case ExtensionPreSharedKey:
		m.HasPreSharedKey = true
		err = r.u16("selected_identity", &m.SelectedIdentity)
	case ExtensionALPN:
		var names []string
		names, err = readALPN(r)
		if len(names) > 0 {
			m.ALPN = names[0]
		}
		if err == nil && len(names) != 1 {
			r.note("", r.off(), "%d protocol names, expected exactly 1", len(names))
		}
	case ExtensionECPointFormats:
		m.ECPointFormats, err = r.u8List("ec_point_format_list")
	case ExtensionSessionTicket:
		markEmpty(r, &m.HasSessionTicket)
	case ExtensionExtendedMasterSecret:
		markEmpty(r, &m.ExtendedMasterSecret)
	case ExtensionEncryptThenMAC:
		markEmpty(r, &m.EncryptThenMAC)
	case ExtensionRenegotiationInfo:
		m.HasRenegotiationInfo = true
		var rc []byte
		err = r.vecBytes("renegotiated_connection", 1, &rc)
	case ExtensionStatusRequest:
		markEmpty(r, &m.StatusRequest)
	case ExtensionSCT:
		m.SignedCertificateTimestamp = true
		r.s = nil // TLS 1.2 servers may send the SCT list here
	case ExtensionRecordSizeLimit:
		err = r.u16("record_size_limit", &m.RecordSizeLimit)
	case ExtensionCookie:
		m.HasCookie = true
		r.s = nil
	default:
		r.s = nil
	}
	return err
}
