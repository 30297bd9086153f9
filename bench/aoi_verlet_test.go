package bench

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// verletSkins are the skins the tests and benchmarks try.
var verletSkins = []float32{20, 30, 40, 60}

// verletTestSkins are the skins the tests try (the benchmarks try all of
// verletSkins): the benchmarks' best, and one that rebuilds or
// re-references almost every tick.
var verletTestSkins = []float32{40, 1}

// verletImpls are the Verlet prototypes under test, one per test skin.
func verletImpls() []AOIImpl {
	var out []AOIImpl
	for _, s := range verletTestSkins {
		out = append(out, AOIImpl{fmt.Sprintf("verlet%g", s), func() AOI { return NewVerletAOI(s) }})
	}
	for _, s := range verletTestSkins {
		out = append(out, AOIImpl{fmt.Sprintf("local%g", s), func() AOI { return NewVerletLocalAOI(s) }})
	}
	out = append(out, AOIImpl{"local30-compacting", func() AOI { return compactingLocal{NewVerletLocalAOI(30)} }})
	return out
}

// compactingLocal compacts after every Update, so the tests run the
// compaction (in the benchmarks it is rare).
type compactingLocal struct{ *VerletLocalAOI }

func (c compactingLocal) Update() {
	c.VerletLocalAOI.Update()
	c.compact()
}

// verletCheck compares a against brute force ref after a tick: the same net
// change of every pair, at most one event per direction and pair (Verlet
// reports net changes only), both directions of each, and the same
// neighbour sets.
func verletCheck(t *testing.T, name string, n int, ref, a AOI, when string) {
	t.Helper()
	want := netChange(ref.Events())
	evs := a.Events()
	got := netChange(evs)
	if !maps.Equal(got, want) {
		t.Fatalf("%s: %s: net pair changes differ from brute force's (%d vs %d pairs)", when, name, len(got), len(want))
	}
	if len(evs) != len(got) {
		t.Fatalf("%s: %s: %d events for %d net changes", when, name, len(evs), len(got))
	}
	for k, v := range got {
		if got[[2]int32{k[1], k[0]}] != v {
			t.Fatalf("%s: %s: pair %v changed in one direction only", when, name, k)
		}
	}
	ref.ResetEvents()
	a.ResetEvents()
	var rs, gs []int32
	for id := range int32(n) {
		rs = ref.Neighbours(id, rs[:0])
		gs = a.Neighbours(id, gs[:0])
		slices.Sort(rs)
		slices.Sort(gs)
		if !slices.Equal(rs, gs) {
			t.Fatalf("%s: %s: entity %d sees %v, brute force %v", when, name, id, gs, rs)
		}
	}
}

// TestAOIVerletAgree runs TestAOIAgree's workloads through every Verlet
// variant and brute force, tick by tick.
func TestAOIVerletAgree(t *testing.T) {
	workloads := []AOIWorkload{
		AOIWorkloads[0],
		{"dense", 400, 300},
		{"sparse", 300, 3000},
		{"crowd", 200, 60},
		{"W1-reseeded", 1000, 1000},
	}
	ticks := 12
	if testing.Short() {
		ticks = 3
	}
	for _, w := range workloads {
		for _, im := range verletImpls() {
			t.Run(w.Name+"/"+im.Name, func(t *testing.T) {
				sim := NewAOISim(w, AOISeed+uint64(len(w.Name)))
				ref, a := NewBruteAOI(), im.New()
				ref.Init(w.Side, sim.X, sim.Z)
				a.Init(w.Side, sim.X, sim.Z)
				verletCheck(t, im.Name, w.N, ref, a, "init")
				for tick := range ticks {
					sim.Tick()
					moveAll(ref, sim, w.N)
					moveAll(a, sim, w.N)
					verletCheck(t, im.Name, w.N, ref, a, fmt.Sprint("tick ", tick))
				}
			})
		}
	}
}

