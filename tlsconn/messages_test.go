package tlsconn

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// TestMessagesFollowTheHandshake: with Config.Messages, a HelloRetryRequest
// handshake lists both ClientHellos with their own key shares, in order,
// under one Summary, with offsets that never go back in time.
func TestMessagesFollowTheHandshake(t *testing.T) {
	c, s := clientConfig(), serverConfig()
	c.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
	s.CurvePreferences = []tls.CurveID{tls.CurveP256}
	r := mustHandshake(t, c, s)
	h := newHarness(t, Config{Messages: true}).open(connInfo())
	h.replay(r.chunks, 5)
	h.close(tcpstream.CloseFIN)
	got := h.one()
	var seq []string
	last := -1.0
	for _, m := range got.Messages {
		if m.Type != "change_cipher_spec" { // the compatibility CCSs race the hellos
			seq = append(seq, m.From+" "+m.Type)
		}
		if m.OffsetMS < last {
			t.Errorf("%s %s at %.3f ms, after a message at %.3f ms", m.From, m.Type, m.OffsetMS, last)
		}
		last = m.OffsetMS
		if m.Length <= 0 {
			t.Errorf("%s %s: length %d", m.From, m.Type, m.Length)
		}
	}
	joined := strings.Join(seq, ", ")
	// The server is followed until it answers the client's flight (Go's
	// server: its flight in four records, then a session ticket).
	if want := "client client_hello, server server_hello, client client_hello, server server_hello, server encrypted record, server encrypted record, server encrypted record, server encrypted record, client encrypted record, server encrypted record"; joined != want {
		t.Errorf("messages (without change_cipher_spec):\n got  %q\n want %q", joined, want)
	}
	var shares []string
	for _, m := range got.Messages {
		if m.Type != "client_hello" {
			continue
		}
		js, _ := m.Fields.MarshalJSON()
		if i := bytes.Index(js, []byte(`"key_share":`)); i >= 0 {
			shares = append(shares, string(js[i:i+bytes.IndexByte(js[i:], ']')+1]))
		}
	}
	want := []string{`"key_share":["x25519 (32-byte key)"]`, `"key_share":["secp256r1 (65-byte key)"]`}
	if fmt.Sprint(shares) != fmt.Sprint(want) {
		t.Errorf("ClientHello key shares = %v, want %v", shares, want)
	}
	if first := got.Messages[0]; first.OffsetMS != 0 || first.Fields == nil {
		t.Errorf("first message = %+v", first)
	}

	// Without Config.Messages nothing is listed.
	h = newHarness(t, Config{}).open(connInfo())
	h.replay(r.chunks, 0)
	h.close(tcpstream.CloseFIN)
	if n := len(h.one().Messages); n != 0 {
		t.Errorf("%d messages listed without Config.Messages", n)
	}
}

// TestMessagesAreBounded: a peer that keeps sending records cannot make the
// per-message view grow without bound.
func TestMessagesAreBounded(t *testing.T) {
	r := mustHandshake(t, clientConfig(), serverConfig())
	h := newHarness(t, Config{Messages: true}).open(connInfo())
	ch := r.chunks[0]
	h.data(ch.dir, ch.b, 0)
	warning := []byte{21, 3, 3, 0, 2, 1, 90} // warning alert user_canceled
	h.data(ch.dir, bytes.Repeat(warning, 2*maxMessages), 0)
	h.close(tcpstream.CloseFIN)
	got := h.one()
	if len(got.Messages) != maxMessages {
		t.Errorf("%d messages listed, want the bound %d", len(got.Messages), maxMessages)
	}
	found := false
	for _, w := range got.Warnings {
		found = found || strings.Contains(w, "per-message view: more than")
	}
	if !found {
		t.Errorf("no warning about the bound: %q", got.Warnings)
	}
}
