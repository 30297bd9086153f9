package systems

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/systems/aoi"
)

// bruteSees is the AOI relation computed from scratch: same space, a
// positive radius, and the exact circle test of package aoi.
func bruteSees(w, t *ecs.Entity) bool {
	if w == t || w.Space() == nil || w.Space() != t.Space() {
		return false
	}
	r := w.AOIRadius()
	if !(r > 0) {
		return false
	}
	dx, dz := t.Pos().X-w.Pos().X, t.Pos().Z-w.Pos().Z
	return float32(dx*dx)+float32(dz*dz) <= float32(r*r)
}

type pair struct{ w, t ecs.EntityID }

func ids(es []*ecs.Entity) []ecs.EntityID {
	out := make([]ecs.EntityID, len(es))
	for i, e := range es {
		out[i] = e.ID()
	}
	slices.Sort(out)
	return out
}

// aoiChecker holds the running bookkeeping of a world's AOI events.
type aoiChecker struct {
	t    testing.TB
	env  *testEnv
	a    *AOI
	open map[pair]bool // pairs entered and not left
	log  []string      // every event, for comparing runs
}

func newAOIChecker(t testing.TB, env *testEnv, a *AOI) *aoiChecker {
	return &aoiChecker{t: t, env: env, a: a, open: map[pair]bool{}}
}

// check runs right after the AOI stage (in the sync slot): it applies the
// tick's events to the open set and compares everything with brute force.
func (c *aoiChecker) check(tick uint64) {
	t := c.t
	t.Helper()
	evs := c.a.Events()
	// Hooks were fired exactly for the events, in order.
	if len(c.env.hooks) != len(evs) {
		t.Fatalf("tick %d: %d hooks for %d events", tick, len(c.env.hooks), len(evs))
	}
	for i, ev := range evs {
		h := c.env.hooks[i]
		if h != (hookCall{ev.Watcher.ID(), ev.Target.ID(), ev.Enter}) {
			t.Fatalf("tick %d: hook %d is %+v for event %v→%v %v", tick, i, h, ev.Watcher, ev.Target, ev.Enter)
		}
	}
	c.env.hooks = c.env.hooks[:0]
	for _, ev := range evs {
		p := pair{ev.Watcher.ID(), ev.Target.ID()}
		c.log = append(c.log, fmt.Sprintf("%d %v %v %v", tick, p.w, p.t, ev.Enter))
		if p.w == p.t {
			t.Fatalf("tick %d: %v sees itself", tick, ev.Watcher)
		}
		if ev.Enter {
			if c.open[p] {
				t.Fatalf("tick %d: second enter %v→%v", tick, ev.Watcher, ev.Target)
			}
			c.open[p] = true
		} else {
			if !c.open[p] {
				t.Fatalf("tick %d: leave %v→%v without enter", tick, ev.Watcher, ev.Target)
			}
			delete(c.open, p)
		}
	}
	// A destroyed watcher's own pairs end silently.
	for p := range c.open {
		if _, ok := c.env.w.Entity(p.w); !ok {
			delete(c.open, p)
		}
	}
	c.compare(tick)
}

// compare checks Neighbors, Watchers and the open set against brute force.
func (c *aoiChecker) compare(tick uint64) {
	t := c.t
	t.Helper()
	var all []*ecs.Entity
	c.env.w.Each(func(e *ecs.Entity) bool {
		if !e.IsSpace() {
			all = append(all, e)
		}
		return true
	})
	want := map[pair]bool{}
	for _, w := range all {
		var sees, seenBy []ecs.EntityID
		for _, o := range all {
			if bruteSees(w, o) {
				sees = append(sees, o.ID())
				want[pair{w.ID(), o.ID()}] = true
			}
			if bruteSees(o, w) {
				seenBy = append(seenBy, o.ID())
			}
		}
		if got := ids(c.a.Neighbors(w)); !slices.Equal(got, sees) {
			t.Fatalf("tick %d: Neighbors(%v) r=%v = %v, brute force %v", tick, w, w.AOIRadius(), got, sees)
		}
		if got := ids(c.a.Watchers(w)); !slices.Equal(got, seenBy) {
			t.Fatalf("tick %d: Watchers(%v) = %v, brute force %v", tick, w, got, seenBy)
		}
	}
	for p := range want {
		if !c.open[p] {
			t.Fatalf("tick %d: %v sees %v but no enter is open", tick, p.w, p.t)
		}
	}
	for p := range c.open {
		if !want[p] {
			t.Fatalf("tick %d: enter %v→%v open but out of range", tick, p.w, p.t)
		}
	}
}

