package ecs

import (
	"errors"
	"reflect"
	"testing"
)

var (
	regA      = NewComponent[tag]("reg-a")
	regA2     = NewComponent[tag]("reg-a")    // same name and type, another descriptor
	regAOther = NewComponent[health]("reg-a") // same name, another type
	regB      = NewComponent[health]("reg-b")
)

func TestRegistryComponents(t *testing.T) {
	r := NewRegistry()
	tests := []struct {
		name string
		c    Component
		want error
	}{
		{"first", regA, nil},
		{"same descriptor again", regA, nil},
		{"same name, other Go type", regAOther, ErrDuplicate},
		{"same name and type, other descriptor", regA2, ErrDuplicate},
		{"other name", regB, nil},
		{"nil", nil, ErrBadType},
	}
	for _, tt := range tests {
		if err := r.RegisterComponent(tt.c); !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
	if c, ok := r.Component("reg-a"); !ok || c != Component(regA) || c.Type() != reflect.TypeFor[tag]() {
		t.Fatal("lookup")
	}
	cs := r.Components()
	if len(cs) != 2 || cs[0].Name() != "reg-a" || cs[1].Name() != "reg-b" {
		t.Fatalf("Components() = %v", cs)
	}
}

func TestRegistryTypes(t *testing.T) {
	r := NewRegistry()
	if err := r.RegisterType(NewEntityType("b").With(regB)); err != nil {
		t.Fatal(err)
	}
	if err := r.RegisterType(NewEntityType("a").With(regA)); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Component("reg-b"); !ok {
		t.Fatal("RegisterType did not register the type's components")
	}
	bad := []struct {
		name string
		typ  *EntityType
		want error
	}{
		{"duplicate type", NewEntityType("a"), ErrDuplicate},
		{"conflicting component", NewEntityType("c").With(regA2), ErrDuplicate},
		{"component twice", NewEntityType("d").With(regB, regB), ErrBadType},
		{"empty name", NewEntityType(""), ErrBadType},
		{"negative AOI", NewEntityType("e").AOI(-1), ErrBadType},
		{"duplicate method", NewEntityType("f").
			Method(Method0("m", ServerOnly, func(*Entity, Caller) error { return nil })).
			Method(Method0("m", ServerOnly, func(*Entity, Caller) error { return nil })), ErrBadType},
		{"nil method", NewEntityType("g").Method(nil), ErrBadType},
		{"attr flags twice", NewEntityType("h").Attr("x", AttrOwnClient).Attr("x", AttrPersistent), ErrBadType},
		{"nil type", nil, ErrBadType},
	}
	for _, tt := range bad {
		if err := r.RegisterType(tt.typ); !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, ok := r.Type("c"); ok {
		t.Fatal("failed type registered")
	}
	ts := r.Types()
	if len(ts) != 2 || ts[0].Name() != "a" || ts[1].Name() != "b" {
		t.Fatalf("Types() = %v", ts)
	}
	if ty, ok := r.Type("a"); !ok || ty.Components()[0] != Component(regA) {
		t.Fatal("Type lookup")
	}
}

func TestRegistryFrozen(t *testing.T) {
	r := NewRegistry()
	typ := NewEntityType("t").With(regB)
	if err := r.RegisterType(typ); err != nil {
		t.Fatal(err)
	}
	_ = NewWorld(r, WorldOptions{})
	if !r.Frozen() {
		t.Fatal("not frozen")
	}
	if err := r.RegisterType(NewEntityType("late")); !errors.Is(err, ErrFrozen) {
		t.Fatalf("RegisterType after NewWorld: %v", err)
	}
	if err := r.RegisterComponent(regA); !errors.Is(err, ErrFrozen) {
		t.Fatalf("RegisterComponent after NewWorld: %v", err)
	}
	// A registered type is sealed.
	defer func() {
		if recover() == nil {
			t.Fatal("modifying a registered type did not panic")
		}
	}()
	typ.AOI(3)
}

func TestEntityTypeDeclaration(t *testing.T) {
	m := Method0("Hi", AnyClient, func(*Entity, Caller) error { return nil })
	typ := NewEntityType("x").With(regB).AOI(12).Space().Method(m).
		Attr("a", AttrAllClients).Attr("b", AttrPersistent)
	if typ.Name() != "x" || typ.String() != "x" || typ.AOIRadius() != 12 || !typ.IsSpace() {
		t.Fatal("basics")
	}
	if got, ok := typ.LookupMethod("Hi"); !ok || got != m {
		t.Fatal("LookupMethod")
	}
	if _, ok := typ.LookupMethod("nope"); ok {
		t.Fatal("LookupMethod of a missing method")
	}
	if ms := typ.Methods(); len(ms) != 1 || ms[0] != m {
		t.Fatal("Methods")
	}
	if typ.AttrFlags("a") != AttrAllClients|AttrOwnClient || !typ.AttrFlags("a").Has(AttrOwnClient) || typ.AttrFlags("zzz") != 0 {
		t.Fatal("AllClients implies OwnClient")
	}
	if typ.Hooks().HasAOIHooks() {
		t.Fatal("no AOI hooks set")
	}
	typ.OnEnterAOI(func(e, o *Entity) {})
	if !typ.Hooks().HasAOIHooks() {
		t.Fatal("AOI hook set")
	}
}

func TestNewComponentPanics(t *testing.T) {
	for name, fn := range map[string]func(){
		"empty name": func() { NewComponent[int]("") },
		"interface":  func() { NewComponent[error]("err") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			fn()
		}()
	}
}
