package ecs

import "fmt"

// Remove takes e out of the world without running any hook: no
// OnLeaveSpace/OnEntityLeave, no OnDestroy, no client hook. It is for an
// entity that lives on elsewhere (a migration to another game): the game
// runs what it wants first (such as LeaveSpace), encodes e, then removes
// it. Otherwise it is Destroy: a space membership is recorded in
// SpaceChanges, e goes on the Destroyed list (so the AOI stage tells its
// watchers it left and the timers stage drops its timers) and Destroyed
// reports true. Its client binding is kept, like Destroy's.
//
// A space with members cannot be removed (they would be left in a space
// that no longer exists): that is an ErrNotSpace error, as is e not being
// a live entity of w (ErrNoEntity).
func (w *World) Remove(e *Entity) error {
	if e == nil || e.w != w || e.destroyed || e.destroying {
		return fmt.Errorf("remove %v: %w", e, ErrNoEntity)
	}
	if n := len(e.members()); e.typ.space && n > 0 {
		return fmt.Errorf("remove %s: %w: it has %d members", e, ErrNotSpace, n)
	}
	if old := e.space; old != nil {
		e.detach()
		w.spaceChanges = append(w.spaceChanges, SpaceChange{Entity: e, From: old})
	}
	w.unlink(e)
	return nil
}
