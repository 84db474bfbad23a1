package tlsdecrypt

import (
	"bytes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/iana"
)

// TestWrongKey: a flipped bit anywhere in the secret fails authentication
// and leaves the sequence number where it was; the right key then works.
func TestWrongKey(t *testing.T) {
	secret := unhex(t, rfc8448ServerAppSecret)
	records := [][]byte{unhex(t, rfc8448TicketRecord), unhex(t, rfc8448ServerAppRecord)}
	for _, bit := range []int{0, 7, 100, 255} {
		bad := bytes.Clone(secret)
		bad[bit/8] ^= 1 << (bit % 8)
		d, err := NewTLS13(0x1301, bad)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.Open(records[0]); !errors.Is(err, ErrAuth) {
			t.Errorf("bit %d: %v, want ErrAuth", bit, err)
		}
		if d.Seq() != 0 {
			t.Errorf("bit %d: seq %d after a failure", bit, d.Seq())
		}
	}

	// A record out of order fails too and does not move the decrypter on:
	// the right record still opens afterwards.
	d, _ := NewTLS13(0x1301, secret)
	if _, _, err := d.Open(records[1]); !errors.Is(err, ErrAuth) || d.Seq() != 0 {
		t.Fatalf("second record first: %v, seq %d", err, d.Seq())
	}
	for i, r := range records {
		if _, _, err := d.Open(r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}

	// TLS 1.2: every kind of suite, a flipped bit in the master secret.
	master, cr, sr := bytes.Repeat([]byte{7}, 48), bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	for _, c := range []struct {
		version, suite uint16
		etm            bool
	}{
		{VersionTLS12, 0xC02F, false}, {VersionTLS12, 0xCCA8, false}, {VersionTLS12, 0xC0AE, false},
		{VersionTLS12, 0xC013, false}, {VersionTLS12, 0xC013, true}, {VersionTLS10, 0x000A, false}, {VersionTLS10, 0x002F, true},
	} {
		rec := newSealer12(t, c.version, c.suite, master, cr, sr, true, c.etm).seal12(22, []byte("\x14\x00\x00\x0cverify data!"), -1)
		bad := bytes.Clone(master)
		bad[47] ^= 0x10
		d, err := NewTLS12(c.version, c.suite, bad, cr, sr, true, EncryptThenMAC(c.etm))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.Open(rec); !errors.Is(err, ErrAuth) || d.Seq() != 0 {
			t.Errorf("%s etm=%v: %v, seq %d; want ErrAuth, 0", SuiteName(c.suite), c.etm, err, d.Seq())
		}
		// The other direction's keys fail as well.
		d, _ = NewTLS12(c.version, c.suite, master, cr, sr, false, EncryptThenMAC(c.etm))
		if _, _, err := d.Open(rec); !errors.Is(err, ErrAuth) {
			t.Errorf("%s etm=%v, server keys on a client record: %v", SuiteName(c.suite), c.etm, err)
		}
		d, _ = NewTLS12(c.version, c.suite, master, cr, sr, true, EncryptThenMAC(c.etm))
		if pt, typ, err := d.Open(rec); err != nil || typ != 22 || d.Seq() != 1 || !bytes.HasPrefix(pt, []byte{20}) {
			t.Errorf("%s etm=%v, right keys: %x %d %v", SuiteName(c.suite), c.etm, pt, typ, err)
		}
	}
}

func TestMalformedRecords(t *testing.T) {
	d13 := func() *Decrypter {
		d, err := NewTLS13(0x1301, unhex(t, rfc8448ServerAppSecret))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	good := unhex(t, rfc8448ServerAppRecord)
	withLen := func(typ uint8, n int) []byte {
		r := append(header(typ, VersionTLS12, n), make([]byte, n)...)
		return r
	}
	cases := []struct {
		name   string
		record []byte
		want   error
	}{
		{"empty", nil, ErrRecord},
		{"short header", good[:4], ErrRecord},
		{"truncated", good[:len(good)-1], ErrRecord},
		{"trailing byte", append(bytes.Clone(good), 0), ErrRecord},
		{"header only", good[:5:5], ErrRecord},
		{"shorter than tag", withLen(23, 16), ErrRecord},
		{"tag only plus one", withLen(23, 17), ErrAuth},
		{"oversize", withLen(23, maxCiphertext13+1), ErrRecord},
		{"largest allowed", withLen(23, maxCiphertext13), ErrAuth},
		{"outer type handshake", append([]byte{22}, good[1:]...), ErrRecord},
		{"outer type alert", append([]byte{21}, good[1:]...), ErrRecord},
		{"flipped header byte", append([]byte{23, 3, 1}, good[3:]...), ErrAuth},
	}
	for _, c := range cases {
		d := d13()
		_, _, err := d.Open(c.record)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if d.Seq() != 0 {
			t.Errorf("%s: seq moved to %d", c.name, d.Seq())
		}
	}

	// A Decrypter not made by a constructor refuses, without panicking.
	var zero Decrypter
	if _, _, err := zero.Open(good); err == nil || fmt.Sprint(zero) != "tlsdecrypt.Decrypter{}" {
		t.Errorf("zero Decrypter: %v, %v", err, zero)
	}

	// ChangeCipherSpec passes through TLS 1.3 untouched.
	d := d13()
	pt, typ, err := d.Open([]byte{20, 3, 3, 0, 1, 1})
	if err != nil || typ != 20 || !bytes.Equal(pt, []byte{1}) || d.Seq() != 0 {
		t.Errorf("CCS: %x %d %v seq %d", pt, typ, err, d.Seq())
	}

	// TLS 1.3 padding: removed, any amount; all zeros is malformed but
	// authenticated, so the sequence number moves on.
	secret := bytes.Repeat([]byte{9}, 32)
	s := newSealer13(t, 0x1301, secret)
	d, _ = NewTLS13(0x1301, secret)
	for _, pad := range []int{0, 1, 200, maxPlaintext - 10} {
		pt, typ, err := d.Open(s.seal13(21, []byte{2, 40}, pad))
		if err != nil || typ != 21 || !bytes.Equal(pt, []byte{2, 40}) {
			t.Errorf("padding %d: %x %d %v", pad, pt, typ, err)
		}
	}
	s.seq = d.Seq()
	rec := s.seal13(0, nil, 5) // inner plaintext of six zero bytes
	if _, _, err := d.Open(rec); !errors.Is(err, ErrRecord) || d.Seq() != s.seq {
		t.Errorf("all-zero inner plaintext: %v, seq %d want %d", err, d.Seq(), s.seq)
	}
}

// TestCBCPadding covers the CBC checks in both MAC orders and all versions.
func TestCBCPadding(t *testing.T) {
	master, cr, sr := bytes.Repeat([]byte{3}, 48), bytes.Repeat([]byte{4}, 32), bytes.Repeat([]byte{5}, 32)
	for _, v := range []uint16{VersionTLS10, VersionTLS11, VersionTLS12} {
		for _, etm := range []bool{false, true} {
			for _, suite := range []uint16{0x002F, 0x000A} {
				name := fmt.Sprintf("%s %s etm=%v", versionName(v), SuiteName(suite), etm)
				s := newSealer12(t, v, suite, master, cr, sr, false, etm)
				d, err := NewTLS12(v, suite, master, cr, sr, false, EncryptThenMAC(etm))
				if err != nil {
					t.Fatal(err)
				}
				bs := d.block.BlockSize()
				// Long padding (up to 255) is legal; each record also moves
				// the TLS 1.0 IV chain on.
				for i, content := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("y"), 100)} {
					pad := -1
					if i == 2 {
						// Pick the longest padding that keeps whole blocks.
						n := len(content) + 1
						if !etm {
							n += d.mac.Size()
						}
						pad = 255 - (n+255)%bs
					}
					pt, typ, err := d.Open(s.seal12(23, content, pad))
					if err != nil || typ != 23 || !bytes.Equal(pt, content) {
						t.Fatalf("%s record %d: %q %d %v", name, i, pt, typ, err)
					}
				}
				// Bad padding: with MAC-then-encrypt it is a MAC failure
				// (ErrAuth, state unchanged); after encrypt-then-MAC the
				// record authenticated, so it is malformed (ErrRecord) and
				// the sequence number moves on.
				seq := d.Seq()
				rec := sealBadPadding(t, s, []byte("hello"))
				_, _, err = d.Open(rec)
				if etm {
					if !errors.Is(err, ErrRecord) || d.Seq() != seq+1 {
						t.Errorf("%s bad padding: %v seq %d", name, err, d.Seq())
					}
				} else if !errors.Is(err, ErrAuth) || d.Seq() != seq {
					t.Errorf("%s bad padding: %v seq %d", name, err, d.Seq())
				}

				// Not a whole number of blocks.
				s2 := newSealer12(t, v, suite, master, cr, sr, false, etm)
				d2, _ := NewTLS12(v, suite, master, cr, sr, false, EncryptThenMAC(etm))
				rec = s2.seal12(23, []byte("abc"), -1)
				rec = append(rec[:len(rec):len(rec)], 0)
				rec[4]++
				if _, _, err := d2.Open(rec); !errors.Is(err, ErrRecord) {
					t.Errorf("%s ragged ciphertext: %v", name, err)
				}
				// Too short for IV and one block (and MAC).
				short := append(header(23, v, bs), make([]byte, bs)...)
				if v >= VersionTLS11 || !etm {
					if _, _, err := d2.Open(short); !errors.Is(err, ErrRecord) {
						t.Errorf("%s one block: %v", name, err)
					}
				}
				if _, _, err := d2.Open(header(23, v, 0)); !errors.Is(err, ErrRecord) {
					t.Errorf("%s empty payload: %v", name, err)
				}
				if _, _, err := d2.Open(append(header(23, v, maxCiphertext12+bs), make([]byte, maxCiphertext12+bs)...)); !errors.Is(err, ErrRecord) {
					t.Errorf("%s oversize: %v", name, err)
				}
			}
		}
	}
}

