package capfilter

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// tcpdump -y EN10MB -ddd 'tcp port 443', as tcpdump 4.99.3 prints it.
const dddTCP443 = `20
40 0 0 12
21 0 6 34525
48 0 0 20
21 0 15 6
40 0 0 54
21 12 0 443
40 0 0 56
21 10 11 443
21 0 10 2048
48 0 0 23
21 0 8 6
40 0 0 20
69 6 0 8191
177 0 0 14
72 0 0 14
21 2 0 443
72 0 0 16
21 0 1 443
6 0 0 262144
6 0 0 0
`

func TestParseDDD(t *testing.T) {
	long := fmt.Sprintf("%d\n", MaxInstructions+1) + strings.Repeat("6 0 0 0\n", MaxInstructions+1)
	maxOK := fmt.Sprintf("%d\n", MaxInstructions) + strings.Repeat("6 0 0 0\n", MaxInstructions)
	tests := []struct {
		name, in string
		n        int    // instructions, when valid
		err      string // in the error, when not
	}{
		{"tcpdump output", dddTCP443, 20, ""},
		{"blank lines and CRLF", "\r\n2\r\n\r\n6 0 0 1\r\n6 0 0 0\r\n\r\n", 2, ""},
		{"kernel limit", maxOK, MaxInstructions, ""},
		{"scratch written then read", "3\n2 0 0 5\n96 0 0 5\n22 0 0 0\n", 3, ""},
		{"ancillary load", "2\n48 0 0 4294963248\n22 0 0 0\n", 2, ""},
		{"empty", "", 0, "empty input"},
		{"only blanks", "\n \n", 0, "empty input"},
		{"count not a number", "x\n6 0 0 0\n", 0, "line 1: instruction count \"x\" is not a number"},
		{"count with more fields", "1 2\n", 0, "line 1: the first line must be the number of instructions"},
		{"count zero", "0\n", 0, "line 1: instruction count is 0"},
		{"count over limit", long, 0, "line 1: 4097 instructions, more than the kernel's limit of 4096"},
		{"fewer than counted", "3\n6 0 0 0\n6 0 0 0\n", 0, "line 1: says 3 instructions, but 2 follow"},
		{"more than counted", "1\n6 0 0 0\n6 0 0 0\n", 0, "line 3: more instructions than the 1 given on line 1"},
		{"three fields", "1\n6 0 0\n", 0, "line 2: want 4 numbers (code jt jf k), got 3 fields"},
		{"not a number", "2\n40 0 0 12\n6 0 x 0\n", 0, "line 3: jf \"x\" is not a number from 0 to 255"},
		{"negative", "1\n6 0 0 -1\n", 0, "line 2: k \"-1\" is not a number"},
		{"jt too big", "2\n21 256 0 1\n6 0 0 0\n", 0, "line 2: jt \"256\" is not a number from 0 to 255"},
		{"code too big", "1\n65536 0 0 0\n", 0, "line 2: code \"65536\" is not a number from 0 to 65535"},
		{"hex", "1\n0x6 0 0 0\n", 0, "line 2: code \"0x6\" is not a number"},
		{"jump out of range", "3\n40 0 0 12\n21 0 2 2048\n6 0 0 1\n", 0, "line 3: conditional jump (jt 0, jf 2) goes past the end"},
		{"ja out of range", "2\n5 0 0 1\n6 0 0 0\n", 0, "line 2: jump by 1 goes past the end"},
		{"no return at the end", "1\n40 0 0 12\n", 0, "line 2: the last instruction must be a return"},
		{"unknown opcode", "2\n255 0 0 0\n6 0 0 0\n", 0, "line 2: unknown opcode 0xff"},
		{"ldx abs", "2\n33 0 0 0\n6 0 0 0\n", 0, "line 2: unknown opcode 0x21"},
		{"division by zero", "2\n52 0 0 0\n22 0 0 0\n", 0, "line 2: division by zero"},
		{"scratch slot", "2\n2 0 0 16\n6 0 0 0\n", 0, "line 2: scratch memory slot 16 out of range"},
		{"scratch read first", "2\n96 0 0 3\n22 0 0 0\n", 0, "line 2: reads scratch memory slot 3 before it is written"},
		{"scratch on one path", "5\n40 0 0 12\n21 0 1 2048\n2 0 0 0\n96 0 0 0\n22 0 0 0\n", 0, "line 5: reads scratch memory slot 0 before it is written"},
		{"unknown ancillary", "2\n32 0 0 4294963300\n6 0 0 0\n", 0, "line 2: unknown ancillary load"},
		{"long line", "1\n" + strings.Repeat("6", 2000) + "\n", 0, "line 2: longer than 1024 bytes"},
	}
	for _, tt := range tests {
		prog, err := ParseDDD(strings.NewReader(tt.in))
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.err == "" && len(prog) != tt.n:
			t.Errorf("%s: %d instructions, want %d", tt.name, len(prog), tt.n)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: error %v, want one with %q", tt.name, err, tt.err)
		}
	}
}

