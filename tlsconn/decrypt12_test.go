package tlsconn

import (
	"bytes"
	"crypto/tls"
	"slices"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/keylog"
	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// keyLogged runs a real handshake whose client writes its key log, and
// returns the result with the parsed log.
func keyLogged(t *testing.T, ccfg, scfg *tls.Config) (handshakeResult, *keylog.Log) {
	t.Helper()
	var kl bytes.Buffer
	ccfg.KeyLogWriter = &kl
	r := mustHandshake(t, ccfg, scfg)
	log := keylog.New()
	if _, err := log.Parse(bytes.NewReader(kl.Bytes()), "test"); err != nil {
		t.Fatal(err)
	}
	return r, log
}

// TestTLS12Decryption: with the master secret, both Finished messages of a
// TLS 1.0-1.2 handshake are decrypted (GCM, ChaCha20-Poly1305, CBC with
// TLS 1.0's chained IV and TLS 1.2's explicit one, and the client's
// Certificate of a mutual handshake is still read in plaintext); the
// summary is otherwise the one read without keys, whatever the chunking,
// and the connection is followed on past the handshake without warnings.
func TestTLS12Decryption(t *testing.T) {
	for _, tt := range []struct {
		name    string
		version uint16
		suite   uint16
		mutual  bool
	}{
		{"GCM", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, false},
		{"ChaCha20 mutual", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, true},
		{"CBC-SHA256", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, false},
		{"TLS 1.0 CBC", tls.VersionTLS10, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, s := clientConfig(), serverConfig()
			c.MinVersion, c.MaxVersion, c.CipherSuites = tt.version, tt.version, []uint16{tt.suite}
			s.MinVersion, s.MaxVersion, s.CipherSuites = tt.version, tt.version, []uint16{tt.suite}
			if tt.mutual {
				c.Certificates = []tls.Certificate{pki().client}
				s.ClientAuth = tls.RequireAnyClientCert
			}
			r, log := keyLogged(t, c, s)

			plain := newHarness(t, Config{}).open(connInfo())
			plain.replay(r.chunks, 0)
			want := plain.one()

			for _, split := range []int{0, 1, 7, 100} {
				h := newHarness(t, Config{Keys: log, Messages: true}).open(connInfo())
				h.replay(r.chunks, split)
				got := h.one()
				if !got.Decrypted || !slices.Equal(got.DecryptedParts, []string{"client Finished", "server Finished"}) {
					t.Fatalf("split %d: decrypted %v %v", split, got.Decrypted, got.DecryptedParts)
				}
				if len(got.Warnings) != 0 {
					t.Errorf("split %d: warnings %q", split, got.Warnings)
				}
				if got.History != want.History || *got.ClientCertSent != *want.ClientCertSent || got.Established != want.Established || !got.Established {
					t.Errorf("split %d: history %s sent %v established %v; without keys %s %v %v", split,
						got.History, *got.ClientCertSent, got.Established, want.History, *want.ClientCertSent, want.Established)
				}
				var fin []string
				for _, m := range got.Messages {
					if m.Type == "finished" {
						fin = append(fin, m.From)
						if !m.Decrypted {
							t.Errorf("split %d: Finished from %s not marked decrypted", split, m.From)
						}
					}
				}
				if !slices.Equal(fin, []string{"client", "server"}) {
					t.Errorf("split %d: Finished messages from %v", split, fin)
				}
				// Followed on (a renegotiation would be encrypted), the
				// application data records are stepped over quietly.
				if !h.rcv.Wants(tcpstream.ClientToServer) || !h.rcv.Wants(tcpstream.ServerToClient) {
					t.Errorf("split %d: connection no longer followed after the handshake", split)
				}
				h.close(tcpstream.CloseFIN)
				if len(h.got) != 1 {
					t.Errorf("split %d: %d summaries", split, len(h.got))
				}
			}
		})
	}
}

// TestTLS12DecryptionWrongKey: a master secret that does not authenticate
// is reported and nothing is taken from it; a key log without this client
// random says so.
func TestTLS12DecryptionWrongKey(t *testing.T) {
	c, s := tls12Configs()
	r, _ := keyLogged(t, c, s)
	bad := keylog.New()
	other := keylog.New()
	for _, line := range []struct {
		log    *keylog.Log
		random []byte
	}{{bad, nil}, {other, bytes.Repeat([]byte{1}, 32)}} {
		random := line.random
		if random == nil {
			random = clientRandomOf(t, r.chunks)
		}
		if err := line.log.Add("CLIENT_RANDOM", random, bytes.Repeat([]byte{0x42}, 48)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		keys *keylog.Log
		warn string
	}{
		{"wrong secret", bad, "authentication failed"},
		{"other handshake", other, "client random not found"},
	} {
		h := newHarness(t, Config{Keys: tt.keys}).open(connInfo())
		h.replay(r.chunks, 0)
		h.close(tcpstream.CloseFIN)
		got := h.one()
		if got.Decrypted || !got.Established || !strings.Contains(strings.Join(got.Warnings, "\n"), tt.warn) {
			t.Errorf("%s: decrypted %v established %v warnings %q", tt.name, got.Decrypted, got.Established, got.Warnings)
		}
	}
}

// clientRandomOf returns the random of the first ClientHello in chunks.
func clientRandomOf(t *testing.T, chunks []chunk) []byte {
	t.Helper()
	for _, c := range chunks {
		if c.dir == tcpstream.ClientToServer && len(c.b) > 5+4+2+32 && c.b[0] == 22 && c.b[5] == 1 {
			return bytes.Clone(c.b[5+4+2 : 5+4+2+32])
		}
	}
	t.Fatal("no ClientHello")
	return nil
}
