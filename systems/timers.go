package systems

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"slices"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/ecs"
)

// TimerID identifies a timer; IDs are never reused within a world's life,
// snapshots included (Restore takes the next ID back).
type TimerID uint64

// Timer is a timer as data: which method of which entity to call with
// which arguments, at which tick. Timers hold no closures, so a snapshot can
// carry them and a new binary can fire them.
type Timer struct {
	ID     TimerID      // unique in the world's life (see Timers.NextID)
	Entity ecs.EntityID // the entity whose method is called
	Method string       // the method's name in the entity's type
	// Args is the CBOR array of arguments (ecs.EncodeArgs). The timer
	// shares it with whoever gave or received it: do not modify it.
	Args []byte
	// Due is the tick number at which the timer fires next.
	Due uint64
	// Repeat is the interval in ticks of a repeating timer; 0 fires once.
	Repeat uint64
}

// TimerOptions configures a Timers stage. The zero value is usable.
type TimerOptions struct {
	// Logger receives a sampled line per failed firing. Nil logs nothing.
	Logger *zap.Logger
}

// Timers is stage 3 of the tick: timers in tick time, fired in a
// deterministic order (due tick, then creation order) as calls from the
// server (ecs.CallerServer), through the same checks and counters as RPC
// dispatch.
//
// Delays count from the current tick: the tick that is running, or the
// last tick run when called between ticks. A delay of 0 is 1: a timer never
// fires in the tick it was added in, so a timer that re-adds itself while
// firing cannot loop within one tick.
//
// A repeating timer fires every Repeat ticks from its first due tick. One
// overdue by more than an interval (restored into a later tick) skips the
// missed beats rather than firing them in a burst.
//
// A timer whose entity is gone when it fires is dropped with every other
// timer of that entity; EndTick also drops the timers of entities the world
// reports destroyed during the tick. All methods belong to the tick
// goroutine, except Stats.
type Timers struct {
	world  *ecs.World
	inv    invoker
	cur    uint64 // current tick
	nextID TimerID
	h      timerHeap
	byID   map[TimerID]*timerItem
	byEnt  map[ecs.EntityID][]*timerItem
}

type timerItem struct {
	Timer
	idx int // index in the heap; -1 while firing or after removal
}

// NewTimers returns the timer stage for w.
func NewTimers(w *ecs.World, opts TimerOptions) *Timers {
	ts := &Timers{
		world:  w,
		nextID: 1,
		byID:   make(map[TimerID]*timerItem),
		byEnt:  make(map[ecs.EntityID][]*timerItem),
	}
	ts.inv.init(w, opts.Logger, "timer")
	return ts
}

// Name implements System.
func (ts *Timers) Name() string { return "timers" }

// BeginTick implements TickBeginner: delays of timers added during this
// tick (by RPC methods, before stage 3) count from this tick.
func (ts *Timers) BeginTick(t *Tick) { ts.cur = t.N }

// Now returns the tick delays are counted from.
func (ts *Timers) Now() uint64 { return ts.cur }

// SetNow sets the tick delays are counted from until the next tick begins.
// A restored game calls it with the snapshot's tick, next to
// Scheduler.SetLastTick and Restore, so that timers added before the
// first tick (by OnRestored hooks, say) count from the restored tick
// rather than from 0, which would make them overdue at once.
func (ts *Timers) SetNow(tick uint64) { ts.cur = tick }

// addTicks is a+b, saturating: a huge delay or interval (from a bad
// snapshot, say) means "never", not a wrap-around to a tick in the past.
func addTicks(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return math.MaxUint64
}

// AddTimer schedules method on entity e with CBOR args after afterTicks
// ticks (at least 1), then every repeatTicks ticks if repeatTicks > 0. The
// method and entity are checked when it fires, not now (restored data and
// entities being created may not be resolvable yet); After and Every check.
func (ts *Timers) AddTimer(e ecs.EntityID, afterTicks, repeatTicks uint64, method string, args []byte) TimerID {
	id := ts.nextID
	ts.nextID++
	ts.push(&timerItem{Timer: Timer{
		ID: id, Entity: e, Method: method, Args: args, Due: addTicks(ts.cur, max(afterTicks, 1)), Repeat: repeatTicks,
	}})
	return id
}

// After calls e's method once, ticks ticks from now, with args encoded by
// ecs.EncodeArgs. It fails if the method is unknown to e's type or an
// argument does not encode.
func (ts *Timers) After(e *ecs.Entity, ticks uint64, method string, args ...any) (TimerID, error) {
	return ts.add(e, ticks, 0, method, args)
}

// Every calls e's method every ticks ticks (at least 1), the first time
// ticks ticks from now, with args encoded by ecs.EncodeArgs.
func (ts *Timers) Every(e *ecs.Entity, ticks uint64, method string, args ...any) (TimerID, error) {
	return ts.add(e, ticks, max(ticks, 1), method, args)
}

func (ts *Timers) add(e *ecs.Entity, after, repeat uint64, method string, args []any) (TimerID, error) {
	if e == nil {
		return 0, fmt.Errorf("systems: timer %q: %w", method, ecs.ErrNoEntity)
	}
	if _, ok := e.Type().LookupMethod(method); !ok {
		return 0, fmt.Errorf("systems: timer: %w: %s.%s", ecs.ErrNoMethod, e.Type().Name(), method)
	}
	b, err := ecs.EncodeArgs(args...)
	if err != nil {
		return 0, fmt.Errorf("systems: timer %s.%s: %w", e.Type().Name(), method, err)
	}
	return ts.AddTimer(e.ID(), after, repeat, method, b), nil
}

