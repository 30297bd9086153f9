package systems

import (
	"errors"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ecsworld/ecsworld/ecs"
)

// recorder returns a system that appends its name to *log each tick.
func recorder(name string, log *[]string) System {
	return SystemFunc(name, func(*Tick) error {
		*log = append(*log, name)
		return nil
	})
}

func TestSchedulerOrder(t *testing.T) {
	var got []string
	st := Stages{
		Inbox: recorder("inbox", &got), RPC: recorder("rpc", &got), Timers: recorder("timers", &got),
		Movement: recorder("movement", &got), AOI: recorder("aoi", &got), Outbox: recorder("outbox", &got),
	}
	s := NewScheduler(nil, st, SchedulerOptions{})
	s.AddUser(recorder("user1", &got))
	s.AddUser(recorder("user2", &got))
	// Sync is supplied later, as a game process does.
	if err := s.SetStage(StageSync, recorder("sync", &got)); err != nil {
		t.Fatal(err)
	}
	s.AddUser(recorder("user3", &got))
	s.RunTick(time.Unix(100, 0))
	want := []string{"inbox", "rpc", "timers", "user1", "user2", "user3", "movement", "aoi", "sync", "outbox"}
	if !slices.Equal(got, want) {
		t.Fatalf("order\n got %v\nwant %v", got, want)
	}
	stats := s.Stats()
	var names []string
	for _, ss := range stats.Systems {
		names = append(names, ss.Name)
	}
	if !slices.Equal(names, want) {
		t.Fatalf("stats order %v, want %v", names, want)
	}
	if s.LastTick() != 1 || stats.Tick != 1 {
		t.Fatalf("tick = %d / %d, want 1", s.LastTick(), stats.Tick)
	}

	// Emptying a slot removes it; a user stage cannot be set.
	if err := s.SetStage(StageRPC, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStage(StageUser, recorder("x", &got)); err == nil {
		t.Fatal("SetStage(StageUser) succeeded")
	}
	if err := s.SetStage(Stage(99), recorder("x", &got)); err == nil {
		t.Fatal("SetStage(99) succeeded")
	}
	got = got[:0]
	s.RunTick(time.Unix(101, 0))
	if want := slices.Delete(slices.Clone(want), 1, 2); !slices.Equal(got, want) {
		t.Fatalf("after removing rpc\n got %v\nwant %v", got, want)
	}
}

func TestSchedulerFailuresDoNotStopTheTick(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	var got []string
	s := NewScheduler(nil, Stages{
		RPC: SystemFunc("boom", func(*Tick) error { panic("kaboom") }),
		AOI: recorder("aoi", &got),
	}, SchedulerOptions{Logger: zap.New(core)})
	s.AddUser(SystemFunc("fails", func(*Tick) error { return errors.New("nope") }))
	s.AddUser(recorder("after", &got))
	for i := range 3 {
		s.RunTick(time.Unix(int64(i), 0))
	}
	if want := []string{"after", "aoi", "after", "aoi", "after", "aoi"}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	byName := map[string]SystemStats{}
	for _, ss := range s.Stats().Systems {
		byName[ss.Name] = ss
	}
	if b := byName["boom"]; b.Panics != 3 || b.Errors != 3 {
		t.Fatalf("boom: panics %d errors %d, want 3 3", b.Panics, b.Errors)
	}
	if f := byName["fails"]; f.Panics != 0 || f.Errors != 3 {
		t.Fatalf("fails: panics %d errors %d, want 0 3", f.Panics, f.Errors)
	}
	if a := byName["aoi"]; a.Errors != 0 {
		t.Fatalf("aoi errors %d", a.Errors)
	}
	if n := logs.FilterMessage("system panicked").Len(); n != 3 {
		t.Fatalf("%d panic lines, want 3", n)
	}
	if n := logs.FilterMessage("system failed").Len(); n != 3 {
		t.Fatalf("%d failure lines, want 3", n)
	}
}

func TestSchedulerLogIsSampled(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	s := NewScheduler(nil, Stages{}, SchedulerOptions{Logger: zap.New(core)})
	s.AddUser(SystemFunc("fails", func(*Tick) error { return errors.New("nope") }))
	for i := range 1000 {
		s.RunTick(time.Unix(0, int64(i)))
	}
	if n := logs.Len(); n >= 1000 || n < logFirst {
		t.Fatalf("%d log lines for 1000 failures, want sampled", n)
	}
	if e := s.Stats().Systems[0].Errors; e != 1000 {
		t.Fatalf("errors %d, want 1000", e)
	}
}

func TestSchedulerStats(t *testing.T) {
	s := NewScheduler(nil, Stages{}, SchedulerOptions{StatsWindow: 8})
	var ns []uint64
	s.AddUser(SystemFunc("sleepy", func(tk *Tick) error {
		ns = append(ns, tk.N)
		time.Sleep(time.Millisecond)
		return nil
	}))
	s.AddUser(SystemFunc("idle", func(*Tick) error { return nil }))
	for i := range 20 {
		s.RunTick(time.Unix(0, int64(i)))
	}
	st := s.Stats()
	if st.Samples != 8 || st.Tick != 20 {
		t.Fatalf("samples %d tick %d, want 8 20", st.Samples, st.Tick)
	}
	if len(ns) != 20 || ns[0] != 1 || ns[19] != 20 {
		t.Fatalf("tick numbers %v", ns)
	}
	sl := st.Systems[0]
	// Lower bounds only: the system slept at least 1ms every tick.
	if sl.Last < time.Millisecond || sl.Mean < time.Millisecond || sl.P99 < time.Millisecond {
		t.Fatalf("sleepy stats %+v", sl)
	}
	if st.TickP99 < sl.P99 || st.TickMean < sl.Mean || st.TickLast < sl.Last {
		t.Fatalf("tick %v/%v/%v below its system's %+v", st.TickLast, st.TickMean, st.TickP99, sl)
	}
	if st.Systems[1].P99 > st.TickP99 {
		t.Fatalf("idle p99 %v above tick p99 %v", st.Systems[1].P99, st.TickP99)
	}
}

func TestRingSummary(t *testing.T) {
	r := newRing(100)
	for i := 1; i <= 250; i++ { // keeps 151..250
		r.add(time.Duration(i))
	}
	last, mean, p99, _ := r.summary(nil)
	if last != 250 || mean != 200 || p99 != 249 {
		t.Fatalf("last %d mean %d p99 %d, want 250 200 249", last, mean, p99)
	}
	r = newRing(4)
	if l, m, p, _ := r.summary(nil); l != 0 || m != 0 || p != 0 {
		t.Fatal("empty ring not zero")
	}
	r.add(7)
	if l, m, p, _ := r.summary(nil); l != 7 || m != 7 || p != 7 {
		t.Fatalf("one sample: %d %d %d", l, m, p)
	}
}

func TestSchedulerDt(t *testing.T) {
	var dts []float32
	rec := SystemFunc("dt", func(tk *Tick) error { dts = append(dts, tk.Dt); return nil })

	fixed := NewScheduler(nil, Stages{}, SchedulerOptions{Interval: 50 * time.Millisecond})
	fixed.AddUser(rec)
	fixed.RunTick(time.Unix(0, 0))
	fixed.RunTick(time.Unix(10, 0))
	if !slices.Equal(dts, []float32{0.05, 0.05}) {
		t.Fatalf("fixed dt %v", dts)
	}

	dts = nil
	wall := NewScheduler(nil, Stages{}, SchedulerOptions{MaxDt: time.Second})
	wall.AddUser(rec)
	t0 := time.Unix(1000, 0)
	wall.RunTick(t0)
	wall.RunTick(t0.Add(100 * time.Millisecond))
	wall.RunTick(t0.Add(time.Hour))       // capped
	wall.RunTick(t0.Add(time.Hour - 1e9)) // clock went back
	if !slices.Equal(dts, []float32{0, 0.1, 1, 0}) {
		t.Fatalf("wall dt %v", dts)
	}
}

// hooked records BeginTick/Update/EndTick.
type hooked struct {
	name string
	log  *[]string
}

func (h hooked) Name() string       { return h.name }
func (h hooked) Update(*Tick) error { *h.log = append(*h.log, h.name+".update"); return nil }
func (h hooked) BeginTick(*Tick)    { *h.log = append(*h.log, h.name+".begin") }
func (h hooked) EndTick(*Tick)      { *h.log = append(*h.log, h.name+".end") }

func TestSchedulerBeginEnd(t *testing.T) {
	var got []string
	s := NewScheduler(nil, Stages{Timers: hooked{"timers", &got}, AOI: hooked{"aoi", &got}}, SchedulerOptions{})
	s.AddUser(recorder("user", &got))
	s.SetLastTick(41)
	s.RunTick(time.Now())
	want := []string{"timers.begin", "aoi.begin", "timers.update", "user", "aoi.update", "timers.end", "aoi.end"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if s.LastTick() != 42 {
		t.Fatalf("tick %d after SetLastTick(41), want 42", s.LastTick())
	}
}

func TestSchedulerTickDoesNotAllocate(t *testing.T) {
	s := NewScheduler(nil, Stages{
		RPC: SystemFunc("a", func(*Tick) error { return nil }),
		AOI: &counting{},
	}, SchedulerOptions{StatsWindow: 16})
	s.AddUser(SystemFunc("c", func(*Tick) error { return nil }))
	now := time.Unix(0, 0)
	s.RunTick(now)
	if n := testing.AllocsPerRun(100, func() { s.RunTick(now) }); n != 0 {
		t.Fatalf("RunTick allocates %v times per tick", n)
	}
}

// counting implements every optional interface without allocating.
type counting struct{ begins, updates, ends int }

func (c *counting) Name() string       { return "counting" }
func (c *counting) Update(*Tick) error { c.updates++; return nil }
func (c *counting) BeginTick(*Tick)    { c.begins++ }
func (c *counting) EndTick(*Tick)      { c.ends++ }

// TestStatsFromAnotherGoroutine reads every Stats method the docs call
// safe from any goroutine while ticks run (a metrics exporter does this);
// -race checks the claim.
func TestStatsFromAnotherGoroutine(t *testing.T) {
	env := newTestEnv(t, 10)
	space := env.space(t)
	var mobs []*ecs.Entity
	for i := range 20 {
		mobs = append(mobs, env.mob(t, space, ecs.Vec3{X: float32(i * 3)}))
	}
	rpc := NewRPC(env.w, RPCOptions{})
	timers := NewTimers(env.w, TimerOptions{})
	a := NewAOI(env.w, AOIOptions{})
	s := NewScheduler(env.w, Stages{RPC: rpc, Timers: timers, Movement: NewMovement(env.w), AOI: a},
		SchedulerOptions{Interval: 50 * time.Millisecond, StatsWindow: 16})
	for _, m := range mobs {
		m.SetVelocity(ecs.Vec3{X: 5})
		if _, err := timers.Every(m, 2, "Tick", 1); err != nil {
			t.Fatal(err)
		}
	}
	done, started, stopped := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for n := 0; ; n++ {
			_ = s.Stats()
			_ = rpc.Stats()
			_ = timers.Stats()
			_ = a.Stats()
			if n == 0 {
				close(started)
			}
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	<-started // so the reads overlap the ticks
	for i := range 100 {
		rpc.Enqueue(Call{Target: mobs[i%len(mobs)].ID(), Method: "Hit", Args: mustArgs(t, i), Caller: ecs.ServerCaller()})
		s.RunTick(time.Unix(0, 0))
	}
	close(done)
	<-stopped
	st := s.Stats()
	if st.Tick != 100 || st.Samples != 16 || len(st.Systems) != 4 {
		t.Fatalf("stats %+v", st)
	}
	if r := rpc.Stats(); r.OK != 100 {
		t.Fatalf("rpc %+v", r)
	}
	if tm := timers.Stats(); tm.OK != 50*uint64(len(mobs)) {
		t.Fatalf("timers %+v, want %d firings", tm, 50*len(mobs))
	}
}
