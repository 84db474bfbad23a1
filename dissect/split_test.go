package dissect

import (
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestHalfStreamSplits: the events of a stream, and where it fails, are the
// same whatever pieces it is written in (Write completes a pending record from
// the next piece and parses the rest of the piece in place).
func TestHalfStreamSplits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var bodies [][]byte
	for _, m := range realMessages(t) {
		bodies = append(bodies, message(m.typ, m.body))
	}
	extra := [][]byte{
		record(RecordChangeCipherSpec, []byte{1}), record(RecordAlert, []byte{2, 40}), record(RecordApplicationData, []byte{1, 2, 3}),
		record(RecordHeartbeat, []byte{1}), {22, 3, 3, 0x48, 1}, {25, 3, 3, 0, 0},
	}
	sslv2 := []byte{0x80, 0x05, 1, 3, 1, 0, 0}
	events := func(stream []byte, pieces func(int) int, maxMessage int) []string {
		h := HalfStream{MaxMessage: maxMessage}
		var out []string
		for i := 0; i <= len(stream); {
			n := min(len(stream)-i, pieces(len(stream)-i))
			err := h.Write(stream[i:i+n], func(ev Event) {
				out = append(out, fmt.Sprint(ev.Kind, ev.RecordType, ev.RecordVersion, ev.RecordLength, ev.HandshakeType,
					len(ev.Body), crc32.ChecksumIEEE(ev.Body), ev.AlertLevel, ev.AlertDescription, ev.Err, crc32.ChecksumIEEE(ev.Record)))
			})
			if err != nil {
				// Only where: a header cut short is judged on the bytes
				// there are ("record version major 1" for "record
				// version 0x0103").
				msg := err.Error()
				out = append(out, "error"+msg[strings.LastIndex(msg, " at offset "):])
				break
			}
			if cap(h.pending) > 5+maxCiphertext && !h.sslv2 {
				t.Fatalf("pending buffer of %d bytes", cap(h.pending))
			}
			if i == len(stream) {
				break
			}
			i += n
		}
		return append(out, fmt.Sprint(h.Messages, h.Skipped, h.Encrypted()))
	}
	for iter := range 3000 {
		var stream []byte
		if iter%10 == 0 {
			stream = append(stream, sslv2...)
		}
		for range 1 + rng.IntN(6) {
			if rng.IntN(3) == 0 {
				stream = append(stream, extra[rng.IntN(len(extra))]...)
				continue
			}
			msg := bodies[rng.IntN(len(bodies))]
			for len(msg) > 0 { // one message over several records, or several in one
				n := min(len(msg), 1+rng.IntN(maxCiphertext-2048))
				stream = append(stream, record(RecordHandshake, msg[:n])...)
				msg = msg[n:]
			}
		}
		if rng.IntN(4) == 0 {
			stream = slices.Clone(stream)
			stream[rng.IntN(len(stream))] ^= byte(1 + rng.IntN(255))
		}
		maxMessage := []int{0, 100, 4096}[iter%3]
		whole := events(stream, func(n int) int { return n }, maxMessage)
		max := 1 + rng.IntN(3000)
		pieces := events(stream, func(int) int { return rng.IntN(max + 1) }, maxMessage)
		if !slices.Equal(whole, pieces) {
			t.Fatalf("stream %d (%d bytes): in one piece\n%q\nin pieces of up to %d\n%q", iter, len(stream), whole, max, pieces)
		}
	}
}
