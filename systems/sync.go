package systems

import (
	"cmp"
	"slices"

	"github.com/ecsworld/ecsworld/ecs"
)

// SyncFrameKind says what a SyncFrame tells its clients.
type SyncFrameKind uint8

// Kinds of client frames the sync stage produces.
const (
	// SyncDestroy: the clients no longer see the entity.
	SyncDestroy SyncFrameKind = iota + 1
	// SyncCreate: the clients now see the entity (IsPlayer: it is theirs).
	SyncCreate
	// SyncAttrs: attribute changes of an entity the clients already see.
	SyncAttrs
)

// String names the kind for logs and tests.
func (k SyncFrameKind) String() string {
	switch k {
	case SyncDestroy:
		return "destroy"
	case SyncCreate:
		return "create"
	case SyncAttrs:
		return "attrs"
	}
	return "SyncFrameKind?"
}

// SyncGroup is the recipients of one frame or record on one gate. The
// clients of creates and destroys are sorted by ClientID; those of deltas
// and positions are in no particular order (the hot path does not sort).
type SyncGroup struct {
	Gate    uint16
	Clients []ecs.ClientID
}

// SyncFrame is one client message of a tick, to be encoded once by the game
// and delivered to every client of To (grouped by gate, gates in order).
type SyncFrame struct {
	Kind SyncFrameKind
	// ID and Type name the entity (it may be destroyed: only these are
	// meant to be read then). Type is empty in the destroy of an entity a
	// client got from the game it migrated from, when it is not here.
	ID   ecs.EntityID
	Type string
	// Create: the state the clients start from. Attrs holds the plain
	// values of the attributes these clients may see.
	Pos      ecs.Vec3
	Yaw      float32
	Attrs    map[string]any
	IsPlayer bool
	// Attrs: the changes, in order, with only the ops AttrSet, AttrDelete
	// and AttrAppend (pops and clears are sent as a Set of the whole
	// top-level key, or a Delete of it).
	Changes []ecs.AttrChange
	To      []SyncGroup
}

// SyncPosition is the position of one moved entity and who receives it.
type SyncPosition struct {
	ID  ecs.EntityID
	Pos ecs.Vec3
	Yaw float32
	To  []SyncGroup
}

// SyncBinding reports an entity that became bound to a client, so the game
// can tell the client's gate (ClientBound). Adopted is set for entities
// that arrived bound (a migration): their client already has them.
type SyncBinding struct {
	Entity  *ecs.Entity
	Client  ecs.ClientBinding
	Adopted bool
}

// SyncOutput is what one sync stage produced. Frames are in delivery order:
// destroys, then the players' own entities, then other creates, then
// attribute changes; each kind grouped by entity in ID order. Positions
// follow the frames.
type SyncOutput struct {
	Tick      uint64
	Bindings  []SyncBinding
	Frames    []SyncFrame
	Positions []SyncPosition
}

// Empty reports whether the output holds nothing to send.
func (o *SyncOutput) Empty() bool {
	return len(o.Bindings) == 0 && len(o.Frames) == 0 && len(o.Positions) == 0
}

// SyncOptions configures the sync stage.
type SyncOptions struct {
	// AOI is the AOI stage whose events and neighbour sets the sync stage
	// follows. Nil: clients see their own entity only.
	AOI *AOI
	// PositionEvery sends positions every that many ticks (moves between
	// two sends are merged: the latest position is sent); <= 1 every tick.
	PositionEvery int
	// SweepEvery is how often (in ticks) the stage scans every entity for
	// client bindings made without Notice (a game calling Entity.SetClient
	// directly); 0 means DefaultSyncSweep, < 0 never.
	SweepEvery int
	// Emit, if set, receives the output at the end of each Update (the
	// game encodes it there, so encoding counts as sync time). The output
	// is valid until the next Update.
	Emit func(out *SyncOutput)
}

// DefaultSyncSweep is the default SyncOptions.SweepEvery.
const DefaultSyncSweep = 10

