package dissect

import (
	"bytes"
)

// TLS is found by content, not by port: the client's first TLS bytes are a
// handshake record holding a ClientHello (or an SSLv2-compatible
// ClientHello), possibly after a plaintext preamble such as STARTTLS.

// FindClientHello returns the offset of the first plausible ClientHello
// record in b. When none is found it returns -1 and keep, the number of
// trailing bytes that could still begin one and must be kept for the next
// call.
func FindClientHello(b []byte) (off, keep int) { return scan(b, matchClientHello) }

// FindServerStart returns the offset of the first plausible server TLS
// record in b: a handshake record starting with ServerHello, a plaintext
// alert, or an SSLv2 ServerHello. keep is as for FindClientHello.
func FindServerStart(b []byte) (off, keep int) { return scan(b, matchServerStart) }

func scan(b []byte, m func([]byte) match) (off, keep int) {
	for i := 0; i < len(b); i++ {
		switch m(b[i:]) {
		case matchYes:
			return i, 0
		case matchMore:
			return -1, len(b) - i
		}
	}
	return -1, 0
}

type match uint8

const (
	matchNo match = iota
	matchYes
	matchMore
)

// matchClientHello checks a record header and the start of the message:
// 16 03 0x LL LL 01 LL LL LL 03 0x.
func matchClientHello(b []byte) match {
	if len(b) == 0 {
		return matchMore
	}
	if b[0]&0x80 != 0 {
		return matchSSLv2Hello(b, SSLv2ClientHello)
	}
	if b[0] != RecordHandshake {
		return matchNo
	}
	return matchPrefix(b, func(i int, c byte) bool {
		switch i {
		case 1, 9:
			return c == 3
		case 2, 10:
			return c <= 4
		case 4:
			n := int(b[3])<<8 | int(c)
			return n >= 4 && n <= maxCiphertext
		case 5:
			return c == TypeClientHello
		case 8:
			n := int(b[6])<<16 | int(b[7])<<8 | int(c)
			return n >= 38 && n <= DefaultMaxMessage
		}
		return true
	}, 11)
}

// matchServerStart: 16 03 0x LL LL 02 …, 15 03 0x 00 02 (alert), or SSLv2
// ServerHello.
func matchServerStart(b []byte) match {
	if len(b) == 0 {
		return matchMore
	}
	switch {
	case b[0]&0x80 != 0:
		return matchSSLv2Hello(b, SSLv2ServerHello)
	case b[0] == RecordHandshake:
		return matchPrefix(b, func(i int, c byte) bool {
			switch i {
			case 1:
				return c == 3
			case 2:
				return c <= 4
			case 3:
				return true
			case 4:
				n := int(b[3])<<8 | int(c)
				return n >= 4 && n <= maxCiphertext
			case 5:
				return c == TypeServerHello
			case 6:
				return c == 0
			case 9:
				return c == 3 || c == 0x7f || c == 0xfe
			}
			return true
		}, 10)
	case b[0] == RecordAlert:
		return matchPrefix(b, func(i int, c byte) bool {
			switch i {
			case 1:
				return c == 3
			case 2:
				return c <= 4
			case 3:
				return c == 0
			case 4:
				return c == 2
			case 5:
				return c == 1 || c == 2
			}
			return true
		}, 7)
	}
	return matchNo
}

func matchPrefix(b []byte, ok func(i int, c byte) bool, n int) match {
	for i := 1; i < n; i++ {
		if i >= len(b) {
			return matchMore
		}
		if !ok(i, b[i]) {
			return matchNo
		}
	}
	return matchYes
}

// matchSSLv2Hello: 2-byte header (high bit set), then the message type and
// a version 0x0002 or 0x03xx.
func matchSSLv2Hello(b []byte, typ uint8) match {
	if len(b) < 5 {
		return matchMore
	}
	n := int(b[0]&0x7f)<<8 | int(b[1])
	if b[2] != typ || n < 9 {
		return matchNo
	}
	if typ == SSLv2ServerHello {
		// session_id_hit(1) certificate_type(1) version(2)
		if len(b) < 7 {
			return matchMore
		}
		if (b[5] == 0 && b[6] == 2) || b[5] == 3 {
			return matchYes
		}
		return matchNo
	}
	if (b[3] == 0 && b[4] == 2) || (b[3] == 3 && b[4] <= 4) {
		return matchYes
	}
	return matchNo
}

// NotTLS names the protocol of a direction whose first bytes show that the
// connection will never carry TLS, so that it can be let go at once rather
// than searched up to the scan limit (where a ClientHello inside, say, an
// HTTP upload would be mistaken for the start of TLS). It returns "ssh" for
// an SSH identification string (RFC 4253 §4.2) and "http" for a complete
// HTTP/1 request head, or HTTP/2's prior-knowledge preface, except CONNECT
// (which tunnels TLS, see ClassifyPreamble) and a request with an Upgrade
// header (RFC 2817 upgrades to TLS in-band). It returns "" when the bytes do
// not tell, or not yet.
func NotTLS(first []byte) string {
	if len(first) < 5 || first[0] < 'A' || first[0] > 'Z' {
		return "" // the common case: a TLS record (0x16) or binary data
	}
	if bytes.HasPrefix(first, []byte("SSH-")) && first[4] >= '1' && first[4] <= '2' {
		return "ssh"
	}
	sp := bytes.IndexByte(first[:min(len(first), 16)], ' ')
	if sp < 3 {
		return ""
	}
	switch string(first[:sp]) {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "PRI",
		"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH":
	default:
		return "" // CONNECT, or not HTTP
	}
	end := bytes.Index(first, []byte("\r\n\r\n"))
	if end < 0 {
		return "" // the request head is not complete yet
	}
	head := first[:end]
	line := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		line = head[:i]
	}
	if !bytes.Contains(line, []byte(" HTTP/1.")) && !bytes.HasSuffix(line, []byte(" HTTP/2.0")) {
		return ""
	}
	if bytes.Contains(bytes.ToLower(head), []byte("\nupgrade:")) {
		return ""
	}
	return "http"
}

