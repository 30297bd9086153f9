package game

import (
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/netproto"
	"github.com/ecsworld/ecsworld/systems"
)

// How often the outbox reports load and checks timeouts.
const (
	loadEvery  = time.Second
	sweepEvery = time.Second
)

// outbox builds this tick's gate batches. Frames are encoded once into
// frames (an arena reused each tick) and referenced by every gate's items;
// the arenas are valid until the batches are sent, at the end of the tick.
type outbox struct {
	frames  []byte
	ids     []uint64 // client id lists, an arena
	gates   map[uint16]*gateBatches
	order   []uint16 // gates in first-use order
	pending []extraItem
	limit   int // target size of one GateBatch
}

// gateBatches is one gate's batches of this tick; the last one is filling.
type gateBatches struct {
	full []*netproto.GateBatch
	cur  *netproto.GateBatch
	size int
}

// extraItem is a client frame made outside the sync stage (CallClient),
// appended after the tick's sync frames.
type extraItem struct {
	b     ecs.ClientBinding
	frame []byte
}

// extra encodes m once for client b, for this tick's batch.
func (o *outbox) extra(c *netproto.Codec, b ecs.ClientBinding, m netproto.Message) error {
	f, err := c.AppendFrame(nil, m)
	if err != nil {
		return err
	}
	if len(f)-4 > netproto.DefaultClientMaxFrame {
		return fmt.Errorf("game: %v of %d bytes exceeds a client frame", m.MsgType(), len(f))
	}
	o.pending = append(o.pending, extraItem{b: b, frame: f})
	return nil
}

func (o *outbox) gate(id uint16) *gateBatches {
	gb := o.gates[id]
	if gb == nil {
		gb = &gateBatches{}
		o.gates[id] = gb
	}
	if gb.cur == nil {
		gb.cur = &netproto.GateBatch{Gate: id}
		gb.size = 0
		if !slices.Contains(o.order, id) {
			o.order = append(o.order, id)
		}
	}
	return gb
}

// room makes the gate's current batch take n more bytes, starting a new
// batch when it would pass the limit.
func (o *outbox) room(id uint16, n int) *netproto.GateBatch {
	gb := o.gate(id)
	if gb.size > 0 && gb.size+n > o.limit {
		gb.full = append(gb.full, gb.cur)
		gb.cur = &netproto.GateBatch{Gate: id}
		gb.size = 0
	}
	gb.size += n
	return gb.cur
}

// clientIDs copies cs into the id arena.
func (o *outbox) clientIDs(cs []ecs.ClientID) []uint64 {
	start := len(o.ids)
	for _, c := range cs {
		o.ids = append(o.ids, uint64(c))
	}
	end := len(o.ids)
	return o.ids[start:end:end]
}

// emit is the sync stage's Emit: it encodes the tick's output into gate
// batches and sends them, with the ClientBound of new bindings first.
func (g *Game) emit(out *systems.SyncOutput) {
	o := &g.out
	if o.gates == nil {
		o.gates = make(map[uint16]*gateBatches)
		o.limit = g.cfg.Game.Link.MaxFrame / 2
	}
	for _, b := range out.Bindings {
		g.sendBound(b.Entity, b.Client)
	}
	if out.Empty() && len(o.pending) == 0 {
		return
	}
	o.frames = o.frames[:0]
	o.ids = o.ids[:0]
	o.order = o.order[:0]
	for _, f := range out.Frames {
		g.emitFrame(&f)
	}
	for _, x := range o.pending {
		bt := o.room(x.b.Gate, len(x.frame)+16)
		bt.Items = append(bt.Items, netproto.BatchItem{Clients: []uint64{uint64(x.b.Client)}, Frames: x.frame})
	}
	clear(o.pending)
	o.pending = o.pending[:0]
	var rec []byte
	for _, p := range out.Positions {
		var err error
		rec, err = netproto.AppendPositionRecord(rec[:0], netproto.PositionRecord{Entity: uint64(p.ID),
			X: p.Pos.X, Y: p.Pos.Y, Z: p.Pos.Z, Yaw: p.Yaw})
		if err != nil {
			g.st.badPositions.Add(1)
			g.warn.Warn("position not sent", zap.Uint64("entity", uint64(p.ID)), zap.Error(err))
			continue
		}
		for _, grp := range p.To {
			bt := o.room(grp.Gate, len(rec)+9*len(grp.Clients)+4)
			bt.PosRecords = append(bt.PosRecords, rec...)
			bt.PosClients = append(bt.PosClients, o.clientIDs(grp.Clients))
			g.st.positionsOut.Add(1)
		}
	}
	for _, id := range o.order {
		gb := o.gates[id]
		if gb.cur != nil {
			gb.full = append(gb.full, gb.cur)
		}
		for _, bt := range gb.full {
			bt.Game = g.id
			if g.sendShard(uint64(id), bt) == nil {
				g.st.batchesOut.Add(1)
			}
		}
		clear(gb.full)
		gb.full, gb.cur, gb.size = gb.full[:0], nil, 0
	}
}

