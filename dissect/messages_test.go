package dissect

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// ---- capturing real handshakes from crypto/tls ----

// recConn tees everything written to the connection.
type recConn struct {
	net.Conn
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.buf.Write(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recConn) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes())
}

type hsMsg struct {
	typ  uint8
	body []byte
}

type capture struct {
	client, server []hsMsg
	state          tls.ConnectionState // client's view
	clientErr      error
	serverErr      error
}

// find returns the n-th (0-based) message of type typ.
func find(t testing.TB, msgs []hsMsg, typ uint8, n int) []byte {
	t.Helper()
	for _, m := range msgs {
		if m.typ == typ {
			if n == 0 {
				return m.body
			}
			n--
		}
	}
	t.Fatalf("no handshake message of type %d (#%d) in %v", typ, n, types(msgs))
	return nil
}

func types(msgs []hsMsg) []uint8 {
	var out []uint8
	for _, m := range msgs {
		out = append(out, m.typ)
	}
	return out
}

// splitHandshake splits the plaintext handshake messages out of one
// direction's bytes: 5-byte record headers, 4-byte handshake headers. In
// TLS <= 1.2 (stopAtCCS) handshake records after ChangeCipherSpec are
// encrypted and ignored; in TLS 1.3 encrypted records are type 23 anyway.
func splitHandshake(t testing.TB, b []byte, stopAtCCS bool) []hsMsg {
	t.Helper()
	s := cryptobyte.String(b)
	var hs []byte
	for !s.Empty() {
		var typ uint8
		var ver uint16
		var frag cryptobyte.String
		if !s.ReadUint8(&typ) || !s.ReadUint16(&ver) || !s.ReadUint16LengthPrefixed(&frag) {
			t.Fatalf("bad record framing")
		}
		if typ == RecordChangeCipherSpec && stopAtCCS {
			break
		}
		if typ == RecordHandshake {
			hs = append(hs, frag...)
		}
	}
	var out []hsMsg
	h := cryptobyte.String(hs)
	for !h.Empty() {
		var typ uint8
		var body cryptobyte.String
		if !h.ReadUint8(&typ) || !h.ReadUint24LengthPrefixed(&body) {
			t.Fatalf("bad handshake framing")
		}
		out = append(out, hsMsg{typ, body})
	}
	return out
}

// handshake runs a crypto/tls client and server over net.Pipe and returns
// the plaintext handshake messages each side wrote.
func handshake(t testing.TB, ccfg, scfg *tls.Config) *capture {
	t.Helper()
	c1, c2 := tcpPair(t)
	cr, sr := &recConn{Conn: c1}, &recConn{Conn: c2}
	client, server := tls.Client(cr, ccfg), tls.Server(sr, scfg)
	_ = c1.SetDeadline(time.Now().Add(20 * time.Second))
	_ = c2.SetDeadline(time.Now().Add(20 * time.Second))
	cp := &capture{}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		cp.clientErr = client.Handshake()
		cp.state = client.ConnectionState()
		if cp.clientErr == nil {
			// Read until the server closes so TLS 1.3 tickets are processed.
			_, _ = io.Copy(io.Discard, client)
		}
		client.Close()
	}()
	go func() {
		defer wg.Done()
		cp.serverErr = server.Handshake()
		server.Close()
	}()
	wg.Wait()
	stop := cp.state.Version != tls.VersionTLS13
	cp.client = splitHandshake(t, cr.bytes(), stop)
	cp.server = splitHandshake(t, sr.bytes(), stop)
	return cp
}

// tcpPair returns both ends of a loopback TCP connection. (net.Pipe is
// unbuffered, and crypto/tls deadlocks on it when both sides write at once,
// as in a HelloRetryRequest exchange with middlebox-compatibility CCS.)
func tcpPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	c1, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c2 := <-ch
	if c2 == nil {
		t.Fatal("accept failed")
	}
	return c1, c2
}

var (
	certOnce          sync.Once
	rsaCert, ecdsaCrt tls.Certificate
)

