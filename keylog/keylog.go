package keylog

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
)

// EnvVar is the environment variable that names a key log file, for the
// programs that write one and for those that read it.
const EnvVar = "SSLKEYLOGFILE"

// Labels of the NSS key log format.
const (
	// TLS 1.0–1.2: the 48-byte master secret.
	LabelClientRandom = "CLIENT_RANDOM"

	// TLS 1.3 (also QUIC and DTLS 1.3): secrets as long as the cipher
	// suite's hash, 32 bytes for SHA-256 and 48 for SHA-384.
	LabelClientEarlyTrafficSecret     = "CLIENT_EARLY_TRAFFIC_SECRET"
	LabelClientHandshakeTrafficSecret = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	LabelServerHandshakeTrafficSecret = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	LabelClientTrafficSecret0         = "CLIENT_TRAFFIC_SECRET_0"
	LabelServerTrafficSecret0         = "SERVER_TRAFFIC_SECRET_0"
	LabelEarlyExporterSecret          = "EARLY_EXPORTER_SECRET"
	LabelExporterSecret               = "EXPORTER_SECRET"

	// Lines that are valid but that this package cannot use: the RSA
	// pre-master secret keyed by the encrypted one, the pre-master secret
	// keyed by the client random, and Encrypted Client Hello secrets. They
	// are counted as Stats.Unsupported.
	LabelRSA             = "RSA"
	LabelPMSClientRandom = "PMS_CLIENT_RANDOM"
	LabelECHSecret       = "ECH_SECRET"
	LabelECHConfig       = "ECH_CONFIG"
)

// Limits of Parse. A key log line is at most about 200 bytes, and a file
// grows by about 1 KB per TLS 1.3 connection: anything beyond these is not a
// key log, or not one to load whole.
const (
	MaxLineLength = 1 << 10  // bytes, without the line end
	MaxFileSize   = 64 << 20 // bytes
)

// RandomSize is the length of a client random.
const RandomSize = 32

// MaxProblems is how many malformed or conflicting lines Stats.Problems
// lists; the counts go on past it.
const MaxProblems = 10

var (
	// ErrNotKeyLog: the input has a line too long for a key log, or lines
	// of which none is a key log line.
	ErrNotKeyLog = errors.New("not a TLS key log file")
	// ErrTooLarge: the input is over MaxFileSize.
	ErrTooLarge = errors.New("key log file too large")
	// ErrConflict: Add was given a different value for a secret already
	// known.
	ErrConflict = errors.New("conflicts with the secret already known")
)

// Secret is the bytes of one secret. It is a []byte, so it passes as one,
// but it never prints: fmt (every verb), JSON, YAML, text and slog show only
// its length.
type Secret []byte

func (s Secret) String() string { return fmt.Sprintf("keylog.Secret{<redacted>: %d bytes}", len(s)) }

// Format prints the same as String whatever the verb, so %x and %#v do not
// reveal the bytes either.
func (s Secret) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// MarshalText keeps encoding/json, which would write the bytes in base64,
// and YAML from revealing them.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue keeps log/slog from revealing the bytes.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Indexes of the secrets a Secrets holds, and their labels.
const (
	iMaster = iota
	iClientEarly
	iClientHandshake
	iServerHandshake
	iClient0
	iServer0
	iEarlyExporter
	iExporter
	numSecrets
)

var labels = [numSecrets]string{
	LabelClientRandom,
	LabelClientEarlyTrafficSecret,
	LabelClientHandshakeTrafficSecret,
	LabelServerHandshakeTrafficSecret,
	LabelClientTrafficSecret0,
	LabelServerTrafficSecret0,
	LabelEarlyExporterSecret,
	LabelExporterSecret,
}

// index returns the index of a label's secret, or -1 for a label that has
// none.
func index(label string) int {
	for i, l := range labels {
		if l == label {
			return i
		}
	}
	return -1
}

