package systems

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/ecs"
)

// Tick is what every system gets each tick. The scheduler reuses one value:
// it is valid only during the call and must not be retained.
type Tick struct {
	// World is the game's world, owned by the tick goroutine.
	World *ecs.World
	// N is the tick number, 1 for the first tick (or SetLastTick's n + 1
	// after a restore). Timers count in ticks of N.
	N uint64
	// Dt is the simulated time of this tick in seconds (see
	// SchedulerOptions.Interval).
	Dt float32
	// Now is the wall time RunTick was called with.
	Now time.Time
}

// System is one stage of the tick. Update returns an error to have it
// counted and logged; the tick goes on either way.
type System interface {
	Name() string
	Update(t *Tick) error
}

// TickBeginner is implemented by systems that need to know the tick number
// before any stage runs (Timers does, so a timer added by an RPC method of
// tick N is counted from N). The scheduler calls BeginTick on every system
// that implements it, in stage order, before stage 1.
type TickBeginner interface {
	BeginTick(t *Tick)
}

// TickEnder is implemented by systems that must see the world's per-tick
// lists once more after the last stage, before the scheduler resets them
// (AOI does, to carry changes made after its stage into the next tick).
type TickEnder interface {
	EndTick(t *Tick)
}

// funcSystem is the SystemFunc adapter.
type funcSystem struct {
	name string
	fn   func(t *Tick) error
}

func (f funcSystem) Name() string         { return f.name }
func (f funcSystem) Update(t *Tick) error { return f.fn(t) }

// SystemFunc adapts a function to a System named name.
func SystemFunc(name string, fn func(t *Tick) error) System {
	return funcSystem{name: name, fn: fn}
}

// Stage names a slot of the tick, in execution order.
type Stage uint8

// The stages of the tick, in the order they run.
const (
	StageInbox Stage = iota + 1
	StageRPC
	StageTimers
	StageUser
	StageMovement
	StageAOI
	StageSync
	StageOutbox
)

// String names the stage for logs and status output.
func (s Stage) String() string {
	switch s {
	case StageInbox:
		return "inbox"
	case StageRPC:
		return "rpc"
	case StageTimers:
		return "timers"
	case StageUser:
		return "user"
	case StageMovement:
		return "movement"
	case StageAOI:
		return "aoi"
	case StageSync:
		return "sync"
	case StageOutbox:
		return "outbox"
	}
	return fmt.Sprintf("Stage(%d)", uint8(s))
}

// Stages are the engine slots of the tick. A nil slot is skipped, so a game
// can supply the sync and outbox stages later with SetStage. User systems
// (stage 4) are added with AddUser.
type Stages struct {
	Inbox    System // 1: supplied by the game process
	RPC      System // 2: usually *RPC
	Timers   System // 3: usually *Timers
	Movement System // 5: usually *Movement
	AOI      System // 6: usually *AOI
	Sync     System // 7: supplied by the game process
	Outbox   System // 8: supplied by the game process
}

// DefaultStatsWindow is the number of recent ticks Stats summarizes when
// SchedulerOptions.StatsWindow is 0 (about 25 s at 20 ticks per second).
const DefaultStatsWindow = 512

// DefaultMaxDt caps Tick.Dt when the scheduler measures it from wall time,
// so a stall (a debugger, a long GC, a restore) does not teleport entities.
const DefaultMaxDt = 250 * time.Millisecond

// SchedulerOptions configures a Scheduler. The zero value is usable.
type SchedulerOptions struct {
	// Logger receives sampled lines for failing and panicking systems.
	// Nil logs nothing.
	Logger *zap.Logger
	// Interval, when > 0, is the fixed simulated time of every tick: Tick.Dt
	// is always Interval, so the simulation is deterministic whatever the
	// scheduling jitter. This is the normal mode of a game running at a
	// configured tick rate. When 0, Dt is the wall time since the previous
	// RunTick (0 on the first), capped at MaxDt.
	Interval time.Duration
	// MaxDt caps a measured Dt; DefaultMaxDt if 0.
	MaxDt time.Duration
	// StatsWindow is the number of recent ticks kept per system for Stats;
	// DefaultStatsWindow if 0.
	StatsWindow int
	// KeepWorldLists stops the scheduler from resetting the world's per-tick
	// lists (Moved, SpaceChanges, Destroyed, AttrDirty) at the end of each
	// tick, for a game that resets them itself.
	KeepWorldLists bool
}

