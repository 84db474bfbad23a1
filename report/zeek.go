package report

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// ZeekField is one column of the Zeek ssl.log: its name and Zeek type.
type ZeekField struct{ Name, Type string }

// ZeekFields are the ssl.log columns, in order: Zeek's default ssl.log
// (base/protocols/ssl, Zeek 6 to 8) followed by the fingerprint columns
// that the salesforce/ja3 (ja3, ja3s) and FoxIO ja4 Zeek packages append.
var ZeekFields = []ZeekField{
	{"ts", "time"},
	{"uid", "string"},
	{"id.orig_h", "addr"},
	{"id.orig_p", "port"},
	{"id.resp_h", "addr"},
	{"id.resp_p", "port"},
	{"version", "string"},
	{"cipher", "string"},
	{"curve", "string"},
	{"server_name", "string"},
	{"resumed", "bool"},
	{"last_alert", "string"},
	{"next_protocol", "string"},
	{"established", "bool"},
	{"ssl_history", "string"},
	{"cert_chain_fps", "vector[string]"},
	{"client_cert_chain_fps", "vector[string]"},
	{"sni_matches_cert", "bool"},
	{"ja3", "string"},
	{"ja3s", "string"},
	{"ja4", "string"},
}

// zeekValue is one field of a record; its type is the ZeekFields entry at
// the same index. Unset fields are "-" in TSV and left out of JSON, as
// Zeek does.
type zeekValue struct {
	set  bool
	s    string
	b    bool
	n    uint64
	t    time.Time
	list []string
}

// zStr is a string field, unset when empty (our "not known").
func zStr(s string) zeekValue { return zeekValue{set: s != "", s: s} }

// zOptStr is a string field that is set, possibly empty, when p is not nil.
func zOptStr(p *string) zeekValue {
	if p == nil {
		return zeekValue{}
	}
	return zeekValue{set: true, s: *p}
}

func zBool(b bool) zeekValue { return zeekValue{set: true, b: b} }

// zeekRecord builds the ssl.log record for s, one value per ZeekFields.
func zeekRecord(s *tlsconn.Summary) []zeekValue {
	orig, origP, okO := endpoint(s.Client)
	resp, respP, okR := endpoint(s.Server)
	addr := func(ok bool, a fmt.Stringer, p uint16) (zeekValue, zeekValue) {
		if !ok {
			return zeekValue{}, zeekValue{}
		}
		return zeekValue{set: true, s: a.String()}, zeekValue{set: true, n: uint64(p)}
	}
	origH, origPort := addr(okO, orig, origP)
	respH, respPort := addr(okR, resp, respP)

	var cipher zeekValue
	if s.CipherSuite != nil {
		cipher = zStr(zeekName(*s.CipherSuite))
	}
	var curve zeekValue
	if s.Group != nil {
		curve = zStr(zeekName(*s.Group))
	}
	var lastAlert zeekValue
	for _, a := range s.Alerts {
		// Zeek can only read plaintext alerts.
		if a.Level != "encrypted" {
			lastAlert = zStr(zeekName(a.Description))
		}
	}
	var serverFPs, clientFPs zeekValue
	// Zeek fills both chains once it has seen the server's certificates, so
	// a client that sent none shows (empty) rather than unset.
	if len(s.ServerCertificates) > 0 {
		serverFPs, clientFPs = zeekFPs(s.ServerCertificates), zeekFPs(s.ClientCertificates)
	} else if len(s.ClientCertificates) > 0 {
		clientFPs = zeekFPs(s.ClientCertificates)
	}
	var sniMatch zeekValue
	if m, ok := sniMatchesCert(s); ok {
		sniMatch = zBool(m)
	}
	return []zeekValue{
		{set: true, t: s.TS},
		zStr(zeekUID(s)),
		origH, origPort, respH, respPort,
		zStr(zeekVersion(s.VersionID)),
		cipher,
		curve,
		zOptStr(s.SNI),
		// Zeek declares resumed &default=F and never leaves it unset, so a
		// handshake not seen to resume is F here too (null in our JSON).
		zBool(s.Resumed != nil && *s.Resumed),
		lastAlert,
		zOptStr(s.ALPN),
		zBool(s.Established),
		zStr(zeekHistory(s.History)),
		serverFPs,
		clientFPs,
		sniMatch,
		zStr(s.JA3),
		zStr(s.JA3S),
		zStr(s.JA4),
	}
}

