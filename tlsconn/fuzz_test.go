package tlsconn

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"testing"

	"github.com/tlsinspect/tlsinspect/keylog"
	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// Fuzz input framing: one config byte, then operations
//
//	[op][n][n bytes when op is data]
//
// op bit 0 is the direction; bits 1-2: 0 or 1 data, 2 Gap(n; 255 means
// unknown), 3 Note. The config byte: bit 0 MaxMessage 64, bit 1 ScanLimit
// 64, bit 2 SawSYN, bits 3-5 the close reason, bit 6 decrypt with the key
// log of the seed handshakes, bit 7 the per-message view.
const (
	fuzzOpData = 0
	fuzzOpGap  = 2
	fuzzOpNote = 3
)

// encodeChunks frames a replay log as fuzz input, in pieces of at most 255
// bytes.
func encodeChunks(cfg byte, chunks []chunk) []byte {
	out := []byte{cfg}
	for _, c := range chunks {
		b := c.b
		for len(b) > 0 {
			n := min(len(b), 255)
			out = append(out, byte(c.dir)|fuzzOpData<<1, byte(n))
			out = append(out, b[:n]...)
			b = b[n:]
		}
	}
	return out
}

func FuzzTracker(f *testing.F) {
	c12, s12 := tls12Configs()
	mutualC, mutualS := tls12Configs()
	mutualC.Certificates = []tls.Certificate{pki().client}
	mutualS.ClientAuth, mutualS.ClientCAs = tls.RequireAndVerifyClientCert, pki().pool
	hrrC, hrrS := clientConfig(), serverConfig()
	hrrC.CurvePreferences, hrrS.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}, []tls.CurveID{tls.CurveP256}
	oldC := clientConfig()
	oldC.MinVersion, oldC.MaxVersion = tls.VersionTLS10, tls.VersionTLS10

	logs := [][]chunk{
		mustHandshake(f, c12, s12).chunks,
		mustHandshake(f, mutualC, mutualS).chunks,
		mustHandshake(f, clientConfig(), serverConfig()).chunks,
		mustHandshake(f, hrrC, hrrS).chunks,
		realHandshake(f, oldC, serverConfig()).chunks,
	}
	// Handshakes whose clients log their keys: the decryption paths
	// (TLS 1.3 mutual, HelloRetryRequest, TLS 1.2 mutual, TLS 1.0 CBC).
	var kl bytes.Buffer
	var keyed [][]chunk
	for _, mk := range []func() (*tls.Config, *tls.Config){
		func() (*tls.Config, *tls.Config) {
			c, s := clientConfig(), serverConfig()
			c.Certificates, s.ClientAuth = []tls.Certificate{pki().client}, tls.RequireAnyClientCert
			return c, s
		},
		func() (*tls.Config, *tls.Config) {
			c, s := clientConfig(), serverConfig()
			c.CurvePreferences, s.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}, []tls.CurveID{tls.CurveP256}
			return c, s
		},
		func() (*tls.Config, *tls.Config) {
			c, s := tls12Configs()
			c.Certificates, s.ClientAuth = []tls.Certificate{pki().client}, tls.RequireAnyClientCert
			return c, s
		},
		func() (*tls.Config, *tls.Config) {
			c, s := clientConfig(), serverConfig()
			c.MinVersion, c.MaxVersion, s.MinVersion = tls.VersionTLS10, tls.VersionTLS10, tls.VersionTLS10
			c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}
			return c, s
		},
	} {
		c, s := mk()
		c.KeyLogWriter = &kl
		keyed = append(keyed, mustHandshake(f, c, s).chunks)
	}
	fuzzKeys := keylog.New()
	if _, err := fuzzKeys.Parse(bytes.NewReader(kl.Bytes()), "fuzz"); err != nil {
		f.Fatal(err)
	}
	for _, l := range keyed {
		f.Add(encodeChunks(4|0x40, l))
		f.Add(encodeChunks(4|0x40|0x80, l))
	}
	smtp := []chunk{
		{tcpstream.ServerToClient, []byte("220 mx ESMTP\r\n")},
		{tcpstream.ClientToServer, []byte("EHLO a\r\nSTARTTLS\r\n")},
		{tcpstream.ServerToClient, []byte("220 go ahead\r\n")},
	}
	for i, l := range logs {
		f.Add(encodeChunks(4, l))
		f.Add(encodeChunks(byte(i)<<3|1, l)) // MaxMessage 64, no SYN
		f.Add(encodeChunks(6, append(append([]chunk(nil), smtp...), l...)))
	}
	// Two handshakes on one connection, and a gap in the server's flight.
	f.Add(encodeChunks(4, append(append([]chunk(nil), logs[4]...), logs[0]...)))
	gapped := encodeChunks(4, logs[0][:1])
	gapped = append(gapped, 1|fuzzOpGap<<1, 100)
	f.Add(append(gapped, encodeChunks(4, logs[0][2:])[1:]...))
	f.Add([]byte{0, 0, 3, 'G', 'E', 'T', 1, 4, 'H', 'T', 'T', 'P', 7, 0})

	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		cfg := Config{}
		if in[0]&1 != 0 {
			cfg.MaxMessage = 64
		}
		if in[0]&2 != 0 {
			cfg.ScanLimit = 64
		}
		if in[0]&0x40 != 0 {
			cfg.Keys = fuzzKeys
		}
		cfg.Messages = in[0]&0x80 != 0
		info := connInfo()
		info.SawSYN = in[0]&4 != 0
		reason := tcpstream.CloseReason((in[0] >> 3) % 6)
		h := newHarness(t, cfg).open(info)
		closed := false
		h.tr.emit = func(s *Summary) {
			if closed {
				t.Error("Summary emitted after Close")
			}
			h.got = append(h.got, s)
		}
		b := in[1:]
		for len(b) >= 2 {
			op, n := b[0], int(b[1])
			b = b[2:]
			dir := tcpstream.Dir(op & 1)
			switch op >> 1 & 3 {
			case fuzzOpGap:
				if n == 255 {
					n = -1
				}
				if h.rcv.Wants(dir) {
					h.rcv.Gap(dir, n, t0)
				}
			case fuzzOpNote:
				h.rcv.Note(dir, "fuzz note")
			default:
				n = min(n, len(b))
				if h.rcv.Wants(dir) {
					h.rcv.Data(dir, b[:n], chunkTime(len(in)-len(b)))
				}
				b = b[n:]
			}
		}
		h.close(reason)
		closed = true

		st := h.tr.Stats()
		if st.Handshakes != len(h.got) {
			t.Errorf("Stats.Handshakes = %d, %d emitted", st.Handshakes, len(h.got))
		}
		if len(h.got) > 0 && st.TLSConnections != 1 || st.TLSConnections > 1 || st.TCPConnections != 1 {
			t.Errorf("Stats = %+v with %d summaries", st, len(h.got))
		}
		established, warnings := 0, 0
		for i, s := range h.got {
			if s.Established {
				established++
			}
			warnings += len(s.Warnings)
			if s.Handshake != i+1 || s.Connection != info.ID || s.Transport != "tcp" {
				t.Errorf("summary %d: handshake %d connection %d transport %q", i, s.Handshake, s.Connection, s.Transport)
			}
			if !(s.Client == clientEP.String() && s.Server == serverEP.String() || s.Client == serverEP.String() && s.Server == clientEP.String()) {
				t.Errorf("summary %d: client %s server %s", i, s.Client, s.Server)
			}
			if s.ClientVersions == nil || s.ClientCipherSuites == nil || s.ClientALPN == nil || s.ClientExtensions == nil ||
				s.ServerCertificates == nil || s.ClientCertificates == nil || s.Alerts == nil || s.Warnings == nil {
				t.Errorf("summary %d has a nil slice: %s", i, dump(s))
			}
			if s.ClientCertRequest != nil && (s.ClientCertRequest.CertificateAuthorities == nil) {
				t.Errorf("summary %d: client_cert_request.certificate_authorities is null", i)
			}
			if _, err := json.Marshal(s); err != nil {
				t.Errorf("summary %d: json.Marshal: %v", i, err)
			}
			if s.Established && s.Outcome() != "established" {
				t.Errorf("summary %d: established but Outcome() = %q", i, s.Outcome())
			}
		}
		if st.Established != established || st.Warnings != warnings {
			t.Errorf("Stats = %+v, summaries: %d established, %d warnings", st, established, warnings)
		}
	})
}
