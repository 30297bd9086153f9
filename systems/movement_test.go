package systems

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/ecs"
)

func near(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-4 }

func nearVec(a, b ecs.Vec3) bool { return near(a.X, b.X) && near(a.Y, b.Y) && near(a.Z, b.Z) }

func TestMovementVelocity(t *testing.T) {
	tests := []struct {
		name    string
		vel     ecs.Vec3
		ticks   int
		wantPos ecs.Vec3
		wantYaw float32
	}{
		{"+z", ecs.Vec3{Z: 2}, 10, ecs.Vec3{Z: 2}, 0},
		{"+x", ecs.Vec3{X: 4}, 5, ecs.Vec3{X: 2}, math.Pi / 2},
		{"-z", ecs.Vec3{Z: -1}, 10, ecs.Vec3{Z: -1}, math.Pi},
		{"diagonal -x", ecs.Vec3{X: -3, Z: 3}, 10, ecs.Vec3{X: -3, Z: 3}, -math.Pi / 4},
		{"vertical keeps yaw", ecs.Vec3{Y: 1}, 10, ecs.Vec3{Y: 1}, 0.5},
		{"still", ecs.Vec3{}, 10, ecs.Vec3{}, 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, 0)
			e := env.mob(t, nil, ecs.Vec3{})
			e.SetYaw(0.5)
			env.w.ResetTick()
			e.SetVelocity(tc.vel)
			m := NewMovement(env.w)
			for range tc.ticks {
				if err := m.Update(&Tick{World: env.w, Dt: 0.1}); err != nil {
					t.Fatal(err)
				}
			}
			if !nearVec(e.Pos(), tc.wantPos) || !near(e.Yaw(), tc.wantYaw) {
				t.Fatalf("pos %v yaw %v, want %v %v", e.Pos(), e.Yaw(), tc.wantPos, tc.wantYaw)
			}
			moved := slices.Contains(env.w.Moved(), e)
			if want := tc.vel != (ecs.Vec3{}); moved != want {
				t.Fatalf("on Moved list: %v, want %v", moved, want)
			}
			if e.Velocity() != tc.vel {
				t.Fatalf("velocity changed to %v", e.Velocity())
			}
		})
	}
}

func TestMovementDestination(t *testing.T) {
	env := newTestEnv(t, 0)
	e := env.mob(t, nil, ecs.Vec3{X: 1, Z: 1})
	dest := ecs.Vec3{X: 4, Z: 5} // 5 units away along (0.6, 0.8)
	e.SetDestination(dest, 2)    // 0.2 per tick of 0.1 s: 25 ticks
	s := NewScheduler(env.w, Stages{Movement: NewMovement(env.w)}, SchedulerOptions{Interval: 100 * time.Millisecond})
	wantYaw := float32(math.Atan2(3, 4))
	for i := 1; i <= 24; i++ {
		s.RunTick(time.Now())
		if _, ok := e.Destination(); !ok {
			t.Fatalf("arrived early at tick %d: %v", i, e.Pos())
		}
		want := ecs.Vec3{X: 1 + 0.12*float32(i), Z: 1 + 0.16*float32(i)}
		if !nearVec(e.Pos(), want) || !near(e.Yaw(), wantYaw) {
			t.Fatalf("tick %d: pos %v yaw %v, want %v %v", i, e.Pos(), e.Yaw(), want, wantYaw)
		}
		if v := e.Velocity(); !nearVec(v, ecs.Vec3{X: 1.2, Z: 1.6}) {
			t.Fatalf("tick %d: walking velocity %v", i, v)
		}
	}
	s.RunTick(time.Now()) // 25th tick: would reach or pass it
	if e.Pos() != dest {
		t.Fatalf("arrival at %v, want exactly %v", e.Pos(), dest)
	}
	if _, ok := e.Destination(); ok || e.Velocity() != (ecs.Vec3{}) {
		t.Fatalf("after arrival: destination set %v, velocity %v", ok, e.Velocity())
	}
	s.RunTick(time.Now())
	if e.Pos() != dest || !near(e.Yaw(), wantYaw) {
		t.Fatalf("moved after arrival: %v yaw %v", e.Pos(), e.Yaw())
	}

	// Overshooting in one big step lands exactly too; a destination on the
	// spot arrives at once and keeps the yaw.
	e.SetDestination(ecs.Vec3{X: 4, Z: -5}, 1000)
	Step(e, 1)
	if e.Pos() != (ecs.Vec3{X: 4, Z: -5}) || !near(e.Yaw(), math.Pi) {
		t.Fatalf("overshoot: %v yaw %v", e.Pos(), e.Yaw())
	}
	e.SetDestination(e.Pos(), 1)
	Step(e, 0.1)
	if _, ok := e.Destination(); ok || !near(e.Yaw(), math.Pi) {
		t.Fatalf("zero-length walk: destination %v yaw %v", ok, e.Yaw())
	}
}

func TestMovementSkipsZeroDt(t *testing.T) {
	env := newTestEnv(t, 0)
	e := env.mob(t, nil, ecs.Vec3{})
	e.SetVelocity(ecs.Vec3{X: 1})
	if err := NewMovement(env.w).Update(&Tick{World: env.w}); err != nil {
		t.Fatal(err)
	}
	if e.Pos() != (ecs.Vec3{}) {
		t.Fatalf("moved with dt 0: %v", e.Pos())
	}
}

// TestMovementFeedsAOI: a move made by the movement stage is seen by the
// AOI stage of the same tick, both for velocity and for a destination.
func TestMovementFeedsAOI(t *testing.T) {
	env := newTestEnv(t, 10)
	space := env.space(t)
	a := env.mob(t, space, ecs.Vec3{})
	b := env.mob(t, space, ecs.Vec3{X: 30})
	aoiStage := NewAOI(env.w, AOIOptions{})
	s := NewScheduler(env.w, Stages{Movement: NewMovement(env.w), AOI: aoiStage},
		SchedulerOptions{Interval: time.Second})
	s.RunTick(time.Now())
	if n := len(aoiStage.Events()); n != 0 {
		t.Fatalf("%d events while 30 apart", n)
	}
	b.SetVelocity(ecs.Vec3{X: -25}) // x 30 → 5 in one tick of 1 s
	s.RunTick(time.Now())
	if got := ids(aoiStage.Neighbors(a)); !slices.Equal(got, []ecs.EntityID{b.ID()}) || len(aoiStage.Events()) != 2 {
		t.Fatalf("after b ran into range: a sees %v, events %v", got, aoiStage.Events())
	}
	b.SetVelocity(ecs.Vec3{})
	b.SetDestination(ecs.Vec3{X: 40}, 35) // arrives in one tick
	s.RunTick(time.Now())
	if b.Pos() != (ecs.Vec3{X: 40}) || len(aoiStage.Neighbors(a)) != 0 || len(aoiStage.Events()) != 2 {
		t.Fatalf("after b walked away: pos %v, a sees %v, events %v", b.Pos(), aoiStage.Neighbors(a), aoiStage.Events())
	}
}
