package tlsdecrypt

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

// splitRecords cuts one direction's bytes into whole records, header
// included. A torn last record fails the test.
func splitRecords(t testing.TB, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 5 {
			t.Fatalf("%d trailing bytes, not a record", len(b))
		}
		n := 5 + int(binary.BigEndian.Uint16(b[3:5]))
		if len(b) < n {
			t.Fatalf("record of %d bytes torn at %d", n, len(b))
		}
		out = append(out, b[:n:n])
		b = b[n:]
	}
	return out
}

type hsMsg struct {
	typ  uint8
	body []byte
}

// Handshake message types used by the tests.
const (
	hsHelloRequest        = 0
	hsClientHello         = 1
	hsServerHello         = 2
	hsNewSessionTicket    = 4
	hsEncryptedExtensions = 8
	hsCertificate         = 11
	hsCertificateRequest  = 13
	hsCertificateVerify   = 15
	hsFinished            = 20
	hsKeyUpdate           = 24
)

// flow is what the tests saw in one direction: handshake messages
// (reassembled across records), application data and alerts, plaintext or
// decrypted.
type flow struct {
	records [][]byte
	pos     int
	d       *Decrypter
	hsBuf   []byte
	msgs    []hsMsg
	app     []byte
	alerts  [][]byte
	// opened counts the records decrypted.
	opened int
}

// feed handles one record's plaintext and returns the handshake messages it
// completed.
func (f *flow) feed(t testing.TB, typ uint8, pt []byte) []hsMsg {
	t.Helper()
	switch typ {
	case 21:
		f.alerts = append(f.alerts, pt)
	case 23:
		f.app = append(f.app, pt...)
	case 22:
		f.hsBuf = append(f.hsBuf, pt...)
		var done []hsMsg
		for len(f.hsBuf) >= 4 {
			n := 4 + (int(f.hsBuf[1])<<16 | int(f.hsBuf[2])<<8 | int(f.hsBuf[3]))
			if len(f.hsBuf) < n {
				break
			}
			m := hsMsg{f.hsBuf[0], append([]byte(nil), f.hsBuf[4:n]...)}
			done = append(done, m)
			f.msgs = append(f.msgs, m)
			f.hsBuf = f.hsBuf[n:]
		}
		return done
	}
	return nil
}

func (f *flow) msgTypes() []uint8 {
	var out []uint8
	for _, m := range f.msgs {
		out = append(out, m.typ)
	}
	return out
}

// keyLog is an NSS key log: label -> client random (hex) -> secret.
type keyLog map[string]map[string][]byte

func parseKeyLog(t testing.TB, s string) keyLog {
	t.Helper()
	kl := keyLog{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if kl[f[0]] == nil {
			kl[f[0]] = map[string][]byte{}
		}
		kl[f[0]][strings.ToLower(f[1])] = unhex(t, f[2])
	}
	return kl
}

func (kl keyLog) get(t testing.TB, label string, clientRandom []byte) []byte {
	t.Helper()
	s := kl[label][hex.EncodeToString(clientRandom)]
	if s == nil {
		t.Fatalf("key log has no %s for client random %x", label, clientRandom)
	}
	return s
}

// hello is what the tests need from a ClientHello or ServerHello body.
type hello struct {
	random  []byte
	suite   uint16 // ServerHello
	version uint16 // negotiated: supported_versions if present
	etm     bool   // encrypt_then_mac extension present
}

func parseHello(t testing.TB, body []byte, server bool) hello {
	t.Helper()
	s := cryptobyte.String(body)
	var h hello
	var sid, suites, comp, exts cryptobyte.String
	if !s.ReadUint16(&h.version) || !s.ReadBytes(&h.random, 32) || !s.ReadUint8LengthPrefixed(&sid) {
		t.Fatal("short hello")
	}
	if server {
		var c uint8
		if !s.ReadUint16(&h.suite) || !s.ReadUint8(&c) {
			t.Fatal("short ServerHello")
		}
	} else if !s.ReadUint16LengthPrefixed(&suites) || !s.ReadUint8LengthPrefixed(&comp) {
		t.Fatal("short ClientHello")
	}
	if s.Empty() {
		return h
	}
	if !s.ReadUint16LengthPrefixed(&exts) {
		t.Fatal("bad hello extensions")
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			t.Fatal("bad hello extension")
		}
		switch typ {
		case 0x0016:
			h.etm = true
		case 0x002b:
			if server {
				data.ReadUint16(&h.version)
			}
		}
	}
	return h
}

