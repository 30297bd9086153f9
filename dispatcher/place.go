package dispatcher

// defaultEntityCost is the estimated share of a tick one more entity costs
// a game that has not reported a usable load yet (no entities or no load):
// small enough that reported load dominates, large enough that placements
// on idle games alternate.
const defaultEntityCost = 1e-4

// placeLocked picks the game for a new entity (CreateEntityAnywhere or a
// client's boot entity): the least loaded live game, by its last GameLoad
// plus what this dispatcher placed on it since, estimated at the game's own
// reported cost per entity. Ties go to the game with fewer entities, then
// the lower id, so placements on equal games alternate. Frozen games are
// used only when no other game exists (their queue then holds the request
// until they are restored). nil: no game at all.
func (d *Dispatcher) placeLocked() *game {
	best := d.leastLoadedLocked(false)
	if best == nil {
		best = d.leastLoadedLocked(true)
	}
	if best != nil {
		best.placed++
		d.ctr.placed.Add(1)
	}
	return best
}

func (d *Dispatcher) leastLoadedLocked(frozen bool) *game {
	var best *game
	var bestScore float64
	for _, g := range d.games {
		if (g.frozen != nil) != frozen || (!frozen && g.conn == nil) {
			continue
		}
		s := g.score()
		if best == nil || s < bestScore || (s == bestScore && better(g, best)) {
			best, bestScore = g, s
		}
	}
	return best
}

// score is the game's estimated load after what was placed since its last
// report. A game that reports no load (idle, or not measured yet) is
// estimated from its entity count, so idle games still fill evenly.
func (g *game) score() float64 {
	load, cost := float64(g.load.Load), defaultEntityCost
	switch {
	case load > 0 && g.load.Entities > 0:
		cost = load / float64(g.load.Entities)
	case load == 0:
		load = float64(g.load.Entities) * defaultEntityCost
	}
	return load + float64(g.placed)*cost
}

// better breaks a tie between two equally loaded games.
func better(a, b *game) bool {
	na, nb := int(a.load.Entities)+a.placed, int(b.load.Entities)+b.placed
	if na != nb {
		return na < nb
	}
	return a.id < b.id
}
