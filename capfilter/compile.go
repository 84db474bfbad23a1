package capfilter

import (
	"errors"
	"fmt"
	"math"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

const (
	// DefaultSnaplen is what an accepting program returns when
	// Target.Snaplen is 0: libpcap's default, "the whole packet".
	DefaultSnaplen = 262144
	// MaxInstructions is the kernel's limit on a classic BPF program
	// (BPF_MAXINSNS).
	MaxInstructions = 4096
)

// Target says what a program is compiled for.
type Target struct {
	// LinkType is the link-layer header type the packet data starts
	// with: Ethernet, Linux SLL or SLL2, raw IP (101, 12, 14, 228, 229)
	// or BSD loopback (Null, Loop). It is not consulted when Cooked.
	LinkType layers.LinkType
	// Live compiles for a Linux socket filter: on Ethernet, vlan tests
	// read the tag that the kernel has taken out of the frame through the
	// ancillary loads SKF_AD_VLAN_TAG_PRESENT and SKF_AD_VLAN_TAG, and
	// fall back to an inline tag when there is none, as libpcap does.
	// Such programs cannot run in bpf.VM.
	Live bool
	// Cooked (Live only) is an AF_PACKET SOCK_DGRAM socket, as for Linux
	// "any": the data starts at the network header and the EtherType is
	// read with the ancillary load SKF_AD_PROTOCOL.
	Cooked bool
	// Snaplen is what the program returns for an accepted packet, the
	// number of bytes to keep; 0 means DefaultSnaplen.
	Snaplen int
}

type linkKind uint8

const (
	linkEther  linkKind = iota // EtherType at typeOff, inline 802.1Q tags
	linkTyped                  // EtherType at typeOff (SLL, SLL2)
	linkCooked                 // EtherType from SKF_AD_PROTOCOL
	linkRaw                    // IPv4 or IPv6 by the version nibble
	linkIPv4                   // IPv4 only
	linkIPv6                   // IPv6 only
	linkNull                   // 4-byte address family in the capturing host's byte order
	linkLoop                   // 4-byte address family in network byte order
)

type link struct {
	kind    linkKind
	typeOff uint32 // linkEther, linkTyped: offset of the EtherType
	netOff  uint32 // offset of the network header
	name    string
}

func linkFor(t Target) (link, bool) {
	if t.Cooked {
		return link{kind: linkCooked, name: "cooked (Linux any)"}, true
	}
	name := fmt.Sprintf("%s (%d)", t.LinkType, uint16(t.LinkType))
	switch t.LinkType {
	case layers.LinkTypeEthernet:
		return link{linkEther, 12, 14, name}, true
	case layers.LinkTypeLinuxSLL:
		return link{linkTyped, 14, 16, name}, true
	case layers.LinkTypeLinuxSLL2:
		return link{linkTyped, 0, 20, name}, true
	case layers.LinkTypeRaw, 12, 14:
		// 12 and 14 are the DLT_RAW values of some BSDs, found in old files.
		return link{linkRaw, 0, 0, name}, true
	case layers.LinkTypeIPv4:
		return link{linkIPv4, 0, 0, name}, true
	case layers.LinkTypeIPv6:
		return link{linkIPv6, 0, 0, name}, true
	case layers.LinkTypeNull:
		return link{linkNull, 0, 4, name}, true
	case layers.LinkTypeLoop:
		return link{linkLoop, 0, 4, name}, true
	}
	return link{name: name}, false
}

const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd
	etherARP  = 0x0806
	etherRARP = 0x8035

	protoNumTCP  = 6
	protoNumUDP  = 17
	protoNumSCTP = 132
	ip6Fragment  = 44
)

// vlanTPIDs are the tag types tcpdump accepts as "vlan": 802.1Q, 802.1ad
// and the old QinQ value.
var vlanTPIDs = []uint32{0x8100, 0x88a8, 0x9100}

