package dispatcher

import (
	"errors"
	"fmt"
	"time"

	"github.com/ecsworld/ecsworld/netproto"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// allowedFrom reports whether a peer of role may send typ to a dispatcher.
// Gates speak for their clients only; everything else is a game's.
func allowedFrom(role netproto.Role, typ netproto.MsgType) bool {
	switch typ {
	case netproto.MsgHeartbeat, netproto.MsgCallEntity:
		return true
	case netproto.MsgClientConnected, netproto.MsgClientDisconnected, netproto.MsgSyncFromClient:
		return role == netproto.RoleGate
	case netproto.MsgCreateEntityAnywhere, netproto.MsgCreateEntityOnGame,
		netproto.MsgEntityCreated, netproto.MsgEntityDestroyed, netproto.MsgCallReply,
		netproto.MsgClientBound, netproto.MsgKickClient, netproto.MsgGateBatch,
		netproto.MsgServiceRegister, netproto.MsgServiceLookup,
		netproto.MsgMigrateRequest, netproto.MsgMigrateData, netproto.MsgMigrateDone,
		netproto.MsgFreezeRequest, netproto.MsgFreezeResume, netproto.MsgGameLoad:
		return role == netproto.RoleGame
	}
	return false
}

// handle routes one message from c. The routing keys are decoded before
// taking the lock; the decision and the queueing happen under it.
func (d *Dispatcher) handle(c *conn, typ netproto.MsgType, payload []byte) {
	if typ == netproto.MsgHeartbeat {
		return
	}
	if !allowedFrom(c.peer.Role, typ) {
		r := dropBadRole
		if !typ.Known() {
			r = dropUnknownType
		}
		d.ctr.drop(r, 1)
		d.samp.Log(zapcore.WarnLevel, "from:"+r.String(), "message refused",
			zap.String("reason", r.String()), zap.Stringer("type", typ), zap.Stringer("from", c))
		return
	}
	switch typ {
	case netproto.MsgServiceRegister, netproto.MsgServiceLookup, netproto.MsgMigrateRequest,
		netproto.MsgGameLoad:
		m, err := d.codec.Decode(typ, payload)
		if err != nil {
			d.badMessage(c, typ, err)
			return
		}
		d.mu.Lock()
		d.handleWholeLocked(c, m)
		d.mu.Unlock()
		return
	}
	h, err := decodeHead(d.codec, typ, payload)
	if err != nil {
		d.badMessage(c, typ, err)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch typ {
	case netproto.MsgCallEntity:
		if c.peer.Role == netproto.RoleGate && (h.Caller.Kind != netproto.CallerClient || h.Caller.Gate != c.peer.ID) {
			d.failLocked(c, dropBadSender, typ, payload, h.Entity, 0,
				fmt.Sprintf("a gate may only call for its own clients (caller kind %d, gate %d)", h.Caller.Kind, h.Caller.Gate))
			return
		}
		if !d.ownShard(h.Entity) {
			d.wrongShardLocked(c, typ, h.Entity)
		}
		d.toEntityLocked(c, h.Entity, typ, payload)

	case netproto.MsgCallReply:
		d.toPeerLocked(c, h.To, typ, payload)

	case netproto.MsgEntityCreated:
		d.checkGameField(c, typ, h.Game)
		if !d.ownShard(h.Entity) {
			d.wrongShardLocked(c, typ, h.Entity)
			d.ctr.drop(dropWrongShard, 1)
			return
		}
		d.routes[h.Entity] = c.peer.ID

	case netproto.MsgEntityDestroyed:
		d.checkGameField(c, typ, h.Game)
		if !d.ownShard(h.Entity) {
			d.wrongShardLocked(c, typ, h.Entity)
			d.ctr.drop(dropWrongShard, 1)
			return
		}
		// Only the game the route points to may remove it: a late destroy
		// from a migration's source must not unroute the entity.
		if gid, ok := d.routes[h.Entity]; ok && gid == c.peer.ID {
			delete(d.routes, h.Entity)
		}
		for name, s := range d.services {
			if s.entity == h.Entity {
				delete(d.services, name)
			}
		}

	case netproto.MsgCreateEntityAnywhere:
		g := d.placeLocked()
		if g == nil {
			d.failLocked(c, dropNoGame, typ, payload, 0, 0, "no game to place an entity on")
			return
		}
		d.toGameLocked(c, g.id, typ, payload, 0)

	case netproto.MsgCreateEntityOnGame:
		d.toGameLocked(c, h.Game, typ, payload, 0)

	case netproto.MsgClientConnected:
		if h.Gate != c.peer.ID {
			d.failLocked(c, dropBadSender, typ, payload, 0, 0, fmt.Sprintf("ClientConnected for gate %d", h.Gate))
			return
		}
		g := d.placeLocked()
		if g == nil {
			d.failLocked(c, dropNoGame, typ, payload, 0, 0, "no game for a new client")
			d.kickLocked(c, h.Client, "no game available")
			return
		}
		d.toGameLocked(c, g.id, typ, payload, 0)

	case netproto.MsgClientDisconnected:
		if h.Gate != c.peer.ID {
			d.failLocked(c, dropBadSender, typ, payload, 0, 0, fmt.Sprintf("ClientDisconnected for gate %d", h.Gate))
			return
		}
		if h.Entity == 0 {
			// No entity yet: the game that is creating the boot entity is
			// unknown here, so every game hears it (the others ignore it).
			for _, id := range d.gameIDsLocked() {
				d.toGameLocked(c, id, typ, payload, 0)
			}
			return
		}
		d.toEntityLocked(c, h.Entity, typ, payload)

	case netproto.MsgSyncFromClient:
		d.toEntityLocked(c, h.Entity, typ, payload)

	case netproto.MsgGateBatch, netproto.MsgClientBound, netproto.MsgKickClient:
		d.toPeerLocked(c, netproto.Peer{Role: netproto.RoleGate, ID: h.Gate}, typ, payload)

	case netproto.MsgMigrateData:
		if d.toGameLocked(c, h.Game, typ, payload, h.Entity) {
			if hd := d.holds[h.Entity]; hd != nil {
				hd.data = true
			}
		}

	case netproto.MsgMigrateDone:
		d.checkGameField(c, typ, h.Game)
		d.migrateDoneLocked(c, h.Entity)

	case netproto.MsgFreezeRequest:
		if h.Game != 0 && h.Game != c.peer.ID {
			d.failLocked(c, dropBadSender, typ, payload, 0, 0, fmt.Sprintf("a game may only freeze itself, not game %d", h.Game))
			return
		}
		d.freezeLocked(c)

	case netproto.MsgFreezeResume:
		if h.Game != 0 && h.Game != c.peer.ID {
			d.failLocked(c, dropBadSender, typ, payload, 0, 0, fmt.Sprintf("a game may only resume itself, not game %d", h.Game))
			return
		}
		d.resumeLocked(c)
	}
}

// handleWholeLocked handles the messages the dispatcher consumes itself.
func (d *Dispatcher) handleWholeLocked(c *conn, m netproto.Message) {
	switch m := m.(type) {
	case *netproto.ServiceRegister:
		d.serviceRegisterLocked(c, m)
	case *netproto.ServiceLookup:
		d.serviceLookupLocked(c, m)
	case *netproto.MigrateRequest:
		d.migrateRequestLocked(c, m)
	case *netproto.GameLoad:
		if m.Game != 0 && m.Game != c.peer.ID {
			d.badSenderLocked(c, m.MsgType(), fmt.Sprintf("GameLoad for game %d", m.Game))
			return
		}
		if g := d.games[c.peer.ID]; g != nil && g.conn == c {
			g.load = *m
			g.load.Load = max(g.load.Load, 0)
			g.placed = 0
		}
	}
}

// badMessage counts and logs (sampled) a payload that does not decode. The
// link stays up: the peer is authenticated, and one bad message from a
// buggy peer should not cut every entity it routes.
func (d *Dispatcher) badMessage(c *conn, typ netproto.MsgType, err error) {
	d.ctr.drop(dropBadMessage, 1)
	d.samp.Log(zapcore.WarnLevel, "bad:"+typ.String(), "malformed message dropped",
		zap.Stringer("type", typ), zap.Stringer("from", c), zap.Error(err))
}

func (d *Dispatcher) badSenderLocked(c *conn, typ netproto.MsgType, text string) {
	d.ctr.drop(dropBadSender, 1)
	d.samp.Log(zapcore.WarnLevel, "sender:"+typ.String(), "message refused: "+text,
		zap.Stringer("type", typ), zap.Stringer("from", c))
}

// checkGameField logs a message whose Game field names another game than
// its sender's link. The link is authoritative: the sender is the game that
// holds the entity.
func (d *Dispatcher) checkGameField(c *conn, typ netproto.MsgType, g uint16) {
	if g != 0 && g != c.peer.ID {
		d.samp.Log(zapcore.WarnLevel, "gamefield:"+typ.String(), "message names another game than its sender; using the sender",
			zap.Stringer("type", typ), zap.Stringer("from", c), zap.Uint16("game_field", g))
	}
}

// wrongShardLocked logs (sampled) traffic about an entity of another
// dispatcher's shard: a peer with another idea of the dispatcher list.
func (d *Dispatcher) wrongShardLocked(c *conn, typ netproto.MsgType, e uint64) {
	d.ctr.wrongShard.Add(1)
	d.samp.Log(zapcore.WarnLevel, "shard:"+typ.String(), "message for another dispatcher's shard",
		zap.Stringer("type", typ), zap.Stringer("from", c), zap.Uint64("entity", e),
		zap.Int("its_shard", netproto.Shard(e, d.shards)), zap.Int("shard", d.shard), zap.Int("shards", d.shards))
}

// toEntityLocked delivers traffic for entity e: into its migration hold,
// else to the game its route names, else to its origin game (a brand-new
// entity's first call may overtake its EntityCreated). sender is the link
// it came from (nil for held traffic being released).
func (d *Dispatcher) toEntityLocked(sender *conn, e uint64, typ netproto.MsgType, payload []byte) {
	if h := d.holds[e]; h != nil {
		h.q.add(typ, payload)
		d.checkCapLocked(h.q, queueKind{what: "migration hold", game: h.to, entity: e})
		return
	}
	gid, ok := d.routes[e]
	if !ok {
		gid = netproto.Origin(e)
	}
	d.toGameLocked(sender, gid, typ, payload, e)
}

// toGameLocked delivers to game id: queued while it is frozen, sent when it
// is connected, otherwise undeliverable. It reports whether the message was
// sent or queued. entity names the target entity in error texts (0: none).
func (d *Dispatcher) toGameLocked(sender *conn, id uint16, typ netproto.MsgType, payload []byte, entity uint64) bool {
	g := d.games[id]
	switch {
	case g == nil, g.conn == nil && g.frozen == nil:
		// Unknown, or its link just closed while the dispatcher stops
		// (a stopping dispatcher keeps the entry but not the link).
		d.failLocked(sender, dropUnknownGame, typ, payload, entity, id, "")
		return false
	case g.frozen != nil && (g.conn == nil || !answersGame(typ)):
		g.frozen.add(typ, payload)
		d.checkCapLocked(g.frozen, queueKind{what: "frozen game", game: id})
		return true
	}
	if r, ok := d.sendTo(g.conn, typ, payload); !ok {
		d.failLocked(sender, r, typ, payload, entity, id, "")
		return false
	}
	return true
}

// answersGame reports whether typ answers a request the game itself made
// (its calls, service lookups and registrations). These still reach a
// freezing game while its link is up, so that it can finish them before it
// writes its snapshot rather than leave their callbacks waiting in a
// process that is about to exit.
func answersGame(typ netproto.MsgType) bool {
	switch typ {
	case netproto.MsgCallReply, netproto.MsgServiceLookupReply, netproto.MsgServiceRegistered:
		return true
	}
	return false
}

// toPeerLocked delivers to a game (see toGameLocked) or a gate.
func (d *Dispatcher) toPeerLocked(sender *conn, p netproto.Peer, typ netproto.MsgType, payload []byte) bool {
	switch p.Role {
	case netproto.RoleGame:
		return d.toGameLocked(sender, p.ID, typ, payload, 0)
	case netproto.RoleGate:
		gc := d.gates[p.ID]
		if gc == nil {
			d.failLocked(sender, dropUnknownGate, typ, payload, 0, 0, fmt.Sprintf("gate %d is not connected", p.ID))
			return false
		}
		if r, ok := d.sendTo(gc, typ, payload); !ok {
			d.failLocked(sender, r, typ, payload, 0, 0, fmt.Sprintf("gate %d link failed", p.ID))
			return false
		}
		return true
	}
	d.failLocked(sender, dropBadMessage, typ, payload, 0, 0, fmt.Sprintf("no such destination role %d", p.Role))
	return false
}

// sendTo queues a frame on c and maps a failure to its drop reason.
func (d *Dispatcher) sendTo(c *conn, typ netproto.MsgType, payload []byte) (dropReason, bool) {
	err := c.send(typ, payload)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, errSlowConsumer):
		return dropSlowConsumer, false
	}
	return dropLinkFailed, false
}

