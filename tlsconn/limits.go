package tlsconn

import (
	"time"

	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// What the limits cost is never silent: a handshake cut short when its
// connection is forgotten (idle timeout, too many connections) is reported
// with a warning naming the limit, and Stats counts what was skipped.

// lazyConn is the Receiver of a connection: the conn, with its parsing
// state, is made only when the TCP layer has something to say about it (its
// first bytes, a gap or a note). A connection that never carries any (a SYN
// flood, port scans) costs a lazyConn, a fifth of a conn, so that the
// connection limit (--max-flows) bounds less memory.
type lazyConn struct {
	t    *Tracker
	info tcpstream.ConnInfo
	c    *conn
}

func (l *lazyConn) get() *conn {
	if l.c == nil {
		l.c = l.t.newConn(l.info)
	}
	return l.c
}

func (l *lazyConn) Data(dir tcpstream.Dir, p []byte, ts time.Time) { l.get().Data(dir, p, ts) }
func (l *lazyConn) Gap(dir tcpstream.Dir, n int, ts time.Time)     { l.get().Gap(dir, n, ts) }
func (l *lazyConn) Note(dir tcpstream.Dir, note string)            { l.get().Note(dir, note) }

// TLS reports whether TLS was found on the connection (pcapout.TLSReceiver).
func (l *lazyConn) TLS() bool { return l.c != nil && l.c.TLS() }

// Wants is true until a conn exists to say otherwise.
func (l *lazyConn) Wants(dir tcpstream.Dir) bool { return l.c == nil || l.c.Wants(dir) }

// Close closes the conn, if any: a connection that carried nothing has
// nothing to report.
func (l *lazyConn) Close(reason tcpstream.CloseReason, ts time.Time) {
	if l.c != nil {
		l.c.Close(reason, ts) // l.c stays: TLS() is still asked about the closing packet
	}
}

// limitWarning is the warning of a handshake cut short by one of the
// tracking limits (the connection was forgotten), or "" for the other ways
// a connection ends.
func limitWarning(reason tcpstream.CloseReason) string {
	switch reason {
	case tcpstream.CloseIdle:
		return "connection ended (idle) before the handshake completed: no packet for longer than the idle timeout (--idle-timeout)"
	case tcpstream.CloseEvicted:
		return "connection ended (evicted) before the handshake completed: more connections at once than the connection limit (--max-flows); the least recently active was forgotten"
	}
	return ""
}

// closeHandshake reports the unfinished handshake of a connection that
// ends for reason at ts.
func (c *conn) closeHandshake(reason tcpstream.CloseReason, ts time.Time) {
	w := limitWarning(reason)
	switch {
	case c.hs != nil && !c.hs.emitted:
		if w != "" && !c.hs.complete() {
			c.hs.warn(w) // instead of the generic "connection ended (…)"
		} else {
			c.hs.closeReason = reason.String()
		}
		c.finish()
	case c.hs == nil && c.tls && !c.nonTLS:
		// TLS started but no hello could be read: still report it.
		c.begin(ts)
		c.hs.closeReason = reason.String()
		c.hs.warn("no ClientHello or ServerHello could be read")
		if w != "" {
			c.hs.warn(w)
		}
		c.finish()
	}
}

// Add accumulates o into s (runs over several inputs).
func (s *Stats) Add(o Stats) {
	s.TCPConnections += o.TCPConnections
	s.TLSConnections += o.TLSConnections
	s.Handshakes += o.Handshakes
	s.Established += o.Established
	s.Warnings += o.Warnings
	s.Oversized += o.Oversized
	s.Failed += o.Failed
	s.DTLSConnections += o.DTLSConnections
	s.QUICConnections += o.QUICConnections
}
