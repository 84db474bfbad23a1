package tlsconn

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// verdict is what a CertInference says, for compact tables: "TT", "TF",
// "FF" (requested, sent), "??" for unknown, "" for not done yet.
func verdict(inf *CertInference, done bool) string {
	if !done {
		return ""
	}
	if inf == nil {
		return "<nil>"
	}
	b := func(p *bool) string {
		switch {
		case p == nil:
			return "?"
		case *p:
			return "T"
		}
		return "F"
	}
	return b(inf.Requested) + b(inf.Sent)
}

func TestInferClientCert(t *testing.T) {
	const (
		sha256 = 0x1301 // AES_128_GCM_SHA256: Finished record 32+4+1+16 = 53
		sha384 = 0x1302 // AES_256_GCM_SHA384: 48+4+1+16 = 69
		chacha = 0x1303
		ccm8   = 0x1305 // 8-byte tag: Finished record 45, empty Certificate record 17
		intg   = 0xc0b4 // TLS_SHA256_SHA256: 32-byte HMAC tag, Finished record 69
	)
	tests := []struct {
		name   string
		in     flightInput
		want   string // verdict
		reason string // substring of Reason when done
	}{
		// Finished only: no CertificateRequest.
		{"sha256 finished only", flightInput{suite: sha256, records: []int{53}}, "FF", "one 53-byte record: Finished only (SHA-256 suite)"},
		{"sha384 finished only", flightInput{suite: sha384, records: []int{69}}, "FF", "one 69-byte record: Finished only (SHA-384 suite)"},
		{"chacha finished only", flightInput{suite: chacha, records: []int{53}}, "FF", "Finished only"},
		{"finished then application data", flightInput{suite: sha256, records: []int{53, 25}}, "FF", "Finished only"},
		{"ccm8 finished only", flightInput{suite: ccm8, records: []int{45}}, "FF", "one 45-byte record: Finished only (SHA-256, 8-byte tag suite)"},
		{"integrity-only finished", flightInput{suite: intg, records: []int{69}}, "FF", "integrity only"},
		// Empty Certificate: requested, not sent.
		{"sha256 empty split", flightInput{suite: sha256, records: []int{25, 53}}, "TF", "25 + 53 bytes: empty Certificate + Finished (SHA-256 suite)"},
		{"sha384 empty split", flightInput{suite: sha384, records: []int{25, 69}}, "TF", "25 + 69 bytes: empty Certificate + Finished (SHA-384 suite)"},
		{"sha256 empty coalesced", flightInput{suite: sha256, records: []int{61}}, "TF", "one 61-byte record: empty Certificate + Finished"},
		{"sha384 empty coalesced", flightInput{suite: sha384, records: []int{77, 30}}, "TF", "one 77-byte record: empty Certificate + Finished"},
		{"ccm8 empty split", flightInput{suite: ccm8, records: []int{17, 45}}, "TF", "17 + 45 bytes"},
		// With CCM_8 a 53-byte record is empty Certificate + Finished, not Finished alone.
		{"ccm8 empty coalesced is 53", flightInput{suite: ccm8, records: []int{53}}, "TF", "one 53-byte record: empty Certificate + Finished"},
		// A certificate chain.
		{"go chain split", flightInput{suite: sha256, records: []int{1600, 96, 53, 24}}, "TT", "1600 + 96 + 53 bytes: Certificate + CertificateVerify (1662 bytes of handshake)"},
		{"openssl chain sha384", flightInput{suite: sha384, records: []int{1600, 97, 69}}, "TT", "Certificate + CertificateVerify"},
		{"ccm8 chain", flightInput{suite: ccm8, records: []int{1592, 88, 45}}, "TT", "Certificate + CertificateVerify"},
		{"chain over full records", flightInput{suite: sha256, records: []int{16401, 16401, 3000, 96, 53}}, "TT", "16401 + 16401 + 3000 + 96 + 53"},
		{"chain split, waiting for Finished", flightInput{suite: sha256, records: []int{1600, 96}}, "", ""},
		{"full records do not count", flightInput{suite: sha256, records: []int{16401, 16401, 16401, 500}}, "", ""},
		{"chain coalesced, app data after", flightInput{suite: sha256, records: []int{1750, 24, 24}}, "TT", "one record"},
		{"chain coalesced, connection ended", flightInput{suite: sha256, records: []int{1750, 24}, final: true}, "TT", "one record"},
		// 0-RTT: EndOfEarlyData (4 bytes) may lead the flight.
		{"eoed + finished split", flightInput{suite: sha256, records: []int{21, 53}, earlyData: true}, "FF", "EndOfEarlyData + Finished"},
		{"eoed + finished coalesced", flightInput{suite: sha256, records: []int{57}, earlyData: true}, "FF", "one 57-byte record: EndOfEarlyData + Finished"},
		{"eoed + empty cert split", flightInput{suite: sha256, records: []int{21, 25, 53}, earlyData: true}, "TF", "empty Certificate"},
		{"eoed + empty cert coalesced", flightInput{suite: sha256, records: []int{65}, earlyData: true}, "TF", "empty Certificate"},
		{"21 bytes without early data", flightInput{suite: sha256, records: []int{21, 53}}, "??", "4 bytes of handshake before the Finished"},
		// Padding and other unknowns.
		{"padded records", flightInput{suite: sha256, records: []int{64, 64, 64}}, "??", "no record of the 53-byte size of a lone Finished (SHA-256 suite) of the client's first 3 encrypted records (64 + 64 + 64 bytes)"},
		{"padded, still waiting", flightInput{suite: sha256, records: []int{64, 64}}, "", ""},
		{"padded, connection ended", flightInput{suite: sha256, records: []int{64}, final: true}, "??", "before the connection ended"},
		{"padded, stream lost", flightInput{suite: sha256, records: []int{64}, final: true, lost: true}, "??", "before the client stream was lost"},
		{"padded before finished", flightInput{suite: sha256, records: []int{40, 53}}, "??", "23 bytes of handshake before the Finished are neither"},
		{"alert first", flightInput{suite: sha256, records: []int{19}}, "??", "the size of an alert"},
		{"unknown suite", flightInput{suite: 0x1306, records: []int{53}}, "??", "cipher suite 0x1306"},
		{"nothing yet", flightInput{suite: sha256}, "", ""},
		{"nothing at the end", flightInput{suite: sha256, final: true}, "??", "no encrypted record from the client"},
		{"nothing, stream lost", flightInput{suite: sha256, final: true, lost: true}, "??", "client stream lost"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inf, done := inferClientCert(tc.in)
			if got := verdict(inf, done); got != tc.want {
				t.Fatalf("verdict %q, want %q (%+v)", got, tc.want, inf)
			}
			if done && !strings.Contains(inf.Reason, tc.reason) {
				t.Errorf("reason %q, want it to contain %q", inf.Reason, tc.reason)
			}
			if tc.in.final && !done {
				t.Error("a final flight must be decided")
			}
		})
	}
}

