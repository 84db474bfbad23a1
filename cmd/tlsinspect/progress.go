package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"
)

// environment is what run takes from the process beyond its arguments and
// streams; tests replace it.
type environment struct {
	getenv     func(string) string
	isTerminal func(w io.Writer) bool
	termWidth  func(w io.Writer) int // columns, 0 when unknown
	now        func() time.Time      // the clock of file rotation (-G, --output-rotate-time)
	// progressDelay passes before the first progress line (short reads
	// show none), progressInterval between two.
	progressDelay, progressInterval time.Duration
}

var defaultEnvironment = environment{
	getenv:           os.Getenv,
	isTerminal:       fileIsTerminal,
	termWidth:        terminalWidth,
	now:              time.Now,
	progressDelay:    500 * time.Millisecond,
	progressInterval: 250 * time.Millisecond,
}

func fileIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// progressWanted decides whether reading files shows progress on standard
// error: only when it is a terminal, which a pipe, a file or a CI log is
// not; never with --no-progress or -q, for live capture, on a dumb
// terminal, or when $CI says the run is in CI (some CI systems give their
// jobs a terminal).
func progressWanted(o options, stderrIsTerminal bool, getenv func(string) string) bool {
	if o.noProgress || o.quiet || o.iface != "" || len(o.read) == 0 || !stderrIsTerminal {
		return false
	}
	if getenv("TERM") == "dumb" {
		return false
	}
	switch ci := strings.ToLower(getenv("CI")); ci {
	case "", "0", "false", "no":
		return true
	}
	return false
}

// progress shows, on one terminal line refreshed a few times a second,
// how far the reading of the input files has got. The readers and the
// emitter only add to its atomic counters (per read buffer, per
// handshake: nothing per packet); a goroutine samples them.
//
// Everything else written to the terminal while it is shown (output rows,
// messages) goes through writers from wrap, which take the line away
// first; it is drawn again at the next refresh, and only when the cursor
// is at the start of a line.
type progress struct {
	term     io.Writer // standard error, a terminal
	width    func() int
	total    int64 // bytes of all inputs (gzip'd files: compressed); <0 unknown
	start    time.Time
	delay    time.Duration
	interval time.Duration

	read       atomic.Int64 // bytes read from the inputs
	conns      atomic.Int64 // TLS connections reported
	handshakes atomic.Int64 // handshakes reported

	mu      sync.Mutex
	shown   bool // a progress line is on the terminal
	midLine bool // the last byte written through wrap was not a newline
	stop    chan struct{}
	done    chan struct{}
}

func newProgress(term io.Writer, total int64, env environment) *progress {
	return &progress{
		term:     term,
		width:    func() int { return env.termWidth(term) },
		total:    total,
		delay:    env.progressDelay,
		interval: env.progressInterval,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// run draws the line until Stop.
func (p *progress) run() {
	defer close(p.done)
	p.start = time.Now()
	t := time.NewTimer(p.delay)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			p.mu.Lock()
			p.clearLocked()
			p.mu.Unlock()
			return
		case <-t.C:
			p.draw()
			t.Reset(p.interval)
		}
	}
}

// Start begins drawing; the start time is now.
func (p *progress) Start() { go p.run() }

// Stop clears the line and returns once it is gone. It may be called more
// than once.
func (p *progress) Stop() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

// added counts one summary reported.
func (p *progress) added(handshake int) {
	p.handshakes.Add(1)
	if handshake <= 1 {
		p.conns.Add(1)
	}
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.midLine {
		return
	}
	line := formatProgress(progressState{
		read:       p.read.Load(),
		total:      p.total,
		elapsed:    time.Since(p.start),
		conns:      p.conns.Load(),
		handshakes: p.handshakes.Load(),
	}, p.width())
	// \x1b[K erases what a longer line before left.
	io.WriteString(p.term, "\r"+line+"\x1b[K")
	p.shown = true
}

func (p *progress) clearLocked() {
	if p.shown {
		io.WriteString(p.term, "\r\x1b[K")
		p.shown = false
	}
}

// wrap returns a writer to w, a stream to the same terminal, that takes
// the progress line away before writing.
func (p *progress) wrap(w io.Writer) io.Writer { return &progressWriter{p, w} }

type progressWriter struct {
	p *progress
	w io.Writer
}

func (pw *progressWriter) Write(b []byte) (int, error) {
	pw.p.mu.Lock()
	defer pw.p.mu.Unlock()
	pw.p.clearLocked()
	n, err := pw.w.Write(b)
	if n > 0 {
		pw.p.midLine = b[n-1] != '\n'
	}
	return n, err
}

// progressState is one sample of the counters.
type progressState struct {
	read, total       int64 // total < 0: unknown (standard input, a pipe)
	elapsed           time.Duration
	conns, handshakes int64
}