// Sync is stage 7 of the tick: it turns the tick's AOI events, client
// bindings, attribute changes and moves into client frames with their
// recipients. It is pure: it produces data (SyncOutput) that the game
// encodes, each frame once, into one batch per gate.
//
// The stage keeps, for every entity bound to a client (a "watcher"), the
// set of entities that client has been told about (AOI enter → create,
// leave → destroy), and for every entity the watchers that see it, so
// positions and attribute deltas go exactly to the clients that hold the
// entity, plus its owner:
//
//   - all-clients attributes go to every client that sees the entity and
//     to its own client; own-client attributes to its own client only;
//   - a client that got the entity's create this tick gets no delta or
//     position for it (the create carries the current state);
//   - a client-moved entity's own client does not get back the position
//     it sent (ClientMoved), only positions the server set.
//
// Bindings: when an entity becomes bound, its client gets the entity
// itself (IsPlayer) and everything it sees; when it loses the client (to
// another entity, or destroyed), the client gets destroys for all of
// that, except for clients that are gone (ClientGone, GateGone). An entity
// that migrates takes its client's view with it (Migrating, then Adopt on
// the next game's stage): this stage sends that client nothing more, and
// the next one replaces the view. The game tells the stage about bindings
// it makes with Notice; a periodic sweep finds the others.
//
// All methods belong to the tick goroutine.
type Sync struct {
	world *ecs.World
	opts  SyncOptions
	all   *ecs.Query

	watchers map[ecs.EntityID]*syncWatcher
	seenBy   map[ecs.EntityID]map[*syncWatcher]uint64 // → tick the watcher's client got the create
	types    map[*ecs.EntityType]*syncType

	noticed  []*ecs.Entity
	adopted  map[ecs.EntityID]bool
	handedIn map[ecs.EntityID][]ecs.EntityID // adopted views: what their clients hold from the game they left
	gone     map[ecs.ClientID]bool
	goneGate map[uint16]bool
	moved    map[ecs.EntityID]*ecs.Entity // since the last position send
	byClient map[ecs.ClientID]ecs.EntityID
	selfPos  map[ecs.EntityID]ecs.Vec3 // last position a client set

	// per-Update scratch
	out      SyncOutput
	destroys []syncReq
	drops    []syncDrop // destroys of handed-in views
	creates  []syncReq
	players  []syncReq
	created  map[syncPair]int // creates of this tick: index in creates, -1 for a player's own
	binds    []*ecs.Entity
	arena    []ecs.ClientID
	groups   []SyncGroup
	scratch  []ecs.ClientBinding
	ents     []*ecs.Entity
	gateIDs  []uint16
	tick     uint64 // of the running Update
}

// syncWatcher is an entity bound to a client and what that client sees.
type syncWatcher struct {
	e     *ecs.Entity
	b     ecs.ClientBinding
	sees  map[ecs.EntityID]*ecs.Entity
	fresh bool // bound during this Update: its AOI events are already in sees
	// ownPos: send the owner its position at the next position send (an
	// adopted entity arrives where its client has not seen it yet).
	ownPos bool
}

type syncType struct {
	all, own []string // declared keys visible to watchers, to the owner
}

type syncPair struct {
	client ecs.ClientID
	entity ecs.EntityID
}

// syncReq is one (client, entity) create or destroy before grouping.
// syncDrop is a destroy for an entity a client got from another game,
// which may not exist here.
type syncDrop struct {
	b  ecs.ClientBinding
	id ecs.EntityID
}

type syncReq struct {
	b         ecs.ClientBinding
	e         *ecs.Entity
	cancelled bool
}