// Compile compiles the expression to a classic BPF program for t. The
// program returns t.Snaplen (DefaultSnaplen if 0) for an accepted packet
// and 0 otherwise; for the empty expression it is the single instruction
// "ret #snaplen". Programs for files (Live false) run in bpf.VM. What the
// expression cannot be compiled to is an *UnsupportedError: a vlan test on
// a link type without VLAN tags, an unsupported link type, a program
// longer than MaxInstructions; a bad Snaplen or Cooked without Live is a
// plain error.
func (e *Expr) Compile(t Target) ([]bpf.Instruction, error) {
	snap := t.Snaplen
	if snap == 0 {
		snap = DefaultSnaplen
	}
	if snap < 0 || snap > math.MaxUint32 {
		return nil, fmt.Errorf("capfilter: snap length %d out of range", t.Snaplen)
	}
	if t.Cooked && !t.Live {
		return nil, errors.New("capfilter: a cooked target is a live socket: set Live too")
	}
	if e.Empty() {
		return []bpf.Instruction{bpf.RetConstant{Val: uint32(snap)}}, nil
	}
	lk, ok := linkFor(t)
	if !ok {
		return nil, &UnsupportedError{Expr: e.text, Pos: -1, Msg: "unsupported link type " + lk.name,
			Hint: "supported: Ethernet, Linux SLL, Linux SLL2, raw IP, BSD loopback (Null, Loop)"}
	}
	c := &compiler{e: e, link: lk}
	var root cond
	var err error
	switch {
	case lk.kind == linkCooked:
		c.vlan = vlanCooked
		root, err = c.build(e.root)
	case lk.kind == linkEther && t.Live && e.vlans > 0:
		// A received frame's outer tag is out of band; a frame sent
		// through a device without VLAN offload keeps it inline. Compile
		// the expression for each case and choose at run time.
		c.vlan = vlanTagged
		var tagged, inline cond
		if tagged, err = c.build(e.root); err == nil {
			c.vlan = vlanInline
			if inline, err = c.build(e.root); err == nil {
				present := test(ext(bpf.ExtVLANTagPresent), opIn, 1)
				root = cIf{present, tagged, inline}
			}
		}
	case lk.kind == linkEther:
		c.vlan = vlanInline
		root, err = c.build(e.root)
	default:
		c.vlan = vlanNone
		root, err = c.build(e.root)
	}
	if err != nil {
		return nil, err
	}
	prog := emit(root, uint32(snap))
	if len(prog) > MaxInstructions {
		return nil, &UnsupportedError{Expr: e.text, Pos: -1,
			Msg: fmt.Sprintf("expression too complex: %d instructions for link type %s, more than the kernel's limit of %d", len(prog), lk.name, MaxInstructions)}
	}
	return prog, nil
}

// Assemble is Compile followed by bpf.Assemble: the form a socket filter
// (SO_ATTACH_FILTER) takes.
func (e *Expr) Assemble(t Target) ([]bpf.RawInstruction, error) {
	prog, err := e.Compile(t)
	if err != nil {
		return nil, err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("capfilter: %w", err)
	}
	return raw, nil
}

// cond is a boolean over the packet: cConst, cAll, cAny, cNot, cIf or
// *cTest. Primitives compile to conds, conds to code.
type cond interface{}

type (
	cConst bool
	cAll   []cond
	cAny   []cond
	cNot   struct{ x cond }
	cIf    struct{ c, then, els cond }
)

type testOp uint8

const (
	opIn    testOp = iota // A is one of vals
	opRange               // vals[0] <= A <= vals[1]
	opBits                // A & vals[0] != 0
)

// cTest loads a value into A and compares it.
type cTest struct {
	load []bpf.Instruction
	op   testOp
	vals []uint32
}

func test(load []bpf.Instruction, op testOp, vals ...uint32) cond {
	return &cTest{load: load, op: op, vals: vals}
}

func all(cs ...cond) cond {
	var out cAll
	for _, c := range cs {
		switch c := c.(type) {
		case cConst:
			if !c {
				return cConst(false)
			}
		case cAll:
			out = append(out, c...)
		default:
			out = append(out, c)
		}
	}
	switch len(out) {
	case 0:
		return cConst(true)
	case 1:
		return out[0]
	}
	return out
}

