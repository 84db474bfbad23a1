package capfilter

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// corpusDir holds third-party captures shared by the project (read only);
// the test uses it when present.
const corpusDir = "../../shared/corpus"

type filePkt struct {
	lt   layers.LinkType
	data []byte
}

// readCapture reads a pcap or pcapng file.
func readCapture(path string) ([]filePkt, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, err
	}
	var pkts []filePkt
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, err
		}
		for {
			data, ci, err := r.ReadPacketData()
			if err == io.EOF {
				return pkts, nil
			}
			if err != nil {
				return nil, err
			}
			iface, err := r.Interface(ci.InterfaceIndex)
			if err != nil {
				return nil, err
			}
			pkts = append(pkts, filePkt{iface.LinkType, data})
		}
	}
	r, err := pcapgo.NewReader(br)
	if err != nil {
		return nil, err
	}
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			return pkts, nil
		}
		if err != nil {
			return nil, err
		}
		pkts = append(pkts, filePkt{r.LinkType(), data})
	}
}

// tcpdumpMatches returns the indexes of the packets of path that tcpdump
// accepts: it writes them (-w -) and they are found again in pkts, in
// order, by their bytes. Equal packets get equal verdicts, so taking the
// first equal one is exact.
func tcpdumpMatches(t testing.TB, path, expr string, pkts []filePkt) ([]int, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(tcpdumpPath(t), "-n", "-r", path, "-w", "-", expr)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, &tcpdumpError{strings.TrimSpace(stderr.String())}
	}
	r, err := pcapgo.NewReader(&stdout)
	if err != nil {
		return nil, fmt.Errorf("reading tcpdump's output: %v", err)
	}
	var idx []int
	j := 0
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			return idx, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading tcpdump's output: %v", err)
		}
		for j < len(pkts) && !bytes.Equal(pkts[j].data, data) {
			j++
		}
		if j == len(pkts) {
			return nil, errors.New("a packet tcpdump wrote is not in the file")
		}
		idx = append(idx, j)
		j++
	}
}

// captureParams are values that occur in a capture, so that the
// expressions built from them match something.
type captureParams struct {
	a4, b4, a6       string // most common IPv4 addresses, IPv6 address
	tcpPort, udpPort int    // most common ports
	vid              int    // most common outer VLAN ID
}

func paramsOf(pkts []filePkt) captureParams {
	v4, v6, tp, up, vids := map[string]int{}, map[string]int{}, map[int]int{}, map[int]int{}, map[int]int{}
	for _, p := range pkts {
		pk := gopacket.NewPacket(p.data, p.lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		if l, ok := pk.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q); ok {
			vids[int(l.VLANIdentifier)]++
		}
		if l, ok := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			v4[l.SrcIP.String()]++
			v4[l.DstIP.String()]++
		}
		if l, ok := pk.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
			v6[l.SrcIP.String()]++
			v6[l.DstIP.String()]++
		}
		if l, ok := pk.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
			tp[int(l.SrcPort)]++
			tp[int(l.DstPort)]++
		}
		if l, ok := pk.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
			up[int(l.SrcPort)]++
			up[int(l.DstPort)]++
		}
	}
	p := captureParams{a4: "192.0.2.254", b4: "198.51.100.254", a6: "2001:db8::dead", tcpPort: 443, udpPort: 53, vid: 100}
	if k := top(v4); len(k) > 0 {
		p.a4 = k[0]
		if len(k) > 1 {
			p.b4 = k[1]
		}
	}
	if k := top(v6); len(k) > 0 {
		p.a6 = k[0]
	}
	if k := top(tp); len(k) > 0 {
		p.tcpPort = k[0]
	}
	if k := top(up); len(k) > 0 {
		p.udpPort = k[0]
	}
	if k := top(vids); len(k) > 0 {
		p.vid = k[0]
	}
	return p
}

