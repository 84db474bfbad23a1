package capture

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// MaxPacketSize is the largest captured packet accepted (libpcap's
// MAXIMUM_SNAPLEN). A record claiming more is reported as corrupt, whatever
// snap length the file header declares.
const MaxPacketSize = 256 << 10

// bufSize is the read buffer. A whole packet record is looked at in the
// buffer before it is read, so it must hold the largest one; pcapng packet
// blocks may carry options besides the packet.
const bufSize = 2 * MaxPacketSize

// Sentinels that a ReadError wraps, for errors.Is.
var (
	// ErrTruncated: the file ends before the record, block or header being read is complete.
	ErrTruncated = errors.New("capture file truncated")
	// ErrCorrupt: a record, block or header holds values that cannot be right.
	ErrCorrupt = errors.New("capture file corrupt")
	// ErrFormat: the file is not pcap or pcapng, or a version this package does not read.
	ErrFormat = errors.New("not a pcap or pcapng file")
)

// Packet is one packet read from a capture file.
type Packet struct {
	Index     int             // 1-based packet number in its file
	Timestamp time.Time       // UTC
	LinkType  layers.LinkType // per packet: pcapng files may mix interfaces and link types
	Data      []byte          // captured bytes; valid until the next call to Next
	Length    int             // original length on the wire
	Truncated bool            // fewer bytes captured than were on the wire (snap length)
}

// ReadError reports a file that could not be read further. Packets before
// the damage have been returned by Next.
type ReadError struct {
	File   string
	Packet int   // 1-based index of the packet that could not be read; 0 for the file header
	Offset int64 // offset of the damaged record or block in the (decompressed) file; -1 if unknown
	Err    error // what is wrong; wraps ErrTruncated, ErrCorrupt, ErrFormat or the I/O error
}

