package tlsconn

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// TLS 1.3 client-certificate inference from record sizes (research.md §A.4).
//
// Without keys, a TLS 1.3 client's handshake flight after the server's
// encrypted flight is a run of application_data records whose sizes give it
// away: every record adds 1 byte of inner content type and an AEAD tag, the
// Finished message is 4 + hash-length bytes, and an empty Certificate message
// (the answer to a CertificateRequest when the client has no certificate) is
// 8 bytes. A record carries a single inner content type, so handshake
// messages never share a record with application data; they may share one
// with each other (coalesced) or each take their own (what Go, OpenSSL and
// GnuTLS do).

// emptyCertificateLen is a TLS 1.3 Certificate message with no entries:
// 4-byte header, 1-byte empty request context, 3-byte empty list.
const emptyCertificateLen = 4 + 1 + 3

// endOfEarlyDataLen is the EndOfEarlyData message (header only).
const endOfEarlyDataLen = 4

// minCertFlight is the fewest handshake bytes a non-empty Certificate plus
// CertificateVerify can take: Certificate 8 + 3 + 32 (an Ed25519 raw public
// key, RFC 7250) + 2, CertificateVerify 4 + 2 + 2 + 64 (Ed25519 signature).
// X.509 chains are far larger.
const minCertFlight = emptyCertificateLen + 3 + 32 + 2 + 4 + 2 + 2 + 64

// maxFlightRecords bounds how many client records are waited for when the
// Finished cannot be told apart by its size (records of the largest size,
// which a long Certificate fills, do not count towards it).
const maxFlightRecords = 3

// maxFlightTotal is a hard bound on the records kept.
const maxFlightTotal = 64

// suiteSizes are the sizes a TLS 1.3 cipher suite gives the client's flight.
type suiteSizes struct {
	hash int    // Finished verify_data length
	tag  int    // AEAD tag (or MAC) per record
	hn   string // hash name for reasons
}

// tls13Suite returns the sizes for a TLS 1.3 cipher suite.
func tls13Suite(id uint16) (suiteSizes, bool) {
	switch id {
	case 0x1301, 0x1303, 0x1304: // AES_128_GCM_SHA256, CHACHA20_POLY1305_SHA256, AES_128_CCM_SHA256
		return suiteSizes{32, 16, "SHA-256"}, true
	case 0x1302: // AES_256_GCM_SHA384
		return suiteSizes{48, 16, "SHA-384"}, true
	case 0x1305: // AES_128_CCM_8_SHA256: 8-byte tag
		return suiteSizes{32, 8, "SHA-256, 8-byte tag"}, true
	case 0xc0b4: // TLS_SHA256_SHA256 (RFC 9150, integrity only: HMAC tag)
		return suiteSizes{32, 32, "SHA-256, integrity only"}, true
	case 0xc0b5: // TLS_SHA384_SHA384
		return suiteSizes{48, 48, "SHA-384, integrity only"}, true
	}
	return suiteSizes{}, false
}

// flightInput is what the tracker saw of the client's first encrypted flight.
type flightInput struct {
	suite uint16
	// records are the lengths of the client's application_data records sent
	// after the server's first encrypted record, in order (records before it
	// -- 0-RTT early data -- and ChangeCipherSpec records are not included).
	records []int
	// earlyData: the ClientHello offered early_data, so the flight may begin
	// with an EndOfEarlyData message.
	earlyData bool
	// final: no more records will be seen (connection ended or the client
	// stream was lost); lost says the latter.
	final, lost bool
}

