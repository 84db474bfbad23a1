package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// writeAll runs summaries through w and returns the output.
func writeAll(t *testing.T, newWriter func(*bytes.Buffer) Writer, sums ...*tlsconn.Summary) string {
	t.Helper()
	var b bytes.Buffer
	w := newWriter(&b)
	for _, s := range sums {
		if err := w.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// plainTLS13 is an ordinary TLS 1.3 handshake over IPv4.
func plainTLS13() *tlsconn.Summary {
	return &tlsconn.Summary{
		TS: time.Date(2026, 3, 4, 5, 6, 7, 891011000, time.UTC), Client: "192.0.2.1:50000", Server: "198.51.100.2:443",
		Transport: "tcp", Connection: 7, Handshake: 1,
		SNI: ptr("example.com"), Version: ptr("TLS 1.3"), VersionID: ptr(0x0304),
		CipherSuite: ptr("TLS_AES_128_GCM_SHA256"), CipherSuiteID: ptr(0x1301),
		KeyExchange: ptr("ECDHE"), Group: ptr("x25519"), Resumed: ptr(false),
		ClientALPN: []string{"h2", "http/1.1"}, JA3: "0123456789abcdef0123456789abcdef", JA4: "t13d1516h2_8daaf6152771_e5627efa2ab1",
		Established: true, History: "CsidID",
	}
}

// injection is a TLS 1.2 handshake whose wire-derived strings try formula
// injection and terminal escapes.
func injection() *tlsconn.Summary {
	s := plainTLS13()
	s.Version, s.VersionID = ptr("TLS 1.2"), ptr(0x0303)
	s.SNI = ptr(`=HYPERLINK("http://evil.example/","click")`)
	s.ALPN = ptr("@SUM(1)")
	s.ClientALPN = []string{"+cmd", "a;b", "-2+3"}
	s.ServerCertificates = []*certinfo.Certificate{{
		Subject: "CN=\x1b[31mred,O=x", Issuer: "-issuer", SubjectCN: "\x1b[31mred",
		NotAfter: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), SHA256: "ab", SHA1: "cd",
	}}
	s.Alerts = []tlsconn.Alert{{From: "server", Level: "fatal", Description: "bad_certificate"}}
	s.Findings = []tlsconn.Finding{{ID: "alert-fatal"}, {ID: "no-sni"}}
	s.Warnings = []string{"one", "two"}
	return s
}

func TestNeutralise(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"example.com", "example.com"},
		{"=1+1", "'=1+1"},
		{"+cmd", "'+cmd"},
		{"-2", "'-2"},
		{"@SUM(1)", "'@SUM(1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		if got := neutralise(tt.in); got != tt.want {
			t.Errorf("neutralise(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCSVParsesBackAndNeutralises(t *testing.T) {
	out := writeAll(t, func(b *bytes.Buffer) Writer { return NewCSV(b) }, plainTLS13(), injection(), hostile())
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, out)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want header and 3 rows", len(recs))
	}
	if strings.Join(recs[0], ",") != strings.Join(CSVHeader, ",") {
		t.Errorf("header = %v", recs[0])
	}
	col := map[string]int{}
	for i, name := range CSVHeader {
		col[name] = i
	}
	for _, r := range recs[1:] {
		for i, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("%s cell %q can start a formula", CSVHeader[i], cell)
			}
			if strings.ContainsAny(cell, "\x1b\x07\n\r") {
				t.Errorf("%s cell %q has a control character", CSVHeader[i], cell)
			}
		}
	}
	tests := []struct {
		row  int
		col  string
		want string
	}{
		{1, "ts", "2026-03-04T05:06:07.891011Z"},
		{1, "connection", "7"},
		{1, "client_alpn", "h2;http/1.1"},
		{1, "resumed", "false"},
		{1, "client_cert_requested", ""},
		{1, "server_cert_subject", ""},
		{1, "established", "true"},
		{1, "outcome", "established"},
		{1, "findings", ""},
		{2, "sni", `'=HYPERLINK("http://evil.example/","click")`},
		{2, "alpn", "'@SUM(1)"},
		{2, "client_alpn", `'+cmd;a\x3bb;-2+3`},
		{2, "server_cert_subject", `CN=\x1b[31mred,O=x`},
		{2, "server_cert_issuer", "'-issuer"},
		{2, "server_cert_not_after", "2030-01-02T03:04:05Z"},
		{2, "alerts", "server:fatal:bad_certificate"},
		{2, "findings", "alert-fatal;no-sni"},
		{2, "outcome", "bad_certificate"},
		{2, "warnings", "2"},
		{3, "sni", `\x1b]0;pwned\x07very-long-hostname.subdomain.example.com`},
		{3, "alpn", `h2\x0d\x0aX-Injected: 1`},
		{3, "resumed", ""},
	}
	for _, tt := range tests {
		if got := recs[tt.row][col[tt.col]]; got != tt.want {
			t.Errorf("row %d %s = %q, want %q", tt.row, tt.col, got, tt.want)
		}
	}
}