func selfSigned(t testing.TB, key any, pub any) tls.Certificate {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tlsinspect test"},
		DNSNames:     []string{"www.example.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func certs(t testing.TB) (rsaC, ecC tls.Certificate) {
	certOnce.Do(func() {
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		rsaCert = selfSigned(t, rk, &rk.PublicKey)
		ecdsaCrt = selfSigned(t, ek, &ek.PublicKey)
	})
	return rsaCert, ecdsaCrt
}

func configs(t testing.TB, cert tls.Certificate) (ccfg, scfg *tls.Config) {
	ccfg = &tls.Config{InsecureSkipVerify: true, ServerName: "www.example.test"}
	scfg = &tls.Config{Certificates: []tls.Certificate{cert}}
	return
}

func mustOK(t testing.TB, cp *capture) {
	t.Helper()
	if cp.clientErr != nil || cp.serverErr != nil {
		t.Fatalf("handshake failed: client %v, server %v", cp.clientErr, cp.serverErr)
	}
}

func noErr(t testing.TB, what string, err error, anomalies []string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(anomalies) > 0 {
		t.Errorf("%s: unexpected anomalies %q", what, anomalies)
	}
}

// ---- real handshakes ----

func TestTLS13Handshake(t *testing.T) {
	rc, _ := certs(t)
	ccfg, scfg := configs(t, rc)
	ccfg.NextProtos = []string{"h2", "http/1.1"}
	scfg.NextProtos = []string{"h2"}
	cp := handshake(t, ccfg, scfg)
	mustOK(t, cp)

	chBody := find(t, cp.client, TypeClientHello, 0)
	ch, err := ParseClientHello(chBody)
	noErr(t, "ClientHello", err, ch.Anomalies)
	shBody := find(t, cp.server, TypeServerHello, 0)
	sh, err := ParseServerHello(shBody)
	noErr(t, "ServerHello", err, sh.Anomalies)

	if ch.ServerName != "www.example.test" || !slices.Equal(ch.ServerNames, []string{"www.example.test"}) {
		t.Errorf("ServerName = %q %q", ch.ServerName, ch.ServerNames)
	}
	if !slices.Equal(ch.ALPN, ccfg.NextProtos) {
		t.Errorf("ALPN = %q, want %q", ch.ALPN, ccfg.NextProtos)
	}
	if ch.Version != tls.VersionTLS12 || !slices.Contains(ch.SupportedVersions, tls.VersionTLS13) {
		t.Errorf("Version %#x SupportedVersions %#x", ch.Version, ch.SupportedVersions)
	}
	if !bytes.Equal(ch.Raw, chBody) || len(ch.Random) != 32 || len(ch.SessionID) != 32 {
		t.Errorf("Raw/Random/SessionID wrong: %d %d", len(ch.Random), len(ch.SessionID))
	}
	if !ch.HasExtensionsBlock || !ch.ExtendedMasterSecret || !ch.HasRenegotiationInfo || !ch.SignedCertificateTimestamp || !ch.StatusRequest {
		t.Errorf("flags: %+v", ch)
	}
	if len(ch.SignatureAlgorithms) == 0 || !slices.Equal(ch.ECPointFormats, []uint8{0}) {
		t.Errorf("SignatureAlgorithms %v ECPointFormats %v", ch.SignatureAlgorithms, ch.ECPointFormats)
	}
	if ch.PaddingLength != -1 || ch.HasPreSharedKey || ch.SSLv2 {
		t.Errorf("PaddingLength %d HasPreSharedKey %v", ch.PaddingLength, ch.HasPreSharedKey)
	}
	if len(ch.KeyShareGroups) == 0 || len(ch.KeyShares) != len(ch.KeyShareGroups) {
		t.Errorf("KeyShareGroups %v KeyShares %v", ch.KeyShareGroups, ch.KeyShares)
	}
	for _, ks := range ch.KeyShares {
		if ks.Group == uint16(tls.X25519) && ks.KeyLength != 32 {
			t.Errorf("x25519 key share length %d", ks.KeyLength)
		}
	}
	if !slices.Contains(ch.CipherSuites, cp.state.CipherSuite) || !slices.Contains(ch.SupportedGroups, uint16(cp.state.CurveID)) {
		t.Errorf("suites %#x groups %v state %#x %v", ch.CipherSuites, ch.SupportedGroups, cp.state.CipherSuite, cp.state.CurveID)
	}
	if len(ch.Extensions) < 10 || ch.Extensions[0].Type != ExtensionServerName {
		t.Errorf("Extensions: %v", ch.Extensions)
	}

	if sh.IsHelloRetryRequest() {
		t.Error("ServerHello taken for HelloRetryRequest")
	}
	if sh.NegotiatedVersion() != tls.VersionTLS13 || sh.Version != tls.VersionTLS12 || sh.SupportedVersion != tls.VersionTLS13 {
		t.Errorf("versions %#x %#x", sh.Version, sh.SupportedVersion)
	}
	if sh.CipherSuite != cp.state.CipherSuite || sh.KeyShareGroup != uint16(cp.state.CurveID) {
		t.Errorf("CipherSuite %#x KeyShareGroup %#x, want %#x %#x", sh.CipherSuite, sh.KeyShareGroup, cp.state.CipherSuite, cp.state.CurveID)
	}
	if !slices.Contains(ch.KeyShareGroups, sh.KeyShareGroup) || sh.KeyShareLength == 0 {
		t.Errorf("server key share %#x/%d not among %v", sh.KeyShareGroup, sh.KeyShareLength, ch.KeyShareGroups)
	}
	if !bytes.Equal(sh.SessionID, ch.SessionID) || sh.ALPN != "" || sh.HasPreSharedKey || sh.DowngradeSentinel() != 0 {
		t.Errorf("SessionID echo %v ALPN %q PSK %v", bytes.Equal(sh.SessionID, ch.SessionID), sh.ALPN, sh.HasPreSharedKey)
	}
	if cp.state.NegotiatedProtocol != "h2" {
		t.Errorf("negotiated %q", cp.state.NegotiatedProtocol)
	}
	if n := len(cp.server); n != 1 {
		t.Errorf("TLS 1.3 server sent %d plaintext handshake messages, want 1", n)
	}
}

func TestTLS13Resumption(t *testing.T) {
	rc, _ := certs(t)
	ccfg, scfg := configs(t, rc)
	ccfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	mustOK(t, handshake(t, ccfg, scfg))
	cp := handshake(t, ccfg, scfg)
	mustOK(t, cp)
	if !cp.state.DidResume {
		t.Fatal("second handshake did not resume")
	}
	ch, err := ParseClientHello(find(t, cp.client, TypeClientHello, 0))
	noErr(t, "ClientHello", err, ch.Anomalies)
	if !ch.HasPreSharedKey || ch.PSKIdentities != 1 || ch.PSKBinders != 1 || !slices.Equal(ch.PSKModes, []uint8{1}) {
		t.Errorf("PSK %v identities %d binders %d", ch.HasPreSharedKey, ch.PSKIdentities, ch.PSKBinders)
	}
	if last := ch.Extensions[len(ch.Extensions)-1].Type; last != ExtensionPreSharedKey {
		t.Errorf("last extension %#x", last)
	}
	sh, err := ParseServerHello(find(t, cp.server, TypeServerHello, 0))
	noErr(t, "ServerHello", err, sh.Anomalies)
	if !sh.HasPreSharedKey || sh.SelectedIdentity != 0 {
		t.Errorf("ServerHello PSK %v %d", sh.HasPreSharedKey, sh.SelectedIdentity)
	}
}

func TestHelloRetryRequest(t *testing.T) {
	rc, _ := certs(t)
	ccfg, scfg := configs(t, rc)
	ccfg.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
	scfg.CurvePreferences = []tls.CurveID{tls.CurveP256}
	cp := handshake(t, ccfg, scfg)
	mustOK(t, cp)
	if got := types(cp.client); !slices.Equal(got, []uint8{TypeClientHello, TypeClientHello}) {
		t.Fatalf("client messages %v", got)
	}
	ch1, err := ParseClientHello(find(t, cp.client, TypeClientHello, 0))
	noErr(t, "ClientHello 1", err, ch1.Anomalies)
	ch2, err := ParseClientHello(find(t, cp.client, TypeClientHello, 1))
	noErr(t, "ClientHello 2", err, ch2.Anomalies)
	hrr, err := ParseServerHello(find(t, cp.server, TypeServerHello, 0))
	noErr(t, "HelloRetryRequest", err, hrr.Anomalies)
	sh, err := ParseServerHello(find(t, cp.server, TypeServerHello, 1))
	noErr(t, "ServerHello", err, sh.Anomalies)

	if !hrr.IsHelloRetryRequest() || sh.IsHelloRetryRequest() {
		t.Errorf("IsHelloRetryRequest: hrr %v sh %v", hrr.IsHelloRetryRequest(), sh.IsHelloRetryRequest())
	}
	p256 := uint16(tls.CurveP256)
	if hrr.KeyShareGroup != p256 || hrr.KeyShareLength != 0 || hrr.NegotiatedVersion() != tls.VersionTLS13 {
		t.Errorf("HRR group %#x len %d version %#x", hrr.KeyShareGroup, hrr.KeyShareLength, hrr.NegotiatedVersion())
	}
	if !slices.Equal(ch1.KeyShareGroups, []uint16{uint16(tls.X25519)}) || !slices.Equal(ch2.KeyShareGroups, []uint16{p256}) {
		t.Errorf("key shares %v then %v", ch1.KeyShareGroups, ch2.KeyShareGroups)
	}
	if ch2.KeyShares[0].KeyLength != 65 {
		t.Errorf("P-256 key share length %d", ch2.KeyShares[0].KeyLength)
	}
	if sh.KeyShareGroup != p256 || sh.KeyShareLength != 65 || uint16(cp.state.CurveID) != p256 {
		t.Errorf("ServerHello group %#x len %d", sh.KeyShareGroup, sh.KeyShareLength)
	}
}

// tls12Case is a TLS 1.0–1.2 handshake configuration and what it implies.
type tls12Case struct {
	name       string
	version    uint16
	suite      uint16
	ecdsa      bool
	clientAuth tls.ClientAuthType
	clientCert bool
	kx         KeyExchange
}

func TestTLS12Handshakes(t *testing.T) {
	rc, ec := certs(t)
	for _, tc := range []tls12Case{
		{name: "ECDHE-RSA", version: tls.VersionTLS12, suite: tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, kx: KeyExchangeECDHE},
		{name: "ECDHE-ECDSA", version: tls.VersionTLS12, suite: tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, ecdsa: true, kx: KeyExchangeECDHE},
		{name: "RSA", version: tls.VersionTLS12, suite: tls.TLS_RSA_WITH_AES_128_GCM_SHA256, kx: KeyExchangeRSA},
		{name: "TLS1.0-ECDHE-RSA-CBC", version: tls.VersionTLS10, suite: tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, kx: KeyExchangeECDHE},
		{name: "TLS1.0-ECDHE-ECDSA-CBC", version: tls.VersionTLS10, suite: tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, ecdsa: true, kx: KeyExchangeECDHE},
		{name: "client-auth-no-cert", version: tls.VersionTLS12, suite: tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, clientAuth: tls.RequestClientCert, kx: KeyExchangeECDHE},
		{name: "client-auth-cert", version: tls.VersionTLS12, suite: tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, clientAuth: tls.RequestClientCert, clientCert: true, kx: KeyExchangeECDHE},
		{name: "TLS1.1-client-auth-cert", version: tls.VersionTLS11, suite: tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, ecdsa: true, clientAuth: tls.RequestClientCert, clientCert: true, kx: KeyExchangeECDHE},
	} {
		t.Run(tc.name, func(t *testing.T) { testTLS12(t, tc, rc, ec) })
	}
}

func testTLS12(t *testing.T, tc tls12Case, rc, ec tls.Certificate) {
	cert := rc
	if tc.ecdsa {
		cert = ec
	}
	ccfg, scfg := configs(t, cert)
	for _, c := range []*tls.Config{ccfg, scfg} {
		c.MinVersion, c.MaxVersion = tc.version, tc.version
		c.CipherSuites = []uint16{tc.suite}
	}
	ccfg.NextProtos = []string{"http/1.1", "h2"}
	scfg.NextProtos = []string{"h2"}
	scfg.ClientAuth = tc.clientAuth
	ccfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
	if tc.clientCert {
		ccfg.Certificates = []tls.Certificate{ec}
	}
	cp := handshake(t, ccfg, scfg)
	mustOK(t, cp)

	ch, err := ParseClientHello(find(t, cp.client, TypeClientHello, 0))
	noErr(t, "ClientHello", err, ch.Anomalies)
	if ch.Version != tc.version || !slices.Equal(ch.SupportedVersions, []uint16{tc.version}) || ch.ServerName != "www.example.test" || !slices.Equal(ch.ALPN, ccfg.NextProtos) {
		t.Errorf("ClientHello version %#x %v SNI %q ALPN %q", ch.Version, ch.SupportedVersions, ch.ServerName, ch.ALPN)
	}
	if !slices.Equal(ch.CipherSuites, []uint16{tc.suite}) {
		t.Errorf("CipherSuites %#x", ch.CipherSuites)
	}
	sh, err := ParseServerHello(find(t, cp.server, TypeServerHello, 0))
	noErr(t, "ServerHello", err, sh.Anomalies)
	if sh.CipherSuite != cp.state.CipherSuite || sh.CipherSuite != tc.suite || sh.NegotiatedVersion() != tc.version || sh.SupportedVersion != 0 {
		t.Errorf("ServerHello suite %#x version %#x", sh.CipherSuite, sh.NegotiatedVersion())
	}
	if sh.ALPN != "h2" || cp.state.NegotiatedProtocol != "h2" {
		t.Errorf("ServerHello ALPN %q", sh.ALPN)
	}
	if !sh.ExtendedMasterSecret || !sh.HasRenegotiationInfo || !sh.HasSessionTicket || !slices.Equal(sh.ECPointFormats, []uint8{0}) {
		t.Errorf("ServerHello flags EMS %v reneg %v ticket %v ecpf %v", sh.ExtendedMasterSecret, sh.HasRenegotiationInfo, sh.HasSessionTicket, sh.ECPointFormats)
	}
	// Go's TLS 1.3-capable server would set the sentinel; here both sides are capped.
	if sh.DowngradeSentinel() != 0 {
		t.Errorf("unexpected downgrade sentinel")
	}
	if kx := KeyExchangeOf(sh.CipherSuite); kx != tc.kx {
		t.Errorf("KeyExchangeOf(%#x) = %v, want %v", sh.CipherSuite, kx, tc.kx)
	}

	cert13, err := ParseCertificate(find(t, cp.server, TypeCertificate, 0), false)
	noErr(t, "Certificate", err, cert13.Anomalies)
	if len(cert13.Certificates) != 1 || !bytes.Equal(cert13.Certificates[0], cert.Certificate[0]) {
		t.Errorf("server Certificate: %d entries", len(cert13.Certificates))
	}

	if tc.kx == KeyExchangeECDHE {
		ske, err := ParseServerKeyExchange(find(t, cp.server, TypeServerKeyExchange, 0), tc.kx, tc.version)
		noErr(t, "ServerKeyExchange", err, ske.Anomalies)
		wantLen := map[tls.CurveID]int{tls.X25519: 32, tls.CurveP256: 65}[cp.state.CurveID]
		if ske.CurveType != 3 || ske.Group != uint16(cp.state.CurveID) || ske.PublicKeyLength != wantLen || !ske.HasSignature || ske.SignatureLength == 0 {
			t.Errorf("ServerKeyExchange %+v, curve %v", ske, cp.state.CurveID)
		}
		if (tc.version == tls.VersionTLS12) != (ske.SignatureScheme != 0) {
			t.Errorf("SignatureScheme %#x for version %#x", ske.SignatureScheme, tc.version)
		}
		if tc.ecdsa && tc.version == tls.VersionTLS12 && ske.SignatureScheme&0xff != 3 {
			t.Errorf("ECDSA signature scheme %#x", ske.SignatureScheme)
		}
		// The same bytes with the version left to guess.
		g, err := ParseServerKeyExchange(find(t, cp.server, TypeServerKeyExchange, 0), tc.kx, 0)
		if err != nil || g.SignatureScheme != ske.SignatureScheme || g.SignatureLength != ske.SignatureLength {
			t.Errorf("guessed version: %+v, %v", g, err)
		}
	} else if slices.Contains(types(cp.server), TypeServerKeyExchange) {
		t.Errorf("unexpected ServerKeyExchange for %v", tc.kx)
	}

	cke, err := ParseClientKeyExchange(find(t, cp.client, TypeClientKeyExchange, 0), tc.kx, tc.version)
	noErr(t, "ClientKeyExchange", err, cke.Anomalies)
	want := map[tls.CurveID]int{tls.X25519: 32, tls.CurveP256: 65}[cp.state.CurveID]
	if tc.kx == KeyExchangeRSA {
		want = 256 // 2048-bit RSA key
	}
	if cke.PublicKeyLength != want {
		t.Errorf("ClientKeyExchange PublicKeyLength %d, want %d", cke.PublicKeyLength, want)
	}

	if tc.clientAuth != tls.NoClientCert {
		cr, err := ParseCertificateRequest(find(t, cp.server, TypeCertificateRequest, 0), tc.version)
		noErr(t, "CertificateRequest", err, cr.Anomalies)
		if !slices.Equal(cr.CertificateTypes, []uint8{1, 64}) || cr.TLS13 || len(cr.CertificateAuthorities) != 0 {
			t.Errorf("CertificateRequest %+v", cr)
		}
		if (tc.version == tls.VersionTLS12) != (len(cr.SignatureAlgorithms) > 0) {
			t.Errorf("CertificateRequest SignatureAlgorithms %v for %#x", cr.SignatureAlgorithms, tc.version)
		}
		cc, err := ParseCertificate(find(t, cp.client, TypeCertificate, 0), false)
		noErr(t, "client Certificate", err, cc.Anomalies)
		wantN := 0
		if tc.clientCert {
			wantN = 1
		}
		if len(cc.Certificates) != wantN || slices.Contains(types(cp.client), TypeCertificateVerify) != tc.clientCert {
			t.Errorf("client Certificate has %d entries; messages %v", len(cc.Certificates), types(cp.client))
		}
	} else if slices.Contains(types(cp.server), TypeCertificateRequest) {
		t.Error("unexpected CertificateRequest")
	}

	if tc.version == tls.VersionTLS12 {
		// Go's server sends a NewSessionTicket before its ChangeCipherSpec.
		nst, err := ParseNewSessionTicket(find(t, cp.server, TypeNewSessionTicket, 0), false)
		noErr(t, "NewSessionTicket", err, nst.Anomalies)
		if nst.TicketLength == 0 || nst.TicketLength != len(nst.Ticket) || nst.TLS13 {
			t.Errorf("NewSessionTicket %+v", nst)
		}
	}
}

func TestTLS12TicketResumption(t *testing.T) {
	rc, _ := certs(t)
	ccfg, scfg := configs(t, rc)
	ccfg.MaxVersion = tls.VersionTLS12
	ccfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	first := handshake(t, ccfg, scfg)
	mustOK(t, first)
	ch0, _ := ParseClientHello(find(t, first.client, TypeClientHello, 0))
	if !ch0.HasSessionTicket || len(ch0.SessionTicket) != 0 {
		t.Errorf("first ClientHello ticket %v %d", ch0.HasSessionTicket, len(ch0.SessionTicket))
	}
	nst, _ := ParseNewSessionTicket(find(t, first.server, TypeNewSessionTicket, 0), false)

	cp := handshake(t, ccfg, scfg)
	mustOK(t, cp)
	if !cp.state.DidResume {
		t.Fatal("did not resume")
	}
	ch, err := ParseClientHello(find(t, cp.client, TypeClientHello, 0))
	noErr(t, "ClientHello", err, ch.Anomalies)
	if !ch.HasSessionTicket || !bytes.Equal(ch.SessionTicket, nst.Ticket) {
		t.Errorf("resumption ClientHello ticket %d bytes, issued %d", len(ch.SessionTicket), nst.TicketLength)
	}
	sh, _ := ParseServerHello(find(t, cp.server, TypeServerHello, 0))
	if !bytes.Equal(sh.SessionID, ch.SessionID) || len(sh.SessionID) == 0 {
		t.Errorf("session id not echoed on ticket resumption")
	}
	if slices.Contains(types(cp.client), TypeClientKeyExchange) {
		t.Error("ClientKeyExchange in an abbreviated handshake")
	}
}

// ---- hand-built and malformed messages ----

type ext struct {
	typ  uint16
	data []byte
}

// buildClientHello makes a ClientHello body with the given extensions
// (nil: no extensions block).
func buildClientHello(exts []ext) []byte {
	var b cryptobyte.Builder
	b.AddUint16(0x0303)
	b.AddBytes(make([]byte, 32))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte{1, 2, 3, 4}) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(0x1301); b.AddUint16(0xc02f) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
	if exts != nil {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, e := range exts {
				b.AddUint16(e.typ)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(e.data) })
			}
		})
	}
	return b.BytesOrPanic()
}

