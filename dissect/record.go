package dissect

import (
	"errors"
	"fmt"
	"sync"
)

// Record content types (RFC 8446 §5.1, RFC 6520).
const (
	RecordChangeCipherSpec uint8 = 20
	RecordAlert            uint8 = 21
	RecordHandshake        uint8 = 22
	RecordApplicationData  uint8 = 23
	RecordHeartbeat        uint8 = 24
)

// Handshake message types (RFC 8446 §4, RFC 5246 §7.4, RFC 6066 §8).
const (
	TypeHelloRequest        uint8 = 0
	TypeClientHello         uint8 = 1
	TypeServerHello         uint8 = 2
	TypeHelloVerifyRequest  uint8 = 3
	TypeNewSessionTicket    uint8 = 4
	TypeEndOfEarlyData      uint8 = 5
	TypeEncryptedExtensions uint8 = 8
	TypeCertificate         uint8 = 11
	TypeServerKeyExchange   uint8 = 12
	TypeCertificateRequest  uint8 = 13
	TypeServerHelloDone     uint8 = 14
	TypeCertificateVerify   uint8 = 15
	TypeClientKeyExchange   uint8 = 16
	TypeFinished            uint8 = 20
	TypeCertificateURL      uint8 = 21
	TypeCertificateStatus   uint8 = 22
	TypeKeyUpdate           uint8 = 24
	TypeCompressedCert      uint8 = 25
	TypeMessageHash         uint8 = 254
)

// SSLv2 message types (draft-hickman-netscape-ssl-00) that an observer can read.
const (
	SSLv2ClientHello     uint8 = 1
	SSLv2ClientMasterKey uint8 = 2
	SSLv2ServerHello     uint8 = 4
)

// maxCiphertext is the largest record fragment any TLS version allows
// (2^14 plus 2048 bytes of expansion, RFC 5246 §6.2.3).
const maxCiphertext = 1<<14 + 2048

// DefaultMaxMessage bounds one handshake message. Real certificate chains
// stay below it (the largest seen in public captures is 340 KB); a larger
// claim is reported and skipped.
const DefaultMaxMessage = 1 << 20

// EventKind says what a HalfStream found.
type EventKind uint8

const (
	// EventHandshake is a plaintext handshake message, reassembled across records.
	EventHandshake EventKind = iota + 1
	// EventChangeCipherSpec is a ChangeCipherSpec record.
	EventChangeCipherSpec
	// EventAlert is a plaintext alert.
	EventAlert
	// EventEncryptedAlert is an alert record sent after ChangeCipherSpec.
	EventEncryptedAlert
	// EventEncryptedHandshake is a handshake record sent after ChangeCipherSpec
	// (Finished, or a renegotiation).
	EventEncryptedHandshake
	// EventApplicationData is an application_data record: in TLS 1.3 this is
	// also how every encrypted handshake message travels.
	EventApplicationData
	// EventHeartbeat is a heartbeat record (RFC 6520).
	EventHeartbeat
	// EventSSLv2 is an SSLv2-format record: SSLv2 hello messages and
	// SSLv2-compatible ClientHellos (RFC 5246 appendix E.2).
	EventSSLv2
	// EventUnknownRecord is a record whose content type is not known.
	EventUnknownRecord
	// EventSkipped reports a handshake message that was not reassembled
	// because it is larger than the limit; Err says why.
	EventSkipped
)

// Event is one thing found in a direction of a TLS stream. Body is only
// valid during the callback.
type Event struct {
	Kind          EventKind
	RecordType    uint8
	RecordVersion uint16
	// RecordLength is the fragment length of the record that carried the event.
	RecordLength int
	// HandshakeType and Body for EventHandshake; for EventSSLv2 HandshakeType
	// is the SSLv2 message type and Body starts at that byte.
	HandshakeType uint8
	Body          []byte
	// AlertLevel and AlertDescription for EventAlert.
	AlertLevel       uint8
	AlertDescription uint8
	Err              error
	// Record is the whole record (header and fragment) of an encrypted
	// event (EventApplicationData, EventEncryptedHandshake,
	// EventEncryptedAlert), for a caller that holds the keys; valid during
	// the callback only.
	Record []byte
	// Decrypted marks events of content that WritePlain was given.
	Decrypted bool
}

