package tlsconn

import (
	"fmt"
	"math"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/iana"
	"github.com/tlsinspect/tlsinspect/msgview"
)

// Message is one thing a peer sent during a handshake, for the per-message
// view (Config.Messages, `-v`): a handshake message, or a record whose
// content is not a plaintext handshake message (ChangeCipherSpec, alerts,
// encrypted records).
type Message struct {
	From string `json:"from"`
	// OffsetMS is the time since the handshake's first message, in
	// milliseconds (capture time of the segment that completed it).
	OffsetMS float64 `json:"offset_ms"`
	Type     string  `json:"type"`
	// Length is the handshake message's length including its 4-byte
	// header, or the record's fragment length for other records.
	Length int `json:"length"`
	// Decrypted: the message was read from an encrypted record with a key log.
	Decrypted bool           `json:"decrypted,omitempty"`
	Fields    msgview.Fields `json:"fields,omitempty"`
}

// maxMessages bounds the per-message view of one handshake: a peer that
// keeps sending records must not make a Summary grow without bound.
const maxMessages = 256

// logEvent adds ev, already handled, to the current handshake's messages.
func (c *conn) logEvent(r role, ev dissect.Event) {
	h := c.hs
	if len(h.s.Messages) >= maxMessages {
		h.warn(fmt.Sprintf("per-message view: more than %d messages; the rest are not listed", maxMessages))
		return
	}
	m := Message{From: r.String(), Length: ev.RecordLength, Decrypted: ev.Decrypted}
	if d := c.ts.Sub(h.s.TS); d > 0 {
		m.OffsetMS = math.Round(float64(d.Microseconds())) / 1000
	}
	switch ev.Kind {
	case dissect.EventHandshake:
		m.Type = iana.HandshakeTypeName(ev.HandshakeType)
		m.Length = 4 + len(ev.Body)
		m.Fields = c.messageFields(r, ev)
	case dissect.EventChangeCipherSpec:
		m.Type = "change_cipher_spec"
	case dissect.EventAlert:
		m.Type = "alert"
		m.Fields = msgview.Fields{{Name: "level", Value: alertLevel(ev.AlertLevel)}, {Name: "description", Value: iana.AlertName(ev.AlertDescription)}}
	case dissect.EventEncryptedAlert:
		m.Type = "encrypted alert"
	case dissect.EventEncryptedHandshake:
		m.Type = "encrypted handshake"
	case dissect.EventApplicationData:
		m.Type = "application_data"
		if (h.tls13() || h.hrr) && !ev.Decrypted {
			// TLS 1.3 wraps its encrypted handshake in application_data records.
			m.Type = "encrypted record"
		}
	case dissect.EventHeartbeat:
		m.Type = "heartbeat"
	case dissect.EventSSLv2:
		m.Type = sslv2Name(r, ev.HandshakeType, !c.sides[c.dirOf(r)].sslv2Seen)
		c.sides[c.dirOf(r)].sslv2Seen = true
		m.Length = len(ev.Body)
		if ev.HandshakeType == dissect.SSLv2ClientHello && r == client {
			ch, err := dissect.ParseSSLv2ClientHello(ev.Body)
			m.Fields = decoded(ch, err, msgview.ClientHello)
		}
	case dissect.EventSkipped:
		m.Type = "skipped " + iana.HandshakeTypeName(ev.HandshakeType)
		m.Fields = msgview.Fields{{Name: "error", Value: ev.Err.Error()}}
	case dissect.EventUnknownRecord:
		m.Type = fmt.Sprintf("record of unknown type %d", ev.RecordType)
	default:
		return
	}
	h.s.Messages = append(h.s.Messages, m)
}

// sslv2Name names an SSLv2 message. Only the hellos and the client's
// master key travel in plaintext; the first byte of any other is
// ciphertext.
func sslv2Name(r role, t uint8, first bool) string {
	switch {
	case t == dissect.SSLv2ClientHello && r == client && first:
		return "sslv2_client_hello"
	case t == dissect.SSLv2ServerHello && r == server && first:
		return "sslv2_server_hello"
	case t == dissect.SSLv2ClientMasterKey && r == client && !first:
		return "sslv2_client_master_key"
	}
	return "sslv2 encrypted message"
}