// NewSync returns the sync stage for w.
func NewSync(w *ecs.World, opts SyncOptions) *Sync {
	if opts.SweepEvery == 0 {
		opts.SweepEvery = DefaultSyncSweep
	}
	return &Sync{
		world:    w,
		opts:     opts,
		all:      ecs.NewQuery(),
		watchers: make(map[ecs.EntityID]*syncWatcher),
		seenBy:   make(map[ecs.EntityID]map[*syncWatcher]uint64),
		types:    make(map[*ecs.EntityType]*syncType),
		adopted:  make(map[ecs.EntityID]bool),
		handedIn: make(map[ecs.EntityID][]ecs.EntityID),
		gone:     make(map[ecs.ClientID]bool),
		goneGate: make(map[uint16]bool),
		moved:    make(map[ecs.EntityID]*ecs.Entity),
		byClient: make(map[ecs.ClientID]ecs.EntityID),
		selfPos:  make(map[ecs.EntityID]ecs.Vec3),
		created:  make(map[syncPair]int),
	}
}

// Name implements System.
func (s *Sync) Name() string { return "sync" }

// Output returns the last Update's output, valid until the next Update.
func (s *Sync) Output() *SyncOutput { return &s.out }

// Notice tells the stage that e's client binding may have changed, so the
// next Update handles it without waiting for the sweep.
func (s *Sync) Notice(e *ecs.Entity) {
	if e != nil {
		s.noticed = append(s.noticed, e)
	}
}

// SyncView is what this stage told one client while it followed its
// entity: it goes with a migrating entity, so that the next game takes the
// client's view over instead of both games sending to it (their streams to
// the gate are not ordered with each other).
type SyncView struct {
	// Held: the client has the entity itself (its IsPlayer create was
	// made). When false the next game binds the client as new.
	Held bool
	// Shown: the other entities the client holds, in ID order.
	Shown []ecs.EntityID
}

// Adopt is Notice for an entity that arrived already bound (a migration):
// its client already has the entity (v.Held), so no IsPlayer create is
// sent. The client takes over its view from the game it left: in the
// adopting Update it first gets destroys for every entity of v.Shown, then
// creates for what e sees here (an entity in both is destroyed and created
// again, so its state is this game's), and at the next position send,
// where e is now. A view that does not hold e is bound as new (IsPlayer).
func (s *Sync) Adopt(e *ecs.Entity, v SyncView) {
	if e == nil {
		return
	}
	if !v.Held {
		s.noticed = append(s.noticed, e)
		return
	}
	s.adopted[e.ID()] = true
	if len(v.Shown) > 0 {
		s.handedIn[e.ID()] = v.Shown
	}
	s.noticed = append(s.noticed, e)
}

// Migrating hands the view of e's client over: it returns what the client
// was told, and from now on the stage sends that client nothing about it
// (no destroys of what e saw here, no positions, no deltas); other
// clients lose e as for any leave. Call it when e leaves, before it is
// removed, after the last sync of its tick. If e's binding changed since
// the stage followed it, the old client loses everything as usual and
// the view returned does not hold e.
func (s *Sync) Migrating(e *ecs.Entity) SyncView {
	if e == nil {
		return SyncView{}
	}
	w := s.watchers[e.ID()]
	if w == nil || w.e != e || w.b != e.Client() || !w.b.Bound() {
		return SyncView{}
	}
	v := SyncView{Held: true, Shown: make([]ecs.EntityID, 0, len(w.sees))}
	for id := range w.sees {
		if id != e.ID() {
			v.Shown = append(v.Shown, id)
		}
	}
	slices.Sort(v.Shown)
	s.untrack(w)
	delete(s.selfPos, e.ID())
	delete(s.moved, e.ID())
	return v
}

// ClientGone tells the stage that a client disconnected: nothing more is
// sent to it. It lasts until the end of the next Update.
func (s *Sync) ClientGone(b ecs.ClientBinding) {
	if b.Bound() {
		s.gone[b.Client] = true
	}
}

// GateGone is ClientGone for every client of a gate.
func (s *Sync) GateGone(gate uint16) { s.goneGate[gate] = true }

// ClientMoved records that e's own client set its current position, so
// that position is not echoed back to that client.
func (s *Sync) ClientMoved(e *ecs.Entity) {
	if e != nil {
		s.selfPos[e.ID()] = e.Pos()
	}
}

