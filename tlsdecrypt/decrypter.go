package tlsdecrypt

import (
	"crypto/cipher"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
)

// Errors. Open and the constructors wrap them with what failed and where;
// test with errors.Is.
var (
	// ErrAuth: the record did not authenticate: the AEAD tag or the MAC did
	// not match, or (MAC-then-encrypt CBC) the padding was wrong, which TLS
	// treats as a bad MAC too (RFC 5246 §6.2.3.2). Wrong keys, the wrong
	// direction, a missed or repeated record, or a corrupted record.
	ErrAuth = errors.New("tlsdecrypt: record authentication failed")
	// ErrRecord: the record is malformed: shorter than its header or its
	// cipher's minimum, a length field that disagrees with the record, too
	// long, CBC ciphertext not a whole number of blocks, or after a
	// successful authentication a TLS 1.3 inner plaintext with no content
	// type or bad Encrypt-then-MAC padding.
	ErrRecord = errors.New("tlsdecrypt: malformed record")
	// ErrUnsupportedSuite: the cipher suite is unknown to this package, or
	// cannot be used at the given version.
	ErrUnsupportedSuite = errors.New("tlsdecrypt: unsupported cipher suite")
	// ErrUnsupportedVersion: the version is not TLS 1.0–1.3 or the operation
	// does not exist at the decrypter's version.
	ErrUnsupportedVersion = errors.New("tlsdecrypt: unsupported version")
	// ErrSecret: a secret or random has the wrong length.
	ErrSecret = errors.New("tlsdecrypt: bad secret")
)

const (
	recordHeaderLen = 5
	maxPlaintext    = 1 << 14
	// Largest record payload (RFC 8446 §5.2, RFC 5246 §6.2.3).
	maxCiphertext13 = maxPlaintext + 256
	maxCiphertext12 = maxPlaintext + 2048

	typeChangeCipherSpec = 20
	typeApplicationData  = 23
)

// Decrypter decrypts the records of one direction of one connection under
// one set of keys. Make one with NewTLS13 or NewTLS12.
type Decrypter struct {
	version uint16
	suite   *suite
	seq     uint64

	// AEAD suites.
	aead    cipher.AEAD
	fixedIV []byte // 12 bytes XORed with seq, or the 4-byte salt (kindAEAD)

	// CBC suites.
	block   cipher.Block
	mac     hash.Hash // HMAC keyed with the MAC key
	chainIV []byte    // TLS 1.0: the previous record's last ciphertext block
	etm     bool

	// TLS 1.3: the current traffic secret, for KeyUpdate.
	secret []byte
}

// NewTLS13 returns a decrypter for one direction of a TLS 1.3 connection
// from a traffic secret: client_/server_handshake_traffic_secret for the
// handshake, client_/server_application_traffic_secret_N after it. The
// secret must be SuiteHashLen(suite) bytes long; it is copied.
func NewTLS13(suite uint16, secret []byte) (*Decrypter, error) {
	s := suite13ByID[suite]
	if s == nil {
		if suite12ByID[suite] != nil {
			return nil, fmt.Errorf("%w: %s is not a TLS 1.3 suite", ErrUnsupportedSuite, suite12ByID[suite].name)
		}
		return nil, fmt.Errorf("%w: 0x%04x is not a supported TLS 1.3 suite", ErrUnsupportedSuite, suite)
	}
	if want := s.prf().Size(); len(secret) != want {
		return nil, fmt.Errorf("%w: %s traffic secret is %d bytes, want %d", ErrSecret, s.name, len(secret), want)
	}
	d := &Decrypter{version: VersionTLS13, suite: s}
	if err := d.setSecret(append([]byte(nil), secret...)); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Decrypter) setSecret(secret []byte) error {
	key, iv, err := trafficKeys(d.suite, secret)
	if err != nil {
		return fmt.Errorf("tlsdecrypt: %s: deriving traffic keys: %v", d.suite.name, err)
	}
	a, err := d.suite.bulk.aead(key)
	clear(key)
	if err != nil {
		return fmt.Errorf("tlsdecrypt: %s: %v", d.suite.name, err)
	}
	clear(d.secret)
	d.secret, d.aead, d.fixedIV, d.seq = secret, a, iv, 0
	return nil
}