// Secrets are the secrets logged for one client random. Each method
// returns nil when its line was not logged, and so do all on a nil
// *Secrets. The bytes belong to the Log and must not be modified.
//
// The secrets are reached through methods, not fields, so that they sit
// two pointers away: below an unexported field fmt calls no Format method,
// and it prints a pointer as an address, except that for a verb wrong for
// a pointer (%s, %q) it shows what the pointer points to, once.
type Secrets struct {
	v *vault
}

type vault struct {
	s *[numSecrets]Secret
}

func (s *Secrets) get(i int) Secret {
	if s == nil || s.v == nil {
		return nil
	}
	return s.v.s[i]
}

// MasterSecret is the TLS 1.0–1.2 master secret (CLIENT_RANDOM), 48 bytes.
func (s *Secrets) MasterSecret() Secret { return s.get(iMaster) }

// The TLS 1.3 secrets are as long as the cipher suite's hash: 32 bytes
// (SHA-256) or 48 (SHA-384).

// ClientEarlyTraffic is CLIENT_EARLY_TRAFFIC_SECRET, for 0-RTT data.
func (s *Secrets) ClientEarlyTraffic() Secret { return s.get(iClientEarly) }

// ClientHandshakeTraffic is CLIENT_HANDSHAKE_TRAFFIC_SECRET.
func (s *Secrets) ClientHandshakeTraffic() Secret { return s.get(iClientHandshake) }

// ServerHandshakeTraffic is SERVER_HANDSHAKE_TRAFFIC_SECRET.
func (s *Secrets) ServerHandshakeTraffic() Secret { return s.get(iServerHandshake) }

// ClientTraffic0 is CLIENT_TRAFFIC_SECRET_0, the first client application
// traffic secret.
func (s *Secrets) ClientTraffic0() Secret { return s.get(iClient0) }

// ServerTraffic0 is SERVER_TRAFFIC_SECRET_0.
func (s *Secrets) ServerTraffic0() Secret { return s.get(iServer0) }

// EarlyExporter is EARLY_EXPORTER_SECRET.
func (s *Secrets) EarlyExporter() Secret { return s.get(iEarlyExporter) }

// Exporter is EXPORTER_SECRET.
func (s *Secrets) Exporter() Secret { return s.get(iExporter) }

// Get returns the secret logged under label, or nil.
func (s *Secrets) Get(label string) Secret {
	if i := index(label); i >= 0 {
		return s.get(i)
	}
	return nil
}

// String says which secrets are present, for example
// "keylog.Secrets{<redacted>: TLS1.3 handshake+traffic}", never their
// values.
func (s Secrets) String() string {
	p := &s
	var parts []string
	if p.MasterSecret() != nil {
		parts = append(parts, "TLS1.2 master")
	}
	var t []string
	pair := func(name string, client, server Secret) {
		switch {
		case client != nil && server != nil:
			t = append(t, name)
		case client != nil:
			t = append(t, "client-"+name)
		case server != nil:
			t = append(t, "server-"+name)
		}
	}
	if p.ClientEarlyTraffic() != nil {
		t = append(t, "early")
	}
	pair("handshake", p.ClientHandshakeTraffic(), p.ServerHandshakeTraffic())
	pair("traffic", p.ClientTraffic0(), p.ServerTraffic0())
	if p.EarlyExporter() != nil {
		t = append(t, "early-exporter")
	}
	if p.Exporter() != nil {
		t = append(t, "exporter")
	}
	if len(t) > 0 {
		parts = append(parts, "TLS1.3 "+strings.Join(t, "+"))
	}
	if len(parts) == 0 {
		parts = append(parts, "none")
	}
	return "keylog.Secrets{<redacted>: " + strings.Join(parts, ", ") + "}"
}

// Format prints String whatever the verb: %x or %#v must not reach the
// bytes either.
func (s Secrets) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// MarshalText makes JSON and YAML encoders write String.
func (s Secrets) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue makes log/slog write String.
func (s Secrets) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Log holds the secrets of many handshakes, by client random. Parse, Add
// and Lookup must not be called concurrently with Parse or Add; Lookups
// alone may run concurrently.
type Log struct {
	m map[[RandomSize]byte]*Secrets
}

