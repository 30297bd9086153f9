package ecs

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
)

func TestNewAttrKeys(t *testing.T) {
	many := make([]string, smallMapMax+1)
	for i := range many {
		many[i] = fmt.Sprintf("k%03d", i)
	}
	for _, c := range []struct {
		name string
		keys []string
		want error
	}{
		{"sorted", []string{"a", "b", "c"}, nil},
		{"empty", nil, nil},
		{"unsorted", []string{"b", "a"}, ErrDuplicate},
		{"repeated", []string{"a", "a"}, ErrDuplicate},
		{"too many", many, ErrAttrType},
	} {
		ks, err := NewAttrKeys(c.keys)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if err == nil && (ks.Len() != len(c.keys) || (len(c.keys) > 0 && ks.Key(0) != c.keys[0])) {
			t.Errorf("%s: %d keys", c.name, ks.Len())
		}
	}
}

// TestSharedKeys: entities adopting one key set share it, yet each one's
// map changes alone, with its changes recorded as for any map.
func TestSharedKeys(t *testing.T) {
	w, a := snapWorld(t)
	b, err := w.Create("thing", CreateOptions{Restore: true})
	if err != nil {
		t.Fatal(err)
	}
	ks, err := NewAttrKeys([]string{"hp", "inv", "name"})
	if err != nil {
		t.Fatal(err)
	}
	inv, _ := NewMapAttrOf([]string{"gold"}, []any{int64(3)})
	if err := a.AdoptAttrsWith(ks, []any{int64(10), inv, "a"}); err != nil {
		t.Fatal(err)
	}
	if err := b.AdoptAttrsWith(ks, []any{int64(20), NewMapAttr(), "b"}); err != nil {
		t.Fatal(err)
	}
	if len(w.AttrDirty()) != 0 || len(a.AttrChanges()) != 0 {
		t.Fatal("adopting recorded changes")
	}
	// A new key, a deleted key and a changed value on a leave b as it was.
	if err := a.Attrs().Set("mp", 5); err != nil {
		t.Fatal(err)
	}
	a.Attrs().Delete("name")
	if err := a.Attrs().Set("hp", 11); err != nil {
		t.Fatal(err)
	}
	if err := a.Attrs().Map("inv").Set("gold", 4); err != nil { // nested: tracked through the adopted child
		t.Fatal(err)
	}
	wantA := map[string]any{"hp": int64(11), "mp": int64(5), "inv": map[string]any{"gold": int64(4)}}
	wantB := map[string]any{"hp": int64(20), "name": "b", "inv": map[string]any{}}
	if got := a.Attrs().ToMap(); !reflect.DeepEqual(got, wantA) {
		t.Errorf("a %v, want %v", got, wantA)
	}
	if got := b.Attrs().ToMap(); !reflect.DeepEqual(got, wantB) {
		t.Errorf("b %v, want %v", got, wantB)
	}
	if ks.Len() != 3 || ks.Key(0) != "hp" || ks.Key(1) != "inv" || ks.Key(2) != "name" {
		t.Errorf("the shared key set changed: %v", ks.keys)
	}
	var paths [][]any
	for _, c := range a.AttrChanges() {
		paths = append(paths, c.Path)
	}
	if want := [][]any{{"mp"}, {"name"}, {"hp"}, {"inv", "gold"}}; !reflect.DeepEqual(paths, want) || len(w.AttrDirty()) != 1 {
		t.Errorf("changes %v, want %v", paths, want)
	}
	// Clearing a shared map, and cloning one, leave the others alone.
	c := b.Attrs().Clone()
	b.Attrs().Clear()
	if b.Attrs().Len() != 0 || !reflect.DeepEqual(c.ToMap(), wantB) || ks.Len() != 3 {
		t.Errorf("clear: b %v, clone %v", b.Attrs().ToMap(), c.ToMap())
	}
	if err := c.Set("z", 1); err != nil || !reflect.DeepEqual(c.Keys(), []string{"hp", "inv", "name", "z"}) || ks.Len() != 3 {
		t.Errorf("clone set: %v %v", err, c.Keys())
	}
	// Bad values are refused and change nothing.
	before := a.Attrs().ToMap()
	if err := a.AdoptAttrsWith(ks, []any{int64(1), 2, "x"}); !errors.Is(err, ErrAttrType) {
		t.Errorf("an int: %v", err)
	}
	if err := a.AdoptAttrsWith(ks, []any{int64(1)}); !errors.Is(err, ErrAttrType) {
		t.Errorf("too few values: %v", err)
	}
	if err := a.AdoptAttrsWith(nil, nil); !errors.Is(err, ErrAttrType) {
		t.Errorf("nil keys: %v", err)
	}
	if got := a.Attrs().ToMap(); !reflect.DeepEqual(got, before) || a.Attrs().Map("inv") == nil {
		t.Errorf("attributes changed on error: %v", got)
	}
	if m, err := NewMapAttrWith(ks, []any{int64(1), NewListAttr(), true}); err != nil || m.Len() != 3 || !m.Bool("name") {
		t.Errorf("NewMapAttrWith: %v", err)
	}
}

