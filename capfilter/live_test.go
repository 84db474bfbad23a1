package capfilter

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// skb is the out-of-band data a Linux socket filter can read.
type skb struct {
	proto      uint16 // SKF_AD_PROTOCOL: the EtherType after the link header (and a removed tag)
	vlanTagged bool   // SKF_AD_VLAN_TAG_PRESENT
	vlanTCI    uint16 // SKF_AD_VLAN_TAG
}

// runKernel interprets the instructions this package emits, with Linux
// ancillary loads, which bpf.VM does not have. A load past the end
// rejects the packet, as in the kernel.
func runKernel(prog []bpf.Instruction, data []byte, s skb) (bool, error) {
	var a, x uint32
	load := func(off uint32, size int) (uint32, bool) {
		if uint64(off)+uint64(size) > uint64(len(data)) {
			return 0, false
		}
		switch size {
		case 1:
			return uint32(data[off]), true
		case 2:
			return uint32(binary.BigEndian.Uint16(data[off:])), true
		}
		return binary.BigEndian.Uint32(data[off:]), true
	}
	for pc := 0; pc < len(prog); pc++ {
		ok := true
		switch in := prog[pc].(type) {
		case bpf.LoadAbsolute:
			a, ok = load(in.Off, in.Size)
		case bpf.LoadIndirect:
			a, ok = load(in.Off+x, in.Size)
		case bpf.LoadMemShift:
			var b uint32
			b, ok = load(in.Off, 1)
			x = 4 * (b & 0xf)
		case bpf.LoadExtension:
			switch in.Num {
			case bpf.ExtProto:
				a = uint32(s.proto)
			case bpf.ExtVLANTagPresent:
				a = 0
				if s.vlanTagged {
					a = 1
				}
			case bpf.ExtVLANTag:
				a = uint32(s.vlanTCI)
			case bpf.ExtLen:
				a = uint32(len(data))
			default:
				return false, fmt.Errorf("pc %d: extension %d", pc, in.Num)
			}
		case bpf.ALUOpConstant:
			if in.Op != bpf.ALUOpAnd {
				return false, fmt.Errorf("pc %d: %v", pc, in)
			}
			a &= in.Val
		case bpf.JumpIf:
			var c bool
			switch in.Cond {
			case bpf.JumpEqual:
				c = a == in.Val
			case bpf.JumpGreaterOrEqual:
				c = a >= in.Val
			case bpf.JumpGreaterThan:
				c = a > in.Val
			case bpf.JumpBitsSet:
				c = a&in.Val != 0
			default:
				return false, fmt.Errorf("pc %d: %v", pc, in)
			}
			if c {
				pc += int(in.SkipTrue)
			} else {
				pc += int(in.SkipFalse)
			}
		case bpf.Jump:
			pc += int(in.Skip)
		case bpf.RetConstant:
			return in.Val != 0, nil
		default:
			return false, fmt.Errorf("pc %d: unexpected %T", pc, in)
		}
		if !ok {
			return false, nil
		}
	}
	return false, fmt.Errorf("ran off the end")
}

// tagsBeforeFirstVLAN reports whether a primitive other than vlan comes
// before the first vlan: it reads the outer header, which a live socket
// sees without the outer tag, unlike a file.
func tagsBeforeFirstVLAN(n node) bool {
	switch n := n.(type) {
	case *binOp:
		return tagsBeforeFirstVLAN(n.l) || tagsBeforeFirstVLAN(n.r)
	case *negation:
		return tagsBeforeFirstVLAN(n.x)
	case *prim:
		return n.kind != kVLAN && n.depth == 0
	}
	return false
}

// primsAfterVLAN reports whether a primitive other than vlan comes after
// a vlan: in a file its offsets move by 4 bytes even when the packet has
// no tag; on a cooked socket they never move.
func primsAfterVLAN(n node) bool {
	switch n := n.(type) {
	case *binOp:
		return primsAfterVLAN(n.l) || primsAfterVLAN(n.r)
	case *negation:
		return primsAfterVLAN(n.x)
	case *prim:
		return n.kind != kVLAN && n.depth > 0
	}
	return false
}

