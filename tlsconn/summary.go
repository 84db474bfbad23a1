// Package tlsconn follows each TCP connection's TLS handshake and turns the
// messages that dissect reads into one Summary per handshake: what the two
// peers offered and what they negotiated. It is the only place where
// connection-level facts (roles, resumption, client authentication,
// establishment) are decided; report and policy code only read Summaries.
package tlsconn

import (
	"time"

	"github.com/tlsinspect/tlsinspect/certinfo"
)

// Summary is one TLS handshake as the observer saw it. The JSON field names
// are a public contract (README "JSON fields"). Fields that could not be
// known are null or absent, never guessed.
//
// Summaries from one Tracker share what repeats between handshakes (the
// parsed certificates, the name lists of a repeated offer, the
// ClientCertRequest of a repeated CertificateRequest): treat a Summary as
// read-only, and copy a slice before changing it.
type Summary struct {
	TS        time.Time `json:"ts"`
	Client    string    `json:"client"`
	Server    string    `json:"server"`
	Transport string    `json:"transport"`
	// Protocol is "dtls" or "quic" for handshakes over UDP; absent for
	// TLS over TCP.
	Protocol   string `json:"protocol,omitempty"`
	Connection uint64 `json:"connection"`
	Handshake  int    `json:"handshake"`

	// QUIC only (names as in Zeek's quic.log): the version of the
	// client's Initial packets, the Destination Connection ID of its first
	// Initial, and each side's Source Connection ID, in hex.
	QUICVersion       string `json:"quic_version,omitempty"`
	ClientInitialDCID string `json:"client_initial_dcid,omitempty"`
	ClientSCID        string `json:"client_scid,omitempty"`
	ServerSCID        string `json:"server_scid,omitempty"`
	// Each side's quic_transport_parameters: the client's from its
	// ClientHello, the server's from its EncryptedExtensions (so only
	// when the handshake was decrypted with a key log).
	ClientTransportParameters *TransportParameters `json:"client_transport_parameters,omitempty"`
	ServerTransportParameters *TransportParameters `json:"server_transport_parameters,omitempty"`

	UpgradedFrom string  `json:"upgraded_from,omitempty"`
	SNI          *string `json:"sni"`

	ClientVersions      []string `json:"client_versions"`
	ClientLegacyVersion *string  `json:"client_legacy_version"`
	Version             *string  `json:"version"`
	VersionID           *int     `json:"version_id"`

	ClientCipherSuites []string `json:"client_cipher_suites"`
	CipherSuite        *string  `json:"cipher_suite"`
	CipherSuiteID      *int     `json:"cipher_suite_id"`

	ClientCompression []string `json:"client_compression,omitempty"`
	Compression       *string  `json:"compression"`

	ClientALPN []string `json:"client_alpn"`
	ALPN       *string  `json:"alpn"`

	ClientExtensions          []string `json:"client_extensions"`
	ClientGroups              []string `json:"client_groups,omitempty"`
	ClientKeyShareGroups      []string `json:"client_key_share_groups,omitempty"`
	ClientSignatureAlgorithms []string `json:"client_signature_algorithms,omitempty"`
	ServerExtensions          []string `json:"server_extensions,omitempty"`
	// Decoded ClientHello extensions beyond the lists above; absent when
	// the extension was not sent.
	ClientSignatureAlgorithmsCert []string `json:"client_signature_algorithms_cert,omitempty"`
	ClientPointFormats            []string `json:"client_point_formats,omitempty"`
	ClientPSKModes                []string `json:"client_psk_modes,omitempty"`
	ClientPSKIdentities           int      `json:"client_psk_identities,omitempty"`
	ClientSessionTicketLength     *int     `json:"client_session_ticket_length,omitempty"`
	ClientSessionIDLength         int      `json:"client_session_id_length"`
	ClientRecordSizeLimit         int      `json:"client_record_size_limit,omitempty"`
	ClientCompressCertificate     []string `json:"client_compress_certificate,omitempty"`
	ClientPaddingLength           *int     `json:"client_padding_length,omitempty"`
	ClientEarlyData               bool     `json:"client_early_data,omitempty"`
	// EarlyDataAccepted: whether the server took the 0-RTT data offered
	// (TLS 1.3, from the decrypted EncryptedExtensions).
	EarlyDataAccepted *bool `json:"early_data_accepted,omitempty"`

	KeyExchange     *string `json:"key_exchange"`
	Group           *string `json:"group"`
	DHBits          int     `json:"dh_bits,omitempty"`
	ServerSignature *string `json:"server_signature_scheme,omitempty"`

	Resumed        *bool   `json:"resumed"`
	Resumption     *string `json:"resumption"`
	TicketLifetime *uint32 `json:"ticket_lifetime,omitempty"`
	HelloRetry     bool    `json:"hello_retry"`
	// Renegotiation: this handshake renegotiated the connection under the
	// keys of the one before (TLS <= 1.2, seen with a key log).
	Renegotiation   bool    `json:"renegotiation,omitempty"`
	HelloRetryGroup *string `json:"hello_retry_group,omitempty"`
	OCSPStapled     bool    `json:"ocsp_stapled,omitempty"`
	ECH             bool    `json:"ech,omitempty"`

	// Fingerprints of the first ClientHello and of the ServerHello
	// (package fingerprint); ClientHellos lists every ClientHello's when
	// there was more than one (HelloRetryRequest).
	JA3          string       `json:"ja3,omitempty"`
	JA3String    string       `json:"ja3_string,omitempty"`
	JA4          string       `json:"ja4,omitempty"`
	JA4R         string       `json:"ja4_r,omitempty"`
	JA3S         string       `json:"ja3s,omitempty"`
	JA3SString   string       `json:"ja3s_string,omitempty"`
	ClientHellos []HelloPrint `json:"client_hellos,omitempty"`

	// Decrypted: the encrypted part of the handshake was read with secrets
	// from a key log; DecryptedParts says which ("server handshake",
	// "client handshake"). Client authentication and ALPN then come
	// from the decrypted messages.
	Decrypted      bool     `json:"decrypted,omitempty"`
	DecryptedParts []string `json:"decrypted_parts,omitempty"`

	ClientCertRequested *bool `json:"client_cert_requested"`
	// ClientCertInferred is a TLS 1.3 guess from encrypted record sizes,
	// never mixed into ClientCertRequested/ClientCertSent.
	ClientCertInferred *CertInference          `json:"client_cert_inferred,omitempty"`
	ClientCertRequest  *CertRequest            `json:"client_cert_request,omitempty"`
	ClientCertSent     *bool                   `json:"client_cert_sent"`
	ServerCertificates []*certinfo.Certificate `json:"server_certificates"`
	ClientCertificates []*certinfo.Certificate `json:"client_certificates"`

	Alerts []Alert `json:"alerts"`
	// Findings are filled by package findings from the rest of the Summary.
	Findings    []Finding `json:"findings"`
	Established bool      `json:"established"`
	History     string    `json:"history"`
	Warnings    []string  `json:"warnings"`

	// Messages is the per-message view, in the order seen; only filled
	// when Config.Messages is set.
	Messages []Message `json:"messages,omitempty"`
}

