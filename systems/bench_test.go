package systems

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/ecs"
)

// BenchmarkTick runs movement and AOI over spaces of mobs, a tenth of them
// moving (radius 30 in a 600×600 space: about 15 neighbours each at 2000
// per space): one op is one tick of the whole world.
func BenchmarkTick(b *testing.B) {
	for _, c := range []struct{ spaces, perSpace, workers int }{
		{1, 2000, 1}, {4, 2000, 1}, {4, 2000, 0},
	} {
		b.Run(fmt.Sprintf("spaces=%d/mobs=%d/workers=%d", c.spaces, c.perSpace, c.workers), func(b *testing.B) {
			env := newTestEnv(b, 30)
			rng := rand.New(rand.NewPCG(1, 2))
			half := float32(300)
			point := func() ecs.Vec3 { return ecs.Vec3{X: (rng.Float32()*2 - 1) * half, Z: (rng.Float32()*2 - 1) * half} }
			var mobs []*ecs.Entity
			for range c.spaces {
				s := env.space(b)
				for range c.perSpace {
					mobs = append(mobs, env.mob(b, s, point()))
				}
			}
			a := NewAOI(env.w, AOIOptions{Workers: c.workers, MinX: -half, MinZ: -half, MaxX: half, MaxZ: half})
			s := NewScheduler(env.w, Stages{Movement: NewMovement(env.w), AOI: a}, SchedulerOptions{Interval: 50 * time.Millisecond})
			for i := 0; i < len(mobs); i += 10 {
				mobs[i].SetVelocity(ecs.Vec3{X: rng.Float32()*20 - 10, Z: rng.Float32()*20 - 10})
			}
			s.AddUser(SystemFunc("bounce", func(*Tick) error {
				env.hooks = env.hooks[:0] // the test hooks' log
				for i := 0; i < len(mobs); i += 10 {
					m := mobs[i]
					if p, v := m.Pos(), m.Velocity(); (p.X > half && v.X > 0) || (p.X < -half && v.X < 0) ||
						(p.Z > half && v.Z > 0) || (p.Z < -half && v.Z < 0) {
						m.SetVelocity(v.Scale(-1))
					}
				}
				return nil
			}))
			for range 50 { // reach a steady state
				s.RunTick(time.Time{})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				s.RunTick(time.Time{})
			}
		})
	}
}
