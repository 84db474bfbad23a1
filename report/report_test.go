package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"example.com", "example.com"},
		{"bücher.example", "bücher.example"},
		{"evil\x1b[2J.com", `evil\x1b[2J.com`},
		{"new\nline", `new\nline`[:3] + `\x0a` + "line"},
		{"tab\there", `tab\x09here`},
		{"del\x7f", `del\x7f`},
		{"c1\u0085", `c1\u0085`},
		{"rtl\u202eexe.com", `rtl\u202eexe.com`},
		{"bad\xffutf8", `bad\xffutf8`},
		{`back\slash`, `back\\slash`},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// hostile is a summary whose wire-derived strings try to reach the terminal.
func hostile() *tlsconn.Summary {
	return &tlsconn.Summary{
		TS: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Client: "[2001:db8:1234:5678:9abc:def0:1234:5678]:65535", Server: "[2001:db8::1]:443",
		SNI:     ptr("\x1b]0;pwned\x07very-long-hostname.subdomain.example.com"),
		Version: ptr("TLS 1.2"), VersionID: ptr(0x0303), KeyExchange: ptr("ECDHE"),
		CipherSuite: ptr("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"), ALPN: ptr("h2\r\nX-Injected: 1"),
		ClientCertRequested: ptr(true), ClientCertSent: ptr(false),
		ServerCertificates: []*certinfo.Certificate{{SubjectCN: "\x1b[31mred\x1b[0m", NotAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}},
		Alerts:             []tlsconn.Alert{{From: "client", Level: "fatal", Description: "certificate_required"}},
	}
}

func TestTableEscapesAndFits(t *testing.T) {
	var b bytes.Buffer
	tb := NewTable(&b)
	if err := tb.Write(hostile()); err != nil {
		t.Fatal(err)
	}
	if err := tb.Write(&tlsconn.Summary{Client: "10.0.0.1:1", Server: "10.0.0.2:443"}); err != nil {
		t.Fatal(err)
	}
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > 120 {
			t.Errorf("line of %d columns: %s", n, line)
		}
		for _, r := range line {
			if r < 0x20 || r == 0x7f || r == '\u202e' {
				t.Fatalf("control character %U reached the table:\n%s", r, out)
			}
		}
	}
	for _, want := range []string{`\x1b]0;pwned`, "certificate_", "req yes", "sent no", "(no SNI)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestTableEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := NewTable(&b).Close(); err != nil || b.Len() != 0 {
		t.Fatalf("empty table wrote %q, %v", b.String(), err)
	}
}

func TestJSONLinesFlushEachSummary(t *testing.T) {
	var b bytes.Buffer
	j := NewJSON(&b)
	if err := j.Write(hostile()); err != nil {
		t.Fatal(err)
	}
	// Written before Close: a reader sees each connection as it completes.
	if !strings.HasSuffix(b.String(), "}\n") || strings.Count(b.String(), "\n") != 1 {
		t.Fatalf("not flushed as one line: %q", b.String())
	}
	if strings.ContainsAny(b.String()[:b.Len()-1], "\x1b\x07\r\n") {
		t.Errorf("raw control characters in JSON: %q", b.String())
	}
	var back map[string]any
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back["sni"] != *hostile().SNI {
		t.Errorf("sni did not round-trip: %q", back["sni"])
	}
}

func TestNewFormats(t *testing.T) {
	for _, f := range append([]string{"jsonl", "md"}, Formats...) {
		if _, err := New(f, &bytes.Buffer{}); err != nil {
			t.Errorf("New(%q): %v", f, err)
		}
	}
	_, err := New("xml", &bytes.Buffer{})
	if err == nil {
		t.Fatal("New(xml) accepted")
	}
	for _, f := range Formats {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("New(xml) error %q does not list %s", err, f)
		}
	}
}

func TestWrapAndCut(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"short", 10, "short"},
		{"ECDHE_RSA_AES_128_GCM_SHA256", 20, "ECDHE_RSA_AES_128_\nGCM_SHA256"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 10, "aaaaaaaaaa\naaaaaaaaaa\naaaaaaaaa…"},
	}
	for _, tt := range tests {
		if got := wrap(tt.in, tt.width); got != tt.want {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
	if got := cut("héllo wörld", 6); got != "héllo…" {
		t.Errorf("cut = %q", got)
	}
}
