package ecs

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"slices"

	"github.com/yohamta/donburi"
)

// AttrFlags say who sees a top-level attribute and whether it is saved.
// Keys an entity type does not declare are server-only and not persistent.
type AttrFlags uint8

const (
	// AttrOwnClient: synced to the client bound to the entity.
	AttrOwnClient AttrFlags = 1 << iota
	// AttrAllClients: synced to every client that has the entity in its
	// AOI (and to its own client: it implies AttrOwnClient).
	AttrAllClients
	// AttrPersistent: saved when the entity is persisted to storage.
	AttrPersistent
)

// Has reports whether all bits of g are set in f.
func (f AttrFlags) Has(g AttrFlags) bool { return f&g == g }

// EntityType declares a kind of entity once: its name, the components it
// starts with, its attribute flags, its methods, and its hooks. Build it
// with the chained methods, then register it with Registry.RegisterType,
// which seals it: calling a builder method after that panics, because a
// running world must not see its schema change.
//
// Builder mistakes that depend on values (a duplicate method, a negative
// radius) are collected and returned by RegisterType.
type EntityType struct {
	name    string
	comps   []Component
	attrs   map[string]AttrFlags
	aoi     float32
	space   bool
	methods map[string]*Method
	hooks   Hooks
	sealed  bool
	errs    []error

	dcomps []donburi.IComponentType // refComponent + comps, set when sealed
	mask   compMask                 // comps, set when sealed
}

// NewEntityType starts the declaration of an entity type named name.
func NewEntityType(name string) *EntityType {
	t := &EntityType{name: name, attrs: map[string]AttrFlags{}, methods: map[string]*Method{}}
	t.hooks.t = t
	if name == "" {
		t.errs = append(t.errs, fmt.Errorf("%w: empty name", ErrBadType))
	}
	return t
}

func (t *EntityType) mutate(what string) {
	if t.sealed {
		panic(fmt.Sprintf("ecs: EntityType %q: %s after registration", t.name, what))
	}
}

func (t *EntityType) fail(format string, args ...any) {
	t.errs = append(t.errs, fmt.Errorf("%w: type %q: "+format, append([]any{ErrBadType, t.name}, args...)...))
}

// With adds components every entity of this type is created with.
func (t *EntityType) With(components ...Component) *EntityType {
	t.mutate("With")
	for _, c := range components {
		switch {
		case c == nil:
			t.fail("nil component")
		case slices.ContainsFunc(t.comps, func(o Component) bool { return o.Name() == c.Name() }):
			t.fail("component %q twice", c.Name())
		default:
			t.comps = append(t.comps, c)
		}
	}
	return t
}

// Attr declares a top-level attribute key and its flags. AttrAllClients
// implies AttrOwnClient.
func (t *EntityType) Attr(key string, flags AttrFlags) *EntityType {
	t.mutate("Attr")
	if flags.Has(AttrAllClients) {
		flags |= AttrOwnClient
	}
	if old, ok := t.attrs[key]; ok && old != flags {
		t.fail("attribute %q declared twice with different flags", key)
	}
	t.attrs[key] = flags
	return t
}

// AOI sets the default AOI radius of entities of this type; 0 (the
// default) keeps them out of AOI.
func (t *EntityType) AOI(radius float32) *EntityType {
	t.mutate("AOI")
	if radius < 0 || math.IsNaN(float64(radius)) || math.IsInf(float64(radius), 0) {
		t.fail("invalid AOI radius %v", radius)
		return t
	}
	t.aoi = radius
	return t
}

// Space marks this as a space type: its entities hold other entities.
func (t *EntityType) Space() *EntityType {
	t.mutate("Space")
	t.space = true
	return t
}

// Method adds a method; names are unique per type.
func (t *EntityType) Method(m *Method) *EntityType {
	t.mutate("Method")
	switch {
	case m == nil:
		t.fail("nil method")
	case t.methods[m.name] != nil:
		t.fail("method %q twice", m.name)
	default:
		t.methods[m.name] = m
	}
	return t
}

// OnCreated sets the hook run after an entity is created (before it enters
// CreateOptions.Space).
func (t *EntityType) OnCreated(fn func(e *Entity)) *EntityType {
	t.mutate("OnCreated")
	t.hooks.created = fn
	return t
}

// OnDestroy sets the hook run when an entity is destroyed, after it left
// its space and before it is removed from the world.
func (t *EntityType) OnDestroy(fn func(e *Entity)) *EntityType {
	t.mutate("OnDestroy")
	t.hooks.destroy = fn
	return t
}

// OnEnterSpace sets the hook run on an entity after it entered space.
func (t *EntityType) OnEnterSpace(fn func(e, space *Entity)) *EntityType {
	t.mutate("OnEnterSpace")
	t.hooks.enterSpace = fn
	return t
}

