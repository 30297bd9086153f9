package ecs

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"

	"github.com/yohamta/donburi"
)

// WorldOptions configures a World.
type WorldOptions struct {
	// IDs makes the IDs of created entities. Without it, Create needs an
	// explicit CreateOptions.ID (and fails with ErrNoIDGen otherwise).
	IDs *IDGen
	// OnError receives errors that have no caller to return to: panics of
	// hooks (*PanicError wrapping ErrHookPanic). Nil drops them.
	OnError func(error)
}

// World is a game's entities over a donburi world, with the per-tick change
// lists the engine's systems consume.
//
// A World is not safe for concurrent use: one goroutine (the game's tick
// goroutine) owns it and everything reached from it, entities, attributes
// and queries included. Network goroutines decode and enqueue; they never
// touch the world.
//
// Per-tick lists. The world records, in order, what changed during a tick
// so that systems react without polling or scanning every entity:
//
//   - Moved: entities whose position, yaw or AOI radius changed (each once).
//   - SpaceChanges: space memberships that changed (every change, in order).
//   - Destroyed: entities destroyed (each once).
//   - AttrDirty: entities whose attributes changed (each once).
//
// The AOI system reads SpaceChanges first (removing entities from the grid
// of From and adding them to the grid of To), then Destroyed (an entity
// destroyed in a space has already produced a SpaceChange with To == nil),
// then Moved. The sync system reads Moved and AttrDirty. The scheduler
// resets all four lists once, at the end of the tick, after every system
// has seen them (ResetMoved, ResetSpaceChanges, ResetDestroyed,
// ResetAttrDirty; or ResetTick for all). The slices returned are owned by
// the world and valid until the matching reset; do not modify them. In
// steady state no list allocates.
type World struct {
	reg     *Registry
	comps   []Component // reg's components sorted by name, fixed at NewWorld
	dw      donburi.World
	ids     *IDGen
	onError func(error)

	byID    idIndex
	byIndex []*Entity // by donburi entity index (dense; donburi reuses indices)
	spaces  []*Entity // dense; Entity.sp.slot is the index
	queries map[*Query]*queryCache

	moved        []*Entity
	spaceChanges []SpaceChange
	destroyed    []*Entity
	attrDirty    []*Entity

	scratch []*[]*Entity // Query.Each and Each buffers, one per nesting depth
	depth   int

	types   map[*EntityType]*typeState // per type with entities or a reserve
	last    *typeState                 // the type of the last Create (a restore makes thousands in a row)
	pending int                        // entities reserved and not created yet
	slab    []Entity                   // the next Entities to hand out
}

// typeState is a world's state of one entity type.
type typeState struct {
	t     *EntityType
	count int      // live entities
	res   *reserve // see Reserve; nil if none
}

// stateOf returns t's state, making it if needed.
func (w *World) stateOf(t *EntityType) *typeState {
	if l := w.last; l != nil && l.t == t {
		return l
	}
	ts := w.types[t]
	if ts == nil {
		ts = &typeState{t: t}
		w.types[t] = ts
	}
	w.last = ts
	return ts
}

// reserve is a type's donburi entities made ahead for restored entities.
type reserve struct {
	ready []donburi.Entity // made, not yet used
	want  int              // still to make
}

// slabSize is how many Entities a restore allocates at once: one object
// instead of 256 for the allocator and the garbage collector, at the cost
// that a slab stays in memory while one of its entities is referenced.
// Ordinary creates allocate one Entity each: in a running game, short-lived
// entities (projectiles, loot, monsters) would otherwise keep whole slabs
// alive for one long-lived neighbour each, without bound.
const slabSize = 256

// reserveBatch is how many donburi entities Reserve makes at a time.
const reserveBatch = 1024

// SpaceChange records that Entity left From and/or joined To (either may
// be nil: nil→space is a join, space→nil a leave, space→space a switch).
// From and To may be destroyed by the time a system reads the change.
type SpaceChange struct {
	Entity   *Entity // the entity whose membership changed
	From, To *Entity // the space it left and the one it joined (nil: none)
}

// NewWorld creates an empty world over reg and freezes reg. Like donburi's
// NewWorld, which numbers worlds from an unsynchronised counter, it must
// not run concurrently with another NewWorld.
func NewWorld(reg *Registry, opts WorldOptions) *World {
	if reg == nil {
		reg = NewRegistry()
	}
	reg.frozen = true
	return &World{
		reg:     reg,
		comps:   reg.Components(),
		dw:      donburi.NewWorld(),
		ids:     opts.IDs,
		onError: opts.OnError,
		byID:    newIDIndex(),
		queries: make(map[*Query]*queryCache),
		types:   make(map[*EntityType]*typeState),
	}
}

