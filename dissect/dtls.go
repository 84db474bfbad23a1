package dissect

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
)

// DTLS (RFC 6347, RFC 9147) carries the TLS handshake over datagrams: each
// record has an explicit epoch and sequence number, and each handshake
// message a 12-byte header (msg_type, length, message_seq, fragment_offset,
// fragment_length) so that it can be fragmented over records and datagrams,
// retransmitted, and reassembled by message_seq whatever the arrival order.
//
// DTLSHalf is the DTLS counterpart of HalfStream: it takes one direction's
// datagrams and emits the same events, wrapped in DTLSEvent with the record
// fields DTLS adds.

// Record content types that only DTLS uses.
const (
	// RecordTLS12CID is tls12_cid: a DTLS 1.2 record carrying a connection
	// ID, always encrypted, its real content type inside (RFC 9146 §4).
	RecordTLS12CID uint8 = 25
	// RecordACK is a DTLS 1.3 ack record (RFC 9147 §7).
	RecordACK uint8 = 26
)

// VersionDTLS10OpenSSL is DTLS1_BAD_VER, the record and hello version of
// OpenSSL's DTLS before 0.9.8f (still sent by some old VPN clients).
const VersionDTLS10OpenSSL uint16 = 0x0100

// Connection ID extension code points: RFC 9146's, and the one of the
// drafts before it (still sent by older mbed TLS builds).
const (
	ExtensionConnectionID      uint16 = 54
	ExtensionConnectionIDDraft uint16 = 53
)

// dtlsHeaderLen is the DTLSPlaintext header: type(1) version(2) epoch(2)
// sequence_number(6) length(2).
const dtlsHeaderLen = 13

// dtlsHandshakeHeaderLen is the DTLS handshake header: msg_type(1) length(3)
// message_seq(2) fragment_offset(3) fragment_length(3).
const dtlsHandshakeHeaderLen = 12

// Limits of a DTLSHalf that are not configurable.
const (
	// dtlsMaxPending bounds the messages held (complete or not) while an
	// earlier message_seq is missing; real flights have at most 8.
	dtlsMaxPending = 32
	// dtlsWindow bounds how far past the next expected message_seq a
	// fragment may be and still be kept.
	dtlsWindow = 64
	// dtlsMaxStall is the number of datagrams after which messages waiting
	// behind a missing message_seq are delivered anyway.
	dtlsMaxStall = 64
	// dtlsRecent is the number of delivered messages remembered to tell a
	// retransmission from a new handshake.
	dtlsRecent = 32
	// dtlsMaxMissing bounds the message_seq values remembered as given up
	// on (delivered late if they complete after all).
	dtlsMaxMissing = 32
	// dtlsMaxAnomalies bounds the anomaly descriptions kept (all are counted).
	dtlsMaxAnomalies = 32
	// dtlsPrefix is how much of a delivered message is kept to recognise
	// its retransmissions: a hello's version and random.
	dtlsPrefix = 34
)

// ErrNotDTLS is wrapped by errors for datagrams, or the rest of a datagram,
// that cannot be DTLS records.
var ErrNotDTLS = errors.New("not a DTLS record")

// DTLSEvent is one thing found in a direction of a DTLS flow: an Event as
// HalfStream emits it, plus the DTLS record and message fields. Event.Body,
// Event.Record and CID are only valid during the callback.
//
// Event.RecordVersion is the record's version field (0xfeff, 0xfefd, or
// 0x0100 for OpenSSL's pre-standard DTLS); unified headers have none and
// carry 0. Event.Record is set for every record of an epoch above 0 (and
// every unified header), header included.
type DTLSEvent struct {
	Event
	// Epoch of the record; for a unified header only its two low bits.
	Epoch uint16
	// RecordSeq is the record's 48-bit sequence number; for a unified
	// header only its low 8 or 16 bits.
	RecordSeq uint64
	// MessageSeq is the message_seq of an EventHandshake or EventSkipped.
	MessageSeq uint16
	// CID is the connection ID of a tls12_cid record or of a unified
	// header, when its length is known (see Pair) or could be inferred
	// from the record length field.
	CID []byte
	// Unified marks a DTLS 1.3 record with the unified header (RFC 9147
	// §4): always encrypted, its content type hidden; it is emitted as
	// EventApplicationData with RecordType RecordApplicationData, like a
	// TLS 1.3 encrypted record.
	Unified bool
	// Retransmission marks a ChangeCipherSpec of an epoch already changed
	// to, and an encrypted handshake record that repeats the first one of
	// its epoch right after such a ChangeCipherSpec: a resent final flight.
	// (Retransmitted plaintext handshake messages are not emitted at all.)
	Retransmission bool
	// Late marks a handshake message delivered after messages with a
	// higher message_seq, because waiting for it was given up (see DTLSHalf).
	Late bool
}

