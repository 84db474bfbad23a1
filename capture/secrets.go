package capture

import (
	"encoding/binary"
	"fmt"
)

// SecretsTLSKeyLog is the secrets type of a pcapng Decryption Secrets Block
// that holds TLS secrets as NSS key log text ("TLSK"), as written by
// editcap --inject-secrets tls,FILE.
const SecretsTLSKeyLog = 0x544c534b

// MaxSecretsBlock is the largest Decryption Secrets Block read, in bytes.
// The block is held in memory whole; 16 MiB of key log text covers tens
// of thousands of connections. A larger one is reported as ErrCorrupt.
const MaxSecretsBlock = 16 << 20

// maxPendingSecrets bounds the secrets found and not yet handed out, which
// are those between two packets (and in the read buffer's look-ahead):
// without it a file of secrets blocks and no packets would be held in
// memory whole. A variable for tests.
var maxPendingSecrets int64 = 64 << 20

// pcapgo skips Decryption Secrets Blocks without a way to see them, and
// FileSource's own look-ahead (checkNgBlocks) only sees blocks that fit in
// the read buffer. So the blocks are followed in the byte stream itself,
// below the bufio.Reader, as it is read from the file: every byte passes
// there once, in order and in large chunks, and all that is done per block
// is reading its type and length from bytes already in memory. Only the
// contents of Decryption Secrets Blocks are copied.
//
// Blocks are found ahead of the packets being returned (by up to the
// buffer), so what is found is queued with the number of packet blocks
// before it, and handed out by Next once that many packets have been
// returned: a secrets block always comes before the packets that follow it
// in the file and after those that precede it.

// ngEvent is a Decryption Secrets Block found in the stream, or the damage
// found in one.
type ngEvent struct {
	offset  int64    // of the block
	packets int      // packet blocks before it in the sections pcapgo reads
	typ     uint32   // secrets type
	data    []byte   // secrets
	err     *problem // the block is damaged; nothing after it is followed
}

// ngObserver follows the blocks of a pcapng stream as it is read.
type ngObserver struct {
	next      int64     // offset of the next block
	hdr       [16]byte  // start of the block at next, when it comes in pieces
	hdrN      int       // bytes in hdr
	need      int       // header bytes needed, once more than 8
	bigEndian bool      // of the current section
	skip      bool      // the section has a version pcapgo skips
	packets   int       // packet blocks seen in sections pcapgo reads
	stopped   bool      // the structure is lost or damaged: nothing more is followed
	section2  int64     // offset of the second section header block, 0 until one is seen
	dsb       ngEvent   // the secrets block being collected
	dsbLen    uint32    // its block length
	dataLen   uint32    // its secrets length
	body      []byte    // its bytes after the 16-byte header, as they arrive
	collect   bool      // body is being collected, up to next
	events    []ngEvent // found, not yet handed out
	pending   int64     // bytes of secrets in events
}

// firstSection reports whether the next block of s is known to be in the
// file's first section: every block header before it was followed, and
// none of them began a second section.
func (o *ngObserver) firstSection(s *FileSource) bool {
	if o.section2 == 0 && !o.stopped {
		return true // the usual file: no need for the block's offset
	}
	pos := s.pos()
	return (o.section2 == 0 || pos < o.section2) && (!o.stopped || pos < o.next)
}

func (o *ngObserver) u32(b []byte) uint32 { return get32(o.bigEndian, b) }

// observe follows the blocks in p, the bytes of the stream at offset base.
// It is called with consecutive pieces of the stream.
func (o *ngObserver) observe(p []byte, base int64) {
	for !o.stopped {
		if o.collect {
			i := o.next - int64(o.dsbLen) + 16 + int64(len(o.body)) - base // index in p of the next byte of the block
			if i >= int64(len(p)) {
				return
			}
			k := min(int64(len(p))-i, int64(o.dsbLen)-16-int64(len(o.body)))
			o.body = append(o.body, p[i:i+k]...)
			if len(o.body) < int(o.dsbLen)-16 {
				return
			}
			o.collect = false
			o.finishDSB()
			continue
		}
		if o.hdrN == 0 && !o.skip {
			o.skim(p, base)
		}
		i := o.next + int64(o.hdrN) - base // index in p of the next header byte
		if i >= int64(len(p)) {
			return
		}
		if o.hdrN == 0 && int64(len(p))-i >= 16 {
			o.header(p[i : i+16])
			continue
		}
		need := 8
		if o.hdrN >= 8 {
			need = o.need
		}
		o.hdrN += copy(o.hdr[o.hdrN:need], p[i:])
		if o.hdrN < need {
			return
		}
		if n := o.header(o.hdr[:o.hdrN]); n > 0 {
			o.need = n
			continue
		}
		o.hdrN = 0
	}
}

