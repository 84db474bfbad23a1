package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// CSVHeader names the CSV columns, in order (FORMATS.md "csv").
var CSVHeader = []string{
	"ts", "connection", "handshake", "client", "server",
	"sni", "version", "cipher_suite", "key_exchange", "group",
	"alpn", "client_alpn", "resumed",
	"client_cert_requested", "client_cert_sent",
	"server_cert_subject", "server_cert_issuer", "server_cert_not_after", "server_cert_sha256",
	"ja3", "ja4", "ja3s",
	"alerts", "findings", "outcome", "established", "warnings",
}

// CSV writes a header row and one row per handshake, flushing each row so
// that `| head` or a spreadsheet import sees rows as they complete.
type CSV struct {
	w      *csv.Writer
	header bool
}

// NewCSV returns a CSV writer.
func NewCSV(w io.Writer) *CSV { return &CSV{w: csv.NewWriter(w)} }

// Write writes the row for s, after the header the first time.
func (c *CSV) Write(s *tlsconn.Summary) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	if err := c.w.Write(CSVRow(s)); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

// Close writes the header if no row was written, so that an empty capture
// still yields a file that tools can read.
func (c *CSV) Close() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

func (c *CSV) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	return c.w.Write(CSVHeader)
}

// CSVRow renders s as the cells of one CSV row. Unknown values are empty
// cells, booleans true/false; wire-derived strings are escaped and every
// cell is neutralised against formula injection.
func CSVRow(s *tlsconn.Summary) []string {
	var subject, issuer, notAfter, sha256 string
	if c := leaf(s.ServerCertificates); c != nil {
		subject, issuer, notAfter, sha256 = Escape(c.Subject), Escape(c.Issuer), dateText(c.NotAfter), c.SHA256
	}
	alerts := make([]string, len(s.Alerts))
	for i, a := range s.Alerts {
		alerts[i] = a.From + ":" + a.Level + ":" + a.Description
	}
	ids := make([]string, len(s.Findings))
	for i, f := range s.Findings {
		ids[i] = f.ID
	}
	alpns := make([]string, len(s.ClientALPN))
	for i, p := range s.ClientALPN {
		alpns[i] = listItem(p)
	}
	row := []string{
		tsText(s.TS), strconv.FormatUint(s.Connection, 10), strconv.Itoa(s.Handshake), s.Client, s.Server,
		optEscape(s.SNI), str(s.Version), str(s.CipherSuite), str(s.KeyExchange), str(s.Group),
		optEscape(s.ALPN), strings.Join(alpns, ";"), optBool(s.Resumed),
		optBool(s.ClientCertRequested), optBool(s.ClientCertSent),
		subject, issuer, notAfter, sha256,
		s.JA3, s.JA4, s.JA3S,
		strings.Join(alerts, ";"), strings.Join(ids, ";"), s.Outcome(), strconv.FormatBool(s.Established), strconv.Itoa(len(s.Warnings)),
	}
	for i, cell := range row {
		row[i] = neutralise(cell)
	}
	return row
}

func optEscape(p *string) string {
	if p == nil {
		return ""
	}
	return Escape(*p)
}

func optBool(p *bool) string {
	if p == nil {
		return ""
	}
	return strconv.FormatBool(*p)
}

// listItem escapes one value of a ';'-joined list; a ';' inside the value
// is written \x3b so that splitting the cell on ';' gives the values back
// (Escape has doubled any backslash already, so \x3b cannot be forged).
func listItem(v string) string {
	return strings.ReplaceAll(Escape(v), ";", `\x3b`)
}

// neutralise stops a spreadsheet from evaluating a cell as a formula: a
// cell that starts with '=', '+', '-', '@', tab or carriage return gets a
// leading single quote, as OWASP's CSV injection guidance recommends.
func neutralise(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