// sealBadPadding makes a CBC record, MAC included, whose padding bytes
// disagree with the padding length.
func sealBadPadding(t *testing.T, s *sealer, content []byte) []byte {
	t.Helper()
	bs := s.block.BlockSize()
	pt := append([]byte(nil), content...)
	if !s.etm {
		pt = append(pt, s.mac(23, content)...)
	}
	pad := bs - 1 - len(pt)%bs
	if pad < 2 {
		pad += bs
	}
	for i := 0; i <= pad; i++ {
		pt = append(pt, byte(pad))
	}
	pt[len(pt)-2] ^= 1 // a padding byte that is not pad
	iv := s.chainIV
	var explicit []byte
	if s.version >= VersionTLS11 {
		iv = make([]byte, bs)
		explicit = iv
	}
	ct := make([]byte, len(pt))
	cipher.NewCBCEncrypter(s.block, iv).CryptBlocks(ct, pt)
	s.chainIV = append([]byte(nil), ct[len(ct)-bs:]...)
	body := append(append([]byte(nil), explicit...), ct...)
	if s.etm {
		body = append(body, s.mac(23, body)...)
	}
	s.seq++
	return append(header(23, s.version, len(body)), body...)
}

func TestConstructorErrors(t *testing.T) {
	m, r := make([]byte, 48), make([]byte, 32)
	cases := []struct {
		name string
		f    func() error
		want error
	}{
		{"13 unknown suite", func() error { _, err := NewTLS13(0x1306, make([]byte, 32)); return err }, ErrUnsupportedSuite},
		{"13 given a 1.2 suite", func() error { _, err := NewTLS13(0xC02F, make([]byte, 32)); return err }, ErrUnsupportedSuite},
		{"13 short secret", func() error { _, err := NewTLS13(0x1301, make([]byte, 31)); return err }, ErrSecret},
		{"13 SHA-256 secret for SHA-384 suite", func() error { _, err := NewTLS13(0x1302, make([]byte, 32)); return err }, ErrSecret},
		{"13 empty secret", func() error { _, err := NewTLS13(0x1303, nil); return err }, ErrSecret},
		{"12 RC4", func() error { _, err := NewTLS12(VersionTLS12, 0x0005, m, r, r, true); return err }, ErrUnsupportedSuite},
		{"12 NULL", func() error { _, err := NewTLS12(VersionTLS12, 0x0002, m, r, r, true); return err }, ErrUnsupportedSuite},
		{"12 Camellia", func() error { _, err := NewTLS12(VersionTLS12, 0x0041, m, r, r, true); return err }, ErrUnsupportedSuite},
		{"12 given a 1.3 suite", func() error { _, err := NewTLS12(VersionTLS12, 0x1301, m, r, r, true); return err }, ErrUnsupportedSuite},
		{"GCM in TLS 1.1", func() error { _, err := NewTLS12(VersionTLS11, 0xC02F, m, r, r, true); return err }, ErrUnsupportedSuite},
		{"SHA256 CBC in TLS 1.0", func() error { _, err := NewTLS12(VersionTLS10, 0xC027, m, r, r, true); return err }, ErrUnsupportedSuite},
		{"SSL 3.0", func() error { _, err := NewTLS12(0x0300, 0x002F, m, r, r, true); return err }, ErrUnsupportedVersion},
		{"TLS 1.3 to NewTLS12", func() error { _, err := NewTLS12(VersionTLS13, 0x002F, m, r, r, true); return err }, ErrUnsupportedVersion},
		{"short master", func() error { _, err := NewTLS12(VersionTLS12, 0x002F, m[:47], r, r, true); return err }, ErrSecret},
		{"short random", func() error { _, err := NewTLS12(VersionTLS12, 0x002F, m, r[:31], r, true); return err }, ErrSecret},
		{"KeyUpdate in TLS 1.2", func() error {
			d, err := NewTLS12(VersionTLS12, 0xC02F, m, r, r, true)
			if err != nil {
				return err
			}
			return d.Update()
		}, ErrUnsupportedVersion},
	}
	for _, c := range cases {
		if err := c.f(); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// TestNoKeyMaterialPrinted: neither formatting a Decrypter nor its errors
// show the secret or anything derived from it.
func TestNoKeyMaterialPrinted(t *testing.T) {
	secret := unhex(t, rfc8448ServerAppSecret)
	key, iv, _ := trafficKeys(suite13ByID[0x1301], secret)
	d, _ := NewTLS13(0x1301, secret)
	m12 := bytes.Repeat([]byte{0xab}, 48)
	d12, _ := NewTLS12(VersionTLS12, 0xC013, m12, make([]byte, 32), make([]byte, 32), true)
	macKey, key12, _ := keyBlock(VersionTLS12, suite12ByID[0xC013], m12, make([]byte, 32), make([]byte, 32), true)
	var out []string
	for _, v := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		out = append(out, fmt.Sprintf(v, d), fmt.Sprintf(v, *d), fmt.Sprintf(v, d12), fmt.Sprintf(v, []any{d, d12}))
	}
	_, _, err := d.Open(unhex(t, rfc8448ClientAppRecord))
	out = append(out, err.Error())
	_, _, err = d12.Open(append(header(23, VersionTLS12, 32), make([]byte, 32)...))
	out = append(out, err.Error())
	_, err = NewTLS13(0x1302, secret)
	out = append(out, err.Error())
	all := strings.ToLower(strings.Join(out, "\n"))
	for _, k := range [][]byte{secret, key, iv, m12, macKey, key12} {
		for _, enc := range []string{hex.EncodeToString(k[:4]), fmt.Sprint(k[:4])[1:]} {
			if strings.Contains(all, enc) {
				t.Errorf("output shows key bytes %s:\n%s", enc, all)
			}
		}
	}
	if want := "tlsdecrypt.Decrypter{TLS 1.3 TLS_AES_128_GCM_SHA256 seq=0}"; fmt.Sprint(d) != want {
		t.Errorf("%v, want %s", d, want)
	}
}

// TestSuiteTable checks every suite's name against IANA's registry (through
// the iana package) and the parameters that follow from the name.
func TestSuiteTable(t *testing.T) {
	for _, list := range [][]suite{suites13, suites12} {
		seen := map[uint16]bool{}
		for _, s := range list {
			if seen[s.id] {
				t.Errorf("0x%04x listed twice", s.id)
			}
			seen[s.id] = true
			if got := iana.CipherSuiteName(s.id); got != s.name {
				t.Errorf("0x%04x: table says %s, IANA %s", s.id, s.name, got)
			}
			n := s.name
			wantKey := 16
			if strings.Contains(n, "AES_256") || strings.Contains(n, "CHACHA20") {
				wantKey = 32
			} else if strings.Contains(n, "3DES") {
				wantKey = 24
			}
			if s.bulk.keyLen != wantKey {
				t.Errorf("%s: key length %d", n, s.bulk.keyLen)
			}
			wantPRF := 32
			if strings.HasSuffix(n, "SHA384") {
				wantPRF = 48
			}
			if s.prf().Size() != wantPRF {
				t.Errorf("%s: PRF hash of %d bytes", n, s.prf().Size())
			}
			isCBC := strings.Contains(n, "_CBC_")
			if (s.bulk.kind == kindCBC) != isCBC || (s.mac != nil) != isCBC {
				t.Errorf("%s: kind %d", n, s.bulk.kind)
			}
			if isCBC {
				wantMAC := map[string]int{"SHA": 20, "SHA256": 32, "SHA384": 48}[n[strings.LastIndex(n, "_")+1:]]
				if s.mac().Size() != wantMAC {
					t.Errorf("%s: MAC of %d bytes", n, s.mac().Size())
				}
			}
			wantTag := 16
			if strings.Contains(n, "CCM_8") {
				wantTag = 8
			}
			if !isCBC {
				a, err := s.bulk.aead(make([]byte, s.bulk.keyLen))
				if err != nil || a.Overhead() != wantTag || a.NonceSize() != 12 {
					t.Errorf("%s: AEAD %v", n, err)
				}
			}
		}
	}
	if SuiteHashLen(0x1301) != 32 || SuiteHashLen(0x1302) != 48 || SuiteHashLen(0xC02F) != 0 {
		t.Error("SuiteHashLen")
	}
	if !Supported(VersionTLS13, 0x1305) || Supported(VersionTLS12, 0x1301) || !Supported(VersionTLS10, 0x002F) ||
		Supported(VersionTLS11, 0xC02F) || !Supported(VersionTLS12, 0xC02F) || Supported(VersionTLS12, 0x0005) {
		t.Error("Supported")
	}
}

func TestKeyUpdate(t *testing.T) {
	for _, suite := range []uint16{0x1301, 0x1302, 0x1303, 0x1304, 0x1305} {
		secret := bytes.Repeat([]byte{byte(suite)}, SuiteHashLen(suite))
		s := newSealer13(t, suite, secret)
		d, err := NewTLS13(suite, secret)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if _, _, err := d.Open(s.seal13(23, []byte("before"), 0)); err != nil {
				t.Fatal(err)
			}
		}
		next, err := d.NextTrafficSecret()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := ExpandLabel(suite13ByID[suite].prf, secret, "traffic upd", nil, len(secret))
		if !bytes.Equal(next, want) || len(next) != len(secret) {
			t.Fatalf("NextTrafficSecret %x, want %x", next, want)
		}
		if err := d.Update(); err != nil || d.Seq() != 0 {
			t.Fatalf("Update: %v seq %d", err, d.Seq())
		}
		s = newSealer13(t, suite, next)
		if pt, _, err := d.Open(s.seal13(23, []byte("after"), 0)); err != nil || string(pt) != "after" {
			t.Errorf("%s after KeyUpdate: %q %v", SuiteName(suite), pt, err)
		}
	}
}

