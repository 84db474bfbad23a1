package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestGeneratedTableUpToDate regenerates the table from the registry copy in
// iana/csv and compares it with the committed keyexchange_gen.go.
func TestGeneratedTableUpToDate(t *testing.T) {
	f, err := os.Open("../../../iana/csv/tls-parameters-4.csv")
	if err != nil {
		t.Skipf("registry CSV not available: %v", err)
	}
	defer f.Close()
	got, err := generate(f)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../keyexchange_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("dissect/keyexchange_gen.go is stale: run go generate ./dissect/")
	}
}

func TestGenerateRejectsUnknownKeyExchange(t *testing.T) {
	in := "Value,Description,DTLS-OK,Recommended,Reference,Comment\n\"0x00,0x2F\",TLS_FOO_WITH_AES_128_CBC_SHA,Y,N,[RFC0],\n"
	if _, err := generate(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), `unknown key exchange "FOO"`) {
		t.Errorf("error %v", err)
	}
}

func TestParseValue(t *testing.T) {
	for in, want := range map[string]int{"0x00,0x2F": 0x002f, "0xC0,0xB0": 0xc0b0, "0x00,0x1C-1D": -1, "0x01-09,*": -1} {
		v, ok := parseValue(in)
		if (want < 0) == ok || (ok && int(v) != want) {
			t.Errorf("parseValue(%q) = %#x, %v", in, v, ok)
		}
	}
}