func anyOf(cs ...cond) cond {
	var out cAny
	for _, c := range cs {
		switch c := c.(type) {
		case cConst:
			if c {
				return cConst(true)
			}
		case cAny:
			out = append(out, c...)
		default:
			out = append(out, c)
		}
	}
	switch len(out) {
	case 0:
		return cConst(false)
	case 1:
		return out[0]
	}
	return out
}

func not(c cond) cond {
	switch c := c.(type) {
	case cConst:
		return !c
	case cNot:
		return c.x
	}
	return cNot{c}
}

func ldb(off uint32) []bpf.Instruction {
	return []bpf.Instruction{bpf.LoadAbsolute{Off: off, Size: 1}}
}

func ldh(off uint32) []bpf.Instruction {
	return []bpf.Instruction{bpf.LoadAbsolute{Off: off, Size: 2}}
}

func ld(off uint32) []bpf.Instruction {
	return []bpf.Instruction{bpf.LoadAbsolute{Off: off, Size: 4}}
}

func ext(n bpf.Extension) []bpf.Instruction {
	return []bpf.Instruction{bpf.LoadExtension{Num: n}}
}

func masked(load []bpf.Instruction, mask uint32) []bpf.Instruction {
	return append(load[:len(load):len(load)], bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask})
}

// ldhTransport loads the 16-bit word at off in the IPv4 payload: X is set
// to the header length from the IHL field first.
func ldhTransport(netOff, off uint32) []bpf.Instruction {
	return []bpf.Instruction{bpf.LoadMemShift{Off: netOff}, bpf.LoadIndirect{Off: netOff + off, Size: 2}}
}

type vlanMode uint8

const (
	vlanNone   vlanMode = iota // the link type has no VLAN tags
	vlanInline                 // tags are in the data; each vlan moves offsets by 4
	vlanTagged                 // the outer tag is out of band (live Ethernet)
	vlanCooked                 // the only tag is out of band (live cooked)
)

type compiler struct {
	e    *Expr
	link link
	vlan vlanMode
}

// shift is how far the link-layer payload has moved after depth vlan
// primitives, and so where the tag of a vlan primitive at that depth is.
func (c *compiler) shift(depth int) uint32 {
	switch c.vlan {
	case vlanInline:
		return 4 * uint32(depth)
	case vlanTagged:
		if depth > 0 {
			return 4 * uint32(depth-1)
		}
	}
	return 0
}

func (c *compiler) build(n node) (cond, error) {
	switch n := n.(type) {
	case *binOp:
		l, err := c.build(n.l)
		if err != nil {
			return nil, err
		}
		r, err := c.build(n.r)
		if err != nil {
			return nil, err
		}
		if n.and {
			return all(l, r), nil
		}
		return anyOf(l, r), nil
	case *negation:
		x, err := c.build(n.x)
		if err != nil {
			return nil, err
		}
		return not(x), nil
	case *prim:
		return c.prim(n)
	}
	panic(fmt.Sprintf("capfilter: unknown node %T", n))
}

// etherIs tests the link-layer protocol for one of the EtherTypes, as
// libpcap's gen_linktype does for each link type.
func (c *compiler) etherIs(depth int, types ...uint32) cond {
	switch c.link.kind {
	case linkEther, linkTyped:
		return test(ldh(c.link.typeOff+c.shift(depth)), opIn, types...)
	case linkCooked:
		return test(ext(bpf.ExtProto), opIn, types...)
	}
	var cs []cond
	for _, t := range types {
		switch {
		case c.link.kind == linkRaw && t == etherIPv4:
			cs = append(cs, test(masked(ldb(0), 0xf0), opIn, 0x40))
		case c.link.kind == linkRaw && t == etherIPv6:
			cs = append(cs, test(masked(ldb(0), 0xf0), opIn, 0x60))
		case c.link.kind == linkIPv4 && t == etherIPv4, c.link.kind == linkIPv6 && t == etherIPv6:
			cs = append(cs, cConst(true))
		case c.link.kind == linkNull && t == etherIPv4:
			// AF_INET is 2 everywhere; the byte order is the capturing
			// host's, which the packet does not tell: accept both.
			cs = append(cs, test(ld(0), opIn, 2, 2<<24))
		case c.link.kind == linkNull && t == etherIPv6:
			// AF_INET6 differs: 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30
			// (macOS); libpcap checks all three when reading files.
			cs = append(cs, test(ld(0), opIn, 24, 28, 30, 24<<24, 28<<24, 30<<24))
		case c.link.kind == linkLoop && t == etherIPv4:
			cs = append(cs, test(ld(0), opIn, 2))
		case c.link.kind == linkLoop && t == etherIPv6:
			cs = append(cs, test(ld(0), opIn, 24, 28, 30))
		}
	}
	return anyOf(cs...)
}

