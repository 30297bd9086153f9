package dispatcher

import (
	"time"

	"github.com/ecsworld/ecsworld/netproto"
	"go.uber.org/zap"
)

// heldQueue is traffic held back in arrival order: a frozen game's queue or
// a migrating entity's hold. Frames are stored whole, back to back, so a
// flush hands the buffer to a link as it is.
type heldQueue struct {
	frames []byte
	n      int
	since  time.Time
	// The last loud report of each kind; zero: none yet.
	capAlert, timeAlert time.Time
}

func newHeldQueue(now time.Time) *heldQueue { return &heldQueue{since: now} }

func (q *heldQueue) add(typ netproto.MsgType, payload []byte) {
	q.frames = netproto.AppendFrame(q.frames, typ, payload)
	q.n++
}

// addFrames appends a buffer of n whole frames.
func (q *heldQueue) addFrames(frames []byte, n int) {
	q.frames = append(q.frames, frames...)
	q.n += n
}

// each calls fn for every frame in order.
func (q *heldQueue) each(fn func(typ netproto.MsgType, payload []byte)) {
	b := q.frames
	for len(b) > 0 {
		typ, payload, rest, err := netproto.SplitFrame(b, 1<<30)
		if err != nil {
			return
		}
		fn(typ, payload)
		b = rest
	}
}

// queueKind names a held queue in logs.
type queueKind struct {
	what   string // "frozen game" or "migration hold"
	game   uint16
	entity uint64
}

func (k queueKind) fields(q *heldQueue, now time.Time) []zap.Field {
	f := []zap.Field{zap.Uint16("game", k.game), zap.Int("msgs", q.n),
		zap.Int("bytes", len(q.frames)), zap.Duration("age", now.Sub(q.since))}
	if k.entity != 0 {
		f = append(f, zap.Uint64("entity", k.entity))
	}
	return f
}

// checkCapLocked is called after each add: the first time a queue holds
// more than the cap, and then at most once per queue timeout while it
// does, it is reported loudly. The queue is kept whatever its size:
// dropping it would silently lose calls and client input.
func (d *Dispatcher) checkCapLocked(q *heldQueue, k queueKind) {
	if d.queueMax <= 0 || q.n <= d.queueMax {
		return
	}
	now := time.Now()
	if !q.capAlert.IsZero() && now.Sub(q.capAlert) < d.queueTimeout {
		return
	}
	q.capAlert = now
	d.ctr.alertOverCap.Add(1)
	d.log.Error(k.what+" queue holds more messages than the cap; keeping it",
		append(k.fields(q, now), zap.Int("cap", d.queueMax))...)
}

// checkAgeLocked is called by the janitor: a queue kept longer than the
// queue timeout is reported loudly, and again every timeout it stays.
func (d *Dispatcher) checkAgeLocked(q *heldQueue, k queueKind, now time.Time) {
	if now.Sub(q.since) <= d.queueTimeout {
		return
	}
	if !q.timeAlert.IsZero() && now.Sub(q.timeAlert) < d.queueTimeout {
		return
	}
	q.timeAlert = now
	d.ctr.alertOverTime.Add(1)
	d.log.Error(k.what+" queue kept longer than the timeout; keeping it",
		append(k.fields(q, now), zap.Duration("timeout", d.queueTimeout))...)
}

// janitor checks the age of every held queue (and repeats cap reports)
// until ctx ends.
func (d *Dispatcher) janitor(stop <-chan struct{}) {
	t := time.NewTicker(d.checkEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			d.mu.Lock()
			for _, g := range d.games {
				if g.frozen != nil {
					k := queueKind{what: "frozen game", game: g.id}
					d.checkAgeLocked(g.frozen, k, now)
					d.checkCapLocked(g.frozen, k)
				}
			}
			for e, h := range d.holds {
				if !h.orphaned.IsZero() && now.Sub(h.orphaned) >= d.orphanGrace() {
					d.log.Warn("migration source gone and no MigrateDone from the destination: releasing the hold",
						zap.Uint64("entity", e), zap.Uint16("from", h.from), zap.Uint16("to", h.to), zap.Int("msgs", h.q.n))
					d.releaseHoldLocked(e, h)
					continue
				}
				k := queueKind{what: "migration hold", game: h.to, entity: e}
				d.checkAgeLocked(h.q, k, now)
				d.checkCapLocked(h.q, k)
			}
			d.mu.Unlock()
		}
	}
}
