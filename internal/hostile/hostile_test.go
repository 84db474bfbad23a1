package hostile

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/analyze"
	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

const tls12 = "../../testdata/pcaps/tls12-ecdhe-go.pcap"

func load(t *testing.T) Exchange {
	t.Helper()
	ex, err := LoadExchange(tls12)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// TestRecords: the server's stream splits into whole records.
func TestRecords(t *testing.T) {
	stream := load(t).Stream(false)
	recs := Records(stream)
	if len(recs) < 5 || !bytes.Equal(bytes.Join(recs, nil), stream) || recs[0][0] != 22 || recs[0][5] != 2 {
		t.Errorf("%d records; the first starts % x", len(recs), recs[0][:6])
	}
}

// TestFramesWellFormed: tcpdump reads the generated encapsulations
// without complaint (checksums, header lengths, extension headers).
func TestFramesWellFormed(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump not installed")
	}
	ex := load(t)
	var rep bytes.Buffer
	if _, err := Repeat(&rep, []string{tls12}, RepeatOptions{Bytes: 50000, Concurrency: 3}); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func() ([]byte, error){
		"vlan":   func() ([]byte, error) { return DeepVLAN(ex, 5) },
		"ipopt":  func() ([]byte, error) { return IPv4Options(ex) },
		"ip6ext": func() ([]byte, error) { return IPv6Extensions(ex) },
		"wrap":   func() ([]byte, error) { return SeqWrap(ex) },
		"repeat": func() ([]byte, error) { return rep.Bytes(), nil },
	}
	for name, gen := range cases {
		b, err := gen()
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), name+".pcap")
		os.WriteFile(f, b, 0o644)
		out, err := exec.Command(tcpdump, "-nnv", "-r", f).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		if s := string(out); strings.Contains(s, "incorrect") || strings.Contains(s, "[|") || regexp.MustCompile(`\bbad\b`).MatchString(s) {
			t.Errorf("%s: tcpdump complains:\n%s", name, s)
		}
	}
}

// TestRepeat: every copy is a connection of its own, reported in full.
func TestRepeat(t *testing.T) {
	var b bytes.Buffer
	copies, err := Repeat(&b, []string{tls12, "../../testdata/pcaps/tls13-go.pcap"}, RepeatOptions{Bytes: 200000, Concurrency: 7})
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.NewFileSource("repeat.pcap", bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]bool{}
	c, err := analyze.Run(src, analyze.Config{}, func(s *tlsconn.Summary) {
		if !s.Established || len(s.Warnings) != 0 {
			t.Errorf("%s: established %v, warnings %q", s.Client, s.Established, s.Warnings)
		}
		clients[s.Client] = true
	})
	if err != nil {
		t.Fatal(err)
	}
	if copies%7 != 0 || c.TLS.Handshakes != 2*copies || len(clients) != 2*copies || int64(b.Len()) < 200000 {
		t.Errorf("%d copies: %d handshakes from %d clients, %d bytes", copies, c.TLS.Handshakes, len(clients), b.Len())
	}
}
