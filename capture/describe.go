package capture

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"unicode/utf8"
)

// describeLen is how many bytes of a file that is not a capture are looked
// at to say what it is instead.
const describeLen = 512

// kind is what a file that is not a capture looks like: "this is " + article
// + noun, and what to do about it.
type kind struct {
	article, noun string
	hint          string
}

const captureHint = "give a pcap or pcapng file, as written by tcpdump -w, dumpcap or Wireshark"

var (
	tcpdumpLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d\.\d+ (IP6? |ARP|[0-9a-f]{2}:)`)
	keylogLine  = regexp.MustCompile(`^(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET|CLIENT_EARLY_TRAFFIC_SECRET) [0-9a-fA-F]{64} `)
)

// describe says what the first bytes b of a file that is not a capture look
// like.
func describe(b []byte) kind {
	magic := []struct {
		prefix string
		k      kind
	}{
		{"BZh", kind{"a", "bzip2-compressed file", "decompress it first (bunzip2); gzip is the only compression read directly"}},
		{"\xfd7zXZ\x00", kind{"an", "xz-compressed file", "decompress it first (unxz); gzip is the only compression read directly"}},
		{"\x28\xb5\x2f\xfd", kind{"a", "zstd-compressed file", "decompress it first (unzstd); gzip is the only compression read directly"}},
		{"PK\x03\x04", kind{"a", "ZIP archive", "extract the capture from it first (unzip)"}},
		{"\x7fELF", kind{"an", "executable (ELF)", captureHint}},
		{"%PDF", kind{"a", "PDF document", captureHint}},
		{"\x89PNG", kind{"a", "PNG image", captureHint}},
		{"\xff\xd8\xff", kind{"a", "JPEG image", captureHint}},
		{"snoop\x00\x00\x00", kind{"a", "Solaris snoop capture", "convert it first: editcap -F pcapng FILE OUT.pcapng"}},
		{"GMBU", kind{"a", "Microsoft Network Monitor capture", "convert it first: editcap -F pcapng FILE OUT.pcapng"}},
		{"\xa1\xb2\xcd\x34", kind{"a", "pcap file in the modified (Kuznetzov) format", "convert it first: editcap -F pcap FILE OUT.pcap"}},
		{"\x34\xcd\xb2\xa1", kind{"a", "pcap file in the modified (Kuznetzov) format", "convert it first: editcap -F pcap FILE OUT.pcap"}},
	}
	for _, m := range magic {
		if bytes.HasPrefix(b, []byte(m.prefix)) {
			return m.k
		}
	}
	if len(b) == 0 {
		return kind{"an", "empty file", "was the capture stopped before it wrote anything? " + captureHint}
	}
	if !looksLikeText(b) {
		return kind{"", "", captureHint}
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	lower := bytes.ToLower(t)
	switch {
	case bytes.HasPrefix(lower, []byte("<!doctype html")) || bytes.HasPrefix(lower, []byte("<html")) || bytes.Contains(lower, []byte("<html")):
		return kind{"", "HTML", "a web page (an error page saved instead of the capture?); " + captureHint}
	case bytes.HasPrefix(lower, []byte("<?xml")):
		return kind{"an", "XML file", captureHint}
	case len(t) > 0 && (t[0] == '{' || t[0] == '['):
		return kind{"a", "JSON file", captureHint}
	case tcpdumpLine.Match(t) || bytes.HasPrefix(t, []byte("reading from file ")):
		return kind{"", "tcpdump's text output", "record a capture file with tcpdump -w FILE"}
	case keylogLine.Match(t) || bytes.HasPrefix(t, []byte("# SSL/TLS secrets log file")):
		return kind{"a", "TLS key log", "give it with --keylog FILE, and the capture with -r"}
	case bytes.HasPrefix(t, []byte("-----BEGIN ")):
		return kind{"a", "PEM file (a key or certificate)", captureHint}
	}
	return kind{"a", "text file", captureHint}
}

// looksLikeText: valid UTF-8 (a character cut at the end of the sample
// is allowed) without control characters other than white space.
func looksLikeText(b []byte) bool {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return len(b)-i < utf8.UTFMax && !utf8.FullRune(b[i:])
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' {
			return false
		}
		if r == 0x7f {
			return false
		}
		i += n
	}
	return true
}

// notCapture is the error for a file that is not a capture; r yields it
// from its start (decompressed when gzipped).
func (s *FileSource) notCapture(r io.Reader) error {
	gzipped := s.gz != nil
	b := make([]byte, describeLen)
	n, _ := io.ReadFull(r, b)
	b = b[:n]
	k := describe(b)
	var what string
	switch {
	case k.noun == "" && gzipped:
		what = fmt.Sprintf("this is gzip-compressed data of an unknown kind (first bytes % x)", b[:min(len(b), 4)])
	case k.noun == "":
		what = fmt.Sprintf("unknown content (first bytes % x)", b[:min(len(b), 4)])
	case gzipped && k.article == "":
		what = "this is gzip'd " + k.noun
	case gzipped:
		what = "this is a gzip'd " + k.noun
	case k.article == "":
		what = "this is " + k.noun
	default:
		what = "this is " + k.article + " " + k.noun
	}
	return s.headerError(&problem{"not a pcap or pcapng file: " + what + "; " + k.hint, ErrFormat})
}
