package systems

import (
	"math"

	"github.com/ecsworld/ecsworld/ecs"
)

// Movement is stage 5 of the tick: it moves entities by their velocity, or
// toward their destination at their move speed, through SetPosYaw so each
// move lands on the world's Moved list and feeds AOI and sync.
//
//   - With a destination (Entity.SetDestination): the entity walks straight
//     toward it at MoveSpeed units per second. While walking its velocity
//     is set to that direction times the speed (so sync can extrapolate);
//     on the tick it would reach or pass the destination it is put exactly
//     on it, the destination is cleared and the velocity zeroed.
//   - Otherwise, with a non-zero velocity: pos += velocity * dt.
//
// Yaw follows the direction of travel on the XZ plane: yaw = atan2(dx, dz),
// so 0 faces +Z and π/2 faces +X. A purely vertical move keeps the yaw.
//
// Cost: ecs keeps no list of moving entities, so each tick visits every
// live entity once (a donburi query over all archetypes, no allocation in
// steady state) and skips those with neither velocity nor destination:
// O(entities), a few ns each.
type Movement struct {
	world  *ecs.World
	all    *ecs.Query
	dt     float32           // this tick's, for stepFn
	stepFn func(*ecs.Entity) // m.step, bound once so Update does not allocate
}

// NewMovement returns the movement stage for w.
func NewMovement(w *ecs.World) *Movement {
	m := &Movement{world: w, all: ecs.NewQuery()}
	m.stepFn = m.step
	return m
}

// Name implements System.
func (m *Movement) Name() string { return "movement" }

// Update implements System.
func (m *Movement) Update(t *Tick) error {
	if !(t.Dt > 0) {
		return nil
	}
	m.dt = t.Dt
	m.all.Each(m.world, m.stepFn)
	return nil
}

// step moves one entity by this tick's dt.
func (m *Movement) step(e *ecs.Entity) { Step(e, m.dt) }

// Step advances e by dt seconds as the movement stage does. It is exported
// for games that move a few entities themselves (a dash, a knock-back) and
// for tests.
func Step(e *ecs.Entity, dt float32) {
	if e.IsSpace() {
		return
	}
	pos := e.Pos()
	if dest, ok := e.Destination(); ok {
		d := dest.Sub(pos)
		dist := d.Len()
		step := e.MoveSpeed() * dt
		if step >= dist || dist == 0 {
			e.SetPosYaw(dest, yawOf(d, e.Yaw()))
			e.ClearDestination()
			e.SetVelocity(ecs.Vec3{})
			return
		}
		dir := d.Scale(1 / dist)
		e.SetVelocity(dir.Scale(e.MoveSpeed()))
		e.SetPosYaw(pos.Add(dir.Scale(step)), yawOf(d, e.Yaw()))
		return
	}
	v := e.Velocity()
	if v == (ecs.Vec3{}) {
		return
	}
	e.SetPosYaw(pos.Add(v.Scale(dt)), yawOf(v, e.Yaw()))
}

// yawOf is the heading of direction d on the XZ plane, or old if d has no
// horizontal part.
func yawOf(d ecs.Vec3, old float32) float32 {
	if d.X == 0 && d.Z == 0 {
		return old
	}
	return float32(math.Atan2(float64(d.X), float64(d.Z)))
}