// ClassifyPreamble names the plaintext protocol that carried the client and
// server bytes seen before TLS started, or returns "" when it is not
// recognised. It only looks at the first bytes of each side.
func ClassifyPreamble(client, server []byte) string {
	c := client[:min(len(client), 512)]
	s := server[:min(len(server), 512)]
	upper := bytes.ToUpper(c)
	switch {
	case len(c) == 0 && len(s) == 0:
		return ""
	case bytes.HasPrefix(c, []byte("CONNECT ")):
		return "http-connect"
	case len(c) >= 8 && bytes.Equal(c[:8], []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}):
		return "postgresql"
	case len(c) >= 3 && c[0] == 4 && (c[1] == 1 || c[1] == 2):
		return "socks4"
	case len(c) >= 3 && c[0] == 5 && int(c[1]) >= 1 && len(c) >= 2+int(c[1]) && !isPrintable(c[:3]):
		return "socks5"
	case bytes.Contains(c, []byte("<starttls")):
		return "xmpp"
	case bytes.Contains(upper, []byte("AUTH TLS")) || bytes.Contains(upper, []byte("AUTH SSL")):
		return "ftp"
	case bytes.Contains(upper, []byte("STLS")) && !bytes.Contains(upper, []byte("STARTTLS")):
		return "pop3"
	case bytes.Contains(c, []byte{0x17, 0x31, 0x2e, 0x33, 0x2e, 0x36, 0x2e, 0x31, 0x2e, 0x34, 0x2e, 0x31, 0x2e, 0x31, 0x34, 0x36, 0x36, 0x2e, 0x32, 0x30, 0x30, 0x33, 0x37}) ||
		bytes.Contains(c, []byte("1.3.6.1.4.1.1466.20037")):
		return "ldap"
	case bytes.Contains(upper, []byte("STARTTLS")):
		switch {
		case bytes.HasPrefix(s, []byte("* OK")) || bytes.Contains(s, []byte("IMAP")) || isIMAPTagged(c):
			return "imap"
		case bytes.HasPrefix(s, []byte("220")) || bytes.Contains(upper, []byte("EHLO")) || bytes.Contains(upper, []byte("HELO")):
			return "smtp"
		case bytes.HasPrefix(s, []byte(":")) || bytes.Contains(upper, []byte("NICK")) || bytes.HasPrefix(upper, []byte("CAP ")):
			return "irc"
		}
		return "starttls"
	case isMySQLGreeting(s):
		return "mysql"
	}
	return ""
}

func isPrintable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// isIMAPTagged reports "tag STARTTLS" as IMAP sends it ("a001 STARTTLS").
func isIMAPTagged(c []byte) bool {
	for _, line := range bytes.Split(c, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) == 2 && bytes.EqualFold(f[1], []byte("STARTTLS")) {
			return true
		}
	}
	return false
}

// isMySQLGreeting matches the server's initial handshake packet: a 3-byte
// length, sequence 0, protocol version 10, then a NUL-terminated version.
func isMySQLGreeting(s []byte) bool {
	if len(s) < 6 || s[3] != 0 || s[4] != 10 {
		return false
	}
	n := int(s[0]) | int(s[1])<<8 | int(s[2])<<16
	return n > 10 && bytes.IndexByte(s[5:min(len(s), 5+64)], 0) > 0
}

// FindRecord returns the offset of the first place in b where TLS records
// can be read from: a plausible record header whose record is followed by
// another plausible header, or ends exactly at the end of b. It picks up a
// direction whose first records were not captured. When nothing is found
// it returns -1 and the number of trailing bytes to keep.
func FindRecord(b []byte) (off, keep int) {
	for i := 0; i+5 <= len(b); i++ {
		n, ok := plausibleRecord(b[i:])
		if !ok {
			continue
		}
		end := i + 5 + n
		switch {
		case end == len(b):
			return i, 0
		case end+5 <= len(b):
			if _, ok := plausibleRecord(b[end:]); ok {
				return i, 0
			}
		default:
			return -1, len(b) - i
		}
	}
	return -1, min(len(b), 4)
}

// plausibleRecord checks a record header (and, for a handshake record, the
// message header after it) and returns the fragment length.
func plausibleRecord(b []byte) (int, bool) {
	if len(b) < 5 || b[1] != 3 || b[2] > 4 {
		return 0, false
	}
	n := int(b[3])<<8 | int(b[4])
	switch b[0] {
	case RecordChangeCipherSpec:
		return n, n == 1
	case RecordAlert:
		return n, n >= 2 && n <= maxCiphertext
	case RecordApplicationData:
		return n, n > 0 && n <= maxCiphertext
	case RecordHandshake:
		if n < 4 || n > maxCiphertext {
			return 0, false
		}
		if len(b) >= 6 {
			if _, known := knownHandshakeTypes[b[5]]; !known {
				return 0, false
			}
		}
		return n, true
	}
	return 0, false
}

var knownHandshakeTypes = map[uint8]struct{}{
	TypeHelloRequest: {}, TypeClientHello: {}, TypeServerHello: {}, TypeNewSessionTicket: {},
	TypeCertificate: {}, TypeServerKeyExchange: {}, TypeCertificateRequest: {}, TypeServerHelloDone: {},
	TypeCertificateVerify: {}, TypeClientKeyExchange: {}, TypeFinished: {}, TypeCertificateStatus: {},
}