// newEntity returns a zeroed Entity: from the current slab for a restore
// (bulk, and the world it restores was alive as a whole), on its own
// otherwise.
func (w *World) newEntity(restore bool) *Entity {
	if !restore {
		return new(Entity)
	}
	if len(w.slab) == 0 {
		w.slab = make([]Entity, slabSize)
	}
	e := &w.slab[0]
	w.slab = w.slab[1:]
	return e
}

// Reserve prepares the world for n more entities of type t, for a restore
// that knows its counts (a snapshot's header): the world's tables grow
// once, and entities created with CreateOptions.Restore take their donburi
// entities from batches made at once (donburi's CreateMany), which halves
// donburi's cost per entity. n is a hint: creating fewer or more works,
// but the tables for n are allocated at once, so a caller reading n from
// a file bounds it. Donburi entities reserved and not used yet (at most a
// batch) are not visited by queries, though Query.Count counts them, and
// hold memory until Unreserve. t must be one of the world's registered
// types; another t, or n <= 0, does nothing.
func (w *World) Reserve(t *EntityType, n int) {
	if n <= 0 || t == nil || w.reg.types[t.name] != t {
		return
	}
	w.pending += n
	w.byIndex = slices.Grow(w.byIndex, n)
	if t.space {
		w.spaces = slices.Grow(w.spaces, n)
	} else {
		// Restored members go into the ID index's sorted run and join
		// their space.
		w.byID.grow(n)
		w.spaceChanges = slices.Grow(w.spaceChanges, n)
	}
	ts := w.stateOf(t)
	if ts.res == nil {
		ts.res = &reserve{}
	}
	ts.res.want += n
}

// Unreserve releases what Reserve made and no Create used.
func (w *World) Unreserve() {
	for _, ts := range w.types {
		if ts.res != nil {
			for _, de := range ts.res.ready {
				w.dw.Remove(de)
			}
			ts.res = nil
		}
	}
	w.pending = 0
}

// donburiEntity makes the donburi entity of a new entity of type ts.t,
// from its reserve for a restore.
func (w *World) donburiEntity(ts *typeState, restore bool) donburi.Entity {
	t := ts.t
	if r := ts.res; restore && r != nil {
		if len(r.ready) == 0 && r.want > 0 {
			k := min(r.want, reserveBatch)
			r.ready = w.dw.CreateMany(k, t.dcomps...)
			r.want -= k
			// Queries index byIndex by every donburi entity they see
			// (donburi reuses indices: the batch is not in order).
			top := 0
			for _, de := range r.ready {
				top = max(top, int(de.Id()))
			}
			if top >= len(w.byIndex) {
				w.byIndex = slices.Grow(w.byIndex, top+1-len(w.byIndex))[:top+1]
			}
		}
		if len(r.ready) > 0 {
			de := r.ready[0]
			r.ready = r.ready[1:]
			return de
		}
	}
	return w.dw.Create(t.dcomps...)
}

// Count returns the number of live entities of type t.
func (w *World) Count(t *EntityType) int {
	if ts := w.types[t]; ts != nil {
		return ts.count
	}
	return 0
}

// Registry returns the (frozen) registry the world was made from.
func (w *World) Registry() *Registry { return w.reg }

// IDs returns the world's IDGen (nil if it has none).
func (w *World) IDs() *IDGen { return w.ids }

func (w *World) report(err error) {
	if w != nil && w.onError != nil {
		w.onError(err)
	}
}

// CreateOptions are the initial state of an entity made by World.Create.
type CreateOptions struct {
	// ID is the entity's ID; 0 takes the next ID from the world's IDGen.
	// Restores and migrations pass the entity's existing ID.
	ID EntityID
	// Pos and Yaw are the initial position and heading.
	Pos Vec3
	Yaw float32 // radians; see Entity.Yaw
	// Attrs are the initial attributes (values as MapAttr.Set takes). They
	// are not recorded as attribute changes.
	Attrs map[string]any
	// Space, if set, is entered (at Pos) after OnCreated has run.
	Space *Entity
	// Components are initial component values (T or *T) overriding the
	// zero values, matched by Go type to the type's components.
	Components []any
	// Client, if bound, binds the entity to a client once it is created
	// (and in its space), running OnClientConnected.
	Client ClientBinding
	// Restore rebuilds an entity that existed before (a snapshot restore,
	// a migration): no hook runs (OnCreated, the space hooks,
	// OnClientConnected); the space join is still recorded in
	// SpaceChanges so the AOI system rebuilds its grid. The caller runs
	// OnRestored once the whole world is rebuilt.
	Restore bool
}