// DTLSHalf turns the datagrams of one direction of a DTLS flow into events,
// one datagram at a time. Records are parsed independently (a datagram holds
// any number of them); the handshake messages of epoch 0 are reassembled
// from their fragments in any order, with overlaps and duplicates, and
// delivered once each, in message_seq order:
//
//   - a fragment of a message already delivered is a retransmission: it is
//     counted (Retransmissions, DuplicateFragments) and dropped, unless it
//     starts a new handshake: a hello (ClientHello, ServerHello,
//     HelloVerifyRequest) whose message_seq was used by a different message
//     or whose version and random differ (a client reconnecting from the
//     same port, RFC 6347 §4.2.8), which restarts the reassembly (Restarts);
//   - message_seq need not start at 0: after a HelloVerifyRequest the
//     client's second ClientHello has message_seq 1 and the server's
//     ServerHello follows with 1 (RFC 6347 §4.2.2; the DTLS 1.3
//     HelloRetryRequest exchange numbers the same way). Delivery starts at
//     message_seq 0 or at the first hello, whichever comes first;
//   - messages that wait behind a missing message_seq are delivered anyway
//     (Gaps) when the direction starts encrypting (a ChangeCipherSpec or a
//     record of a later epoch), sends an alert, when too many are waiting,
//     after dtlsMaxStall datagrams, or on Flush; the missing message, if it
//     completes later after all, is then delivered with Late set;
//   - a message longer than MaxMessage is emitted as EventSkipped in its
//     place, once;
//   - fragments that contradict what is held (another type or length for
//     the same message_seq, bytes that differ where fragments overlap, a
//     fragment beyond the message's length) are counted in Conflicts and
//     described in Anomalies; the bytes received first are kept.
//
// Records of epoch 1 and above are encrypted and emitted as such, like the
// records after a ChangeCipherSpec in HalfStream. Memory is bounded: at
// most dtlsMaxPending messages and MaxBuffer bytes are held per direction,
// whatever the input. A DTLSHalf never stops: a datagram that is not DTLS
// is counted in NotDTLS and reported by Write's error, and the next one is
// parsed as usual.
type DTLSHalf struct {
	// MaxMessage bounds a handshake message (DefaultMaxMessage when zero).
	MaxMessage int
	// MaxBuffer bounds the bytes of incomplete or waiting messages held
	// (twice MaxMessage when zero, and never less than MaxMessage).
	MaxBuffer int

	Datagrams int // datagrams written
	Records   int // records parsed
	Messages  int // handshake messages delivered
	Skipped   int // handshake messages skipped for being larger than MaxMessage
	// Retransmissions counts handshake messages received again after they
	// were delivered (counted once per copy, at its first fragment).
	Retransmissions int
	// DuplicateFragments counts fragments that brought no new byte.
	DuplicateFragments int
	// Conflicts counts fragments inconsistent with what was received
	// before (see the type's documentation).
	Conflicts int
	// Restarts counts new handshakes found on the flow (a hello reusing a
	// delivered message_seq).
	Restarts int
	// Gaps counts message_seq values passed over without their message.
	Gaps int
	// NotDTLS counts datagrams, or ends of datagrams, that are not DTLS.
	NotDTLS int
	// Truncated counts records and handshake fragments cut short by the
	// end of their datagram or record.
	Truncated int
	// Anomalies describes the first problems found (at most
	// dtlsMaxAnomalies); AnomalyCount counts them all.
	Anomalies    []string
	AnomalyCount int

	peer   *DTLSHalf
	ownCID []byte // connection ID this endpoint asked its peer to use
	hasOwn bool

	started  bool // next is known
	base     int  // the message_seq delivery started at
	next     int  // next message_seq to deliver
	pending  []*dtlsMessage
	buffered int // bytes allocated for pending messages
	recent   []dtlsDelivered
	missing  []uint16
	stall    int

	ccsSeen   bool
	ccsEpoch  uint16
	resending bool // the previous record was a retransmitted ChangeCipherSpec
	encSeen   bool
	encEpoch  uint16
	encLen    int
	cidSeen   bool
	cidEpoch  uint16
}

// dtlsMessage is a handshake message being reassembled.
type dtlsMessage struct {
	seq      uint16
	typ      uint8
	length   int
	buf      []byte // received bytes; len is the highest end received so far
	bits     []byte // which bytes of buf have been received
	have     int    // how many
	complete bool
	skipped  bool // longer than MaxMessage: stands in for the message
	err      error
	// The record that completed the message, for the event.
	ver    uint16
	recSeq uint64
	recLen int
}

