package capfilter

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

const (
	// MaxExprLen bounds the text of an expression, in bytes.
	MaxExprLen = 4096
	// maxNesting bounds parentheses and "not"s so that no pass recurses
	// deeply; no sensible filter comes near it.
	maxNesting = 200
)

type protoQual uint8

const (
	protoNone protoQual = iota
	protoIP
	protoIP6
	protoTCP
	protoUDP
)

func (p protoQual) String() string {
	return [...]string{"", "ip", "ip6", "tcp", "udp"}[p]
}

type dirQual uint8

const (
	dirAny  dirQual = iota // src or dst
	dirSrc                 // src
	dirDst                 // dst
	dirBoth                // src and dst
)

type addrQual uint8

const (
	addrDefault addrQual = iota // only a direction was given: a host
	addrHost
	addrNet
	addrPort
	addrPortRange
)

// qual is the qualifier in force for a bare value ("host a or b"), as
// libpcap's grammar carries it from one primitive to the next; ok is
// false after primitives that take no value (tcp, vlan...).
type qual struct {
	ok    bool
	proto protoQual
	dir   dirQual
	addr  addrQual
}

type primKind uint8

const (
	kHost primKind = iota
	kNet
	kPort
	kPortRange
	kIP
	kIP6
	kTCP
	kUDP
	kVLAN
)

// node is *binOp, *negation or *prim.
type node interface {
	write(b *strings.Builder)
}

type binOp struct {
	and  bool // else or
	l, r node
}

type negation struct{ x node }

type prim struct {
	kind   primKind
	proto  protoQual  // kHost, kNet: none, ip, ip6; kPort, kPortRange: none, tcp, udp
	dir    dirQual    // kHost, kNet, kPort, kPortRange
	addr   netip.Addr // kHost, kNet
	mask   netip.Addr // kNet: same family as addr
	lo, hi uint16     // kPort (lo == hi), kPortRange
	vlanID int        // kVLAN: -1 for any
	// depth counts the vlan primitives before this one in the text: as in
	// tcpdump, each moves the offsets of everything after it by 4 bytes.
	depth int
	pos   int
}

// Expr is a parsed capture filter.
type Expr struct {
	text  string
	root  node // nil: matches everything
	canon string
	vlans int // vlan primitives in the expression
}

// Parse checks the syntax of a tcpdump-style capture filter and that it
// stays within the supported subset (see the package documentation). The
// empty expression, or one of only white space, matches every packet.
// Errors are *SyntaxError or *UnsupportedError.
func Parse(expr string) (*Expr, error) {
	if len(expr) > MaxExprLen {
		return nil, &UnsupportedError{Expr: expr, Pos: MaxExprLen, Msg: fmt.Sprintf("expression longer than %d bytes", MaxExprLen)}
	}
	p := &parser{src: expr, toks: lex(expr)}
	if p.tok().kind == tEOF {
		return &Expr{text: expr}, nil
	}
	n, err := p.parseExpr(0)
	if err != nil {
		return nil, err
	}
	if t := p.tok(); t.kind != tEOF {
		return nil, p.unexpected(t, `expected "and", "or" or the end of the expression`)
	}
	var b strings.Builder
	n.write(&b)
	return &Expr{text: expr, root: n, canon: b.String(), vlans: p.vlans}, nil
}

// String returns the expression in canonical form: every primitive fully
// qualified ("host a or b" becomes "host a or host b"), "&&", "||" and "!"
// spelled out, and parentheses wherever "and" and "or" mix. Parsing the
// result gives the same filter. The empty expression gives "".
func (e *Expr) String() string {
	if e == nil {
		return ""
	}
	return e.canon
}

// Empty reports whether the expression matches every packet, so that a
// caller can skip filtering altogether. A nil *Expr is empty.
func (e *Expr) Empty() bool { return e == nil || e.root == nil }

type parser struct {
	src   string
	toks  []token
	i     int
	vlans int
}

func (p *parser) tok() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) prev() token {
	if p.i == 0 {
		return token{}
	}
	return p.toks[p.i-1]
}