func zeekFPs(chain []*certinfo.Certificate) zeekValue {
	v := zeekValue{set: true, list: []string{}}
	for _, c := range chain {
		if c != nil {
			v.list = append(v.list, c.SHA256)
		}
	}
	return v
}

// zeekVersion spells a version as Zeek's SSL::version_strings does.
func zeekVersion(id *int) string {
	if id == nil {
		return ""
	}
	switch v := *id; {
	case v == 0x0002:
		return "SSLv2"
	case v == 0x0300:
		return "SSLv3"
	case v >= 0x0301 && v <= 0x0304:
		return "TLSv1" + strconv.Itoa(v-0x0300-1)
	case v>>8 == 0x7f:
		return "TLSv13-draft" + strconv.Itoa(v&0xff)
	default:
		return "unknown-" + strconv.Itoa(v)
	}
}

// zeekName turns the "0x…" we write for a value IANA does not name into
// Zeek's "unknown-N".
func zeekName(name string) string {
	if hex, ok := strings.CutPrefix(name, "0x"); ok {
		if n, err := strconv.ParseUint(hex, 16, 16); err == nil {
			return "unknown-" + strconv.FormatUint(n, 10)
		}
	}
	return name
}

// zeekHistory drops the letters Zeek never writes: our F (an encrypted
// Finished) and D (first encrypted record) are inferred from record
// types, which Zeek's history does not record.
func zeekHistory(h string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case 'F', 'f', 'D', 'd':
			return -1
		}
		return r
	}, h)
}

// zeekUID derives a Zeek-style connection uid ("C" and base62) from the
// connection number and endpoints instead of Zeek's random one, so that the
// same capture always gives the same log; both handshakes of one
// connection share it, as they would in Zeek.
func zeekUID(s *tlsconn.Summary) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("tlsinspect|%d|%s|%s", s.Connection, s.Client, s.Server)))
	// 96 bits, as many as a Zeek uid carries.
	return "C" + new(big.Int).SetBytes(sum[:12]).Text(62)
}

