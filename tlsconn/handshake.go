package tlsconn

import (
	"bytes"
	"fmt"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/fingerprint"
	"github.com/tlsinspect/tlsinspect/iana"
	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// aeadAlertLen is the length of a TLS 1.3 record holding only an encrypted
// alert: 2 bytes of alert, 1 of inner content type, 16 of AEAD tag. A client
// record of any other length after the server's flight is its Finished.
const aeadAlertLen = 2 + 1 + 16

const maxHistory = 100

// handshake is the state of one handshake on a connection.
type handshake struct {
	s       *Summary
	emitted bool

	ch       *dissect.ClientHello
	sh       *dissect.ServerHello // the ServerHello that is not a HelloRetryRequest
	hrr      bool
	version  uint16
	kx       dissect.KeyExchange
	ccs      [2]bool
	finished [2]bool // an encrypted handshake record after ChangeCipherSpec
	enc13    [2]int  // TLS 1.3: encrypted records after ServerHello
	client13 bool    // TLS 1.3: client sent a record that is not an alert
	appData  [2]bool

	// TLS 1.3 client-certificate inference (inference.go): sizes of the
	// client's records after the server's first encrypted record, and the
	// verdict once the client's flight is known.
	flight13  []int
	inferred  *CertInference
	inferDone bool
	// reply13: sizes of the server's first records after the client's
	// flight was classified (at most two), which tell a refusal (one
	// alert-sized record, then the end) from a handshake that went on.
	reply13 []int

	serverCert   bool
	serverDone   bool
	certReq      bool
	clientCert   *bool
	certSkipped  bool    // the client's Certificate was too large to read
	lost         [2]bool // a side stopped being parsed (gap or error) during this handshake
	cke          bool
	noCertAlert  bool
	fatal        bool
	sslv2        bool
	closeReason  string
	history      []byte
	clientHellos int

	decrypt *decryption // TLS 1.3 with a key log (decrypt.go)
	parts12 []string    // TLS 1.0-1.2: what was decrypted (decrypt12.go)
	// earlyRecords: client records before the ServerHello (0-RTT data).
	earlyRecords int
	// DTLS: the server sent a HelloVerifyRequest, so the client's next
	// ClientHello repeats its offer with the cookie.
	helloVerify bool
	// QUIC: the client sent 1-RTT packets, so it completed the handshake
	// (udp.go).
	quicDone bool
}

func (h *handshake) warn(msg string) {
	for _, w := range h.s.Warnings {
		if w == msg {
			return
		}
	}
	h.s.Warnings = append(h.s.Warnings, msg)
}

func (h *handshake) mark(r role, letter byte) {
	if len(h.history) >= maxHistory {
		return
	}
	if r == server && 'A' <= letter && letter <= 'Z' {
		letter += 'a' - 'A' // the letters are ASCII: bytes.ToLower's result
	}
	h.history = append(h.history, letter)
}

// history letters follow Zeek's ssl_history: upper case from the client,
// lower case from the server; 0 for a type with none. An array, not a
// map: looked up for every message (a map was 2.5% of a handshake).
var historyLetter = [256]byte{
	dissect.TypeHelloRequest:        'H',
	dissect.TypeClientHello:         'C',
	dissect.TypeServerHello:         'S',
	dissect.TypeHelloVerifyRequest:  'V',
	dissect.TypeNewSessionTicket:    'T',
	dissect.TypeEndOfEarlyData:      'E',
	dissect.TypeEncryptedExtensions: 'O',
	dissect.TypeCertificate:         'X',
	dissect.TypeServerKeyExchange:   'K',
	dissect.TypeCertificateRequest:  'R',
	dissect.TypeServerHelloDone:     'N',
	dissect.TypeCertificateVerify:   'Y',
	dissect.TypeClientKeyExchange:   'G',
	dissect.TypeFinished:            'F',
	dissect.TypeCertificateURL:      'W',
	dissect.TypeCertificateStatus:   'U',
	dissect.TypeKeyUpdate:           'P',
	dissect.TypeMessageHash:         'M',
}

// established: both sides switched to encrypted data without a fatal alert.
func (h *handshake) established() bool {
	if h.fatal {
		return false
	}
	switch {
	case h.sslv2:
		return h.appData[client] && h.appData[server]
	case h.sh == nil:
		return false
	case h.s.Protocol == "quic":
		return h.quicDone
	case h.version == versionDTLS13:
		// Both sides switched to encrypted records (the client's first
		// is its Finished flight).
		return h.appData[client] && h.appData[server]
	case h.tls13():
		return h.enc13[server] > 0 && h.client13
	}
	return h.ccs[client] && h.ccs[server] && h.finished[client] && h.finished[server]
}

// encrypted reports whether role r has switched to encrypted records in a
// way that completes its part of the handshake.
func (h *handshake) encrypted(r role) bool {
	switch {
	case h.sslv2:
		return h.appData[r]
	case h.tls13() && r == server:
		// Followed until its answer to the client's flight is known.
		return h.enc13[server] > 0 && h.replyKnown()
	case h.tls13():
		// The client's part includes the flight the inference measures.
		return h.client13 && h.inferDone
	case h.sh != nil:
		return h.finished[r]
	}
	return false
}

func (h *handshake) tls13() bool {
	return h.sh != nil && isTLS13(h.version)
}

// isTLS13 is true for TLS 1.3 and its drafts (0x7fxx) and experiments
// (0x7exx, 0xfbxx), not for DTLS (0xfexx).
func isTLS13(v uint16) bool { return v >= 0x0304 && v>>8 != 0xfe }

// event handles one thing read from the stream of role r and, for the
// per-message view, lists it under the handshake it belongs to.
func (c *conn) event(r role, ev dissect.Event) {
	if c.rec12 != nil && !ev.Decrypted {
		if ev.Record != nil && c.open12(r, ev) {
			return
		}
		if ev.Kind == dissect.EventChangeCipherSpec {
			defer c.rec12.changeCipherSpec(r)
		}
	}
	if c.t.cfg.Messages && ev.Record != nil && c.hs != nil && !c.hs.emitted {
		// An encrypted record is listed before what decrypting it yields.
		c.logEvent(r, ev)
		c.handle(r, ev)
		return
	}
	if !c.handle(r, ev) || !c.t.cfg.Messages {
		return
	}
	c.logEvent(r, ev)
}

// handle handles ev; it returns false when ev belongs to no handshake (it
// came after the handshake was reported).
func (c *conn) handle(r role, ev dissect.Event) bool {
	if c.hs == nil || c.hs.emitted {
		if ev.Kind == dissect.EventHandshake && ev.HandshakeType == dissect.TypeHelloRequest && r == server && ev.Decrypted {
			c.helloRequest = true // a renegotiation asked for by the server
			return false
		}
		if ev.Kind == dissect.EventHandshake && ev.HandshakeType == dissect.TypeClientHello && r == client ||
			ev.Kind == dissect.EventSSLv2 && ev.HandshakeType == dissect.SSLv2ClientHello ||
			c.hs == nil {
			c.begin(c.ts)
		} else {
			return false
		}
	}
	h := c.hs
	switch ev.Kind {
	case dissect.EventHandshake:
		c.message(r, ev)
	case dissect.EventChangeCipherSpec:
		h.mark(r, 'I')
		h.ccs[r] = true
	case dissect.EventAlert:
		h.mark(r, 'L')
		a := Alert{From: r.String(), Level: alertLevel(ev.AlertLevel), Description: iana.AlertName(ev.AlertDescription)}
		h.s.Alerts = append(h.s.Alerts, a)
		if ev.AlertLevel == 2 {
			h.fatal = true
		}
		if r == client && ev.AlertDescription == 41 { // SSL 3.0 no_certificate
			h.noCertAlert = true
		}
	case dissect.EventEncryptedAlert:
		h.mark(r, 'L')
		h.s.Alerts = append(h.s.Alerts, Alert{From: r.String(), Level: "encrypted", Description: "encrypted"})
	case dissect.EventEncryptedHandshake:
		if !h.finished[r] {
			h.mark(r, 'F')
			h.finished[r] = true
		} else {
			// A side's Finished is its last handshake message in TLS <= 1.2.
			h.warn(r.String() + " sent an encrypted handshake message after the handshake (renegotiation or post-handshake message)")
		}
	case dissect.EventApplicationData:
		if ev.Decrypted {
			return true // the content of a record counted below
		}
		if h.tls13() {
			h.enc13[r]++
			if r == client && ev.RecordLength != aeadAlertLen && h.enc13[server] > 0 {
				h.client13 = true
			}
			if r == client && h.enc13[server] > 0 {
				h.clientRecord13(ev.RecordLength)
			}
			if r == server && h.inferDone && len(h.reply13) < 2 {
				h.reply13 = append(h.reply13, ev.RecordLength)
			}
			if h.enc13[r] == 1 {
				h.mark(r, 'D')
			}
			if h.decrypt != nil {
				// After the counting above: decrypting may end the handshake.
				c.decryptRecord(r, ev)
			}
			return true
		}
		if !h.appData[r] {
			h.mark(r, 'D')
		}
		h.appData[r] = true
		if h.sh == nil && r == client && h.ch != nil {
			// TLS 1.3 early data travels before the ServerHello.
			h.warn("client sent encrypted data before the ServerHello (0-RTT early data)")
			h.earlyRecords++
		}
	case dissect.EventHeartbeat:
		h.mark(r, 'B')
		h.warn(r.String() + " sent a heartbeat record")
	case dissect.EventSSLv2:
		c.sslv2(r, ev)
	case dissect.EventSkipped:
		h.mark(r, 'Z')
		h.warn(r.String() + " stream: " + ev.Err.Error())
		if r == client && ev.HandshakeType == dissect.TypeCertificate {
			h.certSkipped = true
		}
	case dissect.EventUnknownRecord:
		h.mark(r, 'Q')
		h.warn(fmt.Sprintf("%s sent a record of unknown content type %d", r, ev.RecordType))
	}
	return true
}

func alertLevel(l uint8) string {
	switch l {
	case 1:
		return "warning"
	case 2:
		return "fatal"
	}
	return fmt.Sprintf("0x%02x", l)
}

// message handles a plaintext handshake message.
func (c *conn) message(r role, ev dissect.Event) {
	h := c.hs
	typ := ev.HandshakeType
	letter := historyLetter[typ]
	if letter == 0 {
		letter = 'Z'
	}
	// where names the message in warnings; built only for one.
	where := func() string { return r.String() + " " + iana.HandshakeTypeName(typ) }
	switch {
	case typ == dissect.TypeClientHello && r == client:
		if h.ch != nil && (h.sh != nil || h.fatal) {
			// A new plaintext handshake on the same connection (after a
			// ServerHello or a fatal alert): report the previous one and
			// start another.
			c.finish()
			c.begin(c.ts)
			h = c.hs
		}
		if ev.Decrypted && h.ch == nil {
			// A ClientHello under the keys of an earlier handshake.
			h.s.Renegotiation = true
			if c.helloRequest {
				h.mark(server, 'H')
				c.helloRequest = false
			}
		}
		h.mark(r, 'C')
		parse := dissect.ParseClientHello
		if c.proto == "dtls" {
			parse = dissect.ParseDTLSClientHello
		}
		m, err := parse(ev.Body)
		c.clientHello(m, err)
		return
	case typ == dissect.TypeServerHello && r == server:
		m, err := dissect.ParseServerHello(ev.Body)
		if m != nil && m.IsHelloRetryRequest() {
			h.mark(r, 'J')
		} else {
			h.mark(r, 'S')
		}
		c.serverHello(m, err)
		return
	}
	h.mark(r, letter)
	if typ == dissect.TypeHelloVerifyRequest && r == server && c.proto == "dtls" {
		h.helloVerify = true
		if _, err := dissect.ParseHelloVerifyRequest(ev.Body); err != nil {
			h.warn(where() + ": " + err.Error())
		}
		return
	}
	if ev.Decrypted && !h.tls13() {
		h.decryptedMessage12(r, typ)
	} else if ev.Decrypted {
		defer c.decryptedMessage(r, typ)
	} else if h.tls13() && typ != dissect.TypeClientHello {
		// Plaintext handshake messages after a TLS 1.3 ServerHello are a
		// protocol violation; note it and carry on.
		h.warn(where() + " sent in plaintext after a TLS 1.3 ServerHello")
	}
	switch typ {
	case dissect.TypeEncryptedExtensions:
		m, err := dissect.ParseEncryptedExtensions(ev.Body)
		if err != nil {
			h.warn(where() + ": " + err.Error())
		}
		if m != nil && m.ALPN != "" {
			h.s.ALPN = ptr(m.ALPN)
		}
		if m != nil && h.ch != nil && h.ch.EarlyData {
			h.s.EarlyDataAccepted = ptr(m.EarlyData)
		}
		if m != nil && c.proto == "quic" {
			h.s.ServerTransportParameters = transportParameters(m.Extensions)
		}
	case dissect.TypeCompressedCert:
		m, err := dissect.ParseCompressedCertificate(ev.Body, c.t.cfg.MaxMessage)
		if err != nil {
			h.warn(where() + ": " + err.Error())
		}
		if m.Certificate == nil {
			if r == server {
				h.serverCert = true // sent, contents unknown
			}
			return
		}
		c.certificate(r, m.Certificate)
	case dissect.TypeCertificate:
		m, err := dissect.ParseCertificate(ev.Body, ev.Decrypted && h.tls13())
		if err != nil {
			h.warn(where() + ": " + err.Error())
		}
		if m == nil {
			return
		}
		c.certificate(r, m)
	case dissect.TypeServerKeyExchange:
		m, err := dissect.ParseServerKeyExchange(ev.Body, h.kx, h.version)
		if err != nil {
			h.warn(where() + ": " + err.Error())
		}
		if m != nil {
			if m.Group != 0 {
				h.s.Group = ptr(iana.GroupName(m.Group))
			}
			if m.DHPrimeBits > 0 {
				h.s.DHBits = m.DHPrimeBits
			}
			if m.HasSignature && m.SignatureScheme != 0 {
				h.s.ServerSignature = ptr(iana.SignatureSchemeName(m.SignatureScheme))
			}
		}
	case dissect.TypeCertificateRequest:
		h.certReq = true
		h.s.ClientCertRequest = c.t.certReqs.summary(ev.Body, h.version, func(err error) { h.warn(where() + ": " + err.Error()) })
	case dissect.TypeServerHelloDone:
		h.serverDone = true
	case dissect.TypeClientKeyExchange:
		h.cke = true
	case dissect.TypeNewSessionTicket:
		m, err := dissect.ParseNewSessionTicket(ev.Body, ev.Decrypted && h.tls13())
		if err != nil {
			h.warn(where() + ": " + err.Error())
		}
		if m != nil {
			h.s.TicketLifetime = ptr(m.LifetimeHint)
		}
	case dissect.TypeCertificateStatus:
		h.s.OCSPStapled = true
	}
}

// certificate takes a Certificate message's chain (a compressed one
// decompressed) for role r.
func (c *conn) certificate(r role, m *dissect.Certificate) {
	h := c.hs
	certs := make([]*certinfo.Certificate, 0, len(m.Certificates))
	for _, der := range m.Certificates {
		certs = append(certs, c.t.certs.Parse(der))
	}
	if r == server {
		h.serverCert = true
		h.s.ServerCertificates = certs
	} else {
		sent := len(certs) > 0
		h.clientCert = &sent
		h.s.ClientCertificates = certs
	}
}

func (c *conn) clientHello(m *dissect.ClientHello, err error) {
	h := c.hs
	h.clientHellos++
	if err != nil {
		h.warn("ClientHello: " + err.Error())
	}
	if m == nil {
		return
	}
	for _, a := range m.Anomalies {
		h.warn("ClientHello: " + a)
	}
	h.fingerprintClientHello(c.t.prints, m, err)
	switch {
	case h.ch == nil:
		// m's byte fields alias the stream's buffer, valid only during the
		// event; the session ID is compared when the handshake is summed up,
		// the random looked up in the key log at the ServerHello.
		m.SessionID, m.Random = clone2(m.SessionID, m.Random)
		h.ch = m
		h.s.TS = c.ts.UTC()
		fillClientHello(h.s, m, c.t.names)
		if c.proto == "quic" {
			h.s.ClientTransportParameters = transportParameters(m.Extensions)
		}
	case h.helloVerify && h.sh == nil:
		// DTLS: the ClientHello that answers the HelloVerifyRequest
		// repeats the offer with the cookie; the ServerHello answers it.
		h.helloVerify = false
		m.SessionID, m.Random = clone2(m.SessionID, m.Random)
		h.ch = m
	case h.hrr:
		// The second ClientHello answers the HelloRetryRequest; the offer is
		// reported from the first, the new key shares are added.
		h.s.ClientKeyShareGroups = c.t.names.names(kindGroupsNoGREASE, m.KeyShareGroups)
	default:
		h.warn("client sent another ClientHello before the server answered")
	}
}

// clone2 is bytes.Clone of a and of b, in one allocation.
func clone2(a, b []byte) ([]byte, []byte) {
	if a == nil || b == nil {
		return bytes.Clone(a), bytes.Clone(b)
	}
	buf := make([]byte, len(a)+len(b))
	copy(buf, a)
	copy(buf[len(a):], b)
	return buf[:len(a):len(a)], buf[len(a):]
}

// fingerprintClientHello records JA3 and JA4 of a ClientHello: the first
// one's in the top-level fields, every one's in ClientHellos once there are
// two (after a HelloRetryRequest). A hello that could not be read whole
// gets empty fingerprints; one with only a malformed extension body is
// still fingerprinted (fingerprint.Framed).
func (h *handshake) fingerprintClientHello(prints *fingerprint.Cache, m *dissect.ClientHello, err error) {
	var p HelloPrint
	if err == nil || !m.SSLv2 && fingerprint.Framed(m.Raw) {
		p.JA3, p.JA3String = prints.JA3(m)
		p.JA4, p.JA4R = prints.JA4(m, ja4Letter(h.s.Protocol))
	}
	s := h.s
	if h.clientHellos == 1 {
		s.JA3, s.JA3String, s.JA4, s.JA4R = p.JA3, p.JA3String, p.JA4, p.JA4R
		return
	}
	if len(s.ClientHellos) == 0 {
		s.ClientHellos = []HelloPrint{{JA3: s.JA3, JA3String: s.JA3String, JA4: s.JA4, JA4R: s.JA4R}}
	}
	s.ClientHellos = append(s.ClientHellos, p)
}

// clientValues holds what a Summary's pointer fields set from a
// ClientHello point to, so that they take one allocation.
type clientValues struct {
	sni, legacyVersion    string
	ticketLength, padding int
}

func fillClientHello(s *Summary, m *dissect.ClientHello, nl *nameLists) {
	v := &clientValues{sni: m.ServerName, legacyVersion: iana.VersionName(m.Version), ticketLength: len(m.SessionTicket), padding: m.PaddingLength}
	if m.ServerName != "" {
		s.SNI = &v.sni
	}
	if len(m.SupportedVersions) > 0 {
		s.ClientVersions = nl.names(kindVersions, m.SupportedVersions)
	} else {
		s.ClientVersions = []string{iana.VersionName(m.Version)}
	}
	s.ClientLegacyVersion = &v.legacyVersion
	s.ClientCipherSuites = nl.names(kindSuites, m.CipherSuites)
	s.ClientCompression = nl.names8(kindCompression, m.CompressionMethods)
	s.ClientALPN = append([]string{}, m.ALPN...)
	s.ClientExtensions = nl.extensionNames(m.Extensions)
	s.ClientGroups = nl.names(kindGroups, m.SupportedGroups)
	s.ClientKeyShareGroups = nl.names(kindGroups, m.KeyShareGroups)
	s.ClientSignatureAlgorithms = nl.names(kindSignatureSchemes, m.SignatureAlgorithms)
	s.ECH = m.ECH
	s.ClientSignatureAlgorithmsCert = nl.names(kindSignatureSchemes, m.SignatureAlgorithmsCert)
	s.ClientPointFormats = nl.names8(kindPointFormats, m.ECPointFormats)
	s.ClientPSKModes = nl.names8(kindPSKModes, m.PSKModes)
	s.ClientPSKIdentities = m.PSKIdentities
	if m.HasSessionTicket {
		s.ClientSessionTicketLength = &v.ticketLength
	}
	s.ClientSessionIDLength = len(m.SessionID)
	s.ClientRecordSizeLimit = int(m.RecordSizeLimit)
	s.ClientCompressCertificate = nl.names16(kindCertCompression, m.CompressCertificate)
	if m.PaddingLength >= 0 {
		s.ClientPaddingLength = &v.padding
	}
	s.ClientEarlyData = m.EarlyData
}

func (c *conn) serverHello(m *dissect.ServerHello, err error) {
	h := c.hs
	if err != nil {
		h.warn("ServerHello: " + err.Error())
	}
	if m == nil {
		return
	}
	for _, a := range m.Anomalies {
		h.warn("ServerHello: " + a)
	}
	if m.IsHelloRetryRequest() || isTLS13(m.NegotiatedVersion()) {
		c.sides[0].stream.SetTLS13()
		c.sides[1].stream.SetTLS13()
	}
	if m.IsHelloRetryRequest() {
		h.hrr = true
		h.s.HelloRetry = true
		if m.KeyShareGroup != 0 {
			h.s.HelloRetryGroup = ptr(iana.GroupName(m.KeyShareGroup))
		}
		return
	}
	if h.sh != nil {
		h.warn("server sent another ServerHello")
		return
	}
	if h.ch == nil {
		h.warn("ServerHello without a ClientHello in the capture: the client's offer is unknown")
		h.s.TS = c.ts.UTC()
	}
	m.SessionID = bytes.Clone(m.SessionID) // see clientHello
	h.sh = m
	h.version = m.NegotiatedVersion()
	s := h.s
	if err == nil {
		s.JA3S, s.JA3SString = c.t.prints.JA3S(m)
	}
	v := &serverValues{
		version: iana.VersionName(h.version), versionID: int(h.version),
		suite: iana.CipherSuiteName(m.CipherSuite), suiteID: int(m.CipherSuite),
		compression: iana.CompressionMethodName(m.CompressionMethod), alpn: m.ALPN,
	}
	s.Version = &v.version
	s.VersionID = &v.versionID
	s.CipherSuite = &v.suite
	s.CipherSuiteID = &v.suiteID
	s.Compression = &v.compression
	s.ServerExtensions = c.t.names.extensionNames(m.Extensions)
	if m.ALPN != "" {
		s.ALPN = &v.alpn
	}
	if h.tls13() {
		v.kx = "PSK"
		if m.KeyShareGroup != 0 {
			v.kx = groupKeyExchange(m.KeyShareGroup)
			if m.HasPreSharedKey {
				v.kx = "PSK-" + v.kx
			}
			v.group = iana.GroupName(m.KeyShareGroup)
			s.Group = &v.group
		}
		s.KeyExchange = &v.kx
		c.startDecryption()
		return
	}
	h.kx = dissect.KeyExchangeOf(m.CipherSuite)
	if h.kx != dissect.KeyExchangeUnknown {
		v.kx = h.kx.String()
		s.KeyExchange = &v.kx
	}
	c.prepareDecryption12()
}

// serverValues holds what a Summary's pointer fields set from a
// ServerHello point to, so that they take one allocation.
type serverValues struct {
	version, suite, compression, alpn, kx, group string
	versionID, suiteID                           int
}

// groupKeyExchange names the kind of key agreement a TLS 1.3 group does.
func groupKeyExchange(g uint16) string {
	switch {
	case g >= 256 && g <= 511: // RFC 7919 finite-field groups
		return "DHE"
	case g >= 0x0200 && g <= 0x0202: // pure ML-KEM
		return "ML-KEM"
	case g >= 4587 && g <= 4590, g == 4585, g == 4586, g == 25497, g == 25498: // hybrids
		return "ECDHE-MLKEM"
	}
	return "ECDHE"
}

// sslv2 handles SSLv2-format records.
func (c *conn) sslv2(r role, ev dissect.Event) {
	h := c.hs
	switch {
	case r == client && ev.HandshakeType == dissect.SSLv2ClientHello && h.ch == nil:
		h.mark(r, 'C')
		m, err := dissect.ParseSSLv2ClientHello(ev.Body)
		c.clientHello(m, err)
	case r == server && ev.HandshakeType == dissect.SSLv2ServerHello && h.sh == nil:
		h.mark(r, 'S')
		h.sslv2 = true
		h.version = 0x0002
		h.sh = &dissect.ServerHello{Version: 0x0002}
		h.s.Version = ptr(iana.VersionName(0x0002))
		h.s.VersionID = ptr(2)
	case h.sslv2:
		// After the hellos every SSLv2 message is encrypted.
		if !h.appData[r] {
			h.mark(r, 'D')
		}
		h.appData[r] = true
	}
}

func certRequest(m *dissect.CertificateRequest) *CertRequest {
	cr := &CertRequest{CertificateAuthorities: []string{}}
	for _, t := range m.CertificateTypes {
		cr.CertificateTypes = append(cr.CertificateTypes, iana.CertificateTypeName(t))
	}
	cr.SignatureAlgorithms = names(m.SignatureAlgorithms, iana.SignatureSchemeName, false)
	for _, dn := range m.CertificateAuthorities {
		cr.CertificateAuthorities = append(cr.CertificateAuthorities, certinfo.FormatName(dn))
	}
	return cr
}

// summarize decides the connection-level facts and returns the Summary.
func (h *handshake) summarize() *Summary {
	s := h.s
	if h.tls13() && h.decrypt == nil {
		h.refusal13()
	}
	s.History = string(h.history)
	s.Established = h.established()
	t, f := true, false
	switch {
	case h.sslv2:
		s.ClientCertRequested, s.ClientCertSent = nil, nil
	case h.sh == nil:
		// The server's answer was not seen: nothing is known.
	case h.tls13() && h.decrypt != nil && h.decrypt.finished[server]:
		// Decrypted: the server's whole flight was read, so whether it
		// asked for a certificate is known; the client's answer is known
		// once its flight was read too.
		s.Decrypted, s.DecryptedParts = true, h.decrypt.parts
		s.ClientCertRequested = ptr(h.certReq)
		switch {
		case h.clientCert != nil:
			s.ClientCertSent = h.clientCert
		case !h.certReq || h.decrypt.finished[client]:
			s.ClientCertSent = &f
		}
		s.Resumed = ptr(h.sh.HasPreSharedKey)
		if h.sh.HasPreSharedKey {
			s.Resumption = ptr("psk")
		}
	case h.tls13():
		// CertificateRequest and Certificate are encrypted in TLS 1.3:
		// ClientCertRequested/ClientCertSent stay unknown; the size-based
		// guess goes in its own field.
		if s.Protocol != "quic" { // QUIC has no records to measure
			s.ClientCertInferred = h.inference13()
		}
		s.Resumed = ptr(h.sh.HasPreSharedKey)
		if h.sh.HasPreSharedKey {
			s.Resumption = ptr("psk")
		}
	default:
		if len(h.parts12) > 0 {
			s.Decrypted, s.DecryptedParts = true, h.parts12
		}
		echoed := h.ch != nil && len(h.ch.SessionID) > 0 && bytes.Equal(h.ch.SessionID, h.sh.SessionID)
		abbreviated := h.ccs[server] && !h.serverCert && !h.cke && !h.serverDone
		resumed := echoed || abbreviated
		s.Resumed = &resumed
		if resumed {
			if h.ch != nil && len(h.ch.SessionTicket) > 0 {
				s.Resumption = ptr("ticket")
			} else {
				s.Resumption = ptr("session_id")
			}
		}
		// The server's flight is over once it said ServerHelloDone, once
		// it switched to encryption, or once the client answered it -- but
		// when server bytes were lost, a CertificateRequest may have been
		// among them.
		flightSeen := h.serverDone || h.ccs[server] || !h.lost[server] && (h.cke || h.ccs[client])
		switch {
		case h.certReq:
			s.ClientCertRequested = &t
		case flightSeen || resumed:
			s.ClientCertRequested = &f
		}
		switch {
		case h.clientCert != nil:
			s.ClientCertSent = h.clientCert
		case h.certSkipped:
			// Sent, but too large to read: unknown.
		case h.certReq && (h.cke || h.ccs[client] || h.noCertAlert):
			s.ClientCertSent = &f
		case !h.certReq && (flightSeen || resumed):
			s.ClientCertSent = &f
		}
	}
	switch {
	case s.Established || h.fatal || h.closeReason == "":
	case h.closeReason == tcpstream.CloseEndOfInput.String():
		// The capture ended (or was stopped) with the handshake under way.
		s.Warnings = append(s.Warnings, "handshake still in progress when the capture ended")
	case h.sh != nil:
		s.Warnings = append(s.Warnings, "connection ended ("+h.closeReason+") before the handshake completed")
	}
	if s.ClientVersions == nil {
		s.ClientVersions = []string{}
	}
	if s.ClientCipherSuites == nil {
		s.ClientCipherSuites = []string{}
	}
	if s.ClientALPN == nil {
		s.ClientALPN = []string{}
	}
	if s.ClientExtensions == nil {
		s.ClientExtensions = []string{}
	}
	if s.ServerCertificates == nil {
		s.ServerCertificates = []*certinfo.Certificate{}
	}
	if s.ClientCertificates == nil {
		s.ClientCertificates = []*certinfo.Certificate{}
	}
	if s.Alerts == nil {
		s.Alerts = []Alert{}
	}
	if s.Warnings == nil {
		s.Warnings = []string{}
	}
	if s.Findings == nil {
		s.Findings = []Finding{}
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// versionDTLS13 is DTLS 1.3's version number (RFC 9147).
const versionDTLS13 = 0xfefc

// ja4Letter is JA4's first character: the transport.
func ja4Letter(protocol string) byte {
	switch protocol {
	case "dtls":
		return 'd'
	case "quic":
		return 'q'
	}
	return 't'
}