// emitFrame encodes one sync frame once and lists it in each gate's batch.
func (g *Game) emitFrame(f *systems.SyncFrame) {
	o := &g.out
	var m netproto.Message
	item := netproto.BatchItem{VisEntity: uint64(f.ID)}
	switch f.Kind {
	case systems.SyncDestroy:
		m = &netproto.DestroyEntity{Entity: uint64(f.ID)}
		item.Vis = netproto.VisLeave
	case systems.SyncCreate:
		m = &netproto.CreateEntity{Entity: uint64(f.ID), Type: f.Type, Pos: vec(f.Pos), Yaw: f.Yaw, Attrs: f.Attrs, IsPlayer: f.IsPlayer}
		item.Vis, item.VisType = netproto.VisEnter, f.Type
	case systems.SyncAttrs:
		m = &netproto.AttrDelta{Entity: uint64(f.ID), Changes: wireChanges(f.Changes)}
		item.VisEntity = 0
	default:
		return
	}
	start := len(o.frames)
	var err error
	o.frames, err = g.codec.AppendFrame(o.frames, m)
	if err == nil && len(o.frames)-start-4 > netproto.DefaultClientMaxFrame {
		err = fmt.Errorf("%d bytes exceed a client frame", len(o.frames)-start)
		o.frames = o.frames[:start]
	}
	if err != nil {
		g.st.badFrames.Add(1)
		g.warn.Warn("client frame not sent", zap.Stringer("kind", f.Kind), zap.Uint64("entity", uint64(f.ID)), zap.Error(err))
		return
	}
	end := len(o.frames)
	item.Frames = o.frames[start:end:end]
	g.st.framesOut.Add(1)
	for _, grp := range f.To {
		it := item
		it.Clients = o.clientIDs(grp.Clients)
		bt := o.room(grp.Gate, len(item.Frames)+9*len(grp.Clients)+16)
		bt.Items = append(bt.Items, it)
	}
}

// wireChanges maps the sync stage's changes (Set, Delete, Append only) to
// the wire's.
func wireChanges(cs []ecs.AttrChange) []netproto.AttrChange {
	out := make([]netproto.AttrChange, 0, len(cs))
	for _, c := range cs {
		var op netproto.AttrOp
		switch c.Op {
		case ecs.AttrSet:
			op = netproto.AttrSet
		case ecs.AttrDelete:
			op = netproto.AttrDelete
		case ecs.AttrAppend:
			op = netproto.AttrAppend
		default:
			continue // the sync stage rewrites the others
		}
		out = append(out, netproto.AttrChange{Op: op, Path: c.Path, Value: c.Value})
	}
	return out
}

// sendBound tells e's gate which entity its client owns.
func (g *Game) sendBound(e *ecs.Entity, b ecs.ClientBinding) {
	speed, moved := g.setup.ClientMoved[e.Type().Name()]
	g.sendShard(uint64(b.Gate), &netproto.ClientBound{Gate: b.Gate, Client: uint64(b.Client), Entity: uint64(e.ID()),
		Type: e.Type().Name(), ClientMoved: moved, MaxSpeed: speed})
}