// NextTrafficSecret returns application_traffic_secret_N+1 computed from
// the current secret, HKDF-Expand-Label(secret, "traffic upd", "",
// Hash.length) (RFC 8446 §7.2), without changing the decrypter.
func (d *Decrypter) NextTrafficSecret() ([]byte, error) {
	if d.version != VersionTLS13 {
		return nil, fmt.Errorf("%w: KeyUpdate exists only in TLS 1.3", ErrUnsupportedVersion)
	}
	return ExpandLabel(d.suite.prf, d.secret, "traffic upd", nil, len(d.secret))
}

// Update moves to the next traffic secret after a KeyUpdate message: it
// replaces the key and IV and resets the sequence number to 0. Call it
// after opening the record that carried the KeyUpdate.
func (d *Decrypter) Update() error {
	next, err := d.NextTrafficSecret()
	if err != nil {
		return err
	}
	return d.setSecret(next)
}

// Option adjusts NewTLS12.
type Option func(*options)

type options struct {
	etm bool
}

// EncryptThenMAC says whether the encrypt_then_mac extension (RFC 7366) was
// negotiated: the ServerHello echoed it. It changes only CBC suites; AEAD
// suites ignore it, as the RFC says.
func EncryptThenMAC(negotiated bool) Option {
	return func(o *options) { o.etm = negotiated }
}

// NewTLS12 returns a decrypter for one direction of a TLS 1.0, 1.1 or 1.2
// connection: the client's records if fromClient, else the server's. The
// master secret is 48 bytes (the key log's CLIENT_RANDOM line), the randoms
// 32 bytes each (from the ClientHello and ServerHello). Use it for the
// records after that direction's ChangeCipherSpec.
func NewTLS12(version, suite uint16, masterSecret, clientRandom, serverRandom []byte, fromClient bool, opts ...Option) (*Decrypter, error) {
	if version < VersionTLS10 || version > VersionTLS12 {
		return nil, fmt.Errorf("%w: 0x%04x (NewTLS12 takes TLS 1.0 to 1.2)", ErrUnsupportedVersion, version)
	}
	s := suite12ByID[suite]
	if s == nil {
		if suite13ByID[suite] != nil {
			return nil, fmt.Errorf("%w: %s is a TLS 1.3 suite", ErrUnsupportedSuite, suite13ByID[suite].name)
		}
		return nil, fmt.Errorf("%w: 0x%04x", ErrUnsupportedSuite, suite)
	}
	if version < s.minVersion() {
		return nil, fmt.Errorf("%w: %s needs TLS 1.2", ErrUnsupportedSuite, s.name)
	}
	if len(masterSecret) != 48 {
		return nil, fmt.Errorf("%w: master secret is %d bytes, want 48", ErrSecret, len(masterSecret))
	}
	if len(clientRandom) != 32 || len(serverRandom) != 32 {
		return nil, fmt.Errorf("%w: randoms are %d and %d bytes, want 32", ErrSecret, len(clientRandom), len(serverRandom))
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}

	macKey, key, iv := keyBlock(version, s, masterSecret, clientRandom, serverRandom, fromClient)
	d := &Decrypter{version: version, suite: s}
	var err error
	switch s.bulk.kind {
	case kindAEAD, kindAEADXor:
		d.aead, err = s.bulk.aead(key)
		d.fixedIV = iv
	case kindCBC:
		d.block, err = s.bulk.block(key)
		d.mac = hmac.New(s.mac, macKey)
		d.etm = o.etm
		if version == VersionTLS10 {
			d.chainIV = iv
		}
	}
	clear(key)
	if err != nil {
		return nil, fmt.Errorf("tlsdecrypt: %s: %v", s.name, err)
	}
	return d, nil
}

// Seq returns the sequence number of the next record.
func (d *Decrypter) Seq() uint64 { return d.seq }

// Version returns the protocol version the decrypter was made for.
func (d *Decrypter) Version() uint16 { return d.version }

