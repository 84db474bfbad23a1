package quic

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSplitCoalesced(t *testing.T) {
	ck, sk, _ := InitialKeys(Version1, testDCID)
	hk, _ := NewKeys(Version1, TLS_AES_256_GCM_SHA384, bytes.Repeat([]byte{7}, 48))
	ak, _ := NewKeys(Version1, TLS_CHACHA20_POLY1305_SHA256, bytes.Repeat([]byte{9}, 32))
	var d []byte
	d = append(d, sealLong(t, sk, longPacket{typ: PacketInitial, dcid: testClientID, scid: testServerID, token: []byte("tok"), pn: 3, payload: []byte{1}})...)
	d = append(d, sealLong(t, hk, longPacket{typ: PacketHandshake, dcid: testClientID, scid: testServerID, pn: 70000, pnLen: 3, payload: []byte{1}})...)
	d = append(d, sealShort(ak, testClientID, 5, 1, true, []byte{1})...)
	packets, err := SplitDatagram(d)
	if err != nil || len(packets) != 3 {
		t.Fatalf("%d packets, %v", len(packets), err)
	}
	if packets[0].Type != PacketInitial || string(packets[0].Token) != "tok" || packets[1].Type != PacketHandshake || packets[2].Type != Packet1RTT {
		t.Fatalf("types %v %v %v", packets[0].Type, packets[1].Type, packets[2].Type)
	}
	if packets[1].Offset != len(packets[0].Raw) || packets[2].Offset != len(packets[0].Raw)+len(packets[1].Raw) {
		t.Errorf("offsets %d %d", packets[1].Offset, packets[2].Offset)
	}
	if op, err := sk.Open(&packets[0], NoPacketNumber); err != nil || op.PacketNumber != 3 {
		t.Errorf("Initial: %v", err)
	}
	if _, err := ck.Open(&packets[0], NoPacketNumber); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Initial with the other side's keys: %v", err)
	}
	if op, err := hk.Open(&packets[1], 69999); err != nil || op.PacketNumber != 70000 || op.PacketNumberLength != 3 {
		t.Errorf("Handshake: %+v %v", op, err)
	}
	if _, err := ak.Open(&packets[2], NoPacketNumber); err == nil {
		t.Error("short header opened without its DCID length")
	}
	short, err := ParseShortHeader(packets[2].Raw, len(testClientID))
	if err != nil {
		t.Fatal(err)
	}
	op, err := ak.Open(&short, 4)
	if err != nil || op.PacketNumber != 5 || !op.KeyPhase || !bytes.Equal(short.DCID, testClientID) {
		t.Errorf("1-RTT: %+v %v", op, err)
	}
}

func TestParseLongHeaderErrors(t *testing.T) {
	v1 := []byte{0xc0, 0, 0, 0, 1}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"short", []byte{0x40}, "not a long header"},
		{"version", []byte{0xc0, 0, 0}, "version: truncated"},
		{"dcid", append(bytes.Clone(v1), 5, 1, 2), "destination connection ID: truncated"},
		{"dcid too long", append(append(bytes.Clone(v1), 21), make([]byte, 21)...), "length 21 exceeds 20"},
		{"scid", append(bytes.Clone(v1), 0), "source connection ID: truncated"},
		{"token", append(bytes.Clone(v1), 0, 0, 5, 1), "Token Length: length 5 exceeds remaining 1"},
		{"length", append(bytes.Clone(v1), 0, 0, 0, 0x44, 0x00, 1), "Length: length 1024 exceeds remaining 1"},
		{"length truncated", append(bytes.Clone(v1), 0, 0, 0), "Length: truncated"},
		{"retry tag", []byte{0xf0, 0, 0, 0, 1, 0, 0, 1, 2}, "Retry Integrity Tag: truncated"},
		{"vn list", []byte{0x80, 0, 0, 0, 0, 0, 0, 1, 2, 3}, "length 3 is not a positive multiple of 4"},
		{"vn empty", []byte{0x80, 0, 0, 0, 0, 0, 0}, "length 0 is not"},
	} {
		_, err := ParseLongHeader(tc.b)
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if IsLongHeader(tc.b) {
			t.Errorf("%s: recognised as QUIC", tc.name)
		}
	}
}

func TestUnknownVersionAndDetection(t *testing.T) {
	// An unknown version: the version-independent fields, up to 255-byte IDs.
	b := []byte{0xc3, 0x12, 0x34, 0x56, 0x78, 30}
	b = append(b, make([]byte, 30)...)
	b = append(b, 2, 0xaa, 0xbb, 1, 2, 3)
	p, err := ParseLongHeader(b)
	if err != nil || p.Type != PacketUnknownVersion || len(p.DCID) != 30 || !bytes.Equal(p.SCID, []byte{0xaa, 0xbb}) || len(p.Raw) != len(b) {
		t.Fatalf("%v %v", &p, err)
	}
	if IsLongHeader(b) {
		t.Error("unknown version recognised")
	}
	// Fixed bit clear.
	ck, _, _ := InitialKeys(Version1, testDCID)
	d := sealLong(t, ck, longPacket{typ: PacketInitial, dcid: testDCID, payload: []byte{1}, padTo: 1200})
	d[0] &^= fixedBit
	if IsLongHeader(d) || IsClientInitial(d) {
		t.Error("fixed bit 0 recognised")
	}
	d[0] |= fixedBit
	if !IsClientInitial(d) || IsClientInitial(d[:1100]) {
		t.Error("size rule")
	}
	// Version Negotiation listing version 0 is not taken for QUIC.
	if IsLongHeader(versionNegotiationPacket(nil, nil, 0)) || !IsLongHeader(versionNegotiationPacket(nil, nil, Version1)) {
		t.Error("Version Negotiation detection")
	}
	for _, tc := range []struct {
		v    Version
		want string
	}{{Version1, "v1"}, {Version2, "v2"}, {VersionDraft29, "draft-29"}, {0, "negotiation"}, {0x1a2a3a4a, "0x1a2a3a4a (reserved)"}, {0xff000020, "0xff000020"}} {
		if tc.v.String() != tc.want {
			t.Errorf("%x: %q", uint32(tc.v), tc.v.String())
		}
	}
}

// TestRandomPayloadsNotQUIC: random UDP payloads are not taken for QUIC.
func TestRandomPayloadsNotQUIC(t *testing.T) {
	seed := uint64(1)
	next := func() byte {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return byte(seed)
	}
	for range 20000 {
		b := make([]byte, 1200)
		for i := range b {
			b[i] = next()
		}
		if IsLongHeader(b) {
			t.Fatalf("random payload %x… taken for QUIC", b[:16])
		}
	}
}
