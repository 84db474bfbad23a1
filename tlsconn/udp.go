package tlsconn

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/iana"
	"github.com/tlsinspect/tlsinspect/quic"
	"github.com/tlsinspect/tlsinspect/tcpstream"
	"github.com/tlsinspect/tlsinspect/udpflow"
)

// Handshakes over UDP: the flows udpflow recognises as DTLS or QUIC are
// followed by a conn like TCP connections, so that the handshake messages
// go through the same handlers (handshake.go) and end in the same Summary.
// Only the byte layer differs: dissect.DTLSHalf per direction for DTLS,
// quic.Connection for QUIC.

// OpenFlow implements udpflow.Handler.
func (t *Tracker) OpenFlow(info udpflow.Info) udpflow.Receiver {
	c := &conn{t: t, proto: info.Protocol.String(), tls: true, rolesOK: true}
	c.info = tcpstream.ConnInfo{
		ID:     info.ID,
		Client: tcpstream.Endpoint{Addr: info.Client.Addr(), Port: info.Client.Port()},
		Server: tcpstream.Endpoint{Addr: info.Server.Addr(), Port: info.Server.Port()},
		Start:  info.Start,
	}
	if info.Protocol == udpflow.QUIC {
		t.stats.QUICConnections++
		q := &quicConn{c: c}
		q.q.HandshakeSecrets = q.secrets
		return q
	}
	t.stats.DTLSConnections++
	d := &dtlsConn{c: c}
	for i := range d.half {
		d.half[i].MaxMessage = t.cfg.MaxMessage
	}
	d.half[client].Pair(&d.half[server])
	return d
}

// Wants implements udpflow.Wanter: a flow is wanted until its handshake is
// reported.
func (d *dtlsConn) Wants() bool { return d.c.wantsDatagrams() }

// Wants implements udpflow.Wanter.
func (q *quicConn) Wants() bool { return q.c.wantsDatagrams() }

func (c *conn) wantsDatagrams() bool { return !c.done && (c.hs == nil || !c.hs.emitted) }

// dtlsConn follows one DTLS flow.
type dtlsConn struct {
	c      *conn
	half   [2]dissect.DTLSHalf // by role
	notDTL [2]bool             // a datagram that is not DTLS was noted
}

func roleFrom(fromClient bool) role {
	if fromClient {
		return client
	}
	return server
}

func (d *dtlsConn) emit(r role) func(dissect.DTLSEvent) {
	return func(ev dissect.DTLSEvent) {
		if ev.Retransmission {
			return // a resent flight tells nothing new
		}
		d.c.event(r, ev.Event)
	}
}

// Datagram implements udpflow.Receiver.
func (d *dtlsConn) Datagram(fromClient bool, p []byte, ts time.Time) {
	c := d.c
	if c.done {
		return
	}
	defer c.contain()
	c.ts = ts
	r := roleFrom(fromClient)
	if err := d.half[r].Write(p, d.emit(r)); err != nil && !d.notDTL[r] {
		d.notDTL[r] = true
		c.note(r, err.Error())
	}
	if c.hs != nil && !c.hs.emitted && c.hs.complete() {
		c.finish()
		c.done = true
	}
}

// Close implements udpflow.Receiver.
func (d *dtlsConn) Close(reason tcpstream.CloseReason, ts time.Time) {
	c := d.c
	defer func() {
		c.t.stats.Oversized += d.half[0].Skipped + d.half[1].Skipped
		c.done = true
	}()
	defer c.contain()
	if !c.done {
		c.ts = ts
		for r := range d.half {
			d.half[r].Flush(d.emit(role(r)))
		}
		for r := range d.half {
			if n := d.half[r].Retransmissions; n > 0 && c.hs != nil && !c.hs.emitted {
				c.hs.warn(fmt.Sprintf("%s retransmitted %d handshake messages", role(r), n))
			}
		}
	}
	c.closeHandshake(reason, ts)
}

// quicConn follows one QUIC connection.
type quicConn struct {
	c *conn
	q quic.Connection
	// With a key log, once the client's Finished is read, the handshake
	// is reported when the server answers it: with a 1-RTT packet (it
	// accepted), or with a CONNECTION_CLOSE (it refused, e.g. a client
	// certificate). serverOneRTT is the server's 1-RTT packet count when
	// the Finished was read.
	clientFinished             bool
	serverOneRTT, clientOneRTT int
}