// inferClientCert classifies the client's flight. done is false while more
// records are needed; with in.final it is always true. The returned value is
// never nil when done.
func inferClientCert(in flightInput) (inf *CertInference, done bool) {
	unknown := func(format string, a ...any) (*CertInference, bool) {
		return &CertInference{Reason: fmt.Sprintf(format, a...)}, true
	}
	sz, ok := tls13Suite(in.suite)
	if !ok {
		return unknown("cipher suite 0x%04x: its Finished and record overhead sizes are not known", in.suite)
	}
	over := 1 + sz.tag        // per-record overhead: inner content type + tag
	fin := 4 + sz.hash + over // a record holding only Finished
	alert := 2 + over         // a record holding only an alert
	full := 1<<14 + over      // a full record (a long Certificate fills these)
	// suite ends a reason; built only for one (this runs at every record).
	suite := func() string { return " (" + sz.hn + " suite)" }
	eoed := 0
	if in.earlyData {
		eoed = endOfEarlyDataLen
	}

	recs := in.records
	if len(recs) == 0 {
		if !in.final {
			return nil, false
		}
		if in.lost {
			return unknown("client stream lost before its first encrypted flight")
		}
		return unknown("no encrypted record from the client after the server's flight")
	}
	if recs[0] == alert {
		return unknown("client's first encrypted record after the server's flight is %d bytes, the size of an alert: the client probably aborted", alert)
	}
	// Coalesced: the first record holds the whole flight.
	switch {
	case eoed > 0 && recs[0] == fin+eoed:
		return decide(false, false, fmt.Sprintf("client's first encrypted flight is one %d-byte record: EndOfEarlyData + Finished%s", recs[0], suite()))
	case recs[0] == fin+emptyCertificateLen, eoed > 0 && recs[0] == fin+eoed+emptyCertificateLen:
		return decide(true, false, fmt.Sprintf("client's first encrypted flight is one %d-byte record: empty Certificate + Finished%s", recs[0], suite()))
	}
	// Split: the Finished is the first record of exactly its size.
	counted := 0
	for i, n := range recs {
		if n == fin {
			return splitFlight(recs[:i+1], over, eoed, suite)
		}
		if n < full {
			counted++
		}
	}
	if !in.final && counted < maxFlightRecords && len(recs) < maxFlightTotal {
		return nil, false
	}
	// No record of the Finished size: either everything was coalesced into
	// the first record and the later ones are application data, or the
	// records are padded.
	if recs[0] >= fin+minCertFlight {
		return decide(true, true, fmt.Sprintf("client's first encrypted record after the server's flight is %d bytes and no later one has the %d-byte size of a lone Finished: Certificate + CertificateVerify + Finished in one record%s", recs[0], fin, suite()))
	}
	what := "of the client's first"
	if in.lost {
		what = "before the client stream was lost, among its"
	} else if in.final && counted < maxFlightRecords {
		what = "before the connection ended, among the client's"
	}
	return unknown("no record of the %d-byte size of a lone Finished%s %s %d encrypted records (%s bytes): padded records or an unknown layout",
		fin, suite(), what, len(recs), joinSizes(recs, 8))
}

// splitFlight classifies a flight whose last record is the Finished alone.
func splitFlight(recs []int, over, eoed int, suite func() string) (*CertInference, bool) {
	pre := recs[:len(recs)-1]
	hs := 0
	for _, n := range pre {
		hs += n - over
	}
	sizes := joinSizes(recs, 8)
	switch {
	case hs == 0:
		return decide(false, false, fmt.Sprintf("client's first encrypted flight is one %d-byte record: Finished only%s", recs[0], suite()))
	case eoed > 0 && hs == eoed:
		return decide(false, false, fmt.Sprintf("client's first encrypted flight is %s bytes: EndOfEarlyData + Finished%s", sizes, suite()))
	case hs == emptyCertificateLen, eoed > 0 && hs == eoed+emptyCertificateLen:
		return decide(true, false, fmt.Sprintf("client's first encrypted flight is %s bytes: empty Certificate + Finished%s", sizes, suite()))
	case hs >= minCertFlight:
		return decide(true, true, fmt.Sprintf("client's first encrypted flight is %s bytes: Certificate + CertificateVerify (%d bytes of handshake) + Finished%s", sizes, hs, suite()))
	}
	return &CertInference{Reason: fmt.Sprintf("client's first encrypted flight is %s bytes: %d bytes of handshake before the Finished are neither an empty Certificate (%d) nor a certificate with its CertificateVerify (at least %d): padded records?",
		sizes, hs, emptyCertificateLen, minCertFlight)}, true
}

