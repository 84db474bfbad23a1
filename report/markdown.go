package report

import (
	"bufio"
	"io"
	"strings"
	"unicode"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// MarkdownHeader names the Markdown table's columns.
var MarkdownHeader = []string{"Client → Server", "SNI", "Version", "Cipher suite", "Client cert", "Server certificate", "Outcome", "Findings"}

// Markdown collects the rows and draws one GitHub-flavoured Markdown table
// when closed, for a pull-request comment or $GITHUB_STEP_SUMMARY. It
// buffers because a Markdown table's column widths are set by its widest
// cell (the renderer pads every row to them); these outputs are read after
// the run, not live.
type Markdown struct {
	w    io.Writer
	rows [][]string
}

// NewMarkdown returns a Markdown table writer.
func NewMarkdown(w io.Writer) *Markdown { return &Markdown{w: w} }

// Write adds the row for s.
func (m *Markdown) Write(s *tlsconn.Summary) error {
	m.rows = append(m.rows, MarkdownRow(s))
	return nil
}

// Close draws the table, or says there was nothing to draw.
func (m *Markdown) Close() error {
	bw := bufio.NewWriter(m.w)
	if len(m.rows) == 0 {
		if _, err := bw.WriteString("No TLS connections.\n"); err != nil {
			return err
		}
		return bw.Flush()
	}
	tb := tablewriter.NewTable(bw,
		tablewriter.WithRenderer(renderer.NewMarkdown()),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
	)
	tb.Header(MarkdownHeader)
	if err := tb.Bulk(m.rows); err != nil {
		return err
	}
	if err := tb.Render(); err != nil {
		return err
	}
	return bw.Flush()
}

// MarkdownRow renders s as Markdown table cells. Every cell goes through
// mdText, so nothing from the wire can end a cell, start a link, an HTML
// tag or emphasis, or break the line.
func MarkdownRow(s *tlsconn.Summary) []string {
	sni := "(no SNI)"
	if s.SNI != nil {
		sni = Escape(*s.SNI)
	}
	version := "?"
	if s.Version != nil {
		version = *s.Version
	}
	suite := "?"
	if s.CipherSuite != nil {
		suite = *s.CipherSuite
	}
	cert := "-"
	if c := leaf(s.ServerCertificates); c != nil {
		cert = Escape(certDisplayName(c))
		if !c.NotAfter.IsZero() {
			cert += ", expires " + c.NotAfter.UTC().Format("2006-01-02")
		}
		if certExpired(s) {
			cert += " (expired)"
		}
	} else if s.VersionID != nil && *s.VersionID == 0x0304 {
		cert = "(encrypted)"
	}
	outcome := s.Outcome()
	switch {
	case s.Renegotiation:
		outcome += ", renegotiation"
	case s.Resumed != nil && *s.Resumed:
		outcome += ", resumed"
	case s.HelloRetry:
		outcome += ", retry"
	}
	ids := make([]string, len(s.Findings))
	for i, f := range s.Findings {
		ids[i] = f.ID
	}
	findings := strings.Join(ids, ", ")
	if findings == "" {
		findings = "-"
	}
	cells := []string{
		s.Client + " → " + s.Server,
		sni, version, suite,
		"requested " + yesNo(s.ClientCertRequested) + ", sent " + yesNo(s.ClientCertSent),
		cert, outcome, findings,
	}
	for i, c := range cells {
		cells[i] = mdText(c)
	}
	return cells
}

// mdSpecial are the characters that could make cell text into Markdown or
// HTML: '|' ends a cell, '[' ']' make links, '<' '>' tags and autolinks,
// '*' '_' '~' emphasis and strikethrough, '`' code, '&' entities, and '\'
// itself so that our escapes cannot be undone.
const mdSpecial = "\\`*_[]<>|~&"

// mdText escapes text for a Markdown table cell. The caller has already
// passed wire-derived strings through Escape, so no control character or
// line break is left; each special character gets a backslash, which
// CommonMark allows before any ASCII punctuation, so the rendered cell
// shows the text exactly. An '_' between two letters or digits is left
// alone: it cannot open or close emphasis there (CommonMark's flanking
// rules), and cipher-suite names stay readable in the Markdown source.
func mdText(s string) string {
	if !strings.ContainsAny(s, mdSpecial) {
		return s
	}
	var b strings.Builder
	r := []rune(s)
	for i, c := range r {
		if strings.ContainsRune(mdSpecial, c) && !(c == '_' && i > 0 && i < len(r)-1 && alnum(r[i-1]) && alnum(r[i+1])) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func alnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