// New returns an empty Log. The zero Log is ready to use too.
func New() *Log { return &Log{} }

// Clone returns a copy of l that Parse and Add can extend without
// changing l (for several inputs read at once, each with the secrets of
// the inputs before it). The secrets' bytes, never modified, are shared.
func (l *Log) Clone() *Log {
	c := &Log{}
	if len(l.m) > 0 {
		c.m = make(map[[RandomSize]byte]*Secrets, len(l.m))
		for k, s := range l.m {
			v := *s.v.s
			c.m[k] = &Secrets{&vault{&v}}
		}
	}
	return c
}

// Len returns the number of client randoms with secrets.
func (l *Log) Len() int { return len(l.m) }

// Lookup returns the secrets for a client random, or nil. They belong to
// the Log and must not be modified.
func (l *Log) Lookup(clientRandom []byte) *Secrets {
	if len(clientRandom) != RandomSize {
		return nil
	}
	return l.m[[RandomSize]byte(clientRandom)]
}

func (l Log) String() string {
	return fmt.Sprintf("keylog.Log{<redacted>: %d client randoms}", len(l.m))
}

// Format prints String whatever the verb, so that no verb reaches the
// secrets through the map.
func (l Log) Format(f fmt.State, _ rune) { io.WriteString(f, l.String()) }

// Add records one secret, as a key log line with label would. Repeating a
// secret already known is not an error; a different value for it is
// ErrConflict and the first value is kept. The error never holds the
// secret.
func (l *Log) Add(label string, clientRandom, secret []byte) error {
	if msg := checkLengths(label, len(clientRandom), len(secret)); msg != "" {
		return errors.New("keylog: " + msg)
	}
	_, err := l.add(label, [RandomSize]byte(clientRandom), Secret(bytes.Clone(secret)))
	return err
}

// checkLengths returns what is wrong with a line's label and lengths, or "".
func checkLengths(label string, randomLen, secretLen int) string {
	if !storable(label) {
		return "unknown or unsupported label"
	}
	if randomLen != RandomSize {
		return fmt.Sprintf("client random is %d bytes, want %d", randomLen, RandomSize)
	}
	if label == LabelClientRandom {
		if secretLen != 48 {
			return fmt.Sprintf("master secret is %d bytes, want 48", secretLen)
		}
	} else if secretLen != 32 && secretLen != 48 {
		return fmt.Sprintf("secret is %d bytes, want 32 or 48 (SHA-256 or SHA-384 suites)", secretLen)
	}
	return ""
}

// storable reports whether Secrets has a place for label's secret.
func storable(label string) bool { return index(label) >= 0 }

// add stores a checked secret, which it keeps. It reports whether the
// secret is new; a repeat of a known one is not.
func (l *Log) add(label string, random [RandomSize]byte, secret Secret) (bool, error) {
	if l.m == nil {
		l.m = make(map[[RandomSize]byte]*Secrets)
	}
	s := l.m[random]
	if s == nil {
		s = &Secrets{&vault{new([numSecrets]Secret)}}
		l.m[random] = s
	}
	f := &s.v.s[index(label)]
	switch {
	case *f == nil:
		*f = secret
		return true, nil
	case bytes.Equal(*f, secret):
		return false, nil
	}
	return false, fmt.Errorf("keylog: %s: %w for this client random; the first is kept", label, ErrConflict)
}

// Stats describes one key log file read by Parse.
type Stats struct {
	Lines       int // lines read, comments and blank lines included
	Entries     int // lines that gave a secret not known before
	Duplicates  int // lines that repeat a known secret with the same value
	Conflicts   int // lines that give another value for a known secret: the first is kept
	Unsupported int // key log lines this package cannot use (RSA, PMS_CLIENT_RANDOM, ECH_*)
	Unknown     int // key log lines with a label this package does not know
	Malformed   int // lines that are not key log lines, or with values not hex or of a wrong length

	// Problems lists the first MaxProblems malformed and conflicting lines.
	Problems []Problem
	// Warnings are things the user should fix that do not stop reading,
	// such as a file that other users can read.
	Warnings []string
}