// Suite returns the cipher suite the decrypter was made for.
func (d *Decrypter) Suite() uint16 { return d.suite.id }

// Format prints the version, suite and sequence number whatever the verb,
// so that no formatting of a Decrypter, even %#v, shows key material.
func (d Decrypter) Format(f fmt.State, _ rune) {
	if d.suite == nil {
		fmt.Fprint(f, "tlsdecrypt.Decrypter{}")
		return
	}
	fmt.Fprintf(f, "tlsdecrypt.Decrypter{%s %s seq=%d}", versionName(d.version), d.suite.name, d.seq)
}

func versionName(v uint16) string {
	switch v {
	case VersionTLS10:
		return "TLS 1.0"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS13:
		return "TLS 1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

// Open decrypts one record: the 5-byte header and the payload its length
// field announces, nothing more. It returns the plaintext, in a new slice,
// and the content type: for TLS 1.3 the inner content type, with the
// padding removed. The record is not modified.
//
// The sequence number advances when the record authenticates, even if its
// decrypted content is then malformed (ErrRecord), because the sender used
// that number; on any other error the decrypter is unchanged.
//
// A TLS 1.3 change_cipher_spec record is never encrypted (RFC 8446 §D.4):
// Open returns its payload as it is, with type 20, without using a sequence
// number, so that every record after the ServerHello can be given to Open.
func (d *Decrypter) Open(record []byte) (plaintext []byte, contentType uint8, err error) {
	if d.suite == nil {
		return nil, 0, errors.New("tlsdecrypt: Open on a Decrypter not made by NewTLS13 or NewTLS12")
	}
	if len(record) < recordHeaderLen {
		return nil, 0, fmt.Errorf("%w: %d bytes, shorter than the 5-byte record header", ErrRecord, len(record))
	}
	n := int(binary.BigEndian.Uint16(record[3:5]))
	if n != len(record)-recordHeaderLen {
		return nil, 0, fmt.Errorf("%w: header announces %d bytes of payload, record has %d", ErrRecord, n, len(record)-recordHeaderLen)
	}
	max := maxCiphertext12
	if d.version == VersionTLS13 {
		max = maxCiphertext13
	}
	if n > max {
		return nil, 0, fmt.Errorf("%w: %d-byte payload exceeds the %s limit of %d", ErrRecord, n, versionName(d.version), max)
	}
	switch {
	case d.version == VersionTLS13:
		return d.open13(record)
	case d.aead != nil:
		return d.openAEAD12(record)
	default:
		return d.openCBC(record)
	}
}

// Skip steps over one record without decrypting it, as if Open had
// authenticated it: the sequence number advances, and for TLS 1.0 CBC suites
// the chained IV becomes the record's last ciphertext block. An observer
// uses it for application data, whose content it never needs, to stay in
// step for the handshake and alert records that follow. A TLS 1.3
// change_cipher_spec record uses no sequence number and is passed over.
func (d *Decrypter) Skip(record []byte) error {
	if d.suite == nil {
		return errors.New("tlsdecrypt: Skip on a Decrypter not made by NewTLS13 or NewTLS12")
	}
	if len(record) < recordHeaderLen || int(binary.BigEndian.Uint16(record[3:5])) != len(record)-recordHeaderLen {
		return fmt.Errorf("%w: not one whole record", ErrRecord)
	}
	if d.version == VersionTLS13 && record[0] == typeChangeCipherSpec {
		return nil
	}
	if d.chainIV != nil {
		bs := d.block.BlockSize()
		ct := record[recordHeaderLen:]
		if d.etm {
			ct = ct[:max(0, len(ct)-d.mac.Size())]
		}
		if len(ct) < bs || len(ct)%bs != 0 {
			return fmt.Errorf("%w: %s record has %d bytes of ciphertext, not a whole number of %d-byte blocks", ErrRecord, d.suite.name, len(ct), bs)
		}
		d.chainIV = append(d.chainIV[:0], ct[len(ct)-bs:]...)
	}
	d.seq++
	return nil
}

// SkipUnseen steps over n records whose bytes are gone, for suites whose
// only per-record state is the sequence number (every AEAD suite, and
// TLS 1.1+ CBC): a TLS 1.3 observer that saw 0-RTT records before it knew
// the suite uses it to keep the early secret's sequence numbers. TLS 1.0
// CBC chains its IV through the record bytes and cannot skip unseen ones.
func (d *Decrypter) SkipUnseen(n int) error {
	if d.chainIV != nil {
		return fmt.Errorf("%w: TLS 1.0 CBC needs each record to continue its IV chain", ErrRecord)
	}
	d.seq += uint64(n)
	return nil
}

// xorNonce returns the 12-byte IV XOR the big-endian sequence number, left
// padded with zeros (RFC 8446 §5.3, RFC 7905 §2).
func (d *Decrypter) xorNonce() []byte {
	nonce := append([]byte(nil), d.fixedIV...)
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], d.seq)
	for i := range s {
		nonce[len(nonce)-8+i] ^= s[i]
	}
	return nonce
}

