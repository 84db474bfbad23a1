package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
)

// readNg reads every packet of a capture (copying their bytes) and the
// error that ended it; with ngReader, pcapgo's NgReader reads every pcapng
// packet. fast is how many the fast path read.
func readNg(t *testing.T, file []byte, ngReader bool) (ps []Packet, fast int, end error) {
	t.Helper()
	s, err := NewFileSource("test", bytes.NewReader(file))
	if err != nil {
		return nil, 0, err
	}
	s.ngSlow = ngReader
	for {
		p, err := s.Next()
		if err != nil {
			return ps, s.ngFast, err
		}
		p.Data = bytes.Clone(p.Data)
		ps = append(ps, p)
	}
}

// TestNgFastPath: pcapng files (one section, two sections in both byte
// orders, the project's and the corpus's) read the same packets and end
// the same way with the fast path and with NgReader alone, and the fast
// path reads most packets of a file of one section.
func TestNgFastPath(t *testing.T) {
	rs := testRecs(40)
	one, ends := writeNg([]order{binary.LittleEndian}, rs)
	oneBE, _ := writeNg([]order{binary.BigEndian}, rs)
	two, _ := writeNg([]order{binary.LittleEndian, binary.BigEndian}, rs)
	files := map[string][]byte{"one section": one, "one section, big endian": oneBE, "two sections": two}
	// Timestamps at other resolutions (if_tsresol: 10^-9, 10^-12, 2^-30,
	// 2^-10, 10^-3, 10^-20) and with an offset (if_tsoffset).
	for _, res := range []byte{9, 12, 0x80 | 30, 0x80 | 10, 3, 20} {
		for _, o := range []order{binary.LittleEndian, binary.BigEndian} {
			f := ngSection(o, 1)
			f = append(f, ngInterfaceTS(o, layers.LinkTypeEthernet, res, 1_000_000)...)
			// Raw timestamps small enough that the coarsest resolution
			// (milliseconds) stays before the year 9999.
			for i, r := range rs[:8] {
				f = append(f, ngEPBAt(o, 0, 1<<40+uint64(i)*0x1_0000_0001, r)...)
			}
			files["resolution "+strconv.Itoa(int(res))+" "+fmt.Sprint(o)] = f
		}
	}
	// A little-endian section with a block of a reserved type whose bytes
	// read as a big-endian EPB: the section's byte order decides, not a
	// guess from the block (damaged either way; both readers must agree).
	odd := append(append([]byte(nil), one[:ends[len(ends)/2]]...), 0, 0, 0, 6, 0, 0, 0, 0x20)
	odd = append(odd, make([]byte, 20)...)
	odd = append(odd, 0, 0, 0, 0x20)
	files["reserved block type"] = odd
	// A block larger than the read buffer before the packets (secrets
	// for a few thousand sessions, as editcap --inject-secrets writes):
	// the packets after it are still read in place; and with a second
	// section after them, that section's are not.
	large := func(o order, then []byte) []byte {
		f := append(ngSection(o, 1), ngInterface(o, layers.LinkTypeEthernet)...)
		f = append(f, ngInterface(o, layers.LinkTypeRaw)...)
		f = append(f, mkDSB(o, SecretsTLSKeyLog, bytes.Repeat([]byte("CLIENT_RANDOM 00 11\n"), 40000), nil)...)
		for _, r := range rs[:20] {
			iface := 0
			if r.lt == layers.LinkTypeRaw {
				iface = 1
			}
			f = append(f, mkEPB(o, iface, r)...)
		}
		return append(f, then...)
	}
	files["large block"] = large(binary.LittleEndian, nil)
	// The second section in the same byte order, with its interface at
	// another resolution: read with the first section's, its packets
	// would get other times.
	second := append(ngSection(binary.LittleEndian, 1), ngInterfaceTS(binary.LittleEndian, layers.LinkTypeEthernet, 9, 0)...)
	for i, r := range rs[:20] {
		second = append(second, ngEPBAt(binary.LittleEndian, 0, 1_700_000_000_000_000+uint64(i)*1000, r)...)
	}
	files["large block, two sections"] = large(binary.LittleEndian, second)
	paths := append(testcorpus.Files(t, "../testdata/pcaps"), testcorpus.CapturesIfPresent(t)...)
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) >= 4 && binary.LittleEndian.Uint32(b) == ngSHB {
			files[path] = b
		}
	}
	if len(files) < 5 {
		t.Fatalf("only %d pcapng files", len(files))
	}
	for name, file := range files {
		fast, n, fastEnd := readNg(t, file, false)
		slow, _, slowEnd := readNg(t, file, true)
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s: %d packets in place, %d by NgReader; they differ", name, len(fast), len(slow))
		}
		if (fastEnd == nil) != (slowEnd == nil) || fastEnd != nil && fastEnd.Error() != slowEnd.Error() {
			t.Errorf("%s: ends with %v in place, %v by NgReader", name, fastEnd, slowEnd)
		}
		if !errors.Is(fastEnd, io.EOF) {
			continue
		}
		// In a file of one section, every packet after the first (read
		// by NgReader with the interface blocks before it).
		if name == "one section" || name == "one section, big endian" || strings.HasPrefix(name, "resolution ") {
			if n != len(fast)-1 {
				t.Errorf("%s: %d of %d packets read in place", name, n, len(fast))
			}
		}
		if name == "large block" && n < len(fast)-2 {
			t.Errorf("%s: %d of %d packets read in place", name, n, len(fast))
		}
		if name == "large block, two sections" && (n < 18 || n > 20) {
			t.Errorf("%s: %d of %d packets read in place (the first section's, not the others')", name, n, len(fast))
		}
		if name == "two sections" && (n == 0 || n == len(fast)) {
			t.Errorf("%s: %d of %d packets read in place (the first section's, not the second's)", name, n, len(fast))
		}
	}
}

// ngInterfaceTS is an interface block with if_tsresol res and
// if_tsoffset offset (seconds).
func ngInterfaceTS(o order, lt layers.LinkType, res byte, offset uint64) []byte {
	body := o.AppendUint16(nil, uint16(lt))
	body = o.AppendUint16(body, 0)
	body = o.AppendUint32(body, 0)
	body = o.AppendUint16(body, 9) // if_tsresol
	body = o.AppendUint16(body, 1)
	body = append(body, res, 0, 0, 0)
	body = o.AppendUint16(body, 14) // if_tsoffset
	body = o.AppendUint16(body, 8)
	body = o.AppendUint64(body, offset)
	body = o.AppendUint32(body, 0) // opt_endofopt
	return ngBlock(o, ngIDB, body)
}

// ngEPBAt is an enhanced packet block of r with the raw timestamp ts.
func ngEPBAt(o order, iface int, ts uint64, r rec) []byte {
	body := o.AppendUint32(nil, uint32(iface))
	body = o.AppendUint32(body, uint32(ts>>32))
	body = o.AppendUint32(body, uint32(ts))
	body = o.AppendUint32(body, uint32(len(r.data)))
	body = o.AppendUint32(body, uint32(r.wire()))
	body = append(body, r.data...)
	return ngBlock(o, ngEPB, body)
}
