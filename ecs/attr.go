package ecs

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Attributes are an entity's loosely typed, nested state (name, level,
// inventory...), kept apart from components because they are synced to
// clients and saved by key with per-key flags (EntityType.Attr).
//
// A value is one of: int64, float64, bool, string, []byte, *MapAttr,
// *ListAttr. Setters also take the other Go integer types (normalised to
// int64; an uint64 above MaxInt64 is an error), float32 (to float64), and
// plain map[string]any / []any trees, which are converted recursively into
// MapAttr / ListAttr. Anything else, nil included, fails with ErrAttrType.
//
// []byte values are copied when set and shared when read (Get, Bytes,
// ToMap, AttrChange.Value): never modify a []byte read from attributes.
//
// A container belongs to one parent. Setting a container that is already
// attached somewhere (or is an entity's root, or would end up inside
// itself) fails with ErrAttrAttached: Clone it, or Delete/Pop it from its
// old place first (that detaches it). This keeps ownership and change
// paths unambiguous and makes copying explicit.
//
// Nesting is bounded: an entity's root map is level 1 and no container may
// sit deeper than MaxAttrDepth; deeper values fail with ErrAttrDepth.
//
// Every mutation of an entity's attribute tree is recorded on the entity
// as an AttrChange (see Entity.AttrChanges) and puts the entity on the
// world's AttrDirty list. Detached trees record nothing; attaching one
// records a single Set carrying its whole plain value.

// MaxAttrDepth is the deepest level a container may sit at (the root map
// of an entity is level 1).
const MaxAttrDepth = 16

// AttrOp is the kind of an attribute change.
type AttrOp uint8

const (
	// AttrSet: the value at Path was set to Value (a map key or a list
	// index).
	AttrSet AttrOp = iota + 1
	// AttrDelete: the map key at Path was deleted.
	AttrDelete
	// AttrAppend: Value was appended to the list at Path.
	AttrAppend
	// AttrPop: the last element of the list at Path was removed.
	AttrPop
	// AttrClear: the map or list at Path was emptied.
	AttrClear
)

// String returns the op in lower case ("set", "append"...).
func (op AttrOp) String() string {
	switch op {
	case AttrSet:
		return "set"
	case AttrDelete:
		return "delete"
	case AttrAppend:
		return "append"
	case AttrPop:
		return "pop"
	case AttrClear:
		return "clear"
	}
	return "AttrOp(" + strconv.Itoa(int(op)) + ")"
}

// AttrChange is one recorded mutation of an entity's attributes.
//
// Path leads from the root map: string keys of maps and int indices of
// lists; Path[0] is always the top-level key, whose flags say who sees the
// change (EntityType.AttrFlags). Value is the new value for AttrSet and
// AttrAppend in plain form (containers as map[string]any / []any deep
// copies), nil otherwise.
//
// Changes are coalesced as they are recorded: a Set or Delete drops every
// earlier change at its path or below it; a Clear drops earlier changes
// below its path and earlier Append/Pop/Clear at it. What remains, applied
// in order, turns the state at the last reset into the current state.
// Setting a scalar to the value it already has records nothing.
type AttrChange struct {
	Path  []any  // from the root: string map keys and int list indices
	Op    AttrOp // what was done at Path
	Value any    // the new value (plain form) for AttrSet and AttrAppend
}

// attrTracker is the change log of an entity's root map (Entity.track).
type attrTracker struct {
	changes []AttrChange
}

func (t *attrTracker) reset() {
	clear(t.changes)
	t.changes = t.changes[:0]
}

// add records c for entity e, whose log t is.
func (t *attrTracker) add(e *Entity, c AttrChange) {
	switch c.Op {
	case AttrSet, AttrDelete:
		t.drop(func(o *AttrChange) bool { return pathHasPrefix(o.Path, c.Path) })
	case AttrClear:
		t.drop(func(o *AttrChange) bool {
			if len(o.Path) == len(c.Path) {
				return o.Op != AttrSet && o.Op != AttrDelete && pathHasPrefix(o.Path, c.Path)
			}
			return pathHasPrefix(o.Path, c.Path)
		})
	}
	t.changes = append(t.changes, c)
	if !e.attrDirty && !e.destroyed {
		e.attrDirty = true
		e.w.attrDirty = append(e.w.attrDirty, e)
	}
}

