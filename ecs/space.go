package ecs

import (
	"fmt"
	"slices"
)

// Space returns the space the entity is in, or nil.
func (e *Entity) Space() *Entity { return e.space }

// checkEnter says whether an entity of type t may enter space.
func (w *World) checkEnter(t *EntityType, space *Entity) error {
	switch {
	case space == nil:
		return fmt.Errorf("%w: nil space", ErrNotSpace)
	case space.w != w:
		return fmt.Errorf("enter %s: %w", space, ErrWrongWorld)
	case space.destroyed || space.destroying:
		return fmt.Errorf("enter %s: %w", space, ErrNoEntity)
	case !space.typ.space:
		return fmt.Errorf("enter %s: %w", space, ErrNotSpace)
	case t.space:
		return fmt.Errorf("%s enter %s: %w", t.name, space, ErrSpaceInSpace)
	}
	return nil
}

// EnterSpace moves e into space at pos. If e is in another space it leaves
// it first: e is removed from the old space, OnLeaveSpace runs on e and
// OnEntityLeave on the old space; then e is added to space at pos, and
// OnEnterSpace runs on e and OnEntityEnter on space. Each hook sees the
// membership it is about (e.Space() is nil during the leave hooks and
// space during the enter hooks).
//
// Entering the space e is already in just sets the position. Errors:
// ErrNoEntity (e or space destroyed), ErrNotSpace, ErrSpaceInSpace,
// ErrWrongWorld, and ErrInterrupted when a leave hook destroyed e or moved
// it into another space (the enter is then abandoned).
//
// Hooks may change membership themselves. When one does, the rest of the
// operation adapts rather than replaying stale events: a space's
// OnEntityEnter is skipped if e's OnEnterSpace already moved e on, and
// its OnEntityLeave is skipped if e's OnLeaveSpace put e back.
//
// The change is recorded in World.SpaceChanges: one change {old, space}
// for a switch, or {old, nil} then {nil, space} if anything else was
// recorded in between.
func (e *Entity) EnterSpace(space *Entity, pos Vec3) error {
	if e.destroyed || e.destroying {
		return fmt.Errorf("%s: %w", e, ErrNoEntity)
	}
	if err := e.w.checkEnter(e.typ, space); err != nil {
		return err
	}
	if e.space == space {
		e.SetPos(pos)
		return nil
	}
	w := e.w
	if old := e.space; old != nil {
		e.detach()
		w.spaceChanges = append(w.spaceChanges, SpaceChange{Entity: e, From: old})
		e.runLeaveHooks(old)
		if e.destroyed || e.destroying || e.space != nil {
			return fmt.Errorf("%s enter %s: %w", e, space, ErrInterrupted)
		}
		if space.destroyed || space.destroying {
			return fmt.Errorf("enter %s: %w", space, ErrNoEntity)
		}
	}
	e.attach(space)
	e.SetPos(pos)
	if n := len(w.spaceChanges); n > 0 && w.spaceChanges[n-1].Entity == e && w.spaceChanges[n-1].To == nil {
		w.spaceChanges[n-1].To = space // merge leave+join into a switch
	} else {
		w.spaceChanges = append(w.spaceChanges, SpaceChange{Entity: e, To: space})
	}
	e.typ.hooks.OnEnterSpace(e, space)
	if e.space == space { // the hook did not move e on
		space.typ.hooks.OnEntityEnter(space, e)
	}
	return nil
}

// runLeaveHooks runs the hooks of e having left old; the space's hook is
// skipped if e's hook put e back into old.
func (e *Entity) runLeaveHooks(old *Entity) {
	e.typ.hooks.OnLeaveSpace(e, old)
	if e.space != old {
		old.typ.hooks.OnEntityLeave(old, e)
	}
}

// LeaveSpace takes e out of its space (if any): e is removed from the
// space's members, the change is recorded, then OnLeaveSpace runs on e
// and OnEntityLeave on the space.
func (e *Entity) LeaveSpace() {
	old := e.space
	if old == nil {
		return
	}
	e.detach()
	e.w.spaceChanges = append(e.w.spaceChanges, SpaceChange{Entity: e, From: old})
	e.runLeaveHooks(old)
}

func (e *Entity) attach(space *Entity) {
	e.space = space
	sp := space.spaceOf()
	if n := len(sp.members); n == cap(sp.members) && n >= 256 {
		// Double, where append would grow a long list by a quarter and
		// copy it (into fresh memory) four times as often: a restore
		// fills spaces of thousands at once.
		sp.members = slices.Grow(sp.members, n)
	}
	e.memberIdx = int32(len(sp.members))
	sp.members = append(sp.members, e)
}

// detach removes e from its space's members in O(1): the last member takes
// e's slot.
func (e *Entity) detach() {
	s := e.space.sp
	i := e.memberIdx
	last := len(s.members) - 1
	if int(i) != last {
		m := s.members[last]
		s.members[i] = m
		m.memberIdx = i
	}
	s.members[last] = nil
	s.members = s.members[:last]
	e.space = nil
	e.memberIdx = -1
}

// Members returns the entities in space e, in no particular order (removal
// swaps the last member into the removed one's place). The slice is owned
// by the space: do not modify or keep it; it changes with membership. Nil
// for non-spaces.
func (e *Entity) Members() []*Entity { return e.members() }

// NumMembers returns the number of entities in space e.
func (e *Entity) NumMembers() int { return len(e.members()) }

// EachMember calls fn for each entity in space e until fn returns false.
// It walks the members from the last to the first, so fn may make the
// member it is given leave (or destroy it) without another member being
// skipped or visited twice. Other membership changes made by fn leave the
// rest of the walk in an unspecified (but memory-safe) order.
func (e *Entity) EachMember(fn func(m *Entity) bool) {
	for i := len(e.members()) - 1; i >= 0; i-- {
		ms := e.members()
		if i >= len(ms) {
			i = len(ms)
			continue
		}
		if !fn(ms[i]) {
			return
		}
	}
}

// SpaceData returns the opaque value a system stored on space e (the AOI
// system keeps its grid here), or nil.
func (e *Entity) SpaceData() any {
	if e.sp == nil {
		return nil
	}
	return e.sp.data
}

// SetSpaceData stores an opaque value on space e for a system. It is
// never saved in snapshots: systems rebuild it after a restore.
func (e *Entity) SetSpaceData(v any) {
	if e.sp == nil && v == nil {
		return
	}
	e.spaceOf().data = v
}