// EntityOf returns the entity the stage knows bound to client c.
func (s *Sync) EntityOf(c ecs.ClientID) (ecs.EntityID, bool) {
	id, ok := s.byClient[c]
	return id, ok
}

// Sees reports whether the client of watcher has been told about target.
func (s *Sync) Sees(watcher, target ecs.EntityID) bool {
	w := s.watchers[watcher]
	if w == nil {
		return false
	}
	_, ok := w.sees[target]
	return ok
}

// NumWatchers returns the number of bound entities the stage follows.
func (s *Sync) NumWatchers() int { return len(s.watchers) }

func (s *Sync) isGone(b ecs.ClientBinding) bool {
	if len(s.gone) == 0 && len(s.goneGate) == 0 {
		return false
	}
	return s.gone[b.Client] || s.goneGate[b.Gate]
}

// Update implements System.
func (s *Sync) Update(t *Tick) error {
	s.reset(t.N)

	s.unbinds()
	if s.opts.SweepEvery > 0 && t.N%uint64(s.opts.SweepEvery) == 0 {
		s.sweep()
	}
	s.bindings()
	s.aoiEvents()
	s.purgeDestroyed()
	s.emitVisibility()
	s.attrs()
	for _, e := range s.world.Moved() {
		s.moved[e.ID()] = e
	}
	if s.opts.PositionEvery <= 1 || t.N%uint64(s.opts.PositionEvery) == 0 {
		s.positions()
	}

	for _, w := range s.watchers {
		w.fresh = false
	}
	clear(s.gone)
	clear(s.goneGate)
	clear(s.adopted)
	clear(s.handedIn)
	if s.opts.Emit != nil {
		s.opts.Emit(&s.out)
	}
	return nil
}

func (s *Sync) reset(tick uint64) {
	s.tick = tick
	clear(s.out.Bindings)
	clear(s.out.Frames)
	clear(s.out.Positions)
	s.out = SyncOutput{Tick: tick, Bindings: s.out.Bindings[:0], Frames: s.out.Frames[:0], Positions: s.out.Positions[:0]}
	clear(s.drops)
	s.drops = s.drops[:0]
	clear(s.destroys)
	clear(s.creates)
	clear(s.players)
	s.destroys, s.creates, s.players = s.destroys[:0], s.creates[:0], s.players[:0]
	clear(s.created)
	clear(s.groups)
	s.groups = s.groups[:0]
	// The arena is not cleared: old sub-slices handed out last tick are
	// no longer valid, and IDs hold no references.
	s.arena = s.arena[:0]
}

// unbinds handles watchers that were destroyed or lost (or changed) their
// client.
func (s *Sync) unbinds() {
	for _, w := range s.watchers {
		e := w.e
		if !e.Destroyed() && e.Client() == w.b {
			continue
		}
		if !s.isGone(w.b) {
			for _, t := range w.sees {
				s.destroy(w.b, t)
			}
			s.destroy(w.b, e)
		}
		s.untrack(w)
		if !e.Destroyed() && e.Client().Bound() {
			s.binds = append(s.binds, e) // bound to another client
		}
	}
}

func (s *Sync) untrack(w *syncWatcher) {
	for tid := range w.sees {
		s.unsee(w, tid)
	}
	delete(s.watchers, w.e.ID())
	if s.byClient[w.b.Client] == w.e.ID() {
		delete(s.byClient, w.b.Client)
	}
}

func (s *Sync) see(w *syncWatcher, t *ecs.Entity) {
	w.sees[t.ID()] = t
	m := s.seenBy[t.ID()]
	if m == nil {
		m = make(map[*syncWatcher]uint64)
		s.seenBy[t.ID()] = m
	}
	m[w] = s.tick
}

func (s *Sync) unsee(w *syncWatcher, tid ecs.EntityID) {
	delete(w.sees, tid)
	if m := s.seenBy[tid]; m != nil {
		delete(m, w)
		if len(m) == 0 {
			delete(s.seenBy, tid)
		}
	}
}