// flightEvent is one record of a synthetic TLS 1.3 connection after the
// ServerHello.
type flightEvent struct {
	r   role
	ccs bool // ChangeCipherSpec instead of application_data
	n   int
}

// TestFlightTracking drives the handshake state with record events: the
// records the client sends before the server's first encrypted record
// (0-RTT early data) and ChangeCipherSpec records are not part of its
// flight, and the Summary waits until the flight is classified and the
// server has answered it.
func TestFlightTracking(t *testing.T) {
	C := func(n int) flightEvent { return flightEvent{r: client, n: n} }
	S := func(n int) flightEvent { return flightEvent{r: server, n: n} }
	ccs := flightEvent{r: client, ccs: true}
	tests := []struct {
		name      string
		suite     uint16
		earlyData bool
		events    []flightEvent
		complete  bool   // emitted before Close
		want      string // verdict (at Close when not complete)
		reason    string
	}{
		{"compat CCS then Finished", 0x1301, false, []flightEvent{ccs, S(1641), S(97), S(53), C(53), S(200)}, true, "FF", "one 53-byte record"},
		{"CCS inside the flight", 0x1301, false, []flightEvent{S(1641), ccs, C(25), ccs, C(53), S(200)}, true, "TF", "25 + 53"},
		{"early data excluded", 0x1301, true, []flightEvent{C(300), C(1000), ccs, S(27), S(1641), C(21), C(53), S(200)}, true, "FF", "EndOfEarlyData + Finished"},
		{"early data 53 bytes is not a Finished", 0x1301, true, []flightEvent{C(53), S(27), C(21), C(25), C(53), S(200)}, true, "TF", "21 + 25 + 53"},
		{"waits for the Finished", 0x1302, false, []flightEvent{S(1844), C(1600), C(97)}, false, "TT", "one record"},
		{"chain then finished", 0x1302, false, []flightEvent{S(1844), C(1600), C(97), C(69), S(200)}, true, "TT", "1600 + 97 + 69"},
		{"coalesced chain, bounded wait", 0x1301, false, []flightEvent{S(1641), C(1750), C(24), S(24), C(24), S(200)}, true, "TT", "one record"},
		{"client alert", 0x1301, false, []flightEvent{S(1641), C(19)}, false, "??", "alert"},
		{"no server flight", 0x1301, false, []flightEvent{C(200)}, false, "??", "server's encrypted flight was not seen"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &conn{t: NewTracker(Config{}, func(*Summary) {})}
			c.begin(t0)
			h := c.hs
			h.ch = &dissect.ClientHello{EarlyData: tc.earlyData}
			h.sh = &dissect.ServerHello{CipherSuite: tc.suite}
			h.version = 0x0304
			for i, e := range tc.events {
				if h.complete() {
					t.Fatalf("complete before event %d", i)
				}
				ev := dissect.Event{Kind: dissect.EventApplicationData, RecordType: 23, RecordLength: e.n}
				if e.ccs {
					ev = dissect.Event{Kind: dissect.EventChangeCipherSpec, RecordType: 20, RecordLength: 1}
				}
				c.event(e.r, ev)
			}
			if got := h.complete(); got != tc.complete {
				t.Errorf("complete = %v, want %v", got, tc.complete)
			}
			if !h.inferDone && !c.Wants(c.dirOf(client)) {
				t.Error("client bytes no longer wanted while its flight is unclassified")
			}
			if tc.complete && c.Wants(c.dirOf(client)) {
				t.Error("client bytes still wanted after the flight was classified")
			}
			s := h.summarize()
			if got := verdict(s.ClientCertInferred, true); got != tc.want {
				t.Fatalf("verdict %q, want %q (%+v)", got, tc.want, s.ClientCertInferred)
			}
			if !strings.Contains(s.ClientCertInferred.Reason, tc.reason) {
				t.Errorf("reason %q, want it to contain %q", s.ClientCertInferred.Reason, tc.reason)
			}
			if s.ClientCertRequested != nil || s.ClientCertSent != nil {
				t.Error("client_cert_requested/client_cert_sent must stay null in TLS 1.3")
			}
		})
	}
}