func (e *ReadError) Error() string {
	if e.Packet > 0 {
		return fmt.Sprintf("%s: packet %d: %v", e.File, e.Packet, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// problem is a human description of what went wrong, wrapping the kind
// (ErrTruncated, ErrCorrupt, ErrFormat, or an I/O error).
type problem struct {
	msg  string
	kind error
}

func (p *problem) Error() string { return p.msg }
func (p *problem) Unwrap() error { return p.kind }

type format uint8

const (
	formatPcap format = iota + 1
	formatPcapng
)

// countReader counts the bytes read through it, so that the position of the
// next unread byte is count minus what the bufio.Reader above holds. For
// pcapng it also shows them to an ngObserver, which finds the Decryption
// Secrets Blocks.
type countReader struct {
	r  io.Reader
	n  int64
	ng *ngObserver
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.ng != nil && n > 0 {
		c.ng.observe(p[:n], c.n)
	}
	c.n += int64(n)
	return n, err
}

// FileSource reads the packets of one capture file. It is not safe for
// concurrent use.
type FileSource struct {
	// OnSecrets, when set, is called with the contents of each pcapng
	// Decryption Secrets Block (secretsType SecretsTLSKeyLog holds an NSS
	// key log), in file order. It is called by Next, after Next has
	// returned the packets before the block and before it returns the
	// first packet after it (or io.EOF), so it may be set any time before
	// the first Next. data is the callee's to keep. A damaged block ends
	// reading with a *ReadError wrapping ErrCorrupt, as a damaged packet
	// does.
	OnSecrets func(secretsType uint32, data []byte)

	name       string
	closer     io.Closer
	gz         *gzip.Reader
	ra         *readAhead // the file (decompressed), read ahead
	cr         countReader
	br         *bufio.Reader
	format     format
	order      binary.ByteOrder // pcap: of the file; pcapng: of the current section
	linkType   layers.LinkType  // pcap only
	pcap       *pcapgo.Reader
	tsFactor   int64 // pcap: nanoseconds per unit of the timestamp fraction
	discard    int   // pcap: bytes of the packet last returned, dropped at the next Next
	keep       *kept // pcap: KeepData
	ng         *pcapgo.NgReader
	ngIfaces   []ngIface // pcapng: the interfaces the fast path has used (ngfast.go)
	big        bool      // pcap: the file is big-endian; pcapng: its first section (s.order follows the blocks looked at)
	ngSlow     bool      // pcapng: no fast path (tests compare the two)
	ngFast     int       // pcapng: packets read by the fast path (for tests)
	n          int       // packets returned
	err        error     // sticky: io.EOF or a *ReadError
	inCallback bool      // OnSecrets or OnStall's function is running: its panics are its own, not damaged data
}

// OpenFile opens a capture file; "-" reads standard input.
func OpenFile(path string) (*FileSource, error) {
	return OpenFileThrough(path, nil)
}

// OpenFileThrough is OpenFile reading the file (or standard input)
// through wrap(file) when wrap is not nil, e.g. to count the bytes read
// for a progress display (of a compressed file, its compressed bytes).
func OpenFileThrough(path string, wrap func(io.Reader) io.Reader) (*FileSource, error) {
	if path == "-" {
		var r io.Reader = os.Stdin
		if wrap != nil {
			r = wrap(r)
		}
		return NewFileSource("(standard input)", r)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, &ReadError{File: path, Err: &problem{"is a directory, not a capture file; give a file in it", ErrFormat}}
	}
	var r io.Reader = f
	if wrap != nil {
		r = wrap(f)
	}
	s, err := NewFileSource(path, r)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.closer = f
	return s, nil
}

var (
	magicPcapngBytes = []byte{0x0a, 0x0d, 0x0d, 0x0a}
	pcapMagics       = [][]byte{
		{0xd4, 0xc3, 0xb2, 0xa1}, // µs, little endian
		{0xa1, 0xb2, 0xc3, 0xd4}, // µs, big endian
		{0x4d, 0x3c, 0xb2, 0xa1}, // ns, little endian
		{0xa1, 0xb2, 0x3c, 0x4d}, // ns, big endian
	}
)

// sniff reads up to 4 bytes of r and returns them with a reader that yields
// all of r again.
func sniff(r io.Reader) ([]byte, io.Reader, error) {
	head := make([]byte, 4)
	n, err := io.ReadFull(r, head)
	head = head[:n]
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return head, io.MultiReader(bytes.NewReader(head), r), err
}

// NewFileSource reads a capture from r. The format is recognised from the
// content: pcap, pcapng, or either of them gzip-compressed. name is used in
// error messages.
func NewFileSource(name string, r io.Reader) (*FileSource, error) {
	s := &FileSource{name: name}
	head, rest, err := sniff(r)
	if err != nil {
		return nil, s.headerError(s.ioProblem(err, ""))
	}
	if len(head) == 0 {
		return nil, s.notCapture(rest)
	}
	inside := ""
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(rest)
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, s.headerError(&problem{"truncated gzip header", ErrTruncated})
			}
			return nil, s.headerError(&problem{"damaged gzip header: " + err.Error(), ErrCorrupt})
		}
		s.gz = gz
		inside = " inside gzip"
		head, rest, err = sniff(gz)
		if err != nil {
			return nil, s.headerError(s.ioProblem(err, ""))
		}
		if len(head) == 0 {
			return nil, s.notCapture(rest)
		}
	}
	switch {
	case bytes.Equal(head, magicPcapngBytes):
		s.read(rest, &ngObserver{})
		err = s.openPcapng()
	case isPcapMagic(head):
		s.read(rest, nil)
		err = s.openPcap(head)
	case len(head) < 4 && (bytes.HasPrefix(magicPcapngBytes, head) || hasPcapPrefix(head)):
		err = s.headerError(&problem{fmt.Sprintf("truncated file header (%d bytes%s)", len(head), inside), ErrTruncated})
	default:
		err = s.notCapture(rest)
	}
	if err != nil {
		return nil, err // not reading ahead yet: nothing to stop
	}
	return s, nil
}

// read makes r, a capture file after its first 4 bytes, the one Next reads:
// read ahead, counted, shown to ng (pcapng) and buffered.
func (s *FileSource) read(r io.Reader, ng *ngObserver) {
	s.ra = &readAhead{r: r}
	s.cr = countReader{r: s.ra, ng: ng}
	s.br = bufio.NewReaderSize(&s.cr, bufSize)
}

// ReadAhead makes the source read the file ahead from now on, on a
// goroutine of its own, while the caller decodes what was read before:
// worth a core the caller leaves idle (one worker on the bulk benchmark
// capture: 95 → 79 ms), and the way a source notices a stalled pipe
// (OnStall). Close, or dropping the source, ends the goroutine once the
// read it is in returns (of standard input, which Close leaves open, no
// more is read than that read takes).
func (s *FileSource) ReadAhead() {
	if s.err == nil { // not at the end, not closed
		s.ra.start(s)
	}
}