// TestLargeMap: past smallMapMax keys a map changes form; it behaves the
// same, and visits its keys in order with SortedRange.
func TestLargeMap(t *testing.T) {
	_, e := snapWorld(t)
	m := e.Attrs()
	m.Delete("old")
	var want []string
	for i := range 3 * smallMapMax {
		k := fmt.Sprintf("k%03d", (i*37)%(3*smallMapMax)) // not in order
		want = append(want, k)
		if err := m.Set(k, i); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	if m.Len() != len(want) || !slices.Equal(m.Keys(), want) {
		t.Fatalf("keys %v", m.Keys())
	}
	var got []string
	m.SortedRange(func(k string, v any) bool {
		if v != m.Int(k) && v != any(m.Int(k)) {
			t.Errorf("%s: %v", k, v)
		}
		got = append(got, k)
		return true
	})
	if !slices.Equal(got, want) {
		t.Errorf("SortedRange %v", got)
	}
	n := 0
	m.SortedRange(func(string, any) bool { n++; return n < 3 })
	if n != 3 {
		t.Errorf("SortedRange did not stop: %d", n)
	}
	for _, k := range want[:2*smallMapMax] {
		m.Delete(k)
	}
	if m.Len() != smallMapMax || m.Has(want[0]) || !m.Has(want[len(want)-1]) {
		t.Errorf("after deletes: %d keys", m.Len())
	}
	if c := m.Clone(); !reflect.DeepEqual(c.ToMap(), m.ToMap()) {
		t.Error("clone differs")
	}
	big := make([]string, 2*smallMapMax)
	vals := make([]any, len(big))
	for i := range big {
		big[len(big)-1-i], vals[len(big)-1-i] = fmt.Sprint("b", i+100), int64(i)
	}
	a, err := NewMapAttrOf(big, vals)
	if err != nil || a.Len() != len(big) || a.Int("b100") != 0 || a.Int("b101") != 1 {
		t.Errorf("NewMapAttrOf of many keys: %v, %d keys", err, a.Len())
	}
	if big[0] != "b163" {
		t.Error("NewMapAttrOf modified its arguments")
	}
}

// TestReserve: entities restored into a reservation are the world's
// like any others; what is left over is released.
func TestReserve(t *testing.T) {
	reg := NewRegistry()
	mob := NewEntityType("mob").With(healthC)
	if err := reg.RegisterType(mob); err != nil {
		t.Fatal(err)
	}
	w := NewWorld(reg, WorldOptions{IDs: NewIDGen(1, nil)})
	before, _ := w.Create("mob", CreateOptions{})
	for range 5 { // donburi reuses these indices, out of order, for the reservation
		e, _ := w.Create("mob", CreateOptions{})
		e.Destroy()
	}
	w.ResetTick()
	w.Reserve(mob, 3*reserveBatch)
	w.Reserve(NewEntityType("unregistered"), 10) // ignored
	const n = reserveBatch + 10
	for i := range n {
		e, err := w.Create("mob", CreateOptions{ID: MakeEntityID(1, uint64(1e9+i)), Restore: true, Components: []any{health{HP: i}}})
		if err != nil {
			t.Fatal(err)
		}
		if healthC.Get(e).HP != i {
			t.Fatalf("entity %d: health %+v", i, *healthC.Get(e))
		}
	}
	q := NewQuery(healthC)
	seen := 0
	q.Each(w, func(e *Entity) { seen++ })
	if seen != n+1 || w.Count(mob) != n+1 || w.Len() != n+1 {
		t.Fatalf("query saw %d, count %d, len %d; want %d", seen, w.Count(mob), w.Len(), n+1)
	}
	w.Unreserve()
	if q.Count(w) != n+1 {
		t.Errorf("query counts %d after Unreserve, want %d", q.Count(w), n+1)
	}
	before.Destroy()
	if w.Count(mob) != n {
		t.Errorf("count %d after a destroy, want %d", w.Count(mob), n)
	}
	// Each visits in ID order whatever the order of creation.
	var ids []EntityID
	w.Each(func(e *Entity) bool { ids = append(ids, e.ID()); return true })
	if len(ids) != n || !slices.IsSorted(ids) {
		t.Errorf("Each: %d entities, sorted %v", len(ids), slices.IsSorted(ids))
	}
}

func TestEachSortsMany(t *testing.T) {
	reg := NewRegistry()
	if err := reg.RegisterType(NewEntityType("mob")); err != nil {
		t.Fatal(err)
	}
	w := NewWorld(reg, WorldOptions{})
	const n = 5000
	for i := range n {
		seq := uint64((i*7919)%n + 1) // a permutation of 1..n
		node := uint16(1 + (i*31)%3)  // and several nodes
		seq |= uint64(i%2) << 40      // and high bits
		if _, err := w.Create("mob", CreateOptions{ID: MakeEntityID(node, seq)}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []EntityID
	w.Each(func(e *Entity) bool { ids = append(ids, e.ID()); return true })
	if len(ids) != n || !slices.IsSorted(ids) {
		t.Fatalf("%d entities, sorted %v", len(ids), slices.IsSorted(ids))
	}
}

func TestMapAttrSorted(t *testing.T) {
	m := NewMapAttr()
	for _, k := range []string{"c", "a", "b"} {
		if err := m.Set(k, k+"!"); err != nil {
			t.Fatal(err)
		}
	}
	keys, vals, ok := m.Sorted()
	if !ok || !slices.Equal(keys, []string{"a", "b", "c"}) || !slices.Equal(vals, []any{"a!", "b!", "c!"}) {
		t.Fatalf("Sorted() = %v, %v, %v", keys, vals, ok)
	}
	for i := range smallMapMax {
		if err := m.Set(fmt.Sprint("k", i), i); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, ok := m.Sorted(); ok {
		t.Fatal("Sorted() of a large map is ok")
	}
	var nilMap *MapAttr
	if keys, vals, ok := nilMap.Sorted(); !ok || keys != nil || vals != nil {
		t.Fatal("Sorted() of a nil map")
	}
	p := packedEntity(t, nil).Attrs()
	if keys, vals, ok := p.Sorted(); !ok || !slices.Equal(keys, []string{"hp", "name", "speed"}) || !slices.Equal(vals, []any{int64(120), "orc", 2.5}) {
		t.Fatalf("Sorted() of a packed map = %v, %v, %v", keys, vals, ok)
	}
}