// sweep finds bound entities the stage does not follow.
func (s *Sync) sweep() {
	s.all.Each(s.world, func(e *ecs.Entity) {
		if !e.Client().Bound() {
			return
		}
		if w := s.watchers[e.ID()]; w == nil || w.e != e {
			s.binds = append(s.binds, e)
		}
	})
}

// bindings starts following newly bound entities.
func (s *Sync) bindings() {
	for _, e := range s.binds {
		s.bind(e)
	}
	for _, e := range s.noticed {
		s.bind(e)
	}
	clear(s.binds)
	s.binds = s.binds[:0]
	clear(s.noticed)
	s.noticed = s.noticed[:0]
}

// bind starts following e if it is bound and not followed yet.
func (s *Sync) bind(e *ecs.Entity) {
	b := e.Client()
	if e.Destroyed() || !b.Bound() || s.isGone(b) {
		return
	}
	if w := s.watchers[e.ID()]; w != nil {
		if w.e == e && w.b == b {
			return // already followed (named twice)
		}
		s.untrack(w) // an older incarnation
	}
	w := &syncWatcher{e: e, b: b, sees: make(map[ecs.EntityID]*ecs.Entity), fresh: true}
	s.watchers[e.ID()] = w
	s.byClient[b.Client] = e.ID()
	adopted := s.adopted[e.ID()]
	s.out.Bindings = append(s.out.Bindings, SyncBinding{Entity: e, Client: b, Adopted: adopted})
	if adopted {
		w.ownPos = true
		s.moved[e.ID()] = e
		for _, id := range s.handedIn[e.ID()] {
			if id != e.ID() {
				s.drops = append(s.drops, syncDrop{b: b, id: id})
			}
		}
	} else {
		s.players = append(s.players, syncReq{b: b, e: e})
		s.created[syncPair{b.Client, e.ID()}] = -1
	}
	if s.opts.AOI != nil {
		for _, t := range s.opts.AOI.Neighbors(e) {
			s.see(w, t)
			s.create(w.b, t)
		}
	}
}

// aoiEvents turns the tick's AOI events of watchers into creates and
// destroys, in event order.
func (s *Sync) aoiEvents() {
	if s.opts.AOI == nil {
		return
	}
	for _, ev := range s.opts.AOI.Events() {
		w := s.watchers[ev.Watcher.ID()]
		if w == nil || w.e != ev.Watcher || w.fresh {
			continue
		}
		tid := ev.Target.ID()
		_, has := w.sees[tid]
		switch {
		case ev.Enter && !has:
			s.see(w, ev.Target)
			s.create(w.b, ev.Target)
		case !ev.Enter && has:
			s.unsee(w, tid)
			s.destroy(w.b, ev.Target)
		}
	}
}

// purgeDestroyed drops destroyed entities from every watcher (AOI normally
// did that already with leave events).
func (s *Sync) purgeDestroyed() {
	for _, e := range s.world.Destroyed() {
		delete(s.selfPos, e.ID())
		delete(s.moved, e.ID())
		m := s.seenBy[e.ID()]
		for w := range m {
			if w.sees[e.ID()] != e {
				continue
			}
			s.unsee(w, e.ID())
			s.destroy(w.b, e)
		}
	}
}

// create records a create of t for client b, unless b is gone.
func (s *Sync) create(b ecs.ClientBinding, t *ecs.Entity) {
	if s.isGone(b) {
		return
	}
	p := syncPair{b.Client, t.ID()}
	s.created[p] = len(s.creates)
	s.creates = append(s.creates, syncReq{b: b, e: t})
}

// createdNow reports whether b's client gets e's create this tick.
func (s *Sync) createdNow(b ecs.ClientBinding, e *ecs.Entity) bool {
	_, ok := s.created[syncPair{b.Client, e.ID()}]
	return ok
}