// flushOutbox is stage 8: routes of destroyed entities, the periodic load
// report and timeouts, heartbeats, then one flush per link.
func (g *Game) flushOutbox(t *systems.Tick) error {
	g.handOff()
	for _, e := range g.world.Destroyed() {
		id := e.ID()
		if g.migratedOut[id] {
			continue
		}
		if g.routed[id] {
			delete(g.routed, id)
			g.sendShard(uint64(id), &netproto.EntityDestroyed{Entity: uint64(id), Game: g.id})
		}
	}
	clear(g.migratedOut)
	now := g.now
	if now.Sub(g.lastLoad) >= loadEvery {
		g.lastLoad = now
		g.reportLoad()
	}
	if now.Sub(g.lastSweep) >= sweepEvery {
		g.lastSweep = now
		g.expire(now)
	}
	hb := g.cfg.Game.Link.HeartbeatInterval
	for i, d := range g.links {
		l := d.current()
		if l != nil && len(d.backlog) > 0 {
			g.drainBacklog(d, l)
		}
		if hb > 0 && now.Sub(d.lastSend) >= hb && l != nil {
			g.sendTo(i, &netproto.Heartbeat{})
		}
		d.flush()
	}
	g.st.entities.Store(int64(g.world.Len()))
	g.st.spaces.Store(int64(g.world.NumSpaces()))
	g.st.clients.Store(int64(g.sync.NumWatchers()))
	return nil
}

// reportLoad sends GameLoad to every dispatcher.
func (g *Game) reportLoad() {
	st := g.sched.Stats()
	load := float32(0)
	if iv := g.cfg.Game.TickInterval(); iv > 0 {
		load = float32(st.TickMean.Seconds() / iv.Seconds())
	}
	g.sendAll(&netproto.GameLoad{Game: g.id, Load: load, Entities: uint32(g.world.Len()), Clients: uint32(g.sync.NumWatchers())})
}

// expire fails calls whose reply did not come and aborts migrations whose
// hold did not come.
func (g *Game) expire(now time.Time) {
	for id, p := range g.pending {
		if now.After(p.deadline) {
			delete(g.pending, id)
			g.st.callTimeouts.Add(1)
			if p.cb != nil {
				p.cb(fmt.Errorf("%w: call %d after %v", ErrCallTimeout, id, g.cfg.CallTimeout))
			}
		}
	}
	for id, m := range g.migrations {
		if !m.held && now.After(m.deadline) {
			delete(g.migrations, id)
			g.st.migrateAborts.Add(1)
			g.log.Error("migration aborted: no MigrateHold", zap.Stringer("entity", id), zap.Uint16("to", m.to))
			g.sendShard(uint64(id), &netproto.MigrateDone{Entity: uint64(id), Game: g.id})
		}
	}
}

// flushExtrasOf sends now the client frames made outside the sync stage
// (CallClient) still pending for b, so they leave before the MigrateData
// that hands b's entity over: the next game's frames for b must find
// nothing of ours behind them.
func (g *Game) flushExtrasOf(b ecs.ClientBinding) {
	o := &g.out
	limit := o.limit
	if limit <= 0 {
		limit = g.cfg.Game.Link.MaxFrame / 2
	}
	var bt *netproto.GateBatch
	size := 0
	send := func() {
		if bt != nil && g.sendShard(uint64(b.Gate), bt) == nil {
			g.st.batchesOut.Add(1)
		}
		bt, size = nil, 0
	}
	kept := o.pending[:0]
	for _, x := range o.pending {
		if x.b != b {
			kept = append(kept, x)
			continue
		}
		if bt != nil && size+len(x.frame) > limit {
			send()
		}
		if bt == nil {
			bt = &netproto.GateBatch{Gate: b.Gate, Game: g.id}
		}
		bt.Items = append(bt.Items, netproto.BatchItem{Clients: []uint64{uint64(b.Client)}, Frames: x.frame})
		size += len(x.frame) + 16
	}
	send()
	clear(o.pending[len(kept):])
	o.pending = kept
}
