package dissect

import (
	"bytes"
	"testing"
)

func TestFindClientHello(t *testing.T) {
	ch := record(RecordHandshake, message(TypeClientHello, append([]byte{3, 3}, make([]byte, 60)...)))
	sslv2 := []byte{0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15}
	tests := []struct {
		name     string
		in       []byte
		off      int
		keepSome bool
	}{
		{"at start", ch, 0, false},
		{"after SMTP STARTTLS", append([]byte("EHLO x\r\nSTARTTLS\r\n"), ch...), 18, false},
		{"sslv2 compatible", sslv2, 0, false},
		{"http request", []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), -1, false},
		{"header cut short", ch[:7], -1, true},
		{"server hello is not a client hello", record(RecordHandshake, message(TypeServerHello, append([]byte{3, 3}, make([]byte, 60)...))), -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			off, keep := FindClientHello(tt.in)
			if off != tt.off {
				t.Errorf("offset = %d, want %d", off, tt.off)
			}
			if (keep > 0) != tt.keepSome {
				t.Errorf("keep = %d, want keep>0 %v", keep, tt.keepSome)
			}
		})
	}
}

func TestFindServerStart(t *testing.T) {
	sh := record(RecordHandshake, message(TypeServerHello, append([]byte{3, 3}, make([]byte, 60)...)))
	tests := []struct {
		name string
		in   []byte
		off  int
	}{
		{"server hello", sh, 0},
		{"after postgres S", append([]byte("S"), sh...), 1},
		{"alert", record(RecordAlert, []byte{2, 40}), 0},
		{"sslv2 server hello", []byte{0x81, 0x20, 0x04, 0x00, 0x01, 0x00, 0x02}, 0},
		{"smtp banner only", []byte("220 mail.example.com ESMTP\r\n"), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if off, _ := FindServerStart(tt.in); off != tt.off {
				t.Errorf("offset = %d, want %d", off, tt.off)
			}
		})
	}
}

