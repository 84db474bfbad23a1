package capgen

import (
	"io"
	"net"
	"sync"
	"time"
)

// Dir is the direction of a recorded chunk.
type Dir uint8

// Directions.
const (
	ClientToServer Dir = 0
	ServerToClient Dir = 1
)

// Chunk is one write of one peer, in the order the writes happened.
type Chunk struct {
	Dir  Dir
	Data []byte
}

// recorder is a shared log of the writes of both peers of one session.
type recorder struct {
	mu     sync.Mutex
	chunks []Chunk
}

func (r *recorder) add(d Dir, p []byte) {
	r.chunks = append(r.chunks, Chunk{d, append([]byte(nil), p...)})
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.chunks)
}

// pipeEnd is one end of an in-memory, unboundedly buffered, recording
// connection. Writes never block, so neither TLS peer can deadlock the
// other; each write is logged with its direction under the recorder's lock,
// so the log holds the real interleaving of the two peers.
type pipeEnd struct {
	rec  *recorder
	dir  Dir       // direction of this end's writes
	in   *pipeBuf  // what this end reads
	out  *pipeBuf  // what this end writes (the peer's in)
	addr net.Addr  // local
	peer net.Addr  // remote
	once sync.Once // Close
}

type pipeBuf struct {
	mu     sync.Mutex
	cond   *sync.Cond
	data   []byte
	closed bool
}

func newPipeBuf() *pipeBuf {
	b := &pipeBuf{}
	b.cond = sync.NewCond(&b.mu)
	return b
}

type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

// newPipe returns the client and server ends of a recording pipe.
func newPipe(rec *recorder) (client, server *pipeEnd) {
	c2s, s2c := newPipeBuf(), newPipeBuf()
	ca, sa := pipeAddr("client"), pipeAddr("server")
	client = &pipeEnd{rec: rec, dir: ClientToServer, in: s2c, out: c2s, addr: ca, peer: sa}
	server = &pipeEnd{rec: rec, dir: ServerToClient, in: c2s, out: s2c, addr: sa, peer: ca}
	return client, server
}

func (p *pipeEnd) Read(b []byte) (int, error) {
	in := p.in
	in.mu.Lock()
	defer in.mu.Unlock()
	for len(in.data) == 0 && !in.closed {
		in.cond.Wait()
	}
	if len(in.data) == 0 {
		return 0, io.EOF
	}
	n := copy(b, in.data)
	in.data = in.data[n:]
	return n, nil
}

func (p *pipeEnd) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	p.rec.mu.Lock()
	defer p.rec.mu.Unlock()
	out := p.out
	out.mu.Lock()
	defer out.mu.Unlock()
	p.rec.add(p.dir, b)
	out.data = append(out.data, b...)
	out.cond.Broadcast()
	return len(b), nil
}

// Close ends both directions for reading: the peer reads EOF after what was
// written, and this end reads EOF. Writes are still recorded afterwards (the
// other peer may still send its close_notify, as over TCP).
func (p *pipeEnd) Close() error {
	p.once.Do(func() {
		for _, b := range []*pipeBuf{p.in, p.out} {
			b.mu.Lock()
			b.closed = true
			b.cond.Broadcast()
			b.mu.Unlock()
		}
	})
	return nil
}

func (p *pipeEnd) LocalAddr() net.Addr              { return p.addr }
func (p *pipeEnd) RemoteAddr() net.Addr             { return p.peer }
func (p *pipeEnd) SetDeadline(time.Time) error      { return nil }
func (p *pipeEnd) SetReadDeadline(time.Time) error  { return nil }
func (p *pipeEnd) SetWriteDeadline(time.Time) error { return nil }
