package ecs

import (
	"fmt"
	"reflect"

	"github.com/yohamta/donburi"
)

// Component is the untyped view of a *ComponentType[T], for code that
// works on components by name (snapshots, tools, the registry). Game code
// uses the typed methods of ComponentType[T] instead.
//
// The interface is sealed: only NewComponent makes values of it.
type Component interface {
	// Name is the stable name the component is saved and sent under.
	Name() string
	// Type is the Go type T of the component's values.
	Type() reflect.Type
	// GetAny returns a *T pointing at e's value, and whether e has the
	// component. The pointer stays valid while e lives.
	GetAny(e *Entity) (any, bool)
	// SetAny sets e's value from v, a T or a non-nil *T, adding the
	// component if e lacks it (an archetype change: not for per-tick use).
	SetAny(e *Entity, v any) error
	// New returns a new *T holding the zero value, to decode into.
	New() any

	donburiType() donburi.IComponentType
	maskBit() compBit
}

// ComponentType describes one kind of component: a plain Go struct (or any
// non-interface type) T registered under a stable name. It wraps donburi's
// component type, so donburi stores the values, but it is not put in any
// registry of ours until it is passed to Registry.RegisterComponent or an
// EntityType.With.
type ComponentType[T any] struct {
	name string
	typ  reflect.Type
	dc   *donburi.ComponentType[T]
	bit  compBit
}

// NewComponent declares a component type named name. Call it at package
// initialisation (a package-level var), not concurrently: donburi numbers
// component types from a process-wide counter that is not synchronised.
// It panics if name is empty or T is an interface type, both programming
// errors in a declaration.
func NewComponent[T any](name string) *ComponentType[T] {
	typ := reflect.TypeFor[T]()
	if name == "" {
		panic("ecs: NewComponent: empty name")
	}
	if typ.Kind() == reflect.Interface {
		panic(fmt.Sprintf("ecs: NewComponent %q: %v is an interface type", name, typ))
	}
	dc := donburi.NewComponentType[T]()
	dc.SetName(name)
	return &ComponentType[T]{name: name, typ: typ, dc: dc, bit: bitOf(dc)}
}

// Name returns the component's stable name.
func (c *ComponentType[T]) Name() string { return c.name }

// Type returns reflect.TypeFor[T]().
func (c *ComponentType[T]) Type() reflect.Type { return c.typ }

// String returns the name.
func (c *ComponentType[T]) String() string { return c.name }

func (c *ComponentType[T]) donburiType() donburi.IComponentType { return c.dc }
func (c *ComponentType[T]) maskBit() compBit                    { return c.bit }

// Get returns a pointer to e's value, or nil if e lacks the component or
// is destroyed (or nil). The pointer stays valid while e lives, also across
// archetype changes, so a system may keep it for the duration of a tick.
func (c *ComponentType[T]) Get(e *Entity) *T {
	if !c.Has(e) {
		return nil
	}
	return c.dc.Get(e.entry)
}

// Has reports whether e has the component.
func (c *ComponentType[T]) Has(e *Entity) bool {
	if e == nil || e.entry == nil {
		return false
	}
	if c.bit.ok {
		return e.mask[c.bit.word]&c.bit.bit != 0
	}
	return e.entry.HasComponent(c.dc)
}

// Set stores v as e's value, adding the component if e lacks it. Adding
// moves the entity to another donburi archetype, which costs an allocation
// and copies: declare the components an entity always has with
// EntityType.With and use Get to update them per tick. Set on a destroyed
// entity does nothing.
func (c *ComponentType[T]) Set(e *Entity, v T) {
	if e == nil || e.entry == nil {
		return
	}
	if !c.Has(e) {
		e.entry.AddComponent(c.dc)
		e.mask.set(c.bit)
	}
	*c.dc.Get(e.entry) = v
}

// Remove removes the component from e (an archetype change, like adding).
// Removing a component e lacks does nothing.
func (c *ComponentType[T]) Remove(e *Entity) {
	if !c.Has(e) {
		return
	}
	e.removeDonburi(c.dc)
	e.mask.unset(c.bit)
}

