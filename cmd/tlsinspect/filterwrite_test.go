package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/bench/capgen"
)

// connKey names a reported handshake independently of connection numbers.
func connKey(o map[string]any) string {
	return fmt.Sprintf("%v %v %v %v %v %v", o["client"], o["server"], o["sni"], o["version"], o["established"], o["history"])
}

func reportKeys(t *testing.T, args ...string) map[string]bool {
	t.Helper()
	out, stderr, code := runCmd(append([]string{"-q", "-T", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	keys := map[string]bool{}
	for _, o := range jsonLines(t, out) {
		keys[connKey(o)] = true
	}
	return keys
}

// TestFileFilter: a capture filter applied to files keeps exactly the
// connections it selects, and a tcpdump-compiled program (--bpf-file)
// selects the same ones.
func TestFileFilter(t *testing.T) {
	var args []string
	for _, f := range captures(t) {
		if strings.HasSuffix(f, ".pcap") && !strings.Contains(f, "sll2") && !strings.Contains(f, "vlan") {
			args = append(args, "-r", f) // Ethernet captures, for one tcpdump program
		}
	}
	all := reportKeys(t, args...)
	mtls := reportKeys(t, append(args, "tcp", "port", "44318")...)
	rest := reportKeys(t, append(args, "-f", "not port 44318")...)
	if len(mtls) != 1 || len(rest) != len(all)-1 {
		t.Fatalf("port 44318 keeps %d, not port 44318 keeps %d, of %d", len(mtls), len(rest), len(all))
	}
	for k := range mtls {
		if !all[k] || rest[k] || !strings.Contains(k, ":44318") {
			t.Errorf("filtered connection %q", k)
		}
	}
	if got := reportKeys(t, append(args, "ip6")...); len(got) != 1 {
		t.Errorf("ip6 keeps %d connections, want the one IPv6 capture's", len(got))
	}
	if _, err := exec.LookPath("tcpdump"); err != nil {
		return
	}
	prog, err := exec.Command("tcpdump", "-y", "EN10MB", "-ddd", "not port 44318").Output()
	if err != nil {
		t.Skipf("tcpdump -ddd: %v", err)
	}
	file := filepath.Join(t.TempDir(), "not44318.bpf")
	if err := os.WriteFile(file, prog, 0o644); err != nil {
		t.Fatal(err)
	}
	viaTcpdump := reportKeys(t, append(args, "--bpf-file", file)...)
	if fmt.Sprint(viaTcpdump) != fmt.Sprint(rest) {
		t.Errorf("--bpf-file (tcpdump) keeps %d connections, -f keeps %d", len(viaTcpdump), len(rest))
	}
}

// TestWriteHandshakes: -w keeps every handshake (reading the written file
// reports the same handshakes) and drops the bulk data after them.
func TestWriteHandshakes(t *testing.T) {
	dir := t.TempDir()
	bulk := filepath.Join(dir, "bulk.pcap")
	f, err := os.Create(bulk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := capgen.Bulk(f, 20, 200<<10, 400<<10, 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, in := range append(captures(t), bulk) {
		t.Run(filepath.Base(in), func(t *testing.T) {
			w := filepath.Join(dir, filepath.Base(in)+".hs.pcapng")
			want := reportKeys(t, "-r", in, "-w", w)
			got := reportKeys(t, "-r", w)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("the -w file reports\n%v\nthe capture reports\n%v", got, want)
			}
			if in != bulk {
				return
			}
			a, _ := os.Stat(in)
			b, _ := os.Stat(w)
			if b.Size()*10 > a.Size() {
				t.Errorf("-w kept %d of %d bytes of a bulk capture; want handshakes only", b.Size(), a.Size())
			}
			t.Logf("bulk capture %d bytes, handshake packets %d bytes", a.Size(), b.Size())
		})
	}
}
