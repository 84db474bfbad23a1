package tlsconn

import (
	"encoding/json"
	"testing"

	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/quic"
)

func TestTransportParameters(t *testing.T) {
	body := []byte{
		0x01, 0x04, 0x80, 0x00, 0x75, 0x30, // max_idle_timeout 30000 (a 4-byte varint)
		0x0c, 0x00, // disable_active_migration
		0x0f, 0x04, 'a', 'b', 'c', 'd', // initial_source_connection_id
		0x40, 0x1b, 0x00, // reserved 27 (31*0+27), empty
		0x04, 0x01, 0x3f, // initial_max_data 63
	}
	for _, tt := range []struct {
		name string
		exts []dissect.Extension
		want string
	}{
		{"none", []dissect.Extension{{Type: 0}}, "null"},
		{"standard", []dissect.Extension{{Type: quic.ExtensionQUICTransportParameters, Data: body}},
			`{"sent":["max_idle_timeout","disable_active_migration","initial_source_connection_id","reserved 0x1b","initial_max_data"],"max_idle_timeout_ms":30000,"initial_max_data":63,"disable_active_migration":true,"initial_source_connection_id":"61626364"}`},
		{"the draft's when it is the only one", []dissect.Extension{{Type: quic.ExtensionQUICTransportParametersDraft, Data: body[6:8]}},
			`{"sent":["disable_active_migration"],"disable_active_migration":true}`},
		{"the standard one wins", []dissect.Extension{{Type: quic.ExtensionQUICTransportParameters, Data: body[6:8]}, {Type: quic.ExtensionQUICTransportParametersDraft, Data: body[:6]}},
			`{"sent":["disable_active_migration"],"disable_active_migration":true}`},
		{"cut short", []dissect.Extension{{Type: quic.ExtensionQUICTransportParameters, Data: body[:3]}},
			`{"sent":[],"anomalies":["`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(transportParameters(tt.exts))
			if err != nil {
				t.Fatal(err)
			}
			got := string(b)
			if len(tt.want) > 0 && tt.want[len(tt.want)-1] == '"' {
				if len(got) < len(tt.want) || got[:len(tt.want)] != tt.want {
					t.Errorf("got %s, want it to begin %s", got, tt.want)
				}
				return
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
