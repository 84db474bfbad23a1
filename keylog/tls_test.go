package keylog

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// recordingConn keeps a copy of what is written through it: the TLS
// records one side sends.
type recordingConn struct {
	net.Conn
	mu  sync.Mutex
	out bytes.Buffer
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.out.Write(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recordingConn) sent() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.out.Bytes())
}

type record struct {
	typ  byte
	hdr  []byte // the 5-byte header: the AEAD's additional data in TLS 1.3
	body []byte
}

func records(t *testing.T, b []byte) []record {
	var rs []record
	for len(b) > 0 {
		if len(b) < 5 || len(b) < 5+int(binary.BigEndian.Uint16(b[3:5])) {
			t.Fatalf("cut TLS record in %d bytes", len(b))
		}
		n := 5 + int(binary.BigEndian.Uint16(b[3:5]))
		rs = append(rs, record{b[0], b[:5], b[5:n]})
		b = b[n:]
	}
	return rs
}

// helloRandom returns the random of the ClientHello or ServerHello that
// starts a side's first record.
func helloRandom(t *testing.T, rs []record) []byte {
	if len(rs) == 0 || rs[0].typ != 22 || len(rs[0].body) < 38 {
		t.Fatal("no hello in the first record")
	}
	return rs[0].body[6:38] // type, 3-byte length, version
}

// handshake runs a TLS handshake over loopback TCP with the client's
// KeyLogWriter set, exchanges a message each way, and returns the key log
// and the records each side sent.
func handshake(t *testing.T, version uint16) (keyLog []byte, client, server []record, cs tls.ConnectionState) {
	t.Helper()
	cert := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	deadline := time.Now().Add(10 * time.Second)

	var srv *recordingConn
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		c.SetDeadline(deadline)
		srv = &recordingConn{Conn: c}
		tc := tls.Server(srv, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version})
		buf := make([]byte, 4)
		if _, err := io.ReadFull(tc, buf); err != nil {
			done <- err
			return
		}
		_, err = tc.Write([]byte("pong"))
		done <- err
	}()

	var logBuf bytes.Buffer
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(deadline)
	cli := &recordingConn{Conn: c}
	tc := tls.Client(cli, &tls.Config{
		InsecureSkipVerify: true, // a throwaway certificate
		MinVersion:         version,
		MaxVersion:         version,
		// TLS 1.2: a suite with SHA-256 for the PRF check below.
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		KeyLogWriter: &logBuf,
	})
	if _, err := tc.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(tc, buf); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return logBuf.Bytes(), records(t, cli.sent()), records(t, srv.sent()), tc.ConnectionState()
}

