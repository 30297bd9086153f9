package game

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/netproto"
	"github.com/ecsworld/ecsworld/systems"
)

// maxDrain bounds the inbox items one tick takes, so a burst spreads over
// ticks instead of stretching one.
const maxDrain = 1 << 16

// drainInbox is stage 1: it handles what the network goroutines queued.
func (g *Game) drainInbox(*systems.Tick) error {
	defer g.observe()
	for range maxDrain {
		select {
		case m := <-g.inbox:
			g.handle(m)
		default:
			return nil
		}
	}
	return nil
}

// handle runs one inbox item; a handler's panic is the scheduler's to
// recover, but handlers do not panic on input: bad input is counted.
func (g *Game) handle(m inMsg) {
	if m.fn != nil {
		m.fn(g)
		return
	}
	switch msg := m.msg.(type) {
	case *netproto.CallEntity:
		g.onCallEntity(msg)
	case *netproto.CallReply:
		g.onCallReply(msg)
	case *netproto.ClientConnected:
		g.onClientConnected(msg)
	case *netproto.ClientDisconnected:
		g.onClientDisconnected(msg)
	case *netproto.GateDown:
		g.onGateDown(msg)
	case *netproto.SyncFromClient:
		g.onSyncFromClient(msg)
	case *netproto.CreateEntityAnywhere:
		g.createFor(msg.Entity, msg.Type, msg.Attrs, msg.Pos, msg.Yaw, msg.Space)
	case *netproto.CreateEntityOnGame:
		if msg.Game != 0 && msg.Game != g.id {
			g.refuse("CreateEntityOnGame for another game", zap.Uint16("for", msg.Game))
			return
		}
		g.createFor(msg.Entity, msg.Type, msg.Attrs, msg.Pos, msg.Yaw, msg.Space)
	case *netproto.ServiceRegistered:
		g.onServiceRegistered(msg)
	case *netproto.ServiceLookupReply:
		g.onServiceLookupReply(msg)
	case *netproto.MigrateHold:
		g.onMigrateHold(msg)
	case *netproto.MigrateData:
		g.onMigrateData(msg)
	case *netproto.FreezeAck:
		g.onFreezeAck(m.from, msg)
	case *netproto.TypeSchema, *netproto.HelloAck:
		// Not for games.
	default:
		g.refuse("unexpected message", zap.Stringer("type", m.msg.MsgType()))
	}
}

// refuse counts and logs (sampled) a message the game cannot use.
func (g *Game) refuse(what string, fields ...zap.Field) {
	g.st.refused.Add(1)
	g.warn.Warn(what, fields...)
}

func (g *Game) onCallEntity(m *netproto.CallEntity) {
	c := systems.Call{Target: ecs.EntityID(m.Target), Method: m.Method, Args: m.Args}
	var to netproto.Peer
	switch m.Caller.Kind {
	case netproto.CallerClient:
		c.Caller = ecs.Caller{Kind: ecs.CallerClient, Entity: ecs.EntityID(m.Caller.Entity),
			Client: ecs.ClientID(m.Caller.Client), Gate: m.Caller.Gate}
		to = netproto.Peer{Role: netproto.RoleGate, ID: m.Caller.Gate}
	case netproto.CallerEntity, netproto.CallerServer:
		c.Caller = ecs.Caller{Kind: ecs.CallerServer, Entity: ecs.EntityID(m.Caller.Entity)}
		to = netproto.Peer{Role: netproto.RoleGame, ID: m.Caller.Game}
	default:
		// Unknown kinds are never trusted as the server.
		c.Caller = ecs.Caller{Kind: ecs.CallerNone}
	}
	if m.CallID != 0 && to.ID != 0 {
		c.ID = g.nextCallID()
		g.replies[c.ID] = replyRoute{to: to, callID: m.CallID, client: m.Caller.Client, target: c.Target}
	}
	g.rpc.Enqueue(c)
}

