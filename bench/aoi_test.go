package bench

import (
	"flag"
	"fmt"
	"maps"
	"slices"
	"testing"
)

var aoiFull = flag.Bool("aoi.full", false, "run the slow AOI benchmark rows (x/z list and brute force on W5)")

// TestAOIAgree drives small workloads into all three implementations and
// checks, tick by tick, the same net change of every pair (enters minus
// leaves) and the same neighbour sets. Raw event streams may differ: ours
// reports each pair's net change per Update only, while the others, which
// apply each move at once, also report the pairs that entered and left
// again within the tick.
func TestAOIAgree(t *testing.T) {
	workloads := []AOIWorkload{
		AOIWorkloads[0],             // W1
		{"dense", 400, 300},         // ~180 neighbours, many at the world's edge
		{"sparse", 300, 3000},       // mostly alone
		{"crowd", 200, 60},          // everyone sees everyone
		{"W1-reseeded", 1000, 1000}, // W1 with another seed
	}
	for _, w := range workloads {
		t.Run(w.Name, func(t *testing.T) {
			ticks := 6
			if testing.Short() {
				ticks = 2
			}
			sim := NewAOISim(w, AOISeed+uint64(len(w.Name)))
			var impls []AOI
			for _, im := range AOIImpls {
				a := im.New()
				a.Init(w.Side, sim.X, sim.Z)
				a.ResetEvents()
				impls = append(impls, a)
			}
			compareSets(t, w, impls, "init")
			for tick := range ticks {
				sim.Tick()
				var ref map[[2]int32]int
				for k, a := range impls {
					moveAll(a, sim, w.N)
					net := netChange(a.Events())
					a.ResetEvents()
					if k == 0 {
						ref = net
						continue
					}
					if !maps.Equal(net, ref) {
						t.Fatalf("tick %d: %s: net pair changes differ from %s's (%d vs %d pairs)", tick,
							AOIImpls[k].Name, AOIImpls[0].Name, len(net), len(ref))
					}
				}
				compareSets(t, w, impls, fmt.Sprint("tick ", tick))
			}
		})
	}
}

// netChange sums the events of a tick per pair: +1 for an enter, -1 for a
// leave, pairs that net to zero left out. Within the tick every pair must
// alternate, so each sum is -1, 0 or +1.
func netChange(evs []AOIEvent) map[[2]int32]int {
	net := map[[2]int32]int{}
	for _, e := range evs {
		k := [2]int32{e.Watcher, e.Target}
		if e.Enter {
			net[k]++
		} else {
			net[k]--
		}
		if net[k] == 0 {
			delete(net, k)
		}
	}
	return net
}

func compareSets(t *testing.T, w AOIWorkload, impls []AOI, when string) {
	t.Helper()
	var ref, got []int32
	total := 0
	for id := range int32(w.N) {
		for k, a := range impls {
			got = a.Neighbours(id, got[:0])
			slices.Sort(got)
			if k == 0 {
				ref = append(ref[:0], got...)
				total += len(ref)
				continue
			}
			if !slices.Equal(got, ref) {
				t.Fatalf("%s: entity %d: %s sees %v, %s sees %v", when, id,
					AOIImpls[k].Name, got, AOIImpls[0].Name, ref)
			}
		}
	}
	if when == "init" {
		t.Logf("%s: %.1f neighbours per entity", w.Name, float64(total)/float64(w.N))
	}
}

// aoiState keeps an implementation loaded across the b.N rounds of one
// benchmark, so the insertion runs once.
type aoiState struct {
	sim  *AOISim
	a    AOI
	next int
}

// BenchmarkAOI measures ns/move and events/move per workload and
// implementation (allocations with -benchmem). One op is one move; entities
// move in id order, a full tick after another, and advancing the simulated
// positions between ticks is not timed. The x/z list and brute force on W5
// need -aoi.full: their setup or a second of moves takes minutes.
func BenchmarkAOI(b *testing.B) {
	for _, w := range AOIWorkloads {
		for _, im := range AOIImpls {
			var st *aoiState
			b.Run(w.Name+"/"+im.Name, func(b *testing.B) {
				if w.N >= 100_000 && im.Name != "ecsworld" && !*aoiFull {
					b.Skip("slow; run with -aoi.full")
				}
				if st == nil {
					st = &aoiState{sim: NewAOISim(w, AOISeed), a: im.New()}
					st.a.Init(w.Side, st.sim.X, st.sim.Z)
					st.a.ResetEvents()
				}
				b.ReportAllocs()
				st.timeMoves(b, w.N)
			})
		}
	}
}

// timeMoves runs b.N moves of st's entities (one op a move, in id order,
// a full tick after another; advancing the simulated positions is not
// timed, each tick's Update is), reports ns/move and events/move, and
// returns the ticks completed.
func (st *aoiState) timeMoves(b *testing.B, n int) (ticks int) {
	events := 0
	b.ResetTimer()
	for range b.N {
		if st.next == 0 {
			b.StopTimer()
			st.sim.Tick()
			events += st.a.EventCount()
			st.a.ResetEvents()
			b.StartTimer()
		}
		k := st.next
		st.a.Move(int32(k), st.sim.X[k], st.sim.Z[k])
		if st.next++; st.next == n {
			st.a.Update() // the tick's deferred work is timed
			st.next = 0
			ticks++
		}
	}
	st.a.Update()
	b.StopTimer()
	events += st.a.EventCount()
	st.a.ResetEvents()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/move")
	b.ReportMetric(float64(events)/float64(b.N), "events/move")
	return ticks
}