// ErrSystemPanic is wrapped by the error recorded for a system that panicked.
var ErrSystemPanic = errors.New("systems: system panicked")

// slot is one scheduled system with its counters and timing ring.
type slot struct {
	sys    System
	name   string
	stage  Stage
	ring   ring
	errors atomic.Uint64
	panics atomic.Uint64
	last   time.Duration // this tick's time, copied into ring at the end
}

// Scheduler runs the stages of the tick in order on the calling goroutine.
// All methods but Stats belong to the tick goroutine.
type Scheduler struct {
	world *ecs.World
	log   *zap.Logger
	opts  SchedulerOptions

	engine [StageOutbox + 1]*slot // by Stage; StageUser unused
	users  []*slot
	order  []*slot // flattened run order, rebuilt when slots change

	tick     Tick
	lastNow  time.Time
	tickTime ring
	tickN    atomic.Uint64 // last tick run, for Stats
	mu       sync.Mutex    // guards rings, order and tickTime against Stats
}

// NewScheduler returns a scheduler for w with the given engine stages.
func NewScheduler(w *ecs.World, stages Stages, opts SchedulerOptions) *Scheduler {
	if opts.StatsWindow <= 0 {
		opts.StatsWindow = DefaultStatsWindow
	}
	if opts.MaxDt <= 0 {
		opts.MaxDt = DefaultMaxDt
	}
	s := &Scheduler{
		world:    w,
		log:      sampled(opts.Logger),
		opts:     opts,
		tickTime: newRing(opts.StatsWindow),
	}
	s.tick.World = w
	for _, st := range []struct {
		stage Stage
		sys   System
	}{
		{StageInbox, stages.Inbox}, {StageRPC, stages.RPC}, {StageTimers, stages.Timers},
		{StageMovement, stages.Movement}, {StageAOI, stages.AOI}, {StageSync, stages.Sync},
		{StageOutbox, stages.Outbox},
	} {
		if st.sys != nil {
			s.engine[st.stage] = s.newSlot(st.stage, st.sys)
		}
	}
	s.rebuild()
	return s
}

func (s *Scheduler) newSlot(stage Stage, sys System) *slot {
	return &slot{sys: sys, name: sys.Name(), stage: stage, ring: newRing(s.opts.StatsWindow)}
}

// rebuild recomputes the run order; the caller holds no lock.
func (s *Scheduler) rebuild() {
	order := make([]*slot, 0, len(s.users)+int(StageOutbox))
	for st := StageInbox; st <= StageOutbox; st++ {
		if st == StageUser {
			order = append(order, s.users...)
			continue
		}
		if sl := s.engine[st]; sl != nil {
			order = append(order, sl)
		}
	}
	s.mu.Lock()
	s.order = order
	s.mu.Unlock()
}

// SetStage puts sys in an engine slot (replacing what was there and its
// statistics), or empties the slot when sys is nil. User systems go through
// AddUser: StageUser and unknown stages are an error.
func (s *Scheduler) SetStage(stage Stage, sys System) error {
	if stage < StageInbox || stage > StageOutbox || stage == StageUser {
		return fmt.Errorf("systems: SetStage: %v is not an engine stage", stage)
	}
	if sys == nil {
		s.engine[stage] = nil
	} else {
		s.engine[stage] = s.newSlot(stage, sys)
	}
	s.rebuild()
	return nil
}

// AddUser appends a user system to stage 4; user systems run in the order
// they were added.
func (s *Scheduler) AddUser(sys System) {
	if sys == nil {
		return
	}
	s.users = append(s.users, s.newSlot(StageUser, sys))
	s.rebuild()
}

// LastTick returns the number of the last tick run (0 before the first).
func (s *Scheduler) LastTick() uint64 { return s.tick.N }

// SetLastTick makes the next RunTick tick n+1: a restored game continues
// the tick count of its snapshot, which its timers' due ticks refer to.
func (s *Scheduler) SetLastTick(n uint64) {
	s.tick.N = n
	s.tickN.Store(n)
}