// Problem is a malformed or conflicting line. Msg says what is wrong
// without quoting the line, which may hold secrets.
type Problem struct {
	Line int // 1-based
	Msg  string
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Msg) }

func (st *Stats) problem(line int, msg string) {
	if len(st.Problems) < MaxProblems {
		st.Problems = append(st.Problems, Problem{line, msg})
	}
}

// String summarises the counts, for example "12 lines: 10 new secrets,
// 1 malformed (line 7: client random is 31 bytes, want 32)".
func (st Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d lines: %d new secrets", st.Lines, st.Entries)
	for _, c := range []struct {
		n    int
		what string
	}{
		{st.Duplicates, "repeated"},
		{st.Conflicts, "conflicting"},
		{st.Unsupported, "unsupported (RSA, PMS_CLIENT_RANDOM, ECH)"},
		{st.Unknown, "with unknown labels"},
		{st.Malformed, "malformed"},
	} {
		if c.n > 0 {
			fmt.Fprintf(&b, ", %d %s", c.n, c.what)
		}
	}
	if len(st.Problems) > 0 {
		fmt.Fprintf(&b, " (%v)", st.Problems[0])
	}
	return b.String()
}

// entry is a parsed line, kept until the whole input is known to be good.
type entry struct {
	line   int
	label  string
	random [RandomSize]byte
	secret Secret
}

// Parse reads a key log and adds its secrets to l. name is used in errors.
// Malformed lines, conflicts and lines it cannot use are counted in Stats
// and skipped. It returns an error for a read error, for input over
// MaxFileSize or with a line over MaxLineLength, and for input whose lines,
// apart from comments and blank lines, are none of them key log lines:
// that is the wrong file. An empty file, or one of comments only, is not an
// error: programs create the file before they write to it. On error
// nothing is added to l.
func (l *Log) Parse(r io.Reader, name string) (Stats, error) {
	var st Stats
	var entries []entry
	lr := &io.LimitedReader{R: r, N: MaxFileSize + 1}
	br := bufio.NewReaderSize(lr, 64<<10)
	keyLogLines := 0
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return Stats{}, fmt.Errorf("%s: line %d is longer than %d bytes: %w", name, st.Lines+1, MaxLineLength, ErrNotKeyLog)
		}
		if err != nil && err != io.EOF {
			return Stats{}, fmt.Errorf("%s: %w", name, err)
		}
		if lr.N <= 0 {
			return Stats{}, fmt.Errorf("%s: over %d MiB: %w", name, MaxFileSize>>20, ErrTooLarge)
		}
		if len(line) == 0 && err == io.EOF {
			break
		}
		st.Lines++
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'})
		if len(line) > MaxLineLength {
			return Stats{}, fmt.Errorf("%s: line %d is longer than %d bytes: %w", name, st.Lines, MaxLineLength, ErrNotKeyLog)
		}
		if st.Lines == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff")) // Windows editors start files with a BOM
		}
		e, kind, msg := parseLine(line)
		switch kind {
		case lineBlank:
		case lineSecret:
			keyLogLines++
			e.line = st.Lines
			entries = append(entries, e)
		case lineUnsupported:
			keyLogLines++
			st.Unsupported++
		case lineUnknown:
			keyLogLines++
			st.Unknown++
		case lineMalformed:
			st.Malformed++
			st.problem(st.Lines, msg)
		}
		if err == io.EOF {
			break
		}
	}
	if keyLogLines == 0 && st.Malformed > 0 {
		return Stats{}, fmt.Errorf("%s: none of its %d lines is a key log line (%v): %w", name, st.Lines, st.Problems[0], ErrNotKeyLog)
	}
	for _, e := range entries {
		isNew, err := l.add(e.label, e.random, e.secret)
		switch {
		case err != nil:
			st.Conflicts++
			st.problem(e.line, fmt.Sprintf("%s differs from the one already known for this client random; the first is kept", e.label))
		case isNew:
			st.Entries++
		default:
			st.Duplicates++
		}
	}
	return st, nil
}

