package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/tlsinspect/tlsinspect/keylog"
)

// mkDSB builds a Decryption Secrets Block; opts go after the padded
// secrets.
func mkDSB(order order, typ uint32, data, opts []byte) []byte {
	body := order.AppendUint32(nil, typ)
	body = order.AppendUint32(body, uint32(len(data)))
	body = append(body, data...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	return ngBlock(order, ngDSB, append(body, opts...))
}

// secretsSeen is what OnSecrets was called with, and when.
type secretsSeen struct {
	typ    uint32
	data   []byte
	before int // packets Next had returned when it was called
}

func (s secretsSeen) String() string {
	return fmt.Sprintf("{%#x %q after %d packets}", s.typ, s.data, s.before)
}

// readSecrets reads every packet, recording the OnSecrets calls.
func readSecrets(t testing.TB, r io.Reader) ([]Packet, []secretsSeen, error) {
	t.Helper()
	s, err := NewFileSource("s.pcapng", r)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	var ps []Packet
	var seen []secretsSeen
	s.OnSecrets = func(typ uint32, data []byte) {
		seen = append(seen, secretsSeen{typ, data, len(ps)})
	}
	for {
		p, err := s.Next()
		if err != nil {
			return ps, seen, err
		}
		p.Data = bytes.Clone(p.Data)
		ps = append(ps, p)
	}
}

// dsbFile is a pcapng with Decryption Secrets Blocks before the
// interfaces, between packets, at the end, in a second section and in a
// skipped one; with odd lengths, options and an unknown secrets type. It
// returns the file, the secrets in file order, and the packets.
func dsbFile(o order, second order) ([]byte, []secretsSeen, []rec) {
	rs := testRecs(4)
	long := bytes.Repeat([]byte("CLIENT_RANDOM 00 11\n"), 100)
	opts := append(o.AppendUint16(o.AppendUint16(nil, 1), 5), 'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0, 0, 0, 0) // comment, end of options
	var b []byte
	b = append(b, ngSection(o, 1)...)
	b = append(b, mkDSB(o, SecretsTLSKeyLog, []byte("first\n"), nil)...)
	b = append(b, ngInterface(o, layers.LinkTypeEthernet)...)
	b = append(b, mkEPB(o, 0, rs[0])...)
	b = append(b, mkDSB(o, SecretsTLSKeyLog, long, opts)...)
	b = append(b, mkDSB(o, 0x5353484b, []byte("ssh"), nil)...) // another type: passed on as it is
	b = append(b, mkEPB(o, 0, rs[1])...)
	b = append(b, mkDSB(o, SecretsTLSKeyLog, nil, nil)...) // empty
	b = append(b, mkEPB(o, 0, rs[2])...)
	b = append(b, ngSection(o, 9)...) // skipped, secrets and all
	b = append(b, mkDSB(o, SecretsTLSKeyLog, []byte("skipped"), nil)...)
	b = append(b, ngSection(second, 1)...)
	b = append(b, ngInterface(second, layers.LinkTypeEthernet)...)
	b = append(b, mkDSB(second, SecretsTLSKeyLog, []byte("second section"), nil)...)
	b = append(b, mkEPB(second, 0, rs[3])...)
	b = append(b, mkDSB(second, SecretsTLSKeyLog, []byte("last"), nil)...)
	want := []secretsSeen{
		{SecretsTLSKeyLog, []byte("first\n"), 0},
		{SecretsTLSKeyLog, long, 1},
		{0x5353484b, []byte("ssh"), 1},
		{SecretsTLSKeyLog, []byte{}, 2},
		{SecretsTLSKeyLog, []byte("second section"), 3},
		{SecretsTLSKeyLog, []byte("last"), 4},
	}
	return b, want, rs
}

func TestSecretsBlocks(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	big := bytes.Repeat([]byte("CLIENT_TRAFFIC_SECRET_0 0123 4567\n"), 40000) // 1.3 MB: more than the read buffer
	bigFile := append(ngSection(le, 1), ngInterface(le, layers.LinkTypeEthernet)...)
	bigFile = append(bigFile, mkEPB(le, 0, testRecs(1)[0])...)
	bigFile = append(bigFile, ngInterface(le, layers.LinkTypeRaw)...)
	bigFile = append(bigFile, mkDSB(le, SecretsTLSKeyLog, big, nil)...)
	bigFile = append(bigFile, mkEPB(le, 0, testRecs(2)[1])...)

	type file struct {
		name    string
		b       []byte
		want    []secretsSeen
		packets int
	}
	var files []file
	for _, orders := range [][2]order{{le, le}, {be, be}, {le, be}, {be, le}} {
		b, want, rs := dsbFile(orders[0], orders[1])
		name := fmt.Sprintf("%v then %v", orders[0], orders[1])
		files = append(files, file{name, b, want, len(rs)}, file{name + " gzip", gz(t, b), want, len(rs)})
	}
	files = append(files, file{"1.3 MB block", bigFile, []secretsSeen{{SecretsTLSKeyLog, big, 1}}, 2})
	for _, f := range files {
		readers := map[string]func() io.Reader{
			"whole":    func() io.Reader { return bytes.NewReader(f.b) },
			"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(f.b)) },
			"halves":   func() io.Reader { return iotest.HalfReader(bytes.NewReader(f.b)) },
		}
		for rname, r := range readers {
			t.Run(f.name+" "+rname, func(t *testing.T) {
				ps, seen, err := readSecrets(t, r())
				if err != io.EOF {
					t.Fatalf("error %v after %d packets", err, len(ps))
				}
				if len(ps) != f.packets {
					t.Errorf("%d packets, want %d", len(ps), f.packets)
				}
				if fmt.Sprint(seen) != fmt.Sprint(f.want) {
					t.Errorf("secrets\n %.300v\nwant\n %.300v", seen, f.want)
				}
			})
		}
	}
}

// TestSecretsWithoutCallback reads a file with secrets and no OnSecrets.
func TestSecretsWithoutCallback(t *testing.T) {
	b, _, rs := dsbFile(binary.LittleEndian, binary.BigEndian)
	got, err := readAll(t, "x", b)
	if err != io.EOF {
		t.Fatal(err)
	}
	checkPackets(t, got, rs, time.Microsecond)
}

func TestSecretsBlockDamaged(t *testing.T) {
	le := binary.LittleEndian
	rs := testRecs(3)
	head := append(ngSection(le, 1), ngInterface(le, layers.LinkTypeEthernet)...)
	head = append(head, mkEPB(le, 0, rs[0])...)
	good := mkDSB(le, SecretsTLSKeyLog, []byte("good"), nil)
	build := func(dsb []byte) ([]byte, int64) {
		b := append(bytes.Clone(head), good...)
		at := int64(len(b))
		b = append(b, dsb...)
		b = append(b, mkEPB(le, 0, rs[1])...)
		return append(b, mkEPB(le, 0, rs[2])...), at
	}
	mut := func(f func(b []byte)) []byte {
		b := mkDSB(le, SecretsTLSKeyLog, []byte("0123456789"), nil)
		f(b)
		return b
	}
	short := ngBlock(le, ngDSB, le.AppendUint32(nil, SecretsTLSKeyLog)) // no secrets length
	tests := []struct {
		name string
		dsb  []byte
		msg  string
	}{
		{"block length 16", short, "decryption secrets block length 16 is below the minimum 20"},
		{"secrets longer than the block", mut(func(b []byte) { le.PutUint32(b[12:], 13) }), "decryption secrets block says 13 bytes of secrets, more than its block length 32 holds"},
		{"secrets length 4 GiB", mut(func(b []byte) { le.PutUint32(b[12:], 0xffffffff) }), "decryption secrets block says 4294967295 bytes of secrets, more than its block length 32 holds"},
		{"trailing length differs", mut(func(b []byte) { le.PutUint32(b[len(b)-4:], 36) }), "decryption secrets block length 32 differs from the 36 at its end"},
		{"over the limit", mut(func(b []byte) { le.PutUint32(b[4:], MaxSecretsBlock+4) }), "decryption secrets block of 16777220 bytes is over the 16 MiB limit"},
	}
	for _, tt := range tests {
		b, at := build(tt.dsb)
		for _, gzipped := range []bool{false, true} {
			name := tt.name
			if gzipped {
				b, name = gz(t, b), name+" gzip"
			}
			t.Run(name, func(t *testing.T) {
				ps, seen, err := readSecrets(t, bytes.NewReader(b))
				var re *ReadError
				if !errors.As(err, &re) || !errors.Is(err, ErrCorrupt) {
					t.Fatalf("error %v, want a ReadError wrapping ErrCorrupt", err)
				}
				if len(ps) != 1 || re.Packet != 2 || re.Offset != at {
					t.Errorf("%d packets, then error for packet %d at offset %d; want 1, 2, %d", len(ps), re.Packet, re.Offset, at)
				}
				if want := "s.pcapng: packet 2: " + tt.msg; err.Error() != want {
					t.Errorf("error\n %s, want\n %s", err, want)
				}
				if len(seen) != 1 || string(seen[0].data) != "good" {
					t.Errorf("secrets %v, want the good block's", seen)
				}
			})
		}
	}
}

// TestSecretsCutEverywhere cuts a file with secrets at every byte: the
// packets and the secrets blocks wholly before the cut are returned, and
// no other.
func TestSecretsCutEverywhere(t *testing.T) {
	be := binary.BigEndian
	rs := testRecs(3)
	var b []byte
	var packetEnds, dsbEnds, cleanEnds []int
	add := func(block []byte, ends *[]int) {
		b = append(b, block...)
		if ends != nil {
			*ends = append(*ends, len(b))
		}
		cleanEnds = append(cleanEnds, len(b))
	}
	add(ngSection(be, 1), nil)
	add(mkDSB(be, SecretsTLSKeyLog, []byte("one"), nil), &dsbEnds)
	add(ngInterface(be, layers.LinkTypeEthernet), nil)
	add(mkEPB(be, 0, rs[0]), &packetEnds)
	add(mkDSB(be, SecretsTLSKeyLog, []byte("two, longer"), nil), &dsbEnds)
	add(mkEPB(be, 0, rs[1]), &packetEnds)
	add(mkDSB(be, SecretsTLSKeyLog, []byte("three"), nil), &dsbEnds)
	add(mkDSB(be, SecretsTLSKeyLog, []byte("four"), nil), &dsbEnds)
	add(mkEPB(be, 0, rs[2]), &packetEnds)
	add(mkDSB(be, SecretsTLSKeyLog, []byte("five"), nil), &dsbEnds)
	before := func(ends []int, cut int) int {
		n := 0
		for _, e := range ends {
			if e <= cut {
				n++
			}
		}
		return n
	}
	for cut := 28; cut <= len(b); cut++ {
		ps, seen, err := readSecrets(t, bytes.NewReader(b[:cut]))
		if err == io.EOF != contains(cleanEnds, cut) {
			t.Fatalf("cut %d: %v", cut, err)
		}
		if err != io.EOF && !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut %d: %v is not ErrTruncated", cut, err)
		}
		if len(ps) != before(packetEnds, cut) || len(seen) != before(dsbEnds, cut) {
			t.Fatalf("cut %d: %d packets and %d secrets blocks, want %d and %d", cut, len(ps), len(seen), before(packetEnds, cut), before(dsbEnds, cut))
		}
	}
}

// TestSecretsCallbackPanics checks that a panic in OnSecrets is not taken
// for damaged data.
func TestSecretsCallbackPanics(t *testing.T) {
	b, _, _ := dsbFile(binary.LittleEndian, binary.LittleEndian)
	s, err := NewFileSource("x", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	s.OnSecrets = func(uint32, []byte) { panic("callback bug") }
	defer func() {
		if r := recover(); r != "callback bug" {
			t.Errorf("recovered %v, want the callback's panic", r)
		}
	}()
	_, err = s.Next()
	t.Errorf("Next returned %v", err)
}

// TestSecretsEditcap injects a key log into a project capture with
// Wireshark's editcap and reads it back.
func TestSecretsEditcap(t *testing.T) {
	editcap, err := exec.LookPath("editcap")
	if err != nil {
		t.Skip("editcap not installed (Debian: wireshark-common)")
	}
	const name = "tls13-clientauth-go-cert"
	in := filepath.Join("..", "testdata", "pcaps", name+".pcap")
	keys, err := os.ReadFile(filepath.Join("..", "testdata", "pcaps", name+".keys"))
	if err != nil {
		t.Skip(err)
	}
	want, err := readAll(t, in, mustRead(t, in))
	if err != io.EOF {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile, out := filepath.Join(dir, "keys.txt"), filepath.Join(dir, "out.pcapng")
	if err := os.WriteFile(keyFile, keys, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(editcap, "--inject-secrets", "tls,"+keyFile, in, out).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v\n%s", err, b)
	}
	file := mustRead(t, out)
	for _, f := range []struct {
		name string
		b    []byte
	}{{"pcapng", file}, {"pcapng gzip", gz(t, file)}} {
		t.Run(f.name, func(t *testing.T) {
			got, seen, err := readSecrets(t, bytes.NewReader(f.b))
			if err != io.EOF {
				t.Fatalf("%d packets, then %v", len(got), err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d packets, want %d", len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i].Data, want[i].Data) || !got[i].Timestamp.Equal(want[i].Timestamp) {
					t.Errorf("packet %d differs from the pcap's", i+1)
				}
			}
			if len(seen) != 1 || seen[0].typ != SecretsTLSKeyLog || !bytes.Equal(seen[0].data, keys) || seen[0].before != 0 {
				t.Fatalf("secrets %d blocks, want the key log before the first packet", len(seen))
			}
			l := keylog.New()
			if st, err := l.Parse(bytes.NewReader(seen[0].data), "dsb"); err != nil || st.Entries != 4 {
				t.Errorf("key log from the block: %v, %v", st, err)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSecretsCorpus reads the corpus capture that carries its QUIC
// session's secrets.
func TestSecretsCorpus(t *testing.T) {
	path := filepath.Join(corpusDir(t), "ja4", "chrome-cloudflare-quic-with-secrets.pcapng")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skip(err)
	}
	ps, seen, err := readSecrets(t, bytes.NewReader(b))
	if err != io.EOF {
		t.Fatalf("%d packets, then %v", len(ps), err)
	}
	if len(ps) != 83 { // as tshark counts
		t.Errorf("%d packets, want 83", len(ps))
	}
	if len(seen) == 0 {
		t.Fatal("no secrets")
	}
	l := keylog.New()
	for i, s := range seen {
		if s.typ != SecretsTLSKeyLog {
			t.Errorf("block %d: secrets type %#x", i, s.typ)
			continue
		}
		st, err := l.Parse(bytes.NewReader(s.data), "dsb")
		if err != nil || st.Malformed != 0 {
			t.Errorf("block %d: %v, %v", i, st, err)
		}
		t.Logf("block %d before packet %d: %d bytes: %v", i, s.before+1, len(s.data), st)
	}
	if l.Len() == 0 || !strings.Contains(fmt.Sprint(l.Lookup(firstRandom(l, seen))), "TLS1.3") {
		t.Errorf("no TLS 1.3 secrets: %v", l)
	}
}

// firstRandom returns the client random of the first line of the first
// block.
func firstRandom(_ *keylog.Log, seen []secretsSeen) []byte {
	for _, line := range strings.Split(string(seen[0].data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && !strings.HasPrefix(f[0], "#") {
			var r []byte
			fmt.Sscanf(f[1], "%x", &r)
			return r
		}
	}
	return nil
}

// TestSecretsPendingLimit checks the bound on secrets held between two
// packets, and that secrets handed out no longer count.
func TestSecretsPendingLimit(t *testing.T) {
	saved := maxPendingSecrets
	maxPendingSecrets = 1 << 20
	defer func() { maxPendingSecrets = saved }()
	le := binary.LittleEndian
	rs := testRecs(6)
	chunk := bytes.Repeat([]byte("x"), 400<<10)
	build := func(packetsBetween bool) []byte {
		b := append(ngSection(le, 1), ngInterface(le, layers.LinkTypeEthernet)...)
		b = append(b, mkEPB(le, 0, rs[0])...)
		for i := 1; i <= 4; i++ {
			b = append(b, mkDSB(le, SecretsTLSKeyLog, chunk, nil)...)
			if packetsBetween {
				b = append(b, mkEPB(le, 0, rs[i])...)
			}
		}
		return append(b, mkEPB(le, 0, rs[5])...)
	}
	ps, seen, err := readSecrets(t, bytes.NewReader(build(true)))
	if err != io.EOF || len(ps) != 6 || len(seen) != 4 {
		t.Errorf("packets between: %d packets, %d secrets blocks, %v; want 6, 4, EOF", len(ps), len(seen), err)
	}
	// The first block is handed out as the second Next starts when the
	// look-ahead has read it already; the next three cannot all be held.
	ps, seen, err = readSecrets(t, bytes.NewReader(build(false)))
	const want = "s.pcapng: packet 2: over 1 MiB of decryption secrets between two packets"
	if !errors.Is(err, ErrCorrupt) || err.Error() != want || len(ps) != 1 || len(seen) > 3 {
		t.Errorf("no packets between: %d packets, %d secrets blocks, %v; want 1, at most 3 and\n %s", len(ps), len(seen), err, want)
	}
}
