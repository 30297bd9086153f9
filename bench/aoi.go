// Package bench holds ecsworld's benchmarks and the libraries behind the
// programs that print their tables (bench/cmd/...).
//
// The AOI benchmark (aoi*.go) drives the same move sequence into three AOI
// implementations behind the AOI interface: ours (systems/aoi, square shape),
// a cross-linked x/z sorted-list AOI (the algorithm GoWorld uses, written
// here from its description) and brute force. Every implementation uses
// GoWorld's square test: T is a neighbour of W iff |dx| <= 100 && |dz| <= 100.
//
// Ours reports each pair's net change per Update only; aoi_partial_test.go
// checks that against brute force on partial ticks with teleports, and
// benchmarks ticks where few entities move and the heap per entity.
package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"
)

// AOIRadius is the half-size of the square every implementation tests.
const AOIRadius = 100

// AOIStep bounds each entity's move per tick: uniform in [-AOIStep, +AOIStep]
// per axis.
const AOIStep = 5

// AOISeed fixes the move sequence, so every implementation and every run sees
// the same positions.
const AOISeed = 20240601

// AOIEvent is one direction of an enter or leave: Watcher gained (Enter) or
// lost Target.
type AOIEvent struct {
	Watcher, Target int32
	Enter           bool
}

// AOI is what the benchmark drives. Entity ids are dense, 0..n-1, all inserted
// by Init. Every implementation reports both directions of every change
// (with equal radii, W→T and T→W change together).
type AOI interface {
	// Init inserts entity i at (x[i], z[i]) for every i in the world square
	// [0, side]², building the neighbour sets; events of the insertion are
	// discarded.
	Init(side float32, x, z []float32)
	// Move moves id to (x, z) and appends the resulting events.
	Move(id int32, x, z float32)
	// Update finishes the moves made since the last Update: after it, the
	// neighbour sets and events are complete. The driver calls it at the
	// end of every tick (or partial tick) inside the timed region, so an
	// implementation that defers work to the end of the tick pays for it.
	Update()
	// Neighbours appends to dst the ids id sees (any order).
	Neighbours(id int32, dst []int32) []int32
	// Events returns the events appended since ResetEvents.
	Events() []AOIEvent
	// EventCount is len(Events()) without building the slice.
	EventCount() int
	// ResetEvents empties the event buffer, keeping its capacity.
	ResetEvents()
}

// AOIImpl names an implementation and builds it.
type AOIImpl struct {
	Name string
	New  func() AOI
}

// AOIImpls are the implementations, in table order: "ecsworld", "xzlist",
// "bruteforce".
var AOIImpls = []AOIImpl{
	{"ecsworld", func() AOI { return NewGridAOI() }},
	{"xzlist", func() AOI { return NewXZListAOI() }},
	{"bruteforce", func() AOI { return NewBruteAOI() }},
}

// AOIWorkload is a population in a square world [0, Side]².
type AOIWorkload struct {
	Name string
	N    int
	Side float32
}

// AOIWorkloads are the five workloads of the table.
var AOIWorkloads = []AOIWorkload{
	{"W1", 1_000, 1000},
	{"W2", 10_000, 2000},
	{"W3", 10_000, 3162},
	{"W4", 10_000, 1000},
	{"W5", 100_000, 10000},
}

// AOISim produces the positions: uniform random at start, then each tick
// every entity steps uniformly in [-AOIStep, AOIStep] per axis, clamped to
// the world square. It depends only on the workload and the seed.
type AOISim struct {
	W    AOIWorkload
	X, Z []float32
	rng  *rand.Rand
}

// NewAOISim places w.N entities with the fixed seed.
func NewAOISim(w AOIWorkload, seed uint64) *AOISim {
	s := &AOISim{W: w, X: make([]float32, w.N), Z: make([]float32, w.N),
		rng: rand.New(rand.NewPCG(seed, uint64(w.N)))}
	for i := range w.N {
		s.X[i] = s.rng.Float32() * w.Side
		s.Z[i] = s.rng.Float32() * w.Side
	}
	return s
}

// Tick advances every entity's position by one step (without moving any
// AOI: the caller moves them, timing only that).
func (s *AOISim) Tick() {
	for i := range s.X {
		s.X[i] = clampSide(s.X[i]+(s.rng.Float32()*2-1)*AOIStep, s.W.Side)
		s.Z[i] = clampSide(s.Z[i]+(s.rng.Float32()*2-1)*AOIStep, s.W.Side)
	}
}

func clampSide(v, side float32) float32 {
	return min(max(v, 0), side)
}

// AOIResult is one row of the table.
type AOIResult struct {
	Workload      string  `json:"workload"`
	Impl          string  `json:"impl"`
	NsPerMove     float64 `json:"ns_per_move"`
	MovesPerS     float64 `json:"moves_per_s"`
	EventsPerMove float64 `json:"events_per_move"`
	AllocsPerMove float64 `json:"allocs_per_move"`
	Moves         int     `json:"moves"`
	Ticks         float64 `json:"ticks"`
}

// AOIDriver feeds one implementation the workload's move sequence, keeping
// its place in the current tick between calls.
type AOIDriver struct {
	W    AOIWorkload
	Sim  *AOISim
	A    AOI
	next int // next id to move in the current tick; 0: a new tick starts
}

