package quic

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// handshakeStream returns n handshake messages of the given sizes, back to
// back, and their offsets.
func handshakeStream(sizes ...int) ([]byte, []int) {
	var b []byte
	var offs []int
	for i, n := range sizes {
		offs = append(offs, len(b))
		b = append(b, byte(i+1), byte(n>>16), byte(n>>8), byte(n))
		for j := range n {
			b = append(b, byte(i*31+j))
		}
	}
	return b, offs
}

func drain(t *testing.T, s *CryptoStream) []HandshakeMessage {
	t.Helper()
	var out []HandshakeMessage
	for {
		m, ok, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, m)
	}
}

func TestCryptoStreamInOrder(t *testing.T) {
	stream, offs := handshakeStream(10, 0, 300)
	var s CryptoStream
	if err := s.Add(0, 0, stream); err != nil {
		t.Fatal(err)
	}
	msgs := drain(t, &s)
	if len(msgs) != 3 {
		t.Fatalf("%d messages", len(msgs))
	}
	for i, m := range msgs {
		if m.Offset != uint64(offs[i]) || m.Type != byte(i+1) || !bytes.Equal(m.Body, m.Raw[4:]) {
			t.Errorf("message %d: type %d offset %d", i, m.Type, m.Offset)
		}
	}
	if s.Offset() != uint64(len(stream)) || s.Buffered() != 0 {
		t.Errorf("offset %d buffered %d", s.Offset(), s.Buffered())
	}
	// Retransmissions of what was taken are ignored.
	if err := s.Add(1, 0, stream[:50]); err != nil || s.Buffered() != 0 {
		t.Errorf("retransmission: %v, buffered %d", err, s.Buffered())
	}
}

// TestCryptoStreamShuffled delivers a stream in random pieces, in random
// order, with repeats and overlaps, and checks the messages come out
// whole, once, in order, and the packet numbers that carried each.
func TestCryptoStreamShuffled(t *testing.T) {
	stream, _ := handshakeStream(1500, 3, 700, 2500)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		type piece struct{ off, end int }
		var pieces []piece
		for off := 0; off < len(stream); {
			end := min(len(stream), off+1+rng.IntN(400))
			pieces = append(pieces, piece{off, end})
			off = end
		}
		// Repeats and overlapping pieces.
		for range 5 {
			a := rng.IntN(len(stream))
			pieces = append(pieces, piece{a, min(len(stream), a+1+rng.IntN(300))})
		}
		rng.Shuffle(len(pieces), func(i, j int) { pieces[i], pieces[j] = pieces[j], pieces[i] })
		var s CryptoStream
		var msgs []HandshakeMessage
		for pn, p := range pieces {
			if err := s.Add(uint64(pn), uint64(p.off), stream[p.off:p.end]); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			msgs = append(msgs, drain(t, &s)...)
		}
		var got []byte
		for _, m := range msgs {
			got = append(got, m.Raw...)
			if len(m.Packets) == 0 || !slices.IsSorted(m.Packets) {
				t.Fatalf("round %d: packets %v", round, m.Packets)
			}
		}
		if !bytes.Equal(got, stream) || len(msgs) != 4 {
			t.Fatalf("round %d: %d messages, %d of %d bytes", round, len(msgs), len(got), len(stream))
		}
		if s.Buffered() != 0 || len(s.received) != 0 || len(s.carriers) != 0 {
			t.Fatalf("round %d: left %d bytes, %d spans, %d carriers", round, s.Buffered(), len(s.received), len(s.carriers))
		}
	}
}

func TestCryptoStreamPacketsOfMessage(t *testing.T) {
	stream, _ := handshakeStream(2000)
	var s CryptoStream
	s.Add(7, 1500, stream[1500:])
	s.Add(5, 0, stream[:800])
	s.Add(6, 700, stream[700:1600]) // overlaps both
	msgs := drain(t, &s)
	if len(msgs) != 1 || !slices.Equal(msgs[0].Packets, []uint64{5, 6, 7}) {
		t.Fatalf("messages %d, packets %v", len(msgs), msgs[0].Packets)
	}
}

func TestCryptoStreamConflict(t *testing.T) {
	stream, _ := handshakeStream(100)
	var s CryptoStream
	s.Add(0, 0, stream[:50])
	changed := bytes.Clone(stream[40:104])
	changed[0] ^= 0xff
	if err := s.Add(1, 40, changed); !errors.Is(err, ErrCryptoConflict) {
		t.Fatalf("conflict: %v", err)
	}
	msgs := drain(t, &s)
	if len(msgs) != 1 || !bytes.Equal(msgs[0].Raw, stream) {
		t.Fatal("the first copy was not kept")
	}
}

func TestCryptoStreamBounds(t *testing.T) {
	s := CryptoStream{Max: 1000}
	if err := s.Add(0, 990, make([]byte, 20)); !errors.Is(err, ErrCryptoBufferFull) {
		t.Errorf("beyond Max: %v", err)
	}
	if s.Buffered() != 0 {
		t.Errorf("buffered %d after a dropped frame", s.Buffered())
	}
	if err := s.Add(0, 1<<62, []byte{1}); !errors.Is(err, ErrCryptoBufferFull) {
		t.Errorf("offset beyond 2^62: %v", err)
	}
	// Holes: every other byte.
	s = CryptoStream{}
	var err error
	for i := 0; i < 2*maxCryptoGaps+10 && err == nil; i++ {
		err = s.Add(0, uint64(1+2*i), []byte{0})
	}
	if !errors.Is(err, ErrCryptoBufferFull) || len(s.received) > maxCryptoGaps {
		t.Errorf("holes: %v, %d spans", err, len(s.received))
	}
	// A message larger than Max stops the stream.
	s = CryptoStream{Max: 100}
	s.Add(0, 0, []byte{11, 0, 0, 200, 1, 2, 3})
	if _, _, err := s.Next(); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("large message: %v", err)
	}
	if err := s.Add(1, 7, []byte{4}); !errors.Is(err, ErrMessageTooLarge) || s.Err() == nil {
		t.Errorf("after stop: %v", err)
	}
}

func TestCryptoStreamIncomplete(t *testing.T) {
	stream, _ := handshakeStream(100)
	var s CryptoStream
	if _, _, _, ok := s.Incomplete(); ok {
		t.Error("empty stream incomplete")
	}
	s.Add(0, 0, stream[:2])
	if typ, have, want, ok := s.Incomplete(); !ok || typ != 1 || have != 2 || want != 4 {
		t.Errorf("Incomplete %d %d %d %v", typ, have, want, ok)
	}
	s.Add(0, 2, stream[2:50])
	s.Add(0, 60, stream[60:])
	if typ, have, want, ok := s.Incomplete(); !ok || typ != 1 || have != 50 || want != 104 {
		t.Errorf("Incomplete %d %d %d %v", typ, have, want, ok)
	}
}
