package policy

import (
	"strings"
	"unicode/utf8"

	"github.com/tlsinspect/tlsinspect/internal/safetext"
)

// escape makes a string safe for a one-line message, a terminal, XML and
// Markdown (package safetext): SNI, ALPN and certificate names come from
// the network.
func escape(s string) string { return safetext.Escape(s) }

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