func (p *parser) syntax(t token, msg, hint string) error {
	return &SyntaxError{Expr: p.src, Pos: t.pos, Token: t.text, Msg: msg, Hint: hint}
}

func (p *parser) unsupported(t token, msg, hint string) error {
	return &UnsupportedError{Expr: p.src, Pos: t.pos, Token: t.text, Msg: msg, Hint: hint}
}

// parseExpr parses terms joined by and/or. As in pcap-filter, "and" and
// "or" have equal precedence and group from the left. A bare value after
// and/or repeats the qualifier of the term before it.
func (p *parser) parseExpr(nest int) (node, error) {
	n, q, err := p.parseTerm(qual{}, nest)
	if err != nil {
		return nil, err
	}
	for {
		op := p.tok()
		if op.kind != tAnd && op.kind != tOr {
			return n, nil
		}
		p.next()
		var r node
		if p.valueAhead() {
			r, err = p.parseID(q, nest)
		} else {
			r, q, err = p.parseTerm(q, nest)
		}
		if err != nil {
			return nil, err
		}
		n = &binOp{and: op.kind == tAnd, l: n, r: r}
	}
}

// valueAhead reports whether the next operand is a bare value, possibly
// negated or parenthesized: "port 80 or not (81 or 82)".
func (p *parser) valueAhead() bool {
	j := p.i
	for p.toks[j].kind == tNot || p.toks[j].kind == tLParen {
		j++
	}
	t := p.toks[j]
	return t.kind == tWord && !isKeyword(t.text)
}

// parseTerm parses a primitive, a negated term or a parenthesized
// expression. before is the qualifier in force before it; the result is
// the one in force after it: a parenthesized expression leaves the
// qualifier as it was, as in libpcap.
func (p *parser) parseTerm(before qual, nest int) (node, qual, error) {
	if nest > maxNesting {
		return nil, qual{}, p.unsupported(p.tok(), fmt.Sprintf("expression nested more than %d levels", maxNesting), "")
	}
	t := p.tok()
	switch t.kind {
	case tNot:
		p.next()
		x, q, err := p.parseTerm(before, nest+1)
		if err != nil {
			return nil, qual{}, err
		}
		return &negation{x}, q, nil
	case tLParen:
		p.next()
		if p.tok().kind == tRParen {
			return nil, qual{}, p.syntax(token{text: "()", pos: t.pos}, "empty parentheses", "")
		}
		x, err := p.parseExpr(nest + 1)
		if err != nil {
			return nil, qual{}, err
		}
		if err := p.closeParen(t); err != nil {
			return nil, qual{}, err
		}
		return x, before, nil
	case tWord:
		switch {
		case isKeyword(t.text):
			return p.parsePrimitive()
		case isLetter(t.text[0]) && !strings.Contains(t.text, ":"):
			// Not an address: an unknown keyword ("HOST", "icmp6x").
			return nil, qual{}, p.unsupported(t, "unsupported primitive", supportedHint)
		}
		return nil, qual{}, p.syntax(t, "value without a qualifier", "write host, net, port or portrange before it")
	}
	return nil, qual{}, p.unexpected(t, "expected a primitive")
}

func (p *parser) closeParen(open token) error {
	switch t := p.tok(); t.kind {
	case tRParen:
		p.next()
		return nil
	case tEOF:
		return p.syntax(open, "unbalanced parenthesis", `no ")" closes it`)
	default:
		return p.unexpected(t, `expected ")"`)
	}
}

// unexpected builds the error for token t where something else was
// expected, naming operators and keywords outside the subset as such.
func (p *parser) unexpected(t token, expected string) error {
	switch t.kind {
	case tEOF:
		return p.syntax(p.prev(), "expression ends after", expected)
	case tRParen:
		return p.syntax(t, "unbalanced parenthesis", `no "(" before it`)
	case tAnd, tOr:
		return p.syntax(t, "missing operand before", "")
	case tSymbol, tSlash:
		return p.unsupportedSymbol(t)
	case tWord:
		if pcapKeywords[t.text] {
			return p.unsupported(t, "unsupported primitive", supportedHint)
		}
	}
	return p.syntax(t, "unexpected", expected)
}

