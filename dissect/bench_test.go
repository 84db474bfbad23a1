package dissect

import (
	"slices"
	"testing"

	"github.com/tlsinspect/tlsinspect/internal/testcap"
	"github.com/tlsinspect/tlsinspect/internal/testconns"
	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// captureStreams reassembles the TCP connections of a capture in
// testdata/pcaps and returns the first one's client and server streams.
func captureStreams(tb testing.TB, name string) (client, server []byte) {
	tb.Helper()
	conns := testconns.Streams(tb, testcap.Path(name))
	if len(conns) == 0 {
		tb.Fatalf("%s: no connection", name)
	}
	return conns[0][tcpstream.ClientToServer], conns[0][tcpstream.ServerToClient]
}

// serverFlight returns the records of a TLS 1.2 server stream up to the
// one holding its ServerHelloDone: ServerHello, Certificate,
// ServerKeyExchange, ServerHelloDone.
func serverFlight(tb testing.TB, stream []byte) []byte {
	tb.Helper()
	var h HalfStream
	done := false
	n := 0
	for !done && n+5 <= len(stream) {
		end := n + 5 + (int(stream[n+3])<<8 | int(stream[n+4]))
		if end > len(stream) {
			break
		}
		if err := h.Write(stream[n:end], func(ev Event) {
			done = done || ev.Kind == EventHandshake && ev.HandshakeType == TypeServerHelloDone
		}); err != nil {
			tb.Fatal(err)
		}
		n = end
	}
	if !done {
		tb.Fatal("no ServerHelloDone")
	}
	return stream[:n]
}

// BenchmarkHalfStream feeds a real TLS 1.2 server flight to a new
// HalfStream in 1448-byte pieces (the segments of a 1500-byte MTU with TCP
// timestamps), as tlsconn does for each connection: records and handshake
// messages reassembled, one event per message.
func BenchmarkHalfStream(b *testing.B) {
	for _, bc := range []struct {
		name, file string
		messages   int
	}{
		{"go-ecdhe-rsa-2certs", "tls12-ecdhe-go.pcap", 4},
		{"openssl-dhe-rsa", "tls12-dhe-openssl.pcap", 4},
		{"go-17certs", "longchain-go.pcap", 4},
	} {
		_, server := captureStreams(b, bc.file)
		flight := serverFlight(b, server)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(flight)))
			b.ReportAllocs()
			events := 0
			emit := func(ev Event) {
				if ev.Kind == EventHandshake {
					events++
				}
			}
			for b.Loop() {
				events = 0
				var h HalfStream
				for p := range slices.Chunk(flight, 1448) {
					if err := h.Write(p, emit); err != nil {
						b.Fatal(err)
					}
				}
				if events != bc.messages {
					b.Fatalf("%d handshake messages, want %d", events, bc.messages)
				}
			}
			b.ReportMetric(float64(len(flight)), "flight-bytes")
		})
	}
}

// clientHelloBody returns the body of the first ClientHello of a capture.
func clientHelloBody(tb testing.TB, name string) []byte {
	tb.Helper()
	client, _ := captureStreams(tb, name)
	var body []byte
	var h HalfStream
	_ = h.Write(client, func(ev Event) {
		if body == nil && ev.Kind == EventHandshake && ev.HandshakeType == TypeClientHello {
			body = slices.Clone(ev.Body)
		}
	})
	if body == nil {
		tb.Fatalf("%s: no ClientHello", name)
	}
	return body
}

// BenchmarkParseClientHello parses real ClientHellos: Go 1.26 (TLS 1.3,
// X25519MLKEM768 + X25519 key shares: 1,504 bytes), curl 7.88 with
// OpenSSL 3.0, openssl s_client 3.0, gnutls-cli 3.7.
func BenchmarkParseClientHello(b *testing.B) {
	for _, bc := range []struct{ name, file string }{
		{"go-tls13-mlkem", "tls13-go.pcap"},
		{"curl-openssl", "tls13-curl-openssl.pcap"},
		{"openssl-s_client", "tls13-chacha-keylog-openssl.pcap"},
		{"gnutls-cli", "tls13-clientauth-gnutls-none.pcap"},
	} {
		body := clientHelloBody(b, bc.file)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseClientHello(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The ClientHellos of BenchmarkParseClientHello are the ones it says.
func TestBenchClientHellos(t *testing.T) {
	m, err := ParseClientHello(clientHelloBody(t, "tls13-go.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.KeyShareGroups) != 2 || m.KeyShareGroups[0] != 0x11ec || !slices.Contains(m.SupportedVersions, 0x0304) {
		t.Errorf("Go ClientHello: key shares %x, versions %x", m.KeyShareGroups, m.SupportedVersions)
	}
	for _, f := range []string{"tls13-curl-openssl.pcap", "tls13-chacha-keylog-openssl.pcap", "tls13-clientauth-gnutls-none.pcap"} {
		m, err := ParseClientHello(clientHelloBody(t, f))
		if err != nil || !slices.Contains(m.SupportedVersions, 0x0304) {
			t.Errorf("%s: %v, versions %x", f, err, m.SupportedVersions)
		}
	}
}