// Create makes an entity of the registered type typeName: it checks every
// option first (so a failure creates nothing), creates the donburi entity
// with the type's components, applies the options, runs OnCreated (a panic
// there is reported to OnError), enters opts.Space and binds opts.Client.
// With opts.Restore no hook runs.
//
// Errors: ErrNoType; ErrEntityExists for an ID in use; ErrBadID for an
// invalid explicit ID; ErrNoIDGen; ErrComponentValue for a component value
// matching none (or several) of the type's components; attribute errors;
// space errors (ErrNotSpace, ErrNoEntity, ErrWrongWorld, ErrSpaceInSpace).
// If entering the space fails after OnCreated (a hook interfered), the
// entity is destroyed again and the error returned.
func (w *World) Create(typeName string, opts CreateOptions) (*Entity, error) {
	var t *EntityType
	if l := w.last; l != nil && l.t.name == typeName {
		t = l.t // the registry is frozen: a name stays its type
	} else {
		var ok bool
		if t, ok = w.reg.types[typeName]; !ok {
			return nil, fmt.Errorf("%w: %q", ErrNoType, typeName)
		}
	}
	id := opts.ID
	if id != 0 {
		if !id.Valid() {
			return nil, fmt.Errorf("%w: %s (node or sequence 0)", ErrBadID, id)
		}
		if _, dup := w.byID.get(id); dup {
			return nil, fmt.Errorf("%w: %s", ErrEntityExists, id)
		}
	} else if w.ids == nil {
		return nil, fmt.Errorf("create %s: %w", typeName, ErrNoIDGen)
	}
	if opts.Space != nil {
		if err := w.checkEnter(t, opts.Space); err != nil {
			return nil, fmt.Errorf("create %s: %w", typeName, err)
		}
	}
	var small [4]Component
	comps := small[:0]
	if len(opts.Components) > len(small) {
		comps = make([]Component, 0, len(opts.Components))
	}
	comps = comps[:len(opts.Components)]
	for i, v := range opts.Components {
		c, err := matchComponent(t, v)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", typeName, err)
		}
		comps[i] = c
	}
	e := w.newEntity(opts.Restore)
	// Written whole, zeros too: a slab is fresh memory, and a field read
	// before any write to its page (adopting attributes reads the root's
	// length) would map the zero page, then fault again on the write. The
	// store before the copy is the copy's nil check: left to the compiler,
	// that check is a read of *e, which does the same at every page an
	// Entity starts (every page, with 256-byte Entities: 6,000 faults more
	// in a restore of 100,000). It stores a number, as a pointer's write
	// barrier would read first too.
	e.aoiHandle = -1
	*e = Entity{typ: t, w: w, aoiHandle: -1, aoiRadius: t.aoi, memberIdx: -1}
	if err := e.initAttrs(opts.Attrs); err != nil {
		return nil, fmt.Errorf("create %s: %w", typeName, err)
	}

	if id == 0 {
		id = w.ids.Next()
		for _, taken := w.byID.get(id); taken; _, taken = w.byID.get(id) { // an explicit ID from the future took it
			id = w.ids.Next()
		}
	} else if w.ids != nil && id.Node() == w.ids.Node() {
		w.ids.Resume(id.Seq()) // never hand out an ID restored into this world
	}
	e.id = id
	e.pos, e.yaw = opts.Pos, opts.Yaw

	ts := w.stateOf(t)
	de := w.donburiEntity(ts, opts.Restore)
	e.entry = w.dw.Entry(de)
	e.mask = t.mask
	for i, v := range opts.Components {
		if err := comps[i].SetAny(e, v); err != nil { // matchComponent checked v
			w.dw.Remove(de)
			return nil, fmt.Errorf("create %s: %w", typeName, err)
		}
	}
	// Restored members, in ID order, go into the index's sorted run;
	// spaces, few and listed first, into its map.
	w.byID.put(e, opts.Restore && !t.space)
	ts.count++
	if w.pending > 0 {
		w.pending--
	}
	idx := int(de.Id())
	if idx >= len(w.byIndex) {
		w.byIndex = slices.Grow(w.byIndex, idx+1-len(w.byIndex))[:idx+1]
	}
	w.byIndex[idx] = e
	if t.space {
		e.spaceOf().slot = len(w.spaces)
		w.spaces = append(w.spaces, e)
	}

	if opts.Restore {
		if opts.Space != nil {
			e.attach(opts.Space)
			w.spaceChanges = append(w.spaceChanges, SpaceChange{Entity: e, To: opts.Space})
		}
		if opts.Client.Bound() {
			e.client = opts.Client
		}
		return e, nil
	}

	t.hooks.OnCreated(e)
	if opts.Space != nil && !e.destroyed {
		if err := e.EnterSpace(opts.Space, opts.Pos); err != nil {
			w.Destroy(e)
			return nil, fmt.Errorf("create %s: %w", typeName, err)
		}
	}
	if opts.Client.Bound() && !e.destroyed {
		e.SetClient(opts.Client)
	}
	if e.destroyed {
		return nil, fmt.Errorf("create %s %s: %w (destroyed by a hook)", typeName, id, ErrNoEntity)
	}
	return e, nil
}

