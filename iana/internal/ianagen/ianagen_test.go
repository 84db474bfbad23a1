package ianagen

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseValues(t *testing.T) {
	tests := []struct {
		cell  string
		pair  bool
		bits  int
		first uint16
		last  uint16
		n     int
	}{
		{"10", false, 16, 10, 10, 1},
		{"42-255", false, 16, 42, 255, 214},
		{"0x0807", false, 16, 0x0807, 0x0807, 1},
		{"0x0000-0x0200", false, 16, 0, 0x0200, 0x201},
		{"0x0404-0x041F", false, 16, 0x0404, 0x041f, 28},
		{"65282-65535", false, 16, 65282, 65535, 254},
		{"248-255", false, 8, 248, 255, 8},
		{"010", false, 8, 10, 10, 1}, // decimal, never octal
		{`0x13,0x01`, true, 16, 0x1301, 0x1301, 1},
		{`0x00,0x60-66`, true, 16, 0x0060, 0x0066, 7},
		{`0xFE,0xFE-FF`, true, 16, 0xfefe, 0xfeff, 2},
		{`0x01-09,*`, true, 16, 0x0100, 0x09ff, 9 * 256},
		{`0xCB,*`, true, 16, 0xcb00, 0xcbff, 256},
		{` 0xC0,0x2F `, true, 16, 0xc02f, 0xc02f, 1},
	}
	for _, tt := range tests {
		got, err := parseValues(tt.cell, tt.pair, tt.bits)
		if err != nil {
			t.Errorf("parseValues(%q): %v", tt.cell, err)
			continue
		}
		if len(got) != tt.n || got[0] != tt.first || got[len(got)-1] != tt.last || !slices.IsSorted(got) {
			t.Errorf("parseValues(%q) = %d values 0x%04x..0x%04x, want %d values 0x%04x..0x%04x",
				tt.cell, len(got), got[0], got[len(got)-1], tt.n, tt.first, tt.last)
		}
	}
}

func TestParseValuesErrors(t *testing.T) {
	tests := []struct {
		cell string
		pair bool
		bits int
	}{
		{"", false, 16},
		{"256", false, 8},    // does not fit a uint8 registry
		{"65536", false, 16}, // does not fit a uint16 registry
		{"20-10", false, 16}, // backwards
		{"0x1301", true, 16}, // two-byte registry needs a comma
		{"0x13,0x100", true, 16},
		{"TBD", false, 16},
		{"*,0x01", true, 16},
	}
	for _, tt := range tests {
		if got, err := parseValues(tt.cell, tt.pair, tt.bits); err == nil {
			t.Errorf("parseValues(%q) = %v, want error", tt.cell, got)
		}
	}
}

func TestCleanName(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"server_name", "server_name", true},
		{`supported_groups (renamed from "elliptic_curves")`, "supported_groups", true},
		{"X25519Kyber768Draft00 (OBSOLETE)", "X25519Kyber768Draft00", true},
		{"connection_id (deprecated)", "connection_id", true},
		{"hello_request_RESERVED", "hello_request_RESERVED", true},
		{"Unassigned", "", false},
		{"Unassigned (Requires coordination; see [RFC9443])", "", false},
		{"Reserved", "", false},
		{"Reserved for Private Use", "", false},
		{"Reserved to avoid conflicts with\nwidely deployed implementations", "", false},
		{"", "", false},
		{"  ", "", false},
	}
	for _, tt := range tests {
		got, ok := cleanName(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("cleanName(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// minimal returns a CSV set where every registry has one row, with the
// given content replacing the cipher-suite file.
func minimal(cipherCSV string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, r := range registries {
		body := "Value," + r.nameCol + ",Recommended\r\n1,x,Y\r\n"
		fsys[r.file] = &fstest.MapFile{Data: []byte(body)}
	}
	fsys["tls-parameters-4.csv"] = &fstest.MapFile{Data: []byte(cipherCSV)}
	return fsys
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name    string
		csv     string
		wantErr string
	}{
		{"missing name column", "Value,Name,Recommended\r\n\"0x13,0x01\",A,Y\r\n", `no "Description" column`},
		{"missing Recommended", "Value,Description\r\n\"0x13,0x01\",A\r\n", "no Recommended column"},
		{"overlap", "Value,Description,Recommended\r\n\"0x13,0x00-02\",Unassigned,\r\n\"0x13,0x01\",A,Y\r\n", "listed twice"},
		{"bad Recommended", "Value,Description,Recommended\r\n\"0x13,0x01\",A,maybe\r\n", "Recommended"},
		{"spaces in name", "Value,Description,Recommended\r\n\"0x13,0x01\",A B,Y\r\n", "has spaces"},
		{"bad value", "Value,Description,Recommended\r\nTBD,A,Y\r\n", "TBD"},
	}
	for _, tt := range tests {
		_, err := Generate(minimal(tt.csv))
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: err = %v, want containing %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestGenerateOutput(t *testing.T) {
	csv := "Value,Description,DTLS-OK,Recommended,Reference,Comment\r\n" +
		"\"0x13,0x02\",TLS_AES_256_GCM_SHA384,Y,Y,[RFC8446],\r\n" +
		"\"0x13,0x01\",TLS_AES_128_GCM_SHA256,Y,Y,[RFC8446],\r\n" +
		"\"0x0A,0x0A\",Reserved,Y,N,[RFC8701],\r\n" +
		"\"0x00,0x60-66\",\"Reserved to avoid conflicts with\nwidely deployed implementations\",,,[Pasi_Eronen],\r\n"
	src, err := Generate(minimal(csv))
	if err != nil {
		t.Fatal(err)
	}
	out := string(src)
	if !strings.HasPrefix(out, Header+"\n") {
		t.Errorf("output does not start with the generated-code header")
	}
	// Sorted by value although the CSV rows were not; Reserved rows dropped.
	i1 := strings.Index(out, "case 0x1301:\n\t\treturn \"TLS_AES_128_GCM_SHA256\"")
	i2 := strings.Index(out, "case 0x1302:\n\t\treturn \"TLS_AES_256_GCM_SHA384\"")
	if i1 < 0 || i2 < 0 || i1 > i2 {
		t.Errorf("cipher cases missing or unsorted:\n%s", out)
	}
	if strings.Contains(out, "0x0a0a") || strings.Contains(out, "0x0060") || strings.Contains(out, "Reserved") {
		t.Errorf("Reserved rows leaked into output:\n%s", out)
	}
	if !strings.Contains(out, "case 0x1301, 0x1302:\n\t\treturn \"Y\"") {
		t.Errorf("Recommended table missing:\n%s", out)
	}
}
