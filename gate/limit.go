package gate

import (
	"math"
	"time"
)

// tokenBucket limits a client's messages per second. It starts full, so a
// client may send a burst of one second's worth at once. Not safe for
// concurrent use: the client's reader owns it.
type tokenBucket struct {
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(perSecond int, now time.Time) tokenBucket {
	r := float64(perSecond)
	return tokenBucket{rate: r, burst: r, tokens: r, last: now}
}

// take spends one token; false means the client is over its rate.
func (b *tokenBucket) take(now time.Time) bool {
	if b.rate <= 0 {
		return true
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = math.Min(b.burst, b.tokens+dt*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Speed check tuning. A client's moves are checked against a distance
// budget that refills at the speed limit: network jitter bunches moves
// together, so a per-move check on the time between arrivals would refuse
// honest clients, while a budget lets them catch up. The cap bounds how far
// a client may jump after standing still.
const (
	moveBudgetSeconds = 0.5  // budget cap, in seconds of movement at full speed
	moveSpeedSlack    = 1.1  // clock and rounding tolerance on the speed
	moveEpsilon       = 0.01 // world units: float noise never counts as a move
)

// moveCheck checks a client's moves of its own entity against a speed limit.
// Guarded by the client's mutex.
type moveCheck struct {
	limit   float64 // units per second; 0: no limit
	known   bool    // pos holds the entity's last known position
	x, y, z float64
	budget  float64 // distance the client may still cover
	last    time.Time
}

// reset forgets the position (a new entity, a new limit).
func (m *moveCheck) reset(limit float64, now time.Time) {
	*m = moveCheck{limit: limit, last: now, budget: limit * moveBudgetSeconds}
}

// place records a position the server set (teleport or correction): the
// next move is measured from there.
func (m *moveCheck) place(x, y, z float64) {
	m.known = true
	m.x, m.y, m.z = x, y, z
}

// allow reports whether a move to (x, y, z) at now is within the limit and,
// if so, makes it the last known position. The first move of an entity
// whose position the gate has not seen is accepted: it becomes the
// reference.
func (m *moveCheck) allow(x, y, z float64, now time.Time) bool {
	if m.limit <= 0 {
		m.place(x, y, z)
		return true
	}
	if dt := now.Sub(m.last).Seconds(); dt > 0 {
		m.budget = math.Min(m.limit*moveBudgetSeconds, m.budget+dt*m.limit*moveSpeedSlack)
		m.last = now
	}
	if !m.known {
		m.place(x, y, z)
		return true
	}
	dx, dy, dz := x-m.x, y-m.y, z-m.z
	d := math.Sqrt(dx*dx + dy*dy + dz*dz)
	if d <= moveEpsilon {
		return true
	}
	if d > m.budget+moveEpsilon {
		return false
	}
	m.budget -= d
	m.place(x, y, z)
	return true
}
