package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// pipe is a buffer the timer's flush and the test share, which fails
// writes once err is set.
type pipe struct {
	mu  sync.Mutex
	buf bytes.Buffer
	err error
}

func (l *pipe) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return 0, l.err
	}
	return l.buf.Write(p)
}

func (l *pipe) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor polls until dst holds want, or fails after a second.
func waitFor(t *testing.T, dst *pipe, want string) {
	t.Helper()
	for deadline := time.Now().Add(time.Second); dst.String() != want; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("passed on %q, want %q", dst.String(), want)
		}
	}
}

// TestBatchWriter: records are held, then passed on together by the timer
// without another write (a last record is not kept until the end); a
// record larger than the buffer goes straight through; Flush passes on
// the rest; a failed write of the timer is the next call's error.
func TestBatchWriter(t *testing.T) {
	var dst pipe
	// A delay long enough that the check just after the writes does not
	// race the timer on a loaded machine.
	b := newBatchWriter(&dst, 200*time.Millisecond)
	b.Write([]byte("a\n"))
	b.Write([]byte("b\n"))
	if got := dst.String(); got != "" {
		t.Fatalf("passed on at once: %q", got)
	}
	waitFor(t, &dst, "a\nb\n")
	b.Write([]byte("c\n"))
	waitFor(t, &dst, "a\nb\nc\n")
	big := bytes.Repeat([]byte("x"), 100<<10)
	if _, err := b.Write(big); err != nil || len(dst.String()) != 6+len(big) {
		t.Fatalf("big record: %d bytes passed on, %v", len(dst.String()), err)
	}
	b.Write([]byte("d\n"))
	if err := b.Flush(); err != nil || dst.String() != "a\nb\nc\n"+string(big)+"d\n" {
		t.Fatalf("after Flush: %d bytes, %v", len(dst.String()), err)
	}

	broken := errors.New("broken pipe")
	dst.mu.Lock()
	dst.err = broken
	dst.mu.Unlock()
	b.Write([]byte("e\n"))
	deadline := time.Now().Add(time.Second)
	for {
		if _, err := b.Write([]byte("f\n")); errors.Is(err, broken) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the timer's failed write is not reported")
		}
		time.Sleep(time.Millisecond)
	}
	if err := b.Flush(); !errors.Is(err, broken) {
		t.Errorf("Flush after a failed write: %v", err)
	}
}

// runOnPipe starts run with args, standard input a pipe into which it
// writes the capture tls12-sessionid-openssl.pcap and which it leaves open:
// the caller closes feed. done gets run's exit status.
func runOnPipe(t *testing.T, args ...string) (feed *io.PipeWriter, out *pipe, errb *bytes.Buffer, done chan int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(pcapDir, "tls12-sessionid-openssl.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	in, feed := io.Pipe()
	out, errb, done = &pipe{}, &bytes.Buffer{}, make(chan int, 1)
	go func() { done <- run(args, in, out, errb) }()
	if _, err := feed.Write(data); err != nil {
		t.Fatal(err)
	}
	return feed, out, errb, done
}

// TestStdinStaysOpen: reading standard input that stays open (tcpdump -w -
// | tlsinspect -r -), a handshake is reported before the input ends. With
// two workers the pipe is read ahead and its stall sends the round that
// ended the connection (what the test is for: without, the line waits for
// the input to end); one worker reports at once, and the case guards the
// background report's delay (used when a core is spare).
func TestStdinStaysOpen(t *testing.T) {
	for _, workers := range []string{"1", "2"} {
		t.Run("workers="+workers, func(t *testing.T) {
			feed, out, errb, done := runOnPipe(t, "-T", "json", "-r", "-", "--workers", workers)
			deadline := time.Now().Add(10 * time.Second) // a bound for a stuck test, not a timing
			for !strings.Contains(out.String(), `"established":true`) {
				if time.Now().After(deadline) {
					feed.Close()
					t.Fatalf("nothing reported while the input is open: %q", out.String())
				}
				time.Sleep(time.Millisecond)
			}
			feed.Close()
			if code := <-done; code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
		})
	}
}

// TestStdinFilteredTraffic: reading a pipe through a capture filter, with
// several workers, a handshake is reported while only packets the filter
// drops keep coming (so the pipe never stalls).
func TestStdinFilteredTraffic(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(pcapDir, "tls12-sessionid-openssl.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	// A UDP datagram on Ethernet, as a little-endian pcap record: filler
	// the filter "tcp" drops (hand-built: only its headers matter).
	filler := func(i int) []byte {
		pkt := make([]byte, 14+20+8+4)
		pkt[12], pkt[13] = 0x08, 0x00                          // IPv4
		pkt[14], pkt[16], pkt[17] = 0x45, 0, byte(len(pkt)-14) // version, IHL, total length
		pkt[22], pkt[23] = 64, 17                              // TTL, UDP
		copy(pkt[26:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
		pkt[34], pkt[35], pkt[36], pkt[37] = 0x30, 0x39, 0x00, 0x35 // ports 12345 -> 53
		pkt[39] = 12                                                // UDP length
		rec := make([]byte, 16, 16+len(pkt))
		sec := uint32(0x6b08ce2a + 60 + i/1000)
		rec[0], rec[1], rec[2], rec[3] = byte(sec), byte(sec>>8), byte(sec>>16), byte(sec>>24)
		usec := uint32(i % 1000 * 1000)
		rec[4], rec[5], rec[6] = byte(usec), byte(usec>>8), byte(usec>>16)
		rec[8], rec[12] = byte(len(pkt)), byte(len(pkt))
		return append(rec, pkt...)
	}
	in, feed := io.Pipe()
	out := &pipe{}
	var errb bytes.Buffer
	done := make(chan int)
	go func() { done <- run([]string{"-T", "json", "-r", "-", "--workers", "2", "tcp"}, in, out, &errb) }()
	if _, err := feed.Write(data); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second) // a bound for a stuck test, not a timing
	for i := 0; !strings.Contains(out.String(), `"established":true`); i++ {
		if time.Now().After(deadline) {
			feed.Close()
			t.Fatalf("nothing reported while dropped packets keep coming: %q", out.String())
		}
		if _, err := feed.Write(filler(i)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // never 20 ms without a packet: no stall
	}
	feed.Close()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "filtered out") {
		t.Errorf("no packet was filtered out: %s", errb.String())
	}
}

// TestStdinCountStops: -c N reached while the input pipe stays open and
// quiet, the run ends without waiting for the pipe (with several workers
// the pipe is read ahead, and the read gives up).
func TestStdinCountStops(t *testing.T) {
	for _, workers := range []string{"1", "2"} {
		t.Run("workers="+workers, func(t *testing.T) {
			feed, out, errb, done := runOnPipe(t, "-T", "json", "-q", "-r", "-", "-c", "1", "--workers", workers)
			defer feed.Close()
			select {
			case code := <-done:
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errb.String())
				}
			case <-time.After(10 * time.Second): // a bound for a stuck run, not a timing
				t.Fatalf("still running with -c 1 reached and the pipe open (%d bytes of output)", len(out.String()))
			}
			if n := strings.Count(out.String(), "\n"); n != 1 {
				t.Errorf("%d lines, want 1: %q", n, out.String())
			}
		})
	}
}