// messageFields decodes a plaintext handshake message for the view. It
// parses the body again rather than keeping every parsed message on the
// hot path: the view is only built when asked for.
func (c *conn) messageFields(r role, ev dissect.Event) msgview.Fields {
	h := c.hs
	body := ev.Body
	switch ev.HandshakeType {
	case dissect.TypeClientHello:
		parse := dissect.ParseClientHello
		if c.proto == "dtls" {
			parse = dissect.ParseDTLSClientHello
		}
		m, err := parse(body)
		return decoded(m, err, msgview.ClientHello)
	case dissect.TypeServerHello:
		m, err := dissect.ParseServerHello(body)
		return decoded(m, err, msgview.ServerHello)
	case dissect.TypeCertificate:
		m, err := dissect.ParseCertificate(body, ev.Decrypted && h.tls13())
		if m == nil {
			return withError(nil, err)
		}
		return withError(msgview.Certificate(m, c.chainOf(r, m)), err)
	case dissect.TypeServerKeyExchange:
		m, err := dissect.ParseServerKeyExchange(body, h.kx, h.version)
		return decoded(m, err, msgview.ServerKeyExchange)
	case dissect.TypeCertificateRequest:
		m, err := dissect.ParseCertificateRequest(body, h.version)
		return decoded(m, err, msgview.CertificateRequest)
	case dissect.TypeClientKeyExchange:
		m, err := dissect.ParseClientKeyExchange(body, h.kx, h.version)
		return decoded(m, err, msgview.ClientKeyExchange)
	case dissect.TypeNewSessionTicket:
		m, err := dissect.ParseNewSessionTicket(body, ev.Decrypted && h.tls13())
		return decoded(m, err, msgview.NewSessionTicket)
	case dissect.TypeCompressedCert:
		m, err := dissect.ParseCompressedCertificate(body, c.t.cfg.MaxMessage)
		fs := msgview.Fields{{Name: "algorithm", Value: iana.CertCompressionAlgorithmName(m.Algorithm)},
			{Name: "uncompressed_length", Value: m.UncompressedLength}, {Name: "compressed_length", Value: m.CompressedLength}}
		if m.Certificate != nil {
			fs = append(fs, msgview.Certificate(m.Certificate, c.chainOf(r, m.Certificate))...)
		}
		return withError(fs, err)
	case dissect.TypeEncryptedExtensions:
		m, err := dissect.ParseEncryptedExtensions(body)
		return decoded(m, err, msgview.EncryptedExtensions)
	case dissect.TypeCertificateStatus:
		m, err := dissect.ParseCertificateStatus(body)
		return decoded(m, err, msgview.CertificateStatus)
	}
	return nil
}

// chainOf returns the parsed chain of a Certificate message of role r: the
// Summary's, which holds the message just handled, or parsed again when it
// does not match (the message could not be taken, e.g. a later one).
func (c *conn) chainOf(r role, m *dissect.Certificate) []*certinfo.Certificate {
	certs := c.hs.s.ServerCertificates
	if r == client {
		certs = c.hs.s.ClientCertificates
	}
	if len(certs) == len(m.Certificates) {
		return certs
	}
	certs = make([]*certinfo.Certificate, len(m.Certificates))
	for i, der := range m.Certificates {
		certs[i] = c.t.certs.Parse(der)
	}
	return certs
}

// decoded is view(m) with err added, for a parser's (message, error) pair.
func decoded[M any](m *M, err error, view func(*M) msgview.Fields) msgview.Fields {
	var fs msgview.Fields
	if m != nil {
		fs = view(m)
	}
	return withError(fs, err)
}

func withError(fs msgview.Fields, err error) msgview.Fields {
	if err != nil {
		fs = append(fs, msgview.Field{Name: "error", Value: err.Error()})
	}
	return fs
}