// sendMsg encodes and queues a message the dispatcher itself originates.
func (d *Dispatcher) sendMsg(c *conn, m netproto.Message) bool {
	typ, b, err := d.codec.Marshal(m)
	if err != nil {
		d.log.Error("cannot encode a message", zap.Stringer("type", m.MsgType()), zap.Error(err))
		return false
	}
	if r, ok := d.sendTo(c, typ, b); !ok {
		d.ctr.drop(r, 1)
		return false
	}
	return true
}

// failLocked counts an undeliverable message, logs it (sampled) and answers
// a call that wanted a reply with CallReply{Error}. game is the unreachable
// game (0: see text).
func (d *Dispatcher) failLocked(sender *conn, r dropReason, typ netproto.MsgType, payload []byte, entity uint64, game uint16, text string) {
	d.ctr.drop(r, 1)
	if text == "" {
		switch {
		case entity != 0:
			text = fmt.Sprintf("entity %d unreachable: game %d %s", entity, game, r.describe())
		default:
			text = fmt.Sprintf("game %d %s", game, r.describe())
		}
	}
	fields := []zap.Field{zap.String("reason", r.String()), zap.Stringer("type", typ), zap.String("detail", text)}
	if sender != nil {
		fields = append(fields, zap.Stringer("from", sender))
	}
	d.samp.Log(zapcore.WarnLevel, "drop:"+r.String(), "undeliverable message", fields...)
	d.replyUndeliverableLocked(sender, typ, payload, text)
}

