package quic

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// Frame types this package parses (RFC 9000 §19).
const (
	FramePadding            uint64 = 0x00
	FramePing               uint64 = 0x01
	FrameAck                uint64 = 0x02
	FrameAckECN             uint64 = 0x03
	FrameCrypto             uint64 = 0x06
	FrameConnectionClose    uint64 = 0x1c // QUIC layer error
	FrameConnectionCloseApp uint64 = 0x1d // application error
)

// STREAM frames are types 0x08 to 0x0f (the low bits are flags).
const frameStreamFirst, frameStreamLast uint64 = 0x08, 0x0f

// maxAckRangesKept bounds AckFrame.Ranges; the rest are read and counted.
const maxAckRangesKept = 64

// maxReasonShown bounds the reason phrase ConnectionCloseFrame.String quotes.
const maxReasonShown = 1024

// frameNames names the frame types of RFC 9000 §19 and common extensions,
// for error messages.
var frameNames = map[uint64]string{
	0x00: "PADDING", 0x01: "PING", 0x02: "ACK", 0x03: "ACK_ECN", 0x04: "RESET_STREAM",
	0x05: "STOP_SENDING", 0x06: "CRYPTO", 0x07: "NEW_TOKEN", 0x10: "MAX_DATA",
	0x11: "MAX_STREAM_DATA", 0x12: "MAX_STREAMS", 0x13: "MAX_STREAMS", 0x14: "DATA_BLOCKED",
	0x15: "STREAM_DATA_BLOCKED", 0x16: "STREAMS_BLOCKED", 0x17: "STREAMS_BLOCKED",
	0x18: "NEW_CONNECTION_ID", 0x19: "RETIRE_CONNECTION_ID", 0x1a: "PATH_CHALLENGE",
	0x1b: "PATH_RESPONSE", 0x1c: "CONNECTION_CLOSE", 0x1d: "CONNECTION_CLOSE",
	0x1e: "HANDSHAKE_DONE", 0x30: "DATAGRAM", 0x31: "DATAGRAM", 0xaf: "ACK_FREQUENCY",
}

// FrameName names a frame type: "CRYPTO", "STREAM", or "0x4a".
func FrameName(typ uint64) string {
	if typ >= frameStreamFirst && typ <= frameStreamLast {
		return "STREAM"
	}
	if n, ok := frameNames[typ]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", typ)
}

// Frame is one frame of a decrypted payload: *PaddingFrame, *PingFrame,
// *AckFrame, *CryptoFrame or *ConnectionCloseFrame.
type Frame interface {
	// Type is the frame type as sent (0x02 or 0x03 for an AckFrame,
	// 0x1c or 0x1d for a ConnectionCloseFrame).
	Type() uint64
}

// PaddingFrame is a run of PADDING bytes, reported as one frame.
type PaddingFrame struct{ Length int }

// PingFrame is a PING frame.
type PingFrame struct{}

// AckFrame is an ACK or ACK_ECN frame (RFC 9000 §19.3).
type AckFrame struct {
	ECN                 bool // type 0x03: the ECN counts are present
	LargestAcknowledged uint64
	AckDelay            uint64 // in units of 2^ack_delay_exponent microseconds
	FirstAckRange       uint64
	// RangeCount is the ACK Range Count as sent; Ranges holds the first
	// 64 of them.
	RangeCount        uint64
	Ranges            []AckRange
	ECT0, ECT1, ECNCE uint64
}

// AckRange is one Gap and ACK Range Length pair of an ACK frame.
type AckRange struct{ Gap, Length uint64 }

// CryptoFrame is a CRYPTO frame (RFC 9000 §19.6): handshake bytes at an
// offset of the packet number space's crypto stream. Data aliases the payload.
type CryptoFrame struct {
	Offset uint64
	Data   []byte
}

// ConnectionCloseFrame is a CONNECTION_CLOSE frame (RFC 9000 §19.19).
type ConnectionCloseFrame struct {
	// Application is true for type 0x1d, an application error; false for
	// 0x1c, a QUIC layer error (whose codes 0x0100–0x01ff carry a TLS
	// alert, RFC 9001 §4.8).
	Application bool
	ErrorCode   uint64
	// FrameType is the type of the frame that caused the error (0x1c only).
	FrameType uint64
	Reason    []byte // aliases the payload
}

func (*PaddingFrame) Type() uint64 { return FramePadding }
func (*PingFrame) Type() uint64    { return FramePing }
func (*CryptoFrame) Type() uint64  { return FrameCrypto }
func (f *AckFrame) Type() uint64 {
	if f.ECN {
		return FrameAckECN
	}
	return FrameAck
}
func (f *ConnectionCloseFrame) Type() uint64 {
	if f.Application {
		return FrameConnectionCloseApp
	}
	return FrameConnectionClose
}

// TLSAlert returns the TLS alert a QUIC layer CONNECTION_CLOSE carries
// (error codes 0x0100–0x01ff, RFC 9001 §4.8), and whether it carries one.
func (f *ConnectionCloseFrame) TLSAlert() (uint8, bool) {
	if f.Application || f.ErrorCode < 0x0100 || f.ErrorCode > 0x01ff {
		return 0, false
	}
	return uint8(f.ErrorCode), true
}

