package quic

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"fmt"
)

// sampleOffset is how far past the start of the packet number the header
// protection sample begins: it assumes a 4-byte packet number (RFC 9001
// §5.4.2).
const sampleOffset = 4

// sampleLen is the length of the header protection sample.
const sampleLen = 16

// NoPacketNumber is the "largest packet number" of a packet number space
// in which no packet has been opened yet.
const NoPacketNumber int64 = -1

// OpenedPacket is a packet with its protection removed.
type OpenedPacket struct {
	// Header is the unprotected header, first byte through packet number.
	Header             []byte
	PacketNumber       uint64
	PacketNumberLength int // 1 to 4 bytes on the wire
	// KeyPhase is the 1-RTT Key Phase bit (RFC 9001 §6); false for long headers.
	KeyPhase bool
	// ReservedBits are the two bits RFC 9000 requires to be 0 after
	// header protection is removed (0x0c of a long header, 0x18 of a short
	// one, shifted down); a peer that sets them has broken the protocol.
	ReservedBits uint8
	// Payload is the decrypted payload: the packet's frames.
	Payload []byte
}

// Open removes header protection from a packet, decodes its packet number
// against largest, the largest packet number opened so far in the same
// packet number space from the same sender (NoPacketNumber for none), and
// decrypts its payload (RFC 9001 §5.3, §5.4; RFC 9000 §17.1). It does not
// modify p.Raw.
//
// The error is a *ParseError when the packet is too short to hold a
// sample or a tag, and wraps ErrDecrypt when it does not authenticate.
func (k *Keys) Open(p *Packet, largest int64) (*OpenedPacket, error) {
	what := p.Type.String() + " packet"
	if !p.Protected() || p.PNOffset >= len(p.Raw) {
		return nil, parseErr(what, "", 0, "no packet number to unprotect")
	}
	sampleAt := p.PNOffset + sampleOffset
	if sampleAt+sampleLen > len(p.Raw) {
		return nil, parseErr(what, "", p.PNOffset, "%d bytes after the packet number offset, need %d for the header protection sample", len(p.Raw)-p.PNOffset, sampleOffset+sampleLen)
	}
	mask := k.hp.mask(p.Raw[sampleAt : sampleAt+sampleLen])

	buf := bytes.Clone(p.Raw)
	long := buf[0]&headerFormLong != 0
	if long {
		buf[0] ^= mask[0] & 0x0f
	} else {
		buf[0] ^= mask[0] & 0x1f
	}
	pnLen := int(buf[0]&0x03) + 1
	var truncated uint64
	for i := range pnLen {
		buf[p.PNOffset+i] ^= mask[1+i]
		truncated = truncated<<8 | uint64(buf[p.PNOffset+i])
	}
	hdrEnd := p.PNOffset + pnLen
	op := &OpenedPacket{
		Header:             buf[:hdrEnd:hdrEnd],
		PacketNumber:       DecodePacketNumber(largest, truncated, pnLen),
		PacketNumberLength: pnLen,
	}
	if long {
		op.ReservedBits = buf[0] & 0x0c >> 2
	} else {
		op.ReservedBits = buf[0] & 0x18 >> 3
		op.KeyPhase = buf[0]&0x04 != 0
	}
	if len(buf)-hdrEnd < k.aead.Overhead() {
		return nil, parseErr(what, "", hdrEnd, "%d bytes of payload, shorter than the %d-byte tag", len(buf)-hdrEnd, k.aead.Overhead())
	}
	pt, err := k.aead.Open(buf[hdrEnd:hdrEnd], k.nonce(op.PacketNumber), buf[hdrEnd:], op.Header)
	if err != nil {
		return nil, fmt.Errorf("%w: %s packet number %d under %v", ErrDecrypt, p.Type, op.PacketNumber, k)
	}
	op.Payload = pt
	return op, nil
}

// DecodePacketNumber recovers a full packet number from its truncated
// encoding of pnLen bytes, given the largest packet number received so far
// in its space (NoPacketNumber for none): the candidate closest to the
// next expected one (RFC 9000 Appendix A.3).
func DecodePacketNumber(largest int64, truncated uint64, pnLen int) uint64 {
	if pnLen < 1 || pnLen > 4 {
		return truncated
	}
	bits := uint(pnLen * 8)
	expected := uint64(largest + 1) // largest >= -1
	if largest < NoPacketNumber {
		expected = 0
	}
	win := uint64(1) << bits
	hwin := win / 2
	candidate := expected&^(win-1) | truncated&(win-1)
	switch {
	// The comparisons are written without underflow: candidate <=
	// expected-hwin, and candidate > expected+hwin.
	case candidate+hwin <= expected && candidate < 1<<62-win:
		return candidate + win
	case candidate > expected+hwin && candidate >= win:
		return candidate - win
	}
	return candidate
}

// VerifyRetry checks a Retry packet's integrity tag (RFC 9001 §5.8, RFC 9369
// §3.3.3) against originalDCID, the Destination Connection ID of the
// client Initial it answers. A tag that matches proves the Retry answers
// that Initial (it is not authenticated by any secret). It returns nil,
// or an error wrapping ErrRetryIntegrity or ErrUnsupportedVersion.
func VerifyRetry(p *Packet, originalDCID []byte) error {
	params := versionParams(p.Version)
	if p.Type != PacketRetry || params == nil {
		return fmt.Errorf("%w: %v %v", ErrUnsupportedVersion, p.Type, p.Version)
	}
	if len(p.RetryIntegrityTag) != 16 || len(p.Raw) < 16 || len(originalDCID) > 255 {
		return ErrRetryIntegrity
	}
	// The pseudo-packet: ODCID Length, ODCID, then the Retry without its tag.
	pseudo := make([]byte, 0, 1+len(originalDCID)+len(p.Raw)-16)
	pseudo = append(pseudo, byte(len(originalDCID)))
	pseudo = append(pseudo, originalDCID...)
	pseudo = append(pseudo, p.Raw[:len(p.Raw)-16]...)
	block, err := aes.NewCipher(params.retryKey)
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	if _, err := aead.Open(nil, params.retryNonce, p.RetryIntegrityTag, pseudo); err != nil {
		return ErrRetryIntegrity
	}
	return nil
}