var (
	extSNI      = ext{0, []byte{0, 8, 0, 0, 5, 'a', '.', 'c', 'o', 'm'}}
	extGroups   = ext{10, []byte{0, 4, 0x11, 0xec, 0, 0x1d}}
	extVersions = ext{43, []byte{4, 0x03, 0x04, 0x03, 0x03}}
	extPSK      = ext{41, []byte{0, 7, 0, 1, 'x', 0, 0, 0, 0, 0, 3, 2, 0xaa, 0xbb}}
	extGREASE   = ext{0x0a0a, nil}
)

func TestClientHelloHandBuilt(t *testing.T) {
	tests := []struct {
		name    string
		body    []byte
		errSub  string   // "" means no error
		anomaly []string // substrings, one per expected anomaly, in order
		check   func(t *testing.T, m *ClientHello)
	}{
		{
			name: "no extensions block",
			body: buildClientHello(nil),
			check: func(t *testing.T, m *ClientHello) {
				if m.HasExtensionsBlock || m.Extensions != nil || !slices.Equal(m.CipherSuites, []uint16{0x1301, 0xc02f}) || !slices.Equal(m.SessionID, []byte{1, 2, 3, 4}) {
					t.Errorf("%+v", m)
				}
			},
		},
		{
			name: "empty extensions block",
			body: buildClientHello([]ext{}),
			check: func(t *testing.T, m *ClientHello) {
				if !m.HasExtensionsBlock || len(m.Extensions) != 0 {
					t.Errorf("%+v", m)
				}
			},
		},
		{
			name: "GREASE and padding kept",
			body: buildClientHello([]ext{extGREASE, extSNI, {21, make([]byte, 7)}, extVersions, {0xfe0d, []byte{0, 1}}, {28, []byte{0x40, 0x01}}, {27, []byte{4, 0, 2, 0, 1}}, {0x0b0b, []byte{1}}}),
			check: func(t *testing.T, m *ClientHello) {
				if m.Extensions[0].Type != 0x0a0a || m.Extensions[7].Type != 0x0b0b || m.PaddingLength != 7 || !m.ECH || m.RecordSizeLimit != 0x4001 ||
					!slices.Equal(m.CompressCertificate, []uint16{2, 1}) || m.ServerName != "a.com" || !slices.Equal(m.SupportedVersions, []uint16{0x0304, 0x0303}) {
					t.Errorf("%+v", m)
				}
			},
		},
		{
			name:    "duplicate extension",
			body:    buildClientHello([]ext{extGroups, extSNI, {10, []byte{0, 2, 0, 0x17}}}),
			anomaly: []string{"extension 0x000a (supported_groups): duplicate extension at offset"},
			check: func(t *testing.T, m *ClientHello) {
				if len(m.Extensions) != 3 || !slices.Equal(m.SupportedGroups, []uint16{0x11ec, 0x1d}) {
					t.Errorf("first occurrence should win: %v", m.SupportedGroups)
				}
			},
		},
		{
			name:    "pre_shared_key not last",
			body:    buildClientHello([]ext{extPSK, extSNI}),
			anomaly: []string{"extension 0x0029 (pre_shared_key): not the last extension (position 1 of 2)"},
			check: func(t *testing.T, m *ClientHello) {
				if !m.HasPreSharedKey || m.PSKIdentities != 1 || m.PSKBinders != 1 {
					t.Errorf("%+v", m)
				}
			},
		},
		{
			name:   "extension length exceeds block",
			body:   append(buildClientHello(nil), 0, 8, 0, 43, 0, 7, 2, 3, 4, 0),
			errSub: "ClientHello: extension 0x002b (supported_versions): length 7 exceeds remaining 4 at offset 51",
		},
		{
			name:   "extensions block exceeds body: entries present are still read",
			body:   bytes.Replace(buildClientHello([]ext{extSNI, {10, []byte{0, 2, 0, 0x1d}}}), []byte{0, 22, 0, 0}, []byte{0, 99, 0, 0}, 1),
			errSub: "ClientHello: extensions: length 99 exceeds remaining 22 at offset 47",
			check: func(t *testing.T, m *ClientHello) {
				if m.ServerName != "a.com" || len(m.Extensions) != 2 || !slices.Equal(m.SupportedGroups, []uint16{0x1d}) {
					t.Errorf("%+v", m)
				}
			},
		},
		{
			name:    "malformed extension body, parsing continues",
			body:    buildClientHello([]ext{{51, []byte{0, 6, 0, 0x1d, 0, 9, 1, 2}}, extSNI}),
			errSub:  "ClientHello: extension 0x0033 (key_share): client_shares: entry 0 key_exchange: length 9 exceeds remaining 2",
			anomaly: []string{"extension 0x0033 (key_share): client_shares: entry 0 key_exchange: length 9 exceeds remaining 2"},
			check: func(t *testing.T, m *ClientHello) {
				if m.ServerName != "a.com" || len(m.Extensions) != 2 {
					t.Errorf("did not continue after a malformed extension: %+v", m)
				}
			},
		},
		{
			name:    "trailing bytes inside an extension and after the block",
			body:    append(buildClientHello([]ext{{23, []byte{9}}, {11, []byte{1, 0, 7}}}), 0xff),
			anomaly: []string{"extension 0x0017 (extended_master_secret): expected empty body, got 1 bytes", "extension 0x000b (ec_point_formats): 1 trailing bytes", "extensions: 1 trailing bytes"},
			check: func(t *testing.T, m *ClientHello) {
				if !m.ExtendedMasterSecret || !slices.Equal(m.ECPointFormats, []uint8{0}) {
					t.Errorf("%+v", m)
				}
			},
		},
		{
			name:    "odd supported_groups length",
			body:    buildClientHello([]ext{{10, []byte{0, 3, 0, 0x1d, 0}}}),
			anomaly: []string{"extension 0x000a (supported_groups): named_group_list: odd length 3"},
		},
		{
			name:    "unknown server name type and empty ALPN name",
			body:    buildClientHello([]ext{{0, []byte{0, 4, 1, 0, 1, 'x'}}, {16, []byte{0, 4, 0, 2, 'h', '2'}}}),
			anomaly: []string{"unknown name_type 1", "name 0: empty protocol name"},
			check: func(t *testing.T, m *ClientHello) {
				if m.ServerName != "" || !slices.Equal(m.ALPN, []string{"", "h2"}) {
					t.Errorf("%q %q", m.ServerName, m.ALPN)
				}
			},
		},
		{
			name:    "long session id",
			body:    append(append([]byte{3, 3}, make([]byte, 32)...), append([]byte{33}, make([]byte, 33+2+2+1)...)...),
			anomaly: []string{"legacy_session_id: length 33 exceeds 32", "cipher_suites: empty list"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseClientHello(tc.body)
			if m == nil {
				t.Fatal("nil message")
			}
			if tc.errSub == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tc.errSub != "" && (err == nil || !strings.Contains(err.Error(), tc.errSub)) {
				t.Fatalf("error %v, want %q", err, tc.errSub)
			}
			if len(m.Anomalies) != len(tc.anomaly) {
				t.Fatalf("anomalies %q, want %q", m.Anomalies, tc.anomaly)
			}
			for i, a := range tc.anomaly {
				if !strings.Contains(m.Anomalies[i], a) {
					t.Errorf("anomaly %d = %q, want %q", i, m.Anomalies[i], a)
				}
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

// TestClientHelloTruncated cuts a real ClientHello at every offset: the
// parser must not panic, must say which field broke, and must keep what it
// read before that.
func TestClientHelloTruncated(t *testing.T) {
	rc, _ := certs(t)
	ccfg, scfg := configs(t, rc)
	cp := handshake(t, ccfg, scfg)
	body := find(t, cp.client, TypeClientHello, 0)
	full, err := ParseClientHello(body)
	if err != nil {
		t.Fatal(err)
	}
	sidEnd := 2 + 32 + 1 + len(full.SessionID)
	csEnd := sidEnd + 2 + 2*len(full.CipherSuites)
	compEnd := csEnd + 1 + len(full.CompressionMethods)
	for i := range len(body) {
		m, err := ParseClientHello(body[:i])
		if m == nil {
			t.Fatalf("offset %d: nil message", i)
		}
		if i == compEnd {
			if err != nil || m.HasExtensionsBlock {
				t.Errorf("offset %d: a hello without extensions is valid: %v", i, err)
			}
			continue
		}
		var me *MessageError
		if !errors.As(err, &me) {
			t.Fatalf("offset %d: error %v is not a *MessageError", i, err)
		}
		var want string
		switch {
		case i < 2:
			want = "legacy_version"
		case i < 34:
			want = "random"
		case i < sidEnd:
			want = "legacy_session_id"
		case i < csEnd:
			want = "cipher_suites"
		case i < compEnd:
			want = "legacy_compression_methods"
		default:
			want = "extensions"
		}
		if me.Message != "ClientHello" || me.Field != want || me.Offset > i || !strings.HasPrefix(err.Error(), "ClientHello: "+want+": ") {
			t.Errorf("offset %d: error %q (field %q), want field %q", i, err, me.Field, want)
		}
		if i >= 34 && !bytes.Equal(m.Random, full.Random) {
			t.Errorf("offset %d: Random lost", i)
		}
		if sni := full.Extensions[0]; sni.Type == ExtensionServerName && i >= compEnd+2+4+len(sni.Data) && m.ServerName != full.ServerName {
			t.Errorf("offset %d: server_name not read from a truncated extensions block", i)
		}
		if i >= csEnd && !slices.Equal(m.CipherSuites, full.CipherSuites) {
			t.Errorf("offset %d: CipherSuites lost", i)
		}
	}
}

func TestServerHelloMalformed(t *testing.T) {
	var b cryptobyte.Builder
	b.AddUint16(0x0303)
	b.AddBytes(helloRetryRequestRandom)
	b.AddUint8(0)
	b.AddUint16(0x1301)
	b.AddUint8(0)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(43)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(0x0304) })
		b.AddUint16(51)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) }) // selected_group truncated
		b.AddUint16(44)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte{0, 1, 9}) })
		b.AddUint16(16)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte{0, 6, 2, 'h', '2', 2, 'h', '3'}) })
	})
	m, err := ParseServerHello(b.BytesOrPanic())
	if err == nil || err.Error() != "HelloRetryRequest: extension 0x0033 (key_share): selected_group: truncated: need 2 bytes, have 1 at offset 50" {
		t.Errorf("error %v", err)
	}
	if !m.IsHelloRetryRequest() || m.SupportedVersion != 0x0304 || !m.HasCookie || m.ALPN != "h2" {
		t.Errorf("%+v", m)
	}
	if len(m.Anomalies) != 2 || !strings.Contains(m.Anomalies[1], "2 protocol names, expected exactly 1") {
		t.Errorf("anomalies %q", m.Anomalies)
	}

	// Downgrade sentinel and truncation.
	rnd := append(make([]byte, 24), []byte("DOWNGRD\x01")...)
	sh := &ServerHello{Random: rnd}
	if sh.DowngradeSentinel() != VersionTLS12 {
		t.Error("DOWNGRD\\x01 not recognised")
	}
	rnd[31] = 0
	if sh.DowngradeSentinel() != VersionTLS11 {
		t.Error("DOWNGRD\\x00 not recognised")
	}
	m, err = ParseServerHello([]byte{3, 3, 1})
	if err == nil || err.Error() != "ServerHello: random: truncated: need 32 bytes, have 1 at offset 2" || m.Version != 0x0303 {
		t.Errorf("%v %+v", err, m)
	}
}

