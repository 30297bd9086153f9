package bench

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// netCheck compares ours (a) against the reference ref (named refName) after
// an Update: the same net change of every pair, at most one event per
// direction and pair (ours reports a pair's net change per Update only), both
// directions of each, and the same neighbour sets. It resets both event
// buffers.
func netCheck(t *testing.T, n int, refName string, ref, a AOI, when string) {
	t.Helper()
	want := netChange(ref.Events())
	evs := a.Events()
	got := netChange(evs)
	if !maps.Equal(got, want) {
		t.Fatalf("%s: net pair changes differ from %s's (%d vs %d pairs)", when, refName, len(got), len(want))
	}
	if len(evs) != len(got) {
		t.Fatalf("%s: %d events for %d net changes", when, len(evs), len(got))
	}
	for k, v := range got {
		if got[[2]int32{k[1], k[0]}] != v {
			t.Fatalf("%s: pair %v changed in one direction only", when, k)
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
			t.Fatalf("%s: entity %d sees %v, %s %v", when, id, gs, refName, rs)
		}
	}
}

// TestAOIPartial checks ours against brute force, with netCheck after every
// Update, when only some entities move in a tick, some of them twice (away
// by AOIRadius and back, so the pair changes of the first move cancel), and
// some by teleports to random places, also outside the world square.
func TestAOIPartial(t *testing.T) {
	cases := []struct {
		name      string
		n         int
		side      float32
		movers    int // per tick, steps of up to 3*AOIStep per axis
		teleports int // per tick, among any entity
		twice     int // entities moved away and back in the tick
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
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(c.n)))
			x, z := make([]float32, c.n), make([]float32, c.n)
			for i := range x {
				x[i], z[i] = rng.Float32()*c.side, rng.Float32()*c.side
			}
			ref, a := NewBruteAOI(), AOIImpls[0].New()
			ref.Init(c.side, x, z)
			a.Init(c.side, x, z)
			netCheck(t, c.n, "bruteforce", ref, a, "init")
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
					both(id, x[id]+AOIRadius, z[id])
					both(id, x[id], z[id])
				}
				ref.Update()
				a.Update()
				netCheck(t, c.n, "bruteforce", ref, a, fmt.Sprint("tick ", tick))
			}
		})
	}
}

// TestAOIBig checks ours against the x/z list on W3, whose 10,000 entities
// make brute force too slow for a test: netCheck after every full tick. It
// logs the events per move.
func TestAOIBig(t *testing.T) {
	w := AOIWorkloads[2]
	ticks := 4
	if testing.Short() {
		ticks = 2
	}
	sim := NewAOISim(w, AOISeed)
	ref, a := NewXZListAOI(), AOIImpls[0].New()
	ref.Init(w.Side, sim.X, sim.Z)
	a.Init(w.Side, sim.X, sim.Z)
	ref.ResetEvents()
	a.ResetEvents()
	events := 0
	for tick := range ticks {
		sim.Tick()
		moveAll(ref, sim, w.N)
		moveAll(a, sim, w.N)
		events += a.EventCount()
		netCheck(t, w.N, "xzlist", ref, a, fmt.Sprint("tick ", tick))
	}
	t.Logf("W3, %d ticks: %.3f events/move", ticks, float64(events)/float64(ticks*w.N))
}

// BenchmarkAOIFew measures the cost per move when only some entities move in
// a tick (1% or 10% of them, each one step as in the workloads), with or
// without one teleport per tick (to a random place in the world square), on
// W3 and W5, for ours and the x/z list (on W5 only with -aoi.full: its setup
// takes minutes). One op is one move (the teleport included); preparing a
// tick's moves is not timed, the moves and the tick's Update are.
func BenchmarkAOIFew(b *testing.B) {
	impls := AOIImpls[:2]
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
						if w.N >= 100_000 && im.Name != "ecsworld" && !*aoiFull {
							b.Skip("slow; run with -aoi.full")
						}
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

// BenchmarkAOIMemory reports the live heap per entity of ours and the x/z
// list after Init and 20 ticks, per workload (the x/z list on W5 only with
// -aoi.full). Run it with -benchtime 1x: one op is a whole build.
func BenchmarkAOIMemory(b *testing.B) {
	for _, w := range AOIWorkloads {
		for _, im := range AOIImpls[:2] {
			b.Run(w.Name+"/"+im.Name, func(b *testing.B) {
				if w.N >= 100_000 && im.Name != "ecsworld" && !*aoiFull {
					b.Skip("slow; run with -aoi.full")
				}
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
