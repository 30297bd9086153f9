package dispatcher

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ecsworld/ecsworld/netproto"
	"go.uber.org/zap"
)

// handshake reads the link's Hello and accepts or refuses it. It returns
// the registered conn, or nil after refusing (the link is then closed).
func (d *Dispatcher) handshake(link netproto.Link) *conn {
	remote := zap.Stringer("remote", link.RemoteAddr())
	typ, payload, err := link.Recv()
	if err != nil {
		d.ctr.reject(rejectNoHello)
		d.log.Info("link closed before its Hello", remote, zap.Error(err))
		link.Close()
		return nil
	}
	d.ctr.countIn(typ, len(payload))
	if typ != netproto.MsgHello {
		d.refuse(link, rejectNotHello, "the first message must be Hello, not "+typ.String(), remote)
		return nil
	}
	var h netproto.Hello
	if err := d.codec.DecodeInto(payload, &h); err != nil {
		d.refuse(link, rejectBadHello, "malformed Hello", remote, zap.Error(err))
		return nil
	}
	who := []zap.Field{remote, zap.Stringer("role", h.Role), zap.Uint16("id", h.ID)}
	// Hashing first makes the comparison constant-time in the length too.
	sum := sha256.Sum256([]byte(h.Secret))
	if subtle.ConstantTimeCompare(sum[:], d.secret[:]) != 1 {
		d.refuse(link, rejectBadSecret, "bad cluster secret", who...)
		return nil
	}
	if h.Version != 0 && h.Version != netproto.ProtocolVersion {
		d.refuse(link, rejectBadVersion, fmt.Sprintf("protocol version %d, this dispatcher speaks %d", h.Version, netproto.ProtocolVersion), who...)
		return nil
	}
	if h.Role != netproto.RoleGame && h.Role != netproto.RoleGate {
		d.refuse(link, rejectBadRole, "only games and gates connect to a dispatcher", who...)
		return nil
	}
	if h.ID == 0 {
		d.refuse(link, rejectBadID, "process id 0", who...)
		return nil
	}
	c := newConn(d, link, netproto.Peer{Role: h.Role, ID: h.ID})
	d.mu.Lock()
	var ok bool
	if h.Role == netproto.RoleGame {
		ok = d.acceptGameLocked(c, &h)
	} else {
		ok = d.acceptGateLocked(c)
	}
	d.mu.Unlock()
	if !ok {
		d.refuse(link, rejectDuplicate, fmt.Sprintf("%v %d is already connected", h.Role, h.ID), who...)
		return nil
	}
	d.ctr.accepted.Add(1)
	d.log.Info("accepted", append(who, zap.Bool("restored", h.Restored), zap.Int("types", len(h.Types)))...)
	return c
}

// refuse answers HelloReject, closes the link and counts the reason.
func (d *Dispatcher) refuse(link netproto.Link, r rejectReason, text string, fields ...zap.Field) {
	d.ctr.reject(r)
	d.log.Warn("refused a link: "+text, fields...)
	if typ, b, err := d.codec.Marshal(&netproto.HelloReject{Reason: text}); err == nil && link.Send(typ, b) == nil {
		d.ctr.countOut(typ, len(b))
		_ = link.Flush()
	}
	link.Close()
}

// acceptGameLocked registers a game's link, or reports false for a
// duplicate. A game whose id is frozen may take over with Restored set (the
// old link, if still up, is closed); it then receives its queue, in order,
// right after HelloAck.
func (d *Dispatcher) acceptGameLocked(c *conn, h *netproto.Hello) bool {
	id := h.ID
	g := d.games[id]
	if g != nil && g.conn != nil && !(h.Restored && g.frozen != nil) {
		return false
	}
	if g != nil && g.frozen != nil && !h.Restored {
		// A fresh start on a frozen id: the frozen world is gone, so is
		// everything that was waiting for it.
		d.discardFrozenLocked(g)
		d.gameGoneLocked(g)
		g = nil
	}
	var queue *heldQueue
	if g == nil {
		g = &game{id: id}
		d.games[id] = g
	} else {
		queue = g.frozen
		g.frozen = nil
		if old := g.conn; old != nil {
			d.log.Info("restored game replaces its frozen link", zap.Uint16("game", id))
			old.link.Close()
		}
	}
	g.conn = c
	d.sendMsg(c, &netproto.HelloAck{ID: d.id, Version: netproto.ProtocolVersion})
	if _, b, err := d.codec.Marshal(&netproto.TypeSchema{Game: id, Types: h.Types}); err == nil {
		g.schema = b
	} else {
		d.log.Error("cannot encode a game's type schema", zap.Uint16("game", id), zap.Error(err))
	}
	for _, gc := range d.gates {
		d.sendTo(gc, netproto.MsgTypeSchema, g.schema)
	}
	if queue != nil {
		d.ctr.restored.Add(1)
		d.log.Info("game restored: flushing its queue", zap.Uint16("game", id),
			zap.Int("msgs", queue.n), zap.Int("bytes", len(queue.frames)))
		if err := c.sendFrames(queue.frames); err != nil {
			d.ctr.drop(dropLinkFailed, queue.n)
		}
	}
	return true
}

