package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsinspect/tlsinspect/analyze"
	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/keylog"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// Reading several -r files at once (--jobs): each file is read by its own
// pipeline, as it is when the files are read one after the other, and
// what it produces — its summaries and its lines on standard error — is
// passed on in file order: the first file's as they come, the next file's
// once the first is done. Meanwhile the files read ahead of their turn
// hold what they produce, up to heldEventLimit events in all (about 4 KB
// a summary, 9 KB with -v): past it their readers wait for their turn. The
// summaries, their order, the messages, the statistics and the exit status
// are those of reading the files one by one (TestJobsSameAsOneByOne).
//
// Two things are shared between files read in turn and are kept so:
//   - the key log: secrets embedded in a pcapng file decrypt the files
//     after it. A file is read with the secrets of the files before it
//     that were done when it began; if one of the others turns out to have
//     brought secrets, the file is read again once they are all done.
//   - the capture filter's warning that it cannot apply to a link type,
//     printed once in all.
//
// Files are read one at a time when --jobs is 1, with -c (where to stop
// depends on the files before), with -w (one pcapng file in order), and
// when an input is not a regular file (standard input, a pipe: it could
// not be read again).

// heldEventLimit bounds the events held by the files read ahead of their
// turn, all together (a variable for tests).
var heldEventLimit = 8192

// fileKeys is the key log a file is read with: the secrets of --keylog and
// $SSLKEYLOGFILE and those embedded in the files before it. Secrets
// embedded in the file itself go to a copy, made when the first arrive,
// so that the files read at the same time share the rest.
type fileKeys struct {
	log   *keylog.Log
	owned bool // log is this file's own: secrets are added to it in place
	added bool // embedded secrets were added
}

func (k *fileKeys) Lookup(clientRandom []byte) *keylog.Secrets { return k.log.Lookup(clientRandom) }
func (k *fileKeys) Len() int                                   { return k.log.Len() }

func (k *fileKeys) writable() *keylog.Log {
	if !k.owned {
		k.log, k.owned = k.log.Clone(), true
	}
	k.added = true
	return k.log
}

// fileInput is one -r file as it is being read.
type fileInput struct {
	name     string
	stdin    io.Reader
	keys     *fileKeys
	progress *progress // nil without a progress line
	read     int64     // bytes read from it
}

// stdinName names standard input (-r -) in messages, as capture.OpenFile does.
const stdinName = "(standard input)"

// openCapture opens a capture file through a reader that counts its bytes
// for the progress line (of a gzip'd file, the compressed bytes).
func openCapture(in *fileInput) (*capture.FileSource, func(), error) {
	cr := &countingReader{}
	if in.progress != nil {
		cr.total = &in.progress.read
	}
	done := func() { in.read = cr.n.Load() }
	if in.name == "-" {
		cr.r = in.stdin
		src, err := capture.NewFileSource(stdinName, cr)
		return src, done, err
	}
	src, err := capture.OpenFileThrough(in.name, func(f io.Reader) io.Reader { cr.r = f; return cr })
	return src, done, err
}

// readFile runs one capture file through the pipeline.
func readFile(ctx context.Context, in *fileInput, cfg analyze.Config, emit func(*tlsconn.Summary), stderr io.Writer) (analyze.Counts, error) {
	src, done, err := openCapture(in)
	if err != nil {
		return analyze.Counts{}, err
	}
	defer done()
	defer src.Close()
	if _, regular := regularSize(in.name, in.stdin); !regular && cfg.Workers > 1 {
		// A pipe may stall (tcpdump -w - | tlsinspect -r -): a source
		// reading ahead notices, and several workers report what they
		// hold then (analyze.Config.ReadAhead). One holds nothing.
		cfg.ReadAhead = true
	}
	cfg.Keys = in.keys
	// Secrets embedded in a pcapng file (Decryption Secrets Block) join
	// the key log before the packets that need them.
	src.OnSecrets = func(typ uint32, data []byte) {
		what := src.Name() + " (embedded secrets)"
		if typ != capture.SecretsTLSKeyLog {
			fmt.Fprintf(stderr, "tlsinspect: %s: secrets of type %#x are not used (only TLS key logs are)\n", what, typ)
			return
		}
		st, err := in.keys.writable().Parse(bytes.NewReader(data), what)
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "tlsinspect: %s: %v\n", what, err)
		case st.Malformed > 0 || st.Conflicts > 0:
			fmt.Fprintf(stderr, "tlsinspect: %s: %s\n", what, st)
		}
	}
	return analyze.RunContext(ctx, src, cfg, emit)
}

// processFile reads one file and writes to stderr what went wrong; failed
// means exit status 3.
func processFile(ctx context.Context, in *fileInput, cfg analyze.Config, verbose int, emit func(*tlsconn.Summary), stderr io.Writer) (c analyze.Counts, failed bool) {
	if verbose > 1 {
		cfg.DecodeError = func(err error) { fmt.Fprintf(stderr, "tlsinspect: %s: %v\n", in.name, err) }
	}
	cfg.Panic = panicReporter(stderr, verbose)
	c, err := readFile(ctx, in, cfg, emit, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "tlsinspect: %v\n", fileError(err))
		failed = true
	}
	if unsupportedLinkTypes(stderr, in.name, c) {
		failed = true
	}
	return c, failed
}

