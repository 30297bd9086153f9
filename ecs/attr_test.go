package ecs

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

func TestAttrValues(t *testing.T) {
	m := NewMapAttr()
	tests := []struct {
		in   any
		want any
	}{
		{int(1), int64(1)}, {int8(-2), int64(-2)}, {int16(3), int64(3)}, {int32(4), int64(4)},
		{int64(5), int64(5)}, {uint(6), int64(6)}, {uint8(7), int64(7)}, {uint16(8), int64(8)},
		{uint32(9), int64(9)}, {uint64(10), int64(10)}, {float32(1.5), 1.5}, {2.5, 2.5},
		{true, true}, {"s", "s"}, {[]byte("b"), []byte("b")},
	}
	for _, tt := range tests {
		if err := m.Set("k", tt.in); err != nil {
			t.Fatalf("Set(%T): %v", tt.in, err)
		}
		if got, _ := m.Get("k"); !reflect.DeepEqual(got, tt.want) {
			t.Fatalf("Set(%T %v) stored %T %v", tt.in, tt.in, got, got)
		}
	}
	for _, bad := range []any{nil, struct{}{}, uint64(math.MaxUint64), uint(math.MaxUint64), []int{1}, map[string]int{}, (*MapAttr)(nil), (*ListAttr)(nil), map[string]any{"a": []any{struct{}{}}}, []any{NewMapAttr()}} {
		if err := m.Set("bad", bad); !errors.Is(err, ErrAttrType) {
			t.Errorf("Set(%T) err = %v", bad, err)
		}
		if m.Has("bad") {
			t.Fatalf("failed Set(%T) stored a value", bad)
		}
	}
	// []byte is copied on set.
	b := []byte("xy")
	_ = m.Set("b", b)
	b[0] = 'z'
	if string(m.Bytes("b")) != "xy" {
		t.Fatal("[]byte not copied")
	}
}

func TestAttrNestedGetters(t *testing.T) {
	m := NewMapAttr()
	if err := m.Set("inv", map[string]any{"gold": 10, "items": []any{"sword", map[string]any{"id": 7}}, "w": 1.5}); err != nil {
		t.Fatal(err)
	}
	inv := m.Map("inv")
	if inv.Int("gold") != 10 || inv.Float("gold") != 10 || inv.Float("w") != 1.5 || inv.Int("w") != 0 {
		t.Fatal("numbers")
	}
	items := inv.List("items")
	if items.Len() != 2 || items.Str(0) != "sword" || items.Map(1).Int("id") != 7 || items.Map(0) != nil {
		t.Fatalf("items %v", items.ToSlice())
	}
	if m.Str("none") != "" || m.Bool("none") || m.Bytes("none") != nil || m.Int("inv") != 0 {
		t.Fatal("absent keys")
	}
	if !reflect.DeepEqual(m.Keys(), []string{"inv"}) || !reflect.DeepEqual(inv.Keys(), []string{"gold", "items", "w"}) {
		t.Fatal("keys")
	}
	want := map[string]any{"inv": map[string]any{"gold": int64(10), "items": []any{"sword", map[string]any{"id": int64(7)}}, "w": 1.5}}
	if got := m.ToMap(); !reflect.DeepEqual(got, want) {
		t.Fatalf("ToMap %#v", got)
	}
	// The plain copy is deep.
	m.ToMap()["inv"].(map[string]any)["gold"] = 0
	if inv.Int("gold") != 10 {
		t.Fatal("ToMap shares maps")
	}
	// Map on a key holding another kind gives nil, and nil is safe.
	var nilMap *MapAttr = m.Map("inv").Map("gold")
	if nilMap != nil || nilMap.Len() != 0 || nilMap.Map("x") != nil || nilMap.List("x") != nil {
		t.Fatal("nil map reads")
	}
	if err := nilMap.Set("x", 1); !errors.Is(err, ErrAttrNil) {
		t.Fatalf("Set on nil map: %v", err)
	}
	var nilList *ListAttr
	if err := nilList.Append(1); !errors.Is(err, ErrAttrNil) || nilList.Len() != 0 || nilList.ToSlice() != nil {
		t.Fatal("nil list")
	}
	n := 0
	inv.Range(func(string, any) bool { n++; return false })
	if n != 1 {
		t.Fatal("Range did not stop")
	}
}

