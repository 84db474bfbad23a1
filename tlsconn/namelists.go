package tlsconn

import (
	"slices"

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
// every time. Not safe for concurrent use: one per Tracker. The nil
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
)

func (k nameKind) name(v uint16) string {
	switch k {
	case kindVersions:
		return iana.VersionName(v)
	case kindSuites:
		return iana.CipherSuiteName(v)
	case kindGroups, kindGroupsNoGREASE:
		return iana.GroupName(v)
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
	if nl == nil || len(vs) > maxNameListValues {
		return names(vs, kind.name, kind.skipsGREASE())
	}
	k := append(nl.key[:0], byte(kind))
	for _, v := range vs {
		k = append(k, byte(v>>8), byte(v))
	}
	nl.key = k
	if l, ok := nl.lists.Get(k); ok {
		return l
	}
	l := slices.Clip(names(vs, kind.name, kind.skipsGREASE()))
	nl.lists.Put(string(k), l)
	return l
}

// names names vs with name, leaving GREASE values out when skipGREASE.
func names(vs []uint16, name func(uint16) string, skipGREASE bool) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if skipGREASE && iana.IsGREASE(v) {
			continue
		}
		out = append(out, name(v))
	}
	return out
}
