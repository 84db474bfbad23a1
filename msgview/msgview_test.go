package msgview

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/packet"
)

// firstPayloads returns the first TCP payload sent by each side of the only
// connection in a capture made by the project from a real handshake.
func firstPayloads(t *testing.T, file string) (client, server []byte) {
	t.Helper()
	src, err := capture.OpenFile("../testdata/pcaps/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec := packet.NewDecoder()
	var clientPort uint16
	for client == nil || server == nil {
		p, err := src.Next()
		if errors.Is(err, io.EOF) {
			t.Fatal("capture ended before both hellos")
		}
		if err != nil {
			t.Fatal(err)
		}
		seg, ok, err := dec.Decode(p)
		if err != nil || !ok {
			continue
		}
		if seg.TCP.SYN && !seg.TCP.ACK {
			clientPort = uint16(seg.TCP.SrcPort)
		}
		if len(seg.TCP.Payload) == 0 {
			continue
		}
		data := append([]byte(nil), seg.TCP.Payload...)
		if uint16(seg.TCP.SrcPort) == clientPort && client == nil {
			client = data
		} else if uint16(seg.TCP.SrcPort) != clientPort && server == nil {
			server = data
		}
	}
	return client, server
}

// body strips the record and handshake headers of a payload that starts
// with a whole handshake message.
func body(b []byte) []byte {
	n := int(b[6])<<16 | int(b[7])<<8 | int(b[8])
	return b[9 : 9+n]
}

func TestClientAndServerHelloFields(t *testing.T) {
	c, s := firstPayloads(t, "alpn-h2-tls12-go.pcap")
	ch, err := dissect.ParseClientHello(body(c))
	if err != nil {
		t.Fatal(err)
	}
	sh, err := dissect.ParseServerHello(body(s))
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(ClientHello(ch))
	if err != nil {
		t.Fatal(err)
	}
	out := string(got)
	for _, want := range []string{
		`{"version":"TLS 1.2","random":"`,
		`"cipher_suites":["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",`,
		`"extensions":{"server_name":["server.test"],`,
		`"application_layer_protocol_negotiation":["h2","http/1.1"]`,
		`"supported_groups":["x25519","secp256r1","secp384r1","secp521r1"]`,
		`"extended_main_secret":"(empty)"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ClientHello view lacks %s:\n%s", want, out)
		}
	}
	got, _ = json.Marshal(ServerHello(sh))
	for _, want := range []string{`"cipher_suite":"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"`, `"application_layer_protocol_negotiation":"h2"`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("ServerHello view lacks %s:\n%s", want, got)
		}
	}
}

func TestTLS13KeyShareAndVersions(t *testing.T) {
	c, _ := firstPayloads(t, "tls13-hrr-go.pcap")
	ch, err := dissect.ParseClientHello(body(c))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(ClientHello(ch))
	for _, want := range []string{`"supported_versions":["TLS 1.3","TLS 1.2"]`, `"key_share":["x25519 (32-byte key)"]`, `"psk_key_exchange_modes":["psk_dhe_ke"]`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("view lacks %s:\n%s", want, got)
		}
	}
}

func TestFieldsJSONKeepsOrder(t *testing.T) {
	fs := Fields{{"zeta", 1}, {"alpha", []string{"x"}}, {"mid", Fields{{"b", true}, {"a", "q\"uote"}}}}
	got, err := json.Marshal(fs)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"zeta":1,"alpha":["x"],"mid":{"b":true,"a":"q\"uote"}}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestOpaque(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{{nil, "(empty)"}, {[]byte{1, 2}, "0102"}, {make([]byte, 40), "40 bytes"}}
	for _, tt := range tests {
		if got := opaque(tt.in); got != tt.want {
			t.Errorf("opaque(%x) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
