package ecs

import (
	"github.com/yohamta/donburi"
)

// Entity is the engine's state of one entity (a restore allocates them in
// slabs, see World.newEntity), found from its donburi entity by index so
// queries yield it. It holds
// the hot state systems need without donburi lookups (position, movement,
// AOI slot, space membership, client binding) next to the donburi entry
// that holds the user's components.
//
// An *Entity stays a valid Go value after Destroy (Destroyed reports true,
// setters do nothing, component access returns nil), so systems holding
// one across a tick never crash; they drop it when they see it in
// World.Destroyed. Like the world, it belongs to the tick goroutine.
type Entity struct {
	// Hot state first: movement and AOI read these every tick.
	pos        Vec3
	yaw        float32
	aoiRadius  float32
	aoiHandle  int32
	memberIdx  int32 // index in space.sp.members
	moved      bool
	attrDirty  bool
	destroyed  bool
	destroying bool

	space *Entity
	mov   *motion     // nil until given a velocity or a destination
	sp    *spaceState // set for spaces (and SetSpaceData)

	mask   compMask // components e has (see compMask)
	id     EntityID
	typ    *EntityType
	w      *World
	entry  *donburi.Entry // nil once destroyed
	client ClientBinding

	// The root attribute map (Attrs) and its change log live in the
	// entity: two allocations fewer per entity.
	root  MapAttr
	track attrTracker
}

// motion is the movement state of an entity that has been given a
// velocity or a destination. Most entities never move by themselves, and
// every Entity is allocated (and, in a restore, first touched) at once:
// kept aside, it costs them a pointer instead of 32 bytes.
type motion struct {
	vel, dest Vec3
	speed     float32
	hasDest   bool
}

// spaceState is what only a space holds (a non-space holds it only if
// SetSpaceData was called on it).
type spaceState struct {
	members []*Entity // dense, unordered
	data    any
	slot    int // index in World.spaces, -1 for non-spaces
}

// spaceOf returns e's space state, making it if needed.
func (e *Entity) spaceOf() *spaceState {
	if e.sp == nil {
		e.sp = &spaceState{slot: -1}
	}
	return e.sp
}

// members returns the members of space e (nil for a non-space).
func (e *Entity) members() []*Entity {
	if e.sp == nil {
		return nil
	}
	return e.sp.members
}

// ID returns the entity's stable ID.
func (e *Entity) ID() EntityID { return e.id }

// Type returns the entity's type.
func (e *Entity) Type() *EntityType { return e.typ }

// World returns the world the entity belongs (or belonged) to.
func (e *Entity) World() *World { return e.w }

// Destroyed reports whether the entity was destroyed.
func (e *Entity) Destroyed() bool { return e.destroyed }

// IsSpace reports whether the entity is a space.
func (e *Entity) IsSpace() bool { return e.typ.space }

// Destroy is w.Destroy(e).
func (e *Entity) Destroy() { e.w.Destroy(e) }

// String returns "type:id", for logs.
func (e *Entity) String() string {
	if e == nil {
		return "<nil entity>"
	}
	return e.typ.name + ":" + e.id.String()
}

// Pos returns the position.
func (e *Entity) Pos() Vec3 { return e.pos }

// Yaw returns the heading in radians.
func (e *Entity) Yaw() float32 { return e.yaw }

// SetPos sets the position; if it changed, the entity goes on the world's
// Moved list (once per tick). Ignored on a destroyed entity.
func (e *Entity) SetPos(p Vec3) {
	if e.destroyed || p == e.pos {
		return
	}
	e.pos = p
	e.markMoved()
}

// SetYaw sets the heading; a change puts the entity on the Moved list.
func (e *Entity) SetYaw(yaw float32) {
	if e.destroyed || yaw == e.yaw {
		return
	}
	e.yaw = yaw
	e.markMoved()
}

// SetPosYaw sets both, marking the entity moved at most once.
func (e *Entity) SetPosYaw(p Vec3, yaw float32) {
	if e.destroyed || (p == e.pos && yaw == e.yaw) {
		return
	}
	e.pos, e.yaw = p, yaw
	e.markMoved()
}

func (e *Entity) markMoved() {
	if !e.moved {
		e.moved = true
		e.w.moved = append(e.w.moved, e)
	}
}

