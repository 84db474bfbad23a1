package analyze

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

var cfg = Config{MaxMessage: 256 << 10, ScanLimit: 16 << 10, MaxBuffer: 256 << 10, IdleTimeout: 2 * time.Minute}

func runBytes(t testing.TB, name string, data []byte) ([]*tlsconn.Summary, Counts, error) {
	src, err := capture.NewFileSource(name, bytes.NewReader(data))
	if err != nil {
		return nil, Counts{}, err
	}
	var got []*tlsconn.Summary
	c, err := Run(src, cfg, func(s *tlsconn.Summary) { got = append(got, s) })
	return got, c, err
}

// TestTruncatedCaptureKeepsEarlierHandshakes cuts a real capture at many
// points: every handshake read before the cut is still reported, the error
// names the packet, and nothing panics.
func TestTruncatedCaptureKeepsEarlierHandshakes(t *testing.T) {
	data, err := os.ReadFile("../testdata/pcaps/tls12-sessionid-openssl.pcap")
	if err != nil {
		t.Fatal(err)
	}
	full, _, err := runBytes(t, "full", data)
	if err != nil || len(full) != 2 {
		t.Fatalf("full capture: %d summaries, %v", len(full), err)
	}
	// Cutting later never loses a handshake reported for an earlier cut,
	// and an error always names the file and packet.
	prev := 0
	for cut := 25; cut <= len(data); cut += 37 {
		got, _, err := runBytes(t, "cut.pcap", data[:cut])
		if err != nil && !strings.Contains(err.Error(), "cut.pcap: packet ") {
			t.Fatalf("cut at %d: error %q does not name the packet", cut, err)
		}
		established := 0
		for _, s := range got {
			if s.Client == "" || s.Server == "" {
				t.Fatalf("cut at %d: summary without endpoints", cut)
			}
			if s.Established {
				established++
			}
		}
		if established < prev {
			t.Fatalf("cut at %d: %d established handshakes, %d at an earlier cut", cut, established, prev)
		}
		prev = established
	}
	// Losing the last packet's tail keeps both connections and the first
	// handshake complete.
	got, _, err := runBytes(t, "cut.pcap", data[:len(data)-30])
	if err == nil || len(got) != 2 || !got[0].Established {
		t.Fatalf("cut in the last packet: %d summaries (first established: %v), error %v", len(got), len(got) > 0 && got[0].Established, err)
	}
}

// TestSharedCorpusNeverPanics runs every capture of the shared corpus
// (real third-party captures, some damaged or fuzzed) through the whole
// pipeline: partial results, clear errors, no panic.
func TestSharedCorpusNeverPanics(t *testing.T) {
	for _, p := range testcorpus.Captures(t) {
		runCorpusFile(t, p)
	}
}

// runCorpusFile runs one corpus capture; a damaged file may end with a
// capture.ReadError, never with anything else or a panic.
func runCorpusFile(t *testing.T, p string) {
	src, err := capture.OpenFile(p)
	if err != nil {
		t.Errorf("%s: %v", p, err)
		return
	}
	defer src.Close()
	_, err = Run(src, cfg, func(s *tlsconn.Summary) {
		if _, err := json.Marshal(s); err != nil {
			t.Errorf("%s: summary does not encode: %v", p, err)
		}
	})
	var re *capture.ReadError
	if err != nil && !errors.As(err, &re) {
		t.Errorf("%s: error of unexpected type %T: %v", p, err, err)
	}
}

// FuzzRun feeds arbitrary capture-file bytes through the whole pipeline.
func FuzzRun(f *testing.F) {
	for _, name := range []string{"tls12-mtls-go.pcap", "tls13-hrr-go.pcap", "tls13-go.pcapng", "sll2-go.pcap"} {
		data, err := os.ReadFile(filepath.Join("../testdata/pcaps", name))
		if err != nil {
			f.Fatal(err)
		}
		// Go's fuzzer slows to a crawl on large inputs: seed with the
		// first packets (the handshake's start), which keeps each seed small.
		f.Add(data[:min(len(data), 3000)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, _, _ := runBytes(t, "fuzz", data)
		for _, s := range got {
			if s.ClientCipherSuites == nil || s.Warnings == nil || s.Alerts == nil {
				t.Fatalf("summary with null lists: %+v", s)
			}
			if _, err := json.Marshal(s); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// readAheadSource is a FileSource that says whether it was asked to read
// ahead, and how much of the file was read after that.
type readAheadSource struct {
	*capture.FileSource
	file       *pieces
	asked      bool
	readBefore int64
}

func (s *readAheadSource) ReadAhead() {
	s.asked = true
	s.readBefore = s.file.read.Load()
	s.FileSource.ReadAhead()
}

// pieces gives a file at most 1 KiB per read, so that opening it buffers
// only its start and reading ahead has the rest to read.
type pieces struct {
	r    io.Reader
	read atomic.Int64
}

func (p *pieces) Read(b []byte) (int, error) {
	n, err := p.r.Read(b[:min(len(b), 1<<10)])
	p.read.Add(int64(n))
	return n, err
}

// TestReadAhead: a source that can read ahead is asked to when the Config
// says so, and the project's captures then give the same summaries, with
// one worker and with two, though most of each file is read ahead.
func TestReadAhead(t *testing.T) {
	names, err := filepath.Glob("../testdata/pcaps/*.pcap*")
	if err != nil || len(names) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	run := func(name string, c Config) (string, error) {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		file := &pieces{r: bytes.NewReader(data)}
		fs, err := capture.NewFileSource(name, file)
		if err != nil {
			return "", err
		}
		src := &readAheadSource{FileSource: fs, file: file}
		var out bytes.Buffer
		enc := json.NewEncoder(&out)
		_, err = Run(src, c, func(s *tlsconn.Summary) { enc.Encode(s) })
		fs.Close()
		if src.asked != c.ReadAhead {
			t.Errorf("%s: ReadAhead %v, asked %v", name, c.ReadAhead, src.asked)
		}
		if ahead := int64(len(data)) - src.readBefore; c.ReadAhead && len(data) > 4<<10 && ahead < int64(len(data))/2 {
			t.Errorf("%s: %d of %d bytes left to read when reading ahead began", name, ahead, len(data))
		}
		return out.String(), err
	}
	for _, name := range names {
		for _, workers := range []int{1, 2} {
			c := cfg
			c.Workers = workers
			want, wantErr := run(name, c)
			c.ReadAhead = true
			got, gotErr := run(name, c)
			if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("%s, %d workers: read ahead differs", filepath.Base(name), workers)
			}
		}
	}
}
