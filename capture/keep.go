package capture

import "io"

// keepBufSize is the size of the buffers KeepData reads into: several
// hundred packets each, and room for the largest (tests make it small).
var keepBufSize = 1 << 20

// kept is the state of a FileSource whose packets' bytes are kept.
type kept struct {
	newBuffer func(n int) []byte
	buf       []byte // buf[off:end] is read but not yet returned
	off, end  int
}

// KeepData makes the Data of the packets Next returns stay valid after later
// calls to Next, so that a caller handing packets to other goroutines need
// not copy them. Packets are then read into buffers that newBuffer returns
// (of at least n bytes), and a buffer is never written again once the
// source has moved on to the next: newBuffer is called from Next before it
// returns the first packet in the new buffer, so every packet returned
// before that call is in an earlier buffer. The caller reuses a buffer
// (returns it again from newBuffer) only when it is done with every packet
// in it. KeepData must be called before the first Next; it returns false,
// and changes nothing, for pcapng files (only pcap files, compressed or
// not, keep their packets).
func (s *FileSource) KeepData(newBuffer func(n int) []byte) bool {
	if s.format != formatPcap || s.n > 0 || s.keep != nil {
		return false
	}
	s.keep = &kept{newBuffer: newBuffer}
	return true
}

// peek returns the next n unread bytes of a pcap file, or fewer and the
// reason when the file has fewer. The bytes stay valid until the next call
// to Next (KeepData: until the caller reuses their buffer).
func (s *FileSource) peek(n int) ([]byte, error) {
	k := s.keep
	if k == nil {
		return s.br.Peek(n)
	}
	if k.end-k.off < n && len(k.buf)-k.off < n {
		// Does not fit: the unread bytes move to a new buffer.
		nb := k.newBuffer(max(n, keepBufSize))
		nb = nb[:cap(nb)]
		k.end = copy(nb, k.buf[k.off:k.end])
		k.buf, k.off = nb, 0
	}
	var err error
	for k.end-k.off < n && err == nil {
		var m int
		m, err = s.br.Read(k.buf[k.end:])
		k.end += m
	}
	if k.end-k.off < n {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return k.buf[k.off:k.end], err
	}
	return k.buf[k.off : k.off+n : k.off+n], nil
}
