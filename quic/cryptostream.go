package quic

import (
	"bytes"
	"fmt"
	"slices"
)

// DefaultMaxCryptoBuffer is the default CryptoStream.Max: 64 KiB, far more
// than a handshake flight needs (a ClientHello with a post-quantum key
// share is under 2 KiB, a certificate chain a few KiB) and small enough to
// hold for many connections at once.
const DefaultMaxCryptoBuffer = 64 << 10

// maxCryptoGaps bounds the holes an out-of-order stream may have, so that
// a peer sending one byte in every other position cannot make each frame
// cost a long list walk.
const maxCryptoGaps = 64

// maxCarriers bounds the packet records kept to tell which packets carried
// a message.
const maxCarriers = 256

// CryptoStream reassembles one packet number space's CRYPTO stream from
// one sender (RFC 9000 §19.6): frames arrive in any order, repeated, or
// overlapping, within a packet and across packets, and the handshake
// messages are taken from the contiguous bytes at its start. QUIC carries
// no TLS records: the stream is the handshake messages, back to back.
//
// It holds at most Max bytes beyond the first byte not yet taken as a
// message; data beyond that is dropped with ErrCryptoBufferFull. The zero
// value is ready to use.
type CryptoStream struct {
	// Max bounds the bytes held and so the size of a handshake message;
	// 0 means DefaultMaxCryptoBuffer.
	Max int

	base     uint64    // stream offset of buf[0]: the first byte not yet taken
	buf      []byte    // bytes from base to the highest end received; holes are zeros
	received []span    // received ranges above base: absolute, sorted, disjoint, not touching
	carriers []carrier // which packet carried which range
	err      error     // set when the stream cannot go on
}

type span struct{ start, end uint64 }

// carrier records that packet pn carried stream bytes [start, end).
type carrier struct {
	pn uint64
	span
}

// HandshakeMessage is one TLS handshake message taken from a CRYPTO
// stream.
type HandshakeMessage struct {
	Type uint8  // HandshakeType (1 client_hello, 2 server_hello, 8 encrypted_extensions, ...)
	Raw  []byte // the message with its 4-byte header, as hashed into the transcript; owned by the caller
	Body []byte // Raw without the header
	// Offset is the message's offset in the CRYPTO stream.
	Offset uint64
	// Packets are the numbers of the packets whose CRYPTO frames carried
	// bytes of the message, ascending: more than one when the message
	// spans packets, as a post-quantum ClientHello does.
	Packets []uint64
}

func (s *CryptoStream) max() uint64 {
	if s.Max <= 0 {
		return DefaultMaxCryptoBuffer
	}
	return uint64(s.Max)
}

// Add stores the data of a CRYPTO frame at its stream offset. pn is the
// number of the packet that carried it, recorded for
// HandshakeMessage.Packets. Data before the first byte not yet taken is
// ignored (a retransmission); data that overlaps bytes already received
// keeps the first copy and, when it differs, Add stores the rest and
// returns an error wrapping ErrCryptoConflict. Data that would end more
// than Max bytes past the first byte not yet taken, or that would leave
// too many holes, is dropped with an error wrapping ErrCryptoBufferFull.
// Once Next has failed with ErrMessageTooLarge, Add returns that error.
func (s *CryptoStream) Add(pn, offset uint64, data []byte) error {
	if s.err != nil {
		return s.err
	}
	if offset > maxVarint || uint64(len(data)) > maxVarint-offset {
		return fmt.Errorf("%w: offset %d + length %d exceeds 2^62-1", ErrCryptoBufferFull, offset, len(data))
	}
	end := offset + uint64(len(data))
	if len(data) == 0 || end <= s.base {
		return nil
	}
	if offset < s.base {
		data = data[s.base-offset:]
		offset = s.base
	}
	if end-s.base > s.max() {
		return fmt.Errorf("%w: data at offsets %d-%d is more than %d bytes past offset %d", ErrCryptoBufferFull, offset, end, s.max(), s.base)
	}
	merged := mergeSpan(s.received, span{offset, end})
	if len(merged) > maxCryptoGaps {
		return fmt.Errorf("%w: more than %d holes in the stream below offset %d", ErrCryptoBufferFull, maxCryptoGaps, end)
	}
	if need := int(end - s.base); need > len(s.buf) {
		s.buf = append(s.buf, make([]byte, need-len(s.buf))...)
	}
	conflict := s.store(offset, data)
	s.received = merged
	if len(s.carriers) < maxCarriers {
		s.carriers = append(s.carriers, carrier{pn, span{offset, end}})
	}
	if conflict {
		return fmt.Errorf("%w: at offsets %d-%d", ErrCryptoConflict, offset, end)
	}
	return nil
}

