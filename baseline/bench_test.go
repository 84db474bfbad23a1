package baseline

import (
	"fmt"
	"testing"

	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// BenchmarkAdd: the per-handshake cost, with the two suites alternating
// (the worst case for the weakest-suite check) over 1,000 servers.
func BenchmarkAdd(b *testing.B) {
	var in []*tlsconn.Summary
	for i := range 1000 {
		in = append(in, hs(sni(ptr(fmt.Sprintf("s%d.test", i)))), hs(sni(ptr(fmt.Sprintf("s%d.test", i))), suite(cbc, 0xc013)))
	}
	bl := NewBuilder()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		bl.Add(in[i%len(in)])
	}
}