// destroy records a destroy of t for client b; a create of the same pair
// earlier in this tick is cancelled instead (the client never had t).
func (s *Sync) destroy(b ecs.ClientBinding, t *ecs.Entity) {
	if s.isGone(b) {
		return
	}
	p := syncPair{b.Client, t.ID()}
	if i, ok := s.created[p]; ok && i >= 0 {
		s.creates[i].cancelled = true
		delete(s.created, p)
		return
	}
	s.destroys = append(s.destroys, syncReq{b: b, e: t})
}

// emitVisibility groups the tick's destroys and creates into frames.
func (s *Sync) emitVisibility() {
	s.emitDrops()
	s.emitReqs(s.destroys, func(e *ecs.Entity) SyncFrame {
		return SyncFrame{Kind: SyncDestroy, ID: e.ID(), Type: e.Type().Name()}
	})
	s.emitReqs(s.players, func(e *ecs.Entity) SyncFrame {
		return SyncFrame{Kind: SyncCreate, ID: e.ID(), Type: e.Type().Name(), Pos: e.Pos(), Yaw: e.Yaw(),
			Attrs: s.visibleAttrs(e, true), IsPlayer: true}
	})
	s.emitReqs(s.creates, func(e *ecs.Entity) SyncFrame {
		return SyncFrame{Kind: SyncCreate, ID: e.ID(), Type: e.Type().Name(), Pos: e.Pos(), Yaw: e.Yaw(),
			Attrs: s.visibleAttrs(e, false)}
	})
}

// emitDrops emits the destroys of handed-in views, first: the creates of
// this tick may name the same entities.
func (s *Sync) emitDrops() {
	slices.SortFunc(s.drops, func(a, b syncDrop) int { return cmp.Compare(a.id, b.id) })
	for i := 0; i < len(s.drops); {
		j := i
		s.scratch = s.scratch[:0]
		for ; j < len(s.drops) && s.drops[j].id == s.drops[i].id; j++ {
			if !s.isGone(s.drops[j].b) {
				s.scratch = append(s.scratch, s.drops[j].b)
			}
		}
		if len(s.scratch) > 0 {
			f := SyncFrame{Kind: SyncDestroy, ID: s.drops[i].id}
			if e, ok := s.world.Entity(f.ID); ok {
				f.Type = e.Type().Name()
			}
			f.To = s.group(s.scratch)
			s.out.Frames = append(s.out.Frames, f)
		}
		i = j
	}
}

// emitReqs sorts reqs by entity and emits one frame per entity with every
// client of its requests.
func (s *Sync) emitReqs(reqs []syncReq, frame func(e *ecs.Entity) SyncFrame) {
	// Grouping needs only the entity order; group sorts each one's clients.
	slices.SortFunc(reqs, func(a, b syncReq) int { return cmp.Compare(a.e.ID(), b.e.ID()) })
	for i := 0; i < len(reqs); {
		j := i
		s.scratch = s.scratch[:0]
		for ; j < len(reqs) && reqs[j].e.ID() == reqs[i].e.ID(); j++ {
			if !reqs[j].cancelled {
				s.scratch = append(s.scratch, reqs[j].b)
			}
		}
		if len(s.scratch) > 0 {
			f := frame(reqs[i].e)
			f.To = s.group(s.scratch)
			s.out.Frames = append(s.out.Frames, f)
		}
		i = j
	}
}

// group sorts bindings by gate and client, drops duplicates, and returns
// them as groups (in the stage's arenas).
func (s *Sync) group(bs []ecs.ClientBinding) []SyncGroup {
	slices.SortFunc(bs, func(a, b ecs.ClientBinding) int {
		return cmp.Or(cmp.Compare(a.Gate, b.Gate), cmp.Compare(a.Client, b.Client))
	})
	g0 := len(s.groups)
	for i := 0; i < len(bs); {
		gate := bs[i].Gate
		start := len(s.arena)
		for ; i < len(bs) && bs[i].Gate == gate; i++ {
			if i > 0 && bs[i-1] == bs[i] {
				continue
			}
			s.arena = append(s.arena, bs[i].Client)
		}
		// Sub-slices stay valid when the arena grows later: they keep the
		// old backing array, which is never written again this tick.
		end := len(s.arena)
		s.groups = append(s.groups, SyncGroup{Gate: gate, Clients: s.arena[start:end:end]})
	}
	n := len(s.groups)
	return s.groups[g0:n:n]
}

