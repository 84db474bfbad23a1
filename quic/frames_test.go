package quic

import (
	"errors"
	"strings"
	"testing"
)

func TestParseFrames(t *testing.T) {
	var payload []byte
	payload = append(payload, 0, 0, 0) // PADDING run
	payload = append(payload, 0x01)    // PING
	// ACK_ECN: largest 100, delay 5, 2 ranges, first range 3, ranges (1,2), (0,4), ECN 1 2 3
	payload = append(payload, 0x03, 0x40, 100, 5, 2, 3, 1, 2, 0, 4, 1, 2, 3)
	payload = append(payload, cryptoFrame(1000, []byte("hello"))...)
	payload = append(payload, closeFrame(0x0a, 0x06, "bye")...)
	payload = append(payload, 0x1d, 0x42, 0x00, 0x02, 'h', 'i') // application close, code 0x200
	payload = append(payload, 0, 0)
	frames, err := ParseFrames(payload, PacketHandshake)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 7 {
		t.Fatalf("%d frames", len(frames))
	}
	if f, ok := frames[0].(*PaddingFrame); !ok || f.Length != 3 {
		t.Errorf("frame 0 %#v", frames[0])
	}
	if _, ok := frames[1].(*PingFrame); !ok {
		t.Errorf("frame 1 %#v", frames[1])
	}
	ack, ok := frames[2].(*AckFrame)
	if !ok || !ack.ECN || ack.LargestAcknowledged != 100 || ack.AckDelay != 5 || ack.RangeCount != 2 || ack.FirstAckRange != 3 ||
		len(ack.Ranges) != 2 || ack.Ranges[1] != (AckRange{0, 4}) || ack.ECT0 != 1 || ack.ECT1 != 2 || ack.ECNCE != 3 || ack.Type() != FrameAckECN {
		t.Errorf("frame 2 %#v", frames[2])
	}
	if f, ok := frames[3].(*CryptoFrame); !ok || f.Offset != 1000 || string(f.Data) != "hello" {
		t.Errorf("frame 3 %#v", frames[3])
	}
	if f, ok := frames[4].(*ConnectionCloseFrame); !ok || f.Application || f.ErrorCode != 0x0a || f.FrameType != 6 || string(f.Reason) != "bye" {
		t.Errorf("frame 4 %#v", frames[4])
	}
	if f, ok := frames[5].(*ConnectionCloseFrame); !ok || !f.Application || f.ErrorCode != 0x200 || string(f.Reason) != "hi" || f.Type() != FrameConnectionCloseApp {
		t.Errorf("frame 5 %#v", frames[5])
	}
	if _, ok := frames[5].(*ConnectionCloseFrame).TLSAlert(); ok {
		t.Error("application close carries no TLS alert")
	}
}

func TestParseFramesErrors(t *testing.T) {
	for _, tc := range []struct {
		payload []byte
		pt      PacketType
		frames  int
		want    string
	}{
		{nil, PacketInitial, 0, "no frames"},
		{[]byte{0x01, 0x08, 0, 0}, PacketInitial, 1, "type 0x08 (STREAM): not allowed in Initial packets at offset 1"},
		{[]byte{0x1e}, Packet1RTT, 0, "type 0x1e (HANDSHAKE_DONE): not parsed"},
		{[]byte{0x06, 0x00, 0x05, 'a'}, PacketInitial, 0, "CRYPTO frame: Length: length 5 exceeds remaining 1"},
		{[]byte{0x06, 0x80}, PacketInitial, 0, "CRYPTO frame: Offset: truncated"},
		{[]byte{0x02, 1, 0, 3, 0, 0}, PacketInitial, 0, "ACK Range 0 Length: truncated"},
		{[]byte{0x03, 1, 0, 0, 0, 1, 2}, PacketInitial, 0, "ECN Counts: truncated"},
		{[]byte{0x1c, 1, 6, 10, 'x'}, PacketHandshake, 0, "Reason Phrase Length: length 10 exceeds remaining 1"},
		{[]byte{0x40}, PacketInitial, 0, "type: truncated"},
		{[]byte{0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 'a'}, PacketInitial, 0, "exceeds 2^62-1"},
	} {
		frames, err := ParseFrames(tc.payload, tc.pt)
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) || len(frames) != tc.frames {
			t.Errorf("%x: %d frames, %v; want %d frames and %q", tc.payload, len(frames), err, tc.frames, tc.want)
		}
	}
}

func TestAckRangesBounded(t *testing.T) {
	payload := []byte{0x02, 0x80, 0, 0x10, 0, 0, 0x41, 0x00, 0}
	for range 256 {
		payload = append(payload, 0, 0)
	}
	frames, err := ParseFrames(payload, PacketInitial)
	if err != nil {
		t.Fatal(err)
	}
	ack := frames[0].(*AckFrame)
	if ack.RangeCount != 256 || len(ack.Ranges) != maxAckRangesKept {
		t.Errorf("count %d kept %d", ack.RangeCount, len(ack.Ranges))
	}
}
