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
	inner, err := AdoptMap(map[string]any{"x": int64(1)})
	if err != nil {
		t.Fatal(err)
	}
	list, err := AdoptList([]any{"a", inner})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.AdoptAttrs(map[string]any{"n": int64(5), "l": list, "b": []byte{1}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"n": int64(5), "b": []byte{1}, "l": []any{"a", map[string]any{"x": int64(1)}}}
	if got := e.Attrs().ToMap(); !reflect.DeepEqual(got, want) {
		t.Fatalf("attrs %v, want %v", got, want)
	}
	if len(e.AttrChanges()) != 0 || len(w.AttrDirty()) != 0 {
		t.Fatal("adopting recorded changes")
	}
	// The adopted tree is tracked like any other.
	if err := e.Attrs().List("l").Map(1).Set("x", 2); err != nil {
		t.Fatal(err)
	}
	if ch := e.AttrChanges(); len(ch) != 1 || !reflect.DeepEqual(ch[0].Path, []any{"l", 1, "x"}) || len(w.AttrDirty()) != 1 {
		t.Fatalf("changes %+v", ch)
	}
	// Attached, nil, bad values and depth are refused.
	if err := e.AdoptAttrs(map[string]any{"l": list}); !errors.Is(err, ErrAttrAttached) {
		t.Errorf("adopting an attached list again: %v", err)
	}
	if err := e.AdoptAttrs(nil); err != nil || e.Attrs().Len() != 0 {
		t.Errorf("nil: %v", err)
	}
	if _, err := AdoptMap(map[string]any{"i": 3}); !errors.Is(err, ErrAttrType) {
		t.Errorf("an int (not int64): %v", err)
	}
	if _, err := AdoptList([]any{inner}); !errors.Is(err, ErrAttrAttached) {
		t.Errorf("an attached child: %v", err)
	}
	twice, _ := AdoptMap(nil)
	if _, err := AdoptList([]any{twice, twice}); !errors.Is(err, ErrAttrAttached) {
		t.Errorf("one container twice: %v", err)
	}
	if twice.attached() {
		t.Error("a refused adoption left a child attached")
	}
	deep, _ := AdoptMap(nil)
	for range MaxAttrDepth - 1 {
		deep, _ = AdoptMap(map[string]any{"d": deep})
	}
	if _, err := AdoptMap(map[string]any{"d": deep}); !errors.Is(err, ErrAttrDepth) {
		t.Errorf("too deep: %v", err)
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
