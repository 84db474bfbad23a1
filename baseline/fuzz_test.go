package baseline

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead: Read never panics, and whatever it accepts is in canonical
// form after one Write (Write, Read, Write is byte-identical) and never
// drifts from itself.
func FuzzRead(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("testdata", "example.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{
		example,
		encode(f, weird()),
		[]byte(`{"format":1}`),
		[]byte(`{"format":1,"servers":[{"server":"a","sni":true,"versions":{"values":["b","a","a"]},"lowest_version":{"name":"x","id":-5}}]}`),
		[]byte(`{"format":1,"servers":null,"first_ts":"2026-01-02T05:04:05+02:00"}`),
		[]byte(`{"format":2}`),
		[]byte(`{"format":1}{}`),
		[]byte(`[]`),
		[]byte(``),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		bl, err := Read(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			return
		}
		first := encode(t, bl)
		back, err := Read(bytes.NewReader(first), "fuzz2.json")
		if err != nil {
			t.Fatalf("Read rejects what Write wrote: %v\n%s", err, first)
		}
		if second := encode(t, back); !bytes.Equal(first, second) {
			t.Fatalf("not canonical:\n%s\n%s", first, second)
		}
		if d := Compare(bl, bl); d != nil {
			t.Fatalf("drift from itself: %q", d)
		}
		for _, d := range Compare(bl, NewBuilder().Baseline()) {
			_ = d.String()
		}
	})
}
