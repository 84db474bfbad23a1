package report

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"

	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// ColorMode is the value of --color: "auto" (the zero value), "always" or
// "never". It implements pflag.Value.
type ColorMode string

// ColorModes lists the values ColorMode accepts.
var ColorModes = []string{"auto", "always", "never"}

// String returns the mode, "auto" for the zero value.
func (m *ColorMode) String() string {
	if *m == "" {
		return "auto"
	}
	return string(*m)
}

// Set accepts one of ColorModes.
func (m *ColorMode) Set(v string) error {
	for _, ok := range ColorModes {
		if v == ok {
			*m = ColorMode(v)
			return nil
		}
	}
	return fmt.Errorf("want auto, always or never")
}

// Type names the value in usage messages.
func (m *ColorMode) Type() string { return "when" }

// Enabled decides whether output to w is coloured: always, never, or (auto)
// when w is a terminal, NO_COLOR is unset or empty (https://no-color.org)
// and TERM is not "dumb".
func (m ColorMode) Enabled(w io.Writer) bool {
	return m.enabled(os.Getenv, isTerminal(w))
}

func (m ColorMode) enabled(getenv func(string) string, terminal bool) bool {
	switch m {
	case "always":
		return true
	case "never":
		return false
	}
	return terminal && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// level is how alarming a value is; it picks the colour.
type level int

const (
	plain level = iota
	good        // green
	warn        // yellow: deprecated or weak, attackable with effort
	bad         // red: broken, or the handshake failed
)

// SGR sequences. They are the only escape sequences the report writes:
// every wire-derived string is passed through Escape first.
const (
	sgrReset  = "\x1b[0m"
	sgrRed    = "\x1b[31m"
	sgrGreen  = "\x1b[32m"
	sgrYellow = "\x1b[33m"
)

// paint colours every line of a (possibly multi-line) cell separately, so
// that no colour runs into the table's borders; it is a no-op when off.
func paint(on bool, l level, cell string) string {
	var sgr string
	switch l {
	case good:
		sgr = sgrGreen
	case warn:
		sgr = sgrYellow
	case bad:
		sgr = sgrRed
	}
	if !on || sgr == "" || cell == "" {
		return cell
	}
	lines := strings.Split(cell, "\n")
	for i, line := range lines {
		if line != "" {
			lines[i] = sgr + line + sgrReset
		}
	}
	return strings.Join(lines, "\n")
}

// findingLevel maps the finding IDs the table colours to a level; other IDs
// are coloured by severity only in the summary's findings table.
var findingLevel = map[string]level{
	"version-ssl2": bad, "version-ssl3": bad,
	"version-tls10": warn, "version-tls11": warn,
	"suite-null": bad, "suite-export": bad, "suite-anon": bad,
	"suite-rc4": bad, "suite-des": bad, "suite-3des": warn,
	"cert-expired": bad,
}

func severityLevel(sev string) level {
	switch sev {
	case "high":
		return bad
	case "medium":
		return warn
	}
	return plain
}

// findingsLevel returns the highest level among s's findings whose ID
// starts with prefix.
func findingsLevel(s *tlsconn.Summary, prefix string) level {
	l := plain
	for _, f := range s.Findings {
		if strings.HasPrefix(f.ID, prefix) {
			l = max(l, findingLevel[f.ID])
		}
	}
	return l
}

// versionLevel rates the negotiated version: from Summary.Findings when
// present, else (or in addition) from the version number.
func versionLevel(s *tlsconn.Summary) level {
	l := findingsLevel(s, "version-")
	if s.VersionID != nil {
		switch *s.VersionID {
		case 0x0002, 0x0300:
			l = max(l, bad)
		case 0x0301, 0x0302:
			l = max(l, warn)
		}
	}
	return l
}

// suiteLevel rates the negotiated cipher suite: from Summary.Findings when
// present, else (or in addition) from the tokens of its IANA name.
func suiteLevel(s *tlsconn.Summary) level {
	l := findingsLevel(s, "suite-")
	if s.CipherSuite != nil {
		l = max(l, suiteNameLevel(*s.CipherSuite))
	}
	return l
}

// suiteNameLevel applies the weak families of package findings to a suite
// name (TLS_<kx>_WITH_<cipher>_<mac>): NULL, EXPORT, anon, RC4 and DES are
// bad, 3DES is a warning.
func suiteNameLevel(name string) level {
	if name == "TLS_SHA256_SHA256" || name == "TLS_SHA384_SHA384" || name == "TLS_NULL_WITH_NULL_NULL" {
		return bad
	}
	kx, cipher, ok := strings.Cut(name, "_WITH_")
	if !ok {
		return plain
	}
	for _, t := range strings.Split(kx, "_") {
		if t == "anon" || strings.HasPrefix(t, "EXPORT") {
			return bad
		}
	}
	ct := strings.Split(cipher, "_")
	if ct[0] == "NULL" {
		return bad
	}
	l := plain
	for _, t := range ct {
		switch t {
		case "RC4", "DES", "DES40":
			return bad
		case "3DES":
			l = warn
		}
	}
	return l
}

// certExpired reports whether the server's leaf certificate had expired at
// the time of the handshake (not the wall clock), or the findings say a
// certificate in the chain had.
func certExpired(s *tlsconn.Summary) bool {
	if findingsLevel(s, "cert-expired") != plain {
		return true
	}
	if len(s.ServerCertificates) == 0 || s.TS.IsZero() {
		return false
	}
	c := s.ServerCertificates[0]
	return c != nil && !c.NotAfter.IsZero() && c.NotAfter.Before(s.TS)
}

// outcomeLevel: established is good, an alert or an incomplete handshake bad.
func outcomeLevel(outcome string) level {
	if outcome == "established" {
		return good
	}
	return bad
}
