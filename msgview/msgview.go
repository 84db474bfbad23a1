// Package msgview describes decoded handshake messages field by field, in
// wire order, for the per-message view (`-v`): names from IANA, values
// decoded, nothing summarised away. It reads dissect's typed messages and
// knows nothing of connections or output formats beyond JSON encoding.
package msgview

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/iana"
)

// Field is one named value. Value is a string, number, bool, []string or
// Fields (a nested group).
type Field struct {
	Name  string
	Value any
}

// Fields keeps its order in JSON, unlike a map.
type Fields []Field

// MarshalJSON writes the fields as one JSON object in order.
func (fs Fields) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.Name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (fs *Fields) add(name string, v any) { *fs = append(*fs, Field{name, v}) }

func names16(vs []uint16, name func(uint16) string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = name(v)
	}
	return out
}

func names8(vs []uint8, name func(uint8) string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = name(v)
	}
	return out
}

// ClientHello lists a ClientHello's fields and every extension with its
// decoded value.
func ClientHello(m *dissect.ClientHello) Fields {
	var fs Fields
	fs.add("version", iana.VersionName(m.Version))
	fs.add("random", hex.EncodeToString(m.Random))
	fs.add("session_id", hex.EncodeToString(m.SessionID))
	fs.add("cipher_suites", names16(m.CipherSuites, iana.CipherSuiteName))
	fs.add("compression_methods", names8(m.CompressionMethods, iana.CompressionMethodName))
	if m.SSLv2 {
		fs.add("format", "SSLv2-compatible")
	}
	if !m.HasExtensionsBlock {
		return append(fs, anomalies(m.Anomalies)...)
	}
	var exts Fields
	for _, e := range m.Extensions {
		exts.add(iana.ExtensionName(e.Type), clientExtension(m, e))
	}
	fs.add("extensions", exts)
	return append(fs, anomalies(m.Anomalies)...)
}

// clientExtension decodes one ClientHello extension from the parsed message.
func clientExtension(m *dissect.ClientHello, e dissect.Extension) any {
	switch e.Type {
	case dissect.ExtensionServerName:
		return m.ServerNames
	case dissect.ExtensionSupportedGroups:
		return names16(m.SupportedGroups, iana.GroupName)
	case dissect.ExtensionECPointFormats:
		return names8(m.ECPointFormats, iana.ECPointFormatName)
	case dissect.ExtensionSignatureAlgorithms:
		return names16(m.SignatureAlgorithms, iana.SignatureSchemeName)
	case dissect.ExtensionSignatureAlgorithmsCert:
		return names16(m.SignatureAlgorithmsCert, iana.SignatureSchemeName)
	case dissect.ExtensionALPN:
		return m.ALPN
	case dissect.ExtensionSupportedVersions:
		return names16(m.SupportedVersions, iana.VersionName)
	case dissect.ExtensionKeyShare:
		out := make([]string, len(m.KeyShares))
		for i, k := range m.KeyShares {
			out[i] = fmt.Sprintf("%s (%d-byte key)", iana.GroupName(k.Group), k.KeyLength)
		}
		return out
	case dissect.ExtensionPSKKeyExchangeModes:
		return names8(m.PSKModes, iana.PSKKeyExchangeModeName)
	case dissect.ExtensionPreSharedKey:
		return fmt.Sprintf("%d identities, %d binders", m.PSKIdentities, m.PSKBinders)
	case dissect.ExtensionSessionTicket:
		if len(m.SessionTicket) == 0 {
			return "empty (new ticket wanted)"
		}
		return fmt.Sprintf("%d-byte ticket (resumption attempt)", len(m.SessionTicket))
	case dissect.ExtensionRecordSizeLimit:
		return int(m.RecordSizeLimit)
	case dissect.ExtensionCompressCertificate:
		out := make([]string, len(m.CompressCertificate))
		for i, a := range m.CompressCertificate {
			out[i] = iana.CertCompressionAlgorithmName(a)
		}
		return out
	case dissect.ExtensionPadding:
		return fmt.Sprintf("%d bytes", m.PaddingLength)
	}
	return opaque(e.Data)
}

// opaque shows an extension that is not decoded, or whose presence is its
// meaning (extended_master_secret, …): its length, and short bodies in hex.
func opaque(data []byte) string {
	switch {
	case len(data) == 0:
		return "(empty)"
	case len(data) <= 16:
		return hex.EncodeToString(data)
	}
	return strconv.Itoa(len(data)) + " bytes"
}

func anomalies(a []string) Fields {
	if len(a) == 0 {
		return nil
	}
	return Fields{{"anomalies", a}}
}

// ServerHello lists a ServerHello's (or HelloRetryRequest's) fields.
func ServerHello(m *dissect.ServerHello) Fields {
	var fs Fields
	if m.IsHelloRetryRequest() {
		fs.add("hello_retry_request", true)
	}
	fs.add("version", iana.VersionName(m.Version))
	fs.add("random", hex.EncodeToString(m.Random))
	fs.add("session_id", hex.EncodeToString(m.SessionID))
	fs.add("cipher_suite", iana.CipherSuiteName(m.CipherSuite))
	fs.add("compression_method", iana.CompressionMethodName(m.CompressionMethod))
	if !m.HasExtensionsBlock {
		return append(fs, anomalies(m.Anomalies)...)
	}
	var exts Fields
	for _, e := range m.Extensions {
		var v any
		switch e.Type {
		case dissect.ExtensionSupportedVersions:
			v = iana.VersionName(m.SupportedVersion)
		case dissect.ExtensionKeyShare:
			v = iana.GroupName(m.KeyShareGroup)
			if m.KeyShareLength > 0 {
				v = fmt.Sprintf("%s (%d-byte key)", v, m.KeyShareLength)
			}
		case dissect.ExtensionPreSharedKey:
			v = fmt.Sprintf("identity %d selected", m.SelectedIdentity)
		case dissect.ExtensionALPN:
			v = m.ALPN
		case dissect.ExtensionECPointFormats:
			v = names8(m.ECPointFormats, iana.ECPointFormatName)
		case dissect.ExtensionRecordSizeLimit:
			v = int(m.RecordSizeLimit)
		default:
			v = opaque(e.Data)
		}
		exts.add(iana.ExtensionName(e.Type), v)
	}
	fs.add("extensions", exts)
	return append(fs, anomalies(m.Anomalies)...)
}

