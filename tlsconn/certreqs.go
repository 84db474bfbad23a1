package tlsconn

import (
	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/internal/twogen"
)

// certRequests remembers the summaries of recent CertificateRequest
// messages. A server that asks for client certificates sends the same
// message, often with a long list of CA names, on every connection, and
// formatting those names is most of the work: a repeated message gets the
// same *CertRequest, shared between summaries like their certificates and
// name lists (read-only).
//
// Bounded: two generations (twogen.Map) of at most certReqEntries messages
// of at most maxCertReqBytes each; a longer message is summarized every
// time. A message that did not parse cleanly is not kept, so that its
// warning is given every time. Not safe for concurrent use: one per
// Tracker. The nil *certRequests summarizes every message afresh.
type certRequests struct {
	m   *twogen.Map[*CertRequest]
	key []byte // scratch: the version, then the message body
}

const (
	certReqEntries  = 128
	maxCertReqBytes = 8 << 10
)

func newCertRequests() *certRequests {
	return &certRequests{m: twogen.New[*CertRequest](certReqEntries)}
}

// summary returns the CertRequest of a CertificateRequest body in the
// negotiated version, nil if nothing could be read of it; a parse error is
// passed to warn.
func (cr *certRequests) summary(body []byte, version uint16, warn func(error)) *CertRequest {
	summarize := func(string) (*CertRequest, bool) {
		m, err := dissect.ParseCertificateRequest(body, version)
		if err != nil {
			warn(err)
		}
		if m == nil {
			return nil, false
		}
		return certRequest(m), err == nil // kept only when clean
	}
	if cr == nil || len(body) > maxCertReqBytes {
		s, _ := summarize("")
		return s
	}
	k := append(cr.key[:0], byte(version>>8), byte(version))
	cr.key = append(k, body...)
	return cr.m.Lookup(cr.key, summarize)
}