// String summarises the frame, for logs.
func (f *ConnectionCloseFrame) String() string {
	reason := f.Reason
	if len(reason) > maxReasonShown {
		reason = reason[:maxReasonShown]
	}
	if f.Application {
		return fmt.Sprintf("CONNECTION_CLOSE application error 0x%x reason %q", f.ErrorCode, reason)
	}
	return fmt.Sprintf("CONNECTION_CLOSE error 0x%x frame %s reason %q", f.ErrorCode, FrameName(f.FrameType), reason)
}

// ParseFrames parses the frames of a decrypted payload of a packet of type
// pt. It knows the frames allowed in Initial and Handshake packets (RFC 9000
// §12.4: PADDING, PING, ACK, ACK_ECN, CRYPTO, CONNECTION_CLOSE) and parses
// the application CONNECTION_CLOSE (0x1d) too. At any other frame type,
// or a frame that does not fit, it stops: it returns the frames read so far
// and a *ParseError that names the frame and its offset in the payload.
// Frames cannot be skipped without knowing them, so nothing after it is read.
func ParseFrames(payload []byte, pt PacketType) ([]Frame, error) {
	var frames []Frame
	s := cryptobyte.String(payload)
	if len(s) == 0 {
		return nil, parseErr(pt.String()+" payload", "", 0, "no frames")
	}
	for len(s) > 0 {
		at := len(payload) - len(s)
		if s[0] == 0 {
			n := 1
			for n < len(s) && s[n] == 0 {
				n++
			}
			frames = append(frames, &PaddingFrame{Length: n})
			s = s[n:]
			continue
		}
		var typ uint64
		if !readVarint(&s, &typ) {
			return frames, parseErr("frame", "type", at, "truncated")
		}
		f, err := readFrame(&s, typ, payload, at)
		if err != nil {
			return frames, err
		}
		if f == nil {
			detail := "not parsed"
			if pt == PacketInitial || pt == PacketHandshake {
				detail = "not allowed in " + pt.String() + " packets"
			}
			return frames, parseErr("frame", fmt.Sprintf("type 0x%02x (%s)", typ, FrameName(typ)), at, "%s", detail)
		}
		frames = append(frames, f)
	}
	return frames, nil
}

// readFrame reads the body of one frame of type typ, which starts at offset
// at of payload. It returns nil and no error for a type it does not parse.
func readFrame(s *cryptobyte.String, typ uint64, payload []byte, at int) (Frame, error) {
	name := FrameName(typ) + " frame"
	truncated := func(field string) error {
		return parseErr(name, field, len(payload)-len(*s), "truncated")
	}
	switch typ {
	case FramePing:
		return &PingFrame{}, nil
	case FrameAck, FrameAckECN:
		f := &AckFrame{ECN: typ == FrameAckECN}
		if !readVarint(s, &f.LargestAcknowledged) {
			return nil, truncated("Largest Acknowledged")
		}
		if !readVarint(s, &f.AckDelay) {
			return nil, truncated("ACK Delay")
		}
		if !readVarint(s, &f.RangeCount) {
			return nil, truncated("ACK Range Count")
		}
		if !readVarint(s, &f.FirstAckRange) {
			return nil, truncated("First ACK Range")
		}
		// Each range takes at least 2 bytes, so the count is bounded by
		// the payload; only the first few are kept.
		for i := uint64(0); i < f.RangeCount; i++ {
			var r AckRange
			if !readVarint(s, &r.Gap) {
				return nil, truncated(fmt.Sprintf("ACK Range %d Gap", i))
			}
			if !readVarint(s, &r.Length) {
				return nil, truncated(fmt.Sprintf("ACK Range %d Length", i))
			}
			if len(f.Ranges) < maxAckRangesKept {
				f.Ranges = append(f.Ranges, r)
			}
		}
		if f.ECN && !(readVarint(s, &f.ECT0) && readVarint(s, &f.ECT1) && readVarint(s, &f.ECNCE)) {
			return nil, truncated("ECN Counts")
		}
		return f, nil
	case FrameCrypto:
		f := &CryptoFrame{}
		if !readVarint(s, &f.Offset) {
			return nil, truncated("Offset")
		}
		lenAt := len(payload) - len(*s)
		if why := readVarintBytes(s, &f.Data); why != "" {
			return nil, parseErr(name, "Length", lenAt, "%s", why)
		}
		if f.Offset+uint64(len(f.Data)) > maxVarint {
			return nil, parseErr(name, "Offset", at, "offset %d + length %d exceeds 2^62-1", f.Offset, len(f.Data))
		}
		return f, nil
	case FrameConnectionClose, FrameConnectionCloseApp:
		f := &ConnectionCloseFrame{Application: typ == FrameConnectionCloseApp}
		if !readVarint(s, &f.ErrorCode) {
			return nil, truncated("Error Code")
		}
		if !f.Application && !readVarint(s, &f.FrameType) {
			return nil, truncated("Frame Type")
		}
		lenAt := len(payload) - len(*s)
		if why := readVarintBytes(s, &f.Reason); why != "" {
			return nil, parseErr(name, "Reason Phrase Length", lenAt, "%s", why)
		}
		return f, nil
	}
	return nil, nil
}