// TestAOIVerletPartial moves only some entities per tick, some of them
// twice in a tick, some by jumps far beyond the skin (teleports, also out of
// the world square), on a grid of several cells.
func TestAOIVerletPartial(t *testing.T) {
	cases := []struct {
		name      string
		n         int
		side      float32
		movers    int // per tick
		teleports int // per tick, among any entity
		twice     int // movers moved a second time in the tick
	}{
		{"few", 600, 1500, 5, 0, 0},
		{"few-teleports", 600, 1500, 5, 1, 0},
		{"many-teleports", 400, 1000, 50, 40, 10},
		{"half-twice", 500, 800, 250, 0, 100},
		{"only-teleports", 300, 1200, 0, 20, 0},
	}
	ticks := 40
	if testing.Short() {
		ticks = 8
	}
	for _, c := range cases {
		for _, im := range verletImpls() {
			t.Run(c.name+"/"+im.Name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(7, uint64(c.n)))
				x, z := make([]float32, c.n), make([]float32, c.n)
				for i := range x {
					x[i], z[i] = rng.Float32()*c.side, rng.Float32()*c.side
				}
				ref, a := NewBruteAOI(), im.New()
				ref.Init(c.side, x, z)
				a.Init(c.side, x, z)
				both := func(id int32, nx, nz float32) {
					ref.Move(id, nx, nz)
					a.Move(id, nx, nz)
				}
				for tick := range ticks {
					for range c.movers {
						id := rng.Int32N(int32(c.n))
						x[id] = clampSide(x[id]+(rng.Float32()*2-1)*AOIStep*3, c.side)
						z[id] = clampSide(z[id]+(rng.Float32()*2-1)*AOIStep*3, c.side)
						both(id, x[id], z[id])
					}
					for range c.teleports {
						id := rng.Int32N(int32(c.n))
						x[id] = rng.Float32()*c.side*1.2 - c.side*0.1
						z[id] = rng.Float32()*c.side*1.2 - c.side*0.1
						both(id, x[id], z[id])
					}
					for range c.twice {
						id := rng.Int32N(int32(c.n))
						both(id, x[id]+AOIRadius, z[id]) // moved away, then back
						both(id, x[id], z[id])
					}
					ref.Update()
					a.Update()
					verletCheck(t, im.Name, c.n, ref, a, fmt.Sprint("tick ", tick))
				}
				t.Logf("%d rebuilds or re-references in %d ticks", verletRebuilds(a), ticks)
			})
		}
	}
}

// verletRebuilds is the count of (global) rebuilds or (local)
// re-references so far.
func verletRebuilds(a AOI) int {
	switch v := a.(type) {
	case *VerletAOI:
		return v.Rebuilds
	case *VerletLocalAOI:
		return v.Rerefs
	case compactingLocal:
		return v.Rerefs
	}
	return 0
}

// verletWarmTicks are the untimed ticks before BenchmarkAOIVerlet measures:
// right after Init every entity sits on its reference position, and the
// rate of re-references reaches its steady state only after several times
// the ticks an entity takes to leave half the skin (some 50 for skin 60).
const verletWarmTicks = 150

// BenchmarkAOIVerlet runs BenchmarkAOI's workloads and loop (one op is one
// move; moves and each tick's Update timed), after verletWarmTicks, on both Verlet prototypes at
// each skin: "global" rebuilds every list when the skin may be closed
// (metric rebuilds/tick), "local" re-references one entity at a time
// (metric rerefs/move).
func BenchmarkAOIVerlet(b *testing.B) {
	variants := []struct {
		name, unit string
		per        func(ticks, moves int) float64
		mk         func(skin float32) AOI
	}{
		{"global", "rebuilds/tick", func(t, _ int) float64 { return float64(t) }, func(s float32) AOI { return NewVerletAOI(s) }},
		{"local", "rerefs/move", func(_, m int) float64 { return float64(m) }, func(s float32) AOI { return NewVerletLocalAOI(s) }},
	}
	for _, w := range AOIWorkloads {
		for _, v := range variants {
			for _, s := range verletSkins {
				var st *aoiState
				b.Run(fmt.Sprintf("%s/%s/skin%g", w.Name, v.name, s), func(b *testing.B) {
					if st == nil {
						st = &aoiState{sim: NewAOISim(w, AOISeed), a: v.mk(s)}
						st.a.Init(w.Side, st.sim.X, st.sim.Z)
						for range verletWarmTicks {
							st.sim.Tick()
							moveAll(st.a, st.sim, w.N)
							st.a.ResetEvents()
						}
					}
					rebuilds, compacts := verletRebuilds(st.a), 0
					if l, ok := st.a.(*VerletLocalAOI); ok {
						compacts = l.Compacts
					}
					var before, after runtime.MemStats
					runtime.ReadMemStats(&before)
					b.ReportAllocs()
					ticks := st.timeMoves(b, w.N)
					runtime.ReadMemStats(&after)
					b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N), "allocs/move")
					if l, ok := st.a.(*VerletLocalAOI); ok && ticks > 0 {
						b.ReportMetric(float64(l.Compacts-compacts)/float64(ticks), "compacts/tick")
					}
					if d := v.per(ticks, b.N); d > 0 {
						b.ReportMetric(float64(verletRebuilds(st.a)-rebuilds)/d, v.unit)
					}
				})
			}
		}
	}
}

func TestVerletRadiusBits(t *testing.T) {
	if got := math.Float32bits(AOIRadius); got != verletR {
		t.Fatalf("AOIRadius's bits are %#x, verletR is %#x", got, verletR)
	}
}

