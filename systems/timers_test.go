package systems

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/ecs"
)

// timerRig runs a world with RPC and timers through a scheduler.
type timerRig struct {
	env *testEnv
	ts  *Timers
	s   *Scheduler
}

func newTimerRig(t *testing.T) *timerRig {
	env := newTestEnv(t, 0)
	ts := NewTimers(env.w, TimerOptions{})
	return &timerRig{env: env, ts: ts, s: NewScheduler(env.w, Stages{Timers: ts}, SchedulerOptions{})}
}

func (r *timerRig) run(n int) {
	for range n {
		r.s.RunTick(time.Unix(0, 0))
	}
}

// fired returns "Method:arg" for every call e received.
func fired(e *ecs.Entity) []string {
	h := testHits.Get(e)
	if h == nil {
		return nil
	}
	out := make([]string, len(h.Calls))
	for i := range h.Calls {
		out[i] = fmt.Sprintf("%s:%d", h.Calls[i], h.Args[i])
	}
	return out
}

func TestTimersOrder(t *testing.T) {
	r := newTimerRig(t)
	e := r.env.mob(t, nil, ecs.Vec3{})
	// Created in this order; due ticks 3, 2, 3, 1, 2.
	for i, after := range []uint64{3, 2, 3, 1, 2} {
		r.ts.AddTimer(e.ID(), after, 0, "Hit", mustArgs(t, i))
	}
	r.run(1)
	if got := fired(e); !slices.Equal(got, []string{"Hit:3"}) {
		t.Fatalf("tick 1: %v", got)
	}
	r.run(2)
	if got, want := fired(e), []string{"Hit:3", "Hit:1", "Hit:4", "Hit:0", "Hit:2"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v (due tick, then creation)", got, want)
	}
	if r.ts.Len() != 0 {
		t.Fatalf("%d timers left", r.ts.Len())
	}
	if st := r.ts.Stats(); st.OK != 5 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTimersRepeatAndCancel(t *testing.T) {
	r := newTimerRig(t)
	e := r.env.mob(t, nil, ecs.Vec3{})
	every, err := r.ts.Every(e, 2, "Tick", 7)
	if err != nil {
		t.Fatal(err)
	}
	once, err := r.ts.After(e, 3, "Hit", 1)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, _ := r.ts.After(e, 1, "Hit", 99)
	if !r.ts.Cancel(cancelled) || r.ts.Cancel(cancelled) {
		t.Fatal("Cancel should succeed once")
	}
	r.run(7) // Tick at 2, 4, 6; Hit at 3
	if got, want := fired(e), []string{"Tick:7", "Hit:1", "Tick:7", "Tick:7"}; !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	if r.ts.Cancel(once) {
		t.Fatal("cancelled a fired one-shot timer")
	}
	if !r.ts.Cancel(every) {
		t.Fatal("could not cancel the repeating timer")
	}
	r.run(4)
	if n := len(fired(e)); n != 4 {
		t.Fatalf("%d calls after cancel, want 4", n)
	}

	// Unknown methods are refused up front by After/Every.
	if _, err := r.ts.After(e, 1, "Nope"); !errors.Is(err, ecs.ErrNoMethod) {
		t.Fatalf("After(Nope): %v", err)
	}
	if _, err := r.ts.Every(nil, 1, "Hit", 1); !errors.Is(err, ecs.ErrNoEntity) {
		t.Fatalf("Every(nil): %v", err)
	}
}

func TestTimerCancelsItselfWhileFiring(t *testing.T) {
	r := newTimerRig(t)
	e := r.env.mob(t, nil, ecs.Vec3{})
	var id TimerID
	n := 0
	r.env.onCall = func(e *ecs.Entity) {
		n++
		if !r.ts.Cancel(id) {
			t.Error("Cancel from inside its own firing failed")
		}
		// A due-now timer added while firing waits for the next tick.
		r.ts.AddTimer(e.ID(), 0, 0, "Hit", mustArgs(t, int(r.ts.Now())))
		if got := fired(e); len(got) != 0 {
			t.Errorf("Hit fired in the tick it was added: %v", got)
		}
	}
	var err error
	id, err = r.ts.Every(e, 1, "Call")
	if err != nil {
		t.Fatal(err)
	}
	r.run(3)
	if n != 1 {
		t.Fatalf("repeating timer fired %d times after cancelling itself", n)
	}
	if got := fired(e); !slices.Equal(got, []string{"Hit:1"}) {
		t.Fatalf("fired %v, want the Hit added at tick 1 (fired at 2)", got)
	}
	if r.ts.Len() != 0 {
		t.Fatalf("%d timers left", r.ts.Len())
	}
}

func TestTimerAddedAfterTimerStage(t *testing.T) {
	r := newTimerRig(t)
	e := r.env.mob(t, nil, ecs.Vec3{})
	// A user system (after the timer stage) adds a 0-delay timer each tick.
	r.s.AddUser(SystemFunc("chain", func(tk *Tick) error {
		r.ts.AddTimer(e.ID(), 0, 0, "Hit", mustArgs(t, int(tk.N)))
		return nil
	}))
	r.run(3)
	// Added at ticks 1, 2, 3 with delay 0 → fired at ticks 2 and 3.
	if got := fired(e); !slices.Equal(got, []string{"Hit:1", "Hit:2"}) {
		t.Fatalf("fired %v", got)
	}
	if r.ts.Len() != 1 {
		t.Fatalf("%d pending", r.ts.Len())
	}
}

func TestTimersCancelEntityAndDestroyed(t *testing.T) {
	r := newTimerRig(t)
	a := r.env.mob(t, nil, ecs.Vec3{})
	b := r.env.mob(t, nil, ecs.Vec3{})
	c := r.env.mob(t, nil, ecs.Vec3{})
	for i := range 3 {
		r.ts.AddTimer(a.ID(), 5, 1, "Hit", mustArgs(t, i))
		r.ts.AddTimer(b.ID(), 5, 1, "Hit", mustArgs(t, i))
		r.ts.AddTimer(c.ID(), 5, 1, "Hit", mustArgs(t, i))
	}
	if n := r.ts.CancelEntity(a.ID()); n != 3 {
		t.Fatalf("CancelEntity = %d, want 3", n)
	}
	if r.ts.CancelEntity(a.ID()) != 0 {
		t.Fatal("second CancelEntity found timers")
	}
	// b is destroyed during a tick: EndTick drops its timers.
	r.s.AddUser(SystemFunc("kill b", func(tk *Tick) error {
		if tk.N == 1 {
			b.Destroy()
		}
		return nil
	}))
	r.run(1)
	if r.ts.Len() != 3 {
		t.Fatalf("%d timers after b's destroy, want 3 (c's)", r.ts.Len())
	}
	// c is destroyed outside the scheduler's view (lists reset before its
	// EndTick): its timers are dropped when the first one fires.
	c.Destroy()
	r.env.w.ResetTick()
	r.run(5)
	if r.ts.Len() != 0 {
		t.Fatalf("%d timers left after c's fired as gone", r.ts.Len())
	}
	if st := r.ts.Stats(); st.NoEntity != 1 || st.OK != 0 {
		t.Fatalf("stats %+v, want exactly one NoEntity", st)
	}
}

func TestTimersSnapshotRoundTrip(t *testing.T) {
	// Run one rig for 10 ticks, and another that is "frozen" after 4 ticks
	// and restored into a fresh Timers: both fire the same calls at the
	// same ticks.
	schedule := func(r *timerRig, e *ecs.Entity) {
		r.ts.AddTimer(e.ID(), 3, 0, "Hit", mustArgs(t, 1))
		r.ts.AddTimer(e.ID(), 2, 3, "Tick", mustArgs(t, 2))
		r.ts.AddTimer(e.ID(), 7, 0, "Hit", mustArgs(t, 3))
		r.ts.AddTimer(e.ID(), 7, 0, "Hit", mustArgs(t, 4))
	}
	log := func(r *timerRig, e *ecs.Entity) *[]string {
		var out []string
		r.s.AddUser(SystemFunc("log", func(tk *Tick) error {
			for _, f := range fired(e)[len(out):] {
				out = append(out, fmt.Sprintf("%d %s", tk.N, f))
			}
			return nil
		}))
		return &out
	}

	ref := newTimerRig(t)
	re := ref.env.mob(t, nil, ecs.Vec3{})
	schedule(ref, re)
	want := log(ref, re)
	ref.run(10)

	r := newTimerRig(t)
	e := r.env.mob(t, nil, ecs.Vec3{})
	schedule(r, e)
	got := log(r, e)
	r.run(4)
	saved, next := r.ts.All(), r.ts.NextID()
	if !slices.IsSortedFunc(saved, func(a, b Timer) int {
		if a.Due != b.Due {
			return int(a.Due) - int(b.Due)
		}
		return int(a.ID) - int(b.ID)
	}) {
		t.Fatalf("All not sorted: %+v", saved)
	}
	tick := r.s.LastTick()

	// The new process: a fresh Timers and scheduler on the same world.
	r.ts = NewTimers(r.env.w, TimerOptions{})
	if err := r.ts.Restore(saved, next); err != nil {
		t.Fatal(err)
	}
	r.s = NewScheduler(r.env.w, Stages{Timers: r.ts}, SchedulerOptions{})
	r.s.SetLastTick(tick)
	r.s.AddUser(SystemFunc("log", func(tk *Tick) error {
		for _, f := range fired(e)[len(*got):] {
			*got = append(*got, fmt.Sprintf("%d %s", tk.N, f))
		}
		return nil
	}))
	r.run(6)
	if !slices.Equal(*got, *want) {
		t.Fatalf("restored run\n got %v\nwant %v", *got, *want)
	}
	if id := r.ts.AddTimer(e.ID(), 1, 0, "Hit", nil); id < next {
		t.Fatalf("new ID %d reuses one below %d", id, next)
	}

	// Bad input is refused and changes nothing.
	before := r.ts.All()
	for _, bad := range [][]Timer{
		{{ID: 0, Entity: e.ID(), Method: "Hit", Due: 1}},
		{{ID: 5, Method: "Hit", Due: 1}, {ID: 5, Method: "Hit", Due: 2}},
	} {
		if err := r.ts.Restore(bad, 1); !errors.Is(err, ErrTimerRestore) {
			t.Fatalf("Restore(%+v) = %v", bad, err)
		}
	}
	if !slices.EqualFunc(before, r.ts.All(), func(a, b Timer) bool { return a.ID == b.ID && a.Due == b.Due }) {
		t.Fatal("a refused Restore changed the timers")
	}
}

func TestTimersSetNowAndHugeDelays(t *testing.T) {
	r := newTimerRig(t)
	e := r.env.mob(t, nil, ecs.Vec3{})
	// A restored game at tick 1000: a timer added before the first tick
	// counts from the restored tick, not from 0.
	r.s.SetLastTick(1000)
	r.ts.SetNow(1000)
	if r.ts.Now() != 1000 {
		t.Fatalf("Now %d", r.ts.Now())
	}
	r.ts.AddTimer(e.ID(), 3, 0, "Hit", mustArgs(t, 1))
	if all := r.ts.All(); len(all) != 1 || all[0].Due != 1003 {
		t.Fatalf("timers %+v, want one due at 1003", all)
	}
	// Delays and intervals that would wrap around mean "never", not "now".
	r.ts.AddTimer(e.ID(), math.MaxUint64, 0, "Hit", mustArgs(t, 2))
	if err := r.ts.Restore(append(r.ts.All(),
		Timer{ID: 50, Entity: e.ID(), Method: "Tick", Args: mustArgs(t, 3), Due: 1001, Repeat: math.MaxUint64 - 10}),
		r.ts.NextID()); err != nil {
		t.Fatal(err)
	}
	r.run(5) // ticks 1001..1005
	if got, want := fired(e), []string{"Tick:3", "Hit:1"}; !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	all := r.ts.All()
	if len(all) != 2 || all[0].Due != math.MaxUint64 || all[1].Due != math.MaxUint64 {
		t.Fatalf("left %+v, want two timers due never", all)
	}
}
