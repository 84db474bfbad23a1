package report

import (
	"io"
	"strconv"
	"strings"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// ECSVersion is the Elastic Common Schema release whose field names the
// ecs format uses (written as ecs.version, as ECS asks producers to).
const ECSVersion = "8.11.0"

// ECS writes one Elastic Common Schema document per line, flushed like the
// JSON writer. Field names and types follow the ECS reference (FORMATS.md
// lists each with its source); what ECS does not define is under
// "tlsinspect". Objects are nested, which every ECS ingest path accepts, and
// struct field order keeps the output byte-for-byte deterministic.
type ECS struct{ jsonRecords }

// NewECS returns an ECS JSON lines writer.
func NewECS(w io.Writer) *ECS { return &ECS{newJSONRecords(w)} }

// Write encodes the document for s and flushes it.
func (e *ECS) Write(s *tlsconn.Summary) error { return e.write(ECSDocument(s)) }

// ECSEvent is one ECS document. Absent (omitted) fields were unknown.
type ECSEvent struct {
	Timestamp   string          `json:"@timestamp"`
	ECS         ecsMeta         `json:"ecs"`
	Event       ecsEventFields  `json:"event"`
	Network     ecsNetwork      `json:"network"`
	Source      ecsEndpoint     `json:"source"`
	Destination ecsEndpoint     `json:"destination"`
	Client      ecsEndpoint     `json:"client"`
	Server      ecsEndpoint     `json:"server"`
	TLS         ecsTLS          `json:"tls"`
	TLSInspect  ecsCustomFields `json:"tlsinspect"`
}

type ecsMeta struct {
	Version string `json:"version"`
}

type ecsEventFields struct {
	Kind     string   `json:"kind"`
	Category []string `json:"category"`
	Type     []string `json:"type"`
	Module   string   `json:"module"`
	Dataset  string   `json:"dataset"`
	Outcome  string   `json:"outcome"`
}

type ecsNetwork struct {
	Transport string `json:"transport,omitempty"`
	Type      string `json:"type,omitempty"`
	Protocol  string `json:"protocol"`
}

type ecsEndpoint struct {
	// Address keeps the raw text when it is not an IP and port (it always
	// is for TCP today); ECS's *.address exists for such cases.
	Address string `json:"address,omitempty"`
	IP      string `json:"ip,omitempty"`
	Port    int    `json:"port,omitempty"`
	Domain  string `json:"domain,omitempty"`
}

type ecsTLS struct {
	Version         string     `json:"version,omitempty"`
	VersionProtocol string     `json:"version_protocol,omitempty"`
	Cipher          string     `json:"cipher,omitempty"`
	Curve           string     `json:"curve,omitempty"`
	NextProtocol    string     `json:"next_protocol,omitempty"`
	Established     bool       `json:"established"`
	Resumed         *bool      `json:"resumed,omitempty"`
	Client          *ecsClient `json:"client,omitempty"`
	Server          *ecsServer `json:"server,omitempty"`
}

type ecsClient struct {
	ServerName       string   `json:"server_name,omitempty"`
	JA3              string   `json:"ja3,omitempty"`
	SupportedCiphers []string `json:"supported_ciphers,omitempty"`
	Hash             *ecsHash `json:"hash,omitempty"`
	X509             *ecsX509 `json:"x509,omitempty"`
}

type ecsServer struct {
	JA3S string   `json:"ja3s,omitempty"`
	Hash *ecsHash `json:"hash,omitempty"`
	X509 *ecsX509 `json:"x509,omitempty"`
}

// ecsHash holds a certificate's fingerprints; ECS asks for upper case.
type ecsHash struct {
	SHA1   string `json:"sha1,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

type ecsX509 struct {
	VersionNumber      string    `json:"version_number,omitempty"`
	SerialNumber       string    `json:"serial_number,omitempty"`
	Subject            ecsX509DN `json:"subject"`
	Issuer             ecsX509DN `json:"issuer"`
	NotBefore          string    `json:"not_before,omitempty"`
	NotAfter           string    `json:"not_after,omitempty"`
	PublicKeyAlgorithm string    `json:"public_key_algorithm,omitempty"`
	PublicKeySize      int       `json:"public_key_size,omitempty"`
	PublicKeyCurve     string    `json:"public_key_curve,omitempty"`
	SignatureAlgorithm string    `json:"signature_algorithm,omitempty"`
	AlternativeNames   []string  `json:"alternative_names,omitempty"`
}

type ecsX509DN struct {
	DistinguishedName string   `json:"distinguished_name,omitempty"`
	CommonName        []string `json:"common_name,omitempty"`
}

// ecsCustomFields are tlsinspect's own, under a prefix ECS leaves to
// producers so they cannot clash with a future ECS field.
type ecsCustomFields struct {
	Connection          uint64            `json:"connection"`
	Handshake           int               `json:"handshake"`
	Outcome             string            `json:"outcome"`
	UpgradedFrom        string            `json:"upgraded_from,omitempty"`
	KeyExchange         string            `json:"key_exchange,omitempty"`
	Resumption          string            `json:"resumption,omitempty"`
	HelloRetry          bool              `json:"hello_retry,omitempty"`
	Renegotiation       bool              `json:"renegotiation,omitempty"`
	Decrypted           bool              `json:"decrypted,omitempty"`
	JA4                 string            `json:"ja4,omitempty"`
	ClientCertRequested *bool             `json:"client_cert_requested,omitempty"`
	ClientCertSent      *bool             `json:"client_cert_sent,omitempty"`
	History             string            `json:"history,omitempty"`
	Alerts              []tlsconn.Alert   `json:"alerts,omitempty"`
	Findings            []tlsconn.Finding `json:"findings,omitempty"`
	Warnings            []string          `json:"warnings,omitempty"`
}

// ECSDocument maps s to ECS fields: the client is source (and client), the
// server destination (and server).
func ECSDocument(s *tlsconn.Summary) ECSEvent {
	e := ECSEvent{
		Timestamp: tsText(s.TS),
		ECS:       ecsMeta{Version: ECSVersion},
		Event: ecsEventFields{
			Kind:     "event",
			Category: []string{"network"},
			Type:     []string{"connection", "protocol"},
			Module:   "tlsinspect",
			Dataset:  "tlsinspect.tls",
			Outcome:  ecsOutcome(s),
		},
		Network:     ecsNetwork{Transport: s.Transport, Protocol: "tls"},
		Source:      ecsAddr(s.Client),
		Destination: ecsAddr(s.Server),
		Client:      ecsAddr(s.Client),
		Server:      ecsAddr(s.Server),
		TLS: ecsTLS{
			Cipher:       str(s.CipherSuite),
			Curve:        str(s.Group),
			NextProtocol: str(s.ALPN),
			Established:  s.Established,
			Resumed:      s.Resumed,
		},
		TLSInspect: ecsCustomFields{
			Connection:          s.Connection,
			Handshake:           s.Handshake,
			Outcome:             s.Outcome(),
			UpgradedFrom:        s.UpgradedFrom,
			KeyExchange:         str(s.KeyExchange),
			Resumption:          str(s.Resumption),
			HelloRetry:          s.HelloRetry,
			Renegotiation:       s.Renegotiation,
			Decrypted:           s.Decrypted,
			JA4:                 s.JA4,
			ClientCertRequested: s.ClientCertRequested,
			ClientCertSent:      s.ClientCertSent,
			History:             s.History,
			Alerts:              s.Alerts,
			Findings:            s.Findings,
			Warnings:            s.Warnings,
		},
	}
	// ECS: "When [the SNI] is available, it should get copied to
	// destination.domain".
	e.Destination.Domain = str(s.SNI)
	if a, _, ok := endpoint(s.Client); ok {
		e.Network.Type = "ipv4"
		if a.Is6() {
			e.Network.Type = "ipv6"
		}
	}
	e.TLS.Version, e.TLS.VersionProtocol, _ = versionParts(s)
	client := ecsClient{ServerName: str(s.SNI), JA3: s.JA3, SupportedCiphers: s.ClientCipherSuites}
	if c := leaf(s.ClientCertificates); c != nil {
		client.Hash, client.X509 = ecsCert(c)
	}
	server := ecsServer{JA3S: s.JA3S}
	if c := leaf(s.ServerCertificates); c != nil {
		server.Hash, server.X509 = ecsCert(c)
	}
	// Empty objects are left out rather than written as {}.
	if client.ServerName != "" || client.JA3 != "" || len(client.SupportedCiphers) > 0 || client.X509 != nil {
		e.TLS.Client = &client
	}
	if server.JA3S != "" || server.X509 != nil {
		e.TLS.Server = &server
	}
	return e
}

// ecsOutcome: success when established without a fatal alert, failure on
// a fatal alert, unknown when the capture does not show the end.
func ecsOutcome(s *tlsconn.Summary) string {
	switch s.Outcome() {
	case "established":
		return "success"
	case "incomplete":
		return "unknown"
	}
	return "failure"
}

func ecsAddr(s string) ecsEndpoint {
	a, port, ok := endpoint(s)
	if !ok {
		return ecsEndpoint{Address: s}
	}
	return ecsEndpoint{IP: a.String(), Port: int(port)}
}

func ecsCert(c *certinfo.Certificate) (*ecsHash, *ecsX509) {
	h := &ecsHash{SHA1: strings.ToUpper(c.SHA1), SHA256: strings.ToUpper(c.SHA256)}
	x := &ecsX509{
		SerialNumber:       c.Serial,
		Subject:            ecsX509DN{DistinguishedName: c.Subject},
		Issuer:             ecsX509DN{DistinguishedName: c.Issuer},
		NotBefore:          dateText(c.NotBefore),
		NotAfter:           dateText(c.NotAfter),
		PublicKeyAlgorithm: c.KeyType,
		PublicKeySize:      c.KeyBits,
		PublicKeyCurve:     c.Curve,
		SignatureAlgorithm: c.SignatureAlgorithm,
	}
	if c.Version > 0 {
		x.VersionNumber = strconv.Itoa(c.Version)
	}
	if c.SubjectCN != "" {
		x.Subject.CommonName = []string{c.SubjectCN}
	}
	for _, names := range [][]string{c.DNSNames, c.IPAddresses, c.EmailAddresses, c.URIs} {
		x.AlternativeNames = append(x.AlternativeNames, names...)
	}
	return h, x
}
