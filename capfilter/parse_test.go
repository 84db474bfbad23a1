package capfilter

import (
	"errors"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

func TestParseAccepted(t *testing.T) {
	tests := []struct {
		in, canon string
	}{
		{"", ""},
		{" \t\n", ""},
		{"tcp", "tcp"},
		{"udp", "udp"},
		{"ip", "ip"},
		{"ip6", "ip6"},
		{"((tcp))", "tcp"},
		{"tcp port 443", "tcp port 443"},
		{"udp dst port 53", "udp dst port 53"},
		{"port 443 or 8443", "port 443 or port 8443"},
		{"tcp port 443 or 8443", "tcp port 443 or tcp port 8443"},
		{"port (443)", "port 443"},
		{"port 443 or (80 or 8080)", "port 443 or (port 80 or port 8080)"},
		{"port 0", "port 0"},
		{"src or dst port 80", "port 80"},
		{"dst and src port 80", "src and dst port 80"},
		{"portrange 440-450", "portrange 440-450"},
		{"portrange 450-440", "portrange 440-450"},
		{"tcp src portrange 1-1023", "tcp src portrange 1-1023"},
		{"host 10.0.0.1", "host 10.0.0.1"},
		{"host 10.0.0.1 or 10.0.0.2", "host 10.0.0.1 or host 10.0.0.2"},
		{"src host ::1", "src host ::1"},
		{"src 10.0.0.1", "src host 10.0.0.1"},
		{"src or dst host 10.0.0.1", "host 10.0.0.1"},
		{"src and dst host 10.0.0.1", "src and dst host 10.0.0.1"},
		{"ip host 10.0.0.1", "ip host 10.0.0.1"},
		{"ip6 host 2001:DB8::1", "ip6 host 2001:db8::1"},
		{"host ::ffff:10.0.0.1", "host ::ffff:10.0.0.1"},
		{"net 10.0.0.0/8", "net 10.0.0.0/8"},
		{"net 10.0.0.0 / 8", "net 10.0.0.0/8"},
		{"net 10", "net 10.0.0.0/8"},
		{"net 172.16", "net 172.16.0.0/16"},
		{"net 192.168.1", "net 192.168.1.0/24"},
		{"net 10.1.2.3", "net 10.1.2.3/32"},
		{"net 10.0.0.0 mask 255.0.0.0", "net 10.0.0.0/8"},
		{"net 10.0.0.0 mask 255.0.255.0", "net 10.0.0.0 mask 255.0.255.0"},
		{"dst net 192.168.1.0/24", "dst net 192.168.1.0/24"},
		{"net 2001:db8::/32", "net 2001:db8::/32"},
		{"ip6 src net 2001:db8::/32", "ip6 src net 2001:db8::/32"},
		{"net ::1", "net ::1/128"},
		{"vlan", "vlan"},
		{"vlan 100 and tcp", "vlan 100 and tcp"},
		{"vlan and vlan 200", "vlan and vlan 200"},
		{"not port 22 and host 10.0.0.1", "not port 22 and host 10.0.0.1"},
		{"!tcp && !udp", "not tcp and not udp"},
		{"tcp || udp", "tcp or udp"},
		{"not not tcp", "not not tcp"},
		{"not (tcp or udp)", "not (tcp or udp)"},
		// and/or: equal precedence, from the left.
		{"host 10.0.0.1 or host 10.0.0.2 and tcp", "(host 10.0.0.1 or host 10.0.0.2) and tcp"},
		{"tcp and udp or ip", "(tcp and udp) or ip"},
		{"tcp and (udp and ip)", "tcp and (udp and ip)"},
		{"tcp and udp and ip", "tcp and udp and ip"},
		{"tcp and (port 80 || 443)", "tcp and (port 80 or port 443)"},
		// Qualifier inheritance, as libpcap's grammar carries it.
		{"host 10.0.0.1 and not 10.0.0.2", "host 10.0.0.1 and not host 10.0.0.2"},
		{"not host 10.0.0.1 or 10.0.0.2", "not host 10.0.0.1 or host 10.0.0.2"},
		{"host (10.0.0.1 or 10.0.0.2) and tcp", "(host 10.0.0.1 or host 10.0.0.2) and tcp"},
		{"host (10.0.0.1 or not (10.0.0.2))", "host 10.0.0.1 or not host 10.0.0.2"},
		{"host 10.0.0.1 and (tcp) or 10.0.0.2", "(host 10.0.0.1 and tcp) or host 10.0.0.2"},
		{"src 10.0.0.1 or 10.0.0.2", "src host 10.0.0.1 or src host 10.0.0.2"},
		{"udp src port 53 and not 5353", "udp src port 53 and not udp src port 5353"},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := e.String(); got != tt.canon {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.canon)
		}
		if e.Empty() != (tt.canon == "") {
			t.Errorf("Parse(%q).Empty() = %v", tt.in, e.Empty())
		}
		again, err := Parse(e.String())
		if err != nil || again.String() != e.String() {
			t.Errorf("canonical form %q does not parse back to itself: %v %v", e.String(), again, err)
		}
	}
}