// aoiScenario is a random world driven through a scheduler.
type aoiScenario struct {
	t       testing.TB
	env     *testEnv
	a       *AOI
	s       *Scheduler
	chk     *aoiChecker
	rng     *rand.Rand
	spaces  []*ecs.Entity
	mobs    []*ecs.Entity
	nextSeq uint64
	late    bool // make a change after the AOI stage each tick
}

func newAOIScenario(t testing.TB, seed uint64, workers int) *aoiScenario {
	env := newTestEnv(t, 30)
	sc := &aoiScenario{t: t, env: env, rng: rand.New(rand.NewPCG(seed, 99)), nextSeq: 1, late: true}
	sc.a = NewAOI(env.w, AOIOptions{Workers: workers, MinX: -200, MinZ: -200, MaxX: 200, MaxZ: 200})
	sc.chk = newAOIChecker(t, env, sc.a)
	sc.s = NewScheduler(env.w, Stages{Movement: NewMovement(env.w), AOI: sc.a}, SchedulerOptions{Interval: 100 * time.Millisecond})
	sc.s.AddUser(SystemFunc("chaos", func(*Tick) error { sc.mutate(6); return nil }))
	if err := sc.s.SetStage(StageSync, SystemFunc("check", func(tk *Tick) error {
		sc.chk.check(tk.N)
		if sc.late {
			sc.mutate(1) // a late change, after AOI: carried into the next tick
		}
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	for range 2 + sc.rng.IntN(3) {
		sc.spaces = append(sc.spaces, sc.create("space", nil))
	}
	for range 100 {
		sc.mobs = append(sc.mobs, sc.create("mob", sc.pickSpace()))
	}
	return sc
}

// create makes an entity with a deterministic ID, so two runs compare.
func (sc *aoiScenario) create(typ string, space *ecs.Entity) *ecs.Entity {
	id := ecs.MakeEntityID(1, sc.nextSeq)
	sc.nextSeq++
	e, err := sc.env.w.Create(typ, ecs.CreateOptions{ID: id, Pos: sc.pos(), Space: space})
	if err != nil {
		sc.t.Fatal(err)
	}
	if typ == "mob" {
		e.SetAOIRadius(sc.radius())
	}
	return e
}

func (sc *aoiScenario) pos() ecs.Vec3 {
	if sc.rng.IntN(20) == 0 { // now and then outside the grid's bounds
		return ecs.Vec3{X: float32(sc.rng.NormFloat64() * 400), Z: float32(sc.rng.NormFloat64() * 400)}
	}
	return ecs.Vec3{X: float32(sc.rng.Float64()*140 - 70), Z: float32(sc.rng.Float64()*140 - 70)}
}

func (sc *aoiScenario) radius() float32 {
	if sc.rng.IntN(6) == 0 {
		return 0 // sees nobody, still visible
	}
	return float32(5 + sc.rng.IntN(56))
}

func (sc *aoiScenario) pickSpace() *ecs.Entity {
	if sc.rng.IntN(10) == 0 {
		return nil
	}
	return sc.spaces[sc.rng.IntN(len(sc.spaces))]
}

// mutate makes n random changes.
func (sc *aoiScenario) mutate(n int) {
	rng := sc.rng
	for range n {
		e := sc.mobs[rng.IntN(len(sc.mobs))]
		switch k := rng.IntN(100); {
		case k < 40: // jitter
			p := e.Pos()
			e.SetPos(ecs.Vec3{X: p.X + float32(rng.NormFloat64()*8), Y: p.Y, Z: p.Z + float32(rng.NormFloat64()*8)})
		case k < 50: // teleport
			e.SetPos(sc.pos())
		case k < 58: // walk or run (movement stage)
			if rng.IntN(2) == 0 {
				e.SetDestination(sc.pos(), float32(20+rng.IntN(100)))
			} else {
				e.SetVelocity(ecs.Vec3{X: float32(rng.NormFloat64() * 30), Z: float32(rng.NormFloat64() * 30)})
			}
		case k < 66:
			e.SetAOIRadius(sc.radius())
		case k < 80: // switch space, or join one
			if s := sc.pickSpace(); s != nil {
				if err := e.EnterSpace(s, sc.pos()); err != nil {
					sc.t.Fatal(err)
				}
			}
		case k < 83:
			e.LeaveSpace()
		case k < 92: // destroy, and replace it
			e.Destroy()
			i := slices.Index(sc.mobs, e)
			sc.mobs[i] = sc.create("mob", sc.pickSpace())
		case k < 96: // two moves of one entity in a tick
			e.SetPos(sc.pos())
			e.SetPos(sc.pos())
		case k < 97: // rarely, a whole space goes away (members leave first) and a new one comes
			if rng.IntN(4) != 0 {
				continue
			}
			i := rng.IntN(len(sc.spaces))
			sc.spaces[i].Destroy()
			sc.spaces[i] = sc.create("space", nil)
		default: // leave and re-enter the same space within a tick
			if s := e.Space(); s != nil {
				e.LeaveSpace()
				if err := e.EnterSpace(s, sc.pos()); err != nil {
					sc.t.Fatal(err)
				}
			}
		}
	}
}

func (sc *aoiScenario) run(ticks int) {
	for range ticks {
		sc.s.RunTick(time.Unix(0, 0))
	}
}

// TestAOIProperty drives random worlds (2–4 spaces, per-entity radii,
// moves, walks, radius changes, space switches, destroys, late changes)
// and checks after every tick that each entity's Neighbors and Watchers
// equal brute force, that the events' open pairs equal the in-range pairs,
// that nobody sees itself, and that hooks fired exactly for the events.
func TestAOIProperty(t *testing.T) {
	ticks := 150
	if testing.Short() {
		ticks = 40
	}
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			sc := newAOIScenario(t, seed, 0)
			sc.run(ticks)
			st := sc.a.Stats()
			if st.Enters == 0 || st.Leaves == 0 {
				t.Fatalf("no events: %+v", st)
			}
			if len(sc.env.errs) != 0 {
				t.Fatalf("world errors: %v", sc.env.errs)
			}
		})
	}
}