// describe says what a drop reason means for the destination, for error
// replies.
func (r dropReason) describe() string {
	switch r {
	case dropUnknownGame:
		return "is not connected"
	case dropLinkFailed:
		return "link failed"
	case dropSlowConsumer:
		return "does not keep up"
	}
	return r.String()
}

// replyUndeliverableLocked answers an undeliverable CallEntity that wanted
// a reply. The reply goes to the link the call came in on (the caller's
// process) or, for held traffic, to the process the call's Caller names.
func (d *Dispatcher) replyUndeliverableLocked(sender *conn, typ netproto.MsgType, payload []byte, text string) {
	if typ != netproto.MsgCallEntity {
		return
	}
	h, err := decodeHead(d.codec, typ, payload)
	if err != nil || h.CallID == 0 {
		return
	}
	reply := netproto.CallReply{CallID: h.CallID, Error: "dispatcher: " + text}
	switch {
	case sender != nil:
		reply.To = sender.peer
	case h.Caller.Kind == netproto.CallerClient:
		reply.To = netproto.Peer{Role: netproto.RoleGate, ID: h.Caller.Gate}
	case h.Caller.Game != 0:
		reply.To = netproto.Peer{Role: netproto.RoleGame, ID: h.Caller.Game}
	default:
		reply.To = netproto.Peer{Role: netproto.RoleGame, ID: netproto.Origin(h.Caller.Entity)}
	}
	if reply.To.Role == netproto.RoleGate {
		reply.Client = h.Caller.Client
	}
	_, b, err := d.codec.Marshal(&reply)
	if err != nil {
		return
	}
	// The reply itself is a CallReply: if it cannot be delivered either,
	// it is counted and there is no further reply.
	if d.toPeerLocked(nil, reply.To, netproto.MsgCallReply, b) {
		d.ctr.errorReplies.Add(1)
	}
}

