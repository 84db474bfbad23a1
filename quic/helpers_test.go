package quic

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/tls"
	"encoding/binary"
	"testing"
)

// This file builds QUIC packets for tests: the sender's side of what the
// package reads, with the package's own key derivation.

// varintLen is the length of the shortest encoding of v.
func varintLen(v uint64) int {
	switch {
	case v < 1<<6:
		return 1
	case v < 1<<14:
		return 2
	case v < 1<<30:
		return 4
	}
	return 8
}

// appendVarint appends v in its shortest encoding (RFC 9000 §16).
func appendVarint(b []byte, v uint64) []byte {
	switch varintLen(v) {
	case 1:
		return append(b, byte(v))
	case 2:
		return binary.BigEndian.AppendUint16(b, uint16(v)|0x4000)
	case 4:
		return binary.BigEndian.AppendUint32(b, uint32(v)|0x80000000)
	}
	return binary.BigEndian.AppendUint64(b, v|0xc0<<56)
}

// cryptoFrame encodes a CRYPTO frame.
func cryptoFrame(offset uint64, data []byte) []byte {
	b := appendVarint([]byte{byte(FrameCrypto)}, offset)
	b = appendVarint(b, uint64(len(data)))
	return append(b, data...)
}

// ackFrame encodes an ACK frame for packets 0..largest.
func ackFrame(largest uint64) []byte {
	b := appendVarint([]byte{byte(FrameAck)}, largest)
	b = appendVarint(b, 0) // delay
	b = appendVarint(b, 0) // range count
	return appendVarint(b, largest)
}

// closeFrame encodes a QUIC layer CONNECTION_CLOSE frame.
func closeFrame(code, frameType uint64, reason string) []byte {
	b := appendVarint([]byte{byte(FrameConnectionClose)}, code)
	b = appendVarint(b, frameType)
	b = appendVarint(b, uint64(len(reason)))
	return append(b, reason...)
}

// typeBits is the encoding of a long-header packet type in version v.
func typeBits(t testing.TB, v Version, pt PacketType) byte {
	for i, x := range versionParams(v).packetTypes {
		if x == pt {
			return byte(i)
		}
	}
	t.Fatalf("no type bits for %v in %v", pt, v)
	return 0
}

// longPacket is what sealLong needs to build a long-header packet.
type longPacket struct {
	typ        PacketType
	dcid, scid []byte
	token      []byte
	pn         uint64
	pnLen      int // 1 to 4; 0 means 2
	payload    []byte
	padTo      int // pad the payload with PADDING so that the packet is this long
}

// sealLong builds a protected long-header packet (RFC 9000 §17.2, RFC 9001
// §5.3, §5.4), the way a sender does.
func sealLong(t testing.TB, k *Keys, lp longPacket) []byte {
	t.Helper()
	pnLen := lp.pnLen
	if pnLen == 0 {
		pnLen = 2
	}
	hdr := []byte{0xc0 | typeBits(t, k.version, lp.typ)<<4 | byte(pnLen-1)}
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(k.version))
	hdr = append(hdr, byte(len(lp.dcid)))
	hdr = append(hdr, lp.dcid...)
	hdr = append(hdr, byte(len(lp.scid)))
	hdr = append(hdr, lp.scid...)
	if lp.typ == PacketInitial {
		hdr = appendVarint(hdr, uint64(len(lp.token)))
		hdr = append(hdr, lp.token...)
	}
	payload := bytes.Clone(lp.payload)
	overhead := k.aead.Overhead()
	// Room for the header protection sample: 4 bytes past the packet
	// number's start plus 16 (RFC 9001 §5.4.2).
	for pnLen+len(payload) < sampleOffset {
		payload = append(payload, 0)
	}
	if lp.padTo > 0 {
		// header so far + 2-byte Length + pn + payload + tag
		if n := lp.padTo - (len(hdr) + 2 + pnLen + len(payload) + overhead); n > 0 {
			payload = append(payload, make([]byte, n)...)
		}
	}
	length := pnLen + len(payload) + overhead
	if length >= 1<<14 {
		t.Fatalf("packet too long: %d", length)
	}
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(length)|0x4000)
	for i := pnLen - 1; i >= 0; i-- {
		hdr = append(hdr, byte(lp.pn>>(8*i)))
	}
	return seal(k, hdr, pnLen, lp.pn, payload)
}

// seal encrypts payload after the unprotected header hdr (which ends with
// the pnLen-byte packet number) and applies header protection.
func seal(k *Keys, hdr []byte, pnLen int, pn uint64, payload []byte) []byte {
	pnOff := len(hdr) - pnLen
	out := k.aead.Seal(bytes.Clone(hdr), k.nonce(pn), payload, hdr)
	mask := k.hp.mask(out[pnOff+sampleOffset : pnOff+sampleOffset+sampleLen])
	if out[0]&headerFormLong != 0 {
		out[0] ^= mask[0] & 0x0f
	} else {
		out[0] ^= mask[0] & 0x1f
	}
	for i := range pnLen {
		out[pnOff+i] ^= mask[1+i]
	}
	return out
}

