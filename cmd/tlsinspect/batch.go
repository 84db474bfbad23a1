package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// batchWriter holds what the report writes to standard output when files
// are read into a pipe or a file (-o files are not batched: their rotation
// counts the bytes written): the report flushes every record (so that `| jq` or
// `| head` sees each connection as it completes), which costs a write(2)
// each, as much as the JSON encoding of the record. A record is passed on
// at most delay after it was written (a timer started by the first record
// after a flush), or sooner when the buffer fills, and at the end.
type batchWriter struct {
	delay time.Duration
	mu    sync.Mutex
	w     *bufio.Writer
	timer *time.Timer // running while records wait
}

// batchDelay is the most a line waits between a connection's report and
// standard output (README "Live capture"); with report.Background in
// front, backgroundDelay of it is spent there.
const (
	batchDelay      = 100 * time.Millisecond
	backgroundDelay = 50 * time.Millisecond
)

func newBatchWriter(w io.Writer, delay time.Duration) *batchWriter {
	return &batchWriter{delay: delay, w: bufio.NewWriterSize(w, 64<<10)}
}

func (b *batchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.w.Write(p) // after a failed flush, bufio returns its error
	if err == nil && b.w.Buffered() > 0 && b.timer == nil {
		b.timer = time.AfterFunc(b.delay, b.flushLater)
	}
	return n, err
}

// flushLater is the timer's flush. Its error stays in the bufio.Writer,
// which returns it from every later Write and Flush.
func (b *batchWriter) flushLater() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.timer = nil
	b.w.Flush()
}

// Flush writes what is held, and stops the timer.
func (b *batchWriter) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	return b.w.Flush()
}