// OnStall sets f (nil: none) to be called, on the goroutine calling Next,
// when a source reading ahead has waited a while (20 ms) for more of the
// file, as a pipe with nothing to give for now makes it wait, before it
// waits on: a caller holding packets back, to hand them over in rounds,
// can pass them on instead of keeping them until the pipe gives more.
func (s *FileSource) OnStall(f func()) {
	s.ra.onStall = nil
	if f != nil {
		s.ra.onStall = func() { s.callback(f) }
	}
}

// ErrGaveUp is the error of a source that stopped waiting for more of its
// file (GiveUpOn).
var ErrGaveUp = errors.New("gave up waiting for more of the file")

// GiveUpOn makes a source reading ahead stop waiting for more of the file
// when done is closed: Next (or NextBatch) then returns an error wrapping
// ErrGaveUp, as does every later call. A caller that has all it wants
// (tlsinspect -c N) need not wait for a pipe that is quiet for now.
func (s *FileSource) GiveUpOn(done <-chan struct{}) {
	s.ra.giveUp = done
}

// callback runs f, a function of the caller's, called from Next: a panic
// in it is its own, not damaged data's (Next's recover passes it on).
func (s *FileSource) callback(f func()) {
	s.inCallback = true
	f()
	s.inCallback = false
}

func isPcapMagic(head []byte) bool {
	for _, m := range pcapMagics {
		if bytes.Equal(head, m) {
			return true
		}
	}
	return false
}

func hasPcapPrefix(head []byte) bool {
	for _, m := range pcapMagics {
		if bytes.HasPrefix(m, head) {
			return true
		}
	}
	return false
}

func (s *FileSource) headerError(p *problem) error {
	return &ReadError{File: s.name, Packet: 0, Offset: 0, Err: p}
}

// pos is the offset of the next unread byte of the (decompressed) file.
func (s *FileSource) pos() int64 {
	p := s.cr.n - int64(s.br.Buffered())
	if s.keep != nil {
		p -= int64(s.keep.end - s.keep.off)
	}
	return p
}

// ioProblem describes an error of the underlying reader. io.EOF and
// io.ErrUnexpectedEOF mean the file ended early: truncMsg is the message.
func (s *FileSource) ioProblem(err error, truncMsg string) *problem {
	var ce flate.CorruptInputError
	switch {
	case err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if truncMsg == "" {
			truncMsg = "file ends early"
		}
		if s.gz != nil {
			truncMsg += " (gzip data ends early)"
		}
		return &problem{truncMsg, ErrTruncated}
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &ce):
		return &problem{"damaged gzip data: " + err.Error(), ErrCorrupt}
	}
	return &problem{"read error: " + err.Error(), err}
}

func (s *FileSource) fail(offset int64, p *problem) error {
	s.err = &ReadError{File: s.name, Packet: s.n + 1, Offset: offset, Err: p}
	return s.err
}

// Name returns the name given to the source.
func (s *FileSource) Name() string { return s.name }

// Format describes the file format: "pcap", "pcapng", "pcap (gzip)", "pcapng (gzip)".
func (s *FileSource) Format() string {
	f := "pcap"
	if s.format == formatPcapng {
		f = "pcapng"
	}
	if s.gz != nil {
		f += " (gzip)"
	}
	return f
}

// Next returns the next packet. It returns io.EOF at a clean end of the
// file and a *ReadError when the file is damaged, after all packets before
// the damage. Both are returned again by every later call.
func (s *FileSource) Next() (p Packet, err error) {
	if s.err != nil {
		return Packet{}, s.err
	}
	defer func() {
		if r := recover(); r != nil {
			if s.inCallback {
				s.inCallback = false
				panic(r)
			}
			p = Packet{}
			err = s.fail(-1, &problem{fmt.Sprintf("reader failed on damaged data: %v", r), ErrCorrupt})
		}
	}()
	if s.format == formatPcap {
		return s.nextPcap()
	}
	return s.nextPcapng()
}

