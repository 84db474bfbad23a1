package quic

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// The fuzz targets check that no input panics, that what comes out stays
// inside what went in, and that memory stays bounded.

func seedDatagrams(f *testing.F) [][]byte {
	ck, sk, _ := InitialKeys(Version1, testDCID)
	hk, _ := NewKeys(Version2, TLS_CHACHA20_POLY1305_SHA256, bytes.Repeat([]byte{1}, 32))
	coalesced := sealLong(f, sk, longPacket{typ: PacketInitial, dcid: testClientID, scid: testServerID, pn: 1, payload: append(ackFrame(0), cryptoFrame(0, []byte{2, 0, 0, 1, 0})...)})
	coalesced = append(coalesced, sealLong(f, hk, longPacket{typ: PacketHandshake, dcid: testClientID, scid: testServerID, pn: 0, payload: cryptoFrame(0, []byte{8, 0, 0, 0})})...)
	coalesced = append(coalesced, sealShort(hk, testClientID, 9, 2, false, []byte{1})...)
	return [][]byte{
		unhex(f, rfc9001ClientInitial),
		unhex(f, rfc9369ClientInitial),
		unhex(f, rfc9001ServerInitial),
		unhex(f, rfc9369ServerInitial),
		unhex(f, rfc9001Retry),
		unhex(f, rfc9369Retry),
		unhex(f, draft29Retry),
		unhex(f, rfc9001ChaChaShort),
		versionNegotiationPacket(testClientID, testDCID, 0x1a2a3a4a, Version1, Version2),
		sealLong(f, ck, longPacket{typ: PacketInitial, dcid: testDCID, scid: testClientID, token: []byte("t"), payload: append(cryptoFrame(5, []byte("world")), cryptoFrame(0, []byte{1, 0, 0, 6, 'h'})...), padTo: 1200}),
		coalesced,
		{0xc0, 0, 0, 0, 1, 0, 0, 0, 0x40, 0x20},
	}
}

func FuzzSplitDatagram(f *testing.F) {
	for _, d := range seedDatagrams(f) {
		f.Add(d, uint8(8))
	}
	f.Fuzz(func(t *testing.T, datagram []byte, dcidLen uint8) {
		before := bytes.Clone(datagram)
		packets, err := SplitDatagram(datagram)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v", err, err)
			}
		}
		end := 0
		for _, p := range packets {
			if p.Offset != end || p.Offset+len(p.Raw) > len(datagram) || len(p.Raw) == 0 {
				t.Fatalf("packet at %d of %d bytes, after %d, in %d", p.Offset, len(p.Raw), end, len(datagram))
			}
			if p.Protected() && (p.PNOffset >= len(p.Raw)+1 || uint64(len(p.Raw)-p.PNOffset) != p.Length) {
				t.Fatalf("PNOffset %d Length %d in %d bytes", p.PNOffset, p.Length, len(p.Raw))
			}
			if len(p.DCID) > 255 || len(p.SCID) > 255 {
				t.Fatal("connection ID over 255 bytes")
			}
			end = p.Offset + len(p.Raw)
			if p.Type == Packet1RTT {
				if sp, err := ParseShortHeader(p.Raw, int(dcidLen%24)); err == nil && sp.PNOffset != 1+int(dcidLen%24) {
					t.Fatal("short header PNOffset")
				}
			}
		}
		IsLongHeader(datagram)
		IsClientInitial(datagram)
		if !bytes.Equal(datagram, before) {
			t.Fatal("input modified")
		}
	})
}

// FuzzInitialDatagram feeds a Connection: in mode 0 the input is a
// datagram from either side (the Initial keys derive from the first
// client Initial's DCID, so the RFC and seed packets decrypt); in mode 1
// it is the plaintext payload of client Initial packets, sealed with the
// real keys, so that frame parsing and CRYPTO reassembly see every input.
func FuzzInitialDatagram(f *testing.F) {
	for _, d := range seedDatagrams(f) {
		f.Add(uint8(0), d)
	}
	f.Add(uint8(1), unhex(f, rfcClientInitialCrypto))
	f.Add(uint8(1), unhex(f, rfcServerInitialPayload))
	f.Add(uint8(1), append(cryptoFrame(4, []byte{1, 2, 3}), cryptoFrame(0, []byte{1, 0, 0, 3})...))
	f.Add(uint8(1), closeFrame(0x128, 6, "alert"))
	f.Add(uint8(1), []byte{0x03, 1, 0, 1, 0, 0, 0, 1, 2, 3, 0x06, 0, 1, 0})
	ck, _, _ := InitialKeys(Version1, testDCID)
	f.Fuzz(func(t *testing.T, mode uint8, data []byte) {
		c := &Connection{MaxCryptoBuffer: 4096, HandshakeSecrets: func([]byte) ([]byte, []byte) { return nil, bytes.Repeat([]byte{1}, 32) }}
		var ev []Event
		switch mode % 2 {
		case 0:
			ev = append(ev, c.Datagram(true, unhex(t, rfc9001ClientInitial))...)
			ev = append(ev, c.Datagram(false, data)...)
			ev = append(ev, c.Datagram(true, data)...)
		case 1:
			// The payload in two packets, halves swapped, to exercise
			// reassembly across packets.
			half := len(data) / 2
			for i, part := range [][]byte{data[half:], data[:half], data} {
				if len(part) > 1100 {
					part = part[:1100]
				}
				d := sealLong(t, ck, longPacket{typ: PacketInitial, dcid: testDCID, scid: testClientID, pn: uint64(i), payload: part, padTo: 1200})
				ev = append(ev, c.Datagram(true, d)...)
			}
		}
		for _, e := range ev {
			switch e.Kind {
			case EventMessage:
				if e.Message == nil || len(e.Message.Raw) != 4+len(e.Message.Body) || len(e.Message.Raw) > 4096 {
					t.Fatalf("message %+v", e.Message)
				}
			case EventProblem:
				if e.Err == nil {
					t.Fatal("problem without an error")
				}
			}
		}
		for i := range c.sides {
			for _, st := range c.sides[i].spaces {
				if st.crypto.Buffered() > 4096 {
					t.Fatalf("%d bytes buffered", st.crypto.Buffered())
				}
			}
			if c.sides[i].heldSize > maxHeldHandshake {
				t.Fatalf("%d bytes held", c.sides[i].heldSize)
			}
		}
	})
}

