package dissect

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

func TestKeyExchangeOf(t *testing.T) {
	tests := []struct {
		suite uint16
		want  KeyExchange
	}{
		{0x0000, KeyExchangeUnknown}, // TLS_NULL_WITH_NULL_NULL
		{0x0003, KeyExchangeRSAExport},
		{0x000d, KeyExchangeDH}, // TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA
		{0x0018, KeyExchangeDHAnon},
		{0x001e, KeyExchangeKRB5},
		{0x002f, KeyExchangeRSA},
		{0x0033, KeyExchangeDHE},
		{0x008a, KeyExchangePSK},
		{0x008e, KeyExchangeDHEPSK},
		{0x0092, KeyExchangeRSAPSK},
		{0x009e, KeyExchangeDHE},
		{0x00ff, KeyExchangeUnknown}, // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
		{0x0a0a, KeyExchangeUnknown}, // GREASE
		{0x1301, KeyExchangeUnknown},
		{0x1303, KeyExchangeUnknown},
		{0x5600, KeyExchangeUnknown}, // TLS_FALLBACK_SCSV
		{0xc004, KeyExchangeECDH},
		{0xc015, KeyExchangeECDHAnon},
		{0xc01d, KeyExchangeSRP},
		{0xc02b, KeyExchangeECDHE},
		{0xc02f, KeyExchangeECDHE},
		{0xc037, KeyExchangeECDHEPSK},
		{0xc0aa, KeyExchangeDHEPSK}, // TLS_PSK_DHE_WITH_AES_128_CCM_8
		{0xc0b0, KeyExchangeECCPWD},
		{0xc0b4, KeyExchangeUnknown}, // TLS_SHA256_SHA256 (TLS 1.3)
		{0xc100, KeyExchangeGOST},
		{0xc103, KeyExchangeUnknown}, // TLS 1.3 GOST suite (RFC 9367)
		{0xcca8, KeyExchangeECDHE},
		{0x00c6, KeyExchangeUnknown}, // TLS_SM4_GCM_SM3 (TLS 1.3)
	}
	for _, tc := range tests {
		if got := KeyExchangeOf(tc.suite); got != tc.want {
			t.Errorf("KeyExchangeOf(%#04x) = %v, want %v", tc.suite, got, tc.want)
		}
	}
	for k, want := range map[KeyExchange]string{KeyExchangeECDHE: "ECDHE", KeyExchangeDHEPSK: "DHE_PSK", KeyExchangeUnknown: "unknown", KeyExchangeDHAnon: "DH_anon", 99: "KeyExchange(99)", -1: "KeyExchange(-1)"} {
		if got := k.String(); got != want {
			t.Errorf("String(%d) = %q, want %q", int(k), got, want)
		}
	}
}