// kickLocked asks gate c to disconnect a client the cluster cannot serve.
func (d *Dispatcher) kickLocked(c *conn, client uint64, reason string) {
	d.sendMsg(c, &netproto.KickClient{Gate: c.peer.ID, Client: client, Reason: reason})
}

// ---- services ----

func (d *Dispatcher) serviceRegisterLocked(c *conn, m *netproto.ServiceRegister) {
	if m.Name == "" || len(m.Name) > maxServiceName || m.Entity == 0 {
		d.ctr.drop(dropBadMessage, 1)
		d.samp.Log(zapcore.WarnLevel, "service:bad", "bad ServiceRegister", zap.Stringer("from", c),
			zap.Int("name_len", len(m.Name)), zap.Uint64("entity", m.Entity))
		return
	}
	d.checkServiceShard(c, m.Name, m.MsgType())
	s, ok := d.services[m.Name]
	if !ok {
		s = service{entity: m.Entity, game: c.peer.ID}
		d.services[m.Name] = s
		d.log.Info("service registered", zap.String("name", m.Name), zap.Uint64("entity", m.Entity),
			zap.Uint16("game", c.peer.ID))
	}
	d.replyLocked(c, &netproto.ServiceRegistered{Name: m.Name, Entity: s.entity, Won: s.entity == m.Entity})
}

func (d *Dispatcher) serviceLookupLocked(c *conn, m *netproto.ServiceLookup) {
	d.checkServiceShard(c, m.Name, m.MsgType())
	d.replyLocked(c, &netproto.ServiceLookupReply{Name: m.Name, CallID: m.CallID, Entity: d.services[m.Name].entity})
}

