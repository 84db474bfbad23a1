package tlsconn

import (
	"slices"

	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/iana"
	"github.com/tlsinspect/tlsinspect/internal/twogen"
)

// nameLists remembers the name lists made from recent hellos: the same
// offer (cipher suites, groups, signature algorithms, versions) comes back
// on thousands of connections and names to the same strings, so a repeated
// list costs no allocation. The lists are shared between the summaries
// that have them, as their certificates are: read-only, and clipped so
// that an append never writes into another summary's list.
//
// Bounded: two generations (twogen.Map) of at most nameListEntries
// lists, each of at most maxNameListValues values; longer lists are named
// every time. At worst (hellos with lists of random values, from scanners)
// an entry holds a 513-byte key and 256 string headers (4 KiB; the names
// themselves are the registry's), so about 9 MiB per Tracker; a browser's
// lists are a tenth of that. Not safe for concurrent use: one per Tracker. The nil
// *nameLists names every list afresh.
type nameLists struct {
	lists *twogen.Map[[]string]
	key   []byte // scratch: the kind, then the values, 2 bytes each
}

const (
	nameListEntries   = 1024
	maxNameListValues = 256
)

// nameKind says which registry names a list, and whether GREASE values
// are left out: part of the cache key.
type nameKind uint8

const (
	kindVersions nameKind = iota + 1
	kindSuites
	kindGroups
	kindGroupsNoGREASE
	kindSignatureSchemes
	kindExtensions
	kindCertCompression
	// 8-bit values
	kindCompression
	kindPointFormats
	kindPSKModes
)

func (k nameKind) name(v uint16) string {
	switch k {
	case kindVersions:
		return iana.VersionName(v)
	case kindSuites:
		return iana.CipherSuiteName(v)
	case kindGroups, kindGroupsNoGREASE:
		return iana.GroupName(v)
	case kindExtensions:
		return iana.ExtensionName(v)
	case kindCertCompression:
		return iana.CertCompressionAlgorithmName(v)
	case kindCompression:
		return iana.CompressionMethodName(uint8(v))
	case kindPointFormats:
		return iana.ECPointFormatName(uint8(v))
	case kindPSKModes:
		return iana.PSKKeyExchangeModeName(uint8(v))
	default:
		return iana.SignatureSchemeName(v)
	}
}

// skipsGREASE: versions and the key shares of a second ClientHello are
// reported without GREASE values, as they always were.
func (k nameKind) skipsGREASE() bool { return k == kindVersions || k == kindGroupsNoGREASE }

func newNameLists() *nameLists {
	return &nameLists{lists: twogen.New[[]string](nameListEntries)}
}

// names returns the names of vs (GREASE values left out for some kinds),
// never nil.
func (nl *nameLists) names(kind nameKind, vs []uint16) []string {
	return listNames(nl, kind, vs)
}

// names8 is names for a list of 8-bit values, nil for an empty one.
func (nl *nameLists) names8(kind nameKind, vs []uint8) []string {
	if len(vs) == 0 {
		return nil
	}
	return listNames(nl, kind, vs)
}

// names16 is names, nil for an empty list.
func (nl *nameLists) names16(kind nameKind, vs []uint16) []string {
	if len(vs) == 0 {
		return nil
	}
	return listNames(nl, kind, vs)
}

// noNames is every empty list names returns: shared, as the others are,
// and of no capacity, so that an append never writes into it.
var noNames = []string{}

func listNames[T uint8 | uint16](nl *nameLists, kind nameKind, vs []T) []string {
	if len(vs) == 0 {
		return noNames // no lookup: the key would be the kind alone
	}
	name := func(v T) string { return kind.name(uint16(v)) }
	if nl == nil || len(vs) > maxNameListValues {
		return names(vs, name, kind.skipsGREASE())
	}
	k := append(nl.key[:0], byte(kind))
	for _, v := range vs {
		k = append(k, byte(uint16(v)>>8), byte(v)) // 2 bytes whatever the width; the kind tells lists apart
	}
	nl.key = k
	return nl.lists.Lookup(k, func(string) ([]string, bool) {
		return slices.Clip(names(vs, name, kind.skipsGREASE())), true
	})
}

// names names vs with name, leaving GREASE values out when skipGREASE.
func names[T uint8 | uint16](vs []T, name func(T) string, skipGREASE bool) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if skipGREASE && iana.IsGREASE(uint16(v)) {
			continue
		}
		out = append(out, name(v))
	}
	return out
}

// extensionNames names the types of exts, never nil.
func (nl *nameLists) extensionNames(exts []dissect.Extension) []string {
	var buf [64]uint16
	types := buf[:0]
	for _, e := range exts {
		types = append(types, e.Type)
	}
	return nl.names(kindExtensions, types)
}