// TestInferenceRealHandshakes: Go's crypto/tls on both ends, replayed
// through the tracker in one piece and in 5-byte pieces; the Summary is
// emitted before the connection closes.
func TestInferenceRealHandshakes(t *testing.T) {
	tests := []struct {
		name     string
		auth     tls.ClientAuthType
		sendCert bool
		want     string
		reason   string
	}{
		{"none", tls.NoClientCert, true, "FF", "one 53-byte record: Finished only"},
		{"requested, sent", tls.RequestClientCert, true, "TT", "Certificate + CertificateVerify"},
		{"required, sent", tls.RequireAnyClientCert, true, "TT", "Certificate + CertificateVerify"},
		{"requested, empty", tls.RequestClientCert, false, "TF", "25 + 53 bytes: empty Certificate + Finished"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, s := clientConfig(), serverConfig()
			if tc.sendCert {
				c.Certificates = []tls.Certificate{pki().client}
			}
			s.ClientAuth = tc.auth
			r := mustHandshake(t, c, s)
			if r.state.CipherSuite == tls.TLS_AES_256_GCM_SHA384 {
				t.Fatalf("crypto/tls chose %s: the sizes below assume a SHA-256 suite", tls.CipherSuiteName(r.state.CipherSuite))
			}
			for _, split := range []int{0, 5} {
				h := newHarness(t, Config{}).open(connInfo())
				h.replay(r.chunks, split)
				got := h.one() // before Close
				if v := verdict(got.ClientCertInferred, true); v != tc.want {
					t.Errorf("split %d: verdict %q, want %q (%+v)", split, v, tc.want, got.ClientCertInferred)
				} else if !strings.Contains(got.ClientCertInferred.Reason, tc.reason) {
					t.Errorf("split %d: reason %q, want it to contain %q", split, got.ClientCertInferred.Reason, tc.reason)
				}
				if !got.Established {
					t.Errorf("split %d: not established", split)
				}
			}
		})
	}
}