func TestCertificateLayouts(t *testing.T) {
	tests := []struct {
		name    string
		body    []byte
		tls13   bool
		n       int
		exts    int
		errSub  string
		anomaly string
	}{
		{name: "tls12 two certs", body: []byte{0, 0, 9, 0, 0, 2, 0x30, 0, 0, 0, 1, 0x30}, n: 2},
		{name: "tls12 empty", body: []byte{0, 0, 0}, n: 0},
		{name: "tls13 with context and extensions", tls13: true, body: []byte{1, 7, 0, 0, 16, 0, 0, 1, 0x30, 0, 4, 0, 5, 0, 0, 0, 0, 1, 0x30, 0, 0}, n: 2, exts: 1},
		{name: "tls12 entry exceeds list", body: []byte{0, 0, 4, 0, 0, 9, 0x30}, errSub: "Certificate: certificate_list: certificate 0: length 9 exceeds remaining 1 at offset 3"},
		{name: "tls12 list exceeds body", body: []byte{0, 1, 0, 0}, errSub: "Certificate: certificate_list: length 256 exceeds remaining 1 at offset 0"},
		{name: "tls13 bad extensions", tls13: true, body: []byte{0, 0, 0, 6, 0, 0, 1, 0x30, 0, 9}, n: 1, errSub: "certificate 0 extensions: length 9 exceeds remaining 0"},
		{name: "empty cert and trailing", body: []byte{0, 0, 3, 0, 0, 0, 0xee}, n: 1, anomaly: "certificate_list: certificate 0: empty certificate at offset 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseCertificate(tc.body, tc.tls13)
			if (err == nil) != (tc.errSub == "") || (err != nil && !strings.Contains(err.Error(), tc.errSub)) {
				t.Fatalf("error %v, want %q", err, tc.errSub)
			}
			if len(m.Certificates) != tc.n || m.ExtensionCount != tc.exts || m.TLS13 != tc.tls13 {
				t.Errorf("%+v", m)
			}
			if tc.anomaly != "" && (len(m.Anomalies) == 0 || m.Anomalies[0] != tc.anomaly) {
				t.Errorf("anomalies %q", m.Anomalies)
			}
		})
	}
}