// drop removes the changes matching f, keeping the order of the rest.
func (t *attrTracker) drop(f func(*AttrChange) bool) {
	n := 0
	for i := range t.changes {
		if !f(&t.changes[i]) {
			t.changes[n] = t.changes[i]
			n++
		}
	}
	clear(t.changes[n:])
	t.changes = t.changes[:n]
}

// pathHasPrefix reports whether p starts with prefix (or equals it).
func pathHasPrefix(p, prefix []any) bool {
	if len(p) < len(prefix) {
		return false
	}
	for i, k := range prefix {
		if p[i] != k { // string or int: comparable
			return false
		}
	}
	return true
}

// attrNode is the part of a container that places it in a tree.
type attrNode struct {
	parent *attrNode
	key    string  // key in the parent map
	owner  *Entity // set only on an entity's root map
	index  int32   // index in the parent list; -1 if the parent is a map
	// shared is MapAttr's (it fills the padding here, which makes every
	// map, and every entity's root, a word smaller): the keys belong to
	// an AttrKeys and are copied before the key set changes.
	shared bool
}

func (n *attrNode) attached() bool { return n.parent != nil || n.owner != nil }

// level returns the container's level (1 for a root) and the entity whose
// root it is under (nil for a detached tree).
func (n *attrNode) level() (int, *Entity) {
	l := 1
	for n.parent != nil {
		n = n.parent
		l++
	}
	return l, n.owner
}

// record logs a change at this container (plus key or index when hasElem)
// if the tree belongs to an entity. value is converted to plain form only
// then, so untracked trees pay nothing.
func (n *attrNode) record(op AttrOp, elem any, hasElem bool, value any) {
	l, e := n.level()
	if e == nil {
		return
	}
	size := l - 1
	if hasElem {
		size++
	}
	path := make([]any, size)
	i := l - 2
	if hasElem {
		path[size-1] = elem
	}
	for c := n; c.parent != nil; c = c.parent {
		if c.index >= 0 {
			path[i] = int(c.index)
		} else {
			path[i] = c.key
		}
		i--
	}
	e.track.add(e, AttrChange{Path: path, Op: op, Value: plain(value)})
}

func (n *attrNode) attachTo(parent *attrNode, key string, index int) {
	n.parent, n.key, n.index = parent, key, int32(index) // a list of 2^31 values would take 32 GB
}

func (n *attrNode) detach() { n.parent, n.key, n.index = nil, "", -1 }

// MapAttr is a map of attributes. The zero value is not usable: use
// NewMapAttr, Entity.Attrs or MapAttr.Map. Reading methods and Map/List
// are nil-safe; mutations of a nil *MapAttr return ErrAttrNil.
type MapAttr struct {
	attrNode
	// Up to smallMapMax keys: keys sorted, vals beside them (see
	// attrmap.go); beyond: big.
	keys []string
	vals []any
	big  map[string]any
	// packed holds the values in encoded form until their first use
	// (vals is nil then; see attrpacked.go).
	packed string
}

// ListAttr is a list of attributes. Elements are only appended, set in
// place and popped from the end, so an element's index (its change path)
// never shifts. Reading methods are nil-safe; mutations of a nil *ListAttr
// return ErrAttrNil.
type ListAttr struct {
	attrNode
	l []any
}

// NewMapAttr returns an empty, detached map.
func NewMapAttr() *MapAttr {
	return &MapAttr{attrNode: attrNode{index: -1}}
}

// NewListAttr returns an empty, detached list.
func NewListAttr() *ListAttr { return &ListAttr{attrNode: attrNode{index: -1}} }

