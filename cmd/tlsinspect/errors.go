package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsinspect/tlsinspect/analyze"
)

// fileError turns the system's error for a capture file that cannot be
// opened into one line that says what to do.
func fileError(err error) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: no such file; check the name (-r - reads standard input)", pe.Path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: permission denied: this user may not read it; check its permissions, or have a user who may read it for you (sudo cat %s | tlsinspect -r -)", pe.Path, pe.Path)
	}
	return err
}

// supportedLinks names the link types packet.Decoder reads, for messages.
const supportedLinks = "Ethernet (1), Linux cooked SLL (113) and SLL2 (276), raw IP (12, 14, 101, 228, 229), BSD loopback (0, 108), PPP (9, 50) and Cisco HDLC (104)"

// unsupportedLinkTypes reports, one line each, the link types of a file
// that could not be decoded, and returns true when nothing of the file
// could be (an input that could not be read: exit status 3).
func unsupportedLinkTypes(stderr io.Writer, name string, c analyze.Counts) bool {
	lts := slices.Sorted(maps.Keys(c.UnsupportedLinkTypes))
	if name == "-" {
		name = stdinName
	}
	for _, lt := range lts {
		fmt.Fprintf(stderr, "tlsinspect: %s: link type %s is not supported, %d packets skipped; tlsinspect reads %s: capture on a wired interface or on \"any\"\n",
			name, linkTypeName(lt), c.UnsupportedLinkTypes[lt], supportedLinks)
	}
	return len(lts) > 0 && c.Decodable == 0
}

// linkTypeName is "802.11 (105)", or "147" for a number gopacket does not name.
func linkTypeName(lt layers.LinkType) string {
	if s := lt.String(); s != "UnknownLinkType" {
		return fmt.Sprintf("%s (%d)", s, uint16(lt))
	}
	return fmt.Sprint(uint16(lt))
}
