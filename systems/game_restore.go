package systems

import "github.com/ecsworld/ecsworld/ecs"

// AdoptRestored follows e, an entity restored from a freeze snapshot with
// its client binding, as if the stage had followed it all along: its
// client already holds e and everything e's AOI holds (the AOI grid was
// rebuilt silently from the same positions), so nothing is sent for it,
// neither IsPlayer nor creates. Call it after AOI.RebuildSilent and
// before the first tick, for every bound entity: the sweep would
// otherwise take them for new bindings.
func (s *Sync) AdoptRestored(e *ecs.Entity) {
	if e == nil || e.Destroyed() || !e.Client().Bound() {
		return
	}
	b := e.Client()
	if w := s.watchers[e.ID()]; w != nil {
		s.untrack(w)
	}
	w := &syncWatcher{e: e, b: b, sees: make(map[ecs.EntityID]*ecs.Entity)}
	s.watchers[e.ID()] = w
	s.byClient[b.Client] = e.ID()
	if s.opts.AOI != nil {
		for _, t := range s.opts.AOI.Neighbors(e) {
			s.see(w, t)
		}
	}
}
