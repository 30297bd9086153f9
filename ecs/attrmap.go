package ecs

import (
	"fmt"
	"slices"
	"strings"
)

// The storage of a MapAttr. An entity's attribute map mostly has a few
// keys (name, level, hp...), the same ones on thousands of entities. A Go
// map of ten entries is several allocations and a few hundred bytes, and
// visiting it in key order (snapshots, sync) means collecting and sorting
// its keys. So a map of up to smallMapMax keys keeps them in a sorted
// slice with the values beside them, and maps built in bulk (a snapshot
// restore, AttrKeys) share one read-only key slice; a larger map switches
// to a Go map, whose inserts do not shift the slices.

// smallMapMax is the most keys a MapAttr keeps in sorted slices.
const smallMapMax = 32

// AttrKeys is a sorted set of attribute keys that many maps share
// read-only (NewMapAttrWith, Entity.AdoptAttrsWith): restoring 100,000
// entities with the same ten keys then stores the keys once. A map that
// later gains or loses a key copies them first. An AttrKeys is immutable
// and safe to share between worlds and goroutines.
type AttrKeys struct {
	keys []string
}

// NewAttrKeys returns the key set keys, which must be in increasing order
// without repeats (ErrDuplicate otherwise, or ErrAttrType for a set
// larger than a shared set may be: smallMapMax keys). The slice is
// copied.
func NewAttrKeys(keys []string) (*AttrKeys, error) {
	if len(keys) > smallMapMax {
		return nil, fmt.Errorf("%w: %d shared keys (max %d)", ErrAttrType, len(keys), smallMapMax)
	}
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			return nil, fmt.Errorf("%w: key %q after %q (keys must increase)", ErrDuplicate, keys[i], keys[i-1])
		}
	}
	return &AttrKeys{keys: slices.Clip(slices.Clone(keys))}, nil
}

// Len returns the number of keys.
func (k *AttrKeys) Len() int { return len(k.keys) }

// Key returns the i-th key in increasing order.
func (k *AttrKeys) Key(i int) string { return k.keys[i] }

// find returns the index of key in the small form, or where it would go.
func (m *MapAttr) find(key string) (int, bool) {
	ks := m.keys
	if len(ks) <= 8 { // a linear scan beats the binary search here
		for i, k := range ks {
			if k >= key {
				return i, k == key
			}
		}
		return len(ks), false
	}
	return slices.BinarySearch(ks, key)
}

// lookup returns the value at key.
func (m *MapAttr) lookup(key string) (any, bool) {
	if m.packed != "" {
		m.unpack()
	}
	if m.big != nil {
		v, ok := m.big[key]
		return v, ok
	}
	if i, ok := m.find(key); ok {
		return m.vals[i], true
	}
	return nil, false
}

// store sets key to v, growing into the large form past smallMapMax keys.
func (m *MapAttr) store(key string, v any) {
	if m.packed != "" {
		m.unpack()
	}
	if m.big != nil {
		m.big[key] = v
		return
	}
	i, ok := m.find(key)
	if ok {
		m.vals[i] = v
		return
	}
	if len(m.keys) == smallMapMax {
		m.big = make(map[string]any, 2*smallMapMax)
		for j, k := range m.keys {
			m.big[k] = m.vals[j]
		}
		m.big[key] = v
		m.keys, m.vals, m.shared = nil, nil, false
		return
	}
	if m.shared {
		m.keys = append(make([]string, 0, len(m.keys)+1), m.keys...)
		m.shared = false
	}
	m.keys = slices.Insert(m.keys, i, key)
	m.vals = slices.Insert(m.vals, i, v)
}

// remove deletes key and returns its value.
func (m *MapAttr) remove(key string) (any, bool) {
	if m.packed != "" {
		m.unpack()
	}
	if m.big != nil {
		v, ok := m.big[key]
		if ok {
			delete(m.big, key)
		}
		return v, ok
	}
	i, ok := m.find(key)
	if !ok {
		return nil, false
	}
	v := m.vals[i]
	if m.shared {
		m.keys = slices.Delete(slices.Clone(m.keys), i, i+1)
		m.shared = false
	} else {
		m.keys = slices.Delete(m.keys, i, i+1)
	}
	m.vals = slices.Delete(m.vals, i, i+1)
	return v, true
}

// length returns the number of keys.
func (m *MapAttr) length() int {
	if m.big != nil {
		return len(m.big)
	}
	return len(m.keys)
}

// each calls fn for every pair until it returns false: in key order in
// the small form, in no particular order in the large form.
func (m *MapAttr) each(fn func(k string, v any) bool) {
	if m.packed != "" {
		m.unpack()
	}
	if m.big != nil {
		for k, v := range m.big {
			if !fn(k, v) {
				return
			}
		}
		return
	}
	for i, k := range m.keys {
		if !fn(k, m.vals[i]) {
			return
		}
	}
}