func decide(requested, sent bool, reason string) (*CertInference, bool) {
	return &CertInference{Requested: &requested, Sent: &sent, Reason: reason}, true
}

// joinSizes writes "25 + 53", eliding after max entries.
func joinSizes(ns []int, max int) string {
	parts := make([]string, 0, min(len(ns), max)+1)
	for i, n := range ns {
		if i == max {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, strconv.Itoa(n))
	}
	return strings.Join(parts, " + ")
}

// clientRecord13 takes the length of a client application_data record sent
// after the server's first encrypted record, until the flight is classified.
func (h *handshake) clientRecord13(n int) {
	if h.inferDone || len(h.flight13) >= maxFlightTotal {
		return
	}
	h.flight13 = append(h.flight13, n)
	h.inferred, h.inferDone = inferClientCert(h.flightInput(false))
}

// complete tells when the Summary can be emitted: once established, and in
// TLS 1.3 once the client's first flight has been classified (which takes
// at most a few client records, see inferClientCert) or can no longer be
// seen. A connection that ends first is reported at Close.
func (h *handshake) complete() bool {
	if h.decrypt != nil {
		return h.established() && h.decrypt.done()
	}
	return h.established() && (!h.tls13() || (h.inferDone || h.lost[client]) && h.replyKnown())
}

// replyKnown: the server's answer to the client's TLS 1.3 flight is known
// (or cannot be seen): a record that is not the size of an alert, or two
// records. One alert-sized record alone waits for what follows it.
func (h *handshake) replyKnown() bool {
	switch {
	case h.lost[server] || h.lost[client] || len(h.reply13) >= 2:
		return true
	case len(h.reply13) == 1:
		return !h.alertSized(h.reply13[0])
	}
	return false
}

// alertSized: a TLS 1.3 record of n bytes holds exactly an alert (2 bytes,
// the inner content type and the suite's tag).
func (h *handshake) alertSized(n int) bool {
	sizes, ok := tls13Suite(h.sh.CipherSuite)
	return ok && n == 2+1+sizes.tag
}

// refusal13 concludes, at the end of a TLS 1.3 connection read without
// keys, that the server refused the client's flight when its only answer
// was one alert-sized record before the connection closed (a server that
// accepts sends tickets or data; certificate_required and bad_certificate
// are such alerts). It is reported as an encrypted alert, with the
// reasoning in a warning.
func (h *handshake) refusal13() {
	if h.fatal || !h.inferDone || len(h.reply13) != 1 || !h.alertSized(h.reply13[0]) ||
		h.closeReason == "" || h.closeReason == tcpstream.CloseEndOfInput.String() {
		return
	}
	h.fatal = true
	h.mark(server, 'L')
	h.s.Alerts = append(h.s.Alerts, Alert{From: server.String(), Level: "encrypted", Description: "encrypted"})
	h.warn(fmt.Sprintf("the server answered the client's flight with one %d-byte record, the size of an encrypted alert, and the connection ended: taken as a refusal (--keylog reads the alert)", h.reply13[0]))
}

// inference13 returns the verdict, classifying what was seen when the
// connection ends before the flight is complete.
func (h *handshake) inference13() *CertInference {
	if h.enc13[server] == 0 && len(h.flight13) == 0 {
		return &CertInference{Reason: "the server's encrypted flight was not seen, so neither was the client's answer to it"}
	}
	if !h.inferDone {
		h.inferred, h.inferDone = inferClientCert(h.flightInput(true))
	}
	return h.inferred
}

func (h *handshake) flightInput(final bool) flightInput {
	in := flightInput{records: h.flight13, final: final, lost: h.lost[client]}
	if h.sh != nil {
		in.suite = h.sh.CipherSuite
	}
	if h.ch != nil {
		in.earlyData = h.ch.EarlyData
	}
	if h.lost[client] {
		in.final = true
	}
	return in
}
