package findings

import (
	"encoding/binary"
	"unsafe"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/internal/twogen"
)

// The same certificate chains come back on thousands of connections (and
// a certinfo.Cache hands out the same *Certificate for the same DER), so
// what a Checker says about a chain that does not depend on the handshake
// is kept in a small cache of its own: one Checker per certinfo.Cache
// (per analyze worker), since an entry is found by the addresses of the
// certificates that cache hands out. It is used only when the
// certificates still hold the facts it was computed from (certFacts,
// compared as one value): a result is therefore always the one
// checkChainStatic would return now, even for certificates modified
// after a first Check or for a new certificate at a reused address. The
// cache keeps no certificate alive (the addresses are plain integers);
// it keeps copies of their strings.
//
// Memory is bounded: two generations of at most chainCacheEntries entries,
// each of at most maxChainEntryBytes (estimated); larger chains, and chains
// longer than maxCachedChain, are computed every time.
const (
	chainCacheEntries  = 512
	maxCachedChain     = 4
	maxChainEntryBytes = 4 << 10
)

// chainKeySize is the size of a chain's key: its certificates' addresses,
// 8 bytes each, then 1 for a client chain.
const chainKeySize = 8*maxCachedChain + 1

// chainKey is the key of certs (at most maxCachedChain of them) in buf.
func chainKey(buf *[chainKeySize]byte, certs []*certinfo.Certificate, client bool) []byte {
	k := buf[:0]
	for _, c := range certs {
		k = binary.LittleEndian.AppendUint64(k, uint64(uintptr(unsafe.Pointer(c))))
	}
	if client {
		k = append(k, 1)
	}
	return k
}

// certFacts are the fields of a certificate checkChainStatic reads.
type certFacts struct {
	present                                                              bool
	subject, issuer, subjectCN, parseError, keyType, curve, signatureAlg string
	keyBits                                                              int
	selfSigned                                                           bool
}

func factsOf(c *certinfo.Certificate) certFacts {
	if c == nil {
		return certFacts{}
	}
	return certFacts{
		present: true,
		subject: c.Subject, issuer: c.Issuer, subjectCN: c.SubjectCN, parseError: c.ParseError,
		keyType: c.KeyType, curve: c.Curve, signatureAlg: c.SignatureAlgorithm,
		keyBits: c.KeyBits, selfSigned: c.SelfSigned,
	}
}

func (f *certFacts) size() int {
	return int(unsafe.Sizeof(*f)) + len(f.subject) + len(f.issuer) + len(f.subjectCN) + len(f.parseError) +
		len(f.keyType) + len(f.curve) + len(f.signatureAlg)
}

type chainEntry struct {
	facts  [maxCachedChain]certFacts
	result *chainResult
}

// chainCache maps chains to their chainResult, in a twogen.Map: what is in
// use survives, the rest is dropped. Not safe for concurrent use.
type chainCache struct {
	chains *twogen.Map[*chainEntry]
	// hits and misses count lookups, for tests.
	hits, misses int
}

func newChainCache(entries int) *chainCache {
	return &chainCache{chains: twogen.New[*chainEntry](entries)}
}

// get returns checkChainStatic(certs, client), from the cache when it can.
func (cc *chainCache) get(certs []*certinfo.Certificate, client bool) *chainResult {
	if len(certs) > maxCachedChain || cc == nil {
		return checkChainStatic(certs, client)
	}
	var kb [chainKeySize]byte
	k := chainKey(&kb, certs, client)
	if e, ok := cc.chains.Get(k); ok && e.matches(certs) {
		cc.hits++
		return e.result
	}
	cc.misses++

	r := checkChainStatic(certs, client)
	ne := &chainEntry{result: r}
	size := int(unsafe.Sizeof(*ne)) + int(unsafe.Sizeof(*r)) + 16*len(r.labels) + 24*len(r.adds)
	for i, c := range certs {
		ne.facts[i] = factsOf(c)
		size += len(r.labels[i])
	}
	for i := range ne.facts[:len(certs)] {
		size += ne.facts[i].size()
	}
	for _, a := range r.adds {
		size += len(a.text)
	}
	if size > maxChainEntryBytes {
		return r
	}
	cc.chains.Put(string(k), ne)
	return r
}

// matches reports whether certs still hold the facts e was computed from.
func (e *chainEntry) matches(certs []*certinfo.Certificate) bool {
	for i, c := range certs {
		if e.facts[i] != factsOf(c) {
			return false
		}
	}
	return true
}

// len is the number of entries held.
func (cc *chainCache) len() int { return cc.chains.Len() }
