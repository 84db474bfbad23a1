package tlsconn

import (
	"errors"
	"slices"

	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/keylog"
	"github.com/tlsinspect/tlsinspect/tlsdecrypt"
)

// Keys finds the session secrets of a handshake by its ClientHello random;
// *keylog.Log is one. It may be filled while a capture is read (pcapng
// Decryption Secrets Blocks): it is asked at the ServerHello.
type Keys interface {
	Lookup(clientRandom []byte) *keylog.Secrets
	Len() int // number of client randoms known
}

// decryption is a handshake's TLS 1.3 decryption state: one record
// decrypter per side, switched from the handshake to the application
// traffic secret after that side's Finished.
type decryption struct {
	secrets  *keylog.Secrets
	suite    uint16
	dec      [2]*tlsdecrypt.Decrypter
	finished [2]bool // that side's Finished was decrypted
	// serverAfter: the server sent a record after the client's Finished
	// (a ticket, data, or the alert that refuses the client's
	// certificate), so the client's authentication has been answered.
	serverAfter bool
	parts       []string

	// 0-RTT (the ClientHello offered early_data): until a client record
	// opens with the handshake secret, a client record may be early data
	// under CLIENT_EARLY_TRAFFIC_SECRET, which a server that refused it
	// skips unread (RFC 8446 §4.2.10). earlyBefore counts the client's
	// records seen before the ServerHello, which used early sequence
	// numbers; earlySkipped those that opened with neither secret.
	early        *tlsdecrypt.Decrypter
	clientOpened bool
	earlyBefore  int
	earlySkipped int
}

// maxEarlySkipped bounds the client records passed over as unreadable
// early data before the client's decryption is given up as failed.
const maxEarlySkipped = 64

// startDecryption sets up decryption at a TLS 1.3 ServerHello when the key
// log has the handshake secrets of this ClientHello.
func (c *conn) startDecryption() {
	h := c.hs
	if c.t.cfg.Keys == nil || h.ch == nil || h.sh == nil || !h.tls13() {
		return
	}
	sec := c.t.cfg.Keys.Lookup(h.ch.Random)
	if sec == nil {
		if c.t.cfg.Keys.Len() > 0 {
			h.warn("no secrets for this handshake in the key log (client random not found)")
		}
		return
	}
	d := &decryption{secrets: sec, suite: h.sh.CipherSuite, earlyBefore: h.earlyRecords}
	if c.proto == "quic" {
		// QUIC has no TLS records: package quic opens its packets with
		// the same secrets (quicConn.secrets); d follows the messages.
		h.decrypt = d
		return
	}
	for r, secret := range [2][]byte{client: sec.ClientHandshakeTraffic(), server: sec.ServerHandshakeTraffic()} {
		if secret == nil {
			continue
		}
		dec, err := tlsdecrypt.NewTLS13(d.suite, secret)
		if err != nil {
			h.warn("key log: " + role(r).String() + " handshake secret: " + err.Error())
			continue
		}
		d.dec[r] = dec
	}
	if d.dec[client] == nil && d.dec[server] == nil {
		return
	}
	h.decrypt = d
}

// decryptRecord decrypts an encrypted TLS 1.3 record of role r and hands
// its content to the stream's plaintext parser.
func (c *conn) decryptRecord(r role, ev dissect.Event) {
	h := c.hs
	d := h.decrypt
	if d == nil || ev.Record == nil {
		return
	}
	if r == server && d.finished[client] {
		d.serverAfter = true
	}
	if d.dec[r] == nil {
		return
	}
	plain, ct, err := d.dec[r].Open(ev.Record)
	if err == nil && r == client {
		d.clientOpened = true
	}
	if err != nil && r == client && h.ch != nil && h.ch.EarlyData && !d.clientOpened {
		plain, ct, err = d.openEarly(ev.Record)
		if err != nil {
			if d.earlySkipped++; d.earlySkipped <= maxEarlySkipped {
				return // early data the server will have refused unread
			}
		} else if !slices.Contains(d.parts, "early data") {
			d.parts = append(d.parts, "early data")
		}
	}
	if err != nil {
		d.dec[r] = nil
		if errors.Is(err, tlsdecrypt.ErrAuth) {
			h.warn("could not decrypt the " + r.String() + "'s records with the key log's secrets (authentication failed: wrong or mismatched keys); they are reported as encrypted")
		} else {
			h.warn("decrypting the " + r.String() + "'s records: " + err.Error())
		}
		return
	}
	if ct == dissect.RecordChangeCipherSpec {
		return // a compatibility ChangeCipherSpec passes through as is
	}
	c.sides[c.dirOf(r)].stream.WritePlain(ct, plain, func(e dissect.Event) { c.event(r, e) })
}

// openEarly opens a client record with the early traffic secret.
func (d *decryption) openEarly(record []byte) ([]byte, uint8, error) {
	if d.early == nil {
		secret := d.secrets.ClientEarlyTraffic()
		if secret == nil {
			return nil, 0, errors.New("no CLIENT_EARLY_TRAFFIC_SECRET")
		}
		early, err := tlsdecrypt.NewTLS13(d.suite, secret)
		if err != nil {
			return nil, 0, err
		}
		// The records before the ServerHello used the first sequence
		// numbers.
		if err := early.SkipUnseen(d.earlyBefore); err != nil {
			return nil, 0, err
		}
		d.early = early
	}
	return d.early.Open(record)
}

// decryptedMessage keeps the key schedule in step with a decrypted
// handshake message of role r.
func (c *conn) decryptedMessage(r role, typ uint8) {
	d := c.hs.decrypt
	if d == nil {
		return
	}
	switch typ {
	case dissect.TypeFinished:
		if d.finished[r] {
			return
		}
		d.finished[r] = true
		d.parts = append(d.parts, r.String()+" handshake")
		// The side now protects its records with the application secret.
		next := d.secrets.ClientTraffic0()
		if r == server {
			next = d.secrets.ServerTraffic0()
		}
		d.dec[r] = nil
		if next != nil {
			if dec, err := tlsdecrypt.NewTLS13(d.suite, next); err == nil {
				d.dec[r] = dec
			}
		}
	case dissect.TypeKeyUpdate:
		if d.dec[r] != nil && d.dec[r].Update() != nil {
			d.dec[r] = nil
		}
	}
}

// decryptionDone reports whether a decrypted handshake has shown all it
// will: both Finished messages, and the server's reaction to the client's
// flight.
func (d *decryption) done() bool {
	// A side without secrets (or whose decryption failed) has nothing more
	// to show.
	clientDone := d.finished[client] || d.dec[client] == nil
	serverDone := d.finished[server] || d.dec[server] == nil
	return clientDone && serverDone && (d.serverAfter || !d.finished[client])
}