// GetAny implements Component.
func (c *ComponentType[T]) GetAny(e *Entity) (any, bool) {
	p := c.Get(e)
	if p == nil {
		return nil, false
	}
	return p, true
}

// SetAny implements Component.
func (c *ComponentType[T]) SetAny(e *Entity, v any) error {
	if e == nil || e.entry == nil {
		return fmt.Errorf("%w: set component %s", ErrNoEntity, c.name)
	}
	switch x := v.(type) {
	case T:
		c.Set(e, x)
	case *T:
		if x == nil {
			return fmt.Errorf("%w: component %s: nil *%v", ErrComponentValue, c.name, c.typ)
		}
		c.Set(e, *x)
	default:
		return fmt.Errorf("%w: component %s wants %v, got %T", ErrComponentValue, c.name, c.typ, v)
	}
	return nil
}

// New implements Component.
func (c *ComponentType[T]) New() any { return new(T) }

// Components returns the registered components e has now, sorted by
// name: its type's (less any removed) and any added since with
// ComponentType.Set or SetAny. It is for code that saves or inspects
// entities by component name (snapshots, migration, tools); it allocates,
// so it is not for per-tick use. A component that was never registered
// (by Registry.RegisterComponent or EntityType.With) has no name another
// process could resolve, and is not listed. Nil for a destroyed entity.
func (e *Entity) Components() []Component {
	if e == nil || e.entry == nil {
		return nil
	}
	var out []Component
	for _, c := range e.w.comps {
		if hasComponent(e, c) {
			out = append(out, c)
		}
	}
	return out
}

// hasComponent is ComponentType.Has for the untyped view.
func hasComponent(e *Entity, c Component) bool {
	if b := c.maskBit(); b.ok {
		return e.mask[b.word]&b.bit != 0
	}
	return e.entry.HasComponent(c.donburiType())
}

// accepts reports whether v is a T or *T, the forms SetAny takes.
func accepts(c Component, v any) bool {
	t := reflect.TypeOf(v)
	if t == nil {
		return false
	}
	if t == c.Type() {
		return true
	}
	return t.Kind() == reflect.Pointer && t.Elem() == c.Type()
}

// compMask is a set of component types by donburi component id, so Has is
// two loads instead of a scan of the archetype's layout. donburi numbers
// component types process-wide from 1; types numbered beyond the mask fall
// back to the layout scan.
type compMask [2]uint64

// compBit is a component's place in a compMask.
type compBit struct {
	word uint8
	bit  uint64
	ok   bool // false: the id does not fit; scan the layout
}

func bitOf(c donburi.IComponentType) compBit {
	id := int(c.Id())
	if id < 0 || id >= 64*len(compMask{}) {
		return compBit{}
	}
	return compBit{word: uint8(id / 64), bit: 1 << (id % 64), ok: true}
}

func (m *compMask) set(b compBit) {
	if b.ok {
		m[b.word] |= b.bit
	}
}

func (m *compMask) unset(b compBit) {
	if b.ok {
		m[b.word] &^= b.bit
	}
}

// entityRef is the hidden component of an entity that has no other:
// donburi requires at least one component per entity. It is empty, so
// donburi allocates nothing for it: a query finds our *Entity by the
// donburi entity's index (World.byIndex).
type entityRef struct{}

// refComponent is the donburi type of entityRef. It is a descriptor created
// once at initialisation and never changed, not mutable state; donburi
// component types are process-wide by design.
var refComponent = donburi.NewComponentType[entityRef]().SetName("ecs.entity")

// removeDonburi removes donburi component dc from e; if it is e's last,
// the hidden component takes its place (donburi needs one).
func (e *Entity) removeDonburi(dc donburi.IComponentType) {
	if cs := e.entry.Archetype().Layout().Components(); len(cs) == 1 && cs[0] == dc {
		e.entry.AddComponent(refComponent)
	}
	e.entry.RemoveComponent(dc)
}