func selfSigned(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"keylog.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestGoTLS13 parses the key log crypto/tls writes for a TLS 1.3
// handshake, finds the secrets by the random on the wire, and checks each
// of the four by decrypting the first record it protects.
func TestGoTLS13(t *testing.T) {
	keyLog, client, server, cs := handshake(t, tls.VersionTLS13)
	l := New()
	st, err := l.Parse(bytes.NewReader(keyLog), "go.keys")
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != 4 || st.Malformed+st.Unknown+st.Unsupported+st.Conflicts+st.Duplicates != 0 || l.Len() != 1 {
		t.Fatalf("stats %v, %d randoms; want 4 secrets for 1 random", st, l.Len())
	}
	s := l.Lookup(helloRandom(t, client))
	if s == nil {
		t.Fatal("no secrets for the ClientHello's random")
	}
	suite := tls13Suites[cs.CipherSuite]
	if suite.hash == 0 {
		t.Fatalf("cipher suite %s", tls.CipherSuiteName(cs.CipherSuite))
	}
	t.Logf("%s: %v", tls.CipherSuiteName(cs.CipherSuite), s)
	// A side's first encrypted records: its handshake flight (server:
	// EncryptedExtensions first; client: Finished), then application data
	// or, from the server, NewSessionTicket. Each secret's first record
	// has sequence number 0.
	for _, c := range []struct {
		name    string
		secret  Secret
		rs      []record
		nth     int  // which application_data record
		content byte // inner content type
		msg     byte // first byte: handshake type, or 'p' of ping/pong
	}{
		{"client handshake", s.ClientHandshakeTraffic(), client, 0, 22, 20},
		{"client traffic", s.ClientTraffic0(), client, 1, 23, 'p'},
		{"server handshake", s.ServerHandshakeTraffic(), server, 0, 22, 8},
	} {
		if len(c.secret) != suite.hash.Size() {
			t.Errorf("%s secret: %d bytes, want %d", c.name, len(c.secret), suite.hash.Size())
			continue
		}
		rec := nthAppData(c.rs, c.nth)
		inner, err := open13(suite, c.secret, rec)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if inner[len(inner)-1] != c.content || inner[0] != c.msg {
			t.Errorf("%s: inner content type %d, first byte %d; want %d, %d", c.name, inner[len(inner)-1], inner[0], c.content, c.msg)
		}
	}
	// The server traffic secret protects the first record after the
	// server's handshake flight, whichever record ends that flight.
	ok := false
	for i := 1; nthAppData(server, i) != nil; i++ {
		if inner, err := open13(suite, s.ServerTraffic0(), nthAppData(server, i)); err == nil {
			ok = inner[len(inner)-1] == 23 || inner[len(inner)-1] == 22
			break
		}
	}
	if !ok {
		t.Error("no server record opens with SERVER_TRAFFIC_SECRET_0 at sequence 0")
	}
}

// TestGoTLS12 checks the CLIENT_RANDOM line of a TLS 1.2 handshake against
// the connection's exporter, computed here from the logged master secret.
func TestGoTLS12(t *testing.T) {
	keyLog, client, server, cs := handshake(t, tls.VersionTLS12)
	l := New()
	st, err := l.Parse(bytes.NewReader(keyLog), "go.keys")
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != 1 || l.Len() != 1 {
		t.Fatalf("stats %v; want 1 secret", st)
	}
	s := l.Lookup(helloRandom(t, client))
	if len(s.MasterSecret()) != 48 || s.ClientTraffic0() != nil {
		t.Fatalf("secrets for the ClientHello's random: %v", s)
	}
	// RFC 5705: PRF(master_secret, label, client_random + server_random).
	seed := append(helloRandom(t, client), helloRandom(t, server)...)
	want, err := cs.ExportKeyingMaterial("EXPORTER-keylog-test", nil, 32)
	if err != nil {
		t.Fatal(err)
	}
	if got := prf12(s.MasterSecret(), "EXPORTER-keylog-test", seed, 32); !bytes.Equal(got, want) {
		t.Error("the logged master secret does not give the connection's exporter")
	}
}

// prf12 is the TLS 1.2 PRF with SHA-256 (RFC 5246 section 5).
func prf12(secret []byte, label string, seed []byte, n int) []byte {
	seed = append([]byte(label), seed...)
	var out []byte
	a := seed
	for len(out) < n {
		h := hmac.New(sha256.New, secret)
		h.Write(a)
		a = h.Sum(nil)
		h.Reset()
		h.Write(a)
		h.Write(seed)
		out = h.Sum(out)
	}
	return out[:n]
}

type suite13 struct {
	hash   crypto.Hash
	keyLen int
	aead   func(key []byte) (cipher.AEAD, error)
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

var tls13Suites = map[uint16]suite13{
	tls.TLS_AES_128_GCM_SHA256:       {crypto.SHA256, 16, gcm},
	tls.TLS_AES_256_GCM_SHA384:       {crypto.SHA384, 32, gcm},
	tls.TLS_CHACHA20_POLY1305_SHA256: {crypto.SHA256, 32, chacha20poly1305.New},
}

func nthAppData(rs []record, n int) *record {
	for i := range rs {
		if rs[i].typ == 23 {
			if n == 0 {
				return &rs[i]
			}
			n--
		}
	}
	return nil
}

// open13 decrypts a TLS 1.3 record protected with the traffic secret at
// sequence number 0 (RFC 8446 section 5.3 and 7.3) and returns the inner
// plaintext, content type last.
func open13(s suite13, secret []byte, rec *record) ([]byte, error) {
	if rec == nil {
		return nil, io.ErrUnexpectedEOF
	}
	newHash := sha256.New
	if s.hash == crypto.SHA384 {
		newHash = sha512.New384
	}
	label := func(l string, n int) []byte {
		info := binary.BigEndian.AppendUint16(nil, uint16(n))
		info = append(info, byte(6+len(l)))
		info = append(info, "tls13 "+l...)
		info = append(info, 0)
		out, err := hkdf.Expand(newHash, secret, string(info), n)
		if err != nil {
			panic(err)
		}
		return out
	}
	aead, err := s.aead(label("key", s.keyLen))
	if err != nil {
		return nil, err
	}
	nonce := label("iv", 12) // XOR with sequence number 0
	inner, err := aead.Open(nil, nonce, rec.body, rec.hdr)
	if err != nil {
		return nil, err
	}
	inner = bytes.TrimRight(inner, "\x00")
	if len(inner) == 0 {
		return nil, io.ErrUnexpectedEOF
	}
	return inner, nil
}

// TestRealKeyLogs reads the key logs that Go, OpenSSL, GnuTLS and curl
// clients wrote for the project's test captures: every line is taken, and
// the secrets of the capture's first ClientHello are found by its random --
// a 48-byte master secret (TLS 1.0-1.2) or the four TLS 1.3 traffic secrets
// of one length.
func TestRealKeyLogs(t *testing.T) {
	files, _ := filepath.Glob("../testdata/pcaps/*.keys")
	if len(files) == 0 {
		t.Skip("no key logs in testdata/pcaps")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			l := New()
			st, err := l.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(f)
			lines := 0
			for _, line := range strings.Split(string(raw), "\n") {
				if line != "" && !strings.HasPrefix(line, "#") {
					lines++
				}
			}
			if st.Entries != lines || st.Malformed+st.Unknown+st.Conflicts != 0 || l.Len() == 0 {
				t.Fatalf("stats %v, %d randoms; want all %d lines taken", st, l.Len(), lines)
			}
			capture, err := os.ReadFile(strings.TrimSuffix(f, ".keys") + ".pcap")
			if err != nil {
				t.Skip(err)
			}
			random := clientHelloRandom(capture)
			if random == nil {
				t.Fatal("no ClientHello in the capture")
			}
			s := l.Lookup(random)
			if s == nil {
				t.Fatalf("no secrets for client random %s", hex.EncodeToString(random))
			}
			if m := s.MasterSecret(); m != nil {
				if len(m) != 48 {
					t.Errorf("master secret of %d bytes", len(m))
				}
				return
			}
			n := len(s.ClientHandshakeTraffic())
			for _, v := range []Secret{s.ServerHandshakeTraffic(), s.ClientTraffic0(), s.ServerTraffic0()} {
				if len(v) != n || (n != 32 && n != 48) {
					t.Errorf("secret lengths differ or are wrong: %v", s)
				}
			}
		})
	}
}

// clientHelloRandom finds the first ClientHello in raw capture bytes and
// returns its random: a handshake record (22, version 3.1–3.3), holding a
// ClientHello (1, 3-byte length) of legacy version 3.1–3.3.
func clientHelloRandom(b []byte) []byte {
	for i := 0; i+43 <= len(b); i++ {
		if b[i] == 22 && b[i+1] == 3 && b[i+2] >= 1 && b[i+2] <= 3 && b[i+5] == 1 && b[i+9] == 3 && b[i+10] >= 1 && b[i+10] <= 3 {
			return b[i+11 : i+43]
		}
	}
	return nil
}