func TestAttrList(t *testing.T) {
	l := NewListAttr()
	for i := range 3 {
		if err := l.Append(i); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{-1, 3, 100} {
		if err := l.Set(i, 1); !errors.Is(err, ErrAttrIndex) {
			t.Errorf("Set(%d): %v", i, err)
		}
		if _, ok := l.Get(i); ok {
			t.Errorf("Get(%d) ok", i)
		}
	}
	if err := l.Set(1, "x"); err != nil || l.Str(1) != "x" {
		t.Fatal(err)
	}
	if v, ok := l.Pop(); !ok || v != int64(2) || l.Len() != 2 {
		t.Fatalf("Pop %v %v", v, ok)
	}
	l.Clear()
	if _, ok := l.Pop(); ok || l.Len() != 0 {
		t.Fatal("Pop on empty")
	}
	if err := l.Append(struct{}{}); !errors.Is(err, ErrAttrType) || l.Len() != 0 {
		t.Fatal("Append of a bad value")
	}
	if l.Int(0) != 0 || l.Float(0) != 0 || l.List(0) != nil {
		t.Fatal("getters out of range")
	}
}

func TestAttrOwnership(t *testing.T) {
	f := newFixture(t)
	a := f.create("player", "a", CreateOptions{})
	b := f.create("player", "b", CreateOptions{})
	bag := a.Attrs().Map("bag")
	if err := bag.Set("x", 1); err != nil {
		t.Fatal(err)
	}
	if err := b.Attrs().Set("bag", bag); !errors.Is(err, ErrAttrAttached) {
		t.Fatalf("attached map set elsewhere: %v", err)
	}
	if err := b.Attrs().Set("root", a.Attrs()); !errors.Is(err, ErrAttrAttached) {
		t.Fatalf("root map set elsewhere: %v", err)
	}
	if err := a.Attrs().Set("bag", bag); err != nil {
		t.Fatalf("re-setting a child at its own key: %v", err)
	}
	if err := b.Attrs().Set("bag", bag.Clone()); err != nil || b.Attrs().Map("bag").Int("x") != 1 {
		t.Fatalf("clone: %v", err)
	}
	// Cycles through a detached tree.
	top := NewMapAttr()
	child := top.Map("c")
	if err := child.Set("loop", top); !errors.Is(err, ErrAttrAttached) {
		t.Fatalf("cycle: %v", err)
	}
	l := NewListAttr()
	if err := l.Append(l); !errors.Is(err, ErrAttrAttached) {
		t.Fatalf("list into itself: %v", err)
	}
	// Delete and Pop detach, so the container can move.
	a.Attrs().Delete("bag")
	if err := b.Attrs().Set("moved", bag); err != nil {
		t.Fatalf("deleted map reattached: %v", err)
	}
	lst := a.Attrs().List("l")
	_ = lst.Append(map[string]any{"k": 1})
	popped, _ := lst.Pop()
	if err := b.Attrs().Set("popped", popped); err != nil {
		t.Fatalf("popped map reattached: %v", err)
	}
	// Replacing a child detaches the old one.
	old := b.Attrs().Map("moved")
	_ = b.Attrs().Set("moved", 5)
	if err := a.Attrs().Set("again", old); err != nil {
		t.Fatalf("replaced map reattached: %v", err)
	}
}

func TestAttrDepth(t *testing.T) {
	f := newFixture(t)
	e := f.create("player", "e", CreateOptions{})
	m := e.Attrs()
	for i := 2; i <= MaxAttrDepth; i++ {
		m = m.Map("d")
		if m == nil {
			t.Fatalf("level %d refused", i)
		}
	}
	if m.Map("d") != nil || m.List("l") != nil {
		t.Fatal("level 17 created")
	}
	if err := m.Set("x", map[string]any{}); !errors.Is(err, ErrAttrDepth) {
		t.Fatalf("plain map too deep: %v", err)
	}
	if err := m.Set("x", NewListAttr()); !errors.Is(err, ErrAttrDepth) {
		t.Fatalf("container too deep: %v", err)
	}
	if err := m.Set("x", 1); err != nil {
		t.Fatalf("scalar at the deepest level: %v", err)
	}
	// A deep detached tree is measured as a whole.
	deep := NewMapAttr()
	d := deep
	for range 5 {
		d = d.Map("d")
	}
	if err := e.Attrs().Map("a").Map("b").Map("c").Map("e").Map("f").Map("g").Map("h").Map("i").Map("j").Map("k").Map("l").Set("deep", deep); !errors.Is(err, ErrAttrDepth) {
		t.Fatalf("deep subtree: %v", err)
	}
	// A self-referencing plain value is cut off by the depth limit.
	cyc := map[string]any{}
	cyc["self"] = cyc
	if err := NewMapAttr().Set("c", cyc); !errors.Is(err, ErrAttrDepth) {
		t.Fatalf("cyclic plain map: %v", err)
	}
}

func TestAttrChangesPaths(t *testing.T) {
	f := newFixture(t)
	e := f.create("player", "e", CreateOptions{})
	f.w.ResetTick()
	a := e.Attrs()

	_ = a.Set("gold", 5)
	_ = a.Map("inv").List("items").Append("sword")
	_ = a.Map("inv").List("items").Append(map[string]any{"id": 1})
	_ = a.Map("inv").List("items").Map(1).Set("n", 2)
	_ = a.Map("inv").List("items").Set(0, "axe")
	a.Map("inv").List("items").Pop()
	a.Map("inv").Delete("nothing") // absent: nothing recorded
	_ = a.Set("gold", 5)           // equal scalar: nothing recorded
	_ = a.Set("raw", []byte{1})
	_ = a.Set("raw", []byte{1}) // equal bytes: nothing recorded

	want := []AttrChange{
		{Path: []any{"gold"}, Op: AttrSet, Value: int64(5)},
		{Path: []any{"inv"}, Op: AttrSet, Value: map[string]any{}},
		{Path: []any{"inv", "items"}, Op: AttrSet, Value: []any{}},
		{Path: []any{"inv", "items"}, Op: AttrAppend, Value: "sword"},
		{Path: []any{"inv", "items"}, Op: AttrAppend, Value: map[string]any{"id": int64(1)}},
		{Path: []any{"inv", "items", 1, "n"}, Op: AttrSet, Value: int64(2)},
		{Path: []any{"inv", "items", 0}, Op: AttrSet, Value: "axe"},
		{Path: []any{"inv", "items"}, Op: AttrPop},
		{Path: []any{"raw"}, Op: AttrSet, Value: []byte{1}},
	}
	if got := e.AttrChanges(); !reflect.DeepEqual(got, want) {
		t.Fatalf("changes:\n got  %v\n want %v", got, want)
	}
	if got := f.w.AttrDirty(); len(got) != 1 || got[0] != e {
		t.Fatalf("AttrDirty = %v", got)
	}
	// Flags come from the type, by top-level key.
	if f.player.AttrFlags("gold") != AttrOwnClient|AttrPersistent || f.player.AttrFlags("raw") != 0 ||
		f.player.AttrFlags("name") != AttrAllClients|AttrOwnClient|AttrPersistent {
		t.Fatal("flags")
	}
	if !reflect.DeepEqual(f.player.AttrKeys(), []string{"gold", "name"}) {
		t.Fatal("AttrKeys")
	}

	f.w.ResetAttrDirty()
	if len(e.AttrChanges()) != 0 || len(f.w.AttrDirty()) != 0 {
		t.Fatal("ResetAttrDirty left changes")
	}
	// Detached trees record nothing until attached.
	tree := NewMapAttr()
	_ = tree.Set("x", 1)
	_ = tree.Map("y").Set("z", 2)
	_ = a.Set("tree", tree)
	_ = tree.Map("y").Set("z", 3)
	want = []AttrChange{
		{Path: []any{"tree"}, Op: AttrSet, Value: map[string]any{"x": int64(1), "y": map[string]any{"z": int64(2)}}},
		{Path: []any{"tree", "y", "z"}, Op: AttrSet, Value: int64(3)},
	}
	if got := e.AttrChanges(); !reflect.DeepEqual(got, want) {
		t.Fatalf("changes:\n got  %v\n want %v", got, want)
	}
	// A removed subtree no longer records.
	y := tree.Map("y")
	tree.Delete("y")
	_ = y.Set("z", 4)
	// (the Delete also dropped the earlier change below it)
	if got := e.AttrChanges(); len(got) != 2 || got[1].Op != AttrDelete || !slices.Equal(got[1].Path, []any{"tree", "y"}) {
		t.Fatalf("after delete: %v", got)
	}
	e.ResetAttrChanges()
	if len(e.AttrChanges()) != 0 {
		t.Fatal("ResetAttrChanges")
	}
}

func TestAttrCoalescing(t *testing.T) {
	tests := []struct {
		name string
		do   func(a *MapAttr)
		want []AttrChange
	}{
		{"later set replaces earlier", func(a *MapAttr) {
			_ = a.Set("hp", 1)
			_ = a.Set("mp", 1)
			_ = a.Set("hp", 2)
		}, []AttrChange{
			{Path: []any{"mp"}, Op: AttrSet, Value: int64(1)},
			{Path: []any{"hp"}, Op: AttrSet, Value: int64(2)},
		}},
		{"parent set drops children", func(a *MapAttr) {
			_ = a.Map("p").Set("x", 1)
			_ = a.Map("p").Map("q").Set("y", 2)
			_ = a.Set("other", 1)
			_ = a.Set("p", map[string]any{"z": 3})
		}, []AttrChange{
			{Path: []any{"other"}, Op: AttrSet, Value: int64(1)},
			{Path: []any{"p"}, Op: AttrSet, Value: map[string]any{"z": int64(3)}},
		}},
		{"delete drops children and earlier set", func(a *MapAttr) {
			_ = a.Map("p").Set("x", 1)
			a.Delete("p")
		}, []AttrChange{
			{Path: []any{"p"}, Op: AttrDelete},
		}},
		{"set after delete", func(a *MapAttr) {
			_ = a.Set("k", 1)
			a.Delete("k")
			_ = a.Set("k", 2)
		}, []AttrChange{
			{Path: []any{"k"}, Op: AttrSet, Value: int64(2)},
		}},
		{"clear drops contents changes, keeps set", func(a *MapAttr) {
			l := a.List("l")
			_ = l.Append(1)
			_ = l.Append(map[string]any{})
			_ = l.Map(1).Set("k", 1)
			_ = l.Set(0, 5)
			_ = a.Set("keep", true)
			l.Clear()
			_ = l.Append(9)
		}, []AttrChange{
			{Path: []any{"l"}, Op: AttrSet, Value: []any{}},
			{Path: []any{"keep"}, Op: AttrSet, Value: true},
			{Path: []any{"l"}, Op: AttrClear},
			{Path: []any{"l"}, Op: AttrAppend, Value: int64(9)},
		}},
		{"sibling key with common prefix string survives", func(a *MapAttr) {
			_ = a.Map("ab").Set("x", 1)
			_ = a.Set("a", 1)
		}, []AttrChange{
			{Path: []any{"ab"}, Op: AttrSet, Value: map[string]any{}},
			{Path: []any{"ab", "x"}, Op: AttrSet, Value: int64(1)},
			{Path: []any{"a"}, Op: AttrSet, Value: int64(1)},
		}},
		{"map clear", func(a *MapAttr) {
			m := a.Map("m")
			_ = m.Set("x", 1)
			m.Clear()
			m.Clear() // empty: nothing
		}, []AttrChange{
			{Path: []any{"m"}, Op: AttrSet, Value: map[string]any{}},
			{Path: []any{"m"}, Op: AttrClear},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			e := f.create("player", "e", CreateOptions{})
			tt.do(e.Attrs())
			if got := e.AttrChanges(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("changes:\n got  %v\n want %v", got, tt.want)
			}
		})
	}
}

// TestAttrChangesReplay applies the recorded changes to a plain copy of
// the state at the last reset and expects the current state.
func TestAttrChangesReplay(t *testing.T) {
	f := newFixture(t)
	e := f.create("player", "e", CreateOptions{Attrs: map[string]any{"inv": map[string]any{"items": []any{1, 2, 3}}, "hp": 10}})
	before := e.Attrs().ToMap()
	a := e.Attrs()
	items := a.Map("inv").List("items")
	_ = items.Set(1, map[string]any{"k": "v"})
	items.Map(1).Map("deep").Set("x", 1)
	items.Pop()
	_ = items.Append("new")
	_ = items.Set(2, "newer")
	_ = a.Set("hp", 9)
	a.Delete("hp")
	_ = a.Set("hp", 8)
	a.Map("inv").Map("bag").Clear()
	_ = a.Map("inv").Map("bag").Set("a", 1)
	a.Map("inv").List("items").Map(1).Delete("k")

	state := before
	for _, c := range e.AttrChanges() {
		state = applyChange(t, state, c)
	}
	if want := a.ToMap(); !reflect.DeepEqual(state, want) {
		t.Fatalf("replay:\n got  %v\n want %v", state, want)
	}
}

func applyChange(t *testing.T, root map[string]any, c AttrChange) map[string]any {
	t.Helper()
	var parent any = root
	path := c.Path
	if c.Op == AttrAppend || c.Op == AttrPop || c.Op == AttrClear {
		path = append(slices.Clone(path), nil) // target the container itself
	}
	var set func(v any)
	for i, k := range path[:len(path)-1] {
		var next any
		switch p := parent.(type) {
		case map[string]any:
			next = p[k.(string)]
		case []any:
			next = p[k.(int)]
		}
		if i == len(path)-2 && path[len(path)-1] == nil {
			pp, kk := parent, k
			set = func(v any) {
				switch q := pp.(type) {
				case map[string]any:
					q[kk.(string)] = v
				case []any:
					q[kk.(int)] = v
				}
			}
		}
		parent = next
	}
	last := path[len(path)-1]
	switch c.Op {
	case AttrSet:
		switch p := parent.(type) {
		case map[string]any:
			p[last.(string)] = c.Value
		case []any:
			p[last.(int)] = c.Value
		}
	case AttrDelete:
		delete(parent.(map[string]any), last.(string))
	case AttrAppend:
		set(append(parent.([]any), c.Value))
	case AttrPop:
		l := parent.([]any)
		set(l[:len(l)-1])
	case AttrClear:
		switch parent.(type) {
		case map[string]any:
			set(map[string]any{})
		case []any:
			set([]any{})
		}
	}
	return root
}

func TestAttrDirtyOncePerEntity(t *testing.T) {
	f := newFixture(t)
	a := f.create("player", "a", CreateOptions{})
	b := f.create("player", "b", CreateOptions{})
	f.w.ResetTick()
	for i := range 5 {
		_ = a.Attrs().Set("n", i)
		_ = b.Attrs().Map("m").Set("n", i)
	}
	if got := f.w.AttrDirty(); len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("AttrDirty = %v", got)
	}
	f.w.ResetAttrDirty()
	_ = b.Attrs().Set("n", 1)
	if got := f.w.AttrDirty(); len(got) != 1 || got[0] != b {
		t.Fatalf("AttrDirty after reset = %v", got)
	}
	b.Destroy()
	f.w.ResetAttrDirty()
	_ = b.Attrs().Set("n", 2)
	if len(f.w.AttrDirty()) != 0 {
		t.Fatal("destroyed entity marked dirty")
	}
}

