package capture

import (
	"io"
	"runtime"
	"sync"
	"time"
)

// readAhead is a file that, once started, is read ahead of its reader, on
// a goroutine of its own, into chunks that Read then copies out: the
// read(2) out of the page cache (or the gzip decompression) runs beside the
// decoding instead of before it. Copying from a chunk costs less than the
// read(2) it replaces; reading the chunks in place would not do: the first
// touch of each packet record in memory another core wrote then costs more
// than the copy (the bulk benchmark capture, one worker: 112 ms against 79
// with the copy, 95 without reading ahead). Until it is started, Read
// reads the file.
type readAhead struct {
	r       io.Reader
	onStall func()          // FileSource.OnStall
	giveUp  <-chan struct{} // FileSource.GiveUpOn
	cur     []byte          // unread part of buf
	buf     []byte          // the chunk being read, to be given back
	err     error           // the error after the last chunk, once it has arrived

	full  chan aheadChunk
	empty chan []byte
	stop  *aheadStop // nil until started
}

// aheadChunk is bytes read, and the error after them.
type aheadChunk struct {
	b   []byte
	err error
}

// aheadStop ends the goroutine: at Close, or when the FileSource is
// dropped without one.
type aheadStop struct {
	once sync.Once
	c    chan struct{}
}

func (a *aheadStop) stop() { a.once.Do(func() { close(a.c) }) }

const (
	// aheadChunkSize is the most read at once; aheadBuffers chunks are in
	// use (one being copied out, the others filled or being filled).
	aheadChunkSize = 512 << 10
	aheadBuffers   = 4
	// aheadEmptyReads is how many reads returning nothing are tolerated
	// before io.ErrNoProgress, as bufio.Reader does.
	aheadEmptyReads = 100
)

// stallAfter is how long Read waits for the next chunk before it calls
// onStall: far longer than a read of a file takes, short against the
// 100 ms within which a line is written (README "Live capture").
var stallAfter = 20 * time.Millisecond

// start starts reading ahead, on a goroutine that ends at the file's end
// or error, or when owner (the FileSource) is closed or dropped.
func (ra *readAhead) start(owner *FileSource) {
	if ra.stop != nil {
		return
	}
	ra.full = make(chan aheadChunk, aheadBuffers)
	ra.empty = make(chan []byte, aheadBuffers)
	ra.stop = &aheadStop{c: make(chan struct{})}
	for range aheadBuffers {
		ra.empty <- make([]byte, aheadChunkSize)
	}
	go fillAhead(ra.r, ra.empty, ra.full, ra.stop.c)
	runtime.AddCleanup(owner, (*aheadStop).stop, ra.stop)
}

// fillAhead reads r into the buffers it is given, until r's end or error,
// or until stop is closed. It knows nothing of the readAhead, so that a
// FileSource dropped without Close can be collected, and stop it.
func fillAhead(r io.Reader, empty <-chan []byte, full chan<- aheadChunk, stop <-chan struct{}) {
	// stopped is looked at before each read and send: a select with
	// another case ready picks at random, and would read on after stop.
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	for {
		var b []byte
		select {
		case b = <-empty:
		case <-stop:
			return
		}
		// One Read, however short: a pipe's packets are passed on as
		// they come, not once a chunk is full.
		var n int
		var err error
		for tries := 0; n == 0 && err == nil; tries++ {
			if stopped() {
				return
			}
			if tries == aheadEmptyReads {
				err = io.ErrNoProgress
				break
			}
			n, err = r.Read(b[:cap(b)])
		}
		if stopped() {
			return
		}
		select {
		case full <- aheadChunk{b[:n], err}:
		case <-stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read copies what has been read ahead into p, waiting for it if need be.
func (ra *readAhead) Read(p []byte) (int, error) {
	if ra.stop == nil {
		return ra.r.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	for len(ra.cur) == 0 {
		if ra.err != nil {
			return 0, ra.err
		}
		if ra.buf != nil {
			ra.empty <- ra.buf // never blocks: the channel holds every buffer
			ra.buf = nil
		}
		var c aheadChunk
		select {
		case c = <-ra.full:
		default:
			c = ra.wait()
		}
		ra.cur, ra.buf, ra.err = c.b, c.b, c.err
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// wait waits for the next chunk, or until giveUp is closed; after
// stallAfter, it calls onStall (once) and waits on.
func (ra *readAhead) wait() aheadChunk {
	var stalled <-chan time.Time // nil without onStall: never ready
	if ra.onStall != nil {
		t := time.NewTimer(stallAfter)
		defer t.Stop()
		stalled = t.C
	}
	for {
		select {
		case c := <-ra.full:
			return c
		case <-ra.giveUp:
			return aheadChunk{err: ErrGaveUp}
		case <-stalled:
			stalled = nil
			ra.onStall()
		}
	}
}

// close stops the goroutine, after the read it may be in. (Nothing reads
// on: a closed FileSource returns its error from Next.)
func (ra *readAhead) close() {
	if ra.stop != nil {
		ra.stop.stop()
	}
}
