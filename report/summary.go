package report

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// TopN is how many SNI names and client fingerprints the summary lists;
// the rest are counted together as "other".
const TopN = 20

// wName is the widest name cell in the summary tables: the longest SNI
// (255 bytes) is cut so that every line stays within 120 columns.
const wName = 90

// Options selects a Writer in Open.
type Options struct {
	Color   bool // colour the table (see ColorMode.Enabled)
	Summary bool // counts over all handshakes instead of one row or object each
}

// Open returns the Writer for format and opts: New's writers, a coloured
// table, or a Summary.
func Open(format string, w io.Writer, opts Options) (Writer, error) {
	if opts.Summary {
		return NewSummary(w, format, opts.Color)
	}
	if format == "table" {
		return NewColorTable(w, opts.Color), nil
	}
	return New(format, w)
}

// Summary counts handshakes by version, cipher suite, SNI, client
// fingerprint, finding, outcome and client-certificate use, and writes the
// counts when closed: as tables, or as one JSON object.
type Summary struct {
	w     io.Writer
	json  bool
	color bool

	handshakes int
	versions   counter
	suites     counter
	snis       counter
	ja4s       counter
	findings   counter
	outcomes   counter
	// [0] yes, [1] no, [2] unknown
	certRequested, certSent [3]int
}

// NewSummary returns a summary writer for format "table" or "json"; color
// applies to the table only.
func NewSummary(w io.Writer, format string, color bool) (*Summary, error) {
	if _, err := New(format, io.Discard); err != nil {
		return nil, err
	}
	switch format {
	case "table", "json", "jsonl":
	default:
		// The per-handshake formats have no summary form; writing JSON
		// under their name would surprise a reader expecting CSV or a log.
		return nil, fmt.Errorf("summary supports formats table and json, not %q", format)
	}
	return &Summary{w: w, json: format != "table", color: color}, nil
}

// Write counts s.
func (sm *Summary) Write(s *tlsconn.Summary) error {
	sm.handshakes++
	sm.versions.add(s.Version, versionLevel(s))
	sm.suites.add(s.CipherSuite, suiteLevel(s))
	sm.snis.add(s.SNI, plain)
	var ja4 *string
	if s.JA4 != "" {
		ja4 = &s.JA4
	}
	sm.ja4s.add(ja4, plain)
	for _, f := range s.Findings {
		sm.findings.add(&f.ID, severityLevel(f.Severity))
	}
	o := s.Outcome()
	sm.outcomes.add(&o, outcomeLevel(o))
	sm.certRequested[triState(s.ClientCertRequested)]++
	sm.certSent[triState(s.ClientCertSent)]++
	return nil
}

func triState(b *bool) int {
	switch {
	case b == nil:
		return 2
	case *b:
		return 0
	}
	return 1
}

// Close writes the counts.
func (sm *Summary) Close() error {
	if sm.json {
		return sm.writeJSON()
	}
	return sm.writeTables()
}

// counter counts values; a nil value (unknown, absent) is counted apart.
type counter struct {
	m      map[string]int
	levels map[string]level
	none   int
}

func (c *counter) add(v *string, l level) {
	if v == nil {
		c.none++
		return
	}
	if c.m == nil {
		c.m, c.levels = map[string]int{}, map[string]level{}
	}
	c.m[*v]++
	c.levels[*v] = max(c.levels[*v], l)
}

// Count is one line of a summary: a value (nil when unknown or absent) and
// the number of handshakes with it.
type Count struct {
	Name  *string `json:"name"`
	Count int     `json:"count"`
}

// Other counts the values beyond the first TopN.
type Other struct {
	Names int `json:"names"`
	Count int `json:"count"`
}

// sorted returns the counts by count, highest first, then by name, with
// the unknown value after known ones of the same count.
func (c *counter) sorted() []Count {
	out := make([]Count, 0, len(c.m)+1)
	for name, n := range c.m {
		out = append(out, Count{Name: &name, Count: n})
	}
	if c.none > 0 {
		out = append(out, Count{Count: c.none})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if d := cmp.Compare(b.Count, a.Count); d != 0 {
			return d
		}
		switch {
		case a.Name == nil:
			return 1
		case b.Name == nil:
			return -1
		}
		return cmp.Compare(*a.Name, *b.Name)
	})
	return out
}

// top splits sorted counts into the first n and the rest.
func top(all []Count, n int) ([]Count, Other) {
	if len(all) <= n {
		return all, Other{}
	}
	var o Other
	for _, c := range all[n:] {
		o.Names++
		o.Count += c.Count
	}
	return all[:n], o
}