// store copies data at offset into the holes of buf, compares it with the
// bytes already received, and reports whether they differ.
func (s *CryptoStream) store(offset uint64, data []byte) (conflict bool) {
	end := offset + uint64(len(data))
	pos := offset
	for _, r := range s.received {
		if r.end <= pos {
			continue
		}
		if r.start >= end {
			break
		}
		if r.start > pos {
			copy(s.buf[pos-s.base:r.start-s.base], data[pos-offset:r.start-offset])
			pos = r.start
		}
		b := min(end, r.end)
		if !bytes.Equal(s.buf[pos-s.base:b-s.base], data[pos-offset:b-offset]) {
			conflict = true
		}
		pos = b
	}
	if pos < end {
		copy(s.buf[pos-s.base:end-s.base], data[pos-offset:])
	}
	return conflict
}

// mergeSpan returns spans with add merged in, as a new slice.
func mergeSpan(spans []span, add span) []span {
	out := make([]span, 0, len(spans)+1)
	i := 0
	for ; i < len(spans) && spans[i].end < add.start; i++ {
		out = append(out, spans[i])
	}
	for ; i < len(spans) && spans[i].start <= add.end; i++ {
		add.start = min(add.start, spans[i].start)
		add.end = max(add.end, spans[i].end)
	}
	out = append(out, add)
	return append(out, spans[i:]...)
}

// contiguous is the number of bytes from base that have all been received.
func (s *CryptoStream) contiguous() int {
	if len(s.received) == 0 || s.received[0].start != s.base {
		return 0
	}
	return int(s.received[0].end - s.base)
}

// Next returns the next whole handshake message at the start of the
// stream's contiguous bytes, and false when there is none yet. A message
// header declaring more than Max bytes stops the stream: Next returns an
// error wrapping ErrMessageTooLarge, then and on every later call.
func (s *CryptoStream) Next() (HandshakeMessage, bool, error) {
	if s.err != nil {
		return HandshakeMessage{}, false, s.err
	}
	avail := s.contiguous()
	if avail < 4 {
		return HandshakeMessage{}, false, nil
	}
	n := int(s.buf[1])<<16 | int(s.buf[2])<<8 | int(s.buf[3])
	if uint64(4+n) > s.max() {
		s.err = fmt.Errorf("%w: type %d at offset %d declares %d bytes, more than the %d buffered", ErrMessageTooLarge, s.buf[0], s.base, n, s.max()-4)
		return HandshakeMessage{}, false, s.err
	}
	if avail < 4+n {
		return HandshakeMessage{}, false, nil
	}
	raw := bytes.Clone(s.buf[:4+n])
	m := HandshakeMessage{Type: raw[0], Raw: raw, Body: raw[4:], Offset: s.base, Packets: s.carriedBy(span{s.base, s.base + uint64(4+n)})}
	s.consume(4 + n)
	return m, true, nil
}

// carriedBy lists the packets that carried bytes of r.
func (s *CryptoStream) carriedBy(r span) []uint64 {
	var pns []uint64
	for _, c := range s.carriers {
		if c.start < r.end && c.end > r.start && !slices.Contains(pns, c.pn) {
			pns = append(pns, c.pn)
		}
	}
	slices.Sort(pns)
	return pns
}

// consume drops the first n bytes, which have been taken as a message.
func (s *CryptoStream) consume(n int) {
	s.buf = s.buf[:copy(s.buf, s.buf[n:])]
	s.base += uint64(n)
	s.received[0].start = s.base
	if s.received[0].start == s.received[0].end {
		s.received = s.received[1:]
	}
	s.carriers = slices.DeleteFunc(s.carriers, func(c carrier) bool { return c.end <= s.base })
}

// Err is the error that stopped the stream (ErrMessageTooLarge), or nil.
func (s *CryptoStream) Err() error { return s.err }

// Offset is the stream offset of the first byte not yet taken as a
// message: the bytes delivered so far.
func (s *CryptoStream) Offset() uint64 { return s.base }

// Buffered is the number of bytes held: received and not yet taken, with
// the holes between them.
func (s *CryptoStream) Buffered() int { return len(s.buf) }

// Incomplete describes the message that Next is waiting for: its type, the
// contiguous bytes there are of it (header included) and the bytes it
// needs; ok is false when no message has begun.
func (s *CryptoStream) Incomplete() (typ uint8, have, want int, ok bool) {
	avail := s.contiguous()
	if avail == 0 {
		return 0, 0, 0, false
	}
	if avail < 4 {
		return s.buf[0], avail, 4, true
	}
	return s.buf[0], avail, 4 + (int(s.buf[1])<<16 | int(s.buf[2])<<8 | int(s.buf[3])), true
}