// dtlsDelivered remembers a delivered message to recognise its copies.
type dtlsDelivered struct {
	seq    uint16
	typ    uint8
	length int
	prefix []byte
}

// Pair links the two directions of one flow, so that each takes the
// connection ID its records carry from the other's hello (the receiver's
// connection_id extension); without it that length is inferred from the
// record length field where there is one. Both keep a pointer to the
// other: neither may be copied afterwards.
func (h *DTLSHalf) Pair(peer *DTLSHalf) {
	h.peer = peer
	peer.peer = h
}

// Buffered returns the bytes currently held for incomplete or waiting
// handshake messages.
func (h *DTLSHalf) Buffered() int { return h.buffered }

// Pending returns the number of handshake messages currently held.
func (h *DTLSHalf) Pending() int { return len(h.pending) }

func (h *DTLSHalf) maxMessage() int {
	if h.MaxMessage > 0 {
		return h.MaxMessage
	}
	return DefaultMaxMessage
}

func (h *DTLSHalf) maxBuffer() int {
	b := h.MaxBuffer
	if b <= 0 {
		b = 2 * h.maxMessage()
	}
	return max(b, h.maxMessage())
}

func (h *DTLSHalf) anomaly(format string, args ...any) {
	h.AnomalyCount++
	if len(h.Anomalies) < dtlsMaxAnomalies {
		h.Anomalies = append(h.Anomalies, fmt.Sprintf(format, args...))
	}
}

// Write parses one datagram and calls emit for every event it completes.
// The error says why the datagram, or its end, could not be parsed (it
// wraps ErrNotDTLS when the bytes are not DTLS records); the events of the
// records before that point are emitted all the same, and later datagrams
// are parsed as usual.
func (h *DTLSHalf) Write(datagram []byte, emit func(DTLSEvent)) error {
	h.Datagrams++
	var err error
	b := datagram
	for len(b) > 0 && err == nil {
		var n int
		n, err = h.record(b, len(datagram)-len(b), emit)
		b = b[n:]
	}
	h.endDatagram(emit)
	return err
}

// Flush delivers every complete message still waiting behind a missing
// one, and forgets the messages that are incomplete (each is described in
// Anomalies). Call it when the flow ends; the DTLSHalf can still be written
// to afterwards.
func (h *DTLSHalf) Flush(emit func(DTLSEvent)) {
	h.deliver(emit, true)
	for _, m := range h.pending {
		h.anomaly("handshake message_seq %d (type %d) incomplete at the end: %d of %d bytes", m.seq, m.typ, m.have, m.length)
	}
	h.dropPending()
}