// YesNo counts a true/false/unknown field.
type YesNo struct {
	Yes     int `json:"yes"`
	No      int `json:"no"`
	Unknown int `json:"unknown"`
}

// SummaryJSON is the object written by a JSON Summary (README "--summary").
type SummaryJSON struct {
	Handshakes              int     `json:"handshakes"`
	Versions                []Count `json:"versions"`
	CipherSuites            []Count `json:"cipher_suites"`
	SNI                     []Count `json:"sni"`
	SNIOther                Other   `json:"sni_other"`
	ClientFingerprints      []Count `json:"client_fingerprints"`
	ClientFingerprintsOther Other   `json:"client_fingerprints_other"`
	Findings                []Count `json:"findings"`
	Outcomes                []Count `json:"outcomes"`
	ClientCertRequested     YesNo   `json:"client_cert_requested"`
	ClientCertSent          YesNo   `json:"client_cert_sent"`
}

func yesNoCounts(c [3]int) YesNo { return YesNo{Yes: c[0], No: c[1], Unknown: c[2]} }

func (sm *Summary) writeJSON() error {
	v := SummaryJSON{
		Handshakes:          sm.handshakes,
		Versions:            sm.versions.sorted(),
		CipherSuites:        sm.suites.sorted(),
		Findings:            sm.findings.sorted(),
		Outcomes:            sm.outcomes.sorted(),
		ClientCertRequested: yesNoCounts(sm.certRequested),
		ClientCertSent:      yesNoCounts(sm.certSent),
	}
	v.SNI, v.SNIOther = top(sm.snis.sorted(), TopN)
	v.ClientFingerprints, v.ClientFingerprintsOther = top(sm.ja4s.sorted(), TopN)
	bw := bufio.NewWriter(sm.w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return bw.Flush()
}

// writeTables writes one table per count, separated by blank lines; with
// no handshakes it writes nothing (like Table), and empty tables (no
// findings) are left out.
func (sm *Summary) writeTables() error {
	if sm.handshakes == 0 {
		return nil
	}
	bw := bufio.NewWriter(sm.w)
	fmt.Fprintf(bw, "handshakes: %d\n", sm.handshakes)
	sections := []struct {
		title, unknown string
		c              *counter
		limit          bool
	}{
		{"Version", "?", &sm.versions, false},
		{"Cipher suite", "?", &sm.suites, false},
		{"SNI", "(no SNI)", &sm.snis, true},
		{"Client fingerprint (JA4)", "(none)", &sm.ja4s, true},
		{"Finding", "", &sm.findings, false},
		{"Outcome", "", &sm.outcomes, false},
	}
	for _, sec := range sections {
		counts, other := sm.sectionCounts(sec.c, sec.limit)
		if len(counts) == 0 {
			continue
		}
		var rows [][]string
		for _, c := range counts {
			name := sec.unknown
			l := plain
			if c.Name != nil {
				name = cut(Escape(*c.Name), wName)
				l = sec.c.levels[*c.Name]
			}
			rows = append(rows, []string{paint(sm.color, l, name), strconv.Itoa(c.Count), sm.share(c.Count)})
		}
		if other.Names > 0 {
			rows = append(rows, []string{fmt.Sprintf("(other: %d more)", other.Names), strconv.Itoa(other.Count), sm.share(other.Count)})
		}
		if err := sm.table(bw, []string{sec.title, "Count", "Share"}, rows); err != nil {
			return err
		}
	}
	var rows [][]string
	for i, name := range []string{"yes", "no", "unknown"} {
		rows = append(rows, []string{name, strconv.Itoa(sm.certRequested[i]), strconv.Itoa(sm.certSent[i])})
	}
	if err := sm.table(bw, []string{"Client certificate", "Requested", "Sent"}, rows); err != nil {
		return err
	}
	return bw.Flush()
}

func (sm *Summary) sectionCounts(c *counter, limit bool) ([]Count, Other) {
	all := c.sorted()
	if !limit {
		return all, Other{}
	}
	return top(all, TopN)
}

func (sm *Summary) share(n int) string {
	return strconv.FormatFloat(100*float64(n)/float64(sm.handshakes), 'f', 1, 64) + "%"
}

func (sm *Summary) table(w io.Writer, header []string, rows [][]string) error {
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	tb := newTable(w, false, tablewriter.WithRowAlignmentConfig(tw.CellAlignment{
		Global: tw.AlignLeft, PerColumn: []tw.Align{tw.AlignLeft, tw.AlignRight, tw.AlignRight},
	}))
	tb.Header(header)
	if err := tb.Bulk(rows); err != nil {
		return err
	}
	return tb.Render()
}