func (g *Game) onCallReply(m *netproto.CallReply) {
	p, ok := g.pending[m.CallID]
	if !ok && g.frozenReply(m.CallID) {
		return
	}
	if !ok || m.To.Role != netproto.RoleGame || m.To.ID != g.id {
		g.refuse("CallReply for no pending call", zap.Uint64("call", m.CallID))
		return
	}
	delete(g.pending, m.CallID)
	if p.cb == nil {
		return
	}
	if m.Error != "" {
		p.cb(fmt.Errorf("%w: %s", ErrRemote, m.Error))
	} else {
		p.cb(nil)
	}
}

// bootType is the type a ClientConnected asks for, or the config's.
func (g *Game) bootType(t string) string {
	if t == "" {
		return g.cfg.Game.BootEntity
	}
	return t
}

func (g *Game) onClientConnected(m *netproto.ClientConnected) {
	b := ecs.ClientBinding{Gate: m.Gate, Client: ecs.ClientID(m.Client)}
	if m.Gate == 0 || m.Client == 0 {
		g.refuse("ClientConnected without gate or client")
		return
	}
	if m.BootType == netproto.ObserverBootType {
		g.addObserver(b)
		return
	}
	typ := g.bootType(m.BootType)
	e, err := g.Create(typ, ecs.CreateOptions{Client: b})
	if err != nil {
		g.st.bootFailures.Add(1)
		g.log.Error("boot entity not created; kicking the client", zap.String("type", typ),
			zap.Uint64("client", m.Client), zap.Error(err))
		g.KickClient(b, "no boot entity")
		return
	}
	g.log.Debug("client connected", zap.Stringer("entity", e), zap.Uint64("client", m.Client), zap.Uint16("gate", m.Gate))
}

// clientEntity finds the entity bound to client c of gate.
func (g *Game) clientEntity(gate uint16, c ecs.ClientID, hint ecs.EntityID) *ecs.Entity {
	b := ecs.ClientBinding{Gate: gate, Client: c}
	if e, ok := g.world.Entity(hint); ok && e.Client() == b {
		return e
	}
	if id, ok := g.sync.EntityOf(c); ok {
		if e, ok := g.world.Entity(id); ok && e.Client() == b {
			return e
		}
	}
	return nil
}

func (g *Game) onClientDisconnected(m *netproto.ClientDisconnected) {
	b := ecs.ClientBinding{Gate: m.Gate, Client: ecs.ClientID(m.Client)}
	if m.Entity == 0 && g.removeObserver(b) {
		return
	}
	g.sync.ClientGone(b)
	e := g.clientEntity(m.Gate, b.Client, ecs.EntityID(m.Entity))
	if e == nil {
		// Bound by game code the sync stage has not seen yet, or gone.
		g.eachBound(func(x *ecs.Entity) {
			if x.Client() == b {
				e = x
			}
		})
	}
	if e == nil {
		// The client is gone already, which is all this message says:
		// entity 0 is a client that left before it was bound (the
		// dispatchers tell every game, the others ignore it); an entity is
		// a gate answering a ClientBound that overtook the client's leave,
		// after the first ClientDisconnected unbound it here.
		g.log.Debug("ClientDisconnected for a client no longer bound", zap.Uint64("client", m.Client), zap.Uint64("entity", m.Entity))
		return
	}
	e.SetClient(ecs.ClientBinding{}) // runs OnClientDisconnected
}

// eachBound calls fn for every bound entity (a scan of the world: for rare
// events only).
func (g *Game) eachBound(fn func(e *ecs.Entity)) {
	g.world.Each(func(e *ecs.Entity) bool {
		if e.Client().Bound() {
			fn(e)
		}
		return true
	})
}

func (g *Game) onGateDown(m *netproto.GateDown) {
	g.sync.GateGone(m.Gate)
	g.dropGateObservers(m.Gate)
	n := 0
	g.eachBound(func(e *ecs.Entity) {
		if e.Client().Gate == m.Gate {
			e.SetClient(ecs.ClientBinding{})
			n++
		}
	})
	g.log.Info("gate down: clients unbound", zap.Uint16("gate", m.Gate), zap.Int("clients", n))
}