const arithHint = "byte-offset expressions, arithmetic and comparisons are outside the subset; compile them with tcpdump -ddd"

func (p *parser) unsupportedSymbol(t token) error {
	if pr := p.prev(); t.text == "[" && pr.kind == tWord && pr.pos+len(pr.text) == t.pos {
		// Name the whole accessor, "tcp[13]", as the user wrote it.
		end := strings.IndexByte(p.src[t.pos:], ']')
		text := p.src[pr.pos:]
		if end >= 0 {
			text = p.src[pr.pos : t.pos+end+1]
		}
		return p.unsupported(token{text: text, pos: pr.pos}, "unsupported packet-data accessor", arithHint)
	}
	return p.unsupported(t, "unsupported operator", arithHint)
}

// parsePrimitive parses [proto] [dir] [addr] value, a bare proto (tcp,
// udp, ip, ip6), or vlan [ID].
func (p *parser) parsePrimitive() (node, qual, error) {
	start := p.tok()
	if start.text == "vlan" {
		p.next()
		pr := &prim{kind: kVLAN, vlanID: -1, depth: p.vlans, pos: start.pos}
		p.vlans++
		if t := p.tok(); t.kind == tWord && !isKeyword(t.text) {
			p.next()
			id, err := p.number(t, 4095, "VLAN ID")
			if err != nil {
				return nil, qual{}, err
			}
			pr.vlanID = int(id)
		}
		return pr, qual{}, nil
	}
	q := qual{ok: true}
	proto, hasProto := protoWords[start.text]
	if hasProto {
		q.proto = proto
		p.next()
	}
	hasDir, hasAddr := false, false
	if t := p.tok(); t.kind == tWord {
		if d, ok := dirWords[t.text]; ok {
			p.next()
			q.dir, hasDir = d, true
			// "src or dst" and "src and dst" are one qualifier.
			if op := p.tok(); op.kind == tAnd || op.kind == tOr {
				// and/or is never the last token, so i+1 is in range.
				d2 := p.toks[p.i+1]
				if other, ok := dirWords[d2.text]; ok && d2.kind == tWord {
					if other == d {
						return nil, qual{}, p.syntax(d2, "repeated direction", `write "src or dst" or "src and dst"`)
					}
					p.next()
					p.next()
					q.dir = dirAny
					if op.kind == tAnd {
						q.dir = dirBoth
					}
				}
			}
		}
	}
	if t := p.tok(); t.kind == tWord {
		if a, ok := addrWords[t.text]; ok {
			p.next()
			q.addr, hasAddr = a, true
		}
	}
	if !hasDir && !hasAddr {
		if !hasProto {
			return nil, qual{}, p.unexpectedPrimitive(start)
		}
		if t := p.tok(); t.kind == tWord && pcapKeywords[t.text] {
			return nil, qual{}, p.unsupported(t, "unsupported qualifier", fmt.Sprintf("%q takes host, net, port or portrange", start.text))
		}
		kind := [...]primKind{protoIP: kIP, protoIP6: kIP6, protoTCP: kTCP, protoUDP: kUDP}[proto]
		return &prim{kind: kind, depth: p.vlans, pos: start.pos}, qual{}, nil
	}
	t := p.tok()
	if t.kind == tWord && pcapKeywords[t.text] {
		return nil, qual{}, p.unsupported(t, "unsupported qualifier", supportedHint)
	}
	if !p.valueAhead() && t.kind != tLParen {
		return nil, qual{}, p.unexpected(t, "expected an address or a port number")
	}
	n, err := p.parseID(q, 0)
	return n, q, err
}

func (p *parser) unexpectedPrimitive(t token) error {
	if pcapKeywords[t.text] {
		return p.unsupported(t, "unsupported primitive", supportedHint)
	}
	// A supported keyword out of place: "mask", or "host" after "vlan".
	return p.syntax(t, "unexpected", "expected a primitive")
}