// record parses the record at the start of b (at offset off of its
// datagram) and returns its length.
func (h *DTLSHalf) record(b []byte, off int, emit func(DTLSEvent)) (int, error) {
	first := b[0]
	if first&0xe0 == 0x20 {
		return h.unified(b, off, emit)
	}
	if first < RecordChangeCipherSpec || first > RecordACK {
		return len(b), h.notDTLS(off, "content type %d", first)
	}
	if len(b) < dtlsHeaderLen {
		if off == 0 {
			return len(b), h.notDTLS(off, "%d bytes, shorter than a record header", len(b))
		}
		return len(b), h.truncated("DTLS record header truncated at datagram offset %d: %d bytes", off, len(b))
	}
	typ := first
	ver := uint16(b[1])<<8 | uint16(b[2])
	if b[1] != 0xfe && ver != VersionDTLS10OpenSSL {
		return len(b), h.notDTLS(off, "record version 0x%04x", ver)
	}
	epoch := uint16(b[3])<<8 | uint16(b[4])
	seq := uint64(b[5])<<40 | uint64(b[6])<<32 | uint64(b[7])<<24 | uint64(b[8])<<16 | uint64(b[9])<<8 | uint64(b[10])
	hdr := dtlsHeaderLen
	var cid []byte
	if typ == RecordTLS12CID {
		k, ok := h.cidLength()
		if !ok {
			k, ok = inferCIDLength(b, 11)
		}
		if !ok {
			h.anomaly("tls12_cid record at datagram offset %d: connection ID length unknown and not inferable; rest of the datagram taken as one record", off)
			ev := DTLSEvent{Event: Event{Kind: EventApplicationData, RecordType: typ, RecordVersion: ver, RecordLength: len(b) - 11, Record: b},
				Epoch: epoch, RecordSeq: seq}
			h.Records++
			h.deliver(emit, true)
			emit(ev)
			return len(b), nil
		}
		if len(b) < dtlsHeaderLen+k {
			return len(b), h.truncated("DTLS tls12_cid record header truncated at datagram offset %d", off)
		}
		cid = b[11 : 11+k]
		hdr += k
	}
	n := int(b[hdr-2])<<8 | int(b[hdr-1])
	if n > maxCiphertext {
		return len(b), h.notDTLS(off, "record length %d exceeds %d", n, maxCiphertext)
	}
	if len(b) < hdr+n {
		return len(b), h.truncated("DTLS record at datagram offset %d truncated: length %d, %d bytes left", off, n, len(b)-hdr)
	}
	h.Records++
	frag := b[hdr : hdr+n]
	ev := DTLSEvent{Event: Event{RecordType: typ, RecordVersion: ver, RecordLength: n}, Epoch: epoch, RecordSeq: seq, CID: cid}
	if epoch > 0 || typ == RecordApplicationData || typ == RecordTLS12CID {
		ev.Record = b[:hdr+n]
	}
	resending := h.resending
	h.resending = false
	switch typ {
	case RecordHandshake:
		if epoch == 0 {
			h.handshake(ver, seq, n, frag, emit)
			break
		}
		h.deliver(emit, true)
		ev.Kind = EventEncryptedHandshake
		switch {
		case !h.encSeen || epoch > h.encEpoch:
			h.encSeen, h.encEpoch, h.encLen = true, epoch, n
		case resending && epoch == h.encEpoch && n == h.encLen:
			ev.Retransmission = true
		}
		emit(ev)
	case RecordChangeCipherSpec:
		h.deliver(emit, true)
		ev.Kind = EventChangeCipherSpec
		if h.ccsSeen && epoch <= h.ccsEpoch {
			ev.Retransmission = true
			h.resending = true
		}
		h.ccsSeen, h.ccsEpoch = true, max(h.ccsEpoch, epoch)
		emit(ev)
	case RecordAlert:
		h.deliver(emit, true)
		if epoch > 0 || n != 2 {
			ev.Kind = EventEncryptedAlert
		} else {
			ev.Kind, ev.AlertLevel, ev.AlertDescription = EventAlert, frag[0], frag[1]
		}
		emit(ev)
	case RecordApplicationData:
		h.deliver(emit, true)
		ev.Kind = EventApplicationData
		emit(ev)
	case RecordHeartbeat:
		ev.Kind = EventHeartbeat
		emit(ev)
	case RecordTLS12CID:
		// The real content type is encrypted. The first record of a new
		// epoch is the Finished that follows the ChangeCipherSpec.
		h.deliver(emit, true)
		ev.Kind = EventApplicationData
		if !h.cidSeen || epoch > h.cidEpoch {
			h.cidSeen, h.cidEpoch = true, epoch
			ev.Kind = EventEncryptedHandshake
		}
		emit(ev)
	default:
		ev.Kind = EventUnknownRecord
		emit(ev)
	}
	return hdr + n, nil
}

func (h *DTLSHalf) notDTLS(off int, format string, args ...any) error {
	h.NotDTLS++
	msg := fmt.Sprintf(format, args...)
	if off > 0 {
		h.anomaly("datagram offset %d: %s: not a DTLS record; rest of the datagram ignored", off, msg)
	}
	return fmt.Errorf("%w: %s at datagram offset %d", ErrNotDTLS, msg, off)
}

// truncated counts a record cut short by the end of its datagram and
// returns the error that describes it, which is also kept in Anomalies.
func (h *DTLSHalf) truncated(format string, args ...any) error {
	h.Truncated++
	err := fmt.Errorf(format, args...)
	h.anomaly("%v", err)
	return err
}