func TestCertificateRequestLayouts(t *testing.T) {
	tls12 := []byte{2, 1, 64, 0, 4, 4, 3, 8, 4, 0, 6, 0, 4, 0x30, 2, 0x31, 0}
	tls11 := []byte{1, 1, 0, 0}
	var b cryptobyte.Builder
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {})
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(13)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte{0, 4, 8, 4, 4, 3}) })
		b.AddUint16(47)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte{0, 4, 0, 2, 0x30, 0}) })
		b.AddUint16(0x1234)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {})
	})
	tls13 := b.BytesOrPanic()
	tests := []struct {
		name    string
		body    []byte
		version uint16
		tls13   bool
		types   []uint8
		algs    []uint16
		cas     int
		exts    int
		errSub  string
	}{
		{name: "tls12", body: tls12, version: VersionTLS12, types: []uint8{1, 64}, algs: []uint16{0x0403, 0x0804}, cas: 1},
		{name: "tls12 guessed", body: tls12, types: []uint8{1, 64}, algs: []uint16{0x0403, 0x0804}, cas: 1},
		{name: "dtls12", body: tls12, version: VersionDTLS12, types: []uint8{1, 64}, algs: []uint16{0x0403, 0x0804}, cas: 1},
		{name: "tls11", body: tls11, version: VersionTLS11, types: []uint8{1}},
		{name: "ssl3 guessed", body: tls11, types: []uint8{1}},
		{name: "tls13", body: tls13, version: VersionTLS13, tls13: true, algs: []uint16{0x0804, 0x0403}, cas: 1, exts: 3},
		{name: "tls13 guessed", body: tls13, tls13: true, algs: []uint16{0x0804, 0x0403}, cas: 1, exts: 3},
		{name: "tls12 truncated CA", body: tls12[:len(tls12)-1], version: VersionTLS12, types: []uint8{1, 64}, algs: []uint16{0x0403, 0x0804},
			errSub: "CertificateRequest: certificate_authorities: length 6 exceeds remaining 5 at offset 9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseCertificateRequest(tc.body, tc.version)
			if (err == nil) != (tc.errSub == "") || (err != nil && err.Error() != tc.errSub) {
				t.Fatalf("error %v, want %q", err, tc.errSub)
			}
			if m.TLS13 != tc.tls13 || !slices.Equal(m.CertificateTypes, tc.types) || !slices.Equal(m.SignatureAlgorithms, tc.algs) ||
				(tc.errSub == "" && len(m.CertificateAuthorities) != tc.cas) || len(m.Extensions) != tc.exts {
				t.Errorf("%+v", m)
			}
		})
	}
}

