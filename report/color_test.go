package report

import (
	"bytes"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

func TestColorModeEnabled(t *testing.T) {
	tests := []struct {
		mode     ColorMode
		noColor  string
		term     string
		terminal bool
		want     bool
	}{
		{"", "", "xterm", true, true}, // zero value is auto
		{"auto", "", "xterm", true, true},
		{"auto", "", "xterm", false, false}, // not a terminal
		{"auto", "1", "xterm", true, false}, // NO_COLOR set
		{"auto", "0", "xterm", true, false}, // any non-empty value disables
		{"auto", "", "dumb", true, false},
		{"always", "1", "dumb", false, true}, // always overrides NO_COLOR
		{"never", "", "xterm", true, false},
	}
	for _, tt := range tests {
		env := map[string]string{"NO_COLOR": tt.noColor, "TERM": tt.term}
		if got := tt.mode.enabled(func(k string) string { return env[k] }, tt.terminal); got != tt.want {
			t.Errorf("%q NO_COLOR=%q TERM=%q terminal=%v: got %v, want %v", tt.mode, tt.noColor, tt.term, tt.terminal, got, tt.want)
		}
	}
}

func TestColorModeWriters(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	auto, always := ColorMode("auto"), ColorMode("always")
	for name, w := range map[string]io.Writer{"buffer": &bytes.Buffer{}, "pipe": w} {
		if auto.Enabled(w) {
			t.Errorf("auto colours a %s", name)
		}
		if !always.Enabled(w) {
			t.Errorf("always does not colour a %s", name)
		}
	}
}

func TestColorModeSet(t *testing.T) {
	var m ColorMode
	if m.String() != "auto" {
		t.Errorf("zero ColorMode = %q, want auto", m.String())
	}
	for _, v := range []string{"auto", "always", "never"} {
		if err := m.Set(v); err != nil || m.String() != v {
			t.Errorf("Set(%q): %v, now %q", v, err, m.String())
		}
	}
	for _, v := range []string{"", "yes", "ALWAYS", "true"} {
		if err := m.Set(v); err == nil {
			t.Errorf("Set(%q) accepted", v)
		}
	}
}

var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func stripSGR(s string) string { return sgr.ReplaceAllString(s, "") }

// colourful returns summaries that exercise every colour and the hostile
// strings of TestTableEscapesAndFits.
func colourful() []*tlsconn.Summary {
	ts := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	return []*tlsconn.Summary{
		hostile(),
		{TS: ts, Client: "10.0.0.1:1000", Server: "10.0.0.2:443", SNI: ptr("old.example"),
			Version: ptr("SSL 3.0"), VersionID: ptr(0x0300), KeyExchange: ptr("RSA"),
			CipherSuite: ptr("TLS_RSA_EXPORT_WITH_RC4_40_MD5"), Established: true,
			ServerCertificates: []*certinfo.Certificate{{SubjectCN: "old.example", NotAfter: ts.AddDate(-1, 0, 0)}}},
		{TS: ts, Client: "10.0.0.1:1001", Server: "10.0.0.2:443", SNI: ptr("tls10.example"), ALPN: ptr("http/1.1"),
			Version: ptr("TLS 1.0"), VersionID: ptr(0x0301), KeyExchange: ptr("ECDHE"),
			CipherSuite: ptr("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"), Established: true, Resumed: ptr(true)},
		{TS: ts, Client: "10.0.0.1:1002", Server: "10.0.0.2:443", SNI: ptr("bücher.example"),
			Version: ptr("TLS 1.3"), VersionID: ptr(0x0304), CipherSuite: ptr("TLS_AES_128_GCM_SHA256"), HelloRetry: true},
	}
}

// TestColorKeepsAlignment proves that colour only adds SGR sequences: with
// them stripped, the coloured table is byte for byte the plain one.
func TestColorKeepsAlignment(t *testing.T) {
	render := func(color bool) string {
		var b bytes.Buffer
		tb := NewColorTable(&b, color)
		for _, s := range colourful() {
			if err := tb.Write(s); err != nil {
				t.Fatal(err)
			}
		}
		if err := tb.Close(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	plain, coloured := render(false), render(true)
	if strings.Contains(plain, "\x1b") {
		t.Fatalf("uncoloured table has an escape:\n%s", plain)
	}
	for _, code := range []string{sgrRed, sgrYellow, sgrGreen, sgrReset} {
		if !strings.Contains(coloured, code) {
			t.Errorf("coloured table lacks %q", code)
		}
	}
	if got := stripSGR(coloured); got != plain {
		t.Errorf("coloured table, stripped, differs from the plain one:\nplain:\n%s\nstripped:\n%s", plain, got)
	}
	for _, line := range strings.Split(coloured, "\n") {
		vis := stripSGR(line)
		if n := utf8.RuneCountInString(vis); n > 120 {
			t.Errorf("line of %d columns: %s", n, vis)
		}
		if strings.ContainsRune(vis, 0x1b) {
			t.Errorf("escape other than our SGR colour codes: %q", line)
		}
	}
}

func TestColorRules(t *testing.T) {
	ts := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	leaf := func(notAfter time.Time) []*certinfo.Certificate {
		return []*certinfo.Certificate{{SubjectCN: "a.example", NotAfter: notAfter}}
	}
	fatal := []tlsconn.Alert{{From: "server", Level: "fatal", Description: "handshake_failure"}}
	tests := []struct {
		name string
		s    tlsconn.Summary
		col  int    // cell index in the row
		text string // text in that cell
		sgr  string // its colour, "" for none
	}{
		{"ssl2", tlsconn.Summary{Version: ptr("SSL 2.0"), VersionID: ptr(0x0002)}, 2, "SSL 2.0", sgrRed},
		{"ssl3", tlsconn.Summary{Version: ptr("SSL 3.0"), VersionID: ptr(0x0300)}, 2, "SSL 3.0", sgrRed},
		{"tls10", tlsconn.Summary{Version: ptr("TLS 1.0"), VersionID: ptr(0x0301)}, 2, "TLS 1.0", sgrYellow},
		{"tls11", tlsconn.Summary{Version: ptr("TLS 1.1"), VersionID: ptr(0x0302)}, 2, "TLS 1.1", sgrYellow},
		{"tls12", tlsconn.Summary{Version: ptr("TLS 1.2"), VersionID: ptr(0x0303)}, 2, "TLS 1.2", ""},
		{"tls13", tlsconn.Summary{Version: ptr("TLS 1.3"), VersionID: ptr(0x0304)}, 2, "TLS 1.3", ""},
		{"version from findings", tlsconn.Summary{Version: ptr("0x0302"), Findings: []tlsconn.Finding{{ID: "version-tls11", Severity: "medium"}}}, 2, "0x0302", sgrYellow},
		{"rc4", tlsconn.Summary{CipherSuite: ptr("TLS_RSA_WITH_RC4_128_SHA")}, 2, "RSA_RC4_128_SHA", sgrRed},
		{"null", tlsconn.Summary{CipherSuite: ptr("TLS_RSA_WITH_NULL_SHA")}, 2, "RSA_NULL_SHA", sgrRed},
		{"export", tlsconn.Summary{CipherSuite: ptr("TLS_RSA_EXPORT_WITH_DES40_CBC_SHA")}, 2, "RSA_EXPORT_DES40_", sgrRed},
		{"anon", tlsconn.Summary{CipherSuite: ptr("TLS_DH_anon_WITH_AES_128_CBC_SHA")}, 2, "DH_anon_AES_128_", sgrRed},
		{"des", tlsconn.Summary{CipherSuite: ptr("TLS_RSA_WITH_DES_CBC_SHA")}, 2, "RSA_DES_CBC_SHA", sgrRed},
		{"3des", tlsconn.Summary{CipherSuite: ptr("TLS_RSA_WITH_3DES_EDE_CBC_SHA")}, 2, "RSA_3DES_EDE_CBC_", sgrYellow},
		{"aes gcm", tlsconn.Summary{CipherSuite: ptr("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")}, 2, "ECDHE_RSA_AES_128_", ""},
		{"DES in a name is not single DES", tlsconn.Summary{CipherSuite: ptr("TLS_AES_128_GCM_SHA256")}, 2, "AES_128_GCM_SHA256", ""},
		{"suite from findings", tlsconn.Summary{CipherSuite: ptr("0xff01"), Findings: []tlsconn.Finding{{ID: "suite-rc4", Severity: "high"}}}, 2, "0xff01", sgrRed},
		{"not recommended is not coloured", tlsconn.Summary{CipherSuite: ptr("TLS_RSA_WITH_AES_128_CBC_SHA"), Findings: []tlsconn.Finding{{ID: "suite-not-recommended", Severity: "low"}}}, 2, "RSA_AES_128_CBC_SHA", ""},
		{"expired at the handshake", tlsconn.Summary{TS: ts, ServerCertificates: leaf(ts.Add(-time.Hour))}, 4, "a.example", sgrRed},
		// Expired by the wall clock but valid when captured: not coloured.
		{"valid at the handshake", tlsconn.Summary{TS: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), ServerCertificates: leaf(time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC))}, 4, "a.example", ""},
		{"expired intermediate from findings", tlsconn.Summary{TS: ts, ServerCertificates: leaf(ts.AddDate(1, 0, 0)), Findings: []tlsconn.Finding{{ID: "cert-expired", Severity: "medium"}}}, 4, "a.example", sgrRed},
		{"established", tlsconn.Summary{Established: true}, 5, "established", sgrGreen},
		{"incomplete", tlsconn.Summary{}, 5, "incomplete", sgrRed},
		{"fatal alert", tlsconn.Summary{Alerts: fatal}, 5, "handshake_", sgrRed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.s.TS.IsZero() {
				tt.s.TS = ts
			}
			cell := row(&tt.s, true)[tt.col]
			if tt.sgr == "" {
				if strings.Contains(cell, "\x1b") || !strings.Contains(cell, tt.text) {
					t.Errorf("cell %q: want %q uncoloured", cell, tt.text)
				}
			} else if !strings.Contains(cell, tt.sgr+tt.text) {
				t.Errorf("cell %q: want %q in %q", cell, tt.text, tt.sgr)
			}
			if plain := row(&tt.s, false)[tt.col]; plain != stripSGR(cell) || plain != Row(&tt.s)[tt.col] {
				t.Errorf("uncoloured cell %q differs from stripped %q", plain, stripSGR(cell))
			}
		})
	}
}

// TestPaintPerLine checks that every line of a cell is closed with a reset,
// so that no colour reaches the table's borders.
func TestPaintPerLine(t *testing.T) {
	tests := []struct {
		on   bool
		l    level
		in   string
		want string
	}{
		{true, bad, "a\nb", sgrRed + "a" + sgrReset + "\n" + sgrRed + "b" + sgrReset},
		{true, warn, "a\n\nb", sgrYellow + "a" + sgrReset + "\n\n" + sgrYellow + "b" + sgrReset},
		{true, good, "", ""},
		{true, plain, "a", "a"},
		{false, bad, "a\nb", "a\nb"},
	}
	for _, tt := range tests {
		if got := paint(tt.on, tt.l, tt.in); got != tt.want {
			t.Errorf("paint(%v, %d, %q) = %q, want %q", tt.on, tt.l, tt.in, got, tt.want)
		}
	}
}