// initAttrs makes e's root map (held in e itself) and fills it with attrs,
// which are not recorded as changes.
func (e *Entity) initAttrs(attrs map[string]any) error {
	m := &e.root
	m.index = -1
	if len(attrs) > 0 { // none, for a restore
		for _, k := range sortedKeys(attrs) {
			if err := m.Set(k, attrs[k]); err != nil {
				return fmt.Errorf("attribute %q: %w", k, err)
			}
		}
	}
	m.owner = e
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// normalize checks v and converts it to a stored value for a container at
// level l. Containers in the result are detached and not yet attached.
func normalize(v any, l int, target *attrNode) (any, error) {
	switch x := v.(type) {
	case *MapAttr:
		if x == nil {
			return nil, fmt.Errorf("%w: nil *MapAttr", ErrAttrType)
		}
		return x, checkSubtree(&x.attrNode, x.height(), l, target)
	case *ListAttr:
		if x == nil {
			return nil, fmt.Errorf("%w: nil *ListAttr", ErrAttrType)
		}
		return x, checkSubtree(&x.attrNode, x.height(), l, target)
	case map[string]any:
		return fromPlain(x, MaxAttrDepth-l)
	case []any:
		return fromPlain(x, MaxAttrDepth-l)
	}
	return scalar(v)
}

// checkSubtree says whether a container of the given height may be put
// in the container target at level l.
func checkSubtree(n *attrNode, height, l int, target *attrNode) error {
	if n.attached() {
		return ErrAttrAttached
	}
	for c := target; c != nil; c = c.parent {
		if c == n {
			return fmt.Errorf("%w: a container cannot contain itself", ErrAttrAttached)
		}
	}
	if l+height > MaxAttrDepth {
		return fmt.Errorf("%w: %d levels under level %d (max %d)", ErrAttrDepth, height, l, MaxAttrDepth)
	}
	return nil
}

// fromPlain converts a plain value, allowing budget more container levels.
func fromPlain(v any, budget int) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if budget < 1 {
			return nil, fmt.Errorf("%w: max %d levels", ErrAttrDepth, MaxAttrDepth)
		}
		m := NewMapAttr()
		keys := sortedKeys(x)
		vals := make([]any, len(keys))
		for i, k := range keys {
			nv, err := fromPlain(x[k], budget-1)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			setChild(&m.attrNode, nv, k, -1)
			vals[i] = nv
		}
		m.setSorted(keys, vals, false)
		return m, nil
	case []any:
		if budget < 1 {
			return nil, fmt.Errorf("%w: max %d levels", ErrAttrDepth, MaxAttrDepth)
		}
		l := &ListAttr{attrNode: attrNode{index: -1}, l: make([]any, 0, len(x))}
		for i, cv := range x {
			nv, err := fromPlain(cv, budget-1)
			if err != nil {
				return nil, fmt.Errorf("index %d: %w", i, err)
			}
			setChild(&l.attrNode, nv, "", i)
			l.l = append(l.l, nv)
		}
		return l, nil
	case *MapAttr, *ListAttr:
		return nil, fmt.Errorf("%w: %T inside a plain map or slice", ErrAttrType, v)
	}
	return scalar(v)
}

// scalar normalises a scalar value.
func scalar(v any) (any, error) {
	switch x := v.(type) {
	case int64, float64, bool, string:
		return x, nil
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return nil, fmt.Errorf("%w: %d overflows int64", ErrAttrType, x)
		}
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("%w: %d overflows int64", ErrAttrType, x)
		}
		return int64(x), nil
	case float32:
		return float64(x), nil
	case []byte:
		return append([]byte{}, x...), nil
	}
	return nil, fmt.Errorf("%w: %T", ErrAttrType, v)
}

// setChild attaches v to parent if it is a container.
func setChild(parent *attrNode, v any, key string, index int) {
	switch c := v.(type) {
	case *MapAttr:
		c.attachTo(parent, key, index)
	case *ListAttr:
		c.attachTo(parent, key, index)
	}
}

