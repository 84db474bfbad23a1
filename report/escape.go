package report

import "github.com/tlsinspect/tlsinspect/internal/safetext"

// Escape makes a wire-derived string safe for a terminal or a CSV cell:
// control characters (C0, DEL, C1), invalid UTF-8 and invisible
// formatting characters such as bidirectional overrides are written as Go
// escapes (\x1b, \u202e), and backslashes are doubled so that the escaping
// cannot be forged (package safetext).
func Escape(s string) string { return safetext.Escape(s) }
