package tlsdecrypt

import (
	"bytes"
	"errors"
	"testing"
)

// checkOpen runs Open on an arbitrary record and checks the contract: no
// panic, a known error, and the sequence number moves by one exactly when
// the record authenticated.
func checkOpen(t *testing.T, d *Decrypter, record []byte) {
	before := bytes.Clone(record)
	seq := d.Seq()
	pt, typ, err := d.Open(record)
	if !bytes.Equal(record, before) {
		t.Fatal("Open modified its input")
	}
	switch {
	case err == nil:
		if d.Seq() != seq+1 && !(typ == 20 && d.version == VersionTLS13) {
			t.Fatalf("success moved seq from %d to %d", seq, d.Seq())
		}
		if len(pt) > len(record) {
			t.Fatalf("plaintext of %d bytes from a %d-byte record", len(pt), len(record))
		}
	case errors.Is(err, ErrAuth):
		if d.Seq() != seq {
			t.Fatalf("ErrAuth moved seq from %d to %d", seq, d.Seq())
		}
	case errors.Is(err, ErrRecord):
		if d.Seq() != seq && d.Seq() != seq+1 {
			t.Fatalf("ErrRecord moved seq from %d to %d", seq, d.Seq())
		}
	default:
		t.Fatalf("unexpected error %v", err)
	}
}

var fuzzSecret = bytes.Repeat([]byte{0x42}, 48)

func FuzzOpenTLS13(f *testing.F) {
	f.Add(uint8(0), unhexF(f, rfc8448ServerAppRecord))
	f.Add(uint8(0), unhexF(f, rfc8448ServerFlightRecord))
	for i, suite := range []uint16{0x1301, 0x1302, 0x1303, 0x1304, 0x1305} {
		s := newSealer13(f, suite, fuzzSecret[:SuiteHashLen(suite)])
		f.Add(uint8(i), s.seal13(22, []byte("\x08\x00\x00\x02\x00\x00"), 3))
		f.Add(uint8(i), s.seal13(21, []byte{1, 0}, 0))
		f.Add(uint8(i), s.seal13(0, nil, 4))
	}
	f.Add(uint8(0), []byte{20, 3, 3, 0, 1, 1})
	f.Fuzz(func(t *testing.T, sel uint8, record []byte) {
		suites := []uint16{0x1301, 0x1302, 0x1303, 0x1304, 0x1305}
		suite := suites[int(sel)%len(suites)]
		d, err := NewTLS13(suite, fuzzSecret[:SuiteHashLen(suite)])
		if err != nil {
			t.Fatal(err)
		}
		// Records with sequence numbers 0..2 open in turn, so one input can
		// cover a decrypter that has moved on.
		for range 3 {
			checkOpen(t, d, record)
		}
	})
}

// fuzz12Configs are the TLS 1.0–1.2 decrypters FuzzOpenTLS12 picks from: one
// of each record protection.
var fuzz12Configs = []struct {
	version, suite uint16
	etm            bool
}{
	{VersionTLS12, 0xC02F, false}, // AES-128-GCM
	{VersionTLS12, 0xC030, false}, // AES-256-GCM
	{VersionTLS12, 0xCCA8, false}, // ChaCha20-Poly1305
	{VersionTLS12, 0xC0AC, false}, // AES-128-CCM
	{VersionTLS12, 0xC0AE, false}, // AES-128-CCM-8
	{VersionTLS12, 0xC013, false}, // AES-128-CBC-SHA, explicit IV
	{VersionTLS12, 0xC028, false}, // AES-256-CBC-SHA384
	{VersionTLS12, 0xC027, true},  // encrypt-then-MAC
	{VersionTLS10, 0x002F, false}, // chained IV
	{VersionTLS10, 0x000A, true},  // 3DES, chained IV, encrypt-then-MAC
	{VersionTLS11, 0x0035, false},
}

func FuzzOpenTLS12(f *testing.F) {
	cr, sr := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	for i, c := range fuzz12Configs {
		s := newSealer12(f, c.version, c.suite, fuzzSecret, cr, sr, true, c.etm)
		f.Add(uint8(i), s.seal12(22, []byte("\x14\x00\x00\x0c123456789012"), -1))
		f.Add(uint8(i), s.seal12(23, bytes.Repeat([]byte("data"), 20), -1))
		f.Add(uint8(i), s.seal12(21, []byte{1, 0}, -1))
	}
	f.Fuzz(func(t *testing.T, sel uint8, record []byte) {
		c := fuzz12Configs[int(sel)%len(fuzz12Configs)]
		d, err := NewTLS12(c.version, c.suite, fuzzSecret, cr, sr, true, EncryptThenMAC(c.etm))
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			checkOpen(t, d, record)
		}
	})
}

// FuzzCCM checks AES-CCM against itself: what Seal makes, Open returns, and
// a changed byte is refused.
func FuzzCCM(f *testing.F) {
	f.Add([]byte("key"), []byte("ad"), []byte("plaintext"), uint8(0), uint16(3))
	f.Add([]byte{}, []byte{}, []byte{}, uint8(1), uint16(0))
	f.Fuzz(func(t *testing.T, key, ad, pt []byte, sel uint8, flip uint16) {
		k := make([]byte, 16)
		copy(k, key)
		tag := []int{16, 8, 4, 12}[sel%4]
		a, err := newCCMTag(tag)(k)
		if err != nil {
			t.Fatal(err)
		}
		nonce := make([]byte, 12)
		nonce[0] = sel
		ct := a.Seal(nil, nonce, pt, ad)
		got, err := a.Open(nil, nonce, ct, ad)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("round trip: %v", err)
		}
		ct[int(flip)%len(ct)] ^= 1
		if _, err := a.Open(nil, nonce, ct, ad); err == nil {
			t.Fatal("Open accepted a changed ciphertext")
		}
	})
}

func unhexF(f *testing.F, s string) []byte { return unhex(f, s) }