// TestLiveEquivalence checks the Live and Cooked programs against the
// file program: on what the kernel shows a socket filter for a frame, they
// must decide as the file program does on the frame itself.
func TestLiveEquivalence(t *testing.T) {
	pkts := synthPackets(3000, 2)
	type view struct {
		name    string
		target  Target
		compare func(e *Expr, p synthPkt) (data []byte, s skb, ok bool)
	}
	views := []view{
		{"live ethernet, untagged or tag inline (sent without VLAN offload)", Target{LinkType: layers.LinkTypeEthernet, Live: true},
			func(e *Expr, p synthPkt) ([]byte, skb, bool) {
				return p.data(layers.LinkTypeEthernet), skb{}, true
			}},
		{"live ethernet, outer tag removed by the kernel", Target{LinkType: layers.LinkTypeEthernet, Live: true},
			func(e *Expr, p synthPkt) ([]byte, skb, bool) {
				if len(p.tags) == 0 || tagsBeforeFirstVLAN(e.root) {
					return nil, skb{}, false
				}
				q := p
				q.tags = p.tags[1:]
				return q.data(layers.LinkTypeEthernet), skb{vlanTagged: true, vlanTCI: p.tags[0][1]}, true
			}},
		{"cooked", Target{Live: true, Cooked: true},
			func(e *Expr, p synthPkt) ([]byte, skb, bool) {
				if len(p.tags) > 1 || len(p.tags) == 1 && tagsBeforeFirstVLAN(e.root) || len(p.tags) == 0 && primsAfterVLAN(e.root) {
					return nil, skb{}, false
				}
				s := skb{proto: p.etype}
				if len(p.tags) == 1 {
					s.vlanTagged, s.vlanTCI = true, p.tags[0][1]
				}
				return p.data(layers.LinkTypeRaw), s, true
			}},
	}
	for _, v := range views {
		t.Run(v.name, func(t *testing.T) {
			compared := 0
			for _, s := range fileExprs {
				e := mustParse(t, s)
				live, err := e.Compile(v.target)
				if err != nil {
					if v.target.Cooked && e.vlans > 1 {
						continue // a second tag is never seen there
					}
					t.Fatalf("%q: %v", s, err)
				}
				if _, err := bpf.Assemble(live); err != nil {
					t.Fatalf("%q: %v", s, err)
				}
				file := NewMatcher(e)
				for i, p := range pkts {
					if p.cutEnd > 0 {
						continue // cut inside the link header, the views differ
					}
					data, sk, ok := v.compare(e, p)
					if !ok {
						continue
					}
					want := file.Match(layers.LinkTypeEthernet, p.data(layers.LinkTypeEthernet))
					got, err := runKernel(live, data, sk)
					if err != nil {
						t.Fatalf("%q: %v", s, err)
					}
					if got != want {
						t.Errorf("%q: packet %d %+v: live %v, file %v", s, i, p, got, want)
					}
					compared++
				}
			}
			t.Logf("%d verdicts compared", compared)
		})
	}
}

// TestLivePrograms checks what the live programs read.
func TestLivePrograms(t *testing.T) {
	uses := func(prog []bpf.Instruction, ext bpf.Extension) bool {
		for _, in := range prog {
			if l, ok := in.(bpf.LoadExtension); ok && l.Num == ext {
				return true
			}
		}
		return false
	}
	tests := []struct {
		expr   string
		target Target
		want   []bpf.Extension // ancillary loads used
		absent []bpf.Extension // and not used
	}{
		{"tcp port 443", Target{LinkType: layers.LinkTypeEthernet, Live: true}, nil, []bpf.Extension{bpf.ExtVLANTagPresent, bpf.ExtProto}},
		{"vlan", Target{LinkType: layers.LinkTypeEthernet, Live: true}, []bpf.Extension{bpf.ExtVLANTagPresent}, []bpf.Extension{bpf.ExtVLANTag}},
		{"vlan 100 and tcp", Target{LinkType: layers.LinkTypeEthernet, Live: true}, []bpf.Extension{bpf.ExtVLANTagPresent, bpf.ExtVLANTag}, nil},
		{"vlan 100 and tcp", Target{LinkType: layers.LinkTypeEthernet}, nil, []bpf.Extension{bpf.ExtVLANTagPresent, bpf.ExtVLANTag}},
		{"tcp", Target{Live: true, Cooked: true}, []bpf.Extension{bpf.ExtProto}, []bpf.Extension{bpf.ExtVLANTagPresent}},
		{"vlan 7 and ip6", Target{Live: true, Cooked: true}, []bpf.Extension{bpf.ExtProto, bpf.ExtVLANTagPresent, bpf.ExtVLANTag}, nil},
	}
	for _, tt := range tests {
		prog, err := mustParse(t, tt.expr).Compile(tt.target)
		if err != nil {
			t.Fatalf("%q %+v: %v", tt.expr, tt.target, err)
		}
		for _, x := range tt.want {
			if !uses(prog, x) {
				t.Errorf("%q %+v: does not read extension %d", tt.expr, tt.target, x)
			}
		}
		for _, x := range tt.absent {
			if uses(prog, x) {
				t.Errorf("%q %+v: reads extension %d", tt.expr, tt.target, x)
			}
		}
	}
}
