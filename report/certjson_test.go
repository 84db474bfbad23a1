package report

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/tlsinspect/tlsinspect/certinfo"
)

// TestCertJSONBounded: what certJSON keeps stays within maxCertJSON
// certificates, and what it gives back is what it would encode.
func TestCertJSONBounded(t *testing.T) {
	var cj certJSON
	chain := make([]*certinfo.Certificate, 1)
	for i := range maxCertJSON + 10 {
		chain[0] = &certinfo.Certificate{Subject: "CN=" + strconv.Itoa(i), KeyType: "ECDSA"}
		got, err := cj.appendChain(nil, chain)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := cj.appendChain(nil, chain)
		want, _ := (*certJSON)(nil).appendChain(nil, chain)
		if !bytes.Equal(got, want) || !bytes.Equal(again, want) {
			t.Fatalf("certificate %d: %s, then %s; want %s", i, got, again, want)
		}
		if len(cj.m) > maxCertJSON {
			t.Fatalf("%d certificates kept, limit %d", len(cj.m), maxCertJSON)
		}
	}
}