// Close closes the file (standard input is left open). Next returns an
// error afterwards.
func (s *FileSource) Close() error {
	if s.err == nil || s.err == io.EOF {
		s.err = &ReadError{File: s.name, Packet: s.n + 1, Offset: -1, Err: errors.New("capture file already closed")}
	}
	var err error
	// The read-ahead goroutine ends after the read it may be in: the file
	// may be closed under it. A gzip.Reader is not closed: the goroutine
	// may be in it, and closing one frees nothing.
	s.ra.close()
	if s.closer != nil {
		err = s.closer.Close()
		s.closer = nil
	}
	return err
}

// ---- pcap ----

func (s *FileSource) openPcap(magic []byte) error {
	s.format = formatPcap
	s.order = binary.LittleEndian
	if magic[0] == 0xa1 {
		s.order, s.big = binary.BigEndian, true
	}
	hdr, err := s.br.Peek(24)
	if len(hdr) < 24 {
		return s.headerError(s.ioProblem(err, fmt.Sprintf("truncated pcap file header (%d of 24 bytes)", len(hdr))))
	}
	major, minor := s.order.Uint16(hdr[4:6]), s.order.Uint16(hdr[6:8])
	if major != 2 || minor != 4 {
		return s.headerError(&problem{fmt.Sprintf("unsupported pcap version %d.%d (want 2.4)", major, minor), ErrFormat})
	}
	r, err := pcapgo.NewReader(s.br)
	if err != nil {
		return s.headerError(&problem{"pcap file header: " + err.Error(), ErrFormat})
	}
	s.pcap = r
	s.linkType = r.LinkType()
	s.tsFactor = 1
	if r.Resolution() == gopacket.TimestampResolutionMicrosecond {
		s.tsFactor = 1000
	}
	return nil
}

// u32 reads a uint32 of a pcap record header, in the file's byte order.
func (s *FileSource) u32(b []byte) uint32 { return get32(s.big, b) }