// TestAOIParallelEqualsSequential runs the same random world with one
// worker and with several: the events, in order, and the final interest
// sets are identical.
func TestAOIParallelEqualsSequential(t *testing.T) {
	seq := newAOIScenario(t, 7, 1)
	par := newAOIScenario(t, 7, 4)
	seq.run(60)
	par.run(60)
	if len(seq.chk.log) == 0 || !slices.Equal(seq.chk.log, par.chk.log) {
		t.Fatalf("event logs differ (%d vs %d events)", len(seq.chk.log), len(par.chk.log))
	}
	if seq.a.Stats().ParallelRounds != 0 {
		t.Fatal("the sequential run ran spaces in parallel")
	}
	if par.a.Stats().ParallelRounds == 0 {
		t.Fatal("the parallel run never ran spaces in parallel")
	}
	for i := range seq.mobs {
		if a, b := ids(seq.a.Neighbors(seq.mobs[i])), ids(par.a.Neighbors(par.mobs[i])); !slices.Equal(a, b) {
			t.Fatalf("mob %d: %v vs %v", i, a, b)
		}
	}
}

// aoiRig is a small hand-built world for the specific cases.
type aoiRig struct {
	env *testEnv
	a   *AOI
	s   *Scheduler
	chk *aoiChecker
}

func newAOIRig(t *testing.T, radius float32, opts AOIOptions) *aoiRig {
	env := newTestEnv(t, radius)
	a := NewAOI(env.w, opts)
	r := &aoiRig{env: env, a: a, chk: newAOIChecker(t, env, a)}
	r.s = NewScheduler(env.w, Stages{AOI: a}, SchedulerOptions{})
	return r
}

func (r *aoiRig) tick() []string {
	r.s.RunTick(time.Unix(0, 0))
	var out []string
	for _, ev := range r.a.Events() {
		verb := "leave"
		if ev.Enter {
			verb = "enter"
		}
		out = append(out, fmt.Sprintf("%s %d %d", verb, ev.Watcher.ID().Seq(), ev.Target.ID().Seq()))
	}
	r.chk.check(r.s.LastTick())
	return out
}