// acceptGateLocked registers a gate's link and sends it every known type
// schema, or reports false for a duplicate.
func (d *Dispatcher) acceptGateLocked(c *conn) bool {
	if d.gates[c.peer.ID] != nil {
		return false
	}
	d.gates[c.peer.ID] = c
	d.sendMsg(c, &netproto.HelloAck{ID: d.id, Version: netproto.ProtocolVersion})
	ids := make([]uint16, 0, len(d.games))
	for id, g := range d.games {
		if g.schema != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		d.sendTo(c, netproto.MsgTypeSchema, d.games[id].schema)
	}
	return true
}

// disconnected cleans up after a link closed. A frozen game keeps its
// routes and queue; any other game is forgotten; a gate's loss is told to
// every game (GateDown).
func (d *Dispatcher) disconnected(c *conn, err error) {
	lost := c.finish()
	fields := []zap.Field{zap.Stringer("role", c.peer.Role), zap.Uint16("id", c.peer.ID)}
	if lost > 0 {
		fields = append(fields, zap.Int("unsent_frames_lost", lost))
	}
	switch {
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, netproto.ErrLinkClosed):
	case netproto.IsTimeout(err):
		fields = append(fields, zap.String("reason", "idle timeout"))
	default:
		fields = append(fields, zap.Error(err))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch c.peer.Role {
	case netproto.RoleGame:
		g := d.games[c.peer.ID]
		if g == nil || g.conn != c {
			d.log.Info("superseded link closed", fields...)
			return
		}
		g.conn = nil
		if d.stopping() {
			return
		}
		if g.frozen != nil {
			d.log.Info("frozen game disconnected; queueing its traffic until it is restored",
				append(fields, zap.Int("queued", g.frozen.n))...)
			return
		}
		d.log.Warn("game disconnected", fields...)
		d.gameGoneLocked(g)
	case netproto.RoleGate:
		if d.gates[c.peer.ID] != c {
			return
		}
		delete(d.gates, c.peer.ID)
		if d.stopping() {
			return // every link is closing: there is no one to tell
		}
		d.log.Warn("gate disconnected; telling every game", fields...)
		_, b, err := d.codec.Marshal(&netproto.GateDown{Gate: c.peer.ID})
		if err != nil {
			return
		}
		for _, id := range d.gameIDsLocked() {
			d.toGameLocked(nil, id, netproto.MsgGateDown, b, 0)
		}
	}
}

// gameIDsLocked lists the known games in id order (deterministic fan-out).
func (d *Dispatcher) gameIDsLocked() []uint16 {
	ids := make([]uint16, 0, len(d.games))
	for id := range d.games {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// gameGoneLocked forgets a game that left without freezing: its routes and
// services go, and migrations that can no longer finish are released to
// normal routing (their traffic goes where the entity's route or origin
// says, which answers or counts it): those towards the game at once; those
// from it whose MigrateData did not go through here after orphanGrace,
// unless the destination's MigrateDone comes first (the data may have left
// through the gate's dispatcher).
func (d *Dispatcher) gameGoneLocked(g *game) {
	delete(d.games, g.id)
	routes := 0
	for e, gid := range d.routes {
		if gid == g.id {
			delete(d.routes, e)
			routes++
		}
	}
	services := 0
	for name, s := range d.services {
		if s.game == g.id {
			delete(d.services, name)
			services++
		}
	}
	holds, orphans := 0, 0
	now := time.Now()
	for e, h := range d.holds {
		switch {
		case h.to == g.id:
			d.releaseHoldLocked(e, h)
			holds++
		case h.from == g.id && !h.data:
			if to := d.games[h.to]; to == nil || to.conn == nil {
				d.releaseHoldLocked(e, h)
				holds++
				continue
			}
			h.orphaned = now
			orphans++
		}
	}
	d.log.Warn("game gone: routes dropped", zap.Uint16("game", g.id), zap.Int("routes", routes),
		zap.Int("services", services), zap.Int("migrations_released", holds),
		zap.Int("migrations_awaiting_destination", orphans))
}

// releaseHoldLocked ends a migration hold that can no longer finish: what
// it held goes where the entity's route or origin says, in order.
func (d *Dispatcher) releaseHoldLocked(e uint64, h *hold) {
	delete(d.holds, e)
	h.q.each(func(typ netproto.MsgType, payload []byte) {
		d.toEntityLocked(nil, e, typ, payload)
	})
}

// discardFrozenLocked drops a frozen game's queue (the game came back
// without its world): calls in it get error replies; everything is counted
// and reported loudly.
func (d *Dispatcher) discardFrozenLocked(g *game) {
	q := g.frozen
	g.frozen = nil
	d.ctr.drop(dropQueueDiscarded, q.n)
	d.log.Error("a frozen game reconnected without Restored: its queue is discarded",
		zap.Uint16("game", g.id), zap.Int("msgs", q.n), zap.Int("bytes", len(q.frames)))
	q.each(func(typ netproto.MsgType, payload []byte) {
		d.replyUndeliverableLocked(nil, typ, payload, fmt.Sprintf("game %d restarted without its frozen world", g.id))
	})
}