// ErrNotTLS is wrapped by errors for bytes that cannot be a TLS record.
var ErrNotTLS = errors.New("not a TLS record")

// HalfStream turns the bytes of one direction of a TLS connection into
// events. It is an incremental parser: Write may be called with any split
// of the stream. After it returns an error the stream is no longer parsed.
type HalfStream struct {
	// MaxMessage bounds a handshake message (DefaultMaxMessage when zero).
	MaxMessage int

	pending  []byte  // bytes of an incomplete record
	pbuf     *[]byte // the recordBufs buffer pending was made in, to give back
	hs       []byte  // bytes of incomplete handshake messages
	hsVer    uint16
	skip     int   // handshake bytes still to skip from an oversized message
	ccs      bool  // ChangeCipherSpec seen: later handshake and alert records are encrypted
	tls13    bool  // ChangeCipherSpec is only for middlebox compatibility
	tlsSeen  bool  // a TLS-format record was seen, so SSLv2 framing is no longer possible
	sslv2    bool  // the stream began with an SSLv2 record
	offset   int64 // stream offset of pending[0], for error messages
	failed   error
	records  int
	Messages int // handshake messages delivered
	Skipped  int // handshake messages skipped for being larger than MaxMessage
}

// SetTLS13 tells the stream that TLS 1.3 was negotiated (or a
// HelloRetryRequest sent): its ChangeCipherSpec records are then only for
// middlebox compatibility (RFC 8446 §D.4) and do not start encryption;
// encrypted records travel as application_data. A compatibility
// ChangeCipherSpec already seen is forgotten.
func (h *HalfStream) SetTLS13() {
	h.tls13 = true
	h.ccs = false
}

// Encrypted reports whether a ChangeCipherSpec has been seen in this direction.
func (h *HalfStream) Encrypted() bool { return h.ccs }

// Err returns the error that stopped parsing, if any.
func (h *HalfStream) Err() error { return h.failed }

// Write parses p and calls emit for every complete event.
//
// Only the bytes of an incomplete record are copied: a record begun in an
// earlier call is completed from the start of p (and parsed on its own),
// and the records after it are parsed in p itself.
func (h *HalfStream) Write(p []byte, emit func(Event)) error {
	if h.failed != nil {
		return h.failed
	}
	for len(h.pending) > 0 && len(p) > 0 {
		k := h.completes(p)
		h.pending = append(h.pending, p[:k]...)
		p = p[k:]
		n, err := h.parse(h.pending, emit)
		h.offset += int64(n)
		if err != nil {
			return h.fail(err)
		}
		// Keep what is still incomplete; append copies (memmove) even
		// though the ranges overlap.
		h.pending = append(h.pending[:0], h.pending[n:]...)
	}
	if len(h.pending) > 0 {
		return nil // p is used up; the pending record is still incomplete
	}
	n, err := h.parse(p, emit)
	h.offset += int64(n)
	if err != nil {
		return h.fail(err)
	}
	h.keep(p[n:])
	return nil
}

func (h *HalfStream) fail(err error) error {
	h.failed = err
	h.pending, h.pbuf = nil, nil
	h.hs = nil
	return err
}