// skim passes over the blocks in p that need nothing but their length
// read, the bulk of any file, and stops at the first one that needs more
// or whose header is not whole in p. It is the hot path: a tight loop, with
// the byte order decided outside it.
func (o *ngObserver) skim(p []byte, base int64) {
	i, packets := o.next-base, o.packets // i ≥ 0: no header bytes are left behind
	end := int64(len(p)) - 8
	if o.bigEndian {
	big:
		for i <= end {
			h := p[i : i+8 : i+8]
			typ, length := binary.BigEndian.Uint32(h), binary.BigEndian.Uint32(h[4:])
			switch {
			case length < 12 || length%4 != 0:
				break big
			case typ == ngEPB || typ == ngSPB || typ == ngPB:
				packets++
			case typ == ngDSB || typ == ngSHB:
				break big
			}
			i += int64(length)
		}
	} else {
	little:
		for i <= end {
			h := p[i : i+8 : i+8]
			typ, length := binary.LittleEndian.Uint32(h), binary.LittleEndian.Uint32(h[4:])
			switch {
			case length < 12 || length%4 != 0:
				break little
			case typ == ngEPB || typ == ngSPB || typ == ngPB:
				packets++
			case typ == ngDSB || typ == ngSHB:
				break little
			}
			i += int64(length)
		}
	}
	o.next, o.packets = base+i, packets
}

// header reads the start of the block at o.next, 8 to 16 bytes, and moves
// on to the next block. It returns how many bytes it needs when h is too
// short, which is never more than a valid block of its type holds.
func (o *ngObserver) header(h []byte) int {
	if binary.LittleEndian.Uint32(h[0:4]) == ngSHB { // reads the same both ways
		if len(h) < 16 {
			return 16
		}
		order, ok := ngSectionOrder(h[8:12])
		if !ok {
			o.stopped = true // checkNgBlocks and pcapgo report it
			return 0
		}
		o.bigEndian = order == binary.BigEndian
		length := o.u32(h[4:8])
		if length < 28 {
			o.stopped = true
			return 0
		}
		// pcapgo skips the blocks of a section of another version
		// (SkipUnknownVersion): they have no packets nor secrets.
		o.skip = order.Uint16(h[12:14]) != 1 || order.Uint16(h[14:16]) != 0
		if o.next > 0 && o.section2 == 0 {
			o.section2 = o.next
		}
		o.next += int64(length)
		return 0
	}
	typ, length := o.u32(h[0:4]), o.u32(h[4:8])
	if length < 12 || length%4 != 0 {
		o.stopped = true // checkNgBlocks and pcapgo report it
		return 0
	}
	if !o.skip {
		switch typ {
		case ngEPB, ngSPB, ngPB:
			o.packets++
		case ngDSB:
			if length >= 20 && len(h) < 16 {
				return 16
			}
			o.startDSB(h, length)
			return 0
		}
	}
	o.next += int64(length)
	return 0
}

// startDSB checks the header of a Decryption Secrets Block and starts
// collecting its contents.
func (o *ngObserver) startDSB(h []byte, length uint32) {
	o.dsb = ngEvent{offset: o.next, packets: o.packets}
	if length < 20 {
		o.fail(fmt.Sprintf("decryption secrets block length %d is below the minimum 20", length))
		return
	}
	if length > MaxSecretsBlock {
		o.fail(fmt.Sprintf("decryption secrets block of %d bytes is over the %d MiB limit", length, MaxSecretsBlock>>20))
		return
	}
	if o.pending+int64(length) > maxPendingSecrets {
		o.fail(fmt.Sprintf("over %d MiB of decryption secrets between two packets", maxPendingSecrets>>20))
		return
	}
	o.dsb.typ = o.u32(h[8:12])
	n := o.u32(h[12:16])
	if uint64(n)+uint64(pad4(n)) > uint64(length)-20 {
		o.fail(fmt.Sprintf("decryption secrets block says %d bytes of secrets, more than its block length %d holds", n, length))
		return
	}
	o.dsbLen, o.dataLen = length, n
	// The contents grow as they arrive: a short file claiming a 16 MiB
	// block costs no 16 MiB.
	o.body = make([]byte, 0, min(int(length)-16, 64<<10))
	o.collect = true
	o.next += int64(length)
}

func pad4(n uint32) uint32 { return (4 - n&3) & 3 }

// finishDSB checks the collected block and queues its secrets.
func (o *ngObserver) finishDSB() {
	b := o.body
	o.body = nil
	if trailer := o.u32(b[len(b)-4:]); trailer != o.dsbLen {
		o.fail(fmt.Sprintf("decryption secrets block length %d differs from the %d at its end", o.dsbLen, trailer))
		return
	}
	o.dsb.data = b[:o.dataLen:o.dataLen] // the padding, options and trailer after it are few bytes
	o.pending += int64(o.dataLen)
	o.events = append(o.events, o.dsb)
	o.dsb = ngEvent{}
}

// fail queues the damage found in the block at o.dsb.offset and stops.
func (o *ngObserver) fail(msg string) {
	o.events = append(o.events, ngEvent{offset: o.dsb.offset, packets: o.dsb.packets, err: &problem{msg, ErrCorrupt}})
	o.stopped = true
}