func TestClassifyPreamble(t *testing.T) {
	tests := []struct{ client, server, want string }{
		{"EHLO client\r\nSTARTTLS\r\n", "220 mx ESMTP\r\n250-STARTTLS\r\n220 go ahead\r\n", "smtp"},
		{"a001 STARTTLS\r\n", "* OK IMAP4rev1\r\na001 OK\r\n", "imap"},
		{"STLS\r\n", "+OK POP3\r\n+OK\r\n", "pop3"},
		{"AUTH TLS\r\n", "220 FTP\r\n234 AUTH TLS ok\r\n", "ftp"},
		{"<?xml version='1.0'?><stream:stream><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "<proceed/>", "xmpp"},
		{"\x00\x00\x00\x08\x04\xd2\x16\x2f", "S", "postgresql"},
		{"CONNECT example.com:443 HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n", "http-connect"},
		{"\x04\x01\x01\xbb\x5d\xb8\xd8\x22user\x00", "\x00\x5a\x00\x00\x00\x00\x00\x00", "socks4"},
		{"\x05\x01\x00\x05\x01\x00\x03\x0bexample.com\x01\xbb", "\x05\x00\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00", "socks5"},
		{"CAP LS\r\nNICK a\r\nSTARTTLS\r\n", ":irc.example.net 670 a :STARTTLS successful\r\n", "irc"},
		{"0\x1d\x02\x01\x01w\x18\x80\x161.3.6.1.4.1.1466.20037", "0\x0c\x02\x01\x01x\x07\x0a\x01\x00\x04\x00\x04\x00", "ldap"},
		{"", "", ""},
		{"hello", "world", ""},
	}
	for _, tt := range tests {
		if got := ClassifyPreamble([]byte(tt.client), []byte(tt.server)); got != tt.want {
			t.Errorf("ClassifyPreamble(%q, %q) = %q, want %q", tt.client, tt.server, got, tt.want)
		}
	}
	mysql := append([]byte{0x4a, 0, 0, 0, 10}, []byte("8.0.36\x00")...)
	mysql = append(mysql, bytes.Repeat([]byte{1}, 60)...)
	if got := ClassifyPreamble([]byte{0x20, 0, 0, 1}, mysql); got != "mysql" {
		t.Errorf("mysql greeting classified as %q", got)
	}
}

func FuzzFindClientHello(f *testing.F) {
	f.Add([]byte("EHLO x\r\nSTARTTLS\r\n\x16\x03\x01\x00\x40\x01\x00\x00\x3c\x03\x03"))
	f.Add([]byte{0x80, 0x2e, 0x01, 0x03, 0x01})
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Add([]byte("SSH-2.0-x\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		off, keep := FindClientHello(b)
		if off >= len(b) || keep > len(b) || (off >= 0 && keep != 0) {
			t.Fatalf("off=%d keep=%d len=%d", off, keep, len(b))
		}
		off, keep = FindServerStart(b)
		if off >= len(b) || keep > len(b) {
			t.Fatalf("server off=%d keep=%d len=%d", off, keep, len(b))
		}
		off, keep = FindRecord(b)
		if off >= len(b) || keep > len(b) || (off >= 0 && keep != 0) {
			t.Fatalf("record off=%d keep=%d len=%d", off, keep, len(b))
		}
		_ = ClassifyPreamble(b, b)
		// A direction that starts with a ClientHello is never let go as plain text.
		if p := NotTLS(b); p != "" {
			if off, _ := FindClientHello(b); off == 0 {
				t.Fatalf("NotTLS = %q for bytes starting with a ClientHello", p)
			}
		}
	})
}

// TestNotTLS: the first bytes of SSH and plain HTTP let a connection go at
// once; HTTP that may still turn into TLS (CONNECT, Upgrade) and anything
// unsure does not.
func TestNotTLS(t *testing.T) {
	ch := record(RecordHandshake, message(TypeClientHello, append([]byte{3, 3}, make([]byte, 60)...)))
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"TLS", string(ch), ""},
		{"SSH client", "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n", "ssh"},
		{"SSH 1.99 server", "SSH-1.99-Cisco-1.25\r\n", "ssh"},
		{"SSH lookalike", "SSH-X", ""},
		{"HTTP GET", "GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n", "http"},
		{"HTTP POST with body", "POST /upload HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello", "http"},
		{"HTTP/2 prior knowledge", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "http"},
		{"request head not complete yet", "GET / HTTP/1.1\r\nHost: a\r\n", ""},
		{"CONNECT tunnels TLS", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", ""},
		{"RFC 2817 upgrade", "OPTIONS * HTTP/1.1\r\nHost: a\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n", ""},
		{"SMTP", "EHLO mail.example\r\nSTARTTLS\r\n", ""},
		{"word then space", "GETX / HTTP/1.1\r\n\r\n", ""},
		{"not HTTP/1", "GET / FOO\r\n\r\n", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		if got := NotTLS([]byte(tt.in)); got != tt.want {
			t.Errorf("%s: NotTLS = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFindRecord(t *testing.T) {
	ccs := record(RecordChangeCipherSpec, []byte{1})
	fin := record(RecordHandshake, make([]byte, 40)) // encrypted Finished: opaque bytes
	cke := record(RecordHandshake, message(TypeClientKeyExchange, make([]byte, 33)))
	app := record(RecordApplicationData, make([]byte, 100))
	tests := []struct {
		name string
		in   []byte
		off  int
	}{
		{"tail of a lost record, then CKE and CCS", append([]byte{0x41, 0x42, 0x43}, append(cke, ccs...)...), 3},
		{"one whole record", app, 0},
		{"ccs then finished", append(ccs, fin...), 0},
		{"plain text", []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), -1},
		{"header of a record cut short", app[:20], -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if off, _ := FindRecord(tt.in); off != tt.off {
				t.Errorf("offset = %d, want %d", off, tt.off)
			}
		})
	}
	if _, keep := FindRecord(app[:20]); keep != 20 {
		t.Errorf("keep = %d for a record cut short, want 20", keep)
	}
}