// unsetChild detaches v if it is a container.
func unsetChild(v any) {
	switch c := v.(type) {
	case *MapAttr:
		c.detach()
	case *ListAttr:
		c.detach()
	}
}

// sameScalar reports whether old and nv are equal scalars.
func sameScalar(old, nv any) bool {
	switch o := old.(type) {
	case []byte:
		n, ok := nv.([]byte)
		return ok && bytes.Equal(o, n)
	case *MapAttr, *ListAttr:
		return false
	}
	if _, ok := nv.([]byte); ok {
		return false
	}
	if o, ok := old.(float64); ok && o != o {
		n, ok := nv.(float64)
		return ok && n != n // NaN == NaN here, or every Set of NaN would be a change
	}
	return old == nv
}

// sameContainer reports whether old and v are the same container.
func sameContainer(old, v any) bool {
	switch x := v.(type) {
	case *MapAttr:
		o, ok := old.(*MapAttr)
		return ok && o == x
	case *ListAttr:
		o, ok := old.(*ListAttr)
		return ok && o == x
	}
	return false
}

// plain converts a stored value to its plain form.
func plain(v any) any {
	switch x := v.(type) {
	case *MapAttr:
		return x.ToMap()
	case *ListAttr:
		return x.ToSlice()
	}
	return v
}

func heightOf(v any) int {
	switch x := v.(type) {
	case *MapAttr:
		return x.height()
	case *ListAttr:
		return x.height()
	}
	return 0
}

func (m *MapAttr) height() int {
	if m.packed != "" {
		return 1 // scalars only
	}
	h := 0
	m.each(func(_ string, v any) bool {
		h = max(h, heightOf(v))
		return true
	})
	return h + 1
}

func (l *ListAttr) height() int {
	h := 0
	for _, v := range l.l {
		h = max(h, heightOf(v))
	}
	return h + 1
}

// Set sets key to v (see the package notes for the accepted values).
// Setting a scalar to its current value records nothing. On error the map
// is unchanged.
func (m *MapAttr) Set(key string, v any) error {
	if m == nil {
		return ErrAttrNil
	}
	old, had := m.lookup(key)
	if had && sameContainer(old, v) {
		return nil // re-setting a child at its own key
	}
	l, _ := m.level()
	nv, err := normalize(v, l, &m.attrNode)
	if err != nil {
		return fmt.Errorf("set %q: %w", key, err)
	}
	if had {
		if sameScalar(old, nv) {
			return nil
		}
		unsetChild(old)
	}
	setChild(&m.attrNode, nv, key, -1)
	m.store(key, nv)
	m.record(AttrSet, key, true, nv)
	return nil
}

// Get returns the value at key.
func (m *MapAttr) Get(key string) (any, bool) {
	if m == nil {
		return nil, false
	}
	return m.lookup(key)
}

// Has reports whether key is set.
func (m *MapAttr) Has(key string) bool {
	if m == nil {
		return false
	}
	if m.packed != "" { // the keys are enough
		_, ok := m.find(key)
		return ok
	}
	_, ok := m.lookup(key)
	return ok
}

// Int returns the int64 at key (0 if absent or not an int64).
func (m *MapAttr) Int(key string) int64 {
	v, _ := m.Get(key)
	i, _ := v.(int64)
	return i
}

// Float returns the number at key as float64 (an int64 is converted; 0 if
// absent or not a number).
func (m *MapAttr) Float(key string) float64 {
	v, _ := m.Get(key)
	return asFloat(v)
}

// Str returns the string at key ("" if absent or not a string).
func (m *MapAttr) Str(key string) string {
	v, _ := m.Get(key)
	s, _ := v.(string)
	return s
}

// Bool returns the bool at key (false if absent or not a bool).
func (m *MapAttr) Bool(key string) bool {
	v, _ := m.Get(key)
	b, _ := v.(bool)
	return b
}

