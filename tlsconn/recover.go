package tlsconn

import (
	"fmt"
	"runtime/debug"
)

// Containment of bugs. The bytes of a connection are chosen by whoever sent
// them; should they reach a bug in the dissection (a panic), only that
// connection is lost, not the run. Every entry point of a connection (the
// tcpstream.Receiver methods) defers contain: it recovers the panic,
// reports the connection with a warning that names the failure, counts it
// in Stats.Failed, and stops feeding the connection.

// contain must be deferred directly by each entry point (recover only
// works there).
func (c *conn) contain() {
	if v := recover(); v != nil {
		c.fail(v, debug.Stack())
	}
}

// fail handles a panic v recovered while dissecting c.
func (c *conn) fail(v any, stack []byte) {
	if c.failed {
		return // a second panic while reporting the first
	}
	c.failed = true
	c.done = true // Wants is false from now on: no more bytes are delivered
	c.t.stats.Failed++
	if c.t.cfg.Panic != nil {
		c.t.cfg.Panic(c.info.ID, v, stack)
	}
	c.reportFailure(fmt.Sprintf("internal error while dissecting this connection (%v): the rest of it was not analysed; this is a bug in tlsinspect, please report it with the capture", v))
	// Release the buffers, keeping the count of what the limits skipped.
	c.t.stats.Oversized += c.sides[0].stream.Skipped + c.sides[1].stream.Skipped
	c.sides = [2]side{}
}

// reportFailure emits the handshake in progress with the warning msg, or,
// when there is none (or reporting it fails too), a summary of its own that
// carries only the connection's endpoints and the warning.
func (c *conn) reportFailure(msg string) {
	ts := c.ts
	if ts.IsZero() {
		ts = c.info.Start
	}
	if c.hs != nil && !c.hs.emitted && c.tryFinish(msg) {
		return
	}
	c.hs = nil
	c.begin(ts)
	c.tryFinish(msg)
}

// tryFinish warns and emits the current handshake; it reports whether that
// went through without another panic.
func (c *conn) tryFinish(msg string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
			if c.hs != nil {
				c.hs.emitted = true
			}
		}
	}()
	c.hs.warn(msg)
	c.finish()
	return true
}