func dirCmp(d dirQual, src, dst cond) cond {
	switch d {
	case dirSrc:
		return src
	case dirDst:
		return dst
	case dirBoth:
		return all(src, dst)
	}
	return anyOf(src, dst)
}

// addrCmp compares the address at off, word by word, with a under mask m.
func addrCmp(off uint32, a, m netip.Addr) cond {
	ab, mb := a.AsSlice(), m.AsSlice()
	var cs []cond
	for i := 0; i < len(ab); i += 4 {
		aw := uint32(ab[i])<<24 | uint32(ab[i+1])<<16 | uint32(ab[i+2])<<8 | uint32(ab[i+3])
		mw := uint32(mb[i])<<24 | uint32(mb[i+1])<<16 | uint32(mb[i+2])<<8 | uint32(mb[i+3])
		switch mw {
		case 0:
			// libpcap's optimizer drops such a test, and the load with it.
		case 0xffffffff:
			cs = append(cs, test(ld(off+uint32(i)), opIn, aw))
		default:
			cs = append(cs, test(masked(ld(off+uint32(i)), mw), opIn, aw&mw))
		}
	}
	return all(cs...)
}

func (c *compiler) prim(p *prim) (cond, error) {
	d := p.depth
	nl := c.link.netOff + c.shift(d)
	ip4 := c.etherIs(d, etherIPv4)
	ip6 := c.etherIs(d, etherIPv6)
	switch p.kind {
	case kIP:
		return ip4, nil
	case kIP6:
		return ip6, nil
	case kTCP, kUDP:
		proto := uint32(protoNumTCP)
		if p.kind == kUDP {
			proto = protoNumUDP
		}
		// Like libpcap, look through one IPv6 fragment header here (but
		// not for ports), and not at the IPv4 fragment offset.
		return anyOf(
			all(ip4, test(ldb(nl+9), opIn, proto)),
			all(ip6, anyOf(
				test(ldb(nl+6), opIn, proto),
				all(test(ldb(nl+6), opIn, ip6Fragment), test(ldb(nl+40), opIn, proto))))), nil
	case kHost, kNet:
		m := p.mask
		if p.kind == kHost {
			m = prefixMask(p.addr.BitLen(), p.addr.BitLen())
		}
		if p.addr.Is6() {
			return all(ip6, dirCmp(p.dir, addrCmp(nl+8, p.addr, m), addrCmp(nl+24, p.addr, m))), nil
		}
		ipPart := all(ip4, dirCmp(p.dir, addrCmp(nl+12, p.addr, m), addrCmp(nl+16, p.addr, m)))
		if p.proto == protoIP {
			return ipPart, nil
		}
		// Unqualified, tcpdump also matches the sender and target
		// protocol addresses of ARP and RARP.
		arpPart := all(c.etherIs(d, etherARP, etherRARP), dirCmp(p.dir, addrCmp(nl+14, p.addr, m), addrCmp(nl+24, p.addr, m)))
		return anyOf(ipPart, arpPart), nil
	case kPort, kPortRange:
		protos := []uint32{protoNumSCTP, protoNumTCP, protoNumUDP} // as tcpdump: SCTP too
		switch p.proto {
		case protoTCP:
			protos = []uint32{protoNumTCP}
		case protoUDP:
			protos = []uint32{protoNumUDP}
		}
		port := func(load []bpf.Instruction) cond {
			if p.lo == p.hi {
				return test(load, opIn, uint32(p.lo))
			}
			return test(load, opRange, uint32(p.lo), uint32(p.hi))
		}
		// IPv6: only when the transport header follows the fixed header
		// directly. IPv4: only in the first fragment.
		v6 := all(ip6, test(ldb(nl+6), opIn, protos...), dirCmp(p.dir, port(ldh(nl+40)), port(ldh(nl+42))))
		v4 := all(ip4, test(ldb(nl+9), opIn, protos...), not(test(ldh(nl+6), opBits, 0x1fff)),
			dirCmp(p.dir, port(ldhTransport(nl, 0)), port(ldhTransport(nl, 2))))
		return anyOf(v6, v4), nil
	case kVLAN:
		return c.vlanTest(p)
	}
	panic(fmt.Sprintf("capfilter: unknown primitive kind %d", p.kind))
}