// FuzzCryptoStream adds pieces of a fixed handshake stream in the order
// and sizes the input says (4 bytes a piece: offset, length), sometimes
// damaged, and checks that what comes out is the stream's messages in
// order, and that the buffer stays bounded.
func FuzzCryptoStream(f *testing.F) {
	f.Add([]byte{0, 0, 0xff, 0xff})
	f.Add([]byte{0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x05, 0x00, 0x10})
	f.Add([]byte{0x80, 0x10, 0x00, 0x20, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x7f, 0xff})
	stream, _ := handshakeStream(100, 1500, 0, 30)
	f.Fuzz(func(t *testing.T, ops []byte) {
		s := CryptoStream{Max: 2048}
		var got []byte
		damaged := false
		for pn := 0; len(ops) >= 4; pn++ {
			off := int(binary.BigEndian.Uint16(ops)) % (len(stream) + 64)
			n := int(binary.BigEndian.Uint16(ops[2:])) % 2100
			ops = ops[4:]
			var data []byte
			if off < len(stream) {
				data = bytes.Clone(stream[off:min(len(stream), off+n)])
			} else {
				data = make([]byte, n) // past the end: zeros
				damaged = true
			}
			if off&0x8000 != 0 && len(data) > 0 {
				data[0] ^= 0x55
				damaged = true
			}
			err := s.Add(uint64(pn), uint64(off), data)
			if err != nil && !errors.Is(err, ErrCryptoBufferFull) && !errors.Is(err, ErrCryptoConflict) && !errors.Is(err, ErrMessageTooLarge) {
				t.Fatalf("Add: %v", err)
			}
			if s.Buffered() > 2048 {
				t.Fatalf("%d bytes buffered", s.Buffered())
			}
			for {
				m, ok, err := s.Next()
				if err != nil || !ok {
					break
				}
				if m.Offset != uint64(len(got)) {
					t.Fatalf("message at %d after %d bytes", m.Offset, len(got))
				}
				got = append(got, m.Raw...)
			}
		}
		if !damaged && !bytes.Equal(got, stream[:len(got)]) {
			t.Fatal("messages are not the stream")
		}
	})
}

func FuzzTransportParameters(f *testing.F) {
	f.Add(unhex(f, "0408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806048000ffff"))
	f.Add(clientTransportParameters())
	f.Add(serverTransportParameters(testDCID))
	f.Add(tpBytes(ParamPreferredAddress, make([]byte, 4+2+16+2+1+4+16), ParamVersionInformation, []byte{0, 0, 0, 1, 0, 0, 0, 1}))
	f.Add([]byte{0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		tp, err := ParseTransportParameters(b)
		if tp == nil {
			t.Fatal("nil result")
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Offset > len(b) {
				t.Fatalf("error %v", err)
			}
		}
		total := 0
		for _, p := range tp.Parameters {
			total += p.Length
		}
		if total > len(b) || len(tp.Parameters) > maxTransportParameters {
			t.Fatalf("%d parameters, %d bytes of values in %d", len(tp.Parameters), total, len(b))
		}
	})
}

func FuzzParseFrames(f *testing.F) {
	f.Add(unhex(f, rfcClientInitialCrypto), uint8(PacketInitial))
	f.Add(unhex(f, rfcServerInitialPayload), uint8(PacketInitial))
	f.Add(closeFrame(1, 2, "x"), uint8(PacketHandshake))
	f.Add([]byte{0x1d, 0x40, 0x01, 0x00, 0x01}, uint8(Packet1RTT))
	f.Fuzz(func(t *testing.T, payload []byte, pt uint8) {
		frames, err := ParseFrames(payload, PacketType(pt%8))
		if err == nil && len(payload) > 0 && len(frames) == 0 {
			t.Fatal("no frames and no error")
		}
		for _, fr := range frames {
			switch fr := fr.(type) {
			case *CryptoFrame:
				if len(fr.Data) > len(payload) {
					t.Fatal("CRYPTO data longer than the payload")
				}
			case *AckFrame:
				if len(fr.Ranges) > maxAckRangesKept {
					t.Fatal("ACK ranges not bounded")
				}
			}
		}
	})
}