// unified parses a DTLS 1.3 record with the unified header (RFC 9147 §4):
// 0 0 1 C S L E E, then the connection ID if C, an 8- or 16-bit sequence
// number (S), a 16-bit length if L (else the record fills the datagram),
// then the encrypted record.
func (h *DTLSHalf) unified(b []byte, off int, emit func(DTLSEvent)) (int, error) {
	first := b[0]
	hasCID, seq16, hasLen := first&0x10 != 0, first&0x08 != 0, first&0x04 != 0
	seqLen := 1
	if seq16 {
		seqLen = 2
	}
	ev := DTLSEvent{Event: Event{Kind: EventApplicationData, RecordType: RecordApplicationData}, Epoch: uint16(first & 3), Unified: true}
	k := 0
	if hasCID {
		var ok bool
		k, ok = h.cidLength()
		if !ok && hasLen {
			k, ok = inferCIDLength(b, 1+seqLen)
		}
		if !ok {
			// Without the connection ID's length nothing after it can be
			// found: take the rest of the datagram as the record.
			h.anomaly("unified header at datagram offset %d: connection ID of unknown length; rest of the datagram taken as one record", off)
			h.Records++
			ev.RecordLength, ev.Record = len(b)-1, b
			h.deliver(emit, true)
			emit(ev)
			return len(b), nil
		}
	}
	hdr := 1 + k + seqLen
	if hasLen {
		hdr += 2
	}
	if len(b) < hdr {
		return len(b), h.truncated("DTLS 1.3 unified header truncated at datagram offset %d: %d bytes", off, len(b))
	}
	if hasCID {
		ev.CID = b[1 : 1+k]
	}
	ev.RecordSeq = uint64(b[1+k])
	if seq16 {
		ev.RecordSeq = ev.RecordSeq<<8 | uint64(b[2+k])
	}
	n := len(b) - hdr
	if hasLen {
		n = int(b[hdr-2])<<8 | int(b[hdr-1])
		if len(b) < hdr+n {
			return len(b), h.truncated("DTLS 1.3 record at datagram offset %d truncated: length %d, %d bytes left", off, n, len(b)-hdr)
		}
	}
	h.Records++
	ev.RecordLength = n
	ev.Record = b[:hdr+n]
	h.deliver(emit, true)
	emit(ev)
	return hdr + n, nil
}

// cidLength returns the length of the connection ID in this direction's
// records, when known: the one the receiving endpoint asked for in its
// hello's connection_id extension (see Pair).
func (h *DTLSHalf) cidLength() (int, bool) {
	if h.peer != nil && h.peer.hasOwn {
		return len(h.peer.ownCID), true
	}
	return 0, false
}

// inferCIDLength finds the connection ID length k for which the 16-bit
// length field at b[at+k] makes the record end exactly at the end of the
// datagram: the usual case of a connection-ID record being the last (or
// only) one in its datagram. The connection ID is at most 255 bytes.
func inferCIDLength(b []byte, at int) (int, bool) {
	for k := 0; k <= 255; k++ {
		p := at + k
		if p+2 > len(b) {
			break
		}
		n := int(b[p])<<8 | int(b[p+1])
		if p+2+n == len(b) {
			return k, true
		}
	}
	return 0, false
}

// handshake splits an epoch-0 handshake record into its fragments.
func (h *DTLSHalf) handshake(ver uint16, recSeq uint64, recLen int, frag []byte, emit func(DTLSEvent)) {
	for len(frag) > 0 {
		if len(frag) < dtlsHandshakeHeaderLen {
			h.Truncated++
			h.anomaly("handshake fragment header truncated: %d bytes left in the record", len(frag))
			return
		}
		typ := frag[0]
		length := int(frag[1])<<16 | int(frag[2])<<8 | int(frag[3])
		seq := uint16(frag[4])<<8 | uint16(frag[5])
		off := int(frag[6])<<16 | int(frag[7])<<8 | int(frag[8])
		flen := int(frag[9])<<16 | int(frag[10])<<8 | int(frag[11])
		if len(frag) < dtlsHandshakeHeaderLen+flen {
			h.Truncated++
			h.anomaly("handshake message_seq %d (type %d): fragment_length %d exceeds the %d bytes left in the record", seq, typ, flen, len(frag)-dtlsHandshakeHeaderLen)
			return
		}
		data := frag[dtlsHandshakeHeaderLen : dtlsHandshakeHeaderLen+flen]
		frag = frag[dtlsHandshakeHeaderLen+flen:]
		h.fragment(typ, length, seq, off, data, ver, recSeq, recLen, emit)
	}
}

// flightStart reports whether a message of type typ begins a flight that a
// new handshake starts with.
func flightStart(typ uint8) bool {
	return typ == TypeClientHello || typ == TypeServerHello || typ == TypeHelloVerifyRequest
}

