package dissect

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// sslv2Hello builds an SSLv2 CLIENT-HELLO message (RFC 5246 appendix E.2).
func sslv2Hello(version uint16, specs []uint32, sid, challenge []byte) []byte {
	b := []byte{1, byte(version >> 8), byte(version),
		byte(len(specs) * 3 >> 8), byte(len(specs) * 3),
		byte(len(sid) >> 8), byte(len(sid)),
		byte(len(challenge) >> 8), byte(len(challenge))}
	for _, s := range specs {
		b = append(b, byte(s>>16), byte(s>>8), byte(s))
	}
	return append(append(b, sid...), challenge...)
}

func TestParseSSLv2ClientHello(t *testing.T) {
	challenge := []byte("0123456789abcdef")
	specs := []uint32{0x010080, 0x000039, 0x070a0c0, 0x00002f, 0x0000ff}
	msg := sslv2Hello(VersionTLS10, specs, nil, challenge)
	m, err := ParseSSLv2ClientHello(msg)
	if err != nil || len(m.Anomalies) != 0 {
		t.Fatalf("%v %q", err, m.Anomalies)
	}
	wantRandom := append(make([]byte, 16), challenge...)
	if !m.SSLv2 || m.Version != VersionTLS10 || !bytes.Equal(m.Random, wantRandom) || len(m.SessionID) != 0 || !bytes.Equal(m.Raw, msg) {
		t.Errorf("%+v", m)
	}
	if !slices.Equal(m.CipherSuites, []uint16{0x0039, 0x002f, 0x00ff}) || !slices.Equal(m.SSLv2CipherSpecs, []uint32{0x010080, 0x070a0c0}) {
		t.Errorf("CipherSuites %#x SSLv2CipherSpecs %#x", m.CipherSuites, m.SSLv2CipherSpecs)
	}
	if m.HasExtensionsBlock || m.PaddingLength != -1 || m.ServerName != "" {
		t.Errorf("%+v", m)
	}

	// A 32-byte challenge is the random itself; a 16-byte session id is kept.
	c32 := bytes.Repeat([]byte{0xcc}, 32)
	m, err = ParseSSLv2ClientHello(sslv2Hello(VersionSSL30, []uint32{0x000004}, bytes.Repeat([]byte{1}, 16), c32))
	if err != nil || !bytes.Equal(m.Random, c32) || len(m.SessionID) != 16 || m.Version != VersionSSL30 {
		t.Errorf("%+v %v", m, err)
	}

	tests := []struct {
		name    string
		msg     []byte
		errSub  string
		anomaly string
	}{
		{name: "wrong msg_type", msg: append([]byte{4}, msg[1:]...), errSub: "SSLv2ClientHello: msg_type: got 4, want 1 (CLIENT-HELLO) at offset 0"},
		{name: "empty", msg: nil, errSub: "SSLv2ClientHello: msg_type: truncated"},
		{name: "header truncated", msg: msg[:7], errSub: "SSLv2ClientHello: challenge_length: truncated: need 2 bytes, have 0 at offset 7"},
		{name: "specs truncated", msg: msg[:12], errSub: "SSLv2ClientHello: cipher_specs: length 15 exceeds remaining 3 at offset 9"},
		{name: "challenge truncated", msg: msg[:len(msg)-1], errSub: "SSLv2ClientHello: challenge: truncated: need 16 bytes, have 15 at offset 24"},
		{name: "spec length not a multiple of 3", msg: []byte{1, 3, 1, 0, 4, 0, 0, 0, 16, 0, 0, 0x2f, 0, 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'}, anomaly: "cipher_specs: length 4 is not a multiple of 3 at offset 9"},
		{name: "short challenge", msg: sslv2Hello(VersionTLS10, specs[:1], nil, []byte("abc")), anomaly: "challenge: length 3 outside 16..32 at offset 12"},
		{name: "odd session id", msg: sslv2Hello(VersionTLS10, specs[:1], []byte{1, 2}, challenge), anomaly: "session_id: length 2 is neither 0 nor 16 at offset 12"},
		{name: "trailing", msg: append(slices.Clone(msg), 0), anomaly: "message: 1 trailing bytes at offset 40"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseSSLv2ClientHello(tc.msg)
			if m == nil || !m.SSLv2 {
				t.Fatal("no message")
			}
			if (err == nil) != (tc.errSub == "") || (err != nil && !strings.Contains(err.Error(), tc.errSub)) {
				t.Fatalf("error %v, want %q", err, tc.errSub)
			}
			if tc.anomaly != "" && (len(m.Anomalies) != 1 || m.Anomalies[0] != tc.anomaly) {
				t.Errorf("anomalies %q, want %q", m.Anomalies, tc.anomaly)
			}
		})
	}
}

func FuzzParseSSLv2ClientHello(f *testing.F) {
	f.Add(sslv2Hello(VersionTLS10, []uint32{0x010080, 0x000039}, nil, []byte("0123456789abcdef")))
	f.Add(sslv2Hello(VersionSSL30, []uint32{0x000004}, bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 40)))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseSSLv2ClientHello(b)
		checkErr(t, m, err)
		if err == nil && len(m.Random) != 32 {
			t.Fatalf("Random has %d bytes", len(m.Random))
		}
	})
}
