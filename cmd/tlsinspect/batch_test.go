package main

import (
	"bytes"
	"testing"
	"time"
)

// TestBatchWriter: records are held until batchDelay has gone by since the
// last write, then passed on together with the one that came late; Flush
// passes on the rest.
func TestBatchWriter(t *testing.T) {
	clock := time.Unix(1000, 0)
	var dst bytes.Buffer
	b := newBatchWriter(&dst, func() time.Time { return clock })
	steps := []struct {
		advance time.Duration
		write   string
		want    string // what dst holds after the write
	}{
		{0, "a\n", ""},
		{50 * time.Millisecond, "b\n", ""},
		{49 * time.Millisecond, "c\n", ""},
		{time.Millisecond, "d\n", "a\nb\nc\nd\n"}, // 100 ms since the start
		{10 * time.Millisecond, "e\n", "a\nb\nc\nd\n"},
		{time.Second, "f\n", "a\nb\nc\nd\ne\nf\n"},
		{0, "g\n", "a\nb\nc\nd\ne\nf\n"},
	}
	for i, s := range steps {
		clock = clock.Add(s.advance)
		if n, err := b.Write([]byte(s.write)); n != len(s.write) || err != nil {
			t.Fatalf("step %d: Write = %d, %v", i, n, err)
		}
		if got := dst.String(); got != s.want {
			t.Fatalf("step %d: passed on %q, want %q", i, got, s.want)
		}
	}
	if err := b.Flush(); err != nil || dst.String() != "a\nb\nc\nd\ne\nf\ng\n" {
		t.Fatalf("after Flush: %q, %v", dst.String(), err)
	}
	// A record larger than the buffer goes straight through.
	big := bytes.Repeat([]byte("x"), 100<<10)
	if _, err := b.Write(big); err != nil || dst.Len() != 14+len(big) {
		t.Fatalf("big record: %d bytes passed on, %v", dst.Len(), err)
	}
}