// fragment adds one handshake fragment.
func (h *DTLSHalf) fragment(typ uint8, length int, seq uint16, off int, data []byte, ver uint16, recSeq uint64, recLen int, emit func(DTLSEvent)) {
	end := off + len(data)
	if end > length {
		h.Conflicts++
		h.anomaly("handshake message_seq %d (type %d): fragment %d-%d beyond the message length %d", seq, typ, off, end, length)
		return
	}
	if h.started && int(seq) < h.next && !h.isMissing(seq) {
		d := h.delivered(seq)
		switch {
		case d == nil && int(seq) < h.base:
			// Earlier than where delivery started (reordered, or the
			// capture began with a later hello): deliver it late.
			h.miss(seq)
		case d != nil && off == 0 && flightStart(typ) &&
			(d.typ != typ || d.length != length || !bytes.Equal(d.prefix[:min(len(d.prefix), len(data))], data[:min(len(d.prefix), len(data))])):
			h.restart(seq, typ)
		case d != nil && (d.typ != typ || d.length != length):
			h.Conflicts++
			h.anomaly("handshake message_seq %d resent as type %d length %d, delivered as type %d length %d (resend ignored)", seq, typ, length, d.typ, d.length)
			return
		default:
			h.DuplicateFragments++
			if off == 0 {
				h.Retransmissions++
			}
			return
		}
	}
	if h.started && int(seq) >= h.next+dtlsWindow {
		h.anomaly("handshake message_seq %d too far ahead of %d: fragment ignored", seq, h.next)
		return
	}
	m := h.find(seq)
	if m == nil {
		if len(h.pending) >= dtlsMaxPending {
			h.deliver(emit, true)
		}
		if len(h.pending) >= dtlsMaxPending {
			// Make room by dropping the incomplete message furthest ahead,
			// if it is further ahead than this one.
			last := h.pending[len(h.pending)-1]
			if last.complete || last.seq < seq {
				h.anomaly("handshake message_seq %d: %d messages already held, fragment ignored", seq, len(h.pending))
				return
			}
			h.anomaly("handshake message_seq %d: %d messages already held, incomplete message_seq %d dropped", seq, len(h.pending), last.seq)
			h.remove(last)
		}
		m = &dtlsMessage{seq: seq, typ: typ, length: length}
		h.insert(m)
		if length > h.maxMessage() {
			m.skipped, m.complete = true, true
			m.ver, m.recSeq, m.recLen = ver, recSeq, recLen
			m.err = fmt.Errorf("handshake message type %d claims %d bytes, more than the %d-byte limit: skipped", typ, length, h.maxMessage())
			h.deliver(emit, false)
			return
		}
	} else if m.typ != typ || m.length != length {
		h.Conflicts++
		h.anomaly("handshake message_seq %d: fragment says type %d length %d, earlier ones type %d length %d (fragment ignored)", seq, typ, length, m.typ, m.length)
		return
	}
	if m.complete {
		h.DuplicateFragments++
		return
	}
	h.store(m, off, data)
	if m.complete {
		m.ver, m.recSeq, m.recLen = ver, recSeq, recLen
	}
	h.deliver(emit, false)
}

// store copies a fragment's new bytes into m. Which bytes have arrived is
// kept in a bitmap, so any order and overlap of fragments costs time in
// proportion to their length only.
func (h *DTLSHalf) store(m *dtlsMessage, off int, data []byte) {
	end := off + len(data)
	if end > cap(m.buf) {
		c := end
		if m.length <= 1<<16 {
			c = m.length // small messages: allocate once
		} else {
			c = min(m.length, max(end, 2*cap(m.buf)))
		}
		more := c - cap(m.buf) + (c+7)/8 - len(m.bits)
		if h.buffered+more > h.maxBuffer() {
			h.anomaly("handshake message_seq %d (type %d, %d bytes): buffer limit of %d bytes reached, fragment ignored", m.seq, m.typ, m.length, h.maxBuffer())
			return
		}
		h.buffered += more
		nb := make([]byte, len(m.buf), c)
		copy(nb, m.buf)
		m.buf = nb
		bits := make([]byte, (c+7)/8)
		copy(bits, m.bits)
		m.bits = bits
	}
	if end > len(m.buf) {
		m.buf = m.buf[:end]
	}
	conflict, fresh := false, false
	for i := off; i < end; i++ {
		bit := byte(1) << (i & 7)
		if m.bits[i>>3]&bit != 0 {
			conflict = conflict || m.buf[i] != data[i-off]
			continue
		}
		m.buf[i] = data[i-off]
		m.bits[i>>3] |= bit
		m.have++
		fresh = true
	}
	if conflict {
		h.Conflicts++
		h.anomaly("handshake message_seq %d (type %d): fragment %d-%d disagrees with bytes already received (first ones kept)", m.seq, m.typ, off, end)
	} else if !fresh && len(data) > 0 {
		h.DuplicateFragments++
	}
	m.complete = m.have == m.length
}

