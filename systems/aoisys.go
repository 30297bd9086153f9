package systems

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/systems/aoi"
)

// AOIEvent is one change of an interest set: Watcher started (Enter) or
// stopped seeing Target. The sync stage turns enters into client creates
// and leaves into client destroys.
//
// When Target was destroyed this tick the event is a leave, and
// Target.Destroyed() is true: its ID, Type and last position are still
// readable, its components are gone.
type AOIEvent struct {
	Watcher, Target *ecs.Entity // Watcher's interest set gained or lost Target
	Enter           bool        // true: gained (enter); false: lost (leave)
}

// DefaultAOIExtent is the half-side of the default grid bounds: a space's
// grid covers [-DefaultAOIExtent, DefaultAOIExtent] on X and Z unless
// AOIOptions says otherwise. Positions outside are still exact, only slower.
const DefaultAOIExtent = 1024

// DefaultAOIRounds is the default AOIOptions.MaxRounds.
const DefaultAOIRounds = 4

// AOIOptions configures the AOI stage. The zero value is usable: circles,
// cell size from the largest radius, default bounds, one worker per core.
type AOIOptions struct {
	// Logger receives sampled lines for bad grid configs. (A panicking hook
	// is recovered by ecs and reported to WorldOptions.OnError.) Nil logs
	// nothing.
	Logger *zap.Logger
	// Shape of every entity's area: aoi.Circle (default) or aoi.Square.
	Shape aoi.Shape
	// CellSize of every grid; 0 derives it from the largest AOI radius among
	// the entities present when the space's grid is created.
	CellSize float32
	// MinX, MinZ, MaxX, MaxZ are the grid bounds; all zero means
	// ±DefaultAOIExtent.
	MinX, MinZ, MaxX, MaxZ float32
	// SpaceConfig, if set, adjusts the grid config of each space when its
	// grid is created (def is the config from the fields above), so a game
	// can size each map's grid from the space's own data.
	SpaceConfig func(space *ecs.Entity, def aoi.Config) aoi.Config
	// Workers bounds how many spaces are processed in parallel in a tick;
	// 0 means GOMAXPROCS, 1 processes them sequentially on the tick
	// goroutine.
	Workers int
	// MaxRounds bounds how many times one AOI stage re-runs to apply the
	// changes its own hooks made (a hook that moves or destroys an entity).
	// What is left after the last round is applied next tick.
	// DefaultAOIRounds if 0.
	MaxRounds int
}

// AOIStats counts the AOI stage's work since creation.
type AOIStats struct {
	Spaces, Members   int    // live grids and entities in them, now
	Enters, Leaves    uint64 // events produced
	GridErrors        uint64 // spaces whose grid could not be created
	ParallelRounds    uint64 // rounds in which several spaces ran in parallel
	RoundsOverflowing uint64 // stages that hit MaxRounds with work left
}