// CertRequest is what a TLS 1.2-or-earlier CertificateRequest asked for.
type CertRequest struct {
	CertificateTypes       []string `json:"certificate_types"`
	SignatureAlgorithms    []string `json:"signature_algorithms,omitempty"`
	CertificateAuthorities []string `json:"certificate_authorities"`
}

// HelloPrint holds the fingerprints of one ClientHello.
type HelloPrint struct {
	JA3       string `json:"ja3"`
	JA3String string `json:"ja3_string"`
	JA4       string `json:"ja4"`
	JA4R      string `json:"ja4_r"`
}

// CertInference is what the sizes of a TLS 1.3 client's encrypted records
// suggest about client authentication. Reason says what was measured.
type CertInference struct {
	Requested *bool  `json:"requested"`
	Sent      *bool  `json:"sent"`
	Reason    string `json:"reason"`
}

// Finding is one notable property of a connection: a stable ID (documented
// in the README, relied on by policies), a severity ("info", "low",
// "medium", "high") and a one-line text.
type Finding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Text     string `json:"text"`
}

// Alert is one alert record. Level and Description are "encrypted" when the
// alert was sent after ChangeCipherSpec and cannot be read.
type Alert struct {
	From        string `json:"from"`
	Level       string `json:"level"`
	Description string `json:"description"`
}

// Fatal reports whether the alert ends the connection. An encrypted alert's
// level is unknown; it is not counted as fatal.
func (a Alert) Fatal() bool { return a.Level == "fatal" }

// Outcome is a one-word result for tables: "established", the name of the
// first fatal alert, "incomplete" or "resumed".
func (s *Summary) Outcome() string {
	for _, a := range s.Alerts {
		if a.Fatal() {
			return a.Description
		}
	}
	if s.Established {
		return "established"
	}
	return "incomplete"
}