// matchComponent finds the one component of t whose Go type v has.
func matchComponent(t *EntityType, v any) (Component, error) {
	var found Component
	for _, c := range t.comps {
		if accepts(c, v) {
			if found != nil {
				return nil, fmt.Errorf("%w: %T matches components %q and %q", ErrComponentValue, v, found.Name(), c.Name())
			}
			found = c
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: %T matches no component of type %q", ErrComponentValue, v, t.name)
	}
	if reflect.ValueOf(v).Kind() == reflect.Pointer && reflect.ValueOf(v).IsNil() {
		return nil, fmt.Errorf("%w: nil %T for component %q", ErrComponentValue, v, found.Name())
	}
	return found, nil
}

// Destroy removes e from the world: members of a space leave it first,
// then e leaves its space (with the space hooks), OnDestroy runs, and e is
// removed from donburi and the world's maps, marked Destroyed and added to
// the Destroyed list. Its client binding, position and AOI handle are kept
// so systems can still clean up after it. Destroying a destroyed entity,
// or destroying e again from one of these hooks, does nothing. It is safe
// inside Query.Each and Each.
func (w *World) Destroy(e *Entity) {
	if e == nil || e.w != w || e.destroyed || e.destroying {
		return
	}
	e.destroying = true
	if e.typ.space {
		for n := len(e.members()); n > 0; n = len(e.members()) {
			e.sp.members[n-1].LeaveSpace()
		}
	}
	e.LeaveSpace()
	e.typ.hooks.OnDestroy(e) // EnterSpace refuses e from here on
	w.unlink(e)
}

// unlink takes e out of the world's tables and donburi, and puts it on the
// Destroyed list: the end of both Destroy and Remove.
func (w *World) unlink(e *Entity) {
	if sp := e.sp; sp != nil && sp.slot >= 0 {
		last := w.spaces[len(w.spaces)-1]
		w.spaces[sp.slot] = last
		last.sp.slot = sp.slot
		w.spaces[len(w.spaces)-1] = nil
		w.spaces = w.spaces[:len(w.spaces)-1]
		sp.slot = -1
	}
	w.byID.remove(e.id)
	w.stateOf(e.typ).count--
	w.byIndex[e.entry.Entity().Id()] = nil
	w.dw.Remove(e.entry.Entity())
	e.entry = nil
	e.destroyed = true
	if e.sp != nil {
		e.sp.members = nil
	}
	w.destroyed = append(w.destroyed, e)
}

// Entity returns the live entity with ID id.
func (w *World) Entity(id EntityID) (*Entity, bool) {
	return w.byID.get(id)
}

// Len returns the number of live entities.
func (w *World) Len() int { return w.byID.len() }

// Each calls fn for every live entity in EntityID order until fn returns
// false. It sorts, so it is for snapshots, tools and tests, not per-tick
// work (use a Query). Entities created during Each are not visited;
// entities destroyed during it are skipped.
func (w *World) Each(fn func(e *Entity) bool) {
	buf := w.pushScratch()
	defer w.popScratch(buf)
	// The dense index, unlike the map, mostly holds entities in creation
	// order, which is ID order: then there is nothing to sort.
	for _, e := range w.byIndex {
		if e != nil {
			*buf = append(*buf, e)
		}
	}
	sortByID(*buf)
	for _, e := range *buf {
		if !e.destroyed && !fn(e) {
			return
		}
	}
}

// sortByID sorts es by EntityID: a radix sort for many entities (a
// comparison sort of 100,000 took a fifth of a snapshot's time).
func sortByID(es []*Entity) {
	byID := func(a, b *Entity) int { return cmp.Compare(a.id, b.id) }
	if slices.IsSortedFunc(es, byID) {
		return
	}
	if len(es) < 1024 {
		slices.SortFunc(es, byID)
		return
	}
	type keyed struct {
		id EntityID
		e  *Entity
	}
	a := make([]keyed, len(es))
	for i, e := range es {
		a[i] = keyed{e.id, e}
	}
	b := make([]keyed, len(es))
	for shift := uint(0); shift < 64; shift += 8 {
		var count [256]int
		for _, k := range a {
			count[byte(k.id>>shift)]++
		}
		if count[byte(a[0].id>>shift)] == len(a) {
			continue // every ID has this byte: nothing to do
		}
		pos := 0
		for d, c := range count {
			count[d] = pos
			pos += c
		}
		for _, k := range a {
			d := byte(k.id >> shift)
			b[count[d]] = k
			count[d]++
		}
		a, b = b, a
	}
	for i, k := range a {
		es[i] = k.e
	}
}

// Spaces returns the live spaces sorted by EntityID (a new slice).
func (w *World) Spaces() []*Entity {
	out := slices.Clone(w.spaces)
	slices.SortFunc(out, func(a, b *Entity) int { return cmp.Compare(a.id, b.id) })
	return out
}

// NumSpaces returns the number of live spaces.
func (w *World) NumSpaces() int { return len(w.spaces) }

// Moved returns the entities whose position, yaw or AOI radius changed
// since ResetMoved, each once, in the order of their first change. An
// entity destroyed after it moved stays on the list (check Destroyed).
func (w *World) Moved() []*Entity { return w.moved }

// ResetMoved empties the Moved list and clears the entities' moved flags.
func (w *World) ResetMoved() {
	for _, e := range w.moved {
		e.moved = false
	}
	clear(w.moved)
	w.moved = w.moved[:0]
}

// SpaceChanges returns the space membership changes since
// ResetSpaceChanges, in order. An entity that switches spaces in one step
// (EnterSpace while in another space, with no hook interfering) gives one
// change with both From and To set.
func (w *World) SpaceChanges() []SpaceChange { return w.spaceChanges }

// ResetSpaceChanges empties the SpaceChanges list.
func (w *World) ResetSpaceChanges() {
	clear(w.spaceChanges)
	w.spaceChanges = w.spaceChanges[:0]
}

// Destroyed returns the entities destroyed since ResetDestroyed.
func (w *World) Destroyed() []*Entity { return w.destroyed }

// ResetDestroyed empties the Destroyed list.
func (w *World) ResetDestroyed() {
	clear(w.destroyed)
	w.destroyed = w.destroyed[:0]
}

// AttrDirty returns the entities whose attributes changed since
// ResetAttrDirty, each once; each one's changes are in AttrChanges. An
// entity destroyed after the change stays on the list (check Destroyed).
func (w *World) AttrDirty() []*Entity { return w.attrDirty }

// ResetAttrDirty empties the AttrDirty list and resets the attribute
// changes of every entity on it, so one call ends the tick for attributes.
func (w *World) ResetAttrDirty() {
	for _, e := range w.attrDirty {
		e.attrDirty = false
		e.track.reset()
	}
	clear(w.attrDirty)
	w.attrDirty = w.attrDirty[:0]
}

// ResetTick resets all four per-tick lists.
func (w *World) ResetTick() {
	w.ResetMoved()
	w.ResetSpaceChanges()
	w.ResetDestroyed()
	w.ResetAttrDirty()
}

// pushScratch lends a buffer for an iteration; nested iterations get
// different buffers, and the buffers are reused so iteration does not
// allocate in steady state.
func (w *World) pushScratch() *[]*Entity {
	if w.depth == len(w.scratch) {
		w.scratch = append(w.scratch, new([]*Entity))
	}
	buf := w.scratch[w.depth]
	w.depth++
	return buf
}

func (w *World) popScratch(buf *[]*Entity) {
	clear(*buf)
	*buf = (*buf)[:0]
	w.depth--
}

// Call runs method on entity id for caller c: it looks the entity and the
// method up, checks the permission and invokes it. Errors wrap
// ErrNoEntity, ErrNoMethod or ErrDenied, or come from Method.Invoke
// (ErrBadArgs, ErrMethodPanic, or the method's own error).
func (w *World) Call(id EntityID, method string, c Caller, args []byte) error {
	e, ok := w.byID.get(id)
	if !ok {
		return fmt.Errorf("%w: %s (call %s)", ErrNoEntity, id, method)
	}
	m, ok := e.typ.methods[method]
	if !ok {
		return fmt.Errorf("%w: %s.%s", ErrNoMethod, e.typ.name, method)
	}
	if !m.Allowed(e, c) {
		return fmt.Errorf("%w: %s.%s for %s caller", ErrDenied, e.typ.name, method, c.Kind)
	}
	return m.Invoke(e, c, args)
}
