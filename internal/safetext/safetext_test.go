package safetext

import "testing"

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"server.test", "server.test"},
		{"a\x1b[31mb", `a\x1b[31mb`},
		{"back\\slash", `back\\slash`},
		{"rtl\u202eoverride", `rtl\u202eoverride`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"c1\u0085", `c1\u0085`},
		{"ünïcode", "ünïcode"},
		{"tab\tnewline\n", `tab\x09newline\x0a`},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