// panicReporter is analyze.Config.Panic: a connection whose dissection
// failed is reported on stderr (the stack with -vv).
func panicReporter(stderr io.Writer, verbose int) func(uint64, any, []byte) {
	return func(id uint64, v any, stack []byte) {
		fmt.Fprintf(stderr, "tlsinspect: connection %d: internal error (%v): reported with a warning, the rest of the connection skipped; this is a bug, please report it with the capture\n", id, v)
		if verbose > 1 {
			stderr.Write(stack)
		}
	}
}

// fileJobs is how many files are read at once.
func fileJobs(o options) int {
	jobs := o.jobs
	if jobs == 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	if jobs < 2 || len(o.read) < 2 || o.count > 0 || o.writeFile != "" {
		return 1
	}
	for _, name := range o.read {
		if name == "-" {
			return 1
		}
		fi, err := os.Stat(name)
		if err == nil && !fi.Mode().IsRegular() {
			return 1 // a FIFO, a device: read once only
		}
	}
	return min(jobs, len(o.read))
}

// workers is how many goroutines follow the connections of one input read
// while jobs inputs are read at once: --workers, or the CPUs shared among
// the jobs.
func workers(o options, jobs int) int {
	if o.workers > 0 {
		return o.workers
	}
	return max(1, runtime.GOMAXPROCS(0)/jobs)
}

// filePlan is how the -r files are read: jobs at once, each followed by
// workers goroutines, and whether that leaves a core idle (spare), for
// reading each file ahead (analyze.Config.ReadAhead) and writing the
// report on a goroutine of its own (report.Background).
type filePlan struct {
	jobs, workers int
	spare         bool
}

func planFiles(o options) filePlan {
	p := filePlan{jobs: fileJobs(o)}
	p.workers = workers(o, p.jobs)
	if o.writeFile != "" {
		p.workers = 1 // the -w file follows packets in order (analyze.Config.Handshakes)
	}
	p.spare = spareCore(p.jobs, p.workers)
	return p
}

// spareCore says whether reading jobs inputs at once, each followed by
// that many workers, leaves a core idle: one worker reads and follows;
// several are fed by a reader of their own. One file, one worker, on the
// 2-core benchmark machine: reading ahead takes the bulk capture from 95
// to 79 ms; with --workers 2, where no core is idle, it would take 91 ms
// instead of 83.
func spareCore(jobs, workers int) bool {
	busy := workers
	if workers > 1 {
		busy++
	}
	return jobs*busy < runtime.GOMAXPROCS(0)
}

// runFiles reads every -r file and returns the exit status and the
// statistics line.
func runFiles(ctx context.Context, o options, plan filePlan, flt *filter, cfg analyze.Config, keys *keylog.Log, stdin io.Reader, prog *progress, emit func(*tlsconn.Summary), stderr io.Writer) (int, string) {
	var total analyze.Counts
	status := exitOK
	if flt != nil {
		if err := flt.prepareFiles(func(_ layers.LinkType, err error) { fmt.Fprintf(stderr, "tlsinspect: capture filter: %v\n", err) }); err != nil {
			fmt.Fprintf(stderr, "tlsinspect: %v\n", err)
			return exitUsage, ""
		}
		cfg.Match = flt.match
	}
	jobs := plan.jobs
	cfg.Workers, cfg.ReadAhead = plan.workers, plan.spare
	if jobs > 1 {
		total, status = readConcurrently(ctx, o, flt, cfg, keys, stdin, prog, jobs, emit, stderr)
	} else {
		k := &fileKeys{log: keys, owned: true}
		for _, name := range o.read {
			c, failed := processFile(ctx, &fileInput{name: name, stdin: stdin, keys: k, progress: prog}, cfg, o.verbose, emit, stderr)
			total.Add(c)
			if failed {
				status = exitInput
			}
			if ctx.Err() != nil {
				break // --count reached, or the output is gone
			}
		}
	}
	line := total.String()
	if len(o.read) > 1 {
		line += fmt.Sprintf(" in %d files", len(o.read))
	}
	return status, line
}

// fileEvent is what a file's pipeline produced: a summary, or text for
// standard error (once: print it only the first time this key is seen).
type fileEvent struct {
	s    *tlsconn.Summary
	text string
	once string
}

// sequencer holds the events of the files being read until their turn.
// One lock for all: it is taken once per summary, never per packet.
type sequencer struct {
	mu    sync.Mutex
	space sync.Cond // readers wait for room under heldEventLimit
	data  sync.Cond // the consumer waits for the events of its file
	held  int       // events held by files that are not at their turn
	limit int
}

func newSequencer(limit int) *sequencer {
	s := &sequencer{limit: limit}
	s.space.L, s.data.L = &s.mu, &s.mu
	return s
}

// eventQueue is the events of one reading of one file, in order.
type eventQueue struct {
	seq    *sequencer
	items  []fileEvent
	turn   bool // the consumer is at this file: its events are not held
	closed bool // the reading is over
}