// deliver emits the messages that can be delivered. With force, messages
// waiting behind missing ones are delivered too, the missing message_seq
// values being given up on.
func (h *DTLSHalf) deliver(emit func(DTLSEvent), force bool) {
	for {
		// Messages given up on that completed after all.
		late := false
		for _, m := range h.pending {
			if m.complete && h.isMissing(m.seq) {
				h.unmiss(m.seq)
				h.emitMessage(m, true, emit)
				late = true
				break
			}
		}
		if late {
			continue
		}
		if len(h.pending) == 0 {
			return
		}
		if !h.started {
			m := h.pending[0]
			if !m.complete || m.seq != 0 && !flightStart(m.typ) {
				if !force {
					return
				}
				m = h.firstComplete(0)
				if m == nil {
					return
				}
			}
			h.started, h.next = true, int(h.pending[0].seq)
			h.base = h.next
		}
		if h.next <= 0xffff {
			if m := h.find(uint16(h.next)); m != nil && m.complete {
				h.emitMessage(m, false, emit)
				h.next++
				continue
			}
		}
		if !force {
			return
		}
		m := h.firstComplete(h.next)
		if m == nil {
			return
		}
		// Give up on next .. m.seq-1.
		for s := h.next; s < int(m.seq); s++ {
			h.miss(uint16(s))
		}
		h.Gaps += int(m.seq) - h.next
		if int(m.seq)-1 == h.next {
			h.anomaly("handshake message_seq %d not received; later messages delivered without it", h.next)
		} else {
			h.anomaly("handshake message_seq %d-%d not received; later messages delivered without them", h.next, int(m.seq)-1)
		}
		h.next = int(m.seq)
	}
}

// firstComplete returns the complete pending message with the lowest
// message_seq at or above from.
func (h *DTLSHalf) firstComplete(from int) *dtlsMessage {
	for _, m := range h.pending {
		if int(m.seq) >= from && m.complete {
			return m
		}
	}
	return nil
}

func (h *DTLSHalf) emitMessage(m *dtlsMessage, late bool, emit func(DTLSEvent)) {
	ev := DTLSEvent{Event: Event{RecordType: RecordHandshake, RecordVersion: m.ver, RecordLength: m.recLen, HandshakeType: m.typ},
		RecordSeq: m.recSeq, MessageSeq: m.seq, Late: late}
	if m.skipped {
		h.Skipped++
		ev.Kind, ev.Err = EventSkipped, m.err
	} else {
		h.Messages++
		ev.Kind, ev.Body = EventHandshake, m.buf[:m.length]
		h.learnCID(m)
	}
	d := dtlsDelivered{seq: m.seq, typ: m.typ, length: m.length}
	if !m.skipped {
		d.prefix = append([]byte(nil), m.buf[:min(m.length, dtlsPrefix)]...)
	}
	if len(h.recent) >= dtlsRecent {
		h.recent = append(h.recent[:0], h.recent[1:]...)
	}
	h.recent = append(h.recent, d)
	emit(ev)
	h.remove(m)
}

// learnCID records the connection ID this endpoint asks for in its hello.
func (h *DTLSHalf) learnCID(m *dtlsMessage) {
	var exts []Extension
	switch m.typ {
	case TypeClientHello:
		ch, _ := ParseDTLSClientHello(m.buf[:m.length])
		exts = ch.Extensions
	case TypeServerHello:
		sh, _ := ParseServerHello(m.buf[:m.length])
		exts = sh.Extensions
	default:
		return
	}
	if cid, ok := connectionID(exts); ok {
		h.ownCID, h.hasOwn = cid, true
	}
}

// connectionID returns the connection ID of a hello's connection_id
// extension (RFC 9146 §3, or the draft code point 53): the one the sender
// asks its peer to put in the records it sends to it. The slice aliases the
// extension data.
func connectionID(exts []Extension) ([]byte, bool) {
	for _, typ := range []uint16{ExtensionConnectionID, ExtensionConnectionIDDraft} {
		for _, e := range exts {
			if e.Type != typ {
				continue
			}
			s := cryptobyte.String(e.Data)
			var cid cryptobyte.String
			if s.ReadUint8LengthPrefixed(&cid) && s.Empty() {
				return cid, true
			}
		}
	}
	return nil, false
}

// endDatagram delivers waiting messages after dtlsMaxStall datagrams in a
// row ended with complete messages that could not be delivered.
func (h *DTLSHalf) endDatagram(emit func(DTLSEvent)) {
	if h.firstComplete(0) == nil {
		h.stall = 0
		return
	}
	h.stall++
	if h.stall >= dtlsMaxStall {
		h.stall = 0
		h.deliver(emit, true)
	}
}

// restart forgets the current handshake: a hello with message_seq seq is
// not a copy of the message delivered under that number.
func (h *DTLSHalf) restart(seq uint16, typ uint8) {
	h.Restarts++
	h.anomaly("handshake message_seq %d (type %d) differs from the message delivered with that number: a new handshake starts", seq, typ)
	h.dropPending()
	h.recent = h.recent[:0]
	h.missing = h.missing[:0]
	h.next, h.base = int(seq), int(seq)
	h.stall = 0
}

func (h *DTLSHalf) dropPending() {
	for _, m := range h.pending {
		m.buf, m.bits = nil, nil
	}
	clear(h.pending)
	h.pending = h.pending[:0]
	h.buffered = 0
}