// decode13 decrypts one direction of a TLS 1.3 connection: records under
// the handshake secret up to and including the Finished, then under the
// application secret, following KeyUpdates.
func decode13(t testing.TB, stream []byte, suite uint16, hsSecret, apSecret []byte) *flow {
	t.Helper()
	f := &flow{records: splitRecords(t, stream)}
	inHandshake := true
	for _, rec := range f.records {
		switch rec[0] {
		case 22: // ClientHello or ServerHello, in the clear
			f.feed(t, 22, rec[5:])
			continue
		case 20: // middlebox-compatibility ChangeCipherSpec
			continue
		}
		if f.d == nil {
			d, err := NewTLS13(suite, hsSecret)
			if err != nil {
				t.Fatal(err)
			}
			f.d = d
		}
		pt, typ, err := f.d.Open(rec)
		if err != nil {
			t.Fatalf("record %d (%d bytes): %v", f.opened, len(rec), err)
		}
		f.opened++
		for _, m := range f.feed(t, typ, pt) {
			switch {
			case m.typ == hsFinished && inHandshake:
				inHandshake = false
				d, err := NewTLS13(suite, apSecret)
				if err != nil {
					t.Fatal(err)
				}
				f.d = d
			case m.typ == hsKeyUpdate:
				if err := f.d.Update(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return f
}

// conn13 decodes both directions of a TLS 1.3 connection from its key log.
func conn13(t testing.TB, c2s, s2c []byte, kl keyLog) (client, server *flow, suite uint16) {
	t.Helper()
	ch := parseHello(t, firstHandshake(t, c2s, hsClientHello), false)
	sh := parseHello(t, firstHandshake(t, s2c, hsServerHello), true)
	if sh.version != VersionTLS13 {
		t.Fatalf("negotiated 0x%04x, not TLS 1.3", sh.version)
	}
	client = decode13(t, c2s, sh.suite,
		kl.get(t, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", ch.random), kl.get(t, "CLIENT_TRAFFIC_SECRET_0", ch.random))
	server = decode13(t, s2c, sh.suite,
		kl.get(t, "SERVER_HANDSHAKE_TRAFFIC_SECRET", ch.random), kl.get(t, "SERVER_TRAFFIC_SECRET_0", ch.random))
	return client, server, sh.suite
}

// firstHandshake returns the body of the first plaintext handshake message,
// which must be of type typ.
func firstHandshake(t testing.TB, stream []byte, typ uint8) []byte {
	t.Helper()
	f := &flow{}
	for _, rec := range splitRecords(t, stream) {
		if rec[0] != 22 {
			break
		}
		if ms := f.feed(t, 22, rec[5:]); len(ms) > 0 {
			if ms[0].typ != typ {
				t.Fatalf("first handshake message is type %d, want %d", ms[0].typ, typ)
			}
			return ms[0].body
		}
	}
	t.Fatalf("no handshake message of type %d", typ)
	return nil
}

// conn12 decodes both directions of a TLS 1.0–1.2 connection. Each
// ChangeCipherSpec starts a new epoch whose keys come from the epoch's
// ClientHello and ServerHello and the key log; a renegotiation's hellos are
// themselves encrypted under the previous epoch, so the two directions are
// advanced in turns until neither can go further.
type conn12 struct {
	kl           keyLog
	clientHellos []hello
	serverHellos []hello
	flows        [2]*flow // client, server
	epochs       [2]int
	pendingCCS   [2]bool
	decrypters   []*Decrypter
}

func decodeConn12(t testing.TB, c2s, s2c []byte, kl keyLog) (client, server *flow, c *conn12) {
	t.Helper()
	c = &conn12{kl: kl}
	c.flows[0] = &flow{records: splitRecords(t, c2s)}
	c.flows[1] = &flow{records: splitRecords(t, s2c)}
	for c.step(t, 0) || c.step(t, 1) {
	}
	for i, f := range c.flows {
		if f.pos != len(f.records) {
			t.Fatalf("direction %d stuck at record %d of %d", i, f.pos, len(f.records))
		}
	}
	return c.flows[0], c.flows[1], c
}

// step advances direction i as far as it can and reports progress.
func (c *conn12) step(t testing.TB, i int) bool {
	t.Helper()
	f := c.flows[i]
	progress := false
	for {
		if c.pendingCCS[i] {
			e := c.epochs[i]
			if e >= len(c.clientHellos) || e >= len(c.serverHellos) {
				return progress // keys not known yet
			}
			ch, sh := c.clientHellos[e], c.serverHellos[e]
			master := c.kl.get(t, "CLIENT_RANDOM", ch.random)
			d, err := NewTLS12(sh.version, sh.suite, master, ch.random, sh.random, i == 0, EncryptThenMAC(sh.etm))
			if err != nil {
				t.Fatal(err)
			}
			c.decrypters = append(c.decrypters, d)
			f.d = d
			c.epochs[i]++
			c.pendingCCS[i] = false
			progress = true
		}
		if f.pos == len(f.records) {
			return progress
		}
		rec := f.records[f.pos]
		typ, pt := rec[0], rec[5:]
		if f.d != nil {
			var err error
			pt, typ, err = f.d.Open(rec)
			if err != nil {
				t.Fatalf("direction %d record %d: %v", i, f.pos, err)
			}
			f.opened++
		}
		f.pos++
		progress = true
		if typ == 20 {
			c.pendingCCS[i] = true
			continue
		}
		for _, m := range f.feed(t, typ, pt) {
			switch m.typ {
			case hsClientHello:
				c.clientHellos = append(c.clientHellos, parseHello(t, m.body, false))
			case hsServerHello:
				c.serverHellos = append(c.serverHellos, parseHello(t, m.body, true))
			}
		}
	}
}

// recorder is a net.Conn that keeps a copy of everything written to it.
type recorder struct {
	net.Conn
	mu  sync.Mutex
	out bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.out.Write(p)
	r.mu.Unlock()
	return r.Conn.Write(p)
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.out.Bytes()...)
}

// lockedBuffer is a key-log writer safe to share between goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testCerts are made once: an ECDSA and an RSA server certificate and an
// ECDSA client certificate, self-signed (the tests skip verification).
type testCerts struct {
	ecdsa, rsa, client tls.Certificate
	dir                string // PEM files for OpenSSL: ecdsa.pem/.key, rsa.pem/.key
}

var certsOnce struct {
	sync.Once
	c   *testCerts
	err error
}

// TestMain removes the certificate files after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if certsOnce.c != nil {
		os.RemoveAll(certsOnce.c.dir)
	}
	os.Exit(code)
}

func certs(t testing.TB) *testCerts {
	t.Helper()
	certsOnce.Do(func() {
		certsOnce.c, certsOnce.err = makeCerts()
	})
	if certsOnce.err != nil {
		t.Fatal(certsOnce.err)
	}
	return certsOnce.c
}

func makeCerts() (*testCerts, error) {
	dir, err := os.MkdirTemp("", "tlsdecrypt-test")
	if err != nil {
		return nil, err
	}
	leaf := func(name string, key any, pub any, serial int64) (tls.Certificate, error) {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			DNSNames:     []string{"server.test"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
		if err != nil {
			return tls.Certificate{}, err
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return tls.Certificate{}, err
		}
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
		if err := os.WriteFile(filepath.Join(dir, name+".pem"), certPEM, 0o600); err != nil {
			return tls.Certificate{}, err
		}
		if err := os.WriteFile(filepath.Join(dir, name+".key"), keyPEM, 0o600); err != nil {
			return tls.Certificate{}, err
		}
		return tls.X509KeyPair(certPEM, keyPEM)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ck, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	c := &testCerts{dir: dir}
	if c.ecdsa, err = leaf("ecdsa", ek, &ek.PublicKey, 1); err != nil {
		return nil, err
	}
	if c.rsa, err = leaf("rsa", rk, &rk.PublicKey, 2); err != nil {
		return nil, err
	}
	if c.client, err = leaf("client", ck, &ck.PublicKey, 3); err != nil {
		return nil, err
	}
	return c, nil
}

// --- A test-only record sealer, the inverse of Open, for fuzz seeds,
// malformed-record cases and the benchmark. Its output is checked against
// real peers indirectly: Open, which decrypts Go's and OpenSSL's records, must
// accept it.

type sealer struct {
	version uint16
	s       *suite
	seq     uint64
	aead    cipher.AEAD
	iv      []byte
	block   cipher.Block
	macKey  []byte
	etm     bool
	chainIV []byte
}

func newSealer13(t testing.TB, suite uint16, secret []byte) *sealer {
	t.Helper()
	s := suite13ByID[suite]
	key, iv, err := trafficKeys(s, secret)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.bulk.aead(key)
	if err != nil {
		t.Fatal(err)
	}
	return &sealer{version: VersionTLS13, s: s, aead: a, iv: iv}
}

func newSealer12(t testing.TB, version, suite uint16, master, cr, sr []byte, fromClient, etm bool) *sealer {
	t.Helper()
	s := suite12ByID[suite]
	macKey, key, iv := keyBlock(version, s, master, cr, sr, fromClient)
	sl := &sealer{version: version, s: s, macKey: macKey, iv: iv, etm: etm}
	var err error
	if s.bulk.kind == kindCBC {
		sl.block, err = s.bulk.block(key)
		sl.chainIV = append([]byte(nil), iv...)
	} else {
		sl.aead, err = s.bulk.aead(key)
	}
	if err != nil {
		t.Fatal(err)
	}
	return sl
}

func (s *sealer) xorNonce() []byte {
	n := append([]byte(nil), s.iv...)
	for i := 0; i < 8; i++ {
		n[len(n)-1-i] ^= byte(s.seq >> (8 * i))
	}
	return n
}

func header(typ uint8, version uint16, n int) []byte {
	return []byte{typ, byte(version >> 8), byte(version), byte(n >> 8), byte(n)}
}

// seal13 protects content of type typ with padLen zero bytes of padding.
func (s *sealer) seal13(typ uint8, content []byte, padLen int) []byte {
	inner := append(append(append([]byte(nil), content...), typ), make([]byte, padLen)...)
	hdr := header(23, VersionTLS12, len(inner)+s.aead.Overhead())
	out := s.aead.Seal(hdr, s.xorNonce(), inner, hdr)
	s.seq++
	return out
}

func (s *sealer) ad12(typ uint8, n int) []byte {
	ad := binary.BigEndian.AppendUint64(nil, s.seq)
	return append(ad, typ, byte(s.version>>8), byte(s.version), byte(n>>8), byte(n))
}

func (s *sealer) mac(typ uint8, data []byte) []byte {
	m := hmac.New(s.s.mac, s.macKey)
	m.Write(s.ad12(typ, len(data)))
	m.Write(data)
	return m.Sum(nil)
}

// seal12 protects a TLS 1.0–1.2 record. For CBC suites padLen is the
// padding length byte (the total padding is padLen+1 bytes, and must make a
// whole number of blocks); a negative padLen picks the smallest.
func (s *sealer) seal12(typ uint8, content []byte, padLen int) []byte {
	defer func() { s.seq++ }()
	if s.aead != nil {
		var nonce, explicit []byte
		if s.s.bulk.kind == kindAEAD {
			explicit = binary.BigEndian.AppendUint64(nil, s.seq^0x5a5a)
			nonce = append(append([]byte(nil), s.iv...), explicit...)
		} else {
			nonce = s.xorNonce()
		}
		ad := s.ad12(typ, len(content))
		body := s.aead.Seal(explicit, nonce, content, ad)
		return append(header(typ, s.version, len(body)), body...)
	}
	bs := s.block.BlockSize()
	pt := append([]byte(nil), content...)
	if !s.etm {
		pt = append(pt, s.mac(typ, content)...)
	}
	if padLen < 0 {
		padLen = bs - 1 - len(pt)%bs
	}
	for i := 0; i <= padLen; i++ {
		pt = append(pt, byte(padLen))
	}
	iv := s.chainIV
	var explicit []byte
	if s.version >= VersionTLS11 {
		iv = make([]byte, bs)
		rand.Read(iv)
		explicit = iv
	}
	ct := make([]byte, len(pt))
	cipher.NewCBCEncrypter(s.block, iv).CryptBlocks(ct, pt)
	s.chainIV = append([]byte(nil), ct[len(ct)-bs:]...)
	body := append(append([]byte(nil), explicit...), ct...)
	if s.etm {
		body = append(body, s.mac(typ, body)...)
	}
	return append(header(typ, s.version, len(body)), body...)
}
