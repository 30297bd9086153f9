package ecs

import (
	"errors"
	"reflect"
	"testing"
)

func snapWorld(t *testing.T) (*World, *Entity) {
	t.Helper()
	reg := NewRegistry()
	if err := reg.RegisterType(NewEntityType("thing").With(healthC)); err != nil {
		t.Fatal(err)
	}
	w := NewWorld(reg, WorldOptions{IDs: NewIDGen(1, nil)})
	e, err := w.Create("thing", CreateOptions{Restore: true, Attrs: map[string]any{"old": 1}})
	if err != nil {
		t.Fatal(err)
	}
	return w, e
}

func TestAdoptAttrs(t *testing.T) {
	w, e := snapWorld(t)
	old := e.Attrs()
	inner, err := NewMapAttrOf([]string{"x"}, []any{int64(1)})
	if err != nil {
		t.Fatal(err)
	}
	list, err := NewListAttrOf([]any{"a", inner})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.AdoptAttrs([]string{"n", "l", "b"}, []any{int64(5), list, []byte{1}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"n": int64(5), "b": []byte{1}, "l": []any{"a", map[string]any{"x": int64(1)}}}
	if got := e.Attrs().ToMap(); !reflect.DeepEqual(got, want) {
		t.Fatalf("attrs %v, want %v", got, want)
	}
	if len(e.AttrChanges()) != 0 || len(w.AttrDirty()) != 0 {
		t.Fatal("adopting recorded changes")
	}
	if old != e.Attrs() || old.Has("old") {
		t.Fatal("the root was replaced, or kept its old keys")
	}
	// The adopted tree is tracked like any other.
	if err := e.Attrs().List("l").Map(1).Set("x", 2); err != nil {
		t.Fatal(err)
	}
	if ch := e.AttrChanges(); len(ch) != 1 || !reflect.DeepEqual(ch[0].Path, []any{"l", 1, "x"}) || len(w.AttrDirty()) != 1 {
		t.Fatalf("changes %+v", ch)
	}
	want2 := e.Attrs().ToMap()
	elsewhere := NewMapAttr()
	held := NewListAttr()
	if err := elsewhere.Set("held", held); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		keys []string
		vals []any
		want error
	}{
		{"a list attached elsewhere", []string{"l"}, []any{held}, ErrAttrAttached},
		{"an int, not an int64", []string{"i"}, []any{3}, ErrAttrType},
		{"a key twice", []string{"a", "a"}, []any{int64(1), int64(2)}, ErrDuplicate},
		{"keys and values differ", []string{"a"}, nil, ErrAttrType},
	} {
		before := e.Attrs()
		if err := e.AdoptAttrs(c.keys, c.vals); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if e.Attrs() != before || !reflect.DeepEqual(e.Attrs().ToMap(), want2) || e.Attrs().List("l").Map(1) == nil {
			t.Errorf("%s: attributes changed on error: %v", c.name, e.Attrs().ToMap())
		}
	}
	if _, err := NewListAttrOf([]any{inner}); !errors.Is(err, ErrAttrAttached) {
		t.Errorf("an attached child: %v", err)
	}
	twice, _ := NewMapAttrOf(nil, nil)
	if _, err := NewListAttrOf([]any{twice, twice}); !errors.Is(err, ErrAttrAttached) || twice.attached() {
		t.Errorf("one container twice: %v", err)
	}
	deep, _ := NewMapAttrOf(nil, nil)
	for range MaxAttrDepth - 1 {
		deep, _ = NewMapAttrOf([]string{"d"}, []any{deep})
	}
	if _, err := NewMapAttrOf([]string{"d"}, []any{deep}); !errors.Is(err, ErrAttrDepth) {
		t.Errorf("too deep: %v", err)
	}
	if err := e.AdoptAttrs(nil, nil); err != nil || e.Attrs().Len() != 0 {
		t.Errorf("empty: %v", err)
	}
}

func TestRemoveComponent(t *testing.T) {
	_, e := snapWorld(t)
	if !healthC.Has(e) {
		t.Fatal("no health to begin with")
	}
	e.RemoveComponent(healthC)
	if healthC.Has(e) || len(e.Components()) != 0 {
		t.Fatal("health not removed")
	}
	e.RemoveComponent(healthC) // absent: nothing happens
	e.Destroy()
	e.RemoveComponent(healthC)
}