// put adds an event; a file not at its turn waits while the limit is
// reached.
func (q *eventQueue) put(e fileEvent) {
	s := q.seq
	s.mu.Lock()
	for !q.turn && s.held >= s.limit {
		s.space.Wait()
	}
	q.items = append(q.items, e)
	if q.turn {
		s.data.Signal()
	} else {
		s.held++
	}
	s.mu.Unlock()
}

// close says the reading is over.
func (q *eventQueue) close() {
	q.seq.mu.Lock()
	q.closed = true
	q.seq.mu.Unlock()
	q.seq.data.Signal()
}

// takeTurn makes it this file's turn: what it holds is no longer counted
// against the limit, and its reader never waits again.
func (q *eventQueue) takeTurn() {
	s := q.seq
	s.mu.Lock()
	if !q.turn {
		q.turn = true
		s.held -= len(q.items)
	}
	s.mu.Unlock()
	s.space.Broadcast()
}

// take waits for events (of a file at its turn) and returns all there
// are; none when the reading is over.
func (q *eventQueue) take() []fileEvent {
	s := q.seq
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		s.data.Wait()
	}
	items := q.items
	q.items = nil
	return items
}

func (q *eventQueue) Write(b []byte) (int, error) {
	q.put(fileEvent{text: string(b)})
	return len(b), nil
}

// fileRun is one reading of one file.
type fileRun struct {
	in      fileInput
	events  *eventQueue
	started chan struct{} // closed once in.keys and version are set
	version int           // keysVersion of the key log it began with
	counts  analyze.Counts
	failed  bool
	ctx     context.Context
	cancel  context.CancelFunc
}

func readConcurrently(ctx context.Context, o options, flt *filter, cfg analyze.Config, keys *keylog.Log, stdin io.Reader, prog *progress, jobs int, emit func(*tlsconn.Summary), stderr io.Writer) (analyze.Counts, int) {
	seq := newSequencer(heldEventLimit)
	// The key log of the files done so far, in order, and its version
	// (counting the files that added secrets to it).
	var mu sync.Mutex
	doneKeys, keysVersion := keys, 0

	newRun := func(name string) *fileRun {
		r := &fileRun{in: fileInput{name: name, stdin: stdin, progress: prog}, events: &eventQueue{seq: seq}, started: make(chan struct{})}
		r.ctx, r.cancel = context.WithCancel(ctx)
		return r
	}
	// read is the work of one file, in its own goroutine.
	read := func(r *fileRun) {
		defer r.events.close()
		defer r.cancel()
		mu.Lock()
		r.in.keys, r.version = &fileKeys{log: doneKeys}, keysVersion
		mu.Unlock()
		close(r.started)
		if r.ctx.Err() != nil {
			return
		}
		c := cfg
		if flt != nil {
			// Each file its own matcher; the warning once in all.
			fc := flt.forFile(func(lt layers.LinkType, err error) {
				r.events.put(fileEvent{text: fmt.Sprintf("tlsinspect: capture filter: %v\n", err), once: fmt.Sprint(uint16(lt))})
			})
			c.Match = fc.match
		}
		r.counts, r.failed = processFile(r.ctx, &r.in, c, o.verbose, func(s *tlsconn.Summary) { r.events.put(fileEvent{s: s}) }, r.events)
	}

	runs := make([]*fileRun, len(o.read))
	for i, name := range o.read {
		runs[i] = newRun(name)
	}
	work := make(chan *fileRun)
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() {
			for r := range work {
				read(r)
			}
		})
	}
	go func() {
		for _, r := range runs {
			work <- r
		}
		close(work)
	}()
	defer wg.Wait()

	printed := map[string]bool{}
	pass := func(e fileEvent) {
		switch {
		case e.s != nil:
			emit(e.s)
		case e.once != "" && printed[e.once]:
		default:
			if e.once != "" {
				printed[e.once] = true
			}
			io.WriteString(stderr, e.text)
		}
	}
	// discard throws away what a reading produced, and waits for its end.
	discard := func(r *fileRun) {
		r.cancel()
		r.events.takeTurn()
		for len(r.events.take()) > 0 {
		}
		if prog != nil {
			prog.read.Add(-r.in.read)
		}
	}

	var total analyze.Counts
	status := exitOK
	for _, r := range runs {
		if ctx.Err() != nil {
			discard(r) // the output is gone: nothing more is read
			continue
		}
		<-r.started
		mu.Lock()
		stale := r.version != keysVersion
		mu.Unlock()
		if stale {
			// A file before it brought secrets after it began: read it
			// again, now that they are all known.
			discard(r)
			r = newRun(r.in.name)
			go read(r)
		}
		r.events.takeTurn()
		for {
			events := r.events.take()
			if len(events) == 0 {
				break
			}
			for _, e := range events {
				pass(e)
			}
		}
		total.Add(r.counts)
		if r.failed {
			status = exitInput
		}
		if r.in.keys.added {
			mu.Lock()
			doneKeys, keysVersion = r.in.keys.log, keysVersion+1
			mu.Unlock()
		}
	}
	return total, status
}