func TestCSVEmptyHasHeader(t *testing.T) {
	out := writeAll(t, func(b *bytes.Buffer) Writer { return NewCSV(b) })
	if out != strings.Join(CSVHeader, ",")+"\n" {
		t.Errorf("empty CSV = %q", out)
	}
}

func TestCSVFlushesEachRow(t *testing.T) {
	var b bytes.Buffer
	c := NewCSV(&b)
	if err := c.Write(plainTLS13()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n"); n != 2 {
		t.Errorf("after one Write: %d lines, want header and row", n)
	}
}

// jsonPath follows a dotted path through nested objects.
func jsonPath(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var docs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var d map[string]any
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("line is not JSON: %v: %s", err, sc.Text())
		}
		docs = append(docs, d)
	}
	return docs
}

func TestECSFields(t *testing.T) {
	mtls := injection()
	mtls.ClientCertificates = []*certinfo.Certificate{{Subject: "CN=client", SubjectCN: "client", SHA256: "0a0b", SHA1: "0c0d", Version: 3, KeyType: "ECDSA", KeyBits: 256, DNSNames: []string{"client.test"}, EmailAddresses: []string{"c@example.com"}}}
	mtls.ClientCertRequested, mtls.ClientCertSent = ptr(true), ptr(true)
	out := writeAll(t, func(b *bytes.Buffer) Writer { return NewECS(b) }, plainTLS13(), mtls, hostile())
	docs := jsonLines(t, out)
	if len(docs) != 3 {
		t.Fatalf("%d documents, want 3", len(docs))
	}
	tests := []struct {
		doc  int
		path string
		want any // nil: must be absent
	}{
		{0, "@timestamp", "2026-03-04T05:06:07.891011Z"},
		{0, "ecs.version", ECSVersion},
		{0, "event.kind", "event"},
		{0, "event.category", []any{"network"}},
		{0, "event.type", []any{"connection", "protocol"}},
		{0, "event.dataset", "tlsinspect.tls"},
		{0, "event.outcome", "success"},
		{0, "network.transport", "tcp"},
		{0, "network.protocol", "tls"},
		{0, "network.type", "ipv4"},
		{0, "source.ip", "192.0.2.1"},
		{0, "source.port", float64(50000)},
		{0, "destination.ip", "198.51.100.2"},
		{0, "destination.port", float64(443)},
		{0, "destination.domain", "example.com"},
		{0, "client.port", float64(50000)},
		{0, "server.ip", "198.51.100.2"},
		{0, "tls.version", "1.3"},
		{0, "tls.version_protocol", "tls"},
		{0, "tls.cipher", "TLS_AES_128_GCM_SHA256"},
		{0, "tls.curve", "x25519"},
		{0, "tls.established", true},
		{0, "tls.resumed", false},
		{0, "tls.next_protocol", nil},
		{0, "tls.client.server_name", "example.com"},
		{0, "tls.client.ja3", "0123456789abcdef0123456789abcdef"},
		{0, "tls.server.x509", nil},
		{0, "tlsinspect.connection", float64(7)},
		{0, "tlsinspect.ja4", "t13d1516h2_8daaf6152771_e5627efa2ab1"},
		{0, "tlsinspect.client_cert_requested", nil},
		{0, "tlsinspect.findings", nil},
		{1, "tls.version", "1.2"},
		{1, "tls.next_protocol", "@SUM(1)"},
		{1, "event.outcome", "failure"},
		{1, "tls.server.hash.sha256", "AB"},
		{1, "tls.server.hash.sha1", "CD"},
		{1, "tls.server.x509.subject.distinguished_name", "CN=\x1b[31mred,O=x"},
		{1, "tls.server.x509.not_after", "2030-01-02T03:04:05Z"},
		{1, "tls.server.x509.not_before", nil},
		{1, "tls.client.hash.sha256", "0A0B"},
		{1, "tls.client.x509.version_number", "3"},
		{1, "tls.client.x509.public_key_size", float64(256)},
		{1, "tls.client.x509.alternative_names", []any{"client.test", "c@example.com"}},
		{1, "tlsinspect.client_cert_requested", true},
		{1, "tlsinspect.client_cert_sent", true},
		{1, "tlsinspect.findings", []any{map[string]any{"id": "alert-fatal", "severity": "", "text": ""}, map[string]any{"id": "no-sni", "severity": "", "text": ""}}},
		{1, "tlsinspect.alerts", []any{map[string]any{"from": "server", "level": "fatal", "description": "bad_certificate"}}},
		{2, "network.type", "ipv6"},
		{2, "source.ip", "2001:db8:1234:5678:9abc:def0:1234:5678"},
		{2, "source.port", float64(65535)},
		{2, "tls.resumed", nil},
		{2, "tls.client.server_name", "\x1b]0;pwned\x07very-long-hostname.subdomain.example.com"},
	}
	for _, tt := range tests {
		got, ok := jsonPath(docs[tt.doc], tt.path)
		if tt.want == nil {
			if ok {
				t.Errorf("doc %d %s = %v, want absent", tt.doc, tt.path, got)
			}
			continue
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(tt.want)
		if !ok || string(gj) != string(wj) {
			t.Errorf("doc %d %s = %s (present %v), want %s", tt.doc, tt.path, gj, ok, wj)
		}
	}
	for i, d := range docs {
		ts, _ := d["@timestamp"].(string)
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			t.Errorf("doc %d @timestamp %q: %v", i, ts, err)
		}
	}
	if strings.ContainsAny(strings.TrimSuffix(out, "\n"), "\x1b\x07\r") {
		t.Errorf("raw control characters in ECS output")
	}
}

