package baseline

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// weird is a baseline whose strings exercise JSON escaping.
func weird() *Baseline {
	return build(
		hs(),
		hs(sni(ptr("ctl\x1b[2J\u202e<&>\"\\.test")), leaf("aa", "CN=a\\,b+O=\"q\",C=\x00"), alpn(ptr("\u2028"))),
		hs(sni(ptr("bad\xff")), leaf("bb", strings.Repeat("CN=x,", 400))),
		hs(sni(nil), failed, at(t0.AddDate(0, 0, 1))),
	)
}

func TestRoundTrip(t *testing.T) {
	for name, bl := range map[string]*Baseline{
		"empty":    NewBuilder().Baseline(),
		"weird":    weird(),
		"captures": captureBaseline(t, "tls12-mtls-go.pcap", "tls13-go.pcap", "alpn-h2-tls12-go.pcap"),
	} {
		t.Run(name, func(t *testing.T) {
			first := encode(t, bl)
			if !bytes.HasSuffix(first, []byte("}\n")) || bytes.HasSuffix(first, []byte("\n\n")) {
				t.Errorf("output does not end in one newline: %q", first[max(0, len(first)-10):])
			}
			back, err := Read(bytes.NewReader(first), "b.json")
			if err != nil {
				t.Fatal(err)
			}
			if second := encode(t, back); !bytes.Equal(first, second) {
				t.Errorf("Write, Read, Write differs:\n%s\nthen\n%s", first, second)
			}
			if d := Compare(bl, back); d != nil {
				t.Errorf("drift after a round trip: %q", d)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	valid := string(encode(t, build(hs())))
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "not a baseline"},
		{"invalid JSON", `{"format": 1,`, "not a baseline"},
		{"not an object", `[1]`, "not a baseline"},
		{"no format", `{"servers": []}`, `no "format"`},
		{"format null", `{"format": null}`, `no "format"`},
		{"format as string", `{"format": "1"}`, "not a baseline"},
		{"newer format", `{"format": 2, "something_new": true}`, "format 2 is not supported (want 1)"},
		{"format 0", `{"format": 0}`, "format 0 is not supported"},
		{"unknown top-level field", strings.Replace(valid, `"handshakes"`, `"handshake_count": 1, "handshakes"`, 1), `unknown field "handshake_count"`},
		{"unknown server field", strings.Replace(valid, `"sni": true`, `"sni": true, "port": 443`, 1), `unknown field "port"`},
		{"unknown set field", strings.Replace(valid, `"dropped_handshakes"`, `"servers_x": 0, "dropped_handshakes"`, 1), `unknown field "servers_x"`},
		{"wrong type", strings.Replace(valid, `"handshakes": 1`, `"handshakes": "1"`, 1), "cannot unmarshal"},
		{"trailing data", valid + `{"format": 1}`, "data after the baseline"},
		{"trailing garbage", valid + `x`, "data after the baseline"},
		{"negative count", strings.Replace(valid, `"established": 1`, `"established": -1`, 1), "negative count"},
		{"negative dropped", strings.Replace(valid, `"dropped_handshakes": 0`, `"dropped_handshakes": -3`, 1), "negative handshake count"},
		{"duplicate server", `{"format":1,"servers":[{"server":"a","sni":true},{"server":"a","sni":true}]}`, `server "a" (sni true) appears twice`},
		{"bad time", strings.Replace(valid, `"first_ts": "2026-01-02T03:04:05Z"`, `"first_ts": "yesterday"`, 1), "cannot parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bl, err := Read(strings.NewReader(tt.in), "ci/base.json")
			if err == nil {
				t.Fatalf("no error; read %+v", bl)
			}
			if !strings.HasPrefix(err.Error(), "ci/base.json: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want the file name and %q", err, tt.want)
			}
		})
	}
	// The same file with only the key fields is accepted: absent fields are
	// zero, as in a hand-written baseline.
	if _, err := Read(strings.NewReader(`{"format":1,"servers":[{"server":"a","sni":true},{"server":"a","sni":false}]}`), "min.json"); err != nil {
		t.Errorf("minimal file: %v", err)
	}
}

func TestReadLimit(t *testing.T) {
	data := encode(t, weird())
	if _, err := readLimit(bytes.NewReader(data), "big.json", int64(len(data))); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	_, err := readLimit(bytes.NewReader(data), "big.json", int64(len(data)-1))
	if err == nil || !strings.HasPrefix(err.Error(), "big.json: baseline larger than") {
		t.Errorf("over the limit: %v", err)
	}
	// A reader failing midway is reported with the file name.
	_, err = Read(errReader{}, "broken.json")
	if err == nil || !strings.HasPrefix(err.Error(), "broken.json: ") {
		t.Errorf("reader error: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// Hand-edited files need not be sorted; Read gives the canonical form.
func TestReadNormalizes(t *testing.T) {
	in := `{"format": 1, "first_ts": "2026-01-02T05:04:05+02:00", "handshakes": 2, "servers": [
	  {"server": "b", "sni": true, "versions": {"values": ["TLS 1.3", "TLS 1.2", "TLS 1.3"]}},
	  {"server": "a", "sni": true, "ja4": {"values": null}}
	], "dropped_handshakes": 0}`
	bl, err := Read(strings.NewReader(in), "edited.json")
	if err != nil {
		t.Fatal(err)
	}
	if bl.Servers[0].Name != "a" || strings.Join(bl.Servers[1].Versions.Values, ",") != "TLS 1.2,TLS 1.3" {
		t.Errorf("not normalized: %+v", bl.Servers)
	}
	if !bl.First.Equal(t0) || bl.First.Location().String() != "UTC" {
		t.Errorf("first_ts %v", bl.First)
	}
	out := encode(t, bl)
	if bytes.Contains(out, []byte(`"values": null`)) {
		t.Errorf("null sets in the canonical form:\n%s", out)
	}
	back, err := Read(bytes.NewReader(out), "edited2.json")
	if err != nil {
		t.Fatal(err)
	}
	if again := encode(t, back); !bytes.Equal(again, out) {
		t.Errorf("canonical form not stable:\n%s\n%s", out, again)
	}
}