// OnLeaveSpace sets the hook run on an entity after it left space.
func (t *EntityType) OnLeaveSpace(fn func(e, space *Entity)) *EntityType {
	t.mutate("OnLeaveSpace")
	t.hooks.leaveSpace = fn
	return t
}

// OnEntityEnter sets the hook run on a space after e entered it.
func (t *EntityType) OnEntityEnter(fn func(space, e *Entity)) *EntityType {
	t.mutate("OnEntityEnter")
	t.hooks.entityEnter = fn
	return t
}

// OnEntityLeave sets the hook run on a space after e left it.
func (t *EntityType) OnEntityLeave(fn func(space, e *Entity)) *EntityType {
	t.mutate("OnEntityLeave")
	t.hooks.entityLeave = fn
	return t
}

// OnEnterAOI sets the hook the AOI system runs when other comes into e's
// AOI.
func (t *EntityType) OnEnterAOI(fn func(e, other *Entity)) *EntityType {
	t.mutate("OnEnterAOI")
	t.hooks.enterAOI = fn
	return t
}

// OnLeaveAOI sets the hook the AOI system runs when other leaves e's AOI.
func (t *EntityType) OnLeaveAOI(fn func(e, other *Entity)) *EntityType {
	t.mutate("OnLeaveAOI")
	t.hooks.leaveAOI = fn
	return t
}

// OnClientConnected sets the hook run when an entity becomes bound to a
// client (Entity.SetClient).
func (t *EntityType) OnClientConnected(fn func(e *Entity)) *EntityType {
	t.mutate("OnClientConnected")
	t.hooks.clientConnected = fn
	return t
}

// OnClientDisconnected sets the hook run when an entity loses its client.
func (t *EntityType) OnClientDisconnected(fn func(e *Entity)) *EntityType {
	t.mutate("OnClientDisconnected")
	t.hooks.clientDisconnected = fn
	return t
}

// OnFreeze sets the hook the game runs on every entity before it writes a
// snapshot.
func (t *EntityType) OnFreeze(fn func(e *Entity)) *EntityType {
	t.mutate("OnFreeze")
	t.hooks.freeze = fn
	return t
}

// OnRestored sets the hook the game runs on every entity after a restore.
func (t *EntityType) OnRestored(fn func(e *Entity)) *EntityType {
	t.mutate("OnRestored")
	t.hooks.restored = fn
	return t
}

// seal checks the declaration and freezes it.
func (t *EntityType) seal() error {
	if len(t.errs) > 0 {
		return errors.Join(t.errs...)
	}
	if !t.sealed {
		// Donburi needs a component per entity: the hidden one, for a type
		// that declares none (every other entity saves donburi its
		// storage, a slice entry and its regrowth).
		t.dcomps = make([]donburi.IComponentType, 0, max(1, len(t.comps)))
		if len(t.comps) == 0 {
			t.dcomps = append(t.dcomps, refComponent)
		}
		for _, c := range t.comps {
			t.dcomps = append(t.dcomps, c.donburiType())
			t.mask.set(c.maskBit())
		}
		t.sealed = true
	}
	return nil
}

// Name returns the type's name.
func (t *EntityType) Name() string { return t.name }

// String returns the type's name.
func (t *EntityType) String() string { return t.name }

// Components returns the components entities of this type are created
// with, in declaration order. The slice must not be modified.
func (t *EntityType) Components() []Component { return t.comps }

// AttrFlags returns the flags declared for top-level attribute key (0 for
// an undeclared key: server only, not persistent).
func (t *EntityType) AttrFlags(key string) AttrFlags { return t.attrs[key] }

