package quic

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/chacha20"
)

// TestKeysRoundTrip seals and opens with every suite and version, long and
// short headers, every packet number length.
func TestKeysRoundTrip(t *testing.T) {
	for _, v := range []Version{Version1, Version2, VersionDraft29} {
		for _, suite := range []uint16{TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256} {
			secret := bytes.Repeat([]byte{byte(suite)}, 32)
			if suite == TLS_AES_256_GCM_SHA384 {
				secret = bytes.Repeat([]byte{3}, 48)
			}
			k, err := NewKeys(v, suite, secret)
			if err != nil {
				t.Fatal(err)
			}
			if s := k.String(); strings.Contains(s, "0303") || !strings.Contains(s, v.String()) {
				t.Errorf("String %q", s)
			}
			for pnLen := 1; pnLen <= 4; pnLen++ {
				pn := uint64(1)<<(8*pnLen-1) + 5
				d := sealLong(t, k, longPacket{typ: PacketHandshake, dcid: testDCID, scid: testServerID, pn: pn, pnLen: pnLen, payload: []byte{1, 0, 0}})
				p, err := ParseLongHeader(d)
				if err != nil {
					t.Fatal(err)
				}
				op, err := k.Open(&p, int64(pn-1))
				if err != nil || op.PacketNumber != pn || op.PacketNumberLength != pnLen {
					t.Errorf("%v %04x pnLen %d: %+v %v", v, suite, pnLen, op, err)
				}
				s := sealShort(k, testDCID, pn, pnLen, false, []byte{1})
				sp, _ := ParseShortHeader(s, len(testDCID))
				if op, err := k.Open(&sp, int64(pn-1)); err != nil || op.PacketNumber != pn || op.KeyPhase {
					t.Errorf("short %v %04x pnLen %d: %+v %v", v, suite, pnLen, op, err)
				}
			}
		}
	}
}

func TestNewKeysErrors(t *testing.T) {
	if _, err := NewKeys(0xff000020, TLS_AES_128_GCM_SHA256, make([]byte, 32)); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("version: %v", err)
	}
	if _, err := NewKeys(Version1, 0x1304, make([]byte, 32)); !errors.Is(err, ErrUnsupportedSuite) {
		t.Errorf("suite: %v", err)
	}
	if _, err := NewKeys(Version1, TLS_AES_256_GCM_SHA384, make([]byte, 32)); err == nil {
		t.Error("secret length not checked")
	}
	if _, _, err := InitialKeys(0x1a2a3a4a, testDCID); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("initial: %v", err)
	}
}

// TestChaChaCounterEdge: a sample whose counter is 2^32-1 still gives a
// mask, and it is the key stream's last block: what follows the block of
// counter 2^32-2.
func TestChaChaCounterEdge(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	nonce := bytes.Repeat([]byte{2}, 12)
	h := chachaHeaderProtector{key}
	c, err := chacha20.NewUnauthenticatedCipher(key, nonce)
	if err != nil {
		t.Fatal(err)
	}
	c.SetCounter(0xfffffffe)
	stream := make([]byte, 64+5)
	c.XORKeyStream(stream, stream)
	for _, tc := range []struct {
		counter byte
		want    []byte
	}{{0xfe, stream[:5]}, {0xff, stream[64:]}} {
		sample := append([]byte{tc.counter, 0xff, 0xff, 0xff}, nonce...)
		if m := h.mask(sample); !bytes.Equal(m[:], tc.want) {
			t.Errorf("counter 0xffffff%02x: mask %x, want %x", tc.counter, m, tc.want)
		}
	}
}

func TestOpenTooShort(t *testing.T) {
	ck, _, _ := InitialKeys(Version1, testDCID)
	d := sealLong(t, ck, longPacket{typ: PacketInitial, dcid: testDCID, payload: []byte{1}})
	p, _ := ParseLongHeader(d)
	p.Raw = p.Raw[:p.PNOffset+10]
	var pe *ParseError
	if _, err := ck.Open(&p, NoPacketNumber); !errors.As(err, &pe) {
		t.Errorf("short packet: %v", err)
	}
	var vn Packet
	if _, err := ck.Open(&vn, NoPacketNumber); !errors.As(err, &pe) {
		t.Errorf("no packet number: %v", err)
	}
}