// TestRefusalAfterClientFlight: without keys, a TLS 1.3 server whose only
// answer to the client's flight is one alert-sized record before the
// connection closes refused it (certificate_required, bad_certificate);
// a record after it, or a capture that simply ends, is no refusal.
func TestRefusalAfterClientFlight(t *testing.T) {
	C := func(n int) flightEvent { return flightEvent{r: client, n: n} }
	S := func(n int) flightEvent { return flightEvent{r: server, n: n} }
	for _, tc := range []struct {
		name        string
		suite       uint16
		events      []flightEvent
		close       tcpstream.CloseReason
		complete    bool
		established bool
	}{
		{"alert-sized answer, then FIN", 0x1301, []flightEvent{S(1641), C(25), C(53), S(19)}, tcpstream.CloseFIN, false, false},
		{"alert-sized answer, then RST", 0x1302, []flightEvent{S(1641), C(69), S(19)}, tcpstream.CloseRST, false, false},
		{"CCM_8: 11-byte alert", 0x1305, []flightEvent{S(1641), C(45), S(11)}, tcpstream.CloseFIN, false, false},
		{"alert-sized, then more", 0x1301, []flightEvent{S(1641), C(53), S(19), S(300)}, tcpstream.CloseFIN, true, true},
		{"ticket", 0x1301, []flightEvent{S(1641), C(53), S(250)}, tcpstream.CloseFIN, true, true},
		{"capture ends after the alert-sized record", 0x1301, []flightEvent{S(1641), C(53), S(19)}, tcpstream.CloseEndOfInput, false, true},
		{"server alert-sized record inside its flight", 0x1301, []flightEvent{S(19), S(1641), C(53), S(250)}, tcpstream.CloseFIN, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []*Summary
			c := &conn{t: NewTracker(Config{}, func(s *Summary) { got = append(got, s) })}
			c.begin(t0)
			h := c.hs
			h.ch = &dissect.ClientHello{}
			h.sh = &dissect.ServerHello{CipherSuite: tc.suite}
			h.version = 0x0304
			for _, e := range tc.events {
				c.event(e.r, dissect.Event{Kind: dissect.EventApplicationData, RecordType: 23, RecordLength: e.n})
			}
			if h.complete() != tc.complete {
				t.Errorf("complete = %v, want %v", h.complete(), tc.complete)
			}
			if !tc.complete && !c.Wants(c.dirOf(server)) {
				t.Error("server bytes no longer wanted while its answer is pending")
			}
			c.Close(tc.close, t0)
			if len(got) != 1 {
				t.Fatalf("%d summaries", len(got))
			}
			s := got[0]
			refused := len(s.Alerts) == 1 && s.Alerts[0].Level == "encrypted" && strings.Contains(strings.Join(s.Warnings, " "), "taken as a refusal")
			if s.Established != tc.established || refused == tc.established {
				t.Errorf("established %v (want %v), alerts %+v, warnings %q", s.Established, tc.established, s.Alerts, s.Warnings)
			}
		})
	}
}
