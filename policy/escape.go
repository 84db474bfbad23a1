package policy

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// escape makes a string safe for a one-line message, a terminal, XML and
// Markdown: control characters (C0, DEL, C1), invalid UTF-8 and invisible
// formatting characters such as bidirectional overrides become Go escapes
// (\x1b, \u202e), and backslashes are doubled so that an escape cannot be
// forged. SNI, ALPN and certificate names come from the network; the same
// rules as the report package's, written again here because policy must
// not depend on report.
func escape(s string) string {
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

// markdownActive are the ASCII characters that can start Markdown (GFM)
// inline syntax or end a table cell. Other punctuation (. : - / =) is left
// alone so that addresses and names stay readable in the source.
const markdownActive = "\\`*_{}[]<>()#+!|~&$"

// mdText escapes s for a Markdown table cell as plain text.
func mdText(s string) string {
	s = escape(s)
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf && strings.ContainsRune(markdownActive, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdCode writes s as a code span, for wire-derived values: nothing inside
// a code span is Markdown (no links, no emphasis, no HTML), so a crafted
// SNI or certificate name cannot inject any. Only | needs escaping (GFM
// splits table cells before it parses code spans), and the backtick fence
// is made longer than any run of backticks inside.
func mdCode(s string) string {
	s = strings.ReplaceAll(escape(s), "|", `\|`)
	if s == "" {
		return ""
	}
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	// A space on each side keeps a leading or trailing backtick from
	// joining the fence; GFM strips one such space.
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