// empty removes every key (back to the small form).
func (m *MapAttr) empty() {
	m.packed = ""
	if m.shared {
		m.keys, m.shared = nil, false
	}
	clear(m.keys)
	clear(m.vals)
	m.keys, m.vals, m.big = m.keys[:0], m.vals[:0], nil
}

// setSorted replaces the contents with keys[i] → vals[i]; keys are sorted
// and unique. Both slices are kept; shared says keys belongs to an
// AttrKeys (and is copied before the key set changes).
func (m *MapAttr) setSorted(keys []string, vals []any, shared bool) {
	m.big, m.packed = nil, ""
	switch {
	case len(keys) > smallMapMax:
		m.big = make(map[string]any, len(keys))
		for i, k := range keys {
			m.big[k] = vals[i]
		}
		m.keys, m.vals, m.shared = nil, nil, false
	default:
		m.keys, m.vals, m.shared = keys, vals, shared
	}
}

// sortPairs sorts keys and vals together by key and reports whether a key
// repeats.
func sortPairs(keys []string, vals []any) (dup bool) {
	if !slices.IsSorted(keys) {
		idx := make([]int, len(keys))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
		ks := make([]string, len(keys))
		vs := make([]any, len(vals))
		for i, j := range idx {
			ks[i], vs[i] = keys[j], vals[j]
		}
		copy(keys, ks)
		copy(vals, vs)
	}
	for i := 1; i < len(keys); i++ {
		if keys[i] == keys[i-1] {
			return true
		}
	}
	return false
}

// Sorted returns m's keys and values in increasing key order as m holds
// them, without copying, for code that reads many maps in a row (a
// snapshot writer). Both slices are read-only and valid until m changes.
// ok is false for a map in the large form (more than a few dozen keys),
// which keeps no order: use SortedRange.
func (m *MapAttr) Sorted() (keys []string, vals []any, ok bool) {
	if m == nil {
		return nil, nil, true
	}
	if m.packed != "" {
		m.unpack()
	}
	if m.big != nil {
		return nil, nil, false
	}
	return m.keys, m.vals, true
}

// SortedRange calls fn for each key and value in increasing key order
// until fn returns false. A map of up to a few dozen keys is kept sorted,
// so this costs no more than Range; a larger one sorts its keys first
// (which allocates). fn must not modify the map.
func (m *MapAttr) SortedRange(fn func(key string, v any) bool) {
	if m == nil {
		return
	}
	if m.big == nil {
		m.each(fn)
		return
	}
	for _, k := range sortedKeys(m.big) {
		if !fn(k, m.big[k]) {
			return
		}
	}
}

// NewMapAttrWith returns a detached map of keys.Key(i) → vals[i], sharing
// keys; it keeps vals (the caller must not use the slice afterwards).
// Values must be in stored form as for NewMapAttrOf; errors as there.
func NewMapAttrWith(keys *AttrKeys, vals []any) (*MapAttr, error) {
	m := &MapAttr{attrNode: attrNode{index: -1}}
	if err := fillShared(m, keys, vals); err != nil {
		return nil, err
	}
	return m, nil
}

// AdoptAttrsWith is AdoptAttrs for a shared key set: e's root attributes
// become keys.Key(i) → vals[i], and the root keeps vals (the caller must
// not use the slice afterwards). It is the cheapest way to rebuild
// entities in bulk: no key is copied, sorted or hashed.
func (e *Entity) AdoptAttrsWith(keys *AttrKeys, vals []any) error {
	return e.adopt(func(root *MapAttr) error { return fillShared(root, keys, vals) })
}

// fillShared sets m's contents to keys → vals; on error m is unchanged.
func fillShared(m *MapAttr, keys *AttrKeys, vals []any) error {
	if keys == nil {
		return fmt.Errorf("%w: nil AttrKeys", ErrAttrType)
	}
	if len(keys.keys) != len(vals) {
		return fmt.Errorf("%w: %d keys for %d values", ErrAttrType, len(keys.keys), len(vals))
	}
	h, err := checkValues(vals)
	if err != nil {
		return err
	}
	if h+1 > MaxAttrDepth {
		return fmt.Errorf("%w: %d levels (max %d)", ErrAttrDepth, h+1, MaxAttrDepth)
	}
	m.setSorted(keys.keys, vals, true)
	if h > 0 {
		for i, k := range keys.keys {
			setChild(&m.attrNode, vals[i], k, -1)
		}
	}
	return nil
}