func TestAttrOpString(t *testing.T) {
	for op, s := range map[AttrOp]string{AttrSet: "set", AttrDelete: "delete", AttrAppend: "append", AttrPop: "pop", AttrClear: "clear", 0: "AttrOp(0)"} {
		if op.String() != s {
			t.Errorf("%d: %s", op, op.String())
		}
	}
}

// TestAttrNaNSetTwiceIsOneChange: NaN != NaN in Go, but setting NaN where
// NaN already is must not record a change every time (a sync stage would
// resend it every tick).
func TestAttrNaNSetTwiceIsOneChange(t *testing.T) {
	f := newFixture(t)
	e := f.create("player", "e", CreateOptions{})
	f.w.ResetTick()
	nan := math.NaN()
	_ = e.Attrs().Set("x", nan)
	_ = e.Attrs().List("l").Append(nan)
	f.w.ResetAttrDirty()
	_ = e.Attrs().Set("x", nan)
	_ = e.Attrs().List("l").Set(0, nan)
	if got := e.AttrChanges(); len(got) != 0 || len(f.w.AttrDirty()) != 0 {
		t.Fatalf("re-setting NaN recorded %v", got)
	}
	_ = e.Attrs().Set("x", 1.0) // NaN → a number is a change
	if got := e.AttrChanges(); len(got) != 1 || got[0].Value != 1.0 {
		t.Fatalf("changes %v", got)
	}
}

// TestAttrsSurviveCBOR: the plain tree of ToMap, encoded as CBOR and
// decoded into any (as a snapshot or a migration does), makes the same
// attributes again through CreateOptions.Attrs.
func TestAttrsSurviveCBOR(t *testing.T) {
	f := newFixture(t)
	in := map[string]any{
		"n": -3, "big": uint64(1 << 62), "f": 1.25, "whole": 2.0, "ok": true, "s": "x", "b": []byte{0, 1},
		"inv": map[string]any{"items": []any{"sword", map[string]any{"id": 7, "tags": []any{}}}, "empty": map[string]any{}},
	}
	e := f.create("player", "e", CreateOptions{Attrs: in})
	want := e.Attrs().ToMap()
	b, err := cbor.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	dm, err := cbor.DecOptions{DefaultMapType: reflect.TypeFor[map[string]any]()}.DecMode()
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := dm.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	e2, err := f.w.Create("player", CreateOptions{Attrs: back})
	if err != nil {
		t.Fatal(err)
	}
	if got := e2.Attrs().ToMap(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after CBOR:\n got  %#v\n want %#v", got, want)
	}
	if len(e2.AttrChanges()) != 0 {
		t.Fatal("initial attributes recorded as changes")
	}
}
