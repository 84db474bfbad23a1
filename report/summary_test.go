package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// handMade returns six summaries with known counts.
func handMade() []*tlsconn.Summary {
	tls12, tls13, tls10 := ptr("TLS 1.2"), ptr("TLS 1.3"), ptr("TLS 1.0")
	gcm, chacha := ptr("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), ptr("TLS_CHACHA20_POLY1305_SHA256")
	f := func(ids ...string) []tlsconn.Finding {
		var out []tlsconn.Finding
		for _, id := range ids {
			out = append(out, tlsconn.Finding{ID: id, Severity: "medium"})
		}
		return out
	}
	fatal := []tlsconn.Alert{{From: "server", Level: "fatal", Description: "handshake_failure"}}
	return []*tlsconn.Summary{
		{Version: tls13, VersionID: ptr(0x0304), CipherSuite: chacha, SNI: ptr("b.example"), JA4: "t13d_a", Established: true},
		{Version: tls13, VersionID: ptr(0x0304), CipherSuite: chacha, SNI: ptr("a.example"), JA4: "t13d_a", Established: true, ClientCertRequested: nil, ClientCertSent: nil},
		{Version: tls12, VersionID: ptr(0x0303), CipherSuite: gcm, SNI: ptr("a.example"), JA4: "t12d_b", Established: true, ClientCertRequested: ptr(true), ClientCertSent: ptr(true)},
		{Version: tls10, VersionID: ptr(0x0301), CipherSuite: gcm, SNI: ptr("a.example"), Established: true, ClientCertRequested: ptr(false), ClientCertSent: ptr(false), Findings: f("version-tls10", "no-sni")},
		{SNI: nil, Alerts: fatal, Findings: f("alert-fatal", "no-sni")},
		{SNI: ptr("c.example"), Findings: f("no-sni")},
	}
}

func summarize(t *testing.T, format string, color bool, ss []*tlsconn.Summary) string {
	t.Helper()
	var b bytes.Buffer
	sm, err := NewSummary(&b, format, color)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if err := sm.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := sm.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// c builds a Count; name "" stands for the unknown value (null).
func c(name string, n int) Count {
	if name == "" {
		return Count{Count: n}
	}
	return Count{Name: &name, Count: n}
}

func TestSummaryJSONCounts(t *testing.T) {
	out := summarize(t, "json", true, handMade())
	if strings.Count(out, "\n") != 1 || strings.Contains(out, "\x1b") {
		t.Fatalf("want one uncoloured JSON line, got %q", out)
	}
	var got SummaryJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := SummaryJSON{
		Handshakes: 6,
		// count desc, then name, unknown last among equals
		Versions:           []Count{c("TLS 1.3", 2), c("", 2), c("TLS 1.0", 1), c("TLS 1.2", 1)},
		CipherSuites:       []Count{c("TLS_CHACHA20_POLY1305_SHA256", 2), c("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 2), c("", 2)},
		SNI:                []Count{c("a.example", 3), c("b.example", 1), c("c.example", 1), c("", 1)},
		ClientFingerprints: []Count{c("", 3), c("t13d_a", 2), c("t12d_b", 1)},
		Findings:           []Count{c("no-sni", 3), c("alert-fatal", 1), c("version-tls10", 1)},
		Outcomes:           []Count{c("established", 4), c("handshake_failure", 1), c("incomplete", 1)},
		// requested: yes 1, no 1, unknown 4; sent likewise
		ClientCertRequested: YesNo{Yes: 1, No: 1, Unknown: 4},
		ClientCertSent:      YesNo{Yes: 1, No: 1, Unknown: 4},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("summary:\n got %s\nwant %s", g, w)
	}
}

// TestSummaryJSONSchema pins the field names and types of the JSON
// summary, a public contract like the per-connection fields.
func TestSummaryJSONSchema(t *testing.T) {
	for _, input := range [][]*tlsconn.Summary{handMade(), nil} {
		var obj map[string]any
		if err := json.Unmarshal([]byte(summarize(t, "json", false, input)), &obj); err != nil {
			t.Fatal(err)
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{"cipher_suites", "client_cert_requested", "client_cert_sent", "client_fingerprints", "client_fingerprints_other", "findings", "handshakes", "outcomes", "sni", "sni_other", "versions"}
		if !slices.Equal(keys, want) {
			t.Fatalf("keys %v, want %v", keys, want)
		}
		if _, ok := obj["handshakes"].(float64); !ok {
			t.Errorf("handshakes is %T", obj["handshakes"])
		}
		for _, k := range []string{"versions", "cipher_suites", "sni", "client_fingerprints", "findings", "outcomes"} {
			list, ok := obj[k].([]any)
			if !ok {
				t.Errorf("%s is %T, want an array (never null)", k, obj[k])
				continue
			}
			for _, e := range list {
				m, _ := e.(map[string]any)
				if len(m) != 2 {
					t.Errorf("%s entry %v: want name and count", k, e)
				}
				if _, ok := m["count"].(float64); !ok {
					t.Errorf("%s entry %v: count is not a number", k, e)
				}
				if n, ok := m["name"]; !ok || (n != nil && reflect.TypeOf(n).Kind() != reflect.String) {
					t.Errorf("%s entry %v: name is not a string or null", k, e)
				}
			}
		}
		for _, k := range []string{"sni_other", "client_fingerprints_other"} {
			m, _ := obj[k].(map[string]any)
			if _, ok := m["names"].(float64); !ok || len(m) != 2 {
				t.Errorf("%s = %v, want {names, count}", k, obj[k])
			}
		}
		for _, k := range []string{"client_cert_requested", "client_cert_sent"} {
			m, _ := obj[k].(map[string]any)
			if len(m) != 3 || m["yes"] == nil || m["no"] == nil || m["unknown"] == nil {
				t.Errorf("%s = %v, want {yes, no, unknown}", k, obj[k])
			}
		}
	}
}

// TestSummaryTopN: SNI and fingerprints list the first TopN, then "other".
func TestSummaryTopN(t *testing.T) {
	var ss []*tlsconn.Summary
	for i := range 25 {
		for range 25 - i { // name i is seen 25-i times
			ss = append(ss, &tlsconn.Summary{SNI: ptr(fmt.Sprintf("host%02d.example", i)), JA4: fmt.Sprintf("fp%02d", i)})
		}
	}
	var got SummaryJSON
	if err := json.Unmarshal([]byte(summarize(t, "json", false, ss)), &got); err != nil {
		t.Fatal(err)
	}
	// names 20..24 are seen 5+4+3+2+1 times
	wantOther := Other{Names: 5, Count: 15}
	for name, tt := range map[string]struct {
		list  []Count
		other Other
	}{"sni": {got.SNI, got.SNIOther}, "fingerprints": {got.ClientFingerprints, got.ClientFingerprintsOther}} {
		if len(tt.list) != TopN || *tt.list[0].Name != map[string]string{"sni": "host00.example", "fingerprints": "fp00"}[name] || tt.list[0].Count != 25 || tt.list[TopN-1].Count != 6 {
			t.Errorf("%s: %d entries, first %+v, last %+v", name, len(tt.list), tt.list[0], tt.list[len(tt.list)-1])
		}
		if tt.other != wantOther {
			t.Errorf("%s other = %+v, want %+v", name, tt.other, wantOther)
		}
	}
	table := summarize(t, "table", false, ss)
	if !regexp.MustCompile(`\| \(other: 5 more\) +\| +15 \| +4\.6% \|`).MatchString(table) {
		t.Errorf("table lacks the other row:\n%s", table)
	}
}

// tableCounts parses the summary tables into title -> name -> count.
func tableCounts(t *testing.T, out string) map[string]map[string]int {
	t.Helper()
	got := map[string]map[string]int{}
	var title string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			if !strings.HasPrefix(line, "+") {
				title = ""
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if title == "" {
			title = cells[0]
			got[title] = map[string]int{}
			continue
		}
		n, err := strconv.Atoi(cells[1])
		if err != nil {
			t.Fatalf("count %q in %q", cells[1], line)
		}
		got[title][cells[0]] = n
	}
	return got
}

func TestSummaryTable(t *testing.T) {
	ss := append(handMade(), &tlsconn.Summary{SNI: ptr("\x1b[2J" + strings.Repeat("long-label.", 23))})
	out := summarize(t, "table", false, ss)
	got := tableCounts(t, out)
	want := map[string]map[string]int{
		"Version":                  {"TLS 1.3": 2, "?": 3, "TLS 1.0": 1, "TLS 1.2": 1},
		"Cipher suite":             {"TLS_CHACHA20_POLY1305_SHA256": 2, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": 2, "?": 3},
		"SNI":                      {"a.example": 3, "b.example": 1, "c.example": 1, "(no SNI)": 1, cut(Escape(*ss[6].SNI), wName): 1},
		"Client fingerprint (JA4)": {"(none)": 4, "t13d_a": 2, "t12d_b": 1},
		"Finding":                  {"no-sni": 3, "alert-fatal": 1, "version-tls10": 1},
		"Outcome":                  {"established": 4, "handshake_failure": 1, "incomplete": 2},
		"Client certificate":       {"yes": 1, "no": 1, "unknown": 5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("counts\n got %v\nwant %v\n%s", got, want, out)
	}
	if !strings.HasPrefix(out, "handshakes: 7\n") {
		t.Errorf("no handshake count first:\n%s", out)
	}
	// Sorted by count, then name, unknown last among equals.
	if !regexp.MustCompile(`\| \? +\| +3 \| +42\.9% \|\n\| TLS 1\.3 +\| +2 \| +28\.6% \|\n\| TLS 1\.0 .*\n\| TLS 1\.2 `).MatchString(out) {
		t.Errorf("version table out of order:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > 120 {
			t.Errorf("line of %d columns: %s", n, line)
		}
		if strings.ContainsRune(line, 0x1b) {
			t.Errorf("escape in uncoloured summary: %q", line)
		}
	}

	coloured := summarize(t, "table", true, ss)
	if stripSGR(coloured) != out {
		t.Errorf("coloured summary, stripped, differs:\n%s", stripSGR(coloured))
	}
	for _, want := range []string{sgrYellow + "TLS 1.0", sgrGreen + "established", sgrRed + "handshake_failure", sgrYellow + "version-tls10"} {
		if !strings.Contains(coloured, want) {
			t.Errorf("coloured summary lacks %q", want)
		}
	}
}

func TestSummaryEmptyAndFormats(t *testing.T) {
	if out := summarize(t, "table", false, nil); out != "" {
		t.Errorf("empty table summary = %q", out)
	}
	if _, err := NewSummary(&bytes.Buffer{}, "xml", false); err == nil || !strings.Contains(err.Error(), `unknown format "xml"`) {
		t.Errorf("NewSummary(xml) error = %v", err)
	}
	// The per-handshake formats have no summary form.
	for _, f := range []string{"csv", "ecs", "zeek", "zeek-json", "markdown"} {
		if _, err := Open(f, &bytes.Buffer{}, Options{Summary: true}); err == nil || !strings.Contains(err.Error(), "summary supports") {
			t.Errorf("Open(%s, summary) error = %v", f, err)
		}
	}
	for _, tt := range []struct {
		format string
		opts   Options
		want   string
	}{
		{"table", Options{}, "*report.Table"},
		{"table", Options{Color: true}, "*report.Table"},
		{"json", Options{Color: true}, "*report.JSON"},
		{"table", Options{Summary: true}, "*report.Summary"},
		{"json", Options{Summary: true}, "*report.Summary"},
		{"csv", Options{Color: true}, "*report.CSV"},
		{"ecs", Options{}, "*report.ECS"},
		{"zeek", Options{}, "*report.Zeek"},
		{"zeek-json", Options{}, "*report.ZeekJSON"},
		{"markdown", Options{Color: true}, "*report.Markdown"},
	} {
		w, err := Open(tt.format, &bytes.Buffer{}, tt.opts)
		if err != nil || fmt.Sprintf("%T", w) != tt.want {
			t.Errorf("Open(%s, %+v) = %T, %v; want %s", tt.format, tt.opts, w, err, tt.want)
		}
	}
}
