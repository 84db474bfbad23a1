// Package testcap reads the project's own captures (testdata/pcaps) for
// tests and benchmarks, packet by packet, decoded. It uses only capture and
// packet, so that the tests of every package above them can use it.
package testcap

import (
	"errors"
	"io"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/packet"
)

// Path is the path of a capture in testdata/pcaps ("dtls/x.pcap" for one
// in a subfolder).
func Path(name string) string {
	_, file, _, _ := runtime.Caller(0) // <repo>/internal/testcap/testcap.go
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "pcaps", name)
}

// Packet is one packet of a capture, decoded: a TCP segment (TCP), a UDP
// datagram (UDP), or neither. Its bytes are valid only during the call.
type Packet struct {
	capture.Packet
	TCP      bool
	Segment  packet.Segment
	UDP      bool
	Datagram packet.Datagram
}

// Each calls f with every packet of the capture at path (a Path), decoded;
// a capture that cannot be read fails tb.
func Each(tb testing.TB, path string, f func(p *Packet)) {
	tb.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	dec := packet.NewDecoder()
	for {
		p, err := src.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			tb.Fatal(err)
		}
		d := Packet{Packet: p}
		seg, ok, err := dec.Decode(p)
		switch {
		case err != nil:
		case ok:
			d.TCP, d.Segment = true, seg
		default:
			d.Datagram, d.UDP = dec.Datagram()
		}
		f(&d)
	}
}