// RunTick runs one tick: BeginTick hooks, the eight stages in order, EndTick
// hooks, then (unless KeepWorldLists) the reset of the world's per-tick
// lists. It returns when every stage has run; failures are counted and
// logged, never returned, because nothing the caller could do would help.
func (s *Scheduler) RunTick(now time.Time) {
	t := &s.tick
	t.N++
	t.Now = now
	switch {
	case s.opts.Interval > 0:
		t.Dt = float32(s.opts.Interval.Seconds())
	case s.lastNow.IsZero():
		t.Dt = 0
	default:
		d := now.Sub(s.lastNow)
		if d < 0 {
			d = 0
		}
		if d > s.opts.MaxDt {
			d = s.opts.MaxDt
		}
		t.Dt = float32(d.Seconds())
	}
	s.lastNow = now

	start := time.Now()
	for _, sl := range s.order {
		if b, ok := sl.sys.(TickBeginner); ok {
			s.guard(sl, "BeginTick", func() error { b.BeginTick(t); return nil })
		}
	}
	for _, sl := range s.order {
		t0 := time.Now()
		s.guard(sl, "Update", func() error { return sl.sys.Update(t) })
		sl.last = time.Since(t0)
	}
	for _, sl := range s.order {
		if e, ok := sl.sys.(TickEnder); ok {
			s.guard(sl, "EndTick", func() error { e.EndTick(t); return nil })
		}
	}
	if !s.opts.KeepWorldLists && s.world != nil {
		s.world.ResetTick()
	}
	total := time.Since(start)

	s.mu.Lock()
	for _, sl := range s.order {
		sl.ring.add(sl.last)
	}
	s.tickTime.add(total)
	s.mu.Unlock()
	s.tickN.Store(t.N)
}

// guard runs fn, recovering a panic; failures are counted on sl and logged.
func (s *Scheduler) guard(sl *slot, what string, fn func() error) {
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				sl.panics.Add(1)
				err = fmt.Errorf("%w: %s.%s: %v", ErrSystemPanic, sl.name, what, r)
				s.log.Error("system panicked", zap.String("system", sl.name), zap.Stringer("stage", sl.stage),
					zap.String("call", what), zap.Uint64("tick", s.tick.N), zap.Any("panic", r),
					zap.ByteString("stack", debug.Stack()))
			}
		}()
		err = fn()
	}()
	if err != nil {
		sl.errors.Add(1)
		if !errors.Is(err, ErrSystemPanic) {
			s.log.Warn("system failed", zap.String("system", sl.name), zap.Stringer("stage", sl.stage),
				zap.Uint64("tick", s.tick.N), zap.Error(err))
		}
	}
}

// SystemStats is one system's record over the recent window.
type SystemStats struct {
	Name  string // System.Name
	Stage Stage  // the slot it runs in (StageUser for user systems)
	// Last, Mean and P99 are the system's time per tick: the last tick, and
	// the mean and 99th percentile over the window.
	Last, Mean, P99 time.Duration
	// Errors counts failed ticks (errors and panics) since the system was
	// scheduled; Panics counts the panics among them.
	Errors, Panics uint64
}

// SchedulerStats is a consistent copy of the scheduler's timings.
type SchedulerStats struct {
	// Tick is the last tick run.
	Tick uint64
	// Samples is the number of ticks in the window (at most StatsWindow).
	Samples int
	// Systems are in run order.
	Systems []SystemStats
	// TickLast, TickMean and TickP99 are the whole tick's time.
	TickLast, TickMean, TickP99 time.Duration
}

// Stats summarizes the recent window. It is safe to call from any
// goroutine (the metrics exporter); it allocates, the tick does not.
func (s *Scheduler) Stats() SchedulerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	var scratch []time.Duration
	out := SchedulerStats{Samples: s.tickTime.n, Systems: make([]SystemStats, 0, len(s.order))}
	out.TickLast, out.TickMean, out.TickP99, scratch = s.tickTime.summary(scratch)
	for _, sl := range s.order {
		st := SystemStats{Name: sl.name, Stage: sl.stage, Errors: sl.errors.Load(), Panics: sl.panics.Load()}
		st.Last, st.Mean, st.P99, scratch = sl.ring.summary(scratch)
		out.Systems = append(out.Systems, st)
	}
	out.Tick = s.tickN.Load()
	return out
}