// formatProgress is the progress line, at most width-1 columns (so that
// the terminal never wraps it; 80 columns when width is unknown):
//
//	tlsinspect: 12.3/448.0 MB (2%), 95.1 MB/s, 4s left, 1204 TLS connections, 1310 handshakes
//
// What does not fit is left out, the least useful first: the handshakes
// when they are as many as the connections, the time left, the
// handshakes, the rate, the connections; then the line is cut.
func formatProgress(st progressState, width int) string {
	if width <= 0 {
		width = 80
	}
	type part struct {
		text string
		rank int // left out first: lowest
	}
	var parts []part
	if st.total >= 0 {
		pct := int64(100)
		if st.total > 0 && st.read < st.total {
			pct = st.read * 100 / st.total
		}
		parts = append(parts, part{fmt.Sprintf("%s (%d%%)", formatBytesOf(st.read, st.total), pct), 9})
	} else {
		parts = append(parts, part{formatBytes(st.read) + " read", 9})
	}
	rate := 0.0
	if st.elapsed > 0 {
		rate = float64(st.read) / st.elapsed.Seconds()
		parts = append(parts, part{formatBytes(int64(rate)) + "/s", 4})
	}
	if st.total >= 0 && rate > 0 && st.read < st.total && st.elapsed >= time.Second {
		left := time.Duration(float64(st.total-st.read) / rate * float64(time.Second))
		parts = append(parts, part{formatETA(left) + " left", 2})
	}
	parts = append(parts, part{fmt.Sprintf("%d TLS %s", st.conns, plural(st.conns, "connection")), 5})
	hsRank := 3
	if st.handshakes == st.conns {
		hsRank = 1
	}
	parts = append(parts, part{fmt.Sprintf("%d %s", st.handshakes, plural(st.handshakes, "handshake")), hsRank})
	line := func() string {
		texts := make([]string, len(parts))
		for i, p := range parts {
			texts[i] = p.text
		}
		return "tlsinspect: " + strings.Join(texts, ", ") // ASCII only: bytes are columns
	}
	s := line()
	for len(s) > width-1 && len(parts) > 1 {
		low := 0
		for i, p := range parts {
			if p.rank < parts[low].rank {
				low = i
			}
		}
		parts = append(parts[:low], parts[low+1:]...)
		s = line()
	}
	if len(s) > width-1 {
		s = s[:max(width-1, 0)]
	}
	return s
}

// formatBytesOf writes "12.3/448.0 MB", or "512.0 kB/1.2 GB" when the
// units differ.
func formatBytesOf(n, total int64) string {
	a, b := formatBytes(n), formatBytes(total)
	ia, ib := strings.LastIndexByte(a, ' '), strings.LastIndexByte(b, ' ')
	if a[ia:] == b[ib:] {
		return a[:ia] + "/" + b
	}
	return a + "/" + b
}

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// formatBytes writes n in decimal units: 999 B, 12.3 kB, 448.0 MB, 1.2 GB.
func formatBytes(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, unit := range []string{"kB", "MB", "GB", "TB"} {
		v /= 1000
		if v < 999.95 || unit == "TB" {
			return fmt.Sprintf("%.1f %s", v, unit)
		}
	}
	panic("unreachable")
}

// formatETA: 9s, 4m05s, 2h07m.
func formatETA(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s/60%60)
}

// countingReader counts the bytes read from a capture file, for the
// progress line: an atomic add per read of the file (capture reads in
// large buffers), never per packet. It is read on the capture's read-ahead
// goroutine, which may still be reading when the capture is closed.
type countingReader struct {
	r     io.Reader
	total *atomic.Int64 // the progress counter, or nil
	n     atomic.Int64  // this file's bytes
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.n.Add(int64(n))
		if c.total != nil {
			c.total.Add(int64(n))
		}
	}
	return n, err
}

// inputSize is the total size of the -r files, or -1 when one is not a
// regular file (standard input from a pipe, a FIFO) or cannot be read.
func inputSize(names []string, stdin io.Reader) int64 {
	var total int64
	for _, name := range names {
		size, ok := regularSize(name, stdin)
		if !ok {
			return -1
		}
		total += size
	}
	return total
}

// regularSize is the size of the -r input name, and whether it is a
// regular file (not standard input from a pipe, a FIFO, a device).
func regularSize(name string, stdin io.Reader) (int64, bool) {
	var fi os.FileInfo
	var err error
	if name == "-" {
		f, ok := stdin.(*os.File)
		if !ok {
			return 0, false
		}
		fi, err = f.Stat()
	} else {
		fi, err = os.Stat(name)
	}
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	return fi.Size(), true
}
