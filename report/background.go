package report

import (
	"cmp"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// Background is a Writer that hands summaries to another Writer on a
// goroutine of its own, so that formatting them (a seventh of the work on
// a capture of short connections) runs beside the analysis instead of
// after each connection. Summaries go over in batches: a goroutine
// wakeup for each one would cost about what formatting it does. A batch is
// handed over when it is full, at most a delay after its first summary
// (so that `| jq` still sees a connection soon after it completes), and at
// Close. Summaries must not change once written, which tlsconn's never do.
//
// Write never blocks on the formatting except when batches are waiting:
// then it waits for one to be taken, so memory stays bounded.
type Background struct {
	w     Writer
	delay time.Duration
	onErr func(error)

	mu      sync.Mutex
	pending []*tlsconn.Summary // not yet handed over
	timer   *time.Timer        // running while pending waits
	closed  bool

	queue chan []*tlsconn.Summary // batches handed over
	spare chan []*tlsconn.Summary // written batches, for reuse
	done  chan struct{}           // closed when the goroutine has ended
	err   atomic.Pointer[error]   // w's first error
}

// backgroundBatch is the most summaries handed over at once, and
// backgroundQueued the most batches waiting.
const (
	backgroundBatch  = 64
	backgroundQueued = 4
)

// errClosed is returned by Background.Write after Close, and by a second
// Close.
var errClosed = errors.New("report: write after close")

// NewBackground starts a goroutine that writes to w what the returned
// Writer is given. A batch not yet full is handed over delay after its
// first summary. onErr, when not nil, is called (on that goroutine) with
// w's first error; later summaries are dropped, and Write returns the error.
func NewBackground(w Writer, delay time.Duration, onErr func(error)) *Background {
	b := &Background{
		w:     w,
		delay: delay,
		onErr: onErr,
		queue: make(chan []*tlsconn.Summary, backgroundQueued),
		spare: make(chan []*tlsconn.Summary, backgroundQueued+1),
		done:  make(chan struct{}),
	}
	go b.run()
	return b
}

// Write queues s. Its error is the first one of the underlying Writer
// seen so far.
func (b *Background) Write(s *tlsconn.Summary) error {
	if err := b.failed(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	if b.pending == nil {
		select {
		case b.pending = <-b.spare:
		default:
			b.pending = make([]*tlsconn.Summary, 0, backgroundBatch)
		}
	}
	b.pending = append(b.pending, s)
	switch {
	case len(b.pending) >= backgroundBatch:
		b.handOver()
	case b.timer == nil:
		b.timer = time.AfterFunc(b.delay, b.flushLater)
	}
	return nil
}

// handOver queues the pending batch; b.mu is held.
func (b *Background) handOver() {
	if b.timer != nil {
		b.timer.Stop() // a timer already firing finds nothing pending, or hands over early
		b.timer = nil
	}
	if len(b.pending) == 0 {
		return
	}
	b.queue <- b.pending // waits while backgroundQueued batches wait
	b.pending = nil
}

// flushLater is the timer's: the pending batch has waited long enough.
func (b *Background) flushLater() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.handOver()
	}
}

func (b *Background) run() {
	defer close(b.done)
	for batch := range b.queue {
		for i, s := range batch {
			if b.failed() == nil {
				if err := b.w.Write(s); err != nil {
					b.fail(err)
				}
			}
			batch[i] = nil // not kept alive by the spare
		}
		select {
		case b.spare <- batch[:0]:
		default:
		}
	}
}

// fail keeps err, the underlying Writer's first: on a path of its own, so
// that err is not moved to the heap for every summary.
func (b *Background) fail(err error) {
	b.err.Store(&err)
	if b.onErr != nil {
		b.onErr(err)
	}
}

func (b *Background) failed() error {
	if p := b.err.Load(); p != nil {
		return *p
	}
	return nil
}

// Close writes what is queued, then closes the underlying Writer. Its
// error is the first of those.
func (b *Background) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errClosed
	}
	b.handOver()
	b.closed = true
	close(b.queue)
	b.mu.Unlock()
	<-b.done
	err := b.w.Close()
	return cmp.Or(b.failed(), err)
}