// checkServiceShard logs a service message that reached the wrong shard. It
// is still served (the peer is waiting for an answer), but first-writer-wins
// only holds cluster-wide when every game agrees on the shard.
func (d *Dispatcher) checkServiceShard(c *conn, name string, typ netproto.MsgType) {
	if netproto.ShardString(name, d.shards) != d.shard {
		d.ctr.wrongShard.Add(1)
		d.samp.Log(zapcore.WarnLevel, "shard:"+typ.String(), "service message for another dispatcher's shard",
			zap.Stringer("from", c), zap.String("name", name), zap.Int("shard", d.shard), zap.Int("shards", d.shards))
	}
}

// replyLocked answers the game on link c (queued if it is frozen).
func (d *Dispatcher) replyLocked(c *conn, m netproto.Message) {
	typ, b, err := d.codec.Marshal(m)
	if err != nil {
		d.log.Error("cannot encode a reply", zap.Stringer("type", m.MsgType()), zap.Error(err))
		return
	}
	d.toGameLocked(nil, c.peer.ID, typ, b, 0)
}

// ---- migration ----

// migrateRequestLocked starts holding the entity's traffic and answers
// MigrateHold. A repeated request (a retry) is answered again.
func (d *Dispatcher) migrateRequestLocked(c *conn, m *netproto.MigrateRequest) {
	if m.Entity == 0 || m.To == 0 {
		d.ctr.drop(dropBadMessage, 1)
		d.samp.Log(zapcore.WarnLevel, "migrate:bad", "bad MigrateRequest", zap.Stringer("from", c),
			zap.Uint64("entity", m.Entity), zap.Uint16("to", m.To))
		return
	}
	if !d.ownShard(m.Entity) {
		d.wrongShardLocked(c, m.MsgType(), m.Entity)
	}
	if d.holds[m.Entity] == nil {
		d.holds[m.Entity] = &hold{from: c.peer.ID, to: m.To, q: newHeldQueue(time.Now())}
	}
	d.replyLocked(c, &netproto.MigrateHold{Entity: m.Entity})
}

// migrateDoneLocked points the entity to the game that reports it (c) and
// flushes what was held, in order, before anything that arrives later.
func (d *Dispatcher) migrateDoneLocked(c *conn, e uint64) {
	if d.ownShard(e) {
		d.routes[e] = c.peer.ID
	} else {
		d.wrongShardLocked(c, netproto.MsgMigrateDone, e)
	}
	h := d.holds[e]
	if h == nil {
		return
	}
	delete(d.holds, e)
	if h.to != c.peer.ID {
		// The source itself ends a migration it aborted.
		d.log.Info("migration ended on another game than requested", zap.Uint64("entity", e),
			zap.Uint16("requested", h.to), zap.Uint16("done_by", c.peer.ID))
	}
	g := d.games[c.peer.ID]
	switch {
	case h.q.n == 0:
	case g != nil && g.frozen != nil:
		g.frozen.addFrames(h.q.frames, h.q.n)
		d.checkCapLocked(g.frozen, queueKind{what: "frozen game", game: g.id})
	case g != nil && g.conn != nil:
		if err := g.conn.sendFrames(h.q.frames); err != nil {
			d.ctr.drop(dropLinkFailed, h.q.n)
		}
	default:
		h.q.each(func(typ netproto.MsgType, payload []byte) {
			d.toGameLocked(nil, c.peer.ID, typ, payload, e)
		})
	}
}

// ---- freeze ----

// freezeLocked starts queueing everything addressed to c's game and
// acknowledges on c directly: the ack follows everything already sent, so
// the game knows nothing more will reach it before it is restored.
func (d *Dispatcher) freezeLocked(c *conn) {
	g := d.games[c.peer.ID]
	if g == nil || g.conn != c {
		return
	}
	if g.frozen == nil {
		g.frozen = newHeldQueue(time.Now())
		d.log.Info("game freezing: queueing its traffic", zap.Uint16("game", g.id))
	}
	d.sendMsg(c, &netproto.FreezeAck{Dispatcher: d.id, Game: g.id})
}

// resumeLocked ends a freeze on the same link (an aborted freeze) and
// flushes the queue; for a game restored through Hello it is a no-op.
func (d *Dispatcher) resumeLocked(c *conn) {
	g := d.games[c.peer.ID]
	if g == nil || g.conn != c || g.frozen == nil {
		return
	}
	q := g.frozen
	g.frozen = nil
	d.log.Info("game resumed: flushing its queue", zap.Uint16("game", g.id), zap.Int("msgs", q.n))
	if err := c.sendFrames(q.frames); err != nil {
		d.ctr.drop(dropLinkFailed, q.n)
	}
}