// groupFast is group without the sort, for the hot paths (positions,
// deltas), whose recipients are distinct watchers: gates come out in
// order, clients within a gate in the order given. A client bound to two
// entities that both see the target is listed twice (the gate then sends
// it the record twice, which is harmless).
func (s *Sync) groupFast(bs []ecs.ClientBinding) []SyncGroup {
	s.gateIDs = s.gateIDs[:0]
	for _, b := range bs {
		if !slices.Contains(s.gateIDs, b.Gate) {
			s.gateIDs = append(s.gateIDs, b.Gate)
		}
	}
	if len(s.gateIDs) > 1 {
		slices.Sort(s.gateIDs)
	}
	g0 := len(s.groups)
	for _, gate := range s.gateIDs {
		start := len(s.arena)
		for _, b := range bs {
			if b.Gate == gate {
				s.arena = append(s.arena, b.Client)
			}
		}
		end := len(s.arena)
		s.groups = append(s.groups, SyncGroup{Gate: gate, Clients: s.arena[start:end:end]})
	}
	n := len(s.groups)
	return s.groups[g0:n:n]
}

// typeInfo returns the visible attribute keys of t.
func (s *Sync) typeInfo(t *ecs.EntityType) *syncType {
	if ti := s.types[t]; ti != nil {
		return ti
	}
	ti := &syncType{}
	for _, k := range t.AttrKeys() {
		f := t.AttrFlags(k)
		if f.Has(ecs.AttrAllClients) {
			ti.all = append(ti.all, k)
		}
		if f.Has(ecs.AttrOwnClient) {
			ti.own = append(ti.own, k)
		}
	}
	s.types[t] = ti
	return ti
}

// visibleAttrs returns the plain values of e's attributes its own client
// (owner) or its watchers' clients may see; nil if none.
func (s *Sync) visibleAttrs(e *ecs.Entity, owner bool) map[string]any {
	ti := s.typeInfo(e.Type())
	keys := ti.all
	if owner {
		keys = ti.own
	}
	var out map[string]any
	for _, k := range keys {
		v, ok := e.Attrs().Get(k)
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(keys))
		}
		out[k] = plainAttr(v)
	}
	return out
}

func plainAttr(v any) any {
	switch x := v.(type) {
	case *ecs.MapAttr:
		return x.ToMap()
	case *ecs.ListAttr:
		return x.ToSlice()
	}
	return v
}

// attrs emits the attribute deltas of the tick.
func (s *Sync) attrs() {
	dirty := append(s.ents[:0], s.world.AttrDirty()...)
	defer s.dropEnts(dirty)
	slices.SortFunc(dirty, func(a, b *ecs.Entity) int { return cmp.Compare(a.ID(), b.ID()) })
	for _, e := range dirty {
		if e.Destroyed() {
			continue
		}
		all, own := s.deltas(e)
		if len(all) == 0 && len(own) == 0 {
			continue
		}
		owner := s.watchers[e.ID()]
		if owner != nil && (owner.e != e || s.createdNow(owner.b, e) || s.isGone(owner.b)) {
			owner = nil
		}
		if len(all) > 0 {
			s.scratch = s.scratch[:0]
			for w, since := range s.seenBy[e.ID()] {
				if since != s.tick && !s.isGone(w.b) {
					s.scratch = append(s.scratch, w.b)
				}
			}
			if owner != nil {
				s.scratch = append(s.scratch, owner.b)
			}
			if len(s.scratch) > 0 {
				s.out.Frames = append(s.out.Frames, SyncFrame{Kind: SyncAttrs, ID: e.ID(), Type: e.Type().Name(),
					Changes: all, To: s.groupFast(s.scratch)})
			}
		}
		if len(own) > 0 && owner != nil {
			s.scratch = append(s.scratch[:0], owner.b)
			s.out.Frames = append(s.out.Frames, SyncFrame{Kind: SyncAttrs, ID: e.ID(), Type: e.Type().Name(),
				Changes: own, To: s.group(s.scratch)})
		}
	}
}

