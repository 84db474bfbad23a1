package capfilter

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// maxDDDLine bounds a line of tcpdump -ddd output ("code jt jf k" is at
// most 26 bytes) so that garbage input fails fast.
const maxDDDLine = 1024

// ParseDDD reads a classic BPF program in the format tcpdump -ddd prints:
// a line with the number of instructions, then one line per instruction
// with four decimal numbers, "code jt jf k". Blank lines are ignored. The
// program must pass the checks the Linux kernel applies when a filter is
// attached (known opcodes, at most MaxInstructions, jumps inside the
// program, a return at the end, no division by a zero constant, scratch
// memory written before it is read); errors give the line number.
func ParseDDD(r io.Reader) ([]bpf.RawInstruction, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64), maxDDDLine)
	var (
		prog      []bpf.RawInstruction
		lines     []int // line of each instruction
		count     = -1
		countLine int
		line      int
	)
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if count < 0 {
			if len(f) != 1 {
				return nil, dddError(line, "the first line must be the number of instructions, got %q", sc.Text())
			}
			n, err := strconv.ParseUint(f[0], 10, 32)
			switch {
			case err != nil:
				return nil, dddError(line, "instruction count %q is not a number", f[0])
			case n == 0:
				return nil, dddError(line, "instruction count is 0: a program needs at least a return")
			case n > MaxInstructions:
				return nil, dddError(line, "%d instructions, more than the kernel's limit of %d", n, MaxInstructions)
			}
			count, countLine = int(n), line
			continue
		}
		if len(prog) == count {
			return nil, dddError(line, "more instructions than the %d given on line %d", count, countLine)
		}
		if len(f) != 4 {
			return nil, dddError(line, "want 4 numbers (code jt jf k), got %d fields", len(f))
		}
		var v [4]uint64
		for i, bits := range [4]int{16, 8, 8, 32} {
			n, err := strconv.ParseUint(f[i], 10, bits)
			if err != nil {
				name := [4]string{"code", "jt", "jf", "k"}[i]
				return nil, dddError(line, "%s %q is not a number from 0 to %d", name, f[i], uint64(1)<<bits-1)
			}
			v[i] = n
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, dddError(line+1, "longer than %d bytes", maxDDDLine)
		}
		return nil, fmt.Errorf("capfilter: reading BPF program: %w", err)
	}
	switch {
	case count < 0:
		return nil, errors.New("capfilter: BPF program: empty input (expected tcpdump -ddd output)")
	case len(prog) < count:
		return nil, dddError(countLine, "says %d instructions, but %d follow", count, len(prog))
	}
	if i, msg := checkProgram(prog); msg != "" {
		return nil, dddError(lines[i], "%s", msg)
	}
	return prog, nil
}

func dddError(line int, format string, args ...any) error {
	return fmt.Errorf("capfilter: BPF program line %d: %s", line, fmt.Sprintf(format, args...))
}

// Classic BPF opcode parts (linux/filter.h).
const (
	clsLD, clsLDX, clsST, clsSTX, clsALU, clsJMP, clsRET, clsMISC = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07

	modeMEM  = 0x60
	aluDIV   = 0x30
	aluMOD   = 0x90
	jmpJA    = 0x00
	srcK     = 0x00
	skfADOff = 0xfffff000 // SKF_AD_OFF, -0x1000
	// skfADMax is the last ancillary load the kernel knows
	// (SKF_AD_VLAN_TPID).
	skfADMax = 60
	memWords = 16
)

// validOps are the opcodes the kernel accepts (net/core/filter.c).
var validOps = func() map[uint16]bool {
	m := map[uint16]bool{}
	for _, op := range []uint16{0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0} {
		m[clsALU|op], m[clsALU|op|0x08] = true, true
	}
	m[clsALU|0x80] = true // neg
	for _, op := range []uint16{
		0x00, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x60, 0x80, // ld imm, abs w/h/b, ind w/h/b, mem, len
		0x01, 0x61, 0x81, 0xb1, // ldx imm, mem, len, msh
		clsST, clsSTX, clsRET, clsRET | 0x10, clsMISC, clsMISC | 0x80, // st, stx, ret k, ret a, tax, txa
		0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d, // ja, jeq, jgt, jge, jset (k and x)
	} {
		m[op] = true
	}
	return m
}()

// checkProgram applies the kernel's bpf_check_classic and
// check_load_and_stores; it returns the index of the first bad
// instruction and what is wrong, or "".
func checkProgram(prog []bpf.RawInstruction) (int, string) {
	n := len(prog)
	switch {
	case n == 0:
		return 0, "empty program"
	case n > MaxInstructions:
		return MaxInstructions, fmt.Sprintf("%d instructions, more than the kernel's limit of %d", n, MaxInstructions)
	}
	for i, in := range prog {
		cls := in.Op & 0x07
		switch {
		case !validOps[in.Op]:
			return i, fmt.Sprintf("unknown opcode %#x", in.Op)
		case cls == clsALU && in.Op&0x08 == srcK && (in.Op&0xf0 == aluDIV || in.Op&0xf0 == aluMOD) && in.K == 0:
			return i, "division by zero"
		case (in.Op == clsLD|modeMEM || in.Op == clsLDX|modeMEM || cls == clsST || cls == clsSTX) && in.K >= memWords:
			return i, fmt.Sprintf("scratch memory slot %d out of range (0 to %d)", in.K, memWords-1)
		case cls == clsLD && in.Op&0xe0 == 0x20 && in.K >= skfADOff && in.K-skfADOff > skfADMax:
			return i, fmt.Sprintf("unknown ancillary load %#x", in.K)
		case cls == clsJMP && in.Op&0xf0 == jmpJA:
			if uint64(in.K) >= uint64(n-i-1) {
				return i, fmt.Sprintf("jump by %d goes past the end of the program", in.K)
			}
		case cls == clsJMP:
			if i+1+int(in.Jt) >= n || i+1+int(in.Jf) >= n {
				return i, fmt.Sprintf("conditional jump (jt %d, jf %d) goes past the end of the program", in.Jt, in.Jf)
			}
		}
	}
	if cls := prog[n-1].Op & 0x07; cls != clsRET {
		return n - 1, "the last instruction must be a return"
	}
	// Scratch memory must be written on every path before it is read;
	// jumps only go forward, so one pass settles it.
	masks := make([]uint16, n)
	for i := range masks {
		masks[i] = 0xffff
	}
	var valid uint16
	for i, in := range prog {
		valid &= masks[i]
		switch {
		case in.Op == clsST || in.Op == clsSTX:
			valid |= 1 << in.K
		case in.Op == clsLD|modeMEM || in.Op == clsLDX|modeMEM:
			if valid&(1<<in.K) == 0 {
				return i, fmt.Sprintf("reads scratch memory slot %d before it is written", in.K)
			}
		case in.Op == clsJMP|jmpJA:
			masks[i+1+int(in.K)] &= valid
			valid = 0xffff
		case in.Op&0x07 == clsJMP:
			masks[i+1+int(in.Jt)] &= valid
			masks[i+1+int(in.Jf)] &= valid
			valid = 0xffff
		}
	}
	return -1, ""
}
