package ecs

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestVec3(t *testing.T) {
	a, b := Vec3{1, 2, 3}, Vec3{4, 6, 3}
	if a.Add(b) != (Vec3{5, 8, 6}) || b.Sub(a) != (Vec3{3, 4, 0}) || a.Scale(2) != (Vec3{2, 4, 6}) {
		t.Fatal("arithmetic")
	}
	if b.Sub(a).Len() != 5 || a.Dist(b) != 5 || (Vec3{3, 0, 4}).LenSq() != 25 {
		t.Fatal("length")
	}
	if d := (Vec3{0, 100, 0}).DistXZ(Vec3{3, -7, 4}); d != 5 {
		t.Fatalf("DistXZ %v", d)
	}
	if d := (Vec3{}).DistSqXZ(Vec3{3, 9, 4}); d != 25 {
		t.Fatalf("DistSqXZ %v", d)
	}
}

func TestSystemHooks(t *testing.T) {
	var log []string
	typ := NewEntityType("sys").
		OnEnterAOI(func(e, o *Entity) { log = append(log, "enter-aoi") }).
		OnLeaveAOI(func(e, o *Entity) { panic("leave-aoi") }).
		OnFreeze(func(e *Entity) { log = append(log, "freeze") }).
		OnRestored(func(e *Entity) { panic("restored") })
	f := newFixture(t, typ)
	e, _ := f.w.Create("sys", CreateOptions{})
	h := e.Type().Hooks()
	h.OnEnterAOI(e, e)
	h.OnLeaveAOI(e, e)
	h.OnFreeze(e)
	h.OnRestored(e)
	h.OnFreeze(nil) // nil entity: nothing
	if !reflect.DeepEqual(log, []string{"enter-aoi", "freeze"}) {
		t.Fatalf("log %v", log)
	}
	if len(f.errs) != 2 || !strings.Contains(f.errs[0].Error(), "sys.OnLeaveAOI") || !strings.Contains(f.errs[1].Error(), "restored") {
		t.Fatalf("errors %v", f.errs)
	}
	// No OnError sink: panics are dropped, not re-raised.
	reg := NewRegistry()
	_ = reg.RegisterType(NewEntityType("p").OnCreated(func(*Entity) { panic("x") }))
	w := NewWorld(reg, WorldOptions{IDs: NewIDGen(1, nil)})
	if _, err := w.Create("p", CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestSpaceHooksInterfering(t *testing.T) {
	var next, back *Entity
	onward := NewEntityType("onward").OnEnterSpace(func(e, s *Entity) {
		if next != nil && s != next {
			_ = e.EnterSpace(next, Vec3{})
		}
	})
	homing := NewEntityType("homing").OnLeaveSpace(func(e, s *Entity) {
		if back != nil {
			_ = e.EnterSpace(back, Vec3{})
		}
	})
	f2 := newFixture(t, onward, homing)
	a := f2.create("space", "A", CreateOptions{})
	b := f2.create("space", "B", CreateOptions{})
	next = b
	o, _ := f2.w.Create("onward", CreateOptions{})
	f2.ev.take()
	if err := o.EnterSpace(a, Vec3{}); err != nil {
		t.Fatal(err)
	}
	// A never hears of an entity that its own hook moved on: it gets the
	// leave of the nested switch, but not a late enter.
	wantLog(t, f2.ev.take(), "entity-leave A-onward", "entity-enter B+onward")
	if o.Space() != b {
		t.Fatal("onward not in B")
	}

	h, _ := f2.w.Create("homing", CreateOptions{Space: a})
	back = a
	f2.ev.take()
	h.LeaveSpace()
	// The hook put it back: A sees the re-entry, not a stale leave.
	wantLog(t, f2.ev.take(), "entity-enter A+homing")
	if h.Space() != a {
		t.Fatal("homing not back in A")
	}
}

func TestErrorStrings(t *testing.T) {
	ae := &ArgError{Method: "M", Index: 1, Err: errors.New("bad")}
	if ae.Error() != "ecs: method M: bad argument 1: bad" {
		t.Fatal(ae.Error())
	}
	ae.Index = -1
	if ae.Error() != "ecs: method M: bad arguments: bad" {
		t.Fatal(ae.Error())
	}
	pe := &PanicError{Kind: ErrMethodPanic, Where: "t.M", Entity: MakeEntityID(1, 2), Value: "oops"}
	if pe.Error() != "ecs: method panicked: t.M on 0001000000000002: oops" {
		t.Fatal(pe.Error())
	}
	if ServerOnly.String() != "server-only" || AnyClient.String() != "any-client" || Permission(7).String() != "Permission(7)" {
		t.Fatal("Permission.String")
	}
	if CallerNone.String() != "none" || CallerServer.String() != "server" || CallerClient.String() != "client" || CallerKind(9).String() != "CallerKind(9)" {
		t.Fatal("CallerKind.String")
	}
	var ne *Entity
	if ne.String() != "<nil entity>" {
		t.Fatal("nil entity string")
	}
}

func TestArrayHeads(t *testing.T) {
	tests := []struct {
		in   []byte
		n    uint64
		fail bool
	}{
		{[]byte{0x80}, 0, false},
		{[]byte{0x97}, 23, false},
		{[]byte{0x98, 0x18}, 24, false},
		{[]byte{0x99, 0x01, 0x00}, 256, false},
		{[]byte{0x9a, 0, 1, 0, 0}, 65536, false},
		{[]byte{0x9b, 0, 0, 0, 1, 0, 0, 0, 0}, 1 << 32, false},
		{[]byte{0x9c}, 0, true},
		{[]byte{0x9f}, 0, true},
		{[]byte{0x99, 0x01}, 0, true},
		{[]byte{0x01}, 0, true},
		{nil, 0, true},
	}
	for _, tt := range tests {
		n, _, err := arrayHeader(tt.in)
		if (err != nil) != tt.fail || (!tt.fail && n != tt.n) {
			t.Errorf("arrayHeader(%x) = %d, %v", tt.in, n, err)
		}
	}
}

func TestMethodNArgErrors(t *testing.T) {
	m3 := Method3("m3", ServerOnly, func(e *Entity, c Caller, a int, b string, cc bool) error { return nil })
	m4 := Method4("m4", ServerOnly, func(e *Entity, c Caller, a int, b string, cc bool, d float64) error { return nil })
	m1 := Method1("m1", ServerOnly, func(e *Entity, c Caller, a int) error { return nil })
	m0 := Method0("m0", ServerOnly, func(e *Entity, c Caller) error { return nil })
	reg := NewRegistry()
	_ = reg.RegisterType(NewEntityType("n").Method(m0).Method(m1).Method(m3).Method(m4))
	w := NewWorld(reg, WorldOptions{IDs: NewIDGen(1, nil)})
	e, _ := w.Create("n", CreateOptions{})
	tests := []struct {
		m     *Method
		args  []any
		index int
	}{
		{m0, []any{1}, -1},
		{m1, []any{"x"}, 0},
		{m3, []any{1, 2, true}, 1},
		{m3, []any{1, "a", "b"}, 2},
		{m3, []any{"x", "a", true}, 0},
		{m4, []any{1, "a", true, "x"}, 3},
		{m4, []any{1, "a", 1, 1.0}, 2},
		{m4, []any{1, 1, true, 1.0}, 1},
		{m4, []any{"1", "a", true, 1.0}, 0},
	}
	for _, tt := range tests {
		b, _ := EncodeArgs(tt.args...)
		err := tt.m.Invoke(e, ServerCaller(), b)
		var ae *ArgError
		if !errors.As(err, &ae) || ae.Index != tt.index {
			t.Errorf("%s%v: %v, want index %d", tt.m.Name(), tt.args, err, tt.index)
		}
	}
	for _, m := range []*Method{m3, m4} {
		args := []any{1, "a", true, 1.0}[:m.Arity()]
		b, _ := EncodeArgs(args...)
		if err := m.Invoke(e, ServerCaller(), b); err != nil {
			t.Errorf("%s: %v", m.Name(), err)
		}
		if err := m.Invoke(e, ServerCaller(), append(b, 1)); !errors.Is(err, ErrBadArgs) {
			t.Errorf("%s trailing: %v", m.Name(), err)
		}
	}
}

func TestListAttrClone(t *testing.T) {
	l := NewListAttr()
	_ = l.Append(map[string]any{"a": []any{1.5, math.MaxInt64}})
	_ = l.Append([]byte{1})
	c := l.Clone()
	if !reflect.DeepEqual(c.ToSlice(), l.ToSlice()) {
		t.Fatal("clone differs")
	}
	_ = c.Map(0).List("a").Set(0, 2.5)
	if l.Map(0).List("a").Float(0) != 1.5 {
		t.Fatal("clone shares containers")
	}
	m := NewMapAttr()
	if err := m.Set("l", c); err != nil {
		t.Fatal(err)
	}
	// Elements of a list know their index: a change deep inside records it.
	f := newFixture(t)
	e := f.create("player", "e", CreateOptions{})
	_ = e.Attrs().Set("l", l.Clone())
	e.ResetAttrChanges()
	_ = e.Attrs().List("l").Map(0).List("a").Set(1, 3)
	if got := e.AttrChanges(); len(got) != 1 || !reflect.DeepEqual(got[0].Path, []any{"l", 0, "a", 1}) {
		t.Fatalf("path %v", got)
	}
	var nl *ListAttr
	var nm *MapAttr
	if nl.Clone() != nil || nm.Clone() != nil || nm.ToMap() != nil || nm.Keys() != nil {
		t.Fatal("nil clones")
	}
}

func TestWorldAccessors(t *testing.T) {
	f := newFixture(t)
	if f.w.Registry() != f.reg || f.w.IDs() == nil {
		t.Fatal("accessors")
	}
	s := f.create("space", "s", CreateOptions{})
	p := f.create("player", "p", CreateOptions{})
	if !s.IsSpace() || p.IsSpace() || !strings.HasPrefix(p.String(), "player:") {
		t.Fatal("entity accessors")
	}
	p.SetAOIHandle(12)
	p.SetAOIRadius(-3)
	if p.AOIHandle() != 12 || p.AOIRadius() != 0 {
		t.Fatal("AOI slots")
	}
	if sp := f.w.Spaces(); len(sp) != 1 || sp[0] != s {
		t.Fatal("Spaces")
	}
	if NewWorld(nil, WorldOptions{}).Registry() == nil {
		t.Fatal("nil registry")
	}
}
