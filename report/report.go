// Package report writes connection summaries for people (a table) and for
// programs (JSON lines). It only reads tlsconn.Summary values.
package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// Writer receives summaries one at a time.
type Writer interface {
	Write(s *tlsconn.Summary) error
	// Close writes whatever is buffered (the table is drawn at the end).
	Close() error
}

// Formats lists the values accepted by New (README "Output formats").
var Formats = []string{"table", "json", "csv", "ecs", "zeek", "zeek-json", "markdown"}

// New returns a Writer for format.
func New(format string, w io.Writer) (Writer, error) {
	switch format {
	case "table":
		return NewTable(w), nil
	case "json", "jsonl":
		return NewJSON(w), nil
	case "csv":
		return NewCSV(w), nil
	case "ecs":
		return NewECS(w), nil
	case "zeek":
		return NewZeek(w), nil
	case "zeek-json":
		return NewZeekJSON(w), nil
	case "markdown", "md":
		return NewMarkdown(w), nil
	}
	return nil, fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// jsonRecords writes one JSON value per line and flushes each, so that a
// reader (`| head`, `| jq`) sees every connection as soon as it completes.
// encoding/json escapes control characters in strings.
type jsonRecords struct {
	w   *bufio.Writer
	enc *json.Encoder
}

func newJSONRecords(w io.Writer) jsonRecords {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return jsonRecords{w: bw, enc: enc}
}

func (l jsonRecords) write(v any) error {
	if err := l.enc.Encode(v); err != nil {
		return err
	}
	return l.w.Flush()
}

// Close flushes the output.
func (l jsonRecords) Close() error { return l.w.Flush() }

// JSON writes each Summary as one JSON object per line. It writes what
// encoding/json would, byte for byte, with an encoder of its own
// (summaryjson.go) that costs a fraction of reflection's time.
type JSON struct {
	jsonRecords
	buf   []byte // reused from one record to the next
	certs certJSON
}

// NewJSON returns a JSON lines writer.
func NewJSON(w io.Writer) *JSON { return &JSON{jsonRecords: newJSONRecords(w)} }

// Write encodes s.
func (j *JSON) Write(s *tlsconn.Summary) error {
	b, err := appendSummaryJSON(j.buf[:0], s, &j.certs)
	if err != nil {
		// A value encoding/json refuses: let it say why, in its words.
		return j.write(s)
	}
	b = append(b, '\n')
	j.buf = b
	if cap(b) > 1<<20 {
		j.buf = nil // one huge record (-v, long chains) is not kept for the next
	}
	if _, err := j.w.Write(b); err != nil {
		return err
	}
	return j.w.Flush()
}

// Column widths keep a row within a 120-column terminal: six columns of
// content plus the table's separators.
const (
	wConn    = 21
	wSNI     = 18
	wCipher  = 20
	wCert    = 11
	wSubject = 18
	wOutcome = 12
)

// Table draws one row per summary as it arrives, with fixed column widths
// so that rows written minutes apart (live capture) line up. Under a row it
// lists the handshake's messages when the summary carries them (`-v`).
type Table struct {
	w     *bufio.Writer
	color bool
	tb    *tablewriter.Table
}

// columnWidths are the content widths plus the cells' padding.
var columnWidths = []int{wConn, wSNI, wCipher, wCert, wSubject, wOutcome}

// NewTable returns a table writer.
func NewTable(w io.Writer) *Table { return NewColorTable(w, false) }

// NewColorTable returns a table writer that colours, when color is true,
// deprecated versions, weak suites, expired certificates and outcomes.
func NewColorTable(w io.Writer, color bool) *Table {
	return &Table{w: bufio.NewWriter(w), color: color}
}

// Write draws the row for s (the header first) and flushes it, so that
// a reader sees each connection as soon as it is reported.
func (t *Table) Write(s *tlsconn.Summary) error {
	if t.tb == nil {
		widths := tw.NewMapper[int, int]()
		for i, w := range columnWidths {
			widths.Set(i, w+2)
		}
		t.tb = newTable(t.w, true,
			tablewriter.WithRowAlignment(tw.AlignLeft),
			tablewriter.WithStreaming(tw.StreamConfig{Enable: true}),
			tablewriter.WithColumnWidths(widths))
		if err := t.tb.Start(); err != nil {
			return err
		}
		t.tb.Header(Header)
	}
	if err := t.tb.Append(row(s, t.color)); err != nil {
		return err
	}
	if len(s.Messages) > 0 {
		writeMessages(t.w, s.Messages, t.color)
	}
	return t.w.Flush()
}

// Close draws the table's last line; with no rows it writes nothing.
func (t *Table) Close() error {
	if t.tb == nil {
		return nil
	}
	if err := t.tb.Close(); err != nil {
		return err
	}
	return t.w.Flush()
}

// newTable returns a tablewriter table in the project's style. Cells may
// carry our SGR colour sequences: tablewriter v1.1.5 measures cells with
// twwidth.Width, which strips ANSI escape sequences, so colour does not
// change the layout (TestColorKeepsAlignment).
func newTable(w io.Writer, betweenRows bool, opts ...tablewriter.Option) *tablewriter.Table {
	sep := tw.Off
	if betweenRows {
		sep = tw.On
	}
	return tablewriter.NewTable(w, append([]tablewriter.Option{
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII), Settings: tw.Settings{Separators: tw.Separators{BetweenRows: sep}}})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
	}, opts...)...)
}