// get32 reads a big- or little-endian uint32 from b.
func get32(big bool, b []byte) uint32 {
	if big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (s *FileSource) nextPcap() (Packet, error) {
	// The packet last returned was read in place from the buffer (pcapgo
	// would copy it), and stays there until now.
	if s.discard > 0 {
		s.br.Discard(s.discard) // cannot fail: the bytes are buffered
		s.discard = 0
	}
	pos := s.pos()
	hdr, err := s.peek(16)
	if len(hdr) < 16 {
		if len(hdr) == 0 && err == io.EOF {
			s.err = io.EOF
			return Packet{}, io.EOF
		}
		return Packet{}, s.fail(pos, s.ioProblem(err, fmt.Sprintf("truncated packet record header (%d of 16 bytes present)", len(hdr))))
	}
	caplen, wirelen := s.u32(hdr[8:12]), s.u32(hdr[12:16])
	if p := recordProblem(caplen, wirelen); p != nil {
		return Packet{}, s.fail(pos, p)
	}
	n := 16 + int(caplen)
	rec, err := s.peek(n)
	if len(rec) < n {
		return Packet{}, s.fail(pos, s.ioProblem(err, fmt.Sprintf("truncated packet record (header says %d bytes, %d present)", caplen, len(rec)-16)))
	}
	if s.keep != nil {
		s.keep.off += n
	} else {
		s.discard = n
	}
	return s.record(rec, caplen, wirelen), nil
}

// recordOK reports whether a pcap record header that gives caplen and
// wirelen is sound: recordProblem says what is wrong when not. Apart, so
// that NextBatch's check of every record is inlined.
func recordOK(caplen, wirelen uint32) bool {
	return caplen <= MaxPacketSize && caplen <= wirelen
}

// recordProblem says what is wrong with a pcap record header that gives
// caplen and wirelen, or returns nil.
func recordProblem(caplen, wirelen uint32) *problem {
	if caplen > MaxPacketSize {
		return &problem{fmt.Sprintf("record header claims a %d-byte packet (limit %d): file is damaged", caplen, MaxPacketSize), ErrCorrupt}
	}
	if caplen > wirelen {
		return &problem{fmt.Sprintf("record header says %d bytes captured of a %d-byte packet: file is damaged", caplen, wirelen), ErrCorrupt}
	}
	return nil
}

// record is the packet of rec, a whole pcap record whose header says
// caplen and wirelen.
func (s *FileSource) record(rec []byte, caplen, wirelen uint32) Packet {
	s.n++
	n := 16 + int(caplen)
	return Packet{
		Index:     s.n,
		Timestamp: time.Unix(int64(s.u32(rec[0:4])), int64(s.u32(rec[4:8]))*s.tsFactor).UTC(),
		LinkType:  s.linkType,
		Data:      rec[16:n:n],
		Length:    int(wirelen),
		Truncated: caplen < wirelen,
	}
}

// NextBatch is Next for up to len(ps) packets at once: it fills ps[:n]
// and returns n, and the error Next would return after them, when it
// would return one before a packet (n is then 0). The Data of all n stay
// valid until the next call to Next or NextBatch (KeepData: as for Next).
// The packets after the first are taken from what is already buffered
// without a call per packet, which is most of the cost of reading a packet
// that needs no further work: pcap records, and the pcapng packet blocks
// the fast path reads (ngfast.go).
func (s *FileSource) NextBatch(ps []Packet) (n int, err error) {
	if len(ps) == 0 {
		return 0, nil
	}
	p, err := s.Next()
	if err != nil {
		return 0, err
	}
	ps[0] = p
	if s.format == formatPcapng {
		// The packet blocks after the first that the fast path reads
		// whole from the buffer, while no secrets block is pending: what
		// checkNgBlocks would look at in them, it checks too, and it
		// reads nothing, so the batch's bytes stay where they are.
		for n = 1; n < len(ps) && len(s.cr.ng.events) == 0; n++ {
			p, ok := s.ngFastPacket()
			if !ok {
				break
			}
			ps[n] = p
		}
		return n, nil
	}
	// The records after the first, while whole in what is already read:
	// the KeepData buffer, or the read buffer, where Peek within what is
	// buffered neither reads nor moves it, so that every packet's Data
	// stays where it is until the next call discards them.
	k := s.keep
	for n = 1; n < len(ps); n++ {
		var avail []byte
		if k != nil {
			avail = k.buf[k.off:k.end]
		} else {
			buf, _ := s.br.Peek(s.br.Buffered())
			avail = buf[s.discard:]
		}
		rec, caplen, wirelen, ok := s.buffered(avail)
		if !ok {
			break
		}
		if k != nil {
			k.off += len(rec)
		} else {
			s.discard += len(rec)
		}
		ps[n] = s.record(rec, caplen, wirelen)
	}
	return n, nil
}

// buffered returns the pcap record at the start of b if b holds all of it
// and its header is sound; anything else (a short buffer, a damaged
// header) is left to Next, which reads more or says what is wrong.
func (s *FileSource) buffered(b []byte) (rec []byte, caplen, wirelen uint32, ok bool) {
	if len(b) < 16 {
		return nil, 0, 0, false
	}
	caplen, wirelen = s.u32(b[8:12]), s.u32(b[12:16])
	if !recordOK(caplen, wirelen) || len(b)-16 < int(caplen) {
		return nil, 0, 0, false
	}
	n := 16 + int(caplen)
	return b[:n:n], caplen, wirelen, true
}

// ---- pcapng ----

const (
	ngSHB = 0x0a0d0d0a
	ngIDB = 1
	ngPB  = 2 // obsolete Packet Block
	ngSPB = 3
	ngNRB = 4
	ngISB = 5
	ngEPB = 6
	ngDSB = 10

	ngByteOrderMagic = 0x1a2b3c4d
)

func (s *FileSource) openPcapng() error {
	s.format = formatPcapng
	hdr, err := s.br.Peek(12)
	if len(hdr) < 12 {
		return s.headerError(s.ioProblem(err, fmt.Sprintf("truncated pcapng section header (%d of 12 bytes)", len(hdr))))
	}
	order, ok := ngSectionOrder(hdr[8:12])
	if !ok {
		return s.headerError(&problem{fmt.Sprintf("pcapng section header has an invalid byte-order magic (% x)", hdr[8:12]), ErrCorrupt})
	}
	s.order, s.big = order, order == binary.ByteOrder(binary.BigEndian)
	if l := order.Uint32(hdr[4:8]); l < 28 {
		return s.headerError(&problem{fmt.Sprintf("pcapng section header length %d (at least 28)", l), ErrCorrupt})
	}
	ng, err := pcapgo.NewNgReader(s.br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
	if err != nil {
		return s.headerError(s.ngProblem(err))
	}
	s.ng = ng
	return nil
}

func ngSectionOrder(bom []byte) (binary.ByteOrder, bool) {
	switch {
	case binary.BigEndian.Uint32(bom) == ngByteOrderMagic:
		return binary.BigEndian, true
	case binary.LittleEndian.Uint32(bom) == ngByteOrderMagic:
		return binary.LittleEndian, true
	}
	return nil, false
}

// ngProblem describes an error of pcapgo's NgReader.
func (s *FileSource) ngProblem(err error) *problem {
	if errors.Is(err, io.ErrUnexpectedEOF) || strings.HasSuffix(err.Error(), io.ErrUnexpectedEOF.Error()) {
		return s.ioProblem(io.ErrUnexpectedEOF, "file ends inside a pcapng block")
	}
	if errors.Is(err, pcapgo.ErrNgVersionMismatch) {
		return &problem{"unsupported pcapng version", ErrFormat}
	}
	var ce flate.CorruptInputError
	if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, &ce) {
		return s.ioProblem(err, "")
	}
	msg := err.Error()
	if msg != "" {
		msg = strings.ToLower(msg[:1]) + msg[1:]
	}
	return &problem{"pcapng: " + msg, ErrCorrupt}
}

// ngBlockOrder guesses the byte order of a block from its type, which is a
// small number for every block type defined, and falls back to the order of
// the current section.
func (s *FileSource) ngBlockOrder(typ []byte) binary.ByteOrder {
	known := func(t uint32) bool { return (t >= ngIDB && t <= ngEPB) || t == ngDSB }
	le, be := binary.LittleEndian.Uint32(typ), binary.BigEndian.Uint32(typ)
	switch {
	case known(le) && !known(be):
		return binary.LittleEndian
	case known(be) && !known(le):
		return binary.BigEndian
	}
	return s.order
}

// checkNgBlocks looks at the blocks up to and including the next packet
// block without consuming them, so that a packet block that is cut short or
// impossibly large is reported precisely instead of being read by pcapgo.
// Blocks that do not fit in the buffer are left to pcapgo.
func (s *FileSource) checkNgBlocks(pos int64) error {
	off := 0
	order := s.order
	defer func() { s.order = order }()
	for {
		b, err := s.br.Peek(off + 12)
		if len(b) < off+8 {
			if err == bufio.ErrBufferFull {
				return nil // too far to look
			}
			if len(b) == off && err == io.EOF {
				return nil // a clean end after whole blocks
			}
			return s.fail(pos+int64(off), s.ioProblem(err, fmt.Sprintf("truncated pcapng block header (%d of 8 bytes present)", len(b)-off)))
		}
		h := b[off:]
		typ := binary.LittleEndian.Uint32(h[0:4]) // the SHB type reads the same both ways
		if typ == ngSHB {
			if len(h) < 12 {
				return s.fail(pos+int64(off), s.ioProblem(err, "truncated pcapng section header"))
			}
			o, ok := ngSectionOrder(h[8:12])
			if !ok {
				return s.fail(pos+int64(off), &problem{fmt.Sprintf("pcapng section header has an invalid byte-order magic (% x)", h[8:12]), ErrCorrupt})
			}
			order = o
		} else {
			order = s.ngBlockOrder(h[0:4])
			typ = order.Uint32(h[0:4])
		}
		length := int64(order.Uint32(h[4:8]))
		if length < 12 || length%4 != 0 {
			return s.fail(pos+int64(off), &problem{fmt.Sprintf("pcapng block of type 0x%x has an invalid length %d (at least 12, a multiple of 4)", typ, length), ErrCorrupt})
		}
		if typ == ngEPB || typ == ngPB || typ == ngSPB {
			return s.checkNgPacketBlock(pos, off, typ, length, order)
		}
		if int64(off)+length+12 > bufSize {
			return nil
		}
		if b, err := s.br.Peek(off + int(length)); len(b) < off+int(length) {
			return s.fail(pos+int64(off), s.ioProblem(err, fmt.Sprintf("truncated pcapng block of type 0x%x (block length %d, %d bytes present)", typ, length, len(b)-off)))
		}
		off += int(length)
	}
}

func (s *FileSource) checkNgPacketBlock(pos int64, off int, typ uint32, length int64, order binary.ByteOrder) error {
	at := pos + int64(off)
	min := int64(32)
	if typ == ngSPB {
		min = 16
	}
	if length < min {
		return s.fail(at, &problem{fmt.Sprintf("pcapng packet block length %d is below the minimum %d", length, min), ErrCorrupt})
	}
	if int64(off)+length > bufSize {
		return nil // checked after reading
	}
	b, err := s.br.Peek(off + int(length))
	if len(b) < off+int(length) {
		return s.fail(at, s.ioProblem(err, fmt.Sprintf("truncated packet block (block length %d, %d bytes present)", length, len(b)-off)))
	}
	h := b[off:]
	if typ == ngSPB {
		return nil
	}
	caplen := int64(order.Uint32(h[20:24]))
	if caplen > MaxPacketSize {
		return s.fail(at, &problem{fmt.Sprintf("packet block claims a %d-byte packet (limit %d): file is damaged", caplen, MaxPacketSize), ErrCorrupt})
	}
	if 28+caplen+4 > length {
		return s.fail(at, &problem{fmt.Sprintf("packet block says %d bytes captured, more than its block length %d holds", caplen, length), ErrCorrupt})
	}
	return nil
}

func (s *FileSource) nextPcapng() (Packet, error) {
	ng := s.cr.ng
	pos := s.pos()
	if len(ng.events) > 0 { // the check is inlined; secrets is not
		if err := s.secrets(false, pos); err != nil {
			return Packet{}, err
		}
	}
	if err := s.checkNgBlocks(pos); err != nil {
		// Looking ahead may have found a damaged secrets block before
		// the damage it reports.
		var re *ReadError
		if errors.As(err, &re) && re.Offset >= 0 {
			if err := s.secrets(false, re.Offset); err != nil {
				return Packet{}, err
			}
		}
		return Packet{}, err
	}
	if len(ng.events) == 0 {
		if p, ok := s.ngFastPacket(); ok {
			return p, nil
		}
	}
	data, ci, err := s.ng.ZeroCopyReadPacketData()
	// The packet was read, with the blocks before it: hand out the
	// secrets among them, and report a damaged one rather than the packet
	// or whatever pcapgo made of it -- if the damaged block came before
	// where pcapgo stopped.
	if len(ng.events) > 0 {
		if err := s.secrets(err == io.EOF, s.pos()); err != nil {
			return Packet{}, err
		}
	}
	if err != nil {
		if err == io.EOF {
			s.err = io.EOF
			return Packet{}, io.EOF
		}
		return Packet{}, s.fail(-1, s.ngProblem(err))
	}
	if ci.CaptureLength > MaxPacketSize {
		return Packet{}, s.fail(-1, &problem{fmt.Sprintf("packet block claims a %d-byte packet (limit %d): file is damaged", ci.CaptureLength, MaxPacketSize), ErrCorrupt})
	}
	if y := ci.Timestamp.Year(); y > 9999 {
		// A 64-bit timestamp with a wrong resolution; nothing downstream
		// can represent it (RFC 3339 has four-digit years).
		return Packet{}, s.fail(-1, &problem{fmt.Sprintf("packet block timestamp is in the year %d: file is damaged (a wrong if_tsresol?)", y), ErrCorrupt})
	}
	s.n++
	return Packet{
		Index:     s.n,
		Timestamp: ci.Timestamp,
		LinkType:  ngLinkType(ci),
		Data:      data,
		Length:    ci.Length,
		Truncated: ci.CaptureLength < ci.Length,
	}, nil
}

// secrets hands the Decryption Secrets Blocks found before the next packet
// to OnSecrets (all of them at the end of the file), or returns the damage
// found in one that starts before offset before. The observer sees blocks
// ahead of the reader by however much was read into the buffer: damage
// further on waits until the reader gets there, so that the first damage
// in the file is the one reported, whatever pieces the file is read in.
func (s *FileSource) secrets(all bool, before int64) error {
	o := s.cr.ng
	for len(o.events) > 0 {
		e := o.events[0]
		if !all && (e.packets > s.n || e.err != nil && e.offset >= before) {
			return nil
		}
		o.events[0] = ngEvent{}
		o.events = o.events[1:]
		o.pending -= int64(len(e.data))
		if e.err != nil {
			return s.fail(e.offset, e.err)
		}
		if s.OnSecrets != nil {
			s.callback(func() { s.OnSecrets(e.typ, e.data) })
		}
	}
	return nil
}

func ngLinkType(ci gopacket.CaptureInfo) layers.LinkType {
	if len(ci.AncillaryData) > 0 {
		if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			return lt
		}
	}
	return layers.LinkTypeNull
}