// Cancel stops timer id; it reports whether the timer existed. A timer may
// cancel itself while it fires (a repeating timer then stops).
func (ts *Timers) Cancel(id TimerID) bool {
	it, ok := ts.byID[id]
	if !ok {
		return false
	}
	ts.remove(it)
	return true
}

// CancelEntity stops every timer of entity e and returns how many.
func (ts *Timers) CancelEntity(e ecs.EntityID) int {
	items := ts.byEnt[e]
	n := len(items)
	for len(ts.byEnt[e]) > 0 {
		ts.remove(ts.byEnt[e][0])
	}
	return n
}

// Len returns the number of live timers.
func (ts *Timers) Len() int { return len(ts.byID) }

// NextID returns the ID the next timer will get; a snapshot saves it with
// All so that Restore never reuses an ID.
func (ts *Timers) NextID() TimerID { return ts.nextID }

// All returns a copy of every live timer sorted by due tick, then ID: the
// order they fire in, and the order a snapshot stores them in. Call it
// between ticks (a snapshot is taken at a tick boundary): during the timer
// stage the timer being fired is not listed.
func (ts *Timers) All() []Timer {
	out := make([]Timer, 0, len(ts.h))
	for _, it := range ts.h {
		out = append(out, it.Timer)
	}
	slices.SortFunc(out, func(a, b Timer) int {
		if a.Due != b.Due {
			if a.Due < b.Due {
				return -1
			}
			return 1
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

// ErrTimerRestore is wrapped by the errors of Restore.
var ErrTimerRestore = errors.New("systems: bad timers to restore")

// Restore replaces every timer with list (from All, through a snapshot) and
// sets the next ID to at least nextID and above every restored ID. Due
// ticks are absolute: restore the scheduler's tick (SetLastTick) and this
// stage's (SetNow) too. A list with a zero or duplicate ID is refused and
// nothing is changed. Entities and methods are checked when each timer
// fires, and arguments are decoded then, with the limits of RPC calls.
func (ts *Timers) Restore(list []Timer, nextID TimerID) error {
	seen := make(map[TimerID]struct{}, len(list))
	for _, t := range list {
		if t.ID == 0 {
			return fmt.Errorf("%w: timer with ID 0 (%s on %d)", ErrTimerRestore, t.Method, t.Entity)
		}
		if _, dup := seen[t.ID]; dup {
			return fmt.Errorf("%w: duplicate timer ID %d", ErrTimerRestore, t.ID)
		}
		seen[t.ID] = struct{}{}
	}
	clear(ts.h)
	ts.h = ts.h[:0]
	clear(ts.byID)
	clear(ts.byEnt)
	ts.nextID = max(nextID, 1)
	for _, t := range list {
		ts.push(&timerItem{Timer: t})
		ts.nextID = max(ts.nextID, t.ID+1)
	}
	return nil
}

// Update implements System: it fires every timer due at or before this
// tick, in (due, ID) order.
func (ts *Timers) Update(t *Tick) error {
	ts.cur = t.N
	for len(ts.h) > 0 && ts.h[0].Due <= ts.cur {
		it := heap.Pop(&ts.h).(*timerItem)
		it.idx = -1
		c := Call{Target: it.Entity, Method: it.Method, Args: it.Args, Caller: ecs.ServerCaller()}
		out, _ := ts.inv.invoke(&c)
		if _, live := ts.byID[it.ID]; !live {
			continue // cancelled while firing
		}
		if out == outNoEntity {
			ts.remove(it)
			ts.CancelEntity(it.Entity)
			continue
		}
		if it.Repeat == 0 {
			ts.remove(it)
			continue
		}
		// Keep the cadence, but never fire twice in one tick: an overdue
		// repeating timer (after a long restore) skips the missed beats.
		it.Due = max(addTicks(it.Due, it.Repeat), ts.cur+1)
		heap.Push(&ts.h, it)
	}
	return nil
}

// EndTick implements TickEnder: it drops the timers of the entities
// destroyed during this tick, before the scheduler resets the list.
func (ts *Timers) EndTick(*Tick) {
	if len(ts.byEnt) == 0 {
		return
	}
	for _, e := range ts.world.Destroyed() {
		if _, ok := ts.byEnt[e.ID()]; ok {
			ts.CancelEntity(e.ID())
		}
	}
}

// Stats returns the firing counters since creation (OK, NoEntity,
// NoMethod, ...). Safe from any goroutine.
func (ts *Timers) Stats() RPCStats { return ts.inv.stats() }

func (ts *Timers) push(it *timerItem) {
	ts.byID[it.ID] = it
	ts.byEnt[it.Entity] = append(ts.byEnt[it.Entity], it)
	heap.Push(&ts.h, it)
}

// remove forgets it everywhere; it may be in the heap or firing.
func (ts *Timers) remove(it *timerItem) {
	if _, ok := ts.byID[it.ID]; !ok {
		return
	}
	delete(ts.byID, it.ID)
	if it.idx >= 0 {
		heap.Remove(&ts.h, it.idx)
		it.idx = -1
	}
	list := ts.byEnt[it.Entity]
	if i := slices.Index(list, it); i >= 0 {
		list[i] = list[len(list)-1]
		list[len(list)-1] = nil
		list = list[:len(list)-1]
	}
	if len(list) == 0 {
		delete(ts.byEnt, it.Entity)
	} else {
		ts.byEnt[it.Entity] = list
	}
}

// timerHeap is a min-heap by (Due, ID): equal due ticks fire in creation
// order, so firing is deterministic.
type timerHeap []*timerItem

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].Due != h[j].Due {
		return h[i].Due < h[j].Due
	}
	return h[i].ID < h[j].ID
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}
func (h *timerHeap) Push(x any) {
	it := x.(*timerItem)
	it.idx = len(*h)
	*h = append(*h, it)
}
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	it := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return it
}