func (c *compiler) vlanTest(p *prim) (cond, error) {
	id := cond(cConst(true))
	switch {
	case c.vlan == vlanNone:
		return nil, &UnsupportedError{Expr: c.e.text, Pos: p.pos, Token: "vlan", Msg: "unsupported on link type " + c.link.name + ":",
			Hint: "tcpdump has no VLAN support there either"}
	case c.vlan == vlanCooked && p.depth > 0:
		return nil, &UnsupportedError{Expr: c.e.text, Pos: p.pos, Token: "vlan", Msg: "unsupported second",
			Hint: "a cooked live capture sees only the outer tag"}
	case c.vlan == vlanCooked || c.vlan == vlanTagged && p.depth == 0:
		if p.vlanID >= 0 {
			id = test(masked(ext(bpf.ExtVLANTag), 0xfff), opIn, uint32(p.vlanID))
		}
		if c.vlan == vlanTagged {
			return id, nil // chosen only when a tag is present
		}
		return all(test(ext(bpf.ExtVLANTagPresent), opIn, 1), id), nil
	}
	off := c.link.typeOff + c.shift(p.depth)
	if p.vlanID >= 0 {
		id = test(masked(ldh(off+2), 0xfff), opIn, uint32(p.vlanID))
	}
	return all(test(ldh(off), opIn, vlanTPIDs...), id), nil
}

// emit generates the code for root: jumps to the end, where "ret #snap"
// and "ret #0" are.
func emit(root cond, snap uint32) []bpf.Instruction {
	if b, ok := root.(cConst); ok {
		if b {
			return []bpf.Instruction{bpf.RetConstant{Val: snap}}
		}
		return []bpf.Instruction{bpf.RetConstant{Val: 0}}
	}
	var e emitter
	accept, reject := e.newLabel(), e.newLabel()
	e.gen(root, accept, reject)
	e.place(accept)
	e.ins(bpf.RetConstant{Val: snap})
	e.place(reject)
	e.ins(bpf.RetConstant{Val: 0})
	return e.resolve()
}

type label int

type itemKind uint8

const (
	iIns   itemKind = iota // ins
	iJump                  // conditional: test val, jt, jf
	iJA                    // unconditional to jt
	iLabel                 // defines jt here
)

type item struct {
	kind   itemKind
	ins    bpf.Instruction
	test   bpf.JumpTest
	val    uint32
	jt, jf label
}

// emitter lays out code with symbolic forward jumps; resolve turns them
// into offsets.
type emitter struct {
	items  []item
	labels int
}

func (e *emitter) newLabel() label {
	e.labels++
	return label(e.labels - 1)
}

func (e *emitter) place(l label) { e.items = append(e.items, item{kind: iLabel, jt: l}) }

func (e *emitter) ins(is ...bpf.Instruction) {
	for _, in := range is {
		e.items = append(e.items, item{kind: iIns, ins: in})
	}
}

func (e *emitter) jump(t bpf.JumpTest, val uint32, jt, jf label) {
	e.items = append(e.items, item{kind: iJump, test: t, val: val, jt: jt, jf: jf})
}

// gen emits code that goes to t if c holds and to f if not. Every label
// it jumps to is placed after the jump, so all jumps go forward.
func (e *emitter) gen(c cond, t, f label) {
	switch c := c.(type) {
	case cConst:
		target := f
		if c {
			target = t
		}
		e.items = append(e.items, item{kind: iJA, jt: target})
	case cAll:
		for i, x := range c {
			if i == len(c)-1 {
				e.gen(x, t, f)
				break
			}
			next := e.newLabel()
			e.gen(x, next, f)
			e.place(next)
		}
	case cAny:
		for i, x := range c {
			if i == len(c)-1 {
				e.gen(x, t, f)
				break
			}
			next := e.newLabel()
			e.gen(x, t, next)
			e.place(next)
		}
	case cNot:
		e.gen(c.x, f, t)
	case cIf:
		then, els := e.newLabel(), e.newLabel()
		e.gen(c.c, then, els)
		e.place(then)
		e.gen(c.then, t, f)
		e.place(els)
		e.gen(c.els, t, f)
	case *cTest:
		e.ins(c.load...)
		switch c.op {
		case opIn:
			for i, v := range c.vals {
				if i == len(c.vals)-1 {
					e.jump(bpf.JumpEqual, v, t, f)
					break
				}
				next := e.newLabel()
				e.jump(bpf.JumpEqual, v, t, next)
				e.place(next)
			}
		case opRange:
			next := e.newLabel()
			e.jump(bpf.JumpGreaterOrEqual, c.vals[0], next, f)
			e.place(next)
			e.jump(bpf.JumpGreaterThan, c.vals[1], f, t)
		case opBits:
			e.jump(bpf.JumpBitsSet, c.vals[0], t, f)
		}
	default:
		panic(fmt.Sprintf("capfilter: unknown cond %T", c))
	}
}

// maxCondJump is the reach of a conditional jump: its offsets are 8 bits.
const maxCondJump = 255

// resolve computes jump offsets. A conditional jump whose target is too
// far goes to an unconditional jump (32-bit offset) placed right after it
// instead; as that moves later code, repeat until every offset fits.
func (e *emitter) resolve() []bpf.Instruction {
	items := e.items
	for {
		pos := e.positions(items)
		var out []item
		changed := false
		n := 0
		for _, it := range items {
			if it.kind == iJump {
				var tramp []item
				if pos[it.jt]-n-1 > maxCondJump {
					l := e.newLabel()
					tramp = append(tramp, item{kind: iLabel, jt: l}, item{kind: iJA, jt: it.jt})
					it.jt = l
				}
				if pos[it.jf]-n-1 > maxCondJump {
					l := e.newLabel()
					tramp = append(tramp, item{kind: iLabel, jt: l}, item{kind: iJA, jt: it.jf})
					it.jf = l
				}
				if tramp != nil {
					changed = true
					out = append(out, it)
					out = append(out, tramp...)
					n++
					continue
				}
			}
			out = append(out, it)
			if it.kind != iLabel {
				n++
			}
		}
		items = out
		if !changed {
			break
		}
	}
	pos := e.positions(items)
	prog := make([]bpf.Instruction, 0, len(items))
	for _, it := range items {
		n := len(prog)
		switch it.kind {
		case iIns:
			prog = append(prog, it.ins)
		case iJump:
			prog = append(prog, bpf.JumpIf{Cond: it.test, Val: it.val,
				SkipTrue: uint8(pos[it.jt] - n - 1), SkipFalse: uint8(pos[it.jf] - n - 1)})
		case iJA:
			prog = append(prog, bpf.Jump{Skip: uint32(pos[it.jt] - n - 1)})
		}
	}
	return prog
}

// positions maps each label to the index of the instruction after it.
func (e *emitter) positions(items []item) []int {
	pos := make([]int, e.labels)
	n := 0
	for _, it := range items {
		if it.kind == iLabel {
			pos[it.jt] = n
		} else {
			n++
		}
	}
	return pos
}