// AOI is stage 6 of the tick: one aoi.Grid per space, fed from the world's
// per-tick lists (SpaceChanges, Destroyed, Moved), delivering
// OnEnterAOI/OnLeaveAOI hooks on the tick goroutine in a deterministic
// order and keeping the tick's events for the sync stage.
//
// Each round of a stage: (1) on the tick goroutine, every entity named by
// the lists is compared with what its grid holds and the differences are
// planned per space (leave a grid, enter one, move, change radius); (2) the
// grids of the spaces with work run their plans, in parallel when several
// do (they share nothing, and the world is not touched); (3) on the tick
// goroutine, the events are merged, sorted (all leaves, then all enters,
// each by watcher then target ID) and the hooks delivered. Hooks may change
// the world; those changes are picked up by another round, up to MaxRounds.
//
// Applying the lists is idempotent: an entity named twice, or in several
// lists, yields the net change once. Within a round the events of one pair
// in one grid are reduced to their net effect (two entities that cross
// each other's edge and back in one tick produce nothing), so a pair has
// at most one leave and one enter per round, the leave first.
//
// Parallelism: when several spaces have work in a round, up to Workers
// goroutines (GOMAXPROCS by default; the tick goroutine is one of them)
// take spaces from a shared counter; all have returned before the stage
// goes on, so no goroutine outlives a round and none is started for a
// round with work in only one space.
//
// A destroyed entity first emits a leave to each entity that saw it (so
// clients get its destroy), then its handle is freed; what it saw itself
// is dropped without events, since it has nobody left to tell. An entity
// that leaves a space (or switches) gets both: leaves to its watchers and
// leaves for everything it saw.
//
// The stage relies on the scheduler's end of tick: EndTick carries what
// changed after the stage into the next tick, then the scheduler resets
// the world's lists. A game that resets the lists itself must do so only
// after EndTick.
type AOI struct {
	world *ecs.World
	log   *zap.Logger
	opts  AOIOptions

	members map[ecs.EntityID]*aoiMember
	spaces  map[ecs.EntityID]*aoiSpace

	// per-round scratch, reused
	touched   []*ecs.Entity
	work      []*aoiSpace
	merged    []AOIEvent
	events    []AOIEvent // this tick's events, for sync
	offMoved  int
	offChange int
	offDestr  int
	// offsets before the last collect, to leave its entities in the lists
	// when MaxRounds stops the stage
	prevMoved, prevChange, prevDestr int
	carry                            []*ecs.Entity // named by the lists after the stage ran
	// members applied this tick (each once, by stamp), rescanned after
	// hooks and at EndTick for changes the Moved list cannot show
	tickMembers []*aoiMember
	stamp       uint64
	hooked      bool // hooks ran in the last round

	enters, leaves, gridErrors, parallelRounds, overflow atomic.Uint64
	nSpaces, nMembers                                    atomic.Int64 // for Stats from other goroutines

	// beforeRun, if set, is called by whichever goroutine is about to run
	// a space's grid in runGrids. Tests use it to prove that spaces really
	// run concurrently; it is nil in production.
	beforeRun func(space ecs.EntityID)
}

// aoiMember is an entity as its grid holds it. Written only on the tick
// goroutine; the workers read dead and e.
type aoiMember struct {
	e     *ecs.Entity
	id    ecs.EntityID
	sp    *aoiSpace // nil once removed
	h     aoi.Handle
	x, z  float32
	r     float32
	dead  bool   // destroyed: its own leave events are dropped
	stamp uint64 // AOI.stamp when last put on tickMembers
}

// aoiSpace is one space's grid and what maps its handles to entities.
type aoiSpace struct {
	space *ecs.Entity
	id    ecs.EntityID
	grid  *aoi.Grid
	byH   []*aoiMember // by handle
	dead  bool

	// this round's plan and results, touched by one worker at a time
	removes []aoiOp
	changes []aoiOp
	adds    []aoiOp
	out     []AOIEvent
	panic   any
}

type aoiOpKind uint8

const (
	opRemove aoiOpKind = iota
	opMove
	opRadius
	opAdd
)

type aoiOp struct {
	kind    aoiOpKind
	m       *aoiMember
	h       aoi.Handle // remove/move/radius: the handle; add: the result
	x, z, r float32
}