// top returns the keys by decreasing count, ties in key order.
func top[K string | int](m map[K]int) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// captureExprs cover every primitive and operator; $X are filled in from
// captureParams.
var captureExprs = []string{
	"tcp", "udp", "ip", "ip6", "ip and udp", "ip6 and tcp", "not (tcp or udp)", "!tcp && !udp",
	"tcp port $P", "port $P", "src port $P", "dst port $P", "udp port $U", "port $P or $U",
	"port 443 or 8443", "src and dst port $P", "tcp src port $P or 443",
	"portrange $PLO-$PHI", "tcp dst portrange $PLO-$PHI", "src portrange 1024-65535", "udp portrange 0-1023",
	"host $A", "src host $A", "dst host $A", "host $A or $B", "src $A and dst $B",
	"src and dst host $A", "ip host $B", "host $A and not $B", "not host $A or $B",
	"net $A24", "dst net $A16", "net $A8 mask 255.0.0.0", "src net $A24 and tcp",
	"host $H6", "src host $H6", "net $H6/64", "ip6 dst net $H6/64",
	"not port 22 and host $A", "(host $A or host $B) and not port 53", "host $A or $B and tcp",
	"tcp and (port $P || port 443)", "host $A and (port $P) or $B", "port ($P or 443)",
	"host ($A or $H6) and tcp",
	"vlan", "vlan and port $P", "vlan $VID and tcp", "vlan and vlan", "not vlan",
	"vlan and host $A", "port $P or vlan", "vlan and ip6",
}

func (p captureParams) expand(tmpl string) string {
	a := netip.MustParseAddr(p.a4).As4()
	h6 := netip.MustParsePrefix(p.a6 + "/64").Masked().Addr().String()
	return strings.NewReplacer(
		"$PLO", fmt.Sprint(max(0, p.tcpPort-3)), "$PHI", fmt.Sprint(min(65535, p.tcpPort+3)),
		"$P", fmt.Sprint(p.tcpPort), "$U", fmt.Sprint(p.udpPort), "$VID", fmt.Sprint(p.vid),
		"$A24", fmt.Sprintf("%d.%d.%d.0/24", a[0], a[1], a[2]),
		"$A16", fmt.Sprintf("%d.%d", a[0], a[1]),
		"$A8", fmt.Sprintf("%d.0.0.0", a[0]),
		"$A", p.a4, "$B", p.b4, "$H6/64", h6+"/64", "$H6", p.a6,
	).Replace(tmpl)
}

// writeMixedCapture derives from the project's Ethernet captures one whose
// packets differ in what the vlan and "src and dst" primitives test (the
// project's captures are one flow each, tagged or not): packets are kept,
// given one or two VLAN tags of each TPID, or their destination port set
// to the source port.
func writeMixedCapture(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "mixed-vlan.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(DefaultSnaplen, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	tag := func(d []byte, tpid, tci uint16) []byte {
		return append(append(d[:12:12], byte(tpid>>8), byte(tpid), byte(tci>>8), byte(tci)), d[12:]...)
	}
	n := 0
	for _, name := range []string{"tls13-go.pcap", "ipv6-go.pcap", "vlan-go.pcap", "tls12-ecdhe-go.pcap"} {
		pkts, err := readCapture("../testdata/pcaps/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range pkts {
			d := p.data
			switch i % 5 {
			case 1:
				d = tag(d, 0x8100, 200)
			case 2:
				d = tag(tag(d, 0x8100, 100), 0x88a8, 300)
			case 3:
				d = tag(d, 0x9100, 0x2000|100)
			case 4:
				d = append([]byte(nil), d...)
				if off := tcpOffset(d); off > 0 {
					copy(d[off+2:off+4], d[off:off+2])
				}
			}
			ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(n), 0), CaptureLength: len(d), Length: len(d)}
			if err := w.WritePacket(ci, d); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return path
}

// writeSynthCapture writes the complete synthetic packets as a capture
// of link type lt: no shared capture has link type Loop, and tcpdump -d
// cannot stand in for files on Null and Loop (see dltNames).
func writeSynthCapture(t *testing.T, lt layers.LinkType) string {
	path := filepath.Join(t.TempDir(), fmt.Sprintf("synthetic-%s.pcap", lt))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(DefaultSnaplen, lt); err != nil {
		t.Fatal(err)
	}
	for i, p := range synthPackets(600, 4) {
		if p.cutEnd > 0 {
			continue
		}
		d := p.data(lt)
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(i), 0), CaptureLength: len(d), Length: len(d)}
		if err := w.WritePacket(ci, d); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// tcpOffset returns the offset of the TCP header of an untagged Ethernet
// frame, or 0.
func tcpOffset(d []byte) int {
	switch {
	case len(d) >= 14+20 && d[12] == 0x08 && d[13] == 0x00 && d[14+9] == protoNumTCP:
		return 14 + 4*int(d[14]&0x0f)
	case len(d) >= 14+40 && d[12] == 0x86 && d[13] == 0xdd && d[14+6] == protoNumTCP:
		return 14 + 40
	}
	return 0
}