// frame reads the header of the record b starts with: before any TLS
// record, an SSLv2 one (a 2-byte header, high bit set, 15-bit length, or
// with padding a 3-byte header, 14-bit length and padding length, which
// only encrypted SSLv2 records use), else a TLS one (5 bytes). hdr is the
// header's size and n the length it gives; ok is false when b is too
// short to hold the header.
func (h *HalfStream) frame(b []byte) (sslv2 bool, hdr, n int, ok bool) {
	if len(b) == 0 {
		return false, 0, 0, false
	}
	if !h.tlsSeen && (b[0]&0x80 != 0 || h.sslv2 && !looksLikeTLSHeader(b)) {
		hdr, n = 2, int(b[0]&0x7f)<<8
		if b[0]&0x80 == 0 {
			hdr, n = 3, int(b[0]&0x3f)<<8
		}
		if len(b) < hdr+1 {
			return true, hdr, 0, false
		}
		return true, hdr, n | int(b[1]), true
	}
	if len(b) < 5 {
		return false, 5, 0, false
	}
	return false, 5, int(b[3])<<8 | int(b[4]), true
}

// recordSize is the size (header included) of the record that starts b as
// parse will read it, or -1 when b is too short to tell.
func (h *HalfStream) recordSize(b []byte) int {
	if _, hdr, n, ok := h.frame(b); ok {
		return hdr + n
	}
	return -1
}

// completes returns how many bytes of p complete the record that starts
// in pending, or len(p) when p does not hold all of it (or its header
// cannot be read yet).
func (h *HalfStream) completes(p []byte) int {
	var hb [5]byte // the first bytes of pending and p, for the header
	m := copy(hb[:], h.pending)
	m += copy(hb[m:], p)
	k := h.recordSize(hb[:m]) - len(h.pending)
	if k <= 0 || k > len(p) {
		return len(p)
	}
	return k
}

// keep makes rest, the start of an incomplete record, the pending bytes,
// with room for the whole record when its header says how long it is.
func (h *HalfStream) keep(rest []byte) {
	if len(rest) == 0 {
		h.pending = nil
		putRecordBuf(h.pbuf)
		h.pbuf = nil
		return
	}
	size := len(rest)
	if n := h.recordSize(rest); n > size && n <= 5+maxCiphertext {
		size = n
	}
	if cap(h.pending) < size {
		putRecordBuf(h.pbuf)
		h.pbuf = getRecordBuf(size)
		h.pending = *h.pbuf
	}
	h.pending = append(h.pending[:0], rest...)
}

// recordBufs hold the buffers of records that arrive in pieces (a server's
// first flight spans several TCP segments), by size class (recordSizes).
// A stream gives its buffer back as soon as no record is incomplete, most
// often before its connection ends, so that the next connection's record
// reuses it instead of allocating (and zeroing) one: a quarter of the bytes
// allocated for a capture of short connections.
var recordBufs [len(recordSizes)]sync.Pool // of *[]byte

// recordSizes are the buffers' sizes, up to the largest record.
var recordSizes = [...]int{1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10, 5 + maxCiphertext}

// recordClass is the size class for n bytes, or -1 for none (n is more
// than the largest record, as an SSLv2 record may be).
func recordClass(n int) int {
	for i, size := range recordSizes {
		if n <= size {
			return i
		}
	}
	return -1
}

// getRecordBuf returns an empty buffer with room for n bytes. The pointer
// goes back to putRecordBuf as it came: putting a new one would allocate.
func getRecordBuf(n int) *[]byte {
	c := recordClass(n)
	if c < 0 {
		b := make([]byte, 0, n)
		return &b
	}
	if p, _ := recordBufs[c].Get().(*[]byte); p != nil {
		*p = (*p)[:0]
		return p
	}
	b := make([]byte, 0, recordSizes[c])
	return &b
}

// putRecordBuf gives p back (nil: nothing), when getRecordBuf made it for
// a size class. Whatever was made in *p, no one reads it again.
func putRecordBuf(p *[]byte) {
	if p == nil {
		return
	}
	if c := recordClass(cap(*p)); c >= 0 && cap(*p) == recordSizes[c] {
		recordBufs[c].Put(p)
	}
}