// secrets gives the quic.Connection the handshake traffic secrets of the
// key log.
func (q *quicConn) secrets(clientRandom []byte) (cl, sv []byte) {
	keys := q.c.t.cfg.Keys
	if keys == nil {
		return nil, nil
	}
	s := keys.Lookup(clientRandom)
	if s == nil {
		if h := q.c.hs; h != nil && keys.Len() > 0 {
			h.warn("no secrets for this handshake in the key log (client random not found)")
		}
		return nil, nil
	}
	return s.ClientHandshakeTraffic(), s.ServerHandshakeTraffic()
}

// quicMaxAfter is how many client 1-RTT packets are awaited for the
// client's decrypted Finished, and then for the server's answer to it,
// before the handshake is reported anyway.
const quicMaxAfter = 3

// Datagram implements udpflow.Receiver.
func (q *quicConn) Datagram(fromClient bool, p []byte, ts time.Time) {
	c := q.c
	if c.done {
		return
	}
	defer c.contain()
	c.ts = ts
	for _, ev := range q.q.Datagram(fromClient, p) {
		q.event(ev)
	}
	h := c.hs
	if h == nil || h.emitted || h.sh == nil || q.q.Client.OneRTT == 0 {
		return
	}
	// The client sends 1-RTT packets once it has finished its handshake.
	if !h.fatal {
		h.quicDone = true
	}
	switch {
	case h.decrypt == nil || h.fatal:
	case h.decrypt.finished[client] && !q.clientFinished:
		q.clientFinished, q.serverOneRTT = true, q.q.Server.OneRTT
		q.clientOneRTT = q.q.Client.OneRTT
		return
	case q.clientFinished && q.q.Server.OneRTT == q.serverOneRTT && q.q.Client.OneRTT-q.clientOneRTT < quicMaxAfter:
		return // the server has not answered the Finished yet
	case !q.clientFinished && q.q.Client.OneRTT < quicMaxAfter:
		return // the client's Finished is still to come
	}
	q.fill()
	c.finish()
	c.done = true
}

func (q *quicConn) event(ev quic.Event) {
	c := q.c
	r := roleFrom(ev.FromClient)
	switch ev.Kind {
	case quic.EventMessage:
		// Messages beyond the Initial space were opened with the key log's
		// handshake secrets, which startDecryption also found at the
		// ServerHello: its decryption state records each side's Finished.
		m := ev.Message
		c.event(r, dissect.Event{Kind: dissect.EventHandshake, HandshakeType: m.Type, Body: m.Body, Decrypted: ev.Space != quic.SpaceInitial})
	case quic.EventConnectionClose:
		if c.hs == nil || c.hs.emitted {
			return
		}
		h := c.hs
		h.mark(r, 'L')
		f := ev.Close
		if alert, ok := f.TLSAlert(); ok {
			// A TLS alert (RFC 9001 §4.8), always fatal.
			h.s.Alerts = append(h.s.Alerts, Alert{From: r.String(), Level: "fatal", Description: iana.AlertName(alert)})
		} else {
			kind := "transport"
			if f.Application {
				kind = "application"
			}
			what := fmt.Sprintf("%s error 0x%x", kind, f.ErrorCode)
			if f.ErrorCode == 0 {
				what = kind + " code 0, no error"
			}
			h.warn(fmt.Sprintf("%s closed the connection during the handshake (%s)", r, what))
		}
		h.fatal = true
	case quic.EventRetry:
		if c.hs != nil && !c.hs.emitted {
			c.hs.warn("server sent a Retry")
		}
	case quic.EventVersionNegotiation:
		if c.hs != nil && !c.hs.emitted {
			c.hs.warn("server sent a Version Negotiation packet")
		}
	case quic.EventProblem:
		c.note(r, ev.Err.Error())
	}
}

// fill sets the QUIC fields of the current summary.
func (q *quicConn) fill() {
	s := q.c.hs.s
	if q.q.Version != 0 {
		s.QUICVersion = q.q.Version.String()
	}
	s.ClientInitialDCID = hex.EncodeToString(q.q.OriginalDCID)
	s.ClientSCID = hex.EncodeToString(q.q.ClientSCID)
	s.ServerSCID = hex.EncodeToString(q.q.ServerSCID)
}

// Close implements udpflow.Receiver.
func (q *quicConn) Close(reason tcpstream.CloseReason, ts time.Time) {
	c := q.c
	defer func() { c.done = true }()
	defer c.contain()
	if c.hs != nil && !c.hs.emitted {
		q.fill()
	}
	c.closeHandshake(reason, ts)
}
