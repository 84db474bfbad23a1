package tlsconn

import (
	"errors"

	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/tlsdecrypt"
)

// records12 is the record protection of a TLS 1.0–1.2 connection read with
// a key log. It belongs to the connection, not to one handshake: a
// renegotiation runs under the keys of the handshake before it until each
// side's ChangeCipherSpec switches that side to the keys the renegotiation
// agreed.
type records12 struct {
	cur  [2]*tlsdecrypt.Decrypter // keys protecting each side's records now
	next [2]*tlsdecrypt.Decrypter // keys for after the side's next ChangeCipherSpec
}

// following reports whether some record of the connection can still be
// decrypted, so a later renegotiation would be seen.
func (rc *records12) following() bool {
	return rc != nil && (rc.cur[client] != nil || rc.cur[server] != nil || rc.next[client] != nil || rc.next[server] != nil)
}

// prepareDecryption12 makes the decrypters a TLS 1.0–1.2 handshake agreed,
// at its ServerHello, when the key log has the master secret of its
// ClientHello; each side starts using them at its ChangeCipherSpec.
func (c *conn) prepareDecryption12() {
	h := c.hs
	if c.t.cfg.Keys == nil || h.ch == nil || h.sh == nil || h.sslv2 || h.tls13() {
		return
	}
	sec := c.t.cfg.Keys.Lookup(h.ch.Random)
	if sec == nil {
		if c.t.cfg.Keys.Len() > 0 {
			h.warn("no secrets for this handshake in the key log (client random not found)")
		}
		return
	}
	master := sec.MasterSecret()
	if master == nil {
		h.warn("key log: no CLIENT_RANDOM master secret for this handshake (only TLS 1.3 secrets)")
		return
	}
	var next [2]*tlsdecrypt.Decrypter
	for r := range next {
		d, err := tlsdecrypt.NewTLS12(h.version, h.sh.CipherSuite, master, h.ch.Random, h.sh.Random, role(r) == client,
			tlsdecrypt.EncryptThenMAC(h.sh.EncryptThenMAC))
		if err != nil {
			h.warn("key log: this handshake cannot be decrypted: " + err.Error())
			return
		}
		next[r] = d
	}
	if c.rec12 == nil {
		c.rec12 = &records12{}
	}
	c.rec12.next = next
}

// open12 decrypts an encrypted TLS 1.0–1.2 record of role r. Handshake and
// alert content goes to the stream's plaintext parser and open12 returns
// true: the record has been handled. Application data is stepped over
// unread, and a ChangeCipherSpec opened only to stay in step; for those,
// and when the side cannot be decrypted, it returns false and the record is
// handled as an encrypted one.
func (c *conn) open12(r role, ev dissect.Event) bool {
	rc := c.rec12
	d := rc.cur[r]
	if d == nil {
		return false
	}
	var plain []byte
	var ct uint8
	var err error
	if ev.Kind == dissect.EventApplicationData {
		err = d.Skip(ev.Record)
	} else {
		plain, ct, err = d.Open(ev.Record)
	}
	if err != nil {
		rc.cur[r], rc.next[r] = nil, nil
		if errors.Is(err, tlsdecrypt.ErrAuth) {
			c.note(r, "could not decrypt records with the key log's master secret (authentication failed: wrong or mismatched keys); they are reported as encrypted")
		} else {
			c.note(r, "decrypting records: "+err.Error())
		}
		if c.hs != nil && c.hs.emitted && !rc.following() {
			c.done = true
		}
		return false
	}
	if ev.Kind == dissect.EventApplicationData || ev.Kind == dissect.EventChangeCipherSpec {
		return false
	}
	if c.t.cfg.Messages && c.hs != nil && !c.hs.emitted {
		c.logEvent(r, ev) // the record, then what it held
	}
	c.sides[c.dirOf(r)].stream.WritePlain(ct, plain, func(e dissect.Event) { c.event(r, e) })
	return true
}

// changeCipherSpec switches role r to the keys its latest handshake
// agreed. Without them (no secrets for a renegotiation) the side's later
// records are reported as encrypted.
func (rc *records12) changeCipherSpec(r role) {
	rc.cur[r], rc.next[r] = rc.next[r], nil
}

// decryptedMessage12 records a handshake message of role r read from a
// decrypted TLS 1.0–1.2 record: the Finished of a handshake, or any message
// of a renegotiation, which runs entirely under the previous keys.
func (h *handshake) decryptedMessage12(r role, typ uint8) {
	part := r.String() + " Finished"
	if h.s.Renegotiation {
		part = r.String() + " handshake"
	}
	if typ == dissect.TypeFinished {
		h.finished[r] = true
	}
	for _, p := range h.parts12 {
		if p == part {
			return
		}
	}
	h.parts12 = append(h.parts12, part)
}