// parse consumes whole records from data and returns how many bytes it used.
func (h *HalfStream) parse(data []byte, emit func(Event)) (int, error) {
	used := 0
	for {
		b := data[used:]
		if len(b) == 0 {
			return used, nil
		}
		sslv2, hdr, n, ok := h.frame(b)
		if sslv2 {
			if !ok {
				return used, nil
			}
			if n == 0 {
				return used, fmt.Errorf("%w: SSLv2 record of length 0 at offset %d", ErrNotTLS, h.offset+int64(used))
			}
			if len(b) < hdr+n {
				return used, nil
			}
			h.sslv2 = true
			h.records++
			emit(Event{Kind: EventSSLv2, RecordLength: n, HandshakeType: b[hdr], Body: b[hdr : hdr+n]})
			used += hdr + n
			continue
		}
		if !ok {
			if err := checkHeaderPrefix(b); err != nil {
				return used, fmt.Errorf("%w at offset %d", err, h.offset+int64(used))
			}
			return used, nil
		}
		typ, ver := b[0], uint16(b[1])<<8|uint16(b[2])
		if err := checkHeader(typ, ver, n); err != nil {
			return used, fmt.Errorf("%w at offset %d", err, h.offset+int64(used))
		}
		if len(b) < 5+n {
			return used, nil
		}
		h.tlsSeen = true
		h.records++
		frag := b[5 : 5+n]
		used += 5 + n
		ev := Event{RecordType: typ, RecordVersion: ver, RecordLength: n}
		if h.ccs || typ == RecordApplicationData {
			ev.Record = b[:5+n]
		}
		switch typ {
		case RecordChangeCipherSpec:
			h.ccs = !h.tls13
			ev.Kind = EventChangeCipherSpec
			emit(ev)
		case RecordAlert:
			if h.ccs || n != 2 {
				ev.Kind = EventEncryptedAlert
			} else {
				ev.Kind, ev.AlertLevel, ev.AlertDescription = EventAlert, frag[0], frag[1]
			}
			emit(ev)
		case RecordHandshake:
			if h.ccs && !plainClientHello(frag) {
				ev.Kind = EventEncryptedHandshake
				emit(ev)
				continue
			}
			h.handshake(ver, n, frag, emit)
		case RecordApplicationData:
			ev.Kind = EventApplicationData
			emit(ev)
		case RecordHeartbeat:
			ev.Kind = EventHeartbeat
			emit(ev)
		default:
			ev.Kind = EventUnknownRecord
			emit(ev)
		}
	}
}

// WritePlain parses the plaintext of a record decrypted by the caller:
// handshake messages (reassembled across records like plaintext ones),
// alerts and application data, emitted with Decrypted set. contentType is
// the record's (TLS 1.3: the inner) content type.
func (h *HalfStream) WritePlain(contentType uint8, plain []byte, emit func(Event)) {
	mark := func(ev Event) {
		ev.Decrypted = true
		emit(ev)
	}
	ev := Event{RecordType: contentType, RecordVersion: h.hsVer, RecordLength: len(plain), Decrypted: true}
	switch contentType {
	case RecordHandshake:
		h.handshake(h.hsVer, len(plain), plain, mark)
	case RecordAlert:
		if len(plain) != 2 {
			ev.Kind, ev.Err = EventSkipped, fmt.Errorf("decrypted alert of %d bytes (want 2)", len(plain))
		} else {
			ev.Kind, ev.AlertLevel, ev.AlertDescription = EventAlert, plain[0], plain[1]
		}
		emit(ev)
	case RecordApplicationData:
		ev.Kind = EventApplicationData
		emit(ev)
	case RecordChangeCipherSpec:
		ev.Kind = EventChangeCipherSpec
		emit(ev)
	default:
		ev.Kind = EventUnknownRecord
		emit(ev)
	}
}

