package gate

import (
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/netproto"
)

// RoleObserver is the ClientHello.Role of a client that only watches (the
// live map); it needs the gate's observer_token.
const RoleObserver = "observer"

// Reasons of the observer role (Stats.Refused, Stats.Disconnects and
// Stats.Dropped keys).
const (
	RefusedObserverCall     = "observer_call"  // an observer sent a ClientCall
	RefusedObserverMove     = "observer_move"  // an observer sent a ClientMove
	DisconnectObserverAbuse = "observer_abuse" // an observer kept sending calls or moves
	DroppedObserverBound    = "observer_bound" // a ClientBound for an observer (ignored)
)

// observerRefused counts a call or move from an observer, answers a call
// that has an id, and reports whether the observer has now sent enough of
// them (the move violation limit within its window) to be dropped. Reader
// goroutine only.
func (c *client) observerRefused(reason string, callID uint64, now time.Time) bool {
	c.g.stats.refused.inc(reason)
	c.log.Debug("observer refused", zap.String("reason", reason))
	if callID != 0 {
		c.send(&netproto.ClientCallReply{CallID: callID, Error: "gate: call refused: " + reason})
		c.flush()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.violStart) > moveViolationWindow {
		c.violStart, c.violations = now, 0
	}
	c.violations++
	return c.violations >= c.g.opts.moveViolations
}
