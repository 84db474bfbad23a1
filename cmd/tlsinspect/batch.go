package main

import (
	"bufio"
	"io"
	"time"
)

// batchWriter holds what the report writes when files are read into a
// pipe or a file: the report flushes every record (so that `| jq` or
// `| head` sees each connection as it completes), which costs a write(2)
// each, as much as the JSON encoding of the record. Records are passed on
// once batchDelay has gone by since the last write, or a buffer is full,
// and at the end: what reads the output sees them at most batchDelay late
// while the file is being read.
type batchWriter struct {
	w    *bufio.Writer
	now  func() time.Time
	last time.Time
}

const batchDelay = 100 * time.Millisecond

func newBatchWriter(w io.Writer, now func() time.Time) *batchWriter {
	return &batchWriter{w: bufio.NewWriterSize(w, 64<<10), now: now, last: now()}
}

func (b *batchWriter) Write(p []byte) (int, error) {
	n, err := b.w.Write(p)
	if err != nil {
		return n, err
	}
	if t := b.now(); t.Sub(b.last) >= batchDelay {
		b.last = t
		err = b.w.Flush()
	}
	return n, err
}

// Flush writes what is held.
func (b *batchWriter) Flush() error { return b.w.Flush() }
