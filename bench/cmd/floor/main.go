// Command floor is the decode floor of bench/compare.sh: it reads pcap
// files and decodes every packet down to TCP, with no reassembly and no TLS
// work at all, to show how fast a capture can be read and decoded.
//
//	floor FILE...
//
// It uses gopacket's pcapgo reader (ZeroCopyReadPacketData) and a
// DecodingLayerParser over Ethernet, IPv4, IPv6 and TCP (other layers are
// skipped), and prints one line of totals:
//
//	packets 369012 tcp 369012 syn 2800 bytes 448123456
//
// tcp counts TCP segments, syn the segments with SYN set and ACK clear
// (one per connection opened), bytes the capture file bytes read.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

type counts struct {
	packets, tcp, syn, bytes int64
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: floor FILE...")
		os.Exit(2)
	}
	var c counts
	for _, name := range os.Args[1:] {
		if err := c.read(name); err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("packets %d tcp %d syn %d bytes %d\n", c.packets, c.tcp, c.syn, c.bytes)
}

func (c *counts) read(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		return fmt.Errorf("%s: link type %v, want Ethernet", name, r.LinkType())
	}
	var (
		eth     layers.Ethernet
		ip4     layers.IPv4
		ip6     layers.IPv6
		tcp     layers.TCP
		payload gopacket.Payload
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp, &payload)
	p.IgnoreUnsupported = true // UDP, ARP, …: stop there, not an error
	decoded := make([]gopacket.LayerType, 0, 8)
	c.bytes += 24 // file header
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: packet %d: %w", name, c.packets+1, err)
		}
		c.packets++
		c.bytes += 16 + int64(ci.CaptureLength)
		// A truncated or malformed layer ends the decoding of this packet;
		// the layers decoded before it are still in decoded.
		_ = p.DecodeLayers(data, &decoded)
		for _, t := range decoded {
			if t == layers.LayerTypeTCP {
				c.tcp++
				if tcp.SYN && !tcp.ACK {
					c.syn++
				}
				break
			}
		}
	}
}