// deltas splits e's attribute changes into those every watcher may see
// and those only its own client may, in the wire's three ops: a top-level
// key that had a Pop or a Clear (or every key, after a Clear of the root)
// is sent as one Set of its current value (or a Delete when it is gone).
func (s *Sync) deltas(e *ecs.Entity) (all, own []ecs.AttrChange) {
	t := e.Type()
	changes := e.AttrChanges()
	var rewrite map[string]bool
	rewriteAll := false
	for _, c := range changes {
		if len(c.Path) == 0 {
			rewriteAll = true
			break
		}
		if c.Op == ecs.AttrPop || c.Op == ecs.AttrClear {
			k, _ := c.Path[0].(string)
			if rewrite == nil {
				rewrite = make(map[string]bool)
			}
			rewrite[k] = true
		}
	}
	add := func(k string, c ecs.AttrChange) {
		f := t.AttrFlags(k)
		switch {
		case f.Has(ecs.AttrAllClients):
			all = append(all, c)
		case f.Has(ecs.AttrOwnClient):
			own = append(own, c)
		}
	}
	if !rewriteAll {
		for _, c := range changes {
			k, _ := c.Path[0].(string)
			if rewrite[k] {
				continue
			}
			add(k, c)
		}
	}
	var keys []string
	if rewriteAll {
		ti := s.typeInfo(t)
		keys = ti.own // own ⊇ all: AttrAllClients implies AttrOwnClient
	} else {
		for k := range rewrite {
			keys = append(keys, k)
		}
		slices.Sort(keys)
	}
	for _, k := range keys {
		if v, ok := e.Attrs().Get(k); ok {
			add(k, ecs.AttrChange{Path: []any{k}, Op: ecs.AttrSet, Value: plainAttr(v)})
		} else {
			add(k, ecs.AttrChange{Path: []any{k}, Op: ecs.AttrDelete})
		}
	}
	return all, own
}

// dropEnts keeps es's array for the next use, without its references.
func (s *Sync) dropEnts(es []*ecs.Entity) {
	clear(es)
	s.ents = es[:0]
}

// positions emits the latest position of every entity moved since the
// last send, to the clients that see it and to its own client.
func (s *Sync) positions() {
	if len(s.moved) == 0 {
		return
	}
	ms := s.ents[:0]
	defer func() { s.dropEnts(ms) }()
	for _, e := range s.moved {
		if !e.Destroyed() {
			ms = append(ms, e)
		}
	}
	clear(s.moved)
	slices.SortFunc(ms, func(a, b *ecs.Entity) int { return cmp.Compare(a.ID(), b.ID()) })
	for _, e := range ms {
		id := e.ID()
		s.scratch = s.scratch[:0]
		for w, since := range s.seenBy[id] {
			if since != s.tick && !s.isGone(w.b) {
				s.scratch = append(s.scratch, w.b)
			}
		}
		if w := s.watchers[id]; w != nil && w.e == e && (!w.fresh || w.ownPos) && !s.isGone(w.b) {
			if p, ok := s.selfPos[id]; !ok || p != e.Pos() || w.ownPos {
				s.scratch = append(s.scratch, w.b)
			}
			w.ownPos = false
		}
		delete(s.selfPos, id)
		if len(s.scratch) == 0 {
			continue
		}
		s.out.Positions = append(s.out.Positions, SyncPosition{ID: id, Pos: e.Pos(), Yaw: e.Yaw(), To: s.groupFast(s.scratch)})
	}
}
