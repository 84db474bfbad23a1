// Package twogen is the bounded map behind the caches of things that
// repeat across connections (fingerprints, name lists, certificates' JSON): two generations
// of at most a fixed number of entries each. When the current generation
// is full it becomes the old one and the one before is dropped; a hit in
// the old generation moves the entry back to the current one, so what is
// in use stays and the rest goes, with no per-entry bookkeeping.
package twogen

// Map maps strings to values; at most 2×max entries. It is not safe for
// concurrent use.
type Map[V any] struct {
	max      int
	cur, old map[string]V
}

// New returns a Map of at most max entries per generation (max > 0).
func New[V any](max int) *Map[V] {
	return &Map[V]{max: max, cur: make(map[string]V)}
}

// Get returns the value of key. key is a []byte so that a lookup of bytes
// built in a scratch buffer allocates nothing.
func (m *Map[V]) Get(key []byte) (V, bool) {
	if v, ok := m.cur[string(key)]; ok {
		return v, true
	}
	v, ok := m.old[string(key)]
	if ok {
		m.promote(string(key), v) // the key made a string only on a hit
	}
	return v, ok
}

// GetString is Get for a key that is a string already.
func (m *Map[V]) GetString(key string) (V, bool) {
	if v, ok := m.cur[key]; ok {
		return v, true
	}
	v, ok := m.old[key]
	if ok {
		m.promote(key, v)
	}
	return v, ok
}

// promote moves key's entry, v, from the old generation to the current one.
func (m *Map[V]) promote(key string, v V) {
	delete(m.old, key)
	m.Put(key, v)
}

// Lookup returns the value of key, or else compute's: compute is given key
// as a string (a value that holds the key can share it) and says whether
// its value may be kept.
func (m *Map[V]) Lookup(key []byte, compute func(key string) (V, bool)) V {
	if v, ok := m.Get(key); ok {
		return v
	}
	k := string(key)
	v, keep := compute(k)
	if keep {
		m.Put(k, v)
	}
	return v
}

// Put sets the value of key.
func (m *Map[V]) Put(key string, v V) {
	if _, ok := m.cur[key]; !ok && len(m.cur) >= m.max {
		m.old, m.cur = m.cur, make(map[string]V, m.max)
	}
	m.cur[key] = v
}

// Len returns the number of entries held.
func (m *Map[V]) Len() int { return len(m.cur) + len(m.old) }