func (d *Decrypter) open13(record []byte) ([]byte, uint8, error) {
	typ, payload := record[0], record[recordHeaderLen:]
	if typ == typeChangeCipherSpec {
		return append([]byte(nil), payload...), typ, nil
	}
	if typ != typeApplicationData {
		return nil, 0, fmt.Errorf("%w: TLS 1.3 protected record has outer type %d, want 23", ErrRecord, typ)
	}
	if len(payload) < d.aead.Overhead()+1 {
		return nil, 0, fmt.Errorf("%w: %s record of %d bytes is shorter than its %d-byte tag and content type", ErrRecord, d.suite.name, len(payload), d.aead.Overhead())
	}
	// The whole header is the additional data (RFC 8446 §5.2).
	pt, err := d.aead.Open(nil, d.xorNonce(), payload, record[:recordHeaderLen])
	if err != nil {
		return nil, 0, fmt.Errorf("%w: TLS 1.3 %s record, sequence number %d", ErrAuth, d.suite.name, d.seq)
	}
	d.seq++
	// TLSInnerPlaintext is content, the type, then zero padding: the type is
	// the last non-zero byte.
	i := len(pt) - 1
	for i >= 0 && pt[i] == 0 {
		i--
	}
	if i < 0 {
		return nil, 0, fmt.Errorf("%w: TLS 1.3 record (sequence number %d) decrypted to %d zero bytes: no content type", ErrRecord, d.seq-1, len(pt))
	}
	return pt[:i], pt[i], nil
}

// additionalData12 is the TLS 1.0–1.2 MAC and AEAD input before the content:
// seq_num + type + version + length (RFC 5246 §6.2.3.1, §6.2.3.3).
func (d *Decrypter) additionalData12(record []byte, length int) []byte {
	ad := make([]byte, 13)
	binary.BigEndian.PutUint64(ad, d.seq)
	copy(ad[8:11], record[:3])
	binary.BigEndian.PutUint16(ad[11:], uint16(length))
	return ad
}

func (d *Decrypter) openAEAD12(record []byte) ([]byte, uint8, error) {
	payload := record[recordHeaderLen:]
	explicit := 0
	if d.suite.bulk.kind == kindAEAD {
		explicit = 8
	}
	tagLen := d.aead.Overhead()
	if len(payload) < explicit+tagLen {
		return nil, 0, fmt.Errorf("%w: %s record of %d bytes is shorter than its %d-byte nonce and %d-byte tag", ErrRecord, d.suite.name, len(payload), explicit, tagLen)
	}
	var nonce []byte
	if explicit > 0 {
		// salt from the key block + nonce_explicit from the record
		// (RFC 5288 §3, RFC 6655 §3).
		nonce = append(append(make([]byte, 0, 12), d.fixedIV...), payload[:explicit]...)
	} else {
		nonce = d.xorNonce()
	}
	ct := payload[explicit:]
	ad := d.additionalData12(record, len(ct)-tagLen)
	pt, err := d.aead.Open(nil, nonce, ct, ad)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %s %s record, sequence number %d", ErrAuth, versionName(d.version), d.suite.name, d.seq)
	}
	d.seq++
	return pt, record[0], nil
}