// TestParseDDDFromTcpdump reads programs tcpdump prints, for files (-y)
// and, when there is a loopback interface, for a live one (-i lo), whose
// ancillary loads a Matcher must refuse.
func TestParseDDDFromTcpdump(t *testing.T) {
	tcpdump := tcpdumpPath(t)
	ether := layers.LinkTypeEthernet
	frame := synthPkt{etype: etherIPv4, net: func() []byte {
		b := make([]byte, 36)
		b[0], b[3], b[9] = 0x45, 36, protoNumTCP
		b[20], b[21] = 443>>8, 443&0xff
		return b
	}()}.data(ether)
	tests := []struct {
		args  []string
		match bool   // the verdict on frame
		err   string // from NewProgramMatcher
	}{
		{[]string{"-y", "EN10MB", "tcp port 443"}, true, ""},
		{[]string{"-y", "EN10MB", "tcp[13] & 2 != 0 and len >= 40"}, false, ""},
		{[]string{"-y", "EN10MB", "ether multicast or icmp"}, false, ""},
		{[]string{"-y", "EN10MB", "ip[2:2] > 30"}, true, ""},
		{[]string{"-y", "EN10MB", ""}, true, ""},
		{[]string{"-i", "lo", "vlan and tcp"}, false, "ancillary"},
	}
	for _, tt := range tests {
		var out, stderr bytes.Buffer
		cmd := exec.Command(tcpdump, append([]string{"-ddd"}, tt.args...)...)
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			t.Logf("tcpdump -ddd %q: %v: %s", tt.args, err, stderr.String())
			continue // e.g. no lo
		}
		prog, err := ParseDDD(&out)
		if err != nil {
			t.Errorf("tcpdump -ddd %q: %v", tt.args, err)
			continue
		}
		m, err := NewProgramMatcher(prog)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%q: NewProgramMatcher: %v, want an error with %q", tt.args, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("%q: NewProgramMatcher: %v", tt.args, err)
		case err == nil && m.Match(ether, frame) != tt.match:
			t.Errorf("%q: Match = %v, want %v", tt.args, !tt.match, tt.match)
		}
	}
}

func TestNewProgramMatcherRefuses(t *testing.T) {
	tests := []struct {
		name string
		prog []bpf.Instruction
		err  string
	}{
		{"ancillary", []bpf.Instruction{bpf.LoadExtension{Num: bpf.ExtProto}, bpf.RetA{}}, "ancillary"},
		{"neg", []bpf.Instruction{bpf.NegateA{}, bpf.RetA{}}, "neg"},
		{"negative offset", []bpf.Instruction{bpf.LoadAbsolute{Off: 0xfff00000, Size: 4}, bpf.RetA{}}, "negative offset"},
		{"jump past the end", []bpf.Instruction{bpf.Jump{Skip: 1}, bpf.RetA{}}, "past the end"},
		{"no return", []bpf.Instruction{bpf.LoadAbsolute{Off: 0, Size: 1}}, "return"},
	}
	for _, tt := range tests {
		raw, err := bpf.Assemble(tt.prog)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewProgramMatcher(raw); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.err)
		}
	}
	if _, err := NewProgramMatcher(nil); err == nil {
		t.Error("empty program: no error")
	}
}