// TestAOIVerletBig checks both prototypes against ours (systems/aoi) on W3,
// whose 10,000 entities make brute force too slow for a test: the same net
// change of every pair in every tick. It logs the raw and net event counts:
// Verlet reports net changes only, ours also a tick's transient pairs.
func TestAOIVerletBig(t *testing.T) {
	w := AOIWorkloads[2]
	ticks := 8
	if testing.Short() {
		ticks = 2
	}
	sim := NewAOISim(w, AOISeed)
	ref := NewGridAOI()
	ref.Init(w.Side, sim.X, sim.Z)
	impls := []AOI{NewVerletAOI(40), NewVerletLocalAOI(20), NewVerletLocalAOI(40)}
	for _, a := range impls {
		a.Init(w.Side, sim.X, sim.Z)
	}
	raw, net := 0, 0
	for tick := range ticks {
		sim.Tick()
		moveAll(ref, sim, w.N)
		want := netChange(ref.Events())
		raw += ref.EventCount()
		for k, a := range impls {
			moveAll(a, sim, w.N)
			got := netChange(a.Events())
			if !maps.Equal(got, want) {
				t.Fatalf("tick %d: prototype %d: net pair changes differ from ecsworld's (%d vs %d pairs)", tick, k, len(got), len(want))
			}
			if len(got) != a.EventCount() {
				t.Fatalf("tick %d: prototype %d: %d events for %d net changes", tick, k, a.EventCount(), len(got))
			}
			a.ResetEvents()
		}
		net += len(want)
		ref.ResetEvents()
	}
	moves := float64(ticks * w.N)
	t.Logf("W3, %d ticks: ecsworld %.3f events/move, of which net %.3f/move", ticks, float64(raw)/moves, float64(net)/moves)
}

// BenchmarkAOIVerletFew measures the cost per move when only some entities
// move in a tick (1% or 10% of them, each one step as in the workloads),
// with or without one teleport per tick (to a random place), for ours and
// both prototypes (skin 40). One op is one move (the teleport included);
// preparing a tick's moves is not timed, the moves and Update are.
func BenchmarkAOIVerletFew(b *testing.B) {
	impls := []AOIImpl{
		AOIImpls[0],
		{"global40", func() AOI { return NewVerletAOI(40) }},
		{"local40", func() AOI { return NewVerletLocalAOI(40) }},
	}
	type mv struct {
		id   int32
		x, z float32
	}
	for _, w := range []AOIWorkload{AOIWorkloads[2], AOIWorkloads[4]} {
		for _, pct := range []int{1, 10} {
			for _, tele := range []int{0, 1} {
				for _, im := range impls {
					var a AOI
					var sim *AOISim
					var rng *rand.Rand
					var tick []mv
					next := 0
					b.Run(fmt.Sprintf("%s/%dpct/teleport%d/%s", w.Name, pct, tele, im.Name), func(b *testing.B) {
						if a == nil {
							sim = NewAOISim(w, AOISeed)
							rng = rand.New(rand.NewPCG(AOISeed, 3))
							a = im.New()
							a.Init(w.Side, sim.X, sim.Z)
							a.ResetEvents()
						}
						b.ReportAllocs()
						b.ResetTimer()
						for range b.N {
							if next == len(tick) {
								b.StopTimer()
								a.ResetEvents()
								tick, next = tick[:0], 0
								for range w.N * pct / 100 {
									id := rng.Int32N(int32(w.N))
									sim.X[id] = clampSide(sim.X[id]+(rng.Float32()*2-1)*AOIStep, w.Side)
									sim.Z[id] = clampSide(sim.Z[id]+(rng.Float32()*2-1)*AOIStep, w.Side)
									tick = append(tick, mv{id, sim.X[id], sim.Z[id]})
								}
								for range tele {
									id := rng.Int32N(int32(w.N))
									sim.X[id], sim.Z[id] = rng.Float32()*w.Side, rng.Float32()*w.Side
									tick = append(tick, mv{id, sim.X[id], sim.Z[id]})
								}
								b.StartTimer()
							}
							m := tick[next]
							a.Move(m.id, m.x, m.z)
							if next++; next == len(tick) {
								a.Update()
							}
						}
						b.StopTimer()
						if next != len(tick) { // finish the tick untimed, so the next round starts clean
							for _, m := range tick[next:] {
								a.Move(m.id, m.x, m.z)
							}
							a.Update()
							next = len(tick)
						}
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/move")
					})
				}
			}
		}
	}
}

// BenchmarkAOIVerletMemory reports the live heap per entity of ours and the
// prototypes after Init and 20 ticks (run it with -benchtime 1x: one op is
// a whole build).
func BenchmarkAOIVerletMemory(b *testing.B) {
	impls := []AOIImpl{
		AOIImpls[0],
		{"global40", func() AOI { return NewVerletAOI(40) }},
		{"local20", func() AOI { return NewVerletLocalAOI(20) }},
		{"local40", func() AOI { return NewVerletLocalAOI(40) }},
		{"local60", func() AOI { return NewVerletLocalAOI(60) }},
	}
	for _, w := range AOIWorkloads {
		for _, im := range impls {
			b.Run(w.Name+"/"+im.Name, func(b *testing.B) {
				var per float64
				for range b.N {
					sim := NewAOISim(w, AOISeed)
					var before, after runtime.MemStats
					runtime.GC()
					runtime.ReadMemStats(&before)
					a := im.New()
					a.Init(w.Side, sim.X, sim.Z)
					for range 20 {
						sim.Tick()
						moveAll(a, sim, w.N)
						a.ResetEvents()
					}
					runtime.GC()
					runtime.ReadMemStats(&after)
					per = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(w.N)
					runtime.KeepAlive(a)
				}
				b.ReportMetric(per, "heap-B/entity")
			})
		}
	}
}