// AttrKeys returns the declared attribute keys, sorted.
func (t *EntityType) AttrKeys() []string {
	keys := make([]string, 0, len(t.attrs))
	for k := range t.attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// AOIRadius returns the default AOI radius of the type's entities.
func (t *EntityType) AOIRadius() float32 { return t.aoi }

// IsSpace reports whether this is a space type.
func (t *EntityType) IsSpace() bool { return t.space }

// LookupMethod returns the method called name.
func (t *EntityType) LookupMethod(name string) (*Method, bool) {
	m, ok := t.methods[name]
	return m, ok
}

// Methods returns the type's methods sorted by name.
func (t *EntityType) Methods() []*Method {
	ms := make([]*Method, 0, len(t.methods))
	for _, m := range t.methods {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *Method) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return ms
}

// Hooks returns the type's hooks as callable methods. Each is a no-op when
// the hook is not set, and recovers a panic of the hook into the world's
// OnError sink (a *PanicError wrapping ErrHookPanic), so systems can call
// them from the tick unguarded.
func (t *EntityType) Hooks() *Hooks { return &t.hooks }

// Hooks runs an entity type's hooks; get it with EntityType.Hooks. The
// world runs OnCreated, OnDestroy, the space hooks and the client hooks
// itself; the AOI system runs OnEnterAOI and OnLeaveAOI, and the game runs
// OnFreeze and OnRestored.
type Hooks struct {
	t *EntityType

	created, destroy, clientConnected, clientDisconnected, freeze, restored func(e *Entity)
	enterSpace, leaveSpace, enterAOI, leaveAOI                              func(e, other *Entity)
	entityEnter, entityLeave                                                func(space, e *Entity)
}

// HasAOIHooks reports whether OnEnterAOI or OnLeaveAOI is set, so the AOI
// system can skip building events nobody listens to.
func (h *Hooks) HasAOIHooks() bool { return h != nil && (h.enterAOI != nil || h.leaveAOI != nil) }

// OnCreated runs the OnCreated hook on e.
func (h *Hooks) OnCreated(e *Entity) {
	if h != nil && h.created != nil {
		h.run1("OnCreated", h.created, e)
	}
}

// OnDestroy runs the OnDestroy hook on e.
func (h *Hooks) OnDestroy(e *Entity) {
	if h != nil && h.destroy != nil {
		h.run1("OnDestroy", h.destroy, e)
	}
}

// OnClientConnected runs the OnClientConnected hook on e.
func (h *Hooks) OnClientConnected(e *Entity) {
	if h != nil && h.clientConnected != nil {
		h.run1("OnClientConnected", h.clientConnected, e)
	}
}

// OnClientDisconnected runs the OnClientDisconnected hook on e.
func (h *Hooks) OnClientDisconnected(e *Entity) {
	if h != nil && h.clientDisconnected != nil {
		h.run1("OnClientDisconnected", h.clientDisconnected, e)
	}
}

// OnFreeze runs the OnFreeze hook on e.
func (h *Hooks) OnFreeze(e *Entity) {
	if h != nil && h.freeze != nil {
		h.run1("OnFreeze", h.freeze, e)
	}
}

// OnRestored runs the OnRestored hook on e.
func (h *Hooks) OnRestored(e *Entity) {
	if h != nil && h.restored != nil {
		h.run1("OnRestored", h.restored, e)
	}
}

// OnEnterSpace runs the OnEnterSpace hook on e.
func (h *Hooks) OnEnterSpace(e, space *Entity) {
	if h != nil && h.enterSpace != nil {
		h.run2("OnEnterSpace", h.enterSpace, e, e, space)
	}
}

// OnLeaveSpace runs the OnLeaveSpace hook on e.
func (h *Hooks) OnLeaveSpace(e, space *Entity) {
	if h != nil && h.leaveSpace != nil {
		h.run2("OnLeaveSpace", h.leaveSpace, e, e, space)
	}
}

// OnEnterAOI runs the OnEnterAOI hook on e.
func (h *Hooks) OnEnterAOI(e, other *Entity) {
	if h != nil && h.enterAOI != nil {
		h.run2("OnEnterAOI", h.enterAOI, e, e, other)
	}
}

// OnLeaveAOI runs the OnLeaveAOI hook on e.
func (h *Hooks) OnLeaveAOI(e, other *Entity) {
	if h != nil && h.leaveAOI != nil {
		h.run2("OnLeaveAOI", h.leaveAOI, e, e, other)
	}
}

// OnEntityEnter runs the OnEntityEnter hook on space.
func (h *Hooks) OnEntityEnter(space, e *Entity) {
	if h != nil && h.entityEnter != nil {
		h.run2("OnEntityEnter", h.entityEnter, space, space, e)
	}
}

// OnEntityLeave runs the OnEntityLeave hook on space.
func (h *Hooks) OnEntityLeave(space, e *Entity) {
	if h != nil && h.entityLeave != nil {
		h.run2("OnEntityLeave", h.entityLeave, space, space, e)
	}
}

// run1 and run2 call a set hook with panic recovery; on is the entity the
// hook runs on (its world gets the error).
func (h *Hooks) run1(name string, fn func(*Entity), e *Entity) {
	if e == nil {
		return
	}
	defer h.recovered(name, e)
	fn(e)
}

func (h *Hooks) run2(name string, fn func(a, b *Entity), on, a, b *Entity) {
	if on == nil {
		return
	}
	defer h.recovered(name, on)
	fn(a, b)
}

func (h *Hooks) recovered(name string, e *Entity) {
	r := recover()
	if r == nil {
		return
	}
	e.w.report(&PanicError{Kind: ErrHookPanic, Where: h.t.name + "." + name, Entity: e.id, Value: r, Stack: debug.Stack()})
}