// Bytes returns the []byte at key (nil if absent or not bytes). Do not
// modify it.
func (m *MapAttr) Bytes(key string) []byte {
	v, _ := m.Get(key)
	b, _ := v.([]byte)
	return b
}

// Map returns the child map at key, creating (and recording) an empty one
// if key is absent. It returns nil if key holds another kind of value or
// a new map would exceed MaxAttrDepth; mutations of that nil then return
// ErrAttrNil, so chains like m.Map("a").Map("b").Set("x", 1) never panic.
func (m *MapAttr) Map(key string) *MapAttr {
	if m == nil {
		return nil
	}
	if v, ok := m.lookup(key); ok {
		c, _ := v.(*MapAttr)
		return c
	}
	c := NewMapAttr()
	if m.Set(key, c) != nil {
		return nil
	}
	return c
}

// List returns the child list at key, creating (and recording) an empty
// one if key is absent; nil like Map otherwise.
func (m *MapAttr) List(key string) *ListAttr {
	if m == nil {
		return nil
	}
	if v, ok := m.lookup(key); ok {
		c, _ := v.(*ListAttr)
		return c
	}
	c := NewListAttr()
	if m.Set(key, c) != nil {
		return nil
	}
	return c
}

// Delete removes key; a container value is detached (and may be set
// elsewhere). Deleting an absent key records nothing.
func (m *MapAttr) Delete(key string) {
	if m == nil {
		return
	}
	old, ok := m.remove(key)
	if !ok {
		return
	}
	unsetChild(old)
	m.record(AttrDelete, key, true, nil)
}

// Clear removes every key (detaching child containers). Clearing an empty
// map records nothing.
func (m *MapAttr) Clear() {
	if m == nil || m.length() == 0 {
		return
	}
	m.each(func(_ string, v any) bool {
		unsetChild(v)
		return true
	})
	m.empty()
	m.record(AttrClear, nil, false, nil)
}

// Len returns the number of keys.
func (m *MapAttr) Len() int {
	if m == nil {
		return 0
	}
	return m.length()
}

// Keys returns the keys, sorted.
func (m *MapAttr) Keys() []string {
	if m == nil {
		return nil
	}
	if m.big != nil {
		return sortedKeys(m.big)
	}
	return slices.Clone(m.keys)
}

// Range calls fn for each key and value, in no particular order (use
// SortedRange for key order), until fn returns false. fn must not modify
// the map.
func (m *MapAttr) Range(fn func(key string, v any) bool) {
	if m == nil {
		return
	}
	m.each(fn)
}

// ToMap returns a deep plain copy: nested maps as map[string]any, lists
// as []any ([]byte values shared). Nil for a nil map.
func (m *MapAttr) ToMap() map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, m.length())
	m.each(func(k string, v any) bool {
		out[k] = plain(v)
		return true
	})
	return out
}

// Clone returns a deep, detached copy.
func (m *MapAttr) Clone() *MapAttr {
	if m == nil {
		return nil
	}
	c := NewMapAttr()
	if m.packed != "" {
		m.unpack()
	}
	if m.big != nil {
		c.big = make(map[string]any, len(m.big))
	} else {
		// A shared key set stays shared; the values are the clone's own.
		c.keys, c.shared = m.keys, m.shared
		if !m.shared {
			c.keys = slices.Clone(m.keys)
		}
		c.vals = make([]any, len(m.vals))
	}
	i := 0
	m.each(func(k string, v any) bool {
		nv := cloneValue(v)
		setChild(&c.attrNode, nv, k, -1)
		if c.big != nil {
			c.big[k] = nv
		} else {
			c.vals[i] = nv
			i++
		}
		return true
	})
	return c
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case *MapAttr:
		return x.Clone()
	case *ListAttr:
		return x.Clone()
	}
	return v
}

func asFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	}
	return 0
}