// zeekEscape writes a string as Zeek's ASCII writer does with its default
// settings: every byte outside printable ASCII, and the backslash, becomes
// \xNN; inside a vector the set separator ',' is escaped too.
func zeekEscape(s string, inVector bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '\\' || (inVector && c == ',') {
			fmt.Fprintf(&b, `\x%02x`, c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// zeekTSVString renders a string field or vector element: "(empty)" when
// empty, and a value that would read as "-" or "(empty)" gets its first
// character escaped, as Zeek's escapeReservedContent does.
func zeekTSVString(s string, inVector bool) string {
	switch s {
	case "":
		return zeekEmpty
	case zeekUnset, zeekEmpty:
		return fmt.Sprintf(`\x%02x`, s[0]) + s[1:]
	}
	return zeekEscape(s, inVector)
}

const (
	zeekUnset = "-"
	zeekEmpty = "(empty)"
)

func zeekTime(t time.Time) string {
	t = t.Round(time.Microsecond)
	return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
}

// tsv renders v, of Zeek type typ, as a TSV cell.
func (v zeekValue) tsv(typ string) string {
	if !v.set {
		return zeekUnset
	}
	switch typ {
	case "time":
		return zeekTime(v.t)
	case "bool":
		if v.b {
			return "T"
		}
		return "F"
	case "port":
		return strconv.FormatUint(v.n, 10)
	case "vector[string]":
		if len(v.list) == 0 {
			return zeekEmpty
		}
		parts := make([]string, len(v.list))
		for i, e := range v.list {
			parts[i] = zeekTSVString(e, true)
		}
		return strings.Join(parts, ",")
	}
	return zeekTSVString(v.s, false)
}

// Zeek writes an ssl.log in Zeek's TSV format: the header lines, one row per
// handshake (flushed), and "#close" at the end. Zeek takes #open and #close
// from the wall clock; here they are capture times (the first handshake's
// and the latest one's), so that the same capture gives the same file.
// With no handshakes nothing is written, as Zeek writes no ssl.log.
type Zeek struct {
	w      *bufio.Writer
	opened bool
	last   time.Time
}

// NewZeek returns a Zeek ssl.log (TSV) writer.
func NewZeek(w io.Writer) *Zeek { return &Zeek{w: bufio.NewWriter(w)} }

// zeekStamp is the #open/#close format of Zeek's ASCII writer, in UTC
// (Zeek uses local time).
func zeekStamp(t time.Time) string { return t.UTC().Format("2006-01-02-15-04-05") }

// Write writes the header before the first row, then the row for s.
func (z *Zeek) Write(s *tlsconn.Summary) error {
	if !z.opened {
		z.opened = true
		names := make([]string, len(ZeekFields))
		types := make([]string, len(ZeekFields))
		for i, f := range ZeekFields {
			names[i], types[i] = f.Name, f.Type
		}
		// "#separator" is followed by a space, not the separator: it has
		// to be read before the separator is known.
		fmt.Fprintf(z.w, "#separator \\x09\n#set_separator\t,\n#empty_field\t%s\n#unset_field\t%s\n#path\tssl\n#open\t%s\n#fields\t%s\n#types\t%s\n",
			zeekEmpty, zeekUnset, zeekStamp(s.TS), strings.Join(names, "\t"), strings.Join(types, "\t"))
	}
	if s.TS.After(z.last) {
		z.last = s.TS
	}
	rec := zeekRecord(s)
	cells := make([]string, len(rec))
	for i, v := range rec {
		cells[i] = v.tsv(ZeekFields[i].Type)
	}
	z.w.WriteString(strings.Join(cells, "\t"))
	z.w.WriteByte('\n')
	return z.w.Flush()
}

// Close writes the #close line.
func (z *Zeek) Close() error {
	if z.opened {
		fmt.Fprintf(z.w, "#close\t%s\n", zeekStamp(z.last))
	}
	return z.w.Flush()
}

// ZeekJSON writes the same records as Zeek's JSON logs (LogAscii::use_json):
// one object per line, keys in column order with the dotted names flat,
// unset fields left out, ts as epoch seconds.
type ZeekJSON struct {
	w *bufio.Writer
}

// NewZeekJSON returns a Zeek JSON ssl.log writer.
func NewZeekJSON(w io.Writer) *ZeekJSON { return &ZeekJSON{w: bufio.NewWriter(w)} }

// Write writes the object for s and flushes it.
func (z *ZeekJSON) Write(s *tlsconn.Summary) error {
	z.w.WriteString(zeekJSONLine(zeekRecord(s)))
	z.w.WriteByte('\n')
	return z.w.Flush()
}

// Close flushes the output.
func (z *ZeekJSON) Close() error { return z.w.Flush() }

func zeekJSONLine(rec []zeekValue) string {
	var b strings.Builder
	b.WriteByte('{')
	first := true
	for i, v := range rec {
		if !v.set {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.Write(jsonText(ZeekFields[i].Name))
		b.WriteByte(':')
		switch ZeekFields[i].Type {
		case "time":
			b.WriteString(zeekJSONTime(v.t))
		case "bool":
			b.WriteString(strconv.FormatBool(v.b))
		case "port":
			b.WriteString(strconv.FormatUint(v.n, 10))
		case "vector[string]":
			b.WriteByte('[')
			for j, e := range v.list {
				if j > 0 {
					b.WriteByte(',')
				}
				b.Write(jsonText(zeekJSONEscape(e)))
			}
			b.WriteByte(']')
		default:
			b.Write(jsonText(zeekJSONEscape(v.s)))
		}
	}
	b.WriteByte('}')
	return b.String()
}

// zeekJSONTime is the epoch time as Zeek's JSON writer prints a double:
// shortest form, always with a fractional part.
func zeekJSONTime(t time.Time) string {
	t = t.Round(time.Microsecond)
	f := strconv.FormatFloat(float64(t.Unix())+float64(t.Nanosecond()/1000)/1e6, 'f', -1, 64)
	if !strings.Contains(f, ".") {
		f += ".0"
	}
	return f
}

// zeekJSONEscape does what Zeek's json_escape_utf8 does before the JSON
// encoder sees a string: control characters other than \b \f \n \r \t and
// bytes that are not valid UTF-8 become the text \xNN.
func zeekJSONEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 && !strings.ContainsRune("\b\f\n\r\t", r):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// jsonText encodes s as a JSON string without HTML escaping, as
// encoding/json would (summaryjson.go).
func jsonText(s string) []byte { return appendStringJSON(nil, s) }