func TestNewSessionTicketAndStatus(t *testing.T) {
	nst13 := []byte{0, 0, 0x1c, 0x20, 1, 2, 3, 4, 2, 0, 1, 0, 3, 9, 9, 9, 0, 8, 0, 42, 0, 4, 0, 0, 0x40, 0}
	m, err := ParseNewSessionTicket(nst13, true)
	if err != nil || m.LifetimeHint != 7200 || m.AgeAdd != 0x01020304 || !slices.Equal(m.Nonce, []byte{0, 1}) || m.TicketLength != 3 || m.EarlyDataMax != 0x4000 || len(m.Extensions) != 1 {
		t.Errorf("%+v %v", m, err)
	}
	m, err = ParseNewSessionTicket(nst13[:13], true)
	if err == nil || err.Error() != "NewSessionTicket: ticket: length 3 exceeds remaining 0 at offset 11" || m.AgeAdd != 0x01020304 {
		t.Errorf("%v", err)
	}
	m, err = ParseNewSessionTicket([]byte{0, 0, 0, 0, 0, 0}, false)
	if err != nil || m.TicketLength != 0 || m.TLS13 {
		t.Errorf("%+v %v", m, err)
	}

	st, err := ParseCertificateStatus([]byte{1, 0, 0, 3, 0x30, 1, 0})
	if err != nil || st.StatusType != 1 || st.ResponseLength != 3 || st.Responses != 1 {
		t.Errorf("%+v %v", st, err)
	}
	st, err = ParseCertificateStatus([]byte{2, 0, 0, 9, 0, 0, 2, 0x30, 0, 0, 0, 1, 0x30})
	if err != nil || st.StatusType != 2 || st.ResponseLength != 3 || st.Responses != 2 {
		t.Errorf("%+v %v", st, err)
	}
	if _, err = ParseCertificateStatus([]byte{7}); err == nil || !strings.Contains(err.Error(), "unknown status type 7") {
		t.Errorf("%v", err)
	}
}