// Append appends v to the list.
func (l *ListAttr) Append(v any) error {
	if l == nil {
		return ErrAttrNil
	}
	lv, _ := l.level()
	nv, err := normalize(v, lv, &l.attrNode)
	if err != nil {
		return fmt.Errorf("append: %w", err)
	}
	setChild(&l.attrNode, nv, "", len(l.l))
	l.l = append(l.l, nv)
	l.record(AttrAppend, nil, false, nv)
	return nil
}

// Set replaces element i; an index out of range is an ErrAttrIndex error.
func (l *ListAttr) Set(i int, v any) error {
	if l == nil {
		return ErrAttrNil
	}
	if i < 0 || i >= len(l.l) {
		return fmt.Errorf("%w: index %d, length %d", ErrAttrIndex, i, len(l.l))
	}
	old := l.l[i]
	if sameContainer(old, v) {
		return nil
	}
	lv, _ := l.level()
	nv, err := normalize(v, lv, &l.attrNode)
	if err != nil {
		return fmt.Errorf("set %d: %w", i, err)
	}
	if sameScalar(old, nv) {
		return nil
	}
	unsetChild(old)
	setChild(&l.attrNode, nv, "", i)
	l.l[i] = nv
	l.record(AttrSet, i, true, nv)
	return nil
}

// Get returns element i (false if out of range).
func (l *ListAttr) Get(i int) (any, bool) {
	if l == nil || i < 0 || i >= len(l.l) {
		return nil, false
	}
	return l.l[i], true
}

// Int returns element i as int64 (0 if absent or not an int64).
func (l *ListAttr) Int(i int) int64 {
	v, _ := l.Get(i)
	n, _ := v.(int64)
	return n
}

// Float returns element i as float64 (an int64 is converted).
func (l *ListAttr) Float(i int) float64 {
	v, _ := l.Get(i)
	return asFloat(v)
}

// Str returns element i as a string ("" if absent or not a string).
func (l *ListAttr) Str(i int) string {
	v, _ := l.Get(i)
	s, _ := v.(string)
	return s
}

// Map returns element i if it is a map, else nil.
func (l *ListAttr) Map(i int) *MapAttr {
	v, _ := l.Get(i)
	m, _ := v.(*MapAttr)
	return m
}

// List returns element i if it is a list, else nil.
func (l *ListAttr) List(i int) *ListAttr {
	v, _ := l.Get(i)
	c, _ := v.(*ListAttr)
	return c
}

// Pop removes and returns the last element (false if empty); a container
// comes back detached.
func (l *ListAttr) Pop() (any, bool) {
	if l == nil || len(l.l) == 0 {
		return nil, false
	}
	n := len(l.l) - 1
	v := l.l[n]
	l.l[n] = nil
	l.l = l.l[:n]
	unsetChild(v)
	l.record(AttrPop, nil, false, nil)
	return v, true
}

// Clear removes every element. Clearing an empty list records nothing.
func (l *ListAttr) Clear() {
	if l == nil || len(l.l) == 0 {
		return
	}
	for _, v := range l.l {
		unsetChild(v)
	}
	clear(l.l)
	l.l = l.l[:0]
	l.record(AttrClear, nil, false, nil)
}

// Len returns the number of elements.
func (l *ListAttr) Len() int {
	if l == nil {
		return 0
	}
	return len(l.l)
}

// ToSlice returns a deep plain copy (see MapAttr.ToMap). Nil for a nil
// list.
func (l *ListAttr) ToSlice() []any {
	if l == nil {
		return nil
	}
	out := make([]any, len(l.l))
	for i, v := range l.l {
		out[i] = plain(v)
	}
	return out
}

// Clone returns a deep, detached copy.
func (l *ListAttr) Clone() *ListAttr {
	if l == nil {
		return nil
	}
	c := &ListAttr{attrNode: attrNode{index: -1}, l: make([]any, len(l.l))}
	for i, v := range l.l {
		nv := cloneValue(v)
		setChild(&c.attrNode, nv, "", i)
		c.l[i] = nv
	}
	return c
}