// ske builds a ServerKeyExchange body from parts; each part is written
// as-is, so callers add length prefixes with u16p / u8p.
func ske(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func u16p(b []byte) []byte {
	var bb cryptobyte.Builder
	bb.AddUint16LengthPrefixed(func(c *cryptobyte.Builder) { c.AddBytes(b) })
	return bb.BytesOrPanic()
}

func u8p(b []byte) []byte {
	var bb cryptobyte.Builder
	bb.AddUint8LengthPrefixed(func(c *cryptobyte.Builder) { c.AddBytes(b) })
	return bb.BytesOrPanic()
}

func filled(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

func TestServerKeyExchangeHandBuilt(t *testing.T) {
	p2048 := append([]byte{0x00, 0xff}, filled(255, 0xab)...) // leading zero byte: still 2048 bits
	dhParams := ske(u16p(p2048), u16p([]byte{2}), u16p(filled(256, 7)))
	sig12 := ske([]byte{0x04, 0x01}, u16p(filled(256, 9)))
	sig10 := u16p(filled(128, 9))
	named := ske([]byte{3, 0x00, 0x1d}, u8p(filled(32, 4)))
	explicit := ske([]byte{1}, u8p(filled(32, 1)), u8p([]byte{1}), u8p([]byte{2}), u8p(filled(65, 4)), u8p(filled(32, 5)), u8p([]byte{1}), u8p(filled(65, 4)))
	srp := ske(u16p(filled(128, 0xff)), u16p([]byte{5}), u8p(filled(16, 1)), u16p(filled(128, 2)))
	tests := []struct {
		name    string
		body    []byte
		kx      KeyExchange
		version uint16
		want    ServerKeyExchange // Anomalies compared by count
		anom    int
		errSub  string
	}{
		{name: "DHE TLS1.2", body: ske(dhParams, sig12), kx: KeyExchangeDHE, version: VersionTLS12,
			want: ServerKeyExchange{DHPrimeBits: 2048, PublicKeyLength: 256, SignatureScheme: 0x0401, HasSignature: true, SignatureLength: 256}},
		{name: "DHE TLS1.2 guessed", body: ske(dhParams, sig12), kx: KeyExchangeDHE,
			want: ServerKeyExchange{DHPrimeBits: 2048, PublicKeyLength: 256, SignatureScheme: 0x0401, HasSignature: true, SignatureLength: 256}},
		{name: "DHE TLS1.0", body: ske(dhParams, sig10), kx: KeyExchangeDHE, version: VersionTLS10,
			want: ServerKeyExchange{DHPrimeBits: 2048, PublicKeyLength: 256, HasSignature: true, SignatureLength: 128}},
		{name: "DHE SSL3 guessed", body: ske(dhParams, sig10), kx: KeyExchangeDHE,
			want: ServerKeyExchange{DHPrimeBits: 2048, PublicKeyLength: 256, HasSignature: true, SignatureLength: 128}},
		{name: "DH_anon", body: dhParams, kx: KeyExchangeDHAnon, version: VersionTLS12,
			want: ServerKeyExchange{DHPrimeBits: 2048, PublicKeyLength: 256}},
		{name: "DHE truncated signature", body: ske(dhParams, sig12)[:len(dhParams)+10], kx: KeyExchangeDHE, version: VersionTLS12,
			want:   ServerKeyExchange{DHPrimeBits: 2048, PublicKeyLength: 256, SignatureScheme: 0x0401, HasSignature: true},
			errSub: "ServerKeyExchange: signature: length 256 exceeds remaining 6 at offset 522"},
		{name: "DHE truncated Ys", body: dhParams[:300], kx: KeyExchangeDHE, version: VersionTLS12,
			want:   ServerKeyExchange{DHPrimeBits: 2048},
			errSub: "ServerKeyExchange: dh_Ys: length 256 exceeds remaining 36 at offset 262"},
		{name: "ECDHE named x25519", body: ske(named, sig12), kx: KeyExchangeECDHE, version: VersionTLS12,
			want: ServerKeyExchange{CurveType: 3, Group: 0x1d, PublicKeyLength: 32, SignatureScheme: 0x0401, HasSignature: true, SignatureLength: 256}},
		{name: "ECDHE explicit prime", body: ske(explicit, sig10), kx: KeyExchangeECDHE, version: VersionTLS11,
			want: ServerKeyExchange{CurveType: 1, PublicKeyLength: 65, HasSignature: true, SignatureLength: 128}, anom: 1},
		{name: "ECDHE unknown curve type", body: []byte{9, 0, 0x17}, kx: KeyExchangeECDHE, version: VersionTLS12,
			want: ServerKeyExchange{CurveType: 9}, errSub: "ServerKeyExchange: curve_type: unknown curve type 9 at offset 0"},
		{name: "ECDH_anon", body: named, kx: KeyExchangeECDHAnon,
			want: ServerKeyExchange{CurveType: 3, Group: 0x1d, PublicKeyLength: 32}},
		{name: "PSK hint", body: u16p([]byte("hint")), kx: KeyExchangePSK,
			want: ServerKeyExchange{PSKIdentityHint: []byte("hint")}},
		{name: "PSK trailing", body: ske(u16p(nil), []byte{1}), kx: KeyExchangePSK,
			want: ServerKeyExchange{PSKIdentityHint: []byte{}}, anom: 1},
		{name: "ECDHE_PSK", body: ske(u16p([]byte("h")), named), kx: KeyExchangeECDHEPSK,
			want: ServerKeyExchange{PSKIdentityHint: []byte("h"), CurveType: 3, Group: 0x1d, PublicKeyLength: 32}},
		{name: "DHE_PSK", body: ske(u16p(nil), dhParams), kx: KeyExchangeDHEPSK,
			want: ServerKeyExchange{PSKIdentityHint: []byte{}, DHPrimeBits: 2048, PublicKeyLength: 256}},
		{name: "RSA_EXPORT", body: ske(u16p(filled(64, 0xc0)), u16p([]byte{1, 0, 1}), sig10), kx: KeyExchangeRSAExport, version: VersionTLS10,
			want: ServerKeyExchange{RSAModulusBits: 512, HasSignature: true, SignatureLength: 128}},
		{name: "SRP_SHA_RSA", body: ske(srp, sig12), kx: KeyExchangeSRP, version: VersionTLS12,
			want: ServerKeyExchange{DHPrimeBits: 1024, PublicKeyLength: 128, HasSignature: true, SignatureScheme: 0x0401, SignatureLength: 256}},
		{name: "SRP_SHA unsigned", body: srp, kx: KeyExchangeSRP, version: VersionTLS12,
			want: ServerKeyExchange{DHPrimeBits: 1024, PublicKeyLength: 128}},
		{name: "ECCPWD", body: ske(u8p(filled(32, 1)), []byte{3, 0, 0x17}, u8p(filled(65, 4)), u8p(filled(32, 3))), kx: KeyExchangeECCPWD,
			want: ServerKeyExchange{CurveType: 3, Group: 0x17, PublicKeyLength: 65}},
		{name: "static ECDH", body: named, kx: KeyExchangeECDH,
			want: ServerKeyExchange{CurveType: 3, Group: 0x1d, PublicKeyLength: 32}, anom: 1},
		{name: "unknown", body: named, kx: KeyExchangeUnknown, errSub: "ServerKeyExchange: key exchange: no ServerKeyExchange layout for key exchange unknown at offset 0"},
		{name: "GOST", body: named, kx: KeyExchangeGOST, errSub: "no ServerKeyExchange layout for key exchange GOST"},
		{name: "empty", body: nil, kx: KeyExchangeECDHE, errSub: "ServerKeyExchange: curve_type: truncated: need 1 bytes, have 0 at offset 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseServerKeyExchange(tc.body, tc.kx, tc.version)
			if (err == nil) != (tc.errSub == "") || (err != nil && !strings.Contains(err.Error(), tc.errSub)) {
				t.Fatalf("error %v, want %q", err, tc.errSub)
			}
			if len(m.Anomalies) != tc.anom {
				t.Errorf("anomalies %q, want %d", m.Anomalies, tc.anom)
			}
			got := *m
			got.Anomalies = nil
			want := tc.want
			want.KeyExchange = tc.kx
			if got.KeyExchange != want.KeyExchange || got.CurveType != want.CurveType || got.Group != want.Group || got.DHPrimeBits != want.DHPrimeBits ||
				got.RSAModulusBits != want.RSAModulusBits || got.PublicKeyLength != want.PublicKeyLength || !bytes.Equal(got.PSKIdentityHint, want.PSKIdentityHint) ||
				(got.PSKIdentityHint == nil) != (want.PSKIdentityHint == nil) || got.SignatureScheme != want.SignatureScheme ||
				got.HasSignature != want.HasSignature || got.SignatureLength != want.SignatureLength {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestClientKeyExchangeHandBuilt(t *testing.T) {
	tests := []struct {
		name    string
		body    []byte
		kx      KeyExchange
		version uint16
		pub     int
		ident   string
		errSub  string
	}{
		{name: "RSA TLS", body: u16p(filled(256, 1)), kx: KeyExchangeRSA, version: VersionTLS12, pub: 256},
		{name: "RSA SSL3 raw", body: filled(128, 1), kx: KeyExchangeRSA, version: VersionSSL30, pub: 128},
		{name: "RSA guessed raw", body: filled(128, 1), kx: KeyExchangeRSA, pub: 128},
		{name: "RSA guessed prefixed", body: u16p(filled(128, 1)), kx: KeyExchangeRSA, pub: 128},
		{name: "DHE", body: u16p(filled(256, 1)), kx: KeyExchangeDHE, pub: 256},
		{name: "DH implicit", body: nil, kx: KeyExchangeDH},
		{name: "ECDHE", body: u8p(filled(65, 4)), kx: KeyExchangeECDHE, pub: 65},
		{name: "ECDH implicit", body: nil, kx: KeyExchangeECDH},
		{name: "PSK", body: u16p([]byte("client1")), kx: KeyExchangePSK, ident: "client1"},
		{name: "ECDHE_PSK", body: ske(u16p([]byte("c")), u8p(filled(32, 1))), kx: KeyExchangeECDHEPSK, pub: 32, ident: "c"},
		{name: "RSA_PSK", body: ske(u16p([]byte("c")), u16p(filled(256, 1))), kx: KeyExchangeRSAPSK, pub: 256, ident: "c"},
		{name: "SRP", body: u16p(filled(128, 1)), kx: KeyExchangeSRP, pub: 128},
		{name: "ECCPWD", body: ske(u8p(filled(65, 4)), u8p(filled(32, 1))), kx: KeyExchangeECCPWD, pub: 65},
		{name: "GOST", body: filled(100, 0x30), kx: KeyExchangeGOST, pub: 100},
		{name: "ECDHE truncated", body: []byte{65, 4, 4}, kx: KeyExchangeECDHE, pub: 0, errSub: "ClientKeyExchange: ecdh_Yc: length 65 exceeds remaining 2 at offset 0"},
		{name: "unknown", body: []byte{1}, kx: KeyExchangeUnknown, errSub: "no ClientKeyExchange layout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseClientKeyExchange(tc.body, tc.kx, tc.version)
			if (err == nil) != (tc.errSub == "") || (err != nil && !strings.Contains(err.Error(), tc.errSub)) {
				t.Fatalf("error %v, want %q", err, tc.errSub)
			}
			if m.Length != len(tc.body) || m.PublicKeyLength != tc.pub || string(m.PSKIdentity) != tc.ident || len(m.Anomalies) != 0 {
				t.Errorf("%+v", m)
			}
		})
	}
}

func FuzzParseServerKeyExchange(f *testing.F) {
	for _, m := range realMessages(f) {
		if m.typ == TypeServerKeyExchange {
			f.Add(m.body, uint8(KeyExchangeECDHE), VersionTLS12)
		}
	}
	dh := ske(u16p(filled(64, 0xff)), u16p([]byte{2}), u16p(filled(64, 7)), []byte{4, 1}, u16p(filled(16, 9)))
	f.Add(dh, uint8(KeyExchangeDHE), uint16(0))
	f.Add(ske(u16p([]byte("h")), []byte{1}, u8p([]byte{7}), u8p([]byte{1}), u8p([]byte{2}), u8p([]byte{4, 1}), u8p([]byte{5}), u8p([]byte{1}), u8p([]byte{4, 2})), uint8(KeyExchangeECDHEPSK), VersionTLS10)
	f.Add([]byte{2, 0, 7, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, uint8(KeyExchangeECDHAnon), VersionTLS12)
	f.Fuzz(func(t *testing.T, b []byte, kx uint8, version uint16) {
		k := KeyExchange(kx % 20)
		m, err := ParseServerKeyExchange(b, k, version)
		checkErr(t, m, err)
		c, err := ParseClientKeyExchange(b, k, version)
		checkErr(t, c, err)
		var me *MessageError
		if err != nil && !errors.As(err, &me) {
			t.Fatal(err)
		}
		_ = slices.Clone(m.Anomalies)
	})
}