func TestParseRejected(t *testing.T) {
	const (
		syntax      = "syntax"
		unsupported = "unsupported"
	)
	tests := []struct {
		in    string
		kind  string
		token string
		pos   int
	}{
		{"less 100", unsupported, "less", 0},
		{"greater 100", unsupported, "greater", 0},
		{"ether host 00:11:22:33:44:55", unsupported, "ether", 0},
		{"arp", unsupported, "arp", 0},
		{"icmp or tcp", unsupported, "icmp", 0},
		{"tcp and len > 100", unsupported, "len", 8},
		{"HOST 10.0.0.1", unsupported, "HOST", 0},
		{"ip proto 6", unsupported, "proto", 3},
		{"src gateway 10.0.0.1", unsupported, "gateway", 4},
		{"tcp[13] & 2 != 0", unsupported, "tcp[13]", 0},
		{"ip[6:2] & 0x1fff = 0", unsupported, "ip[6:2]", 0},
		{"tcp &", unsupported, "&", 4},
		{"tcp and 1 + 2", syntax, "1", 8},
		{"host 10.0.0.1 %", unsupported, "%", 14},
		{"host example.com", unsupported, "example.com", 5},
		{"host a or b", unsupported, "a", 5},
		{"net corp", unsupported, "corp", 4},
		{"port https", unsupported, "https", 5},
		{"port 443 or https", unsupported, "https", 12},
		{"port 0443", unsupported, "0443", 5},
		{"port 0x1bb", unsupported, "0x1bb", 5},
		{"host 10.1", unsupported, "10.1", 5},
		{"net 2001:db8:: mask ffff::", unsupported, "mask", 15},
		{"net 2001:db8::/32 mask ffff::", syntax, "mask", 18},
		{"(tcp", syntax, "(", 0},
		{"((tcp)", syntax, "(", 0},
		{"tcp)", syntax, ")", 3},
		{"tcp and", syntax, "and", 4},
		{"tcp or", syntax, "or", 4},
		{"not", syntax, "not", 0},
		{"and tcp", syntax, "and", 0},
		{"tcp and or udp", syntax, "or", 8},
		{"()", syntax, "()", 0},
		{"tcp and ()", syntax, "()", 8},
		{"host ()", syntax, "()", 5},
		{"host", syntax, "host", 0},
		{"src", syntax, "src", 0},
		{"443", syntax, "443", 0},
		{"tcp 443", syntax, "443", 4},
		{"tcp or 443", syntax, "443", 7},
		{"vlan 100 or 200", syntax, "200", 12},
		{"(host 10.0.0.1) or 10.0.0.2", syntax, "10.0.0.2", 19},
		{"port 80 or (443 and tcp)", syntax, "tcp", 20},
		{"src 443", syntax, "443", 4},
		{"port 65536", syntax, "65536", 5},
		{"portrange 1-70000", syntax, "70000", 12},
		{"port 80-90", syntax, "80-90", 5},
		{"portrange 80", syntax, "80", 10},
		{"vlan 4096", syntax, "4096", 5},
		{"vlan x", syntax, "x", 5},
		{"host 10.0.0.256", syntax, "10.0.0.256", 5},
		{"host 1.2.3.4.5", syntax, "1.2.3.4.5", 5},
		{"host 2001:db8:::1", syntax, "2001:db8:::1", 5},
		{"host 10.0.0.0/8", syntax, "/", 13},
		{"src 10.0.0.0/8", syntax, "/", 12},
		{"net 10.0.0.1/8", syntax, "10.0.0.1/8", 4},
		{"net 10.0.0.1 mask 255.0.0.0", syntax, "10.0.0.1 mask 255.0.0.0", 4},
		{"net 2001:db8::1/32", syntax, "2001:db8::1/32", 4},
		{"net 10.0.0.0/33", syntax, "33", 13},
		{"net 10.0.0.0/", syntax, "/", 12},
		{"net 10.0.0.0 mask", syntax, "mask", 13},
		{"tcp host 10.0.0.1", syntax, "10.0.0.1", 9},
		{"ip6 host 10.0.0.1", syntax, "10.0.0.1", 9},
		{"ip host ::1", syntax, "::1", 8},
		{"ip port 80", syntax, "80", 8},
		{"src or src host 10.0.0.1", syntax, "src", 7},
		{"mask 255.0.0.0", syntax, "mask", 0},
		{"host 10.0.0.1 10.0.0.2", syntax, "10.0.0.2", 14},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %q, want an error", tt.in, e)
			continue
		}
		var kind, token string
		pos := -2
		var se *SyntaxError
		var ue *UnsupportedError
		switch {
		case errors.As(err, &se):
			kind, token, pos = syntax, se.Token, se.Pos
		case errors.As(err, &ue):
			kind, token, pos = unsupported, ue.Token, ue.Pos
		}
		if kind != tt.kind || token != tt.token || pos != tt.pos {
			t.Errorf("Parse(%q): %s error on %q at %d, want %s on %q at %d\n\t%v", tt.in, kind, token, pos, tt.kind, tt.token, tt.pos, err)
		}
		if !strings.Contains(err.Error(), `"`+tt.token+`"`) || !strings.HasPrefix(err.Error(), "capfilter: ") {
			t.Errorf("Parse(%q): message %q does not name %q", tt.in, err, tt.token)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := Parse("less 100")
	want := `capfilter: "less 100": unsupported primitive "less" at offset 0 (supported: host, src/dst host, net, port, portrange, tcp, udp, ip, ip6, vlan, and/or/not, parentheses)`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestParseLimits(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // in the error
	}{
		{"too long", strings.Repeat("tcp or ", MaxExprLen/7) + "tcp", "longer than 4096 bytes"},
		{"too deep", strings.Repeat("(", 300) + "tcp" + strings.Repeat(")", 300), "nested more than"},
		{"too deep not", strings.Repeat("not ", 300) + "tcp", "nested more than"},
		{"too deep values", "host " + strings.Repeat("(", 300) + "::1" + strings.Repeat(")", 300), "nested more than"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var ue *UnsupportedError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an UnsupportedError with %q", tt.name, err, tt.want)
		}
	}
	// Just under the limit is fine, and nesting up to it too.
	ok := strings.Repeat("(", 100) + "tcp" + strings.Repeat(")", 100)
	if _, err := Parse(ok); err != nil {
		t.Errorf("100 levels: %v", err)
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		expr   string
		target Target
		token  string
		pos    int
		want   string
	}{
		{"vlan", Target{LinkType: layers.LinkTypeLinuxSLL}, "vlan", 0, "Linux SLL"},
		{"port 1 and vlan 5", Target{LinkType: layers.LinkTypeLinuxSLL2}, "vlan", 11, "SLL2"},
		{"vlan and tcp", Target{LinkType: layers.LinkTypeRaw}, "vlan", 0, "Raw"},
		{"vlan", Target{LinkType: layers.LinkTypeNull}, "vlan", 0, "Null"},
		{"vlan and vlan", Target{LinkType: layers.LinkTypeRaw, Live: true, Cooked: true}, "vlan", 9, "second"},
		{"tcp", Target{LinkType: layers.LinkTypePPP}, "", -1, "unsupported link type PPP (9)"},
		{"tcp", Target{LinkType: layers.LinkTypeIEEE802_11}, "", -1, "unsupported link type"},
		{strings.Repeat("port 1 or ", 200) + "port 1", Target{LinkType: layers.LinkTypeEthernet}, "", -1, "more than the kernel's limit of 4096"},
	}
	for _, tt := range tests {
		e, err := Parse(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Compile(tt.target)
		var ue *UnsupportedError
		if !errors.As(err, &ue) || ue.Token != tt.token || ue.Pos != tt.pos || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Compile(%.40q, %+v) = %v, want an UnsupportedError on %q at %d with %q", tt.expr, tt.target, err, tt.token, tt.pos, tt.want)
		}
	}
	e, _ := Parse("tcp")
	for _, tg := range []Target{{LinkType: layers.LinkTypeEthernet, Snaplen: -1}, {Cooked: true}} {
		if _, err := e.Compile(tg); err == nil {
			t.Errorf("Compile(%+v): no error", tg)
		}
	}
}
