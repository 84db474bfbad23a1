package certinfo

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
)

func TestFormatName(t *testing.T) {
	name := pkix.Name{Country: []string{"DE"}, Organization: []string{"Example, Inc"}, CommonName: "Example CA"}
	der, err := asn1.Marshal(name.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"ca name", der, `CN=Example CA,O=Example\, Inc,C=DE`},
		{"truncated", der[:len(der)-3], " (malformed)"},
		{"empty", nil, " (malformed)"},
	}
	for _, tt := range tests {
		if got := FormatName(tt.in); got != tt.want && !(tt.want == " (malformed)" && len(got) >= len(tt.want) && got[len(got)-len(tt.want):] == tt.want) {
			t.Errorf("%s: FormatName = %q, want %q", tt.name, got, tt.want)
		}
	}
}
