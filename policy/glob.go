package policy

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// maxGlobLen bounds one pattern; real patterns are short, and the bound
// keeps a hostile policy file from compiling huge expressions.
const maxGlobLen = 1024

// glob is a shell-style pattern: * any run of characters (dots and slashes
// included, unlike path.Match: IANA names, host names and RFC 4514 names
// are not paths), ? one character, [abc], [a-z], [!a-z] or [^a-z] one
// character of a class, and \ quoting the next character. Case is
// ignored: IANA spells groups x25519 but X25519MLKEM768, host names are
// case-insensitive, and a policy should not fail on a capital letter. It
// is compiled to an anchored regular expression, so matching is linear in
// the input whatever the pattern.
type glob struct {
	pattern string
	re      *regexp.Regexp
}

// compileGlob checks and compiles a pattern.
func compileGlob(pattern string) (glob, error) {
	if len(pattern) > maxGlobLen {
		return glob{}, fmt.Errorf("pattern longer than %d bytes", maxGlobLen)
	}
	if !utf8.ValidString(pattern) {
		return glob{}, fmt.Errorf("pattern %q is not valid UTF-8", pattern)
	}
	var b strings.Builder
	b.WriteString(`\A(?is:`)
	for i := 0; i < len(pattern); {
		r, n := utf8.DecodeRuneInString(pattern[i:])
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '\\':
			if i+n >= len(pattern) {
				return glob{}, fmt.Errorf("pattern %q ends with a lone \\", pattern)
			}
			q, m := utf8.DecodeRuneInString(pattern[i+n:])
			b.WriteString(regexp.QuoteMeta(string(q)))
			n += m
		case '[':
			class, m, err := globClass(pattern[i:])
			if err != nil {
				return glob{}, fmt.Errorf("pattern %q: %v", pattern, err)
			}
			b.WriteString(class)
			n = m
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
		i += n
	}
	b.WriteString(`)\z`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return glob{}, fmt.Errorf("pattern %q: %v", pattern, err)
	}
	return glob{pattern: pattern, re: re}, nil
}

// globClass translates the character class at the start of s ("[...]")
// and returns the regular expression for it and the bytes it took. Every
// member is written as \x{…} so that no character of the class can change
// the meaning of the expression.
func globClass(s string) (string, int, error) {
	i := 1
	var b strings.Builder
	b.WriteString("[")
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		b.WriteString("^")
		i++
	}
	members := 0
	for {
		if i >= len(s) {
			return "", 0, fmt.Errorf("unterminated [")
		}
		// A ] right after [ or [! is a member, as in the shell.
		if s[i] == ']' && members > 0 {
			i++
			break
		}
		lo, n, err := classRune(s[i:])
		if err != nil {
			return "", 0, err
		}
		i += n
		hi := lo
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			hi, n, err = classRune(s[i+1:])
			if err != nil {
				return "", 0, err
			}
			i += 1 + n
			if hi < lo {
				return "", 0, fmt.Errorf("range %c-%c is reversed", lo, hi)
			}
		}
		fmt.Fprintf(&b, `\x{%x}`, lo)
		if hi != lo {
			fmt.Fprintf(&b, `-\x{%x}`, hi)
		}
		members++
	}
	b.WriteString("]")
	return b.String(), i, nil
}

// classRune reads one member character of a class, \-quoted or not.
func classRune(s string) (rune, int, error) {
	n := 0
	if s[0] == '\\' {
		if len(s) == 1 {
			return 0, 0, fmt.Errorf("unterminated [")
		}
		n = 1
	}
	r, m := utf8.DecodeRuneInString(s[n:])
	return r, n + m, nil
}

func (g glob) match(s string) bool { return g.re.MatchString(s) }

func (g glob) String() string { return g.pattern }

// globs is a list of patterns; a value matches the list when it matches
// any of them.
type globs []glob

// match returns the first pattern that matches s.
func (gs globs) match(s string) (glob, bool) {
	for _, g := range gs {
		if g.match(s) {
			return g, true
		}
	}
	return glob{}, false
}

// String lists the patterns for messages.
func (gs globs) String() string {
	ps := make([]string, len(gs))
	for i, g := range gs {
		ps[i] = g.pattern
	}
	return strings.Join(ps, ", ")
}