// handshake appends a handshake record's fragment and emits every complete
// message; messages may span records and records may hold several messages.
func (h *HalfStream) handshake(ver uint16, recLen int, frag []byte, emit func(Event)) {
	if h.skip > 0 {
		k := min(h.skip, len(frag))
		h.skip -= k
		frag = frag[k:]
	}
	if len(frag) == 0 {
		return
	}
	buf := frag
	if len(h.hs) > 0 {
		h.hs = append(h.hs, frag...)
		buf = h.hs
	} else {
		h.hsVer = ver
	}
	max := h.MaxMessage
	if max <= 0 {
		max = DefaultMaxMessage
	}
	for len(buf) >= 4 {
		typ := buf[0]
		n := int(buf[1])<<16 | int(buf[2])<<8 | int(buf[3])
		if n > max {
			h.Skipped++
			emit(Event{Kind: EventSkipped, RecordType: RecordHandshake, RecordVersion: ver, RecordLength: recLen, HandshakeType: typ,
				Err: fmt.Errorf("handshake message type %d claims %d bytes, more than the %d-byte limit: skipped", typ, n, max)})
			have := len(buf) - 4
			if have >= n {
				buf = buf[4+n:]
				continue
			}
			h.skip = n - have
			buf = nil
			break
		}
		if len(buf) < 4+n {
			break
		}
		h.Messages++
		emit(Event{Kind: EventHandshake, RecordType: RecordHandshake, RecordVersion: h.hsVer, RecordLength: recLen, HandshakeType: typ, Body: buf[4 : 4+n]})
		buf = buf[4+n:]
		h.hsVer = ver
	}
	// Keep the incomplete tail; copy so the caller's buffer can be reused.
	h.hs = append(h.hs[:0], buf...)
}

// plainClientHello recognises a whole ClientHello in a record sent after a
// ChangeCipherSpec: a TLS 1.3 client sends its middlebox-compatibility
// ChangeCipherSpec before the second ClientHello of a HelloRetryRequest
// exchange, and when the server's side is not captured nothing else tells
// the stream that it is TLS 1.3. An encrypted Finished matches this by
// chance with a probability of about 2^-40.
func plainClientHello(frag []byte) bool {
	if len(frag) < 4+38 || frag[0] != TypeClientHello {
		return false
	}
	n := int(frag[1])<<16 | int(frag[2])<<8 | int(frag[3])
	return n == len(frag)-4 && frag[4] == 3 && frag[5] <= 4
}

// looksLikeTLSHeader tells a TLS record header from an SSLv2 3-byte header
// in a stream that began with SSLv2 (an SSLv2-compatible ClientHello is
// followed by TLS records once the server answers in TLS).
func looksLikeTLSHeader(b []byte) bool {
	return b[0] >= RecordChangeCipherSpec && b[0] <= RecordHeartbeat && (len(b) < 2 || b[1] == 3) && (len(b) < 3 || b[2] <= 4)
}

func checkHeaderPrefix(b []byte) error {
	var hdr [5]byte
	copy(hdr[:], b)
	if len(b) >= 1 && (hdr[0] < RecordChangeCipherSpec || hdr[0] > RecordHeartbeat) {
		return fmt.Errorf("%w: content type %d", ErrNotTLS, hdr[0])
	}
	if len(b) >= 2 && hdr[1] != 3 {
		return fmt.Errorf("%w: record version major %d", ErrNotTLS, hdr[1])
	}
	return nil
}

func checkHeader(typ uint8, ver uint16, n int) error {
	if typ < RecordChangeCipherSpec || typ > RecordHeartbeat {
		return fmt.Errorf("%w: content type %d", ErrNotTLS, typ)
	}
	if ver>>8 != 3 {
		return fmt.Errorf("%w: record version 0x%04x", ErrNotTLS, ver)
	}
	if n > maxCiphertext {
		return fmt.Errorf("%w: record length %d exceeds %d", ErrNotTLS, n, maxCiphertext)
	}
	return nil
}
