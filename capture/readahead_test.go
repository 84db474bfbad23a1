package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// TestReadAhead: files of several chunks (records cut by the chunks'
// edges) read the same with ReadAhead as without, whenever it is called,
// whatever the reads of the file return, with Next, NextBatch and
// KeepData, plain, gzip'd and pcapng, whole and cut short.
func TestReadAhead(t *testing.T) {
	rs := testRecs(900) // records of up to 6 KB, 2.9 MB: six chunks
	pcap, _ := writePcap(binary.LittleEndian, true, layers.LinkTypeEthernet, rs)
	ng, _ := writeNg([]order{binary.LittleEndian, binary.BigEndian}, rs)
	if len(pcap) < 4*aheadChunkSize {
		t.Fatalf("%d bytes: too few chunks", len(pcap))
	}
	files := map[string][]byte{
		"pcap":       pcap,
		"pcap.gz":    gz(t, pcap),
		"pcapng":     ng,
		"pcapng.gz":  gz(t, ng),
		"pcap cut":   pcap[:len(pcap)-1000],
		"pcapng cut": ng[:len(ng)/2+3],
	}
	for name, file := range files {
		t.Run(name, func(t *testing.T) {
			want := fuzzRead(t, bytes.NewReader(file), false, 0)
			for _, tc := range []struct {
				name  string
				r     io.Reader
				keep  bool
				batch int
				from  int
			}{
				{"Next", bytes.NewReader(file), false, 0, 0},
				{"NextBatch", bytes.NewReader(file), false, 64, 0},
				{"NextBatch from packet 101", bytes.NewReader(file), false, 64, 100},
				{"KeepData", bytes.NewReader(file), true, 64, 0},
				{"half reads", iotest.HalfReader(bytes.NewReader(file)), false, 64, 0},
				{"data with EOF", iotest.DataErrReader(bytes.NewReader(file)), false, 7, 3},
			} {
				if got := fuzzReadWith(t, tc.r, tc.keep, tc.batch, false, tc.from); got != want {
					t.Errorf("%s: read ahead differs", tc.name)
				}
			}
		})
	}
}

// TestReadAheadError: an error of the file's reader arrives after the
// bytes before it, as it does without reading ahead.
func TestReadAheadError(t *testing.T) {
	pcap, _ := writePcap(binary.LittleEndian, false, layers.LinkTypeEthernet, testRecs(900))
	for _, ahead := range []int{-1, 0} {
		r := io.MultiReader(bytes.NewReader(pcap[:len(pcap)/2]), iotest.ErrReader(io.ErrClosedPipe))
		got := fuzzReadWith(t, r, false, 64, false, ahead)
		if !bytes.Contains([]byte(got), []byte("read error: io: read/write on closed pipe")) {
			t.Errorf("read ahead %v: the reader's error is not reported:\n...%s", ahead >= 0, got[max(0, len(got)-300):])
		}
		if ahead < 0 {
			continue
		}
		if want := fuzzReadWith(t, io.MultiReader(bytes.NewReader(pcap[:len(pcap)/2]), iotest.ErrReader(io.ErrClosedPipe)), false, 64, false, -1); got != want {
			t.Error("read ahead, the packets before the error differ")
		}
	}
}