// parseID parses a value with qualifier q, or values joined by and/or in
// parentheses, each possibly negated: "host (a or not b)".
func (p *parser) parseID(q qual, nest int) (node, error) {
	if nest > maxNesting {
		return nil, p.unsupported(p.tok(), fmt.Sprintf("expression nested more than %d levels", maxNesting), "")
	}
	t := p.tok()
	switch t.kind {
	case tNot:
		p.next()
		x, err := p.parseID(q, nest+1)
		if err != nil {
			return nil, err
		}
		return &negation{x}, nil
	case tLParen:
		p.next()
		if p.tok().kind == tRParen {
			return nil, p.syntax(token{text: "()", pos: t.pos}, "empty parentheses", "")
		}
		x, err := p.parseID(q, nest+1)
		if err != nil {
			return nil, err
		}
		for op := p.tok(); op.kind == tAnd || op.kind == tOr; op = p.tok() {
			p.next()
			y, err := p.parseID(q, nest+1)
			if err != nil {
				return nil, err
			}
			x = &binOp{and: op.kind == tAnd, l: x, r: y}
		}
		if err := p.closeParen(t); err != nil {
			return nil, err
		}
		return x, nil
	case tWord:
		if !isKeyword(t.text) {
			p.next()
			return p.value(q, t)
		}
	}
	return nil, p.unexpected(t, "expected a value: in a parenthesized list after a qualifier only values may follow and/or")
}

// value builds the primitive for value token t under qualifier q.
func (p *parser) value(q qual, t token) (node, error) {
	if !q.ok {
		return nil, p.syntax(t, "value without a qualifier", "write host, net, port or portrange before it; a bare value repeats the qualifier of the primitive before it, which takes none")
	}
	pr := &prim{proto: q.proto, dir: q.dir, depth: p.vlans, pos: t.pos}
	switch q.addr {
	case addrDefault, addrHost:
		if n := p.tok(); n.kind == tSlash || n.text == "mask" {
			return nil, p.syntax(n, "mask syntax is for networks only", `use "net"`)
		}
		if q.addr == addrDefault && strings.Trim(t.text, "0123456789") == "" {
			return nil, p.syntax(t, "number without host, net, port or portrange", "")
		}
		a, err := p.hostAddr(t)
		if err != nil {
			return nil, err
		}
		if err := p.checkIPProto(q.proto, a, t); err != nil {
			return nil, err
		}
		pr.kind, pr.addr = kHost, a
	case addrNet:
		if err := p.network(pr, t); err != nil {
			return nil, err
		}
		if err := p.checkIPProto(q.proto, pr.addr, t); err != nil {
			return nil, err
		}
	case addrPort, addrPortRange:
		if q.proto == protoIP || q.proto == protoIP6 {
			return nil, p.syntax(t, fmt.Sprintf("%q cannot qualify a port", q.proto.String()), "use tcp, udp or nothing")
		}
		if q.addr == addrPort {
			if strings.Contains(t.text, "-") {
				return nil, p.syntax(t, "port range after port", "use portrange LOW-HIGH")
			}
			n, err := p.number(t, 65535, "port")
			if err != nil {
				return nil, err
			}
			pr.kind, pr.lo, pr.hi = kPort, uint16(n), uint16(n)
			break
		}
		lo, hi, ok := strings.Cut(t.text, "-")
		if !ok {
			return nil, p.syntax(t, "not a port range", "write LOW-HIGH, e.g. 440-450")
		}
		a, err := p.number(token{text: lo, pos: t.pos}, 65535, "port")
		if err != nil {
			return nil, err
		}
		b, err := p.number(token{text: hi, pos: t.pos + len(lo) + 1}, 65535, "port")
		if err != nil {
			return nil, err
		}
		if a > b {
			a, b = b, a // as libpcap does
		}
		pr.kind, pr.lo, pr.hi = kPortRange, uint16(a), uint16(b)
	}
	return pr, nil
}

