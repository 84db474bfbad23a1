package capfilter

import (
	"fmt"
	"strings"
)

// supportedHint ends the message for a primitive outside the subset.
const supportedHint = "supported: host, src/dst host, net, port, portrange, tcp, udp, ip, ip6, vlan, and/or/not, parentheses"

// SyntaxError reports an expression that is not a valid capture filter:
// unbalanced parentheses, a missing operand, a malformed address or an
// out-of-range number.
type SyntaxError struct {
	Expr  string // the expression as given
	Pos   int    // byte offset of Token in Expr; -1 if not tied to a place
	Token string // the offending part, "" at the end of the expression
	Msg   string // what is wrong
	Hint  string // how to fix it, may be ""
}

func (e *SyntaxError) Error() string { return format(e.Expr, e.Msg, e.Token, e.Pos, e.Hint) }

// UnsupportedError reports valid tcpdump (pcap-filter) syntax outside the
// subset this package compiles, or an expression that cannot be compiled
// for a target: a vlan test on a link type without VLAN support, an
// unsupported link type, a program over the kernel's length limit.
type UnsupportedError struct {
	Expr  string
	Pos   int
	Token string
	Msg   string
	Hint  string
}

func (e *UnsupportedError) Error() string { return format(e.Expr, e.Msg, e.Token, e.Pos, e.Hint) }

// maxQuoted bounds how much of a (possibly 4 KiB) expression an error repeats.
const maxQuoted = 80

func format(expr, msg, token string, pos int, hint string) string {
	var b strings.Builder
	b.WriteString("capfilter: ")
	if expr != "" {
		if len(expr) > maxQuoted {
			expr = expr[:maxQuoted] + "..."
		}
		fmt.Fprintf(&b, "%q: ", expr)
	}
	b.WriteString(msg)
	if token != "" {
		if len(token) > maxQuoted {
			token = token[:maxQuoted] + "..."
		}
		fmt.Fprintf(&b, " %q", token)
	}
	if pos >= 0 {
		fmt.Fprintf(&b, " at offset %d", pos)
	}
	if hint != "" {
		fmt.Fprintf(&b, " (%s)", hint)
	}
	return b.String()
}