// Header names the table's columns.
var Header = []string{"Client → Server", "SNI / ALPN", "Version / Cipher", "Client cert", "Server cert", "Outcome"}

// Row renders one summary as table cells; long values are wrapped or cut
// to the column widths, and wire-derived strings are escaped.
func Row(s *tlsconn.Summary) []string { return row(s, false) }

// row is Row, with colour when color is true (see paint).
func row(s *tlsconn.Summary, color bool) []string {
	conn := wrap(s.Client, wConn) + "\n" + wrap("→ "+s.Server, wConn)

	sni := "(no SNI)"
	if s.SNI != nil {
		sni = Escape(*s.SNI)
	}
	alpn := ""
	switch {
	case s.ALPN != nil:
		alpn = Escape(*s.ALPN)
	case len(s.ClientALPN) > 0 && s.VersionID != nil && *s.VersionID == 0x0304:
		alpn = "?"
	}
	sniCell := cut(sni, wSNI)
	if alpn != "" {
		sniCell += "\n" + cut("alpn "+alpn, wSNI)
	}

	ver := "?"
	if s.Version != nil {
		ver = *s.Version
	}
	if s.KeyExchange != nil {
		ver += " " + *s.KeyExchange
	}
	verCell := paint(color, versionLevel(s), cut(ver, wCipher))
	if s.CipherSuite != nil {
		verCell += "\n" + paint(color, suiteLevel(s), wrap(shortSuite(*s.CipherSuite), wCipher))
	}

	certCell := "req " + yesNo(s.ClientCertRequested) + "\nsent " + yesNo(s.ClientCertSent)

	subject := "-"
	if len(s.ServerCertificates) > 0 {
		c := s.ServerCertificates[0]
		name := c.SubjectCN
		if name == "" {
			name = c.Subject
		}
		switch {
		case name == "" && c.ParseError != "":
			name = "(malformed)"
		case name == "":
			name = "(no subject)"
		}
		subject = cut(Escape(name), wSubject)
		if !c.NotAfter.IsZero() {
			subject += "\nexp " + c.NotAfter.UTC().Format("2006-01-02")
		}
	} else if s.VersionID != nil && *s.VersionID == 0x0304 {
		subject = "(encrypted)"
	}
	if certExpired(s) {
		subject = paint(color, bad, subject)
	}

	outcome := paint(color, outcomeLevel(s.Outcome()), wrap(s.Outcome(), wOutcome))
	switch {
	case s.Renegotiation:
		outcome += "\nrenegotiation"
	case s.Resumed != nil && *s.Resumed:
		outcome += "\nresumed"
	case s.HelloRetry:
		outcome += "\nretry"
	}
	return []string{conn, sniCell, verCell, certCell, subject, outcome}
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "?"
	case *b:
		return "yes"
	}
	return "no"
}

// shortSuite drops the parts of a cipher-suite name that every suite has.
func shortSuite(name string) string {
	name = strings.TrimPrefix(name, "TLS_")
	name = strings.Replace(name, "_WITH_", "_", 1)
	return name
}

// cut shortens s to width runes, marking the cut with "…".
func cut(s string, width int) string {
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	return string(r[:width-1]) + "…"
}

// wrap breaks s into lines of at most width runes, preferring to break
// after '_', ':' or '.', and cuts after three lines.
func wrap(s string, width int) string {
	var lines []string
	r := []rune(s)
	for len(r) > width && len(lines) < 2 {
		at := width
		for i := width; i > width/2; i-- {
			if c := r[i-1]; c == '_' || c == ':' || c == '.' || c == ' ' {
				at = i
				break
			}
		}
		lines = append(lines, string(r[:at]))
		r = r[at:]
	}
	lines = append(lines, cut(string(r), width))
	return strings.Join(lines, "\n")
}