func (g *Game) onSyncFromClient(m *netproto.SyncFromClient) {
	r := m.Record
	e, ok := g.world.Entity(ecs.EntityID(r.Entity))
	if !ok || e.Client().Client != ecs.ClientID(m.Client) {
		g.refuse("SyncFromClient for an entity the client does not own", zap.Uint64("entity", r.Entity), zap.Uint64("client", m.Client))
		return
	}
	if _, moved := g.setup.ClientMoved[e.Type().Name()]; !moved {
		g.refuse("SyncFromClient for a server-moved entity", zap.Stringer("entity", e))
		return
	}
	e.SetPosYaw(ecs.Vec3{X: r.X, Y: r.Y, Z: r.Z}, r.Yaw)
	g.sync.ClientMoved(e)
	g.st.clientMoves.Add(1)
}

// createFor handles CreateEntityAnywhere / CreateEntityOnGame.
func (g *Game) createFor(id uint64, typ string, attrs map[string]any, pos netproto.Vec3, yaw float32, space uint64) {
	opts := ecs.CreateOptions{ID: ecs.EntityID(id), Pos: unvec(pos), Yaw: yaw, Attrs: attrs}
	if space != 0 {
		s, ok := g.world.Entity(ecs.EntityID(space))
		if !ok || !s.IsSpace() {
			g.log.Warn("create: space not on this game; created outside any space", zap.String("type", typ),
				zap.Uint64("space", space))
		} else {
			opts.Space = s
		}
	}
	if _, err := g.Create(typ, opts); err != nil {
		g.st.createFailures.Add(1)
		g.warn.Warn("remote create failed", zap.String("type", typ), zap.Uint64("entity", id), zap.Error(err))
	}
}

func (g *Game) onServiceRegistered(m *netproto.ServiceRegistered) {
	if m.Entity != 0 {
		g.services[m.Name] = ecs.EntityID(m.Entity)
	}
	if m.Won {
		g.owned[m.Name] = ecs.EntityID(m.Entity)
	}
	ws := g.registering[m.Name]
	if len(ws) == 0 {
		return
	}
	done := ws[0]
	if len(ws) == 1 {
		delete(g.registering, m.Name)
	} else {
		g.registering[m.Name] = ws[1:]
	}
	if done != nil {
		done(ecs.EntityID(m.Entity), m.Won)
	}
}

func (g *Game) onServiceLookupReply(m *netproto.ServiceLookupReply) {
	l, ok := g.lookups[m.CallID]
	if !ok && g.frozenReply(m.CallID) {
		return
	}
	if !ok {
		g.refuse("ServiceLookupReply for no lookup", zap.String("name", m.Name))
		return
	}
	delete(g.lookups, m.CallID)
	if m.Entity != 0 {
		g.services[l.name] = ecs.EntityID(m.Entity)
	}
	l.cb(ecs.EntityID(m.Entity))
}

// onLinkUp runs on the tick goroutine when dispatcher i's link comes back:
// a dispatcher drops the routes and services of a game whose link it lost,
// so they are reported again.
func (g *Game) onLinkUp(i int) {
	d := g.links[i]
	if !d.wasUp {
		d.wasUp = true
		return
	}
	n := 0
	for id := range g.routed {
		if e, ok := g.world.Entity(id); ok && g.shard(uint64(id)) == i {
			g.sendTo(i, &netproto.EntityCreated{Entity: uint64(e.ID()), Game: g.id})
			n++
		}
	}
	for name, e := range g.owned {
		if _, ok := g.world.Entity(e); ok && netproto.ShardString(name, len(g.links)) == i {
			g.sendTo(i, &netproto.ServiceRegister{Name: name, Entity: uint64(e)})
			g.registering[name] = append(g.registering[name], nil)
		}
	}
	g.log.Info("dispatcher link back: routes reported again", zap.String("dispatcher", d.addr), zap.Int("routes", n))
}