func mobAt(t *testing.T, env *testEnv, seq uint64, space *ecs.Entity, x, z float32) *ecs.Entity {
	e, err := env.w.Create("mob", ecs.CreateOptions{ID: ecs.MakeEntityID(1, seq), Pos: ecs.Vec3{X: x, Z: z}, Space: space})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestAOIEventsAndDestroy(t *testing.T) {
	r := newAOIRig(t, 10, AOIOptions{})
	space := r.env.space(t)
	a := mobAt(t, r.env, 1, space, 0, 0)
	b := mobAt(t, r.env, 2, space, 5, 0)
	c := mobAt(t, r.env, 3, space, 50, 0)
	c.SetAOIRadius(0) // sees nobody, but is seen
	if got, want := r.tick(), []string{"enter 1 2", "enter 2 1"}; !slices.Equal(got, want) {
		t.Fatalf("tick 1: %v, want %v", got, want)
	}
	if g := r.a.Grid(space); g == nil || space.SpaceData() != g || g.Len() != 3 {
		t.Fatalf("grid %v in SpaceData %v", g, space.SpaceData())
	}
	c.SetPos(ecs.Vec3{X: 3, Z: 3})
	if got, want := r.tick(), []string{"enter 1 3", "enter 2 3"}; !slices.Equal(got, want) {
		t.Fatalf("tick 2: %v, want %v", got, want)
	}
	if n := r.a.Neighbors(c); len(n) != 0 {
		t.Fatalf("radius 0 sees %v", n)
	}
	// b is destroyed: its watchers get a leave, what b saw ends silently.
	b.Destroy()
	if got, want := r.tick(), []string{"leave 1 2"}; !slices.Equal(got, want) {
		t.Fatalf("tick 3: %v, want %v", got, want)
	}
	if b.AOIHandle() != -1 || r.a.Neighbors(b) != nil {
		t.Fatalf("destroyed entity still in AOI: handle %d", b.AOIHandle())
	}
	// a leaves the space: both directions end.
	a.LeaveSpace()
	if got, want := r.tick(), []string{"leave 1 3"}; !slices.Equal(got, want) {
		t.Fatalf("tick 4: %v, want %v", got, want)
	}
	if got := r.tick(); len(got) != 0 {
		t.Fatalf("quiet tick: %v", got)
	}
	// Both switch together into another space: leaves come before enters.
	other := r.env.space(t)
	if err := a.EnterSpace(space, ecs.Vec3{}); err != nil {
		t.Fatal(err)
	}
	c.SetAOIRadius(10)
	r.tick()
	if err := a.EnterSpace(other, ecs.Vec3{X: 1}); err != nil {
		t.Fatal(err)
	}
	if err := c.EnterSpace(other, ecs.Vec3{X: 2}); err != nil {
		t.Fatal(err)
	}
	if got, want := r.tick(), []string{"leave 1 3", "leave 3 1", "enter 1 3", "enter 3 1"}; !slices.Equal(got, want) {
		t.Fatalf("switch: %v, want %v", got, want)
	}
	// The space is destroyed: its grid is dropped.
	space.Destroy()
	r.tick()
	if r.a.Grid(space) != nil || r.a.Stats().Spaces != 1 {
		t.Fatalf("grid of a destroyed space kept: %+v", r.a.Stats())
	}
}

func TestAOIHookChangesAreAppliedInTheSameTick(t *testing.T) {
	r := newAOIRig(t, 10, AOIOptions{})
	space := r.env.space(t)
	a := mobAt(t, r.env, 1, space, 0, 0)
	b := mobAt(t, r.env, 2, space, 100, 0)
	r.tick()
	// When a sees b, a's hook pushes b out of range again.
	r.env.onEnter = func(e, other *ecs.Entity) {
		if e == a && other == b {
			b.SetPos(ecs.Vec3{X: 100})
		}
	}
	b.SetPos(ecs.Vec3{X: 5})
	want := []string{"enter 1 2", "enter 2 1", "leave 1 2", "leave 2 1"}
	if got := r.tick(); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// A hook that destroys its own watcher: later events for it are not
	// delivered, and its pairs end.
	r.env.onEnter = func(e, other *ecs.Entity) {
		if e == a {
			a.Destroy()
		}
	}
	b.SetPos(ecs.Vec3{X: 1})
	got := r.tick()
	if want := []string{"enter 1 2", "enter 2 1", "leave 2 1"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestAOIMaxRoundsCarriesTheRest(t *testing.T) {
	r := newAOIRig(t, 10, AOIOptions{MaxRounds: 1})
	space := r.env.space(t)
	a := mobAt(t, r.env, 1, space, 0, 0)
	b := mobAt(t, r.env, 2, space, 5, 0)
	r.env.onEnter = func(e, other *ecs.Entity) {
		if e == a {
			b.SetPos(ecs.Vec3{X: 100}) // applied next tick
		}
	}
	// check() would fail on tick 1 (b has moved since), so compare by hand.
	r.s.RunTick(time.Unix(0, 0))
	if n := len(r.a.Events()); n != 2 {
		t.Fatalf("tick 1: %d events, want the 2 enters", n)
	}
	if r.a.Stats().RoundsOverflowing != 1 {
		t.Fatalf("stats %+v", r.a.Stats())
	}
	r.env.onEnter = nil
	r.env.hooks = r.env.hooks[:0]
	r.chk.open = map[pair]bool{{a.ID(), b.ID()}: true, {b.ID(), a.ID()}: true}
	if got, want := r.tick(), []string{"leave 1 2", "leave 2 1"}; !slices.Equal(got, want) {
		t.Fatalf("tick 2: %v, want %v", got, want)
	}
}

func TestAOIRebuildSilent(t *testing.T) {
	sc := newAOIScenario(t, 3, 0)
	sc.run(20)
	sc.late = false // end on a tick boundary where the grids match the world
	sc.run(1)
	sc.late = true

	// A "restored" process: a fresh AOI over the same world, rebuilt
	// silently, then ticking on with the same bookkeeping.
	a2 := NewAOI(sc.env.w, AOIOptions{MinX: -200, MinZ: -200, MaxX: 200, MaxZ: 200})
	for _, s := range sc.env.w.Spaces() {
		if err := a2.RebuildSilent(s); err != nil {
			t.Fatal(err)
		}
	}
	if len(a2.Events()) != 0 || len(sc.env.hooks) != 0 {
		t.Fatal("RebuildSilent produced events")
	}
	sc.a = a2
	sc.chk.a = a2
	sc.chk.compare(sc.s.LastTick())
	if err := sc.s.SetStage(StageAOI, a2); err != nil {
		t.Fatal(err)
	}
	sc.run(20)

	// Not a space: refused.
	if err := a2.RebuildSilent(sc.mobs[0]); err == nil {
		t.Fatal("RebuildSilent of a mob succeeded")
	}
}

func TestAOISquareAndConfig(t *testing.T) {
	var configured []aoi.Config
	r := newAOIRig(t, 10, AOIOptions{Shape: aoi.Square, SpaceConfig: func(s *ecs.Entity, def aoi.Config) aoi.Config {
		configured = append(configured, def)
		return def
	}})
	space := r.env.space(t)
	a := mobAt(t, r.env, 1, space, 0, 0)
	b := mobAt(t, r.env, 2, space, 9, 9) // in the square, outside the circle
	b.SetAOIRadius(40)
	r.s.RunTick(time.Unix(0, 0))
	if got := ids(r.a.Neighbors(a)); !slices.Equal(got, []ecs.EntityID{b.ID()}) {
		t.Fatalf("square: a sees %v", got)
	}
	if len(configured) != 1 || configured[0].RadiusHint != 40 || configured[0].Shape != aoi.Square {
		t.Fatalf("configs %+v", configured)
	}
	if configured[0].MinX != -DefaultAOIExtent || configured[0].MaxZ != DefaultAOIExtent {
		t.Fatalf("default bounds %+v", configured[0])
	}

	// A bad config is counted and the space's members stay out of AOI.
	bad := newAOIRig(t, 10, AOIOptions{CellSize: -1})
	s2 := bad.env.space(t)
	mobAt(t, bad.env, 1, s2, 0, 0)
	bad.s.RunTick(time.Unix(0, 0))
	if st := bad.a.Stats(); st.GridErrors == 0 || st.Members != 0 {
		t.Fatalf("stats %+v", st)
	}
	// RebuildSilent returns the grid's error itself.
	if err := bad.a.RebuildSilent(s2); !errors.Is(err, aoi.ErrConfig) {
		t.Fatalf("RebuildSilent with a bad config: %v", err)
	}
}

func TestAOIEventsSorted(t *testing.T) {
	sc := newAOIScenario(t, 11, 0)
	sc.s.AddUser(SystemFunc("sorted", func(*Tick) error { return nil }))
	for range 30 {
		sc.run(1)
		evs := sc.a.Events()
		if !slices.IsSortedFunc(evs, func(x, y AOIEvent) int {
			if x.Enter != y.Enter {
				if !x.Enter {
					return -1
				}
				return 1
			}
			return cmp.Or(cmp.Compare(x.Watcher.ID(), y.Watcher.ID()), cmp.Compare(x.Target.ID(), y.Target.ID()))
		}) {
			t.Fatal("events not in (leaves, enters) × (watcher, target) order")
		}
	}
}

// TestAOISpacesRunConcurrently proves that the grids of two spaces with
// work in the same tick are run at the same time by two goroutines: each
// space's run waits, before it starts, until the other one has started
// too. Run one after the other, the first would wait for ever (here: until
// the timeout, and the test fails).
func TestAOISpacesRunConcurrently(t *testing.T) {
	r := newAOIRig(t, 10, AOIOptions{Workers: 2})
	s1, s2 := r.env.space(t), r.env.space(t)
	mobAt(t, r.env, 1, s1, 0, 0)
	m2 := mobAt(t, r.env, 2, s1, 5, 0)
	mobAt(t, r.env, 3, s2, 0, 0)
	mobAt(t, r.env, 4, s2, 5, 0)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var (
		arrived  atomic.Int32
		timedOut atomic.Bool
		both     = make(chan struct{})
		mu       sync.Mutex
		ran      []ecs.EntityID
	)
	r.a.beforeRun = func(space ecs.EntityID) {
		mu.Lock()
		ran = append(ran, space)
		mu.Unlock()
		if arrived.Add(1) == 2 {
			close(both)
		}
		select {
		case <-both:
		case <-ctx.Done():
			timedOut.Store(true)
		}
	}
	got := r.tick()
	if timedOut.Load() {
		t.Fatal("the two spaces' grids did not run at the same time")
	}
	slices.Sort(ran)
	if !slices.Equal(ran, []ecs.EntityID{s1.ID(), s2.ID()}) {
		t.Fatalf("ran spaces %v, want %v and %v once each", ran, s1.ID(), s2.ID())
	}
	if want := []string{"enter 1 2", "enter 2 1", "enter 3 4", "enter 4 3"}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if n := r.a.Stats().ParallelRounds; n != 1 {
		t.Fatalf("ParallelRounds %d, want 1", n)
	}

	// Work in one space only: no goroutine is started for it.
	r.a.beforeRun = nil
	m2.SetPos(ecs.Vec3{X: 50})
	if got, want := r.tick(), []string{"leave 1 2", "leave 2 1"}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if n := r.a.Stats().ParallelRounds; n != 1 {
		t.Fatalf("ParallelRounds %d after a one-space tick, want still 1", n)
	}
}

// TestAOIRemovedEntity: an entity taken out with World.Remove (migration)
// while in a space is, for AOI, like a destroyed one: its watchers get a
// leave, no hook of its own runs, and its handle is freed.
func TestAOIRemovedEntity(t *testing.T) {
	r := newAOIRig(t, 10, AOIOptions{})
	space := r.env.space(t)
	a := mobAt(t, r.env, 1, space, 0, 0)
	b := mobAt(t, r.env, 2, space, 5, 0)
	r.tick()
	if err := r.env.w.Remove(b); err != nil {
		t.Fatal(err)
	}
	if got, want := r.tick(), []string{"leave 1 2"}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if b.AOIHandle() != -1 || len(r.a.Neighbors(a)) != 0 || r.a.Stats().Members != 1 {
		t.Fatalf("removed entity still in AOI: handle %d, stats %+v", b.AOIHandle(), r.a.Stats())
	}
}

// TestAOIHookPanicIsContained: a panicking OnEnterAOI is reported to the
// world's OnError and the other events of the tick are still delivered.
func TestAOIHookPanicIsContained(t *testing.T) {
	r := newAOIRig(t, 10, AOIOptions{})
	space := r.env.space(t)
	a := mobAt(t, r.env, 1, space, 0, 0)
	mobAt(t, r.env, 2, space, 5, 0)
	r.env.onEnter = func(e, other *ecs.Entity) {
		if e == a {
			panic("hook bug")
		}
	}
	if got, want := r.tick(), []string{"enter 1 2", "enter 2 1"}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if len(r.env.errs) != 1 || !errors.Is(r.env.errs[0], ecs.ErrHookPanic) {
		t.Fatalf("errors %v, want one hook panic", r.env.errs)
	}
	if st := r.s.Stats().Systems[0]; st.Name != "aoi" || st.Errors != 0 {
		t.Fatalf("the AOI stage failed: %+v", st)
	}
}
