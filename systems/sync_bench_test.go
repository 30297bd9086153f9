package systems

import (
	"math/rand/v2"
	"testing"

	"github.com/ecsworld/ecsworld/ecs"
)

// BenchmarkSyncTick is one tick of 2,000 client-bound entities that all
// move, each with about 40 neighbours: the load benchmark's shape, with
// every entity moving every tick (a worst case for AOI churn). It reports
// the sync stage's share (sync-ns/tick) and the size of its output.
func BenchmarkSyncTick(b *testing.B) {
	env := newSyncEnv(b, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	const n, side = 2000, 125
	heroes := make([]*ecs.Entity, n)
	for i := range heroes {
		e, err := env.w.Create("syncHero", ecs.CreateOptions{Space: env.space,
			Pos: ecs.Vec3{X: rng.Float32() * side, Z: rng.Float32() * side}})
		if err != nil {
			b.Fatal(err)
		}
		env.bind(e, uint16(1+i%2), uint64(i+1))
		heroes[i] = e
	}
	env.tick()
	b.ReportAllocs()
	b.ResetTimer()
	var syncNS int64
	for range b.N {
		for _, e := range heroes {
			p := e.Pos()
			p.X = min(max(p.X+rng.Float32()*2-1, 0), side)
			p.Z = min(max(p.Z+rng.Float32()*2-1, 0), side)
			e.SetPos(p)
		}
		env.tick()
		for _, s := range env.sched.Stats().Systems {
			if s.Name == "sync" {
				syncNS += s.Last.Nanoseconds()
			}
		}
	}
	b.ReportMetric(float64(syncNS)/float64(b.N), "sync-ns/tick")
	out := env.sync.Output()
	recips := 0
	for _, p := range out.Positions {
		recips += len(flatten(p.To))
	}
	b.ReportMetric(float64(len(out.Frames)), "frames/tick")
	b.ReportMetric(float64(recips), "pos-recipients/tick")
}