// Moved reports whether the entity is on this tick's Moved list.
func (e *Entity) Moved() bool { return e.moved }

// Velocity returns the velocity the movement system applies each tick
// (units per second).
func (e *Entity) Velocity() Vec3 {
	if e.mov == nil {
		return Vec3{}
	}
	return e.mov.vel
}

// SetVelocity sets the velocity (it is not a position change by itself).
func (e *Entity) SetVelocity(v Vec3) {
	if e.destroyed || (e.mov == nil && v == Vec3{}) {
		return
	}
	if e.mov == nil {
		e.mov = &motion{}
	}
	e.mov.vel = v
}

// Destination returns where the entity is walking to, if anywhere.
func (e *Entity) Destination() (Vec3, bool) {
	if e.mov == nil {
		return Vec3{}, false
	}
	return e.mov.dest, e.mov.hasDest
}

// MoveSpeed returns the speed given with SetDestination (units per second).
func (e *Entity) MoveSpeed() float32 {
	if e.mov == nil {
		return 0
	}
	return e.mov.speed
}

// SetDestination makes the movement system walk the entity to `to` at
// speed units per second. A speed <= 0 clears the destination.
func (e *Entity) SetDestination(to Vec3, speed float32) {
	if e.destroyed {
		return
	}
	if !(speed > 0) {
		e.ClearDestination()
		return
	}
	if e.mov == nil {
		e.mov = &motion{}
	}
	e.mov.dest, e.mov.speed, e.mov.hasDest = to, speed, true
}

// ClearDestination stops walking to a destination.
func (e *Entity) ClearDestination() {
	if e.mov != nil {
		e.mov.dest, e.mov.speed, e.mov.hasDest = Vec3{}, 0, false
	}
}

// AOIRadius returns the entity's AOI radius (its type's, unless changed).
func (e *Entity) AOIRadius() float32 { return e.aoiRadius }

// SetAOIRadius changes the AOI radius (negative counts as 0, out of AOI).
// A change puts the entity on the Moved list so the AOI system
// re-evaluates its neighbours.
func (e *Entity) SetAOIRadius(r float32) {
	if !(r > 0) {
		r = 0
	}
	if e.destroyed || r == e.aoiRadius {
		return
	}
	e.aoiRadius = r
	e.markMoved()
}

// AOIHandle returns the AOI system's handle for the entity, -1 for none.
// The AOI system owns this slot; nothing else writes it.
func (e *Entity) AOIHandle() int32 { return e.aoiHandle }

// SetAOIHandle stores the AOI system's handle (-1 for none).
func (e *Entity) SetAOIHandle(h int32) { e.aoiHandle = h }

// Client returns the client the entity is bound to (zero if none).
func (e *Entity) Client() ClientBinding { return e.client }

// SetClient binds the entity to client b (the zero value unbinds). Going
// from unbound to bound runs OnClientConnected; from bound to unbound,
// OnClientDisconnected; from one client to another, OnClientDisconnected
// then OnClientConnected. During OnClientDisconnected the entity is
// already unbound (Client is zero); during OnClientConnected it is bound
// to b. If the disconnect hook binds or destroys the entity, b is not
// applied. Ignored on a destroyed entity.
func (e *Entity) SetClient(b ClientBinding) {
	if !b.Bound() {
		b = ClientBinding{}
	}
	if e.destroyed || b == e.client {
		return
	}
	h := &e.typ.hooks
	if e.client.Bound() {
		e.client = ClientBinding{}
		h.OnClientDisconnected(e)
		if e.destroyed || e.client.Bound() {
			return
		}
	}
	if b.Bound() {
		e.client = b
		h.OnClientConnected(e)
	}
}

// Attrs returns the entity's root attribute map. Changes made anywhere
// in it are recorded (AttrChanges) and put the entity on the world's
// AttrDirty list.
func (e *Entity) Attrs() *MapAttr { return &e.root }

// AttrChanges returns the attribute changes since the last reset,
// coalesced (see AttrChange). The slice is owned by the entity and valid
// until the next reset.
func (e *Entity) AttrChanges() []AttrChange { return e.track.changes }

// ResetAttrChanges forgets the recorded attribute changes. (World.
// ResetAttrDirty does this for every dirty entity.)
func (e *Entity) ResetAttrChanges() { e.track.reset() }