// Certificate lists the certificates of a Certificate message with their
// details.
func Certificate(m *dissect.Certificate, certs []*certinfo.Certificate) Fields {
	var fs Fields
	if m.TLS13 {
		fs.add("request_context", hex.EncodeToString(m.Context))
	}
	list := make([]Fields, len(certs))
	for i, c := range certs {
		var cf Fields
		cf.add("subject", c.Subject)
		cf.add("issuer", c.Issuer)
		cf.add("serial", c.Serial)
		cf.add("not_before", c.NotBefore)
		cf.add("not_after", c.NotAfter)
		if n := len(c.DNSNames) + len(c.IPAddresses) + len(c.EmailAddresses) + len(c.URIs); n > 0 {
			cf.add("subject_alt_names", append(append(append(append([]string{}, c.DNSNames...), c.IPAddresses...), c.EmailAddresses...), c.URIs...))
		}
		key := c.KeyType
		switch {
		case c.Curve != "":
			key += " " + c.Curve
		case c.KeyBits > 0:
			key += fmt.Sprintf(" %d bits", c.KeyBits)
		}
		cf.add("key", key)
		cf.add("signature_algorithm", c.SignatureAlgorithm)
		cf.add("sha256", c.SHA256)
		if c.IsCA {
			cf.add("ca", true)
		}
		if c.ParseError != "" {
			cf.add("parse_error", c.ParseError)
		}
		list[i] = cf
	}
	fs.add("certificates", list)
	return append(fs, anomalies(m.Anomalies)...)
}

// ServerKeyExchange lists the key-exchange parameters and signature.
func ServerKeyExchange(m *dissect.ServerKeyExchange) Fields {
	var fs Fields
	fs.add("key_exchange", m.KeyExchange.String())
	if m.Group != 0 {
		fs.add("group", iana.GroupName(m.Group))
	}
	if m.DHPrimeBits > 0 {
		fs.add("dh_prime_bits", m.DHPrimeBits)
	}
	if m.RSAModulusBits > 0 {
		fs.add("rsa_modulus_bits", m.RSAModulusBits)
	}
	if m.PublicKeyLength > 0 {
		fs.add("public_key_length", m.PublicKeyLength)
	}
	if len(m.PSKIdentityHint) > 0 {
		fs.add("psk_identity_hint", string(m.PSKIdentityHint))
	}
	if m.SignatureScheme != 0 {
		fs.add("signature_scheme", iana.SignatureSchemeName(m.SignatureScheme))
	}
	if m.HasSignature {
		fs.add("signature_length", m.SignatureLength)
	}
	return append(fs, anomalies(m.Anomalies)...)
}

// CertificateRequest lists what the server asks a client certificate to be.
func CertificateRequest(m *dissect.CertificateRequest) Fields {
	var fs Fields
	if len(m.CertificateTypes) > 0 {
		fs.add("certificate_types", names8(m.CertificateTypes, iana.CertificateTypeName))
	}
	if len(m.SignatureAlgorithms) > 0 {
		fs.add("signature_algorithms", names16(m.SignatureAlgorithms, iana.SignatureSchemeName))
	}
	cas := make([]string, len(m.CertificateAuthorities))
	for i, dn := range m.CertificateAuthorities {
		cas[i] = certinfo.FormatName(dn)
	}
	fs.add("certificate_authorities", cas)
	return append(fs, anomalies(m.Anomalies)...)
}

// NewSessionTicket lists a ticket's lifetime and size.
func NewSessionTicket(m *dissect.NewSessionTicket) Fields {
	fs := Fields{{"lifetime_seconds", m.LifetimeHint}, {"ticket_length", m.TicketLength}}
	if m.EarlyDataMax > 0 {
		fs.add("max_early_data", m.EarlyDataMax)
	}
	return append(fs, anomalies(m.Anomalies)...)
}

// EncryptedExtensions lists a TLS 1.3 server's encrypted extensions.
func EncryptedExtensions(m *dissect.EncryptedExtensions) Fields {
	var exts Fields
	for _, e := range m.Extensions {
		var v any = opaque(e.Data)
		if e.Type == dissect.ExtensionALPN {
			v = m.ALPN
		}
		exts.add(iana.ExtensionName(e.Type), v)
	}
	return append(Fields{{"extensions", exts}}, anomalies(m.Anomalies)...)
}

// CertificateStatus lists a stapled OCSP response's kind and size.
func CertificateStatus(m *dissect.CertificateStatus) Fields {
	kind := "ocsp"
	if m.StatusType == 2 {
		kind = "ocsp_multi"
	}
	return append(Fields{{"status_type", kind}, {"responses", m.Responses}, {"response_length", m.ResponseLength}}, anomalies(m.Anomalies)...)
}

// ClientKeyExchange lists the size of the client's key-exchange value.
func ClientKeyExchange(m *dissect.ClientKeyExchange) Fields {
	fs := Fields{{"public_key_length", m.PublicKeyLength}}
	if len(m.PSKIdentity) > 0 {
		fs.add("psk_identity", string(m.PSKIdentity))
	}
	return append(fs, anomalies(m.Anomalies)...)
}