// NewAOIDriver inserts the workload into a fresh implementation.
func NewAOIDriver(w AOIWorkload, impl AOIImpl) *AOIDriver {
	d := &AOIDriver{W: w, Sim: NewAOISim(w, AOISeed), A: impl.New()}
	d.A.Init(w.Side, d.Sim.X, d.Sim.Z)
	d.A.ResetEvents()
	return d
}

// Run performs n moves, advancing the simulation at each tick boundary, and
// returns the time spent in Move calls only and the number of events.
func (d *AOIDriver) Run(n int) (time.Duration, int) {
	var elapsed time.Duration
	events := 0
	for n > 0 {
		if d.next == 0 {
			d.Sim.Tick()
		}
		k := min(n, d.W.N-d.next)
		x, z := d.Sim.X, d.Sim.Z
		start := time.Now()
		for i := d.next; i < d.next+k; i++ {
			d.A.Move(int32(i), x[i], z[i])
		}
		d.A.Update()
		elapsed += time.Since(start)
		events += d.A.EventCount()
		d.A.ResetEvents()
		d.next = (d.next + k) % d.W.N
		n -= k
	}
	return elapsed, events
}

// AOIWarmTicks is how many ticks AOIRun warms up with when they fit in
// five times the budget. Every entity starts where it was inserted, so the
// first ticks differ from the steady state: our grid re-references no
// entity until each has wandered half its skin away, and then many at once,
// for the first 100 to 200 ticks.
const AOIWarmTicks = 300

// AOIRun measures one row within about budget of moving time: it inserts the
// workload, calibrates on a few moves, warms up (at least one full tick when
// that fits in a quarter of the budget, then whole ticks up to AOIWarmTicks
// while they fit in five times the budget), then measures whole ticks, or a
// partial tick when one tick would not fit in the budget (brute force on big
// workloads). Allocations are the runtime.MemStats Mallocs delta over the
// measured moves divided by their number.
func AOIRun(w AOIWorkload, impl AOIImpl, budget time.Duration) AOIResult {
	d := NewAOIDriver(w, impl)
	// Two probes: the first update after the insertion may do work that no
	// later one does (our grid compacts its slots there: W5 200 ms), and
	// sizing the warm-up on it left no time for the warm-up ticks.
	probe := min(w.N/2, 200)
	d.Run(probe)
	t, _ := d.Run(probe)
	per := max(t/time.Duration(probe), time.Nanosecond)
	warm := min(int((budget/4)/per), w.N)
	if warm == w.N && d.next != 0 {
		warm = w.N - d.next // finish the tick, then one whole tick
		warm += min(w.N, int((budget/4)/per))
	}
	t, _ = d.Run(warm)
	if warm > 0 {
		per = max(t/time.Duration(warm), time.Nanosecond)
	}
	if d.next == 0 { // whole ticks so far: more of them, towards the steady state
		// The time per move to size the measurement with is the mean of the
		// last warmTail ticks: one tick alone may hold a compaction (W5: as
		// long as seven ticks), and then too few were measured.
		const warmTail = 16
		var last [warmTail]time.Duration
		spent, n := t, 0
		for ticks := (2*probe + warm) / w.N; ticks < AOIWarmTicks && spent+time.Duration(w.N)*per < 5*budget; ticks++ {
			t, _ = d.Run(w.N)
			spent += t
			last[n%warmTail] = t
			n++
			var sum time.Duration
			for _, v := range last[:min(n, warmTail)] {
				sum += v
			}
			per = max(sum/time.Duration(min(n, warmTail)*w.N), time.Nanosecond)
		}
	}
	moves := max(int(budget/per), 100)
	if moves >= w.N {
		moves = moves / w.N * w.N
		if d.next != 0 { // align on a tick boundary
			d.Run(w.N - d.next)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	elapsed, events := d.Run(moves)
	runtime.ReadMemStats(&after)
	r := AOIResult{Workload: w.Name, Impl: impl.Name, Moves: moves, Ticks: float64(moves) / float64(w.N)}
	r.NsPerMove = float64(elapsed.Nanoseconds()) / float64(moves)
	r.MovesPerS = float64(moves) / elapsed.Seconds()
	r.EventsPerMove = float64(events) / float64(moves)
	r.AllocsPerMove = float64(after.Mallocs-before.Mallocs) / float64(moves)
	return r
}

// AOITable formats rows as a Markdown table.
func AOITable(rows []AOIResult) string {
	var b strings.Builder
	b.WriteString("| workload | implementation | ns/move | moves/s | enter+leave events/move | allocs/move | moves measured |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.3f | %.4f | %d (%s ticks) |\n", r.Workload, r.Impl,
			fmtNum(r.NsPerMove), fmtNum(r.MovesPerS), r.EventsPerMove, r.AllocsPerMove, r.Moves, fmtTicks(r.Ticks))
	}
	return b.String()
}

func fmtNum(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func fmtTicks(t float64) string {
	if t == float64(int(t)) {
		return fmt.Sprintf("%d", int(t))
	}
	return fmt.Sprintf("%.3f", t)
}

// String formats r for logs.
func (r AOIResult) String() string {
	return fmt.Sprintf("%s %s: %.1f ns/move, %.3f events/move, %.4f allocs/move (%d moves)",
		r.Workload, r.Impl, r.NsPerMove, r.EventsPerMove, r.AllocsPerMove, r.Moves)
}

// moveAll moves ids 0..n-1 to the simulation's current positions.
func moveAll(a AOI, sim *AOISim, n int) {
	for i := range n {
		a.Move(int32(i), sim.X[i], sim.Z[i])
	}
	a.Update()
}