// captureFiles lists the project's test captures, captures derived from
// them and from synthetic packets, and, when present, the shared corpus.
func captureFiles(t *testing.T) []string {
	files, _ := filepath.Glob("../testdata/pcaps/*.pcap")
	ng, _ := filepath.Glob("../testdata/pcaps/*.pcapng")
	files = append(files, ng...)
	if len(files) == 0 {
		t.Fatal("no captures in ../testdata/pcaps")
	}
	files = append(files, writeMixedCapture(t), writeSynthCapture(t, layers.LinkTypeNull), writeSynthCapture(t, layers.LinkTypeLoop))
	if _, err := os.Stat(corpusDir); err != nil {
		t.Logf("no shared corpus at %s: using the project's captures only", corpusDir)
		return files
	}
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch filepath.Ext(path) {
		case ".pcap", ".pcapng", ".cap":
			if info, err := d.Info(); err == nil && info.Size() <= 4<<20 {
				files = append(files, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestAgainstTcpdumpOnCaptures runs every expression over every capture
// with tcpdump and with Matcher and requires the same packets.
func TestAgainstTcpdumpOnCaptures(t *testing.T) {
	tcpdumpPath(t)
	if testing.Short() {
		t.Skip("runs tcpdump a few thousand times")
	}
	var (
		mu                                  sync.Mutex
		files, pairs, nontrivial, bothError int
		linkTypes                           = map[layers.LinkType]int{}
		proper                              = map[string]int{} // template: captures where it selects a proper subset
	)
	t.Run("files", func(t *testing.T) {
		for _, path := range captureFiles(t) {
			name := strings.TrimPrefix(strings.TrimPrefix(path, corpusDir+"/"), "../testdata/pcaps/")
			if filepath.IsAbs(name) {
				name = filepath.Base(name) // a derived capture
			}
			t.Run(filepath.ToSlash(name), func(t *testing.T) {
				t.Parallel()
				pkts, err := readCapture(path)
				if err != nil || len(pkts) == 0 {
					t.Skipf("unreadable or empty: %v", err)
				}
				lt := pkts[0].lt
				for _, p := range pkts {
					if p.lt != lt {
						t.Skip("several link types: tcpdump cannot filter it")
					}
				}
				if _, ok := linkFor(Target{LinkType: lt}); !ok {
					t.Skipf("link type %v is not supported", lt)
				}
				params := paramsOf(pkts)
				n, nt, be := 0, 0, 0
				for _, tmpl := range captureExprs {
					expr := params.expand(tmpl)
					m := NewMatcher(mustParse(t, expr))
					oursErr := m.Prepare(lt)
					want, err := tcpdumpMatches(t, path, expr, pkts)
					switch {
					case rejectsAll(err):
						want = nil
					case err != nil && oursErr != nil:
						be++
						continue
					case err != nil || oursErr != nil:
						t.Errorf("%q: tcpdump: %v; ours: %v", expr, err, oursErr)
						continue
					}
					var got []int
					for i, p := range pkts {
						if m.Match(p.lt, p.data) {
							got = append(got, i)
						}
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%q: packets (0-based) %s, tcpdump %s", expr, clip(got), clip(want))
					}
					n++
					if len(want) > 0 && len(want) < len(pkts) {
						nt++
						mu.Lock()
						proper[tmpl]++
						mu.Unlock()
					}
				}
				mu.Lock()
				files++
				pairs += n
				nontrivial += nt
				bothError += be
				linkTypes[lt]++
				mu.Unlock()
			})
		}
	})
	t.Logf("%d captures (link types %v), %d expressions: %d comparisons, %d match some but not all packets, %d refused by both",
		files, linkTypes, len(captureExprs), pairs, nontrivial, bothError)
	// Not vacuous: each expression selects some but not all packets of
	// some capture. The project's own captures have no UDP, so without
	// the corpus most expressions have to do.
	var never []string
	for _, tmpl := range captureExprs {
		if testing.Verbose() {
			t.Logf("%-40q selects a proper subset of %d captures", tmpl, proper[tmpl])
		}
		if proper[tmpl] == 0 {
			never = append(never, tmpl)
		}
	}
	_, err := os.Stat(corpusDir)
	if err == nil && len(never) > 0 || len(never)*5 > len(captureExprs) {
		t.Errorf("these expressions never select a proper, non-empty subset of a capture: %q", never)
	}
}

func clip(idx []int) string {
	if len(idx) > 20 {
		return fmt.Sprint(idx[:20]) + fmt.Sprintf("... (%d)", len(idx))
	}
	return fmt.Sprint(idx)
}
