package dissect

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// record builds a TLS record; hand-built bytes are fine for framing tests.
func record(typ uint8, body []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

func message(typ uint8, body []byte) []byte {
	n := len(body)
	return append([]byte{typ, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

// describe renders events compactly for comparison.
func describe(ev Event) string {
	switch ev.Kind {
	case EventHandshake:
		return fmt.Sprintf("hs%d:%d", ev.HandshakeType, len(ev.Body))
	case EventChangeCipherSpec:
		return "ccs"
	case EventAlert:
		return fmt.Sprintf("alert%d.%d", ev.AlertLevel, ev.AlertDescription)
	case EventEncryptedAlert:
		return "encalert"
	case EventEncryptedHandshake:
		return fmt.Sprintf("enchs:%d", ev.RecordLength)
	case EventApplicationData:
		return fmt.Sprintf("app:%d", ev.RecordLength)
	case EventHeartbeat:
		return "heartbeat"
	case EventSSLv2:
		return fmt.Sprintf("v2:%d:%d", ev.HandshakeType, len(ev.Body))
	case EventSkipped:
		return fmt.Sprintf("skipped%d", ev.HandshakeType)
	case EventUnknownRecord:
		return "unknown"
	}
	return "?"
}

// feedSplits writes stream in pieces of the given size and returns the events.
func feedSplits(t *testing.T, h *HalfStream, stream []byte, size int) ([]string, error) {
	t.Helper()
	var got []string
	var err error
	for i := 0; i < len(stream) && err == nil; i += size {
		err = h.Write(stream[i:min(i+size, len(stream))], func(ev Event) { got = append(got, describe(ev)) })
	}
	return got, err
}

func TestHalfStreamFraming(t *testing.T) {
	hello := message(TypeClientHello, bytes.Repeat([]byte{0xaa}, 100))
	big := message(TypeCertificate, bytes.Repeat([]byte{0xbb}, 40000))
	var bigRecords []byte
	for i := 0; i < len(big); i += 1 << 14 {
		bigRecords = append(bigRecords, record(RecordHandshake, big[i:min(i+1<<14, len(big))])...)
	}
	two := append(message(TypeServerHello, make([]byte, 70)), message(TypeServerHelloDone, nil)...)
	tests := []struct {
		name   string
		stream []byte
		want   []string
	}{
		{"one message", record(RecordHandshake, hello), []string{"hs1:100"}},
		{"two messages in one record", record(RecordHandshake, two), []string{"hs2:70", "hs14:0"}},
		{"message across three records", bigRecords, []string{"hs11:40000"}},
		{"message split mid-header", append(record(RecordHandshake, two[:2]), record(RecordHandshake, two[2:])...), []string{"hs2:70", "hs14:0"}},
		{"ccs then encrypted handshake and alert", bytes.Join([][]byte{
			record(RecordHandshake, hello), record(RecordChangeCipherSpec, []byte{1}),
			record(RecordHandshake, make([]byte, 40)), record(RecordAlert, make([]byte, 26)), record(RecordApplicationData, make([]byte, 30)),
		}, nil), []string{"hs1:100", "ccs", "enchs:40", "encalert", "app:30"}},
		{"ClientHello after a compatibility ccs", append(record(RecordChangeCipherSpec, []byte{1}), record(RecordHandshake, message(TypeClientHello, append([]byte{3, 3}, make([]byte, 60)...)))...), []string{"ccs", "hs1:62"}},
		{"plaintext alert", record(RecordAlert, []byte{2, 40}), []string{"alert2.40"}},
		{"heartbeat", record(RecordHeartbeat, []byte{1, 0, 3}), []string{"heartbeat"}},
		{"empty handshake record", record(RecordHandshake, nil), nil},
		{"sslv2 with a padded 3-byte-header record", []byte{0x80, 0x05, 4, 0, 1, 0, 2, 0x00, 0x03, 0x01, 0xaa, 0xbb, 0xcc}, []string{"v2:4:5", "v2:170:3"}},
		{"sslv2 hello then tls", append([]byte{0x80, 0x05, 1, 3, 1, 0, 0}, record(RecordAlert, []byte{1, 0})...), []string{"v2:1:5", "alert1.0"}},
	}
	for _, tt := range tests {
		for _, size := range []int{1, 3, 7, 1000, 1 << 20} {
			t.Run(fmt.Sprintf("%s/split%d", tt.name, size), func(t *testing.T) {
				var h HalfStream
				got, err := feedSplits(t, &h, tt.stream, size)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(got, " ") != strings.Join(tt.want, " ") {
					t.Errorf("events = %v, want %v", got, tt.want)
				}
			})
		}
	}
}

func TestHalfStreamOversizedMessageSkipped(t *testing.T) {
	// A message claiming more than MaxMessage is skipped, and the messages
	// after it are still read.
	huge := message(TypeCertificate, bytes.Repeat([]byte{0xcc}, 3000))
	var stream []byte
	for i := 0; i < len(huge); i += 1000 {
		stream = append(stream, record(RecordHandshake, huge[i:min(i+1000, len(huge))])...)
	}
	stream = append(stream, record(RecordHandshake, message(TypeServerHelloDone, nil))...)
	h := HalfStream{MaxMessage: 1024}
	var got []string
	var skipErr error
	if err := h.Write(stream, func(ev Event) {
		got = append(got, describe(ev))
		if ev.Kind == EventSkipped {
			skipErr = ev.Err
		}
	}); err != nil {
		t.Fatal(err)
	}
	if want := "skipped11 hs14:0"; strings.Join(got, " ") != want {
		t.Errorf("events = %v, want %s", got, want)
	}
	if skipErr == nil || !strings.Contains(skipErr.Error(), "3000 bytes") {
		t.Errorf("skip error = %v, want it to name the claimed size", skipErr)
	}
	if h.Skipped != 1 || h.Messages != 1 {
		t.Errorf("Skipped = %d, Messages = %d; want 1, 1", h.Skipped, h.Messages)
	}
}

func TestHalfStreamHostileClaimBoundsMemory(t *testing.T) {
	// A 16 MB claim is not buffered: memory stays bounded by the record.
	h := HalfStream{}
	claim := []byte{TypeCertificate, 0xff, 0xff, 0xff}
	stream := record(RecordHandshake, append(claim, make([]byte, 1000)...))
	for i := 0; i < 100; i++ {
		stream = append(stream, record(RecordHandshake, make([]byte, 1<<14))...)
	}
	if _, err := feedSplits(t, &h, stream, 1500); err != nil {
		t.Fatal(err)
	}
	if cap(h.hs) > 64<<10 || cap(h.pending) > 64<<10 {
		t.Errorf("buffers grew to %d/%d bytes", cap(h.hs), cap(h.pending))
	}
}

func TestHalfStreamNotTLS(t *testing.T) {
	tests := []struct {
		name, stream, want string
	}{
		{"http", "GET / HTTP/1.1\r\n\r\n", "content type 71"},
		{"bad version", "\x16\x09\x01\x00\x05hello", "record version 0x0901"},
		{"too long", "\x17\x03\x03\xff\xff", "record length 65535"},
		{"garbage after a record", string(record(RecordAlert, []byte{1, 0})) + "\x00\x01", "content type 0 at offset 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h HalfStream
			_, err := feedSplits(t, &h, []byte(tt.stream), 1<<20)
			if !errors.Is(err, ErrNotTLS) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrNotTLS mentioning %q", err, tt.want)
			}
			if h.Err() == nil {
				t.Error("Err() = nil after a failure")
			}
			if err2 := h.Write([]byte{0x16}, func(Event) { t.Error("event after failure") }); err2 == nil {
				t.Error("Write after failure returned nil")
			}
		})
	}
}

// TestWritePlain: decrypted content is reassembled like plaintext: a
// message split over two decrypted records, then an alert, each marked
// Decrypted.
func TestWritePlain(t *testing.T) {
	var h HalfStream
	var got []Event
	emit := func(ev Event) { got = append(got, ev) }
	msg := message(TypeCertificateRequest, []byte{0, 0, 4, 0, 13, 0, 0})
	h.WritePlain(RecordHandshake, msg[:5], emit)
	if len(got) != 0 {
		t.Fatalf("a partial message was emitted: %+v", got)
	}
	h.WritePlain(RecordHandshake, msg[5:], emit)
	h.WritePlain(RecordAlert, []byte{2, 116}, emit)
	h.WritePlain(RecordAlert, []byte{2}, emit)
	if len(got) != 3 || got[0].Kind != EventHandshake || got[0].HandshakeType != TypeCertificateRequest || len(got[0].Body) != 7 ||
		got[1].Kind != EventAlert || got[1].AlertDescription != 116 || got[2].Kind != EventSkipped {
		t.Fatalf("events: %+v", got)
	}
	for _, ev := range got {
		if !ev.Decrypted {
			t.Errorf("%v not marked Decrypted", ev.Kind)
		}
	}
}

func FuzzHalfStream(f *testing.F) {
	f.Add(record(RecordHandshake, message(TypeClientHello, make([]byte, 50))), 3)
	f.Add(append(record(RecordChangeCipherSpec, []byte{1}), record(RecordHandshake, make([]byte, 20))...), 1)
	f.Add([]byte{0x80, 0x05, 1, 3, 1, 0, 0}, 2)
	f.Add(record(RecordHandshake, []byte{TypeCertificate, 0xff, 0xff, 0xff}), 5)
	f.Fuzz(func(t *testing.T, stream []byte, split int) {
		if split <= 0 {
			split = 1
		}
		h := HalfStream{MaxMessage: 4096}
		for i := 0; i < len(stream); i += split {
			_ = h.Write(stream[i:min(i+split, len(stream))], func(ev Event) {
				if ev.Kind == EventHandshake && len(ev.Body) > 4096 {
					t.Fatalf("message of %d bytes exceeds MaxMessage", len(ev.Body))
				}
			})
		}
		if len(h.pending) > 5+maxCiphertext {
			t.Fatalf("pending grew to %d bytes", len(h.pending))
		}
	})
}

// TestRecordBufs: record buffers come in the sizes of their classes, up to
// the largest record, and a stream gives its buffer back once no record is
// incomplete.
func TestRecordBufs(t *testing.T) {
	for _, tt := range []struct{ n, class int }{
		{0, 0}, {1, 0}, {1024, 0}, {1025, 1}, {4096, 2}, {16 << 10, 4}, {16<<10 + 1, 5}, {5 + maxCiphertext, 5}, {6 + maxCiphertext, -1},
	} {
		if got := recordClass(tt.n); got != tt.class {
			t.Errorf("recordClass(%d) = %d, want %d", tt.n, got, tt.class)
		}
		p := getRecordBuf(tt.n)
		if b := *p; len(b) != 0 || cap(b) < tt.n || tt.class >= 0 && cap(b) != recordSizes[tt.class] {
			t.Errorf("getRecordBuf(%d): len %d cap %d", tt.n, len(b), cap(b))
		}
		*p = append(*p, 1, 2, 3)
		putRecordBuf(p)
	}

	rec := record(RecordHandshake, message(TypeServerHelloDone, make([]byte, 3000)))
	var h HalfStream
	events := 0
	emit := func(Event) { events++ }
	for _, piece := range [][]byte{rec[:2], rec[2:1400], rec[1400:2800], rec[2800:]} {
		if err := h.Write(piece, emit); err != nil {
			t.Fatal(err)
		}
		if len(h.pending) > 0 && recordClass(cap(h.pending)) < 0 {
			t.Errorf("pending buffer of %d bytes", cap(h.pending))
		}
	}
	if events != 1 || h.pending != nil || h.pbuf != nil {
		t.Errorf("%d events, %d bytes pending (buffer %d): want 1 event and the buffer given back", events, len(h.pending), cap(h.pending))
	}
}
