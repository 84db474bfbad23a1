package findings

import (
	"sync"
	"unsafe"

	"github.com/tlsinspect/tlsinspect/certinfo"
)

// The same certificate chains come back on thousands of connections (and
// certinfo.Cache hands out the same *Certificate for the same DER), so
// what Check says about a chain that does not depend on the handshake is
// kept in a small cache shared by all goroutines.
//
// An entry is found by the certificates' addresses, and used only when the
// certificates still hold the facts it was computed from (certFacts,
// compared field by field): a result is therefore always the one
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

// chains is the process-wide cache used by Check.
var chains = newChainCache(chainCacheEntries)

type chainKey struct {
	addrs  [maxCachedChain]uintptr
	n      int
	client bool
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

// chainCache maps chains to their chainResult. Entries go into cur; when
// cur is full it becomes old and a new cur starts, and an entry found in
// old moves back to cur: what is in use survives, the rest is dropped.
type chainCache struct {
	max int

	mu       sync.Mutex
	cur, old map[chainKey]*chainEntry
	// hits and misses count lookups, for tests.
	hits, misses int
}

func newChainCache(entries int) *chainCache {
	return &chainCache{max: entries, cur: make(map[chainKey]*chainEntry)}
}

// get returns checkChainStatic(certs, client), from the cache when it can.
func (cc *chainCache) get(certs []*certinfo.Certificate, client bool) *chainResult {
	if len(certs) > maxCachedChain || cc == nil {
		return checkChainStatic(certs, client)
	}
	k := chainKey{n: len(certs), client: client}
	for i, c := range certs {
		k.addrs[i] = uintptr(unsafe.Pointer(c))
	}
	cc.mu.Lock()
	e, ok := cc.cur[k]
	if !ok {
		if e, ok = cc.old[k]; ok {
			delete(cc.old, k)
			cc.put(k, e)
		}
	}
	if ok && e.matches(certs) {
		cc.hits++
		cc.mu.Unlock()
		return e.result
	}
	cc.misses++
	cc.mu.Unlock()

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
	cc.mu.Lock()
	cc.put(k, ne)
	cc.mu.Unlock()
	return r
}

// put adds an entry; cc.mu is held.
func (cc *chainCache) put(k chainKey, e *chainEntry) {
	if _, ok := cc.cur[k]; !ok && len(cc.cur) >= cc.max {
		cc.old, cc.cur = cc.cur, make(map[chainKey]*chainEntry, cc.max)
	}
	cc.cur[k] = e
}

// matches reports whether certs still hold the facts e was computed from.
func (e *chainEntry) matches(certs []*certinfo.Certificate) bool {
	for i, c := range certs {
		f := &e.facts[i]
		if c == nil {
			if f.present {
				return false
			}
			continue
		}
		if !f.present || f.subject != c.Subject || f.issuer != c.Issuer || f.subjectCN != c.SubjectCN ||
			f.parseError != c.ParseError || f.keyType != c.KeyType || f.curve != c.Curve ||
			f.signatureAlg != c.SignatureAlgorithm || f.keyBits != c.KeyBits || f.selfSigned != c.SelfSigned {
			return false
		}
	}
	return true
}

// len is the number of entries held.
func (cc *chainCache) len() int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return len(cc.cur) + len(cc.old)
}
