package packet

import (
	"bytes"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func TestUDPDatagram(t *testing.T) {
	payload := []byte("a DTLS or QUIC datagram")
	ip4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src4.AsSlice(), DstIP: dst4.AsSlice()}
	ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: src6.AsSlice(), DstIP: dst6.AsSlice()}
	for _, tt := range []struct {
		name     string
		ip       gopacket.NetworkLayer
		src, dst string
	}{
		{"IPv4", ip4, src4.String(), dst4.String()},
		{"IPv6", ip6, src6.String(), dst6.String()},
	} {
		u := &layers.UDP{SrcPort: 40000, DstPort: 443}
		if err := u.SetNetworkLayerForChecksum(tt.ip); err != nil {
			t.Fatal(err)
		}
		data := serialize(t, tt.ip.(gopacket.SerializableLayer), u, gopacket.Payload(payload))
		d := NewDecoder()
		_, ok, err := d.Decode(pkt(layers.LinkTypeEthernet, ether(etherTypeOf(tt.name), data)))
		if ok || err != nil {
			t.Fatalf("%s: ok=%v err=%v", tt.name, ok, err)
		}
		dg, ok := d.Datagram()
		if !ok || dg.Src.String() != tt.src || dg.Dst.String() != tt.dst || dg.SrcPort != 40000 || dg.DstPort != 443 ||
			!bytes.Equal(dg.Payload, payload) || dg.Truncated || !dg.Timestamp.Equal(ts0) {
			t.Fatalf("%s: datagram %+v ok=%v", tt.name, dg, ok)
		}
		if st := d.Stats(); st.UDP != 1 || st.NonTCP != 1 {
			t.Errorf("%s: stats %+v", tt.name, st)
		}
		// Cut by the snap length: the captured part, marked.
		short := ether(etherTypeOf(tt.name), data[:len(data)-5])
		if _, _, err := d.Decode(pkt(layers.LinkTypeEthernet, short)); err != nil {
			t.Fatalf("%s truncated: %v", tt.name, err)
		}
		if dg, ok := d.Datagram(); !ok || !dg.Truncated || len(dg.Payload) != len(payload)-5 {
			t.Errorf("%s truncated: %+v ok=%v", tt.name, dg, ok)
		}
		// A TCP packet next: no datagram.
		if _, ok, _ := d.Decode(pkt(layers.LinkTypeRaw, tcp4(t, []byte("x")))); !ok {
			t.Fatal("TCP not decoded")
		}
		if _, ok := d.Datagram(); ok {
			t.Errorf("%s: datagram left over after a TCP segment", tt.name)
		}
	}
}

func etherTypeOf(name string) layers.EthernetType {
	if name == "IPv6" {
		return layers.EthernetTypeIPv6
	}
	return layers.EthernetTypeIPv4
}