// TestSkip: stepping over application data records with Skip keeps the
// decrypter in step, so the handshake or alert record after them opens --
// including TLS 1.0's chained CBC IV, with and without encrypt-then-MAC.
func TestSkip(t *testing.T) {
	master, cr, sr := bytes.Repeat([]byte{9}, 48), bytes.Repeat([]byte{8}, 32), bytes.Repeat([]byte{6}, 32)
	for _, c := range []struct {
		version, suite uint16
		etm            bool
	}{
		{VersionTLS12, 0xC02F, false}, {VersionTLS12, 0xCCA8, false}, {VersionTLS12, 0xC0AE, false},
		{VersionTLS12, 0xC028, true}, {VersionTLS11, 0xC013, false}, {VersionTLS10, 0x002F, false}, {VersionTLS10, 0x002F, true},
	} {
		t.Run(fmt.Sprintf("%s/%s/etm=%v", versionName(c.version), iana.CipherSuiteName(c.suite), c.etm), func(t *testing.T) {
			s := newSealer12(t, c.version, c.suite, master, cr, sr, false, c.etm)
			var records [][]byte
			for i := range 3 {
				records = append(records, s.seal12(23, bytes.Repeat([]byte{byte(i)}, 100+i*17), -1))
			}
			alert := s.seal12(21, []byte{1, 0}, -1)
			d, err := NewTLS12(c.version, c.suite, master, cr, sr, false, EncryptThenMAC(c.etm))
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range records {
				if err := d.Skip(r); err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
			}
			pt, typ, err := d.Open(alert)
			if err != nil || typ != 21 || !bytes.Equal(pt, []byte{1, 0}) {
				t.Fatalf("alert after skipping: %x %d %v", pt, typ, err)
			}
			if err := d.Skip(alert[:4]); !errors.Is(err, ErrRecord) {
				t.Errorf("Skip of a cut record: %v, want ErrRecord", err)
			}
		})
	}
	// TLS 1.3: a compatibility change_cipher_spec takes no sequence number.
	secret := bytes.Repeat([]byte{4}, 32)
	s := newSealer13(t, 0x1301, secret)
	data := s.seal13(23, []byte("data"), 0)
	fin := s.seal13(22, []byte("\x14\x00\x00\x00"), 3)
	d, _ := NewTLS13(0x1301, secret)
	for _, r := range [][]byte{{20, 3, 3, 0, 1, 1}, data} {
		if err := d.Skip(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, typ, err := d.Open(fin); err != nil || typ != 22 {
		t.Fatalf("record after Skip: type %d, %v", typ, err)
	}
	// Records never seen: the sequence number alone moves on.
	s = newSealer13(t, 0x1301, secret)
	s.seal13(23, []byte("early 1"), 0)
	s.seal13(23, []byte("early 2"), 0)
	eoed := s.seal13(22, []byte("\x05\x00\x00\x00"), 0)
	d, _ = NewTLS13(0x1301, secret)
	if err := d.SkipUnseen(2); err != nil {
		t.Fatal(err)
	}
	if _, typ, err := d.Open(eoed); err != nil || typ != 22 {
		t.Fatalf("record after SkipUnseen: type %d, %v", typ, err)
	}
	cbc10, _ := NewTLS12(VersionTLS10, 0x002F, bytes.Repeat([]byte{9}, 48), bytes.Repeat([]byte{8}, 32), bytes.Repeat([]byte{6}, 32), true)
	if err := cbc10.SkipUnseen(1); !errors.Is(err, ErrRecord) {
		t.Errorf("TLS 1.0 CBC SkipUnseen: %v, want ErrRecord", err)
	}
}