func (h *DTLSHalf) find(seq uint16) *dtlsMessage {
	for _, m := range h.pending {
		if m.seq == seq {
			return m
		}
	}
	return nil
}

func (h *DTLSHalf) insert(m *dtlsMessage) {
	i := 0
	for i < len(h.pending) && h.pending[i].seq < m.seq {
		i++
	}
	h.pending = append(h.pending, nil)
	copy(h.pending[i+1:], h.pending[i:])
	h.pending[i] = m
}

func (h *DTLSHalf) remove(m *dtlsMessage) {
	for i, p := range h.pending {
		if p == m {
			h.pending = slices.Delete(h.pending, i, i+1)
			break
		}
	}
	h.buffered -= cap(m.buf) + len(m.bits)
	m.buf, m.bits = nil, nil
}

func (h *DTLSHalf) delivered(seq uint16) *dtlsDelivered {
	for i := len(h.recent) - 1; i >= 0; i-- {
		if h.recent[i].seq == seq {
			return &h.recent[i]
		}
	}
	return nil
}

func (h *DTLSHalf) isMissing(seq uint16) bool {
	for _, s := range h.missing {
		if s == seq {
			return true
		}
	}
	return false
}

func (h *DTLSHalf) miss(seq uint16) {
	if len(h.missing) >= dtlsMaxMissing {
		// Forget the oldest, and any part of it that is held.
		if m := h.find(h.missing[0]); m != nil {
			h.remove(m)
		}
		h.missing = append(h.missing[:0], h.missing[1:]...)
	}
	h.missing = append(h.missing, seq)
}

func (h *DTLSHalf) unmiss(seq uint16) {
	for i, s := range h.missing {
		if s == seq {
			h.missing = append(h.missing[:i], h.missing[i+1:]...)
			return
		}
	}
}

// IsDTLSClientHello reports whether a datagram starts with a DTLS record
// carrying the first fragment of a ClientHello (epoch 0, fragment_offset
// 0, a DTLS client_version): how a DTLS flow is found by content on any
// UDP port.
func IsDTLSClientHello(datagram []byte) bool {
	b := datagram
	if len(b) < dtlsHeaderLen+dtlsHandshakeHeaderLen+2 || b[0] != RecordHandshake {
		return false
	}
	ver := uint16(b[1])<<8 | uint16(b[2])
	if b[1] != 0xfe && ver != VersionDTLS10OpenSSL || b[3] != 0 || b[4] != 0 {
		return false
	}
	n := int(b[11])<<8 | int(b[12])
	if n < dtlsHandshakeHeaderLen+2 || len(b) < dtlsHeaderLen+n {
		return false
	}
	f := b[dtlsHeaderLen : dtlsHeaderLen+n]
	length := int(f[1])<<16 | int(f[2])<<8 | int(f[3])
	off := int(f[6])<<16 | int(f[7])<<8 | int(f[8])
	flen := int(f[9])<<16 | int(f[10])<<8 | int(f[11])
	cv := uint16(f[12])<<8 | uint16(f[13])
	return f[0] == TypeClientHello && off == 0 && flen >= 2 && flen <= length &&
		dtlsHandshakeHeaderLen+flen <= n && (f[12] == 0xfe || cv == VersionDTLS10OpenSSL)
}

// HelloVerifyRequest is a parsed HelloVerifyRequest body (RFC 6347 §4.2.1):
// a DTLS 1.0/1.2 server's stateless cookie, which the client echoes in a
// second ClientHello.
type HelloVerifyRequest struct {
	Raw []byte
	// ServerVersion is the version field; RFC 6347 has servers send DTLS
	// 1.0 (0xfeff) here whatever they will negotiate.
	ServerVersion uint16
	Cookie        []byte // aliases the body
	Anomalies     []string
}

// ParseHelloVerifyRequest parses a HelloVerifyRequest body.
func ParseHelloVerifyRequest(body []byte) (*HelloVerifyRequest, error) {
	m := &HelloVerifyRequest{Raw: body}
	r := newReader("HelloVerifyRequest", body, &m.Anomalies)
	if err := r.u16("server_version", &m.ServerVersion); err != nil {
		return m, err
	}
	if m.ServerVersion>>8 != 0xfe && m.ServerVersion != VersionDTLS10OpenSSL {
		r.note("server_version", 0, "0x%04x is not a DTLS version", m.ServerVersion)
	}
	if err := r.vecBytes("cookie", 1, &m.Cookie); err != nil {
		return m, err
	}
	if len(m.Cookie) == 0 {
		r.note("cookie", 2, "empty cookie")
	}
	r.trailing("message")
	return m, nil
}
