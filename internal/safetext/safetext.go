// Package safetext escapes strings that came from the network (SNI, ALPN,
// certificate names) before they reach a terminal, a log line, CSV, XML or
// Markdown. It is the one place these rules live: report, policy and
// baseline all use it.
package safetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape makes a wire-derived string safe for a terminal or a CSV cell:
// control characters (C0, DEL, C1), invalid UTF-8 and invisible
// formatting characters such as bidirectional overrides are written as Go
// escapes (\x1b, \u202e), and backslashes are doubled so that the escaping
// cannot be forged.
func Escape(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0, unicode.Is(unicode.Cf, r), r == '\u2028', r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}
