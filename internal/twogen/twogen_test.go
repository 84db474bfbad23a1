package twogen

import (
	"strconv"
	"testing"
)

// An entry in use survives any number of generations; entries not used
// for a generation go; the map never holds more than two generations.
func TestMap(t *testing.T) {
	m := New[int](4)
	m.Put("hot", -1)
	for i := range 100 {
		m.Put(strconv.Itoa(i), i)
		if v, ok := m.Get([]byte("hot")); !ok || v != -1 {
			t.Fatalf("after %d puts: hot = %d, %v", i+1, v, ok)
		}
		if m.Len() > 8 {
			t.Fatalf("after %d puts: %d entries", i+1, m.Len())
		}
	}
	if _, ok := m.Get([]byte("0")); ok {
		t.Error("an entry unused for many generations is still there")
	}
	if _, ok := m.GetString("0"); ok {
		t.Error("GetString: an entry unused for many generations is still there")
	}
	if v, ok := m.Get([]byte("99")); !ok || v != 99 {
		t.Errorf("the last entry: %d, %v", v, ok)
	}
	m.Put("99", 100) // an update does not start a generation
	if v, _ := m.Get([]byte("99")); v != 100 {
		t.Errorf("updated entry: %d", v)
	}
}

// A hit allocates nothing, nor does a miss.
func TestGetAllocates(t *testing.T) {
	m := New[string](4)
	m.Put("key", "value")
	key, other := []byte("key"), []byte("other")
	if n := testing.AllocsPerRun(100, func() { m.Get(key); m.Get(other) }); n != 0 {
		t.Errorf("%v allocations per Get", n)
	}
}

// GetString finds what Get finds, and brings an entry of the old
// generation back as Get does.
func TestGetString(t *testing.T) {
	m := New[int](2)
	m.Put("a", 1)
	m.Put("b", 2)
	m.Put("c", 3) // a and b are the old generation
	if v, ok := m.GetString("a"); !ok || v != 1 {
		t.Fatalf("a = %d, %v", v, ok)
	}
	m.Put("d", 4) // c and a (brought back) become old, b goes
	if _, ok := m.GetString("b"); ok {
		t.Error("b, unused, is still there")
	}
	if v, ok := m.GetString("a"); !ok || v != 1 {
		t.Errorf("a, used, is gone: %d, %v", v, ok)
	}
	if _, ok := m.GetString("zz"); ok {
		t.Error("a key never put is found")
	}
}

// TestLookup: compute runs on a miss only, gets the key, and its value is
// kept only when it says so.
func TestLookup(t *testing.T) {
	m := New[string](4)
	calls := 0
	compute := func(keep bool) func(string) (string, bool) {
		return func(k string) (string, bool) {
			calls++
			return "v-" + k, keep
		}
	}
	if v := m.Lookup([]byte("a"), compute(true)); v != "v-a" || calls != 1 {
		t.Fatalf("miss: %q after %d calls", v, calls)
	}
	if v := m.Lookup([]byte("a"), compute(true)); v != "v-a" || calls != 1 {
		t.Fatalf("hit: %q after %d calls", v, calls)
	}
	m.Lookup([]byte("b"), compute(false))
	m.Lookup([]byte("b"), compute(false))
	if calls != 3 || m.Len() != 1 {
		t.Fatalf("a value not to keep: %d calls, %d held", calls, m.Len())
	}
}