// TestReadAheadStops: the goroutine is told to stop at Close, and when the
// source is dropped without Close.
func TestReadAheadStops(t *testing.T) {
	pcap, _ := writePcap(binary.LittleEndian, false, layers.LinkTypeEthernet, testRecs(900))
	open := func() *FileSource {
		s, err := NewFileSource("x.pcap", bytes.NewReader(pcap))
		if err != nil {
			t.Fatal(err)
		}
		s.ReadAhead()
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
		return s
	}
	stopped := func(st *aheadStop) bool {
		select {
		case <-st.c:
			return true
		default:
			return false
		}
	}

	s := open()
	st := s.ra.stop
	if stopped(st) {
		t.Fatal("stopped before Close")
	}
	s.Close()
	if !stopped(st) {
		t.Error("Close did not stop the goroutine")
	}
	if _, err := s.Next(); err == nil {
		t.Error("Next after Close read a packet")
	}

	st = open().ra.stop                          // the source is dropped at once
	deadline := time.Now().Add(10 * time.Second) // a bound for a stuck test, not a timing
	for !stopped(st) {
		if time.Now().After(deadline) {
			t.Fatal("a source dropped without Close did not stop its goroutine")
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

// TestOnStall: a source reading ahead calls OnStall's function when the
// file has nothing more for it for a while (a pipe), on the goroutine
// calling Next and before it waits on, and reads the rest the same once
// it comes.
func TestOnStall(t *testing.T) {
	pcap, _ := writePcap(binary.LittleEndian, false, layers.LinkTypeEthernet, testRecs(50))
	want := fuzzRead(t, bytes.NewReader(pcap), false, 0)
	for _, on := range []bool{false, true} {
		in, feed := io.Pipe()
		s, err := func() (*FileSource, error) {
			go feed.Write(pcap[:len(pcap)/2])
			return NewFileSource("pipe.pcap", in)
		}()
		if err != nil {
			t.Fatal(err)
		}
		if on {
			s.ReadAhead()
		}
		stalls := 0
		release := make(chan struct{})
		var once sync.Once
		let := func() { once.Do(func() { close(release) }) } // the rest of the file comes now
		s.OnStall(func() {
			stalls++
			let()
		})
		if !on {
			let() // without reading ahead, Next would wait for it
		}
		// Without a stall the test would wait for ever: a bound for a
		// stuck test, not a timing.
		watchdog := time.AfterFunc(10*time.Second, let)
		go func() {
			<-release
			feed.Write(pcap[len(pcap)/2:])
			feed.Close()
		}()
		var got strings.Builder
		for {
			p, err := s.Next()
			if err != nil {
				fmt.Fprintf(&got, "%v\n", err)
				break
			}
			fmt.Fprintf(&got, "packet %d %v %v %d %x\n", p.Index, p.Timestamp, p.LinkType, p.Length, p.Data)
		}
		s.Close()
		watchdog.Stop()
		if got.String() != want {
			t.Errorf("read ahead %v, through a pipe:\n%s\nwant:\n%s", on, got.String(), want)
		}
		if !on {
			if stalls != 0 {
				t.Errorf("not reading ahead: %d stalls", stalls)
			}
			continue
		}
		if stalls == 0 { // more than one if the rest comes late
			t.Error("reading ahead: no stall")
		}
	}
}

// gatedReader gives one piece of data per token on gate, and counts its
// reads.
type gatedReader struct {
	gate  chan struct{}
	data  []byte
	reads atomic.Int32
}

func (g *gatedReader) Read(p []byte) (int, error) {
	g.reads.Add(1)
	<-g.gate
	if len(g.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.data[:min(len(g.data), 1000)])
	g.data = g.data[n:]
	return n, nil
}

// TestReadAheadNoReadAfterClose: once told to stop (Close does: see
// TestReadAheadStops), the goroutine reads no more than the read it was in
// (standard input, left open, is not read further), however its selects
// fall: both of them would have another case ready.
func TestReadAheadNoReadAfterClose(t *testing.T) {
	for range 20 {
		g := &gatedReader{gate: make(chan struct{}, 100), data: make([]byte, 10000)}
		empty, full := make(chan []byte, aheadBuffers), make(chan aheadChunk, aheadBuffers)
		for range aheadBuffers {
			empty <- make([]byte, 1000)
		}
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			fillAhead(g, empty, full, stop)
			close(done)
		}()
		for g.reads.Load() < 1 { // the goroutine is in its first read
			runtime.Gosched()
		}
		close(stop)
		for range 10 {
			g.gate <- struct{}{} // reads after the first would not wait
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second): // a bound for a stuck test, not a timing
			t.Fatal("the goroutine did not end")
		}
		if n := g.reads.Load(); n != 1 {
			t.Fatalf("%d reads, want 1 (the one in flight when told to stop)", n)
		}
	}
}

// TestGiveUpOn: a source reading ahead from a pipe that stays open stops
// waiting when its done channel is closed, and says so, every time after.
func TestGiveUpOn(t *testing.T) {
	file, _ := writePcap(binary.LittleEndian, false, layers.LinkTypeEthernet, testRecs(3))
	in, feed := io.Pipe()
	defer feed.Close()
	go feed.Write(file) // the pipe then stays open, with nothing more
	s, err := NewFileSource("pipe", in)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.ReadAhead()
	for i := 0; i < 3; i++ {
		if _, err := s.Next(); err != nil {
			t.Fatalf("packet %d: %v", i+1, err)
		}
	}
	done := make(chan struct{})
	s.GiveUpOn(done)
	time.AfterFunc(10*time.Millisecond, func() { close(done) })
	for range 2 {
		if _, err := s.Next(); !errors.Is(err, ErrGaveUp) {
			t.Fatalf("Next after giving up: %v, want ErrGaveUp", err)
		}
	}
}