type lineKind uint8

const (
	lineBlank lineKind = iota // blank or comment
	lineSecret
	lineUnsupported
	lineUnknown
	lineMalformed
)

// parseLine parses one line without its line end. For a malformed line
// the message says what is wrong without quoting it.
func parseLine(line []byte) (entry, lineKind, string) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] == '#' {
		return entry{}, lineBlank, ""
	}
	fields := bytes.Fields(line)
	label := string(fields[0])
	switch {
	case !isLabel(fields[0]):
		return entry{}, lineMalformed, "does not start with a key log label"
	case label == LabelRSA || label == LabelPMSClientRandom || label == LabelECHSecret || label == LabelECHConfig:
		// RSA lines come in two layouts, one not hex: count them all.
		return entry{}, lineUnsupported, ""
	case len(fields) != 3:
		return entry{}, lineMalformed, fmt.Sprintf("%d fields, want 3 (label, client random, secret)", len(fields))
	}
	known := storable(label)
	prefix := ""
	if known {
		prefix = label + " line: "
	}
	random, msg := decodeHex(fields[1], prefix+"client random")
	if msg != "" {
		return entry{}, lineMalformed, msg
	}
	secret, msg := decodeHex(fields[2], prefix+"secret")
	if msg != "" {
		return entry{}, lineMalformed, msg
	}
	if !known {
		return entry{}, lineUnknown, ""
	}
	if msg := checkLengths(label, len(random), len(secret)); msg != "" {
		return entry{}, lineMalformed, label + " line: " + msg
	}
	return entry{label: label, random: [RandomSize]byte(random), secret: secret}, lineSecret, ""
}

// isLabel reports whether b has the form of a label: capitals, digits and
// underscores, starting with a capital.
func isLabel(b []byte) bool {
	if len(b) == 0 || b[0] < 'A' || b[0] > 'Z' {
		return false
	}
	for _, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// decodeHex decodes a field. Unlike hex.DecodeString's, its message does
// not quote the offending character, which belongs to a secret.
func decodeHex(src []byte, what string) ([]byte, string) {
	if len(src)%2 != 0 {
		return nil, fmt.Sprintf("%s has an odd number of hex digits (%d)", what, len(src))
	}
	dst := make([]byte, len(src)/2)
	if _, err := hex.Decode(dst, src); err != nil {
		var ib hex.InvalidByteError
		if errors.As(err, &ib) {
			return nil, fmt.Sprintf("%s is not hex (character %d)", what, bytes.IndexByte(src, byte(ib))+1)
		}
		return nil, what + " is not hex"
	}
	return dst, ""
}

// ParseFile reads a key log file with Parse. When the file is readable by
// users other than its owner, Stats.Warnings says so and how to fix it: the
// secrets decrypt every connection logged.
func (l *Log) ParseFile(path string) (Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Stats{}, err
	}
	if fi.Mode().IsRegular() && fi.Size() > MaxFileSize {
		return Stats{}, fmt.Errorf("%s: %d MiB, over %d MiB: %w", path, fi.Size()>>20, MaxFileSize>>20, ErrTooLarge)
	}
	st, err := l.Parse(f, path)
	if err != nil {
		return st, err
	}
	if w := modeWarning(path, fi); w != "" {
		st.Warnings = append(st.Warnings, w)
	}
	return st, nil
}

// modeWarning warns about a regular file that group or others may read.
// Pipes (--keylog <(...)) and Windows, where the mode bits mean little, are
// left alone.
func modeWarning(path string, fi os.FileInfo) string {
	if runtime.GOOS == "windows" || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o044 == 0 {
		return ""
	}
	return fmt.Sprintf("%s is readable by other users (mode %v) and holds TLS secrets: chmod 600 %s", path, fi.Mode().Perm(), shellQuote(path))
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:,@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
