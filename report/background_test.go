package report

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// recorder is a Writer that keeps what it is given, and fails from the
// failAt'th summary on (0: never).
type recorder struct {
	mu     sync.Mutex
	got    []*tlsconn.Summary
	closed int
	failAt int
	writes int
}

var errRecorder = errors.New("recorder: write failed")

func (r *recorder) Write(s *tlsconn.Summary) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed > 0 {
		return errors.New("recorder: write after close")
	}
	r.writes++
	if r.failAt > 0 && r.writes >= r.failAt {
		return errRecorder
	}
	r.got = append(r.got, s)
	return nil
}

func (r *recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed++
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func summaries(n int) []*tlsconn.Summary {
	ss := make([]*tlsconn.Summary, n)
	for i := range ss {
		ss[i] = &tlsconn.Summary{Client: fmt.Sprintf("10.0.0.1:%d", i)}
	}
	return ss
}

func TestBackgroundOrder(t *testing.T) {
	for _, n := range []int{0, 1, backgroundBatch - 1, backgroundBatch, backgroundBatch + 1, backgroundBatch*(backgroundQueued+3) + 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			rec := &recorder{}
			b := NewBackground(rec, time.Hour, nil) // only full batches and Close hand over
			ss := summaries(n)
			for _, s := range ss {
				if err := b.Write(s); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			if rec.closed != 1 {
				t.Errorf("underlying Writer closed %d times, want once", rec.closed)
			}
			if len(rec.got) != n {
				t.Fatalf("wrote %d summaries, want %d", len(rec.got), n)
			}
			for i := range ss {
				if rec.got[i] != ss[i] {
					t.Fatalf("summary %d is %s, want %s", i, rec.got[i].Client, ss[i].Client)
				}
			}
			if err := b.Write(&tlsconn.Summary{}); !errors.Is(err, errClosed) {
				t.Errorf("Write after Close: %v, want errClosed", err)
			}
			if err := b.Close(); !errors.Is(err, errClosed) {
				t.Errorf("second Close: %v, want errClosed", err)
			}
		})
	}
}

// TestBackgroundDelay: a batch that does not fill is written without Close,
// once its delay has passed.
func TestBackgroundDelay(t *testing.T) {
	rec := &recorder{}
	b := NewBackground(rec, 10*time.Millisecond, nil)
	defer b.Close()
	for round := 1; round <= 3; round++ {
		for _, s := range summaries(3) {
			if err := b.Write(s); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(10 * time.Second) // a bound for a stuck test, not a timing
		for rec.count() < 3*round {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %d summaries written, want %d", round, rec.count(), 3*round)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

func TestBackgroundError(t *testing.T) {
	rec := &recorder{failAt: 3}
	var calls atomic.Int32
	b := NewBackground(rec, time.Millisecond, func(err error) {
		if !errors.Is(err, errRecorder) {
			t.Errorf("onErr(%v)", err)
		}
		calls.Add(1)
	})
	ss := summaries(5 * backgroundBatch)
	var werr error
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; werr == nil; i++ {
		if time.Now().After(deadline) {
			t.Fatal("Write never returned the underlying Writer's error")
		}
		werr = b.Write(ss[i%len(ss)])
		if i >= len(ss) {
			time.Sleep(time.Millisecond) // let the delay hand over
		}
	}
	if !errors.Is(werr, errRecorder) {
		t.Errorf("Write: %v, want the underlying error", werr)
	}
	if err := b.Close(); !errors.Is(err, errRecorder) {
		t.Errorf("Close: %v, want the underlying error", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("onErr called %d times, want once", n)
	}
	if rec.writes != 3 {
		t.Errorf("%d writes reached the underlying Writer, want 3 (none after the failure)", rec.writes)
	}
	if len(rec.got) != 2 {
		t.Errorf("%d summaries written, want 2", len(rec.got))
	}
}

// TestBackgroundConcurrentDelay writes while the delay's timer keeps
// handing batches over: every summary arrives once, in order (run with
// -race).
func TestBackgroundConcurrentDelay(t *testing.T) {
	rec := &recorder{}
	b := NewBackground(rec, time.Microsecond, nil)
	ss := summaries(20 * backgroundBatch)
	for i, s := range ss {
		if err := b.Write(s); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			time.Sleep(time.Microsecond)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != len(ss) {
		t.Fatalf("wrote %d summaries, want %d", len(rec.got), len(ss))
	}
	for i := range ss {
		if rec.got[i] != ss[i] {
			t.Fatalf("summary %d is %s, want %s", i, rec.got[i].Client, ss[i].Client)
		}
	}
}