// number parses a decimal number up to max. libpcap also reads octal
// (leading 0), hex and, for ports, service names: those are refused
// rather than read differently.
func (p *parser) number(t token, max uint64, what string) (uint64, error) {
	s := t.text
	digits := s != "" && strings.Trim(s, "0123456789") == ""
	switch {
	case digits && len(s) > 1 && s[0] == '0':
		return 0, p.unsupported(t, what+" with a leading zero", "tcpdump reads it as octal; write it in decimal")
	case digits:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n > max {
			return 0, p.syntax(t, what+" out of range", fmt.Sprintf("0 to %d", max))
		}
		return n, nil
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		return 0, p.unsupported(t, "hexadecimal "+what, "write it in decimal")
	case what == "port" && s != "" && isLetter(s[0]):
		return 0, p.unsupported(t, "port names are not resolved:", "give the port number, e.g. 443 for https")
	}
	return 0, p.syntax(t, "invalid "+what, "a decimal number is expected")
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func (p *parser) hostAddr(t token) (netip.Addr, error) {
	a, err := netip.ParseAddr(t.text)
	if err == nil && a.Zone() == "" {
		return a, nil
	}
	s := t.text
	switch {
	case strings.Contains(s, ":"):
		return netip.Addr{}, p.syntax(t, "invalid IPv6 address", "")
	case isLetter(s[0]):
		return netip.Addr{}, p.unsupported(t, "host names are not resolved:", "give an IPv4 or IPv6 address")
	}
	if _, n, ok := parseDotted(s); ok && n < 4 {
		return netip.Addr{}, p.unsupported(t, "abbreviated IPv4 address", "write all four parts")
	}
	return netip.Addr{}, p.syntax(t, "invalid IPv4 address", "")
}

// parseDotted parses 1 to 4 dot-separated decimal bytes, as libpcap reads
// abbreviated networks ("10", "172.16"), into the high bytes of v.
func parseDotted(s string) (v uint32, parts int, ok bool) {
	for _, f := range strings.Split(s, ".") {
		if parts == 4 || f == "" || strings.Trim(f, "0123456789") != "" || len(f) > 1 && f[0] == '0' {
			return 0, 0, false
		}
		n, err := strconv.ParseUint(f, 10, 8)
		if err != nil {
			return 0, 0, false
		}
		v |= uint32(n) << (24 - 8*parts)
		parts++
	}
	return v, parts, true
}

// network parses "N", "N/len" and "N mask M" after net.
func (p *parser) network(pr *prim, t token) error {
	pr.kind = kNet
	s := t.text
	var bits int
	switch {
	case strings.Contains(s, ":"):
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return p.syntax(t, "invalid IPv6 network", "")
		}
		pr.addr, bits = a, 128
	default:
		v, parts, ok := parseDotted(s)
		if !ok {
			if isLetter(s[0]) {
				return p.unsupported(t, "network names are not resolved:", "give an address, e.g. 10.0.0.0/8")
			}
			return p.syntax(t, "invalid IPv4 network", "")
		}
		pr.addr, bits = addr4(v), 8*parts
	}
	last := t
	switch n := p.tok(); {
	case n.kind == tSlash:
		p.next()
		lt := p.next()
		if lt.kind != tWord {
			return p.unexpected(lt, "expected a prefix length")
		}
		l, err := p.number(lt, uint64(pr.addr.BitLen()), "prefix length")
		if err != nil {
			return err
		}
		bits, last = int(l), lt
	case n.kind == tWord && n.text == "mask":
		p.next()
		mt := p.next()
		if mt.kind != tWord {
			return p.unexpected(mt, "expected a netmask")
		}
		if pr.addr.Is6() {
			return p.unsupported(n, "mask syntax for IPv6", "use net ADDR/LEN")
		}
		m, _, ok := parseDotted(mt.text)
		if !ok {
			return p.syntax(mt, "invalid netmask", "e.g. 255.255.0.0")
		}
		pr.mask, last = addr4(m), mt
	}
	if !pr.mask.IsValid() {
		pr.mask = prefixMask(pr.addr.BitLen(), bits)
	}
	a, m := pr.addr.As16(), pr.mask.As16()
	for i := range a {
		if a[i]&^m[i] != 0 {
			return p.syntax(token{text: p.src[t.pos : last.pos+len(last.text)], pos: t.pos}, "non-network bits set in", "")
		}
	}
	return nil
}

