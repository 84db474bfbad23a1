package report

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/certinfo"
)

// TestCertJSON: what certJSON gives back is what it would encode; it keeps
// at most two generations, found by SHA256, and neither a certificate
// without one nor one whose JSON is too large.
func TestCertJSON(t *testing.T) {
	var cj certJSON
	check := func(c *certinfo.Certificate) {
		t.Helper()
		chain := []*certinfo.Certificate{c}
		want, _ := (*certJSON)(nil).appendChain(nil, chain)
		for range 2 {
			if got, err := cj.appendChain(nil, chain); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s, %v; want %s", got, err, want)
			}
		}
	}
	for i := range 3*maxCertJSON + 10 {
		check(&certinfo.Certificate{Subject: "CN=" + strconv.Itoa(i), KeyType: "ECDSA", SHA256: strconv.Itoa(i)})
		if n := cj.m.Len(); n > 2*maxCertJSON {
			t.Fatalf("%d certificates kept, limit %d", n, 2*maxCertJSON)
		}
	}
	// Found by SHA256: another value with the same hash is written as
	// the first was.
	c := &certinfo.Certificate{Subject: "CN=kept", KeyType: "ECDSA", SHA256: "kept"}
	check(c)
	if got, _ := cj.appendChain(nil, []*certinfo.Certificate{{Subject: "CN=other", SHA256: "kept"}}); !bytes.Contains(got, []byte("CN=kept")) {
		t.Errorf("not found by SHA256: %s", got)
	}
	n := cj.m.Len()
	check(&certinfo.Certificate{Subject: "CN=no hash"})
	check(&certinfo.Certificate{Subject: "CN=large", SHA256: "large", DNSNames: strings.Fields(strings.Repeat("a.example ", maxCertJSONBytes/8))})
	if cj.m.Len() != n {
		t.Errorf("%d certificates kept, want %d: one without a hash or too large was kept", cj.m.Len(), n)
	}
}
