package game

import (
	"fmt"

	"go.uber.org/zap"
)

// ownRequests counts this game's requests still waiting for an answer:
// calls to entities of other games, service lookups and registrations. A
// freeze waits for them (the dispatchers let their answers through), so
// that their callbacks run in this process rather than being lost with it.
func (g *Game) ownRequests() int {
	n := len(g.pending) + len(g.lookups)
	for _, ws := range g.registering {
		n += len(ws)
	}
	return n
}

// failPendingCalls answers every call still waiting for its reply with
// ErrFreezing, just before the snapshot: the caller learns that the outcome
// is unknown, as on a timeout, instead of never hearing back. (A reply that
// comes later reaches the restored process, which drops and counts it.)
// Lookups and registrations still waiting are left: the dispatchers keep
// their outcome, and a later lookup finds it.
func (g *Game) failPendingCalls() {
	if len(g.pending) == 0 {
		return
	}
	g.log.Warn("freeze: calls without a reply fail with ErrFreezing", zap.Int("calls", len(g.pending)))
	for id, p := range g.pending {
		delete(g.pending, id)
		if p.cb != nil {
			p.cb(fmt.Errorf("%w: call %d had no reply before the snapshot", ErrFreezing, id))
		}
	}
}