func (d *Decrypter) openCBC(record []byte) ([]byte, uint8, error) {
	payload := record[recordHeaderLen:]
	bs := d.block.BlockSize()
	macLen := d.mac.Size()
	ivLen := 0
	if d.version >= VersionTLS11 {
		ivLen = bs // explicit IV (RFC 4346 §6.2.3.2)
	}
	name := d.suite.name
	if d.etm {
		name += " (encrypt-then-MAC)"
	}

	enc := payload // [IV] + ciphertext
	var gotMAC []byte
	minLen := ivLen + roundUp(macLen+1, bs)
	if d.etm {
		if len(payload) < macLen {
			return nil, 0, fmt.Errorf("%w: %s record of %d bytes is shorter than its %d-byte MAC", ErrRecord, name, len(payload), macLen)
		}
		enc, gotMAC = payload[:len(payload)-macLen], payload[len(payload)-macLen:]
		minLen = ivLen + bs
	}
	if len(enc)%bs != 0 || len(enc) < minLen {
		return nil, 0, fmt.Errorf("%w: %s record has %d bytes of ciphertext, want a multiple of %d and at least %d", ErrRecord, name, len(enc), bs, minLen)
	}

	if d.etm {
		// RFC 7366 §3: the MAC covers the header with the length of IV +
		// ciphertext, then IV + ciphertext.
		if !hmac.Equal(d.tls10MAC(record, enc), gotMAC) {
			return nil, 0, fmt.Errorf("%w: %s %s record, sequence number %d: MAC mismatch", ErrAuth, versionName(d.version), name, d.seq)
		}
	}

	iv := d.chainIV
	if ivLen > 0 {
		iv = enc[:ivLen]
	}
	ct := enc[ivLen:]
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(d.block, iv).CryptBlocks(pt, ct)

	// The padding: padLen+1 bytes, each equal to padLen (RFC 5246 §6.2.3.2).
	padLen := int(pt[len(pt)-1])
	paddingOK := padLen+1 <= len(pt)
	for i := len(pt) - padLen - 1; paddingOK && i < len(pt); i++ {
		paddingOK = pt[i] == byte(padLen)
	}

	var content []byte
	if d.etm {
		if !paddingOK {
			d.advanceCBC(ct)
			return nil, 0, fmt.Errorf("%w: %s %s record (sequence number %d) authenticated but its CBC padding is invalid", ErrRecord, versionName(d.version), name, d.seq-1)
		}
		content = pt[:len(pt)-padLen-1]
	} else {
		if !paddingOK || padLen+1+macLen > len(pt) {
			return nil, 0, fmt.Errorf("%w: %s %s record, sequence number %d: bad CBC padding", ErrAuth, versionName(d.version), name, d.seq)
		}
		n := len(pt) - padLen - 1 - macLen
		content = pt[:n]
		if !hmac.Equal(d.tls10MAC(record, content), pt[n:n+macLen]) {
			return nil, 0, fmt.Errorf("%w: %s %s record, sequence number %d: MAC mismatch", ErrAuth, versionName(d.version), name, d.seq)
		}
	}
	d.advanceCBC(ct)
	return content, record[0], nil
}

// advanceCBC moves to the next record: the sequence number, and in TLS 1.0
// the IV, which is the last ciphertext block of this record (RFC 2246
// §6.2.3.2).
func (d *Decrypter) advanceCBC(ct []byte) {
	d.seq++
	if d.chainIV != nil {
		d.chainIV = append(d.chainIV[:0], ct[len(ct)-d.block.BlockSize():]...)
	}
}

// tls10MAC is HMAC(MAC_write_key, seq_num + type + version + length + data)
// with the length of data (RFC 5246 §6.2.3.1).
func (d *Decrypter) tls10MAC(record, data []byte) []byte {
	d.mac.Reset()
	d.mac.Write(d.additionalData12(record, len(data)))
	d.mac.Write(data)
	return d.mac.Sum(nil)
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }
