package capfilter

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// Matcher applies a filter to packets in user space (bpf.VM), for packets
// read from files. It is not safe for concurrent use.
type Matcher struct {
	expr  *Expr
	all   bool    // the empty expression
	fixed *bpf.VM // a program given as such, run on every link type
	byLT  map[layers.LinkType]*compiled
	// last is the entry of lastLT: files rarely change link type.
	lastLT layers.LinkType
	last   *compiled
}

type compiled struct {
	vm  *bpf.VM
	err error
}

// NewMatcher returns a Matcher for e. It compiles e for each link type
// when it first sees it: a pcapng file can hold interfaces of different
// link types.
func NewMatcher(e *Expr) *Matcher {
	return &Matcher{expr: e, all: e.Empty(), byLT: map[layers.LinkType]*compiled{}}
}

// NewProgramMatcher returns a Matcher that runs prog, e.g. from ParseDDD,
// on every packet whatever its link type: the program must have been
// compiled for the link type of the packets it is given (tcpdump -y TYPE
// -ddd, or -r FILE -ddd). Programs that read Linux ancillary data (SKF_AD_*,
// as tcpdump -i IFACE -ddd may produce) or use instructions that bpf.VM
// does not implement are refused. The "len" of such a program is the
// captured length, not the length on the wire.
func NewProgramMatcher(prog []bpf.RawInstruction) (*Matcher, error) {
	if i, msg := checkProgram(prog); msg != "" {
		return nil, fmt.Errorf("capfilter: BPF program instruction %d: %s", i, msg)
	}
	insts, _ := bpf.Disassemble(prog)
	for i, in := range insts {
		if prog[i].Op == clsLDX|0x80 {
			// bpf.RawInstruction.Disassemble loses the X destination.
			return nil, fmt.Errorf("capfilter: BPF program instruction %d: \"ldx len\" is not supported in user space", i)
		}
		switch in := in.(type) {
		case bpf.RawInstruction:
			return nil, fmt.Errorf("capfilter: BPF program instruction %d: opcode %#x is not supported in user space", i, in.Op)
		case bpf.NegateA:
			return nil, fmt.Errorf("capfilter: BPF program instruction %d: \"neg\" is not supported in user space", i)
		case bpf.LoadExtension:
			if in.Num != bpf.ExtLen {
				return nil, fmt.Errorf("capfilter: BPF program instruction %d reads Linux ancillary data (SKF_AD_OFF+%d), which only a live socket has: compile the filter for the file's link type (tcpdump -y TYPE -ddd, without -i)", i, in.Num)
			}
		case bpf.LoadAbsolute:
			if in.Off >= 1<<31 {
				return nil, fmt.Errorf("capfilter: BPF program instruction %d loads from a negative offset (a Linux socket-filter extension)", i)
			}
		}
	}
	vm, err := bpf.NewVM(insts)
	if err != nil {
		return nil, fmt.Errorf("capfilter: BPF program: %w", err)
	}
	return &Matcher{fixed: vm}, nil
}

// Prepare compiles the filter for link type lt if it was not yet, and
// returns the error that makes Match reject every packet of that type,
// e.g. for an unsupported link type or a vlan test on a link type without
// VLAN tags.
func (m *Matcher) Prepare(lt layers.LinkType) error {
	if m.all || m.fixed != nil {
		return nil
	}
	return m.get(lt).err
}

// Match reports whether the filter accepts a packet of link type lt
// whose captured bytes are data. A packet of a link type the filter
// cannot be compiled for is not accepted (see Prepare).
func (m *Matcher) Match(lt layers.LinkType, data []byte) bool {
	switch {
	case m.all:
		return true
	case m.fixed != nil:
		return run(m.fixed, data)
	}
	c := m.get(lt)
	return c.err == nil && run(c.vm, data)
}

func (m *Matcher) get(lt layers.LinkType) *compiled {
	if m.last != nil && m.lastLT == lt {
		return m.last
	}
	c, ok := m.byLT[lt]
	if !ok {
		c = &compiled{}
		var prog []bpf.Instruction
		if prog, c.err = m.expr.Compile(Target{LinkType: lt}); c.err == nil {
			c.vm, c.err = bpf.NewVM(prog)
		}
		m.byLT[lt] = c
	}
	m.lastLT, m.last = lt, c
	return c
}

func run(vm *bpf.VM, data []byte) bool {
	n, err := vm.Run(data)
	return err == nil && n > 0
}