// sealShort builds a protected 1-RTT packet.
func sealShort(k *Keys, dcid []byte, pn uint64, pnLen int, keyPhase bool, payload []byte) []byte {
	first := byte(0x40 | (pnLen - 1))
	if keyPhase {
		first |= 0x04
	}
	hdr := append([]byte{first}, dcid...)
	for i := pnLen - 1; i >= 0; i-- {
		hdr = append(hdr, byte(pn>>(8*i)))
	}
	for pnLen+len(payload) < sampleOffset {
		payload = append(payload, 0)
	}
	return seal(k, hdr, pnLen, pn, payload)
}

// retryPacket builds a Retry packet with a valid integrity tag for odcid
// (RFC 9001 §5.8).
func retryPacket(t testing.TB, v Version, dcid, scid, token, odcid []byte) []byte {
	t.Helper()
	b := []byte{0xc0 | typeBits(t, v, PacketRetry)<<4}
	b = binary.BigEndian.AppendUint32(b, uint32(v))
	b = append(b, byte(len(dcid)))
	b = append(b, dcid...)
	b = append(b, byte(len(scid)))
	b = append(b, scid...)
	b = append(b, token...)
	pseudo := append(append([]byte{byte(len(odcid))}, odcid...), b...)
	params := versionParams(v)
	block, err := aes.NewCipher(params.retryKey)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, aead.Seal(nil, params.retryNonce, nil, pseudo)...)
}

// versionNegotiationPacket builds a Version Negotiation packet.
func versionNegotiationPacket(dcid, scid []byte, versions ...Version) []byte {
	b := []byte{0x80 | 0x3a, 0, 0, 0, 0}
	b = append(b, byte(len(dcid)))
	b = append(b, dcid...)
	b = append(b, byte(len(scid)))
	b = append(b, scid...)
	for _, v := range versions {
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	return b
}

// transcript is a TLS 1.3 handshake run over crypto/tls's QUIC API, in
// memory: the CRYPTO stream bytes of each side per level, and the
// handshake secrets.
type transcript struct {
	// crypto[side][level]: side 0 client, 1 server; level Initial 0,
	// Handshake 2 (tls.QUICEncryptionLevel).
	crypto             [2][4][]byte
	suite              uint16
	clientHS, serverHS []byte // handshake traffic secrets
}

// runTLS runs a QUIC TLS handshake between crypto/tls client and server
// configurations, with the given transport parameters.
func runTLS(t testing.TB, client, server *tls.Config, clientTP, serverTP []byte) *transcript {
	t.Helper()
	ctx := context.Background()
	conns := [2]*tls.QUICConn{
		tls.QUICClient(&tls.QUICConfig{TLSConfig: client}),
		tls.QUICServer(&tls.QUICConfig{TLSConfig: server}),
	}
	conns[0].SetTransportParameters(clientTP)
	for _, c := range conns {
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	tr := &transcript{}
	type write struct {
		level tls.QUICEncryptionLevel
		data  []byte
	}
	done := [2]bool{}
	for round := 0; round < 20 && !(done[0] && done[1]); round++ {
		for i, c := range conns {
			var out []write
			for {
				e := c.NextEvent()
				if e.Kind == tls.QUICNoEvent {
					break
				}
				switch e.Kind {
				case tls.QUICWriteData:
					tr.crypto[i][e.Level] = append(tr.crypto[i][e.Level], e.Data...)
					out = append(out, write{e.Level, bytes.Clone(e.Data)})
				case tls.QUICSetWriteSecret:
					if e.Level == tls.QUICEncryptionLevelHandshake {
						tr.suite = e.Suite
						if i == 0 {
							tr.clientHS = bytes.Clone(e.Data)
						} else {
							tr.serverHS = bytes.Clone(e.Data)
						}
					}
				case tls.QUICTransportParametersRequired:
					c.SetTransportParameters(serverTP)
				case tls.QUICHandshakeDone:
					done[i] = true
				}
			}
			for _, w := range out {
				if err := conns[1-i].HandleData(w.level, w.data); err != nil {
					t.Fatalf("side %d HandleData(%v): %v", 1-i, w.level, err)
				}
			}
		}
	}
	if !done[0] || !done[1] {
		t.Fatalf("handshake did not complete: %v", done)
	}
	return tr
}

// chunks splits b at the given offsets.
func chunks(b []byte, cuts ...int) [][]byte {
	var out [][]byte
	prev := 0
	for _, c := range cuts {
		out = append(out, b[prev:c])
		prev = c
	}
	return append(out, b[prev:])
}
