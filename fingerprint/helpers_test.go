package fingerprint

import (
	"encoding/binary"
	"testing"

	"github.com/tlsinspect/tlsinspect/dissect"
)

// ext is one extension for the hello builders.
type ext struct {
	typ  uint16
	data []byte
}

// hello describes a ClientHello to build; noExtensions omits the
// extensions block entirely.
type hello struct {
	version      uint16
	ciphers      []uint16
	exts         []ext
	noExtensions bool
}

func u16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }

// vec16 prefixes body with its uint16 length.
func vec16(body []byte) []byte { return append(u16(nil, uint16(len(body))), body...) }

// vec8 prefixes body with its uint8 length.
func vec8(body []byte) []byte { return append([]byte{byte(len(body))}, body...) }

func u16s(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = u16(b, v)
	}
	return b
}

// bytes returns the ClientHello body (no handshake header).
func (h hello) bytes() []byte {
	b := u16(nil, h.version)
	b = append(b, make([]byte, 32)...) // random
	b = append(b, 0)                   // session id
	b = append(b, vec16(u16s(h.ciphers...))...)
	b = append(b, 1, 0) // compression: null
	if h.noExtensions {
		return b
	}
	var eb []byte
	for _, e := range h.exts {
		eb = u16(eb, e.typ)
		eb = append(eb, vec16(e.data)...)
	}
	return append(b, vec16(eb)...)
}

// parse builds and parses the hello, failing the test on a parse error.
func (h hello) parse(t testing.TB) *dissect.ClientHello {
	t.Helper()
	ch, err := dissect.ParseClientHello(h.bytes())
	if err != nil {
		t.Fatalf("ParseClientHello: %v", err)
	}
	return ch
}

// Extension bodies.
func sniExt(host string) ext {
	return ext{0x0000, vec16(append([]byte{0}, vec16([]byte(host))...))}
}

func alpnExt(protos ...string) ext {
	var l []byte
	for _, p := range protos {
		l = append(l, vec8([]byte(p))...)
	}
	return ext{0x0010, vec16(l)}
}

func groupsExt(gs ...uint16) ext      { return ext{0x000a, vec16(u16s(gs...))} }
func pointsExt(fs ...byte) ext        { return ext{0x000b, vec8(fs)} }
func sigalgsExt(ss ...uint16) ext     { return ext{0x000d, vec16(u16s(ss...))} }
func versionsExt(vs ...uint16) ext    { return ext{0x002b, vec8(u16s(vs...))} }
func emptyExt(typ uint16) ext         { return ext{typ, nil} }
func rawExt(typ uint16, b []byte) ext { return ext{typ, b} }

// serverHello returns a ServerHello body.
func serverHello(version, cipher uint16, exts ...ext) []byte {
	b := u16(nil, version)
	b = append(b, make([]byte, 32)...)
	b = append(b, 0)
	b = u16(b, cipher)
	b = append(b, 0)
	if exts == nil {
		return b
	}
	var eb []byte
	for _, e := range exts {
		eb = u16(eb, e.typ)
		eb = append(eb, vec16(e.data)...)
	}
	return append(b, vec16(eb)...)
}
