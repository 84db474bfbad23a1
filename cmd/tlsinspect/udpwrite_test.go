package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/internal/testcap"
	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
)

// TestWriteUDPHandshakes: -w keeps the datagrams of DTLS and QUIC
// handshakes, and only those: the file reports the same handshakes as the
// capture (the project's DTLS captures; the shared corpus's QUIC ones when
// present), and the datagrams after a handshake is reported are left out.
func TestWriteUDPHandshakes(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(pcapDir, "dtls", "*.pcap"))
	for _, f := range testcorpus.CapturesIfPresent(t) {
		if strings.Contains(strings.ToLower(f), "quic") {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		t.Fatal("no DTLS captures in testdata/pcaps/dtls")
	}
	dir := t.TempDir()
	udp, appData := 0, 0
	for i, in := range files {
		t.Run(filepath.Base(in), func(t *testing.T) {
			w := filepath.Join(dir, fmt.Sprintf("%d.pcapng", i))
			out, stderr, code := runCmd("-q", "-T", "json", "-r", in, "-w", w)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			// The -w file does not carry the secrets a pcapng may embed:
			// what they decrypted (history) is not compared then.
			key := connKey
			want := map[string]bool{}
			for _, o := range jsonLines(t, out) {
				if o["decrypted"] == true {
					key = func(o map[string]any) string {
						return fmt.Sprintf("%v %v %v %v %v", o["client"], o["server"], o["sni"], o["version"], o["established"])
					}
				}
			}
			for _, o := range jsonLines(t, out) {
				want[key(o)] = true
			}
			out, stderr, code = runCmd("-q", "-T", "json", "-r", w)
			if code != 0 {
				t.Fatalf("reading the -w file: exit %d: %s", code, stderr)
			}
			got := map[string]bool{}
			for _, o := range jsonLines(t, out) {
				got[key(o)] = true
				if o["transport"] == "udp" {
					udp++
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("the -w file reports\n%v\nthe capture reports\n%v", got, want)
			}
			// A DTLS flow's datagrams after its handshake (application data
			// records) are left out.
			if strings.Contains(in, string(filepath.Separator)+"dtls"+string(filepath.Separator)) {
				appIn, appOut := appDataDatagrams(t, in), appDataDatagrams(t, w)
				appData += appIn
				if appOut != 0 {
					t.Errorf("the -w file has %d DTLS application data datagrams (the capture %d)", appOut, appIn)
				}
			}
			a, _ := os.Stat(in)
			b, _ := os.Stat(w)
			t.Logf("%d bytes, handshake packets %d bytes", a.Size(), b.Size())
		})
	}
	if udp < 7 {
		t.Errorf("%d UDP handshakes read back from the -w files", udp)
	}
	if appData == 0 {
		t.Error("no DTLS capture has application data: nothing shows it is left out")
	}
}

// appDataDatagrams counts the UDP datagrams of a capture that begin with
// a DTLS application_data record.
func appDataDatagrams(t *testing.T, path string) int {
	n := 0
	testcap.Each(t, path, func(p *testcap.Packet) {
		if p.UDP && len(p.Datagram.Payload) > 0 && p.Datagram.Payload[0] == 23 {
			n++
		}
	})
	return n
}