// ---- fuzzing ----

// seeds collects real handshake messages from a few crypto/tls handshakes.
var (
	seedOnce sync.Once
	seedMsgs []hsMsg
)

func realMessages(t testing.TB) []hsMsg {
	seedOnce.Do(func() {
		rc, ec := certs(t)
		for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS12, tls.VersionTLS13} {
			for _, cert := range []tls.Certificate{rc, ec} {
				ccfg, scfg := configs(t, cert)
				ccfg.MaxVersion = v
				ccfg.MinVersion = v
				ccfg.NextProtos = []string{"h2"}
				ccfg.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
				scfg.CurvePreferences = []tls.CurveID{tls.CurveP256, tls.X25519}
				scfg.ClientAuth = tls.RequestClientCert
				cp := handshake(t, ccfg, scfg)
				seedMsgs = append(seedMsgs, cp.client...)
				seedMsgs = append(seedMsgs, cp.server...)
			}
		}
	})
	return seedMsgs
}

func addSeeds(f *testing.F, typ uint8) {
	for _, m := range realMessages(f) {
		if m.typ == typ {
			f.Add(m.body)
		}
	}
}

// checkErr asserts the parser contract: a message is always returned, and an
// error is always a *MessageError.
func checkErr(t *testing.T, msg any, err error) {
	if msg == nil {
		t.Fatal("nil message")
	}
	var me *MessageError
	if err != nil && !errors.As(err, &me) {
		t.Fatalf("error %v (%T) is not a *MessageError", err, err)
	}
}