func addr4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// prefixMask returns the mask of a /bits prefix in an address of size
// total bits (32 or 128).
func prefixMask(total, bits int) netip.Addr {
	var m [16]byte
	for i := 0; i < bits; i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	if total == 32 {
		return netip.AddrFrom4([4]byte(m[:4]))
	}
	return netip.AddrFrom16(m)
}

// maskBits returns the prefix length of a contiguous mask, or -1.
func maskBits(m netip.Addr) int {
	b := m.AsSlice()
	n := 0
	for n < 8*len(b) && b[n/8]&(0x80>>(n%8)) != 0 {
		n++
	}
	if prefixMask(8*len(b), n) != m {
		return -1
	}
	return n
}

func (p *parser) checkIPProto(proto protoQual, a netip.Addr, t token) error {
	switch {
	case proto == protoTCP || proto == protoUDP:
		return p.syntax(t, fmt.Sprintf("%q cannot qualify an address", proto.String()), `write e.g. "tcp and host ADDR"`)
	case proto == protoIP && a.Is6():
		return p.syntax(t, `"ip" qualifier on an IPv6 address`, `use "ip6"`)
	case proto == protoIP6 && a.Is4():
		return p.syntax(t, `"ip6" qualifier on an IPv4 address`, `use "ip"`)
	}
	return nil
}

func (b *binOp) write(w *strings.Builder) {
	// Equal precedence, grouping from the left: a left operand never
	// needs parentheses and a right one always does; they are added on
	// the left too when and/or mix, for the reader.
	l, ok := b.l.(*binOp)
	writeGrouped(w, b.l, ok && l.and != b.and)
	if b.and {
		w.WriteString(" and ")
	} else {
		w.WriteString(" or ")
	}
	_, ok = b.r.(*binOp)
	writeGrouped(w, b.r, ok)
}

func (n *negation) write(w *strings.Builder) {
	w.WriteString("not ")
	_, ok := n.x.(*binOp)
	writeGrouped(w, n.x, ok)
}

// writeGrouped writes x, in parentheses when paren is set.
func writeGrouped(w *strings.Builder, x node, paren bool) {
	if paren {
		w.WriteByte('(')
	}
	x.write(w)
	if paren {
		w.WriteByte(')')
	}
}

func (pr *prim) write(w *strings.Builder) {
	switch pr.kind {
	case kIP, kIP6, kTCP, kUDP:
		w.WriteString([...]string{kIP: "ip", kIP6: "ip6", kTCP: "tcp", kUDP: "udp"}[pr.kind])
		return
	case kVLAN:
		w.WriteString("vlan")
		if pr.vlanID >= 0 {
			fmt.Fprintf(w, " %d", pr.vlanID)
		}
		return
	}
	if pr.proto != protoNone {
		w.WriteString(pr.proto.String() + " ")
	}
	w.WriteString([...]string{dirAny: "", dirSrc: "src ", dirDst: "dst ", dirBoth: "src and dst "}[pr.dir])
	switch pr.kind {
	case kHost:
		fmt.Fprintf(w, "host %s", pr.addr)
	case kNet:
		if bits := maskBits(pr.mask); bits >= 0 {
			fmt.Fprintf(w, "net %s/%d", pr.addr, bits)
		} else {
			fmt.Fprintf(w, "net %s mask %s", pr.addr, pr.mask)
		}
	case kPort:
		fmt.Fprintf(w, "port %d", pr.lo)
	case kPortRange:
		fmt.Fprintf(w, "portrange %d-%d", pr.lo, pr.hi)
	}
}