// NewAOI returns the AOI stage for w.
func NewAOI(w *ecs.World, opts AOIOptions) *AOI {
	if opts.MinX == 0 && opts.MinZ == 0 && opts.MaxX == 0 && opts.MaxZ == 0 {
		opts.MinX, opts.MinZ = -DefaultAOIExtent, -DefaultAOIExtent
		opts.MaxX, opts.MaxZ = DefaultAOIExtent, DefaultAOIExtent
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.MaxRounds <= 0 {
		opts.MaxRounds = DefaultAOIRounds
	}
	return &AOI{
		world:   w,
		log:     sampled(opts.Logger),
		opts:    opts,
		members: make(map[ecs.EntityID]*aoiMember),
		spaces:  make(map[ecs.EntityID]*aoiSpace),
	}
}

// Name implements System.
func (a *AOI) Name() string { return "aoi" }

// Events returns this tick's events in delivery order. The slice is valid
// until the next Update and must not be modified.
func (a *AOI) Events() []AOIEvent { return a.events }

// Stats returns the counters as of the last AOI stage (or RebuildSilent).
// Safe from any goroutine.
func (a *AOI) Stats() AOIStats {
	return AOIStats{
		Spaces: int(a.nSpaces.Load()), Members: int(a.nMembers.Load()),
		Enters: a.enters.Load(), Leaves: a.leaves.Load(),
		GridErrors: a.gridErrors.Load(), ParallelRounds: a.parallelRounds.Load(), RoundsOverflowing: a.overflow.Load(),
	}
}

// Grid returns the grid of space, nil if it has none yet (no member has
// been applied). For tools and tests: do not mutate it.
func (a *AOI) Grid(space *ecs.Entity) *aoi.Grid {
	if space == nil {
		return nil
	}
	if sp := a.spaces[space.ID()]; sp != nil {
		return sp.grid
	}
	return nil
}

// Neighbors returns the entities e sees (its interest set) as of the last
// AOI stage, in no particular order; nil if e is in no grid.
func (a *AOI) Neighbors(e *ecs.Entity) []*ecs.Entity {
	m := a.member(e)
	if m == nil {
		return nil
	}
	return m.sp.entities(m.sp.grid.Interest(m.h))
}

// Watchers returns the entities that see e, as of the last AOI stage, in
// no particular order; nil if e is in no grid.
func (a *AOI) Watchers(e *ecs.Entity) []*ecs.Entity {
	m := a.member(e)
	if m == nil {
		return nil
	}
	return m.sp.entities(m.sp.grid.Watchers(m.h))
}

func (a *AOI) member(e *ecs.Entity) *aoiMember {
	if e == nil {
		return nil
	}
	m := a.members[e.ID()]
	if m == nil || m.sp == nil || m.e != e {
		return nil
	}
	return m
}

func (sp *aoiSpace) entities(hs []aoi.Handle) []*ecs.Entity {
	if len(hs) == 0 {
		return nil
	}
	out := make([]*ecs.Entity, len(hs))
	for i, h := range hs {
		out[i] = sp.byH[h].e
	}
	return out
}

// Update implements System: it applies the world's lists to the grids and
// delivers the hooks, in up to MaxRounds rounds.
func (a *AOI) Update(*Tick) error {
	a.events = a.events[:0]
	a.offMoved, a.offChange, a.offDestr = 0, 0, 0
	a.stamp++
	clear(a.tickMembers)
	a.tickMembers = a.tickMembers[:0]
	carry := a.carry
	for round := 0; ; round++ {
		a.collect(carry)
		carry = nil
		if a.hooked {
			// A hook may have moved an entity already on the Moved list
			// (which lists each entity once): compare them again.
			a.touched = a.rescan(a.touched)
			a.hooked = false
		}
		if len(a.touched) == 0 {
			break
		}
		if round == a.opts.MaxRounds {
			// Left in the lists past the offsets, or found by EndTick's
			// rescan: EndTick carries them into the next tick.
			a.overflow.Add(1)
			a.offMoved, a.offChange, a.offDestr = a.prevMoved, a.prevChange, a.prevDestr
			break
		}
		a.runRound()
	}
	clear(a.carry)
	a.carry = a.carry[:0]
	clear(a.touched)
	a.touched = a.touched[:0]
	a.nSpaces.Store(int64(len(a.spaces)))
	a.nMembers.Store(int64(len(a.members)))
	return nil
}

// EndTick implements TickEnder: what changed after the stage (changes made
// by later stages, or left by MaxRounds) is carried into the next tick,
// since the scheduler resets the lists after EndTick. That is the lists'
// tails past what the stage read, and the members already applied this
// tick whose position or radius changed again (the Moved list names an
// entity once per tick, so it does not grow for them).
func (a *AOI) EndTick(*Tick) {
	clear(a.carry)
	a.carry = a.carry[:0]
	if ch := a.world.SpaceChanges(); a.offChange <= len(ch) {
		for _, c := range ch[a.offChange:] {
			a.carry = append(a.carry, c.Entity)
		}
	}
	if d := a.world.Destroyed(); a.offDestr <= len(d) {
		a.carry = append(a.carry, d[a.offDestr:]...)
	}
	if m := a.world.Moved(); a.offMoved <= len(m) {
		a.carry = append(a.carry, m[a.offMoved:]...)
	}
	a.carry = a.rescan(a.carry)
	a.offMoved, a.offChange, a.offDestr = 0, 0, 0
	clear(a.tickMembers)
	a.tickMembers = a.tickMembers[:0]
}

// rescan appends to dst the members applied this tick whose entity's
// position or radius no longer matches its grid.
func (a *AOI) rescan(dst []*ecs.Entity) []*ecs.Entity {
	for _, m := range a.tickMembers {
		if m.sp == nil || m.e.Destroyed() {
			continue
		}
		if p := m.e.Pos(); !same(p.X, m.x) || !same(p.Z, m.z) || !same(m.e.AOIRadius(), m.r) {
			dst = append(dst, m.e)
		}
	}
	return dst
}

// collect fills a.touched with the entities named by carry and by the
// lists past the offsets, in list order, and advances the offsets. An
// entity may appear several times: reconcile is idempotent.
func (a *AOI) collect(carry []*ecs.Entity) {
	clear(a.touched)
	a.touched = append(a.touched[:0], carry...)
	a.prevMoved, a.prevChange, a.prevDestr = a.offMoved, a.offChange, a.offDestr
	changes := a.world.SpaceChanges()
	for _, c := range changes[min(a.offChange, len(changes)):] {
		a.touched = append(a.touched, c.Entity)
	}
	a.offChange = len(changes)
	destroyed := a.world.Destroyed()
	a.touched = append(a.touched, destroyed[min(a.offDestr, len(destroyed)):]...)
	a.offDestr = len(destroyed)
	moved := a.world.Moved()
	a.touched = append(a.touched, moved[min(a.offMoved, len(moved)):]...)
	a.offMoved = len(moved)
}

// runRound plans, runs the grids, and delivers this round's events.
func (a *AOI) runRound() {
	a.work = a.work[:0]
	for _, e := range a.touched {
		if e.IsSpace() {
			a.spaceGone(e)
			continue
		}
		a.reconcile(e)
	}
	slices.SortFunc(a.work, func(x, y *aoiSpace) int { return cmp.Compare(x.id, y.id) })

	a.runGrids()

	clear(a.merged)
	a.merged = a.merged[:0]
	for _, sp := range a.work {
		for i := range sp.adds {
			op := &sp.adds[i]
			op.m.h = op.h
			op.m.e.SetAOIHandle(int32(op.h))
		}
		for _, op := range sp.removes {
			if op.m.sp == nil {
				op.m.e.SetAOIHandle(-1)
			}
		}
		if sp.panic != nil {
			a.log.Error("aoi grid panicked", zap.Uint64("space", uint64(sp.id)), zap.Any("panic", sp.panic))
			sp.panic = nil
		}
		a.merged = append(a.merged, sp.out...)
		clear(sp.removes)
		clear(sp.changes)
		clear(sp.adds)
		clear(sp.out)
		sp.removes, sp.changes, sp.adds, sp.out = sp.removes[:0], sp.changes[:0], sp.adds[:0], sp.out[:0]
		if sp.dead && a.spaces[sp.id] == sp {
			delete(a.spaces, sp.id)
		}
	}
	// Leaves first, so a pair that switches spaces together is destroyed
	// before it is created again; then by watcher and target ID, which do
	// not depend on handles (a restored grid numbers them differently).
	slices.SortFunc(a.merged, func(x, y AOIEvent) int {
		if x.Enter != y.Enter {
			if !x.Enter {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(x.Watcher.ID(), y.Watcher.ID()); c != 0 {
			return c
		}
		return cmp.Compare(x.Target.ID(), y.Target.ID())
	})
	a.events = append(a.events, a.merged...)
	for _, ev := range a.merged {
		if ev.Enter {
			a.enters.Add(1)
		} else {
			a.leaves.Add(1)
		}
		// A watcher destroyed by an earlier hook hears nothing more; a hook
		// panic is recovered by ecs and reported to the world's OnError.
		if ev.Watcher.Destroyed() {
			continue
		}
		h := ev.Watcher.Type().Hooks()
		if !h.HasAOIHooks() {
			continue
		}
		a.hooked = true
		if ev.Enter {
			h.OnEnterAOI(ev.Watcher, ev.Target)
		} else {
			h.OnLeaveAOI(ev.Watcher, ev.Target)
		}
	}
}

// spaceGone drops the grid of a destroyed space after taking out whatever
// members it still holds. (The world makes members leave a space before
// destroying it, so normally the grid is already empty.)
func (a *AOI) spaceGone(s *ecs.Entity) {
	if !s.Destroyed() {
		return
	}
	sp := a.spaces[s.ID()]
	if sp == nil || sp.space != s || sp.dead {
		return
	}
	sp.dead = true
	if len(sp.removes)+len(sp.changes)+len(sp.adds) == 0 {
		a.work = append(a.work, sp) // so it is deleted after the round
	}
	for _, m := range sp.byH {
		if m != nil && m.sp == sp {
			a.reconcile(m.e)
		}
	}
}

// reconcile compares entity e's state in the world with its grid and
// plans the difference. Calling it twice in a round plans nothing more.
func (a *AOI) reconcile(e *ecs.Entity) {
	id := e.ID()
	m := a.members[id]
	if m != nil && m.e != e {
		if e.Destroyed() {
			return // an older incarnation of a re-created ID: not the member
		}
		// The member is an older incarnation, destroyed: free its handle.
		m.dead = true
		a.plan(m.sp, aoiOp{kind: opRemove, m: m, h: m.h})
		m.sp = nil
		delete(a.members, id)
		m = nil
	}
	var want *aoiSpace
	if !e.Destroyed() {
		if s := e.Space(); s != nil {
			want = a.spaceFor(s, e)
		}
	}
	if m == nil {
		if want == nil {
			return
		}
		m = &aoiMember{e: e, id: id}
		a.members[id] = m
	}
	p := e.Pos()
	x, z, r := p.X, p.Z, e.AOIRadius()
	if m.sp != want {
		if m.sp != nil {
			m.dead = e.Destroyed()
			a.plan(m.sp, aoiOp{kind: opRemove, m: m, h: m.h})
		}
		m.sp = want
		if want == nil {
			delete(a.members, id)
			return
		}
		m.x, m.z, m.r = x, z, r
		a.plan(want, aoiOp{kind: opAdd, m: m, x: x, z: z, r: r})
		a.applied(m)
		return
	}
	if want == nil {
		return
	}
	a.applied(m)
	if !same(r, m.r) {
		m.r = r
		a.plan(want, aoiOp{kind: opRadius, m: m, h: m.h, r: r})
	}
	if !same(x, m.x) || !same(z, m.z) {
		m.x, m.z = x, z
		a.plan(want, aoiOp{kind: opMove, m: m, h: m.h, x: x, z: z})
	}
}

// same is == for which NaN equals NaN, so an entity at a NaN position
// (the grid stores it as 0) is not re-applied every tick.
func same(a, b float32) bool { return a == b || (a != a && b != b) }

// applied records that m was brought up to date this tick.
func (a *AOI) applied(m *aoiMember) {
	if m.stamp != a.stamp {
		m.stamp = a.stamp
		a.tickMembers = append(a.tickMembers, m)
	}
}

func (a *AOI) plan(sp *aoiSpace, op aoiOp) {
	if len(sp.removes)+len(sp.changes)+len(sp.adds) == 0 && !slices.Contains(a.work, sp) {
		a.work = append(a.work, sp)
	}
	switch op.kind {
	case opRemove:
		sp.removes = append(sp.removes, op)
	case opAdd:
		sp.adds = append(sp.adds, op)
	default:
		sp.changes = append(sp.changes, op)
	}
}

// spaceFor returns the grid state of space s, creating it on first use;
// nil if s is destroyed or its grid cannot be made (counted and logged).
func (a *AOI) spaceFor(s, first *ecs.Entity) *aoiSpace {
	if s.Destroyed() {
		return nil
	}
	if sp := a.spaces[s.ID()]; sp != nil && sp.space == s && !sp.dead {
		return sp
	}
	sp, err := a.newSpace(s, first)
	if err != nil {
		a.gridErrors.Add(1)
		a.log.Error("aoi grid for space", zap.Stringer("space", s), zap.Error(err))
		return nil
	}
	return sp
}

// newSpace makes the grid of space s from the options and registers it.
func (a *AOI) newSpace(s, first *ecs.Entity) (*aoiSpace, error) {
	cfg := aoi.Config{
		CellSize: a.opts.CellSize, Shape: a.opts.Shape,
		MinX: a.opts.MinX, MinZ: a.opts.MinZ, MaxX: a.opts.MaxX, MaxZ: a.opts.MaxZ,
		RadiusHint: radiusHint(s, first),
	}
	if a.opts.SpaceConfig != nil {
		cfg = a.opts.SpaceConfig(s, cfg)
	}
	g, err := aoi.NewGrid(cfg)
	if err != nil {
		return nil, fmt.Errorf("systems: aoi grid for %v: %w", s, err)
	}
	sp := &aoiSpace{space: s, id: s.ID(), grid: g}
	a.spaces[sp.id] = sp
	s.SetSpaceData(sp.grid)
	return sp, nil
}

// radiusHint is the largest AOI radius among the space's members when its
// grid is created, so the cell size fits the space's actual radii.
func radiusHint(s, first *ecs.Entity) float32 {
	var r float32
	if first != nil {
		r = first.AOIRadius()
	}
	for _, m := range s.Members() {
		r = max(r, m.AOIRadius())
	}
	return r
}

// runGrids runs every planned space's grid, in parallel when several have
// work: up to Workers goroutines (the tick goroutine is one of them) take
// spaces from a shared counter and all have returned when it returns.
func (a *AOI) runGrids() {
	n := len(a.work)
	workers := min(a.opts.Workers, n)
	if workers <= 1 {
		for _, sp := range a.work {
			if a.beforeRun != nil {
				a.beforeRun(sp.id)
			}
			sp.run()
		}
		return
	}
	a.parallelRounds.Add(1)
	var next atomic.Int64
	var wg sync.WaitGroup
	work, before := a.work, a.beforeRun
	loop := func() {
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return
			}
			if before != nil {
				before(work[i].id)
			}
			work[i].run()
		}
	}
	wg.Add(workers - 1)
	for range workers - 1 {
		go func() {
			defer wg.Done()
			loop()
		}()
	}
	loop()
	wg.Wait()
}

// run applies the plan to the grid and translates its events. It touches
// only sp and reads the members it maps, never the world, so spaces can
// run in parallel. Removes run first and their events are translated
// before an add can reuse a freed handle.
func (sp *aoiSpace) run() {
	defer func() {
		if r := recover(); r != nil { // aoi promises not to; be safe anyway
			sp.panic = r
			sp.grid.ResetEvents()
		}
	}()
	g := sp.grid
	for _, op := range sp.removes {
		g.Remove(op.h)
	}
	sp.translate()
	for _, op := range sp.removes {
		sp.clearHandle(op.h)
	}
	for _, op := range sp.changes {
		if op.kind == opRadius {
			g.SetRadius(op.h, op.r)
		} else {
			g.Move(op.h, op.x, op.z)
		}
	}
	for i := range sp.adds {
		op := &sp.adds[i]
		op.h = g.Add(op.x, op.z, op.r)
		sp.setHandle(op.h, op.m)
	}
	sp.translate()
	sp.coalesce()
}

// coalesce reduces the round's events to their net effect per pair. The
// events of one pair in one grid alternate (enter, leave, enter, ...), as
// two entities move in turn: an even count is no change at all (left and
// came back, or came and left), an odd one is its first event. Sorting
// the survivors by pair also prepares the merge.
func (sp *aoiSpace) coalesce() {
	if len(sp.out) < 2 {
		return
	}
	slices.SortStableFunc(sp.out, func(x, y AOIEvent) int {
		return cmp.Or(cmp.Compare(x.Watcher.ID(), y.Watcher.ID()), cmp.Compare(x.Target.ID(), y.Target.ID()))
	})
	out := sp.out[:0]
	for i := 0; i < len(sp.out); {
		j := i + 1
		for j < len(sp.out) && sp.out[j].Watcher == sp.out[i].Watcher && sp.out[j].Target == sp.out[i].Target {
			j++
		}
		if (j-i)%2 == 1 {
			out = append(out, sp.out[i])
		}
		i = j
	}
	clear(sp.out[len(out):])
	sp.out = out
}

// setHandle records m as the member of handle h.
func (sp *aoiSpace) setHandle(h aoi.Handle, m *aoiMember) {
	if h < 0 { // a grid at aoi.MaxEntities: the member stays out of AOI
		return
	}
	for int(h) >= len(sp.byH) {
		sp.byH = append(sp.byH, nil)
	}
	sp.byH[h] = m
}

// clearHandle forgets the member of handle h (none for an invalid one).
func (sp *aoiSpace) clearHandle(h aoi.Handle) {
	if h >= 0 && int(h) < len(sp.byH) {
		sp.byH[h] = nil
	}
}

// translate turns the grid's events into entity events, dropping those of
// destroyed watchers.
func (sp *aoiSpace) translate() {
	for _, ev := range sp.grid.Events() {
		w, t := sp.byH[ev.Watcher], sp.byH[ev.Target]
		if w.dead {
			continue
		}
		sp.out = append(sp.out, AOIEvent{Watcher: w.e, Target: t.e, Enter: ev.Enter})
	}
	sp.grid.ResetEvents()
}

// RebuildSilent puts every member of space into a fresh grid with no
// events and no hooks: on restore, clients already know their neighbours
// and the grid is never saved. Members are added in ID order. Call it
// after the world is restored and before the first tick; a member that
// another grid held is taken out of it silently.
func (a *AOI) RebuildSilent(space *ecs.Entity) error {
	if space == nil || !space.IsSpace() || space.Destroyed() {
		return fmt.Errorf("systems: RebuildSilent %v: %w", space, ecs.ErrNotSpace)
	}
	if old := a.spaces[space.ID()]; old != nil {
		for _, m := range old.byH {
			if m != nil && m.sp == old {
				delete(a.members, m.id)
				m.e.SetAOIHandle(-1)
			}
		}
		delete(a.spaces, space.ID())
	}
	ms := slices.Clone(space.Members())
	slices.SortFunc(ms, func(x, y *ecs.Entity) int { return cmp.Compare(x.ID(), y.ID()) })
	sp, err := a.newSpace(space, nil)
	if err != nil {
		a.gridErrors.Add(1)
		a.nSpaces.Store(int64(len(a.spaces)))
		a.nMembers.Store(int64(len(a.members)))
		return fmt.Errorf("systems: RebuildSilent: %w", err)
	}
	for _, e := range ms {
		if m := a.members[e.ID()]; m != nil && m.sp != nil {
			m.sp.grid.Remove(m.h)
			m.sp.grid.ResetEvents()
			m.sp.clearHandle(m.h)
		}
		p := e.Pos()
		m := &aoiMember{e: e, id: e.ID(), sp: sp, x: p.X, z: p.Z, r: e.AOIRadius()}
		m.h = sp.grid.AddSilent(m.x, m.z, m.r)
		sp.setHandle(m.h, m)
		e.SetAOIHandle(int32(m.h))
		a.members[m.id] = m
	}
	a.nSpaces.Store(int64(len(a.spaces)))
	a.nMembers.Store(int64(len(a.members)))
	return nil
}