func TestECSOutcome(t *testing.T) {
	tests := []struct {
		s    tlsconn.Summary
		want string
	}{
		{tlsconn.Summary{Established: true}, "success"},
		{tlsconn.Summary{}, "unknown"},
		{tlsconn.Summary{Alerts: []tlsconn.Alert{{Level: "warning", Description: "close_notify"}}, Established: true}, "success"},
		{tlsconn.Summary{Alerts: []tlsconn.Alert{{Level: "fatal", Description: "handshake_failure"}}}, "failure"},
	}
	for _, tt := range tests {
		if got := ecsOutcome(&tt.s); got != tt.want {
			t.Errorf("ecsOutcome(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestZeekHeaderAndColumns(t *testing.T) {
	evil := plainTLS13()
	evil.SNI = ptr("a\tb\nc,d\\e\xff")
	evil.ALPN = ptr("-")
	evil.ServerCertificates = []*certinfo.Certificate{{SHA256: "aa"}, {SHA256: "b,b"}}
	later := plainTLS13()
	later.TS = later.TS.Add(90 * time.Second)
	out := writeAll(t, func(b *bytes.Buffer) Writer { return NewZeek(b) }, later, evil, hostile())
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	wantHead := []string{
		"#separator \\x09",
		"#set_separator\t,",
		"#empty_field\t(empty)",
		"#unset_field\t-",
		"#path\tssl",
		"#open\t2026-03-04-05-07-37", // the first handshake written
	}
	for i, want := range wantHead {
		if lines[i] != want {
			t.Errorf("header line %d = %q, want %q", i, lines[i], want)
		}
	}
	// The latest capture time, whatever the order of the rows.
	if last := lines[len(lines)-1]; last != "#close\t2026-03-04-05-07-37" {
		t.Errorf("last line = %q", last)
	}
	fields := strings.Split(lines[6], "\t")
	types := strings.Split(lines[7], "\t")
	if fields[0] != "#fields" || types[0] != "#types" || len(fields) != len(types) || len(fields)-1 != len(ZeekFields) {
		t.Fatalf("#fields %d and #types %d columns, %d defined", len(fields)-1, len(types)-1, len(ZeekFields))
	}
	rows := lines[8 : len(lines)-1]
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	for _, r := range rows {
		if n := len(strings.Split(r, "\t")); n != len(ZeekFields) {
			t.Errorf("row has %d columns, want %d: %q", n, len(ZeekFields), r)
		}
	}
	cell := func(row int, name string) string {
		for i, f := range ZeekFields {
			if f.Name == name {
				return strings.Split(rows[row], "\t")[i]
			}
		}
		t.Fatalf("no field %s", name)
		return ""
	}
	tests := []struct {
		row        int
		name, want string
	}{
		{0, "ts", "1772600857.891011"},
		{0, "id.orig_h", "192.0.2.1"},
		{0, "id.orig_p", "50000"},
		{0, "version", "TLSv13"},
		{0, "resumed", "F"},
		{0, "established", "T"},
		{0, "ssl_history", "CsiI"},
		{0, "next_protocol", "-"},
		{0, "cert_chain_fps", "-"},
		{0, "client_cert_chain_fps", "-"},
		{0, "sni_matches_cert", "-"},
		{0, "ja3s", "-"},
		{1, "server_name", `a\x09b\x0ac,d\x5ce\xff`},
		{1, "next_protocol", `\x2d`},
		{1, "cert_chain_fps", `aa,b\x2cb`},
		{1, "client_cert_chain_fps", "(empty)"},
		{1, "sni_matches_cert", "F"},
		{2, "id.orig_h", "2001:db8:1234:5678:9abc:def0:1234:5678"},
		{2, "server_name", `\x1b]0;pwned\x07very-long-hostname.subdomain.example.com`},
		{2, "next_protocol", `h2\x0d\x0aX-Injected: 1`},
		{2, "last_alert", "certificate_required"},
		{2, "established", "F"},
		{2, "resumed", "F"},
		{2, "ja4", "-"},
	}
	for _, tt := range tests {
		if got := cell(tt.row, tt.name); got != tt.want {
			t.Errorf("row %d %s = %q, want %q", tt.row, tt.name, got, tt.want)
		}
	}
}

func TestZeekEmptyWritesNothing(t *testing.T) {
	for _, nw := range []func(*bytes.Buffer) Writer{
		func(b *bytes.Buffer) Writer { return NewZeek(b) },
		func(b *bytes.Buffer) Writer { return NewZeekJSON(b) },
	} {
		if out := writeAll(t, nw); out != "" {
			t.Errorf("no handshakes wrote %q", out)
		}
	}
}

func TestZeekJSON(t *testing.T) {
	evil := plainTLS13()
	evil.SNI = ptr("a\tb\x1bc\xffd")
	out := writeAll(t, func(b *bytes.Buffer) Writer { return NewZeekJSON(b) }, plainTLS13(), evil)
	docs := jsonLines(t, out)
	if len(docs) != 2 {
		t.Fatalf("%d lines, want 2", len(docs))
	}
	d := docs[0]
	tests := []struct {
		key  string
		want any // nil: absent
	}{
		{"ts", 1772600767.891011},
		{"id.orig_h", "192.0.2.1"},
		{"id.orig_p", float64(50000)},
		{"id.resp_p", float64(443)},
		{"version", "TLSv13"},
		{"resumed", false},
		{"established", true},
		{"next_protocol", nil},
		{"cert_chain_fps", nil},
		{"ja4", "t13d1516h2_8daaf6152771_e5627efa2ab1"},
	}
	for _, tt := range tests {
		got, ok := d[tt.key]
		if tt.want == nil {
			if ok {
				t.Errorf("%s = %v, want absent", tt.key, got)
			}
			continue
		}
		if !ok || got != tt.want {
			t.Errorf("%s = %#v, want %#v", tt.key, got, tt.want)
		}
	}
	if !strings.HasPrefix(out, `{"ts":1772600767.891011,"uid":"C`) {
		t.Errorf("keys not in column order: %s", out)
	}
	if got := docs[1]["server_name"]; got != `a`+"\t"+`b\x1bc\xffd` {
		t.Errorf("server_name = %q", got)
	}
}

func TestZeekVersionAndNames(t *testing.T) {
	versions := []struct {
		id   int
		want string
	}{
		{0x0002, "SSLv2"}, {0x0300, "SSLv3"}, {0x0301, "TLSv10"}, {0x0302, "TLSv11"},
		{0x0303, "TLSv12"}, {0x0304, "TLSv13"}, {0x7f17, "TLSv13-draft23"}, {0xfefd, "unknown-65277"},
	}
	for _, tt := range versions {
		if got := zeekVersion(&tt.id); got != tt.want {
			t.Errorf("zeekVersion(%#x) = %q, want %q", tt.id, got, tt.want)
		}
	}
	names := []struct{ in, want string }{
		{"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"},
		{"0x1a2b", "unknown-6699"},
		{"0x7b", "unknown-123"},
		{"GREASE(0x0a0a)", "GREASE(0x0a0a)"},
	}
	for _, tt := range names {
		if got := zeekName(tt.in); got != tt.want {
			t.Errorf("zeekName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	histories := []struct{ in, want string }{
		{"CsxknGIFtif", "CsxknGIti"},
		{"CsidID", "CsiI"},
		{"CjiICsdD", "CjiICs"},
		{"Cl", "Cl"},
	}
	for _, tt := range histories {
		if got := zeekHistory(tt.in); got != tt.want {
			t.Errorf("zeekHistory(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestZeekUID(t *testing.T) {
	a, b := plainTLS13(), plainTLS13()
	b.Handshake = 2
	c := plainTLS13()
	c.Connection = 8
	ua, ub, uc := zeekUID(a), zeekUID(b), zeekUID(c)
	if !regexp.MustCompile(`^C[0-9A-Za-z]{10,17}$`).MatchString(ua) {
		t.Errorf("uid %q is not Zeek-shaped", ua)
	}
	if ua != ub {
		t.Errorf("handshakes of one connection have uids %q and %q", ua, ub)
	}
	if ua == uc {
		t.Errorf("different connections share uid %q", ua)
	}
}

func TestHostnameMatches(t *testing.T) {
	tests := []struct {
		host, pattern string
		want          bool
	}{
		{"www.example.com", "www.example.com", true},
		{"WWW.Example.com", "www.example.COM", true},
		{"www.example.com.", "www.example.com", true},
		{"www.example.com", "*.example.com", true},
		{"example.com", "*.example.com", false},
		{"a.b.example.com", "*.example.com", false},
		{"www.example.com", "ww*.example.com", true},
		{"www.example.com", "wa*.example.com", false},
		{"www.example.com", "*", false},
		{"www.example.com", "*.*.com", false},
		{"www.example.com", "www.*.com", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := hostnameMatches(tt.host, tt.pattern); got != tt.want {
			t.Errorf("hostnameMatches(%q, %q) = %v, want %v", tt.host, tt.pattern, got, tt.want)
		}
	}
}

func TestMdText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"example.com", "example.com"},
		{"a|b<script>", `a\|b\<script\>`},
		{"[x](http://evil)", `\[x\](http://evil)`},
		{"*bold* `code` ~s~ &amp;", `\*bold\* \` + "`" + `code\` + "`" + ` \~s\~ \&amp;`},
		{`back\slash`, `back\\slash`},
		{"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"},
		{"_em_ a_ _b", `\_em\_ a\_ \_b`},
	}
	for _, tt := range tests {
		if got := mdText(tt.in); got != tt.want {
			t.Errorf("mdText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// unescapedPipes counts the '|' characters that end Markdown table cells.
func unescapedPipes(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n
}

func TestMarkdownEscapesAndIsWellFormed(t *testing.T) {
	evil := plainTLS13()
	evil.SNI = ptr("a|b<script>alert(1)</script>\n| x | y |")
	evil.ServerCertificates = []*certinfo.Certificate{{SubjectCN: "[click](http://evil)*", NotAfter: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}}
	evil.Findings = []tlsconn.Finding{{ID: "cert-expired"}, {ID: "no-alpn"}}
	out := writeAll(t, func(b *bytes.Buffer) Writer { return NewMarkdown(b) }, plainTLS13(), evil, hostile())
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want header, separator and 3 rows:\n%s", len(lines), out)
	}
	want := len(MarkdownHeader) + 1
	for i, l := range lines {
		if !strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "|:") || !strings.HasSuffix(l, "|") {
			t.Errorf("line %d is not a table row: %q", i, l)
		}
		if n := unescapedPipes(l); n != want {
			t.Errorf("line %d has %d cell borders, want %d: %q", i, n, want, l)
		}
		if strings.ContainsAny(l, "\x1b\x07\r") {
			t.Errorf("line %d has a control character: %q", i, l)
		}
	}
	for _, w := range []string{
		`a\|b\<script\>alert(1)\</script\>\\x0a\| x \| y \|`,
		`\[click\](http://evil)\*, expires 2020-01-01 (expired)`,
		"cert-expired, no-alpn",
		`\\x1b\]0;pwned\\x07very-long-hostname`,
		"requested yes, sent no",
		"| certificate_required |",
		"(encrypted)",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "<script>") {
		t.Errorf("raw HTML reached the Markdown:\n%s", out)
	}
}

func TestMarkdownEmpty(t *testing.T) {
	if out := writeAll(t, func(b *bytes.Buffer) Writer { return NewMarkdown(b) }); out != "No TLS connections.\n" {
		t.Errorf("empty Markdown = %q", out)
	}
}
