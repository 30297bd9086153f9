package ecs

import (
	"errors"
	"testing"
)

func TestRemoveRunsNoHook(t *testing.T) {
	var hooks []string
	reg := NewRegistry()
	space := NewEntityType("rmSpace").Space().
		OnEntityLeave(func(s, e *Entity) { hooks = append(hooks, "OnEntityLeave") })
	mob := NewEntityType("rmMob").
		OnDestroy(func(e *Entity) { hooks = append(hooks, "OnDestroy") }).
		OnLeaveSpace(func(e, s *Entity) { hooks = append(hooks, "OnLeaveSpace") }).
		OnClientDisconnected(func(e *Entity) { hooks = append(hooks, "OnClientDisconnected") })
	for _, typ := range []*EntityType{space, mob} {
		if err := reg.RegisterType(typ); err != nil {
			t.Fatal(err)
		}
	}
	w := NewWorld(reg, WorldOptions{IDs: NewIDGen(1, nil)})
	s, err := w.Create("rmSpace", CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := ClientBinding{Gate: 1, Client: 7}
	e, err := w.Create("rmMob", CreateOptions{Space: s, Client: b})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Remove(s); !errors.Is(err, ErrNotSpace) {
		t.Errorf("Remove(space with members) = %v, want ErrNotSpace", err)
	}
	w.ResetTick()
	if err := w.Remove(e); err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 0 {
		t.Errorf("hooks ran: %v", hooks)
	}
	if !e.Destroyed() || e.Client() != b || s.NumMembers() != 0 {
		t.Errorf("after Remove: destroyed %v, client %v, members %d", e.Destroyed(), e.Client(), s.NumMembers())
	}
	if _, ok := w.Entity(e.ID()); ok {
		t.Error("entity still found")
	}
	if d := w.Destroyed(); len(d) != 1 || d[0] != e {
		t.Errorf("Destroyed = %v", d)
	}
	if ch := w.SpaceChanges(); len(ch) != 1 || ch[0].From != s || ch[0].To != nil {
		t.Errorf("SpaceChanges = %+v", ch)
	}
	if err := w.Remove(e); !errors.Is(err, ErrNoEntity) {
		t.Errorf("second Remove = %v, want ErrNoEntity", err)
	}
	// The ID is free again: a migration back creates it anew.
	if _, err := w.Create("rmMob", CreateOptions{ID: e.ID(), Restore: true}); err != nil {
		t.Errorf("re-create after Remove: %v", err)
	}
}