func FuzzParseClientHello(f *testing.F) {
	addSeeds(f, TypeClientHello)
	f.Add(buildClientHello([]ext{extGREASE, extSNI, extPSK, extGroups}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseClientHello(b)
		checkErr(t, m, err)
		if len(m.KeyShares) != len(m.KeyShareGroups) {
			t.Fatal("KeyShares and KeyShareGroups disagree")
		}
	})
}

func FuzzParseServerHello(f *testing.F) {
	addSeeds(f, TypeServerHello)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseServerHello(b)
		checkErr(t, m, err)
		_ = m.NegotiatedVersion()
		_ = m.DowngradeSentinel()
	})
}

func FuzzParseCertificate(f *testing.F) {
	addSeeds(f, TypeCertificate)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, tls13 := range []bool{false, true} {
			m, err := ParseCertificate(b, tls13)
			checkErr(t, m, err)
		}
	})
}

func FuzzParseCertificateRequest(f *testing.F) {
	addSeeds(f, TypeCertificateRequest)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range []uint16{0, VersionSSL30, VersionTLS11, VersionTLS12, VersionTLS13, 0x7f17} {
			m, err := ParseCertificateRequest(b, v)
			checkErr(t, m, err)
		}
	})
}

func FuzzParseNewSessionTicket(f *testing.F) {
	addSeeds(f, TypeNewSessionTicket)
	f.Add([]byte{0, 0, 0x1c, 0x20, 1, 2, 3, 4, 2, 0, 1, 0, 3, 9, 9, 9, 0, 8, 0, 42, 0, 4, 0, 0, 0x40, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, tls13 := range []bool{false, true} {
			m, err := ParseNewSessionTicket(b, tls13)
			checkErr(t, m, err)
		}
		m, err := ParseCertificateStatus(b)
		checkErr(t, m, err)
		ee, err := ParseEncryptedExtensions(b)
		checkErr(t, ee, err)
	})
}

func TestParseEncryptedExtensions(t *testing.T) {
	tests := []struct {
		name      string
		body      []byte
		alpn      string
		earlyData bool
		wantErr   bool
	}{
		{"empty", []byte{0, 0}, "", false, false},
		{"alpn h2", []byte{0, 9, 0, 16, 0, 5, 0, 3, 2, 'h', '2'}, "h2", false, false},
		{"early data and sni ack", []byte{0, 8, 0, 42, 0, 0, 0, 0, 0, 0}, "", true, false},
		{"truncated", []byte{0, 9, 0, 16, 0, 5, 0, 3}, "", false, true},
	}
	for _, tt := range tests {
		m, err := ParseEncryptedExtensions(tt.body)
		if (err != nil) != tt.wantErr || m.ALPN != tt.alpn || m.EarlyData != tt.earlyData {
			t.Errorf("%s: alpn %q early %v err %v", tt.name, m.ALPN, m.EarlyData, err)
		}
	}
}

func TestServerHelloTLS13Draft(t *testing.T) {
	// draft-18 layout: version random cipher_suite extensions; key_share was 40.
	body := append(append([]byte{0x7f, 0x12}, make([]byte, 32)...), 0x13, 0x01, 0, 8, 0, 40, 0, 4, 0, 0x1d, 0, 0)
	m, err := ParseServerHello(body)
	if err != nil || m.NegotiatedVersion() != 0x7f12 || m.CipherSuite != 0x1301 || m.KeyShareGroup != 0x1d || len(m.SessionID) != 0 {
		t.Errorf("%+v %v", m, err)
	}
	if len(m.Anomalies) != 1 || !strings.Contains(m.Anomalies[0], "TLS 1.3 draft 18 layout") {
		t.Errorf("anomalies %q", m.Anomalies)
	}
}
