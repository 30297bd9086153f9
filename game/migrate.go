package game

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/netproto"
	"github.com/ecsworld/ecsworld/systems"
)

// migration is an entity of ours waiting for its dispatcher's MigrateHold.
type migration struct {
	e        *ecs.Entity
	to       uint16
	space    ecs.EntityID
	pos      ecs.Vec3
	deadline time.Time
	held     bool // MigrateHold came; the hand-off runs in the outbox stage
}

// migrant is MigrateData.Blob: everything an entity takes to another game.
// Keys are small integers so games of different versions agree on them.
type migrant struct {
	Type       string            `cbor:"1,keyasint"`
	Pos        netproto.Vec3     `cbor:"2,keyasint"`
	Yaw        float32           `cbor:"3,keyasint,omitempty"`
	Attrs      map[string]any    `cbor:"4,keyasint,omitempty"`
	Components map[string][]byte `cbor:"5,keyasint,omitempty"`
	Timers     []migrantTimer    `cbor:"6,keyasint,omitempty"`
	Gate       uint16            `cbor:"7,keyasint,omitempty"`
	Client     uint64            `cbor:"8,keyasint,omitempty"`
	Velocity   netproto.Vec3     `cbor:"9,keyasint"`
	Dest       *netproto.Vec3    `cbor:"10,keyasint,omitempty"`
	Speed      float32           `cbor:"11,keyasint,omitempty"`
	AOIRadius  float32           `cbor:"12,keyasint,omitempty"`
	// Shown and Fresh are the client's view, handed over with the entity
	// (systems.SyncView): the entities its client holds from this game,
	// and whether the client lacks the entity itself. A blob without them
	// (an older game, which sent the destroys itself) adopts as before.
	Shown []uint64 `cbor:"13,keyasint,omitempty"`
	Fresh bool     `cbor:"14,keyasint,omitempty"`
}

// maxShown bounds a migrant's Shown list (a peer's blob is not trusted
// blindly); a longer one is refused as a bad blob.
const maxShown = 1 << 16

// migrantTimer is a timer with its delay from the tick it left in.
type migrantTimer struct {
	Method string `cbor:"1,keyasint"`
	Args   []byte `cbor:"2,keyasint,omitempty"`
	After  uint64 `cbor:"3,keyasint,omitempty"`
	Repeat uint64 `cbor:"4,keyasint,omitempty"`
}

// Migrate moves e to space on game to, at pos: it asks e's dispatcher to
// hold e's traffic, and when it does, sends e over (components,
// attributes, timers, client binding) and removes it here.
func (g *Game) Migrate(e *ecs.Entity, to uint16, space ecs.EntityID, pos ecs.Vec3) error {
	switch {
	case e == nil || e.Destroyed():
		return fmt.Errorf("game: migrate: %w", ecs.ErrNoEntity)
	case e.IsSpace():
		return fmt.Errorf("game: migrate %s: %w", e, ecs.ErrSpaceInSpace)
	case to == 0 || to == g.id:
		return fmt.Errorf("game: migrate %s to game %d: not another game", e, to)
	case g.migrations[e.ID()] != nil:
		return fmt.Errorf("game: migrate %s: %w", e, ErrMigrating)
	case g.frz != nil:
		// Its MigrateHold would wait in the frozen queue: the entity
		// stays, and goes with the snapshot.
		return fmt.Errorf("game: migrate %s: %w", e, ErrFreezing)
	}
	err := g.sendShard(uint64(e.ID()), &netproto.MigrateRequest{Entity: uint64(e.ID()), From: g.id, To: to, Space: uint64(space)})
	if err != nil {
		return err
	}
	g.migrations[e.ID()] = &migration{e: e, to: to, space: space, pos: pos, deadline: g.now.Add(g.cfg.MigrateTimeout)}
	return nil
}

// Migrating reports whether e waits for its migration to start.
func (g *Game) Migrating(id ecs.EntityID) bool { return g.migrations[id] != nil }

// onMigrateHold marks the migration ready: the hand-off itself runs in
// the outbox stage, so the entity finishes this tick here (the calls
// already queued for it, its timers, the user systems) and nothing is
// sent in its name after it left.
func (g *Game) onMigrateHold(m *netproto.MigrateHold) {
	mg := g.migrations[ecs.EntityID(m.Entity)]
	if mg == nil || mg.held {
		g.refuse("MigrateHold for no migration", zap.Uint64("entity", m.Entity))
		return
	}
	mg.held = true
	g.handoffs = append(g.handoffs, mg)
}

// handOff sends the entities whose traffic is held to their new game.
func (g *Game) handOff() {
	for _, mg := range g.handoffs {
		g.handOffOne(mg)
	}
	clear(g.handoffs)
	g.handoffs = g.handoffs[:0]
}

func (g *Game) handOffOne(mg *migration) {
	e := mg.e
	id := e.ID()
	delete(g.migrations, id)
	release := func() { g.sendShard(uint64(id), &netproto.MigrateDone{Entity: uint64(id), Game: g.id}) }
	e.LeaveSpace() // the leave hooks run: e really leaves this space
	if e.Destroyed() {
		// Destroyed meanwhile: release the hold, there is nothing to move.
		release()
		return
	}
	// The client's view goes with e: from here on this game sends that
	// client nothing, and the new game replaces the view. What was sent
	// to it so far (this tick's sync included) is already queued on the
	// link to Shard(gate); MigrateData goes on that same link, after the
	// client frames still pending, so B's frames for the client, made
	// after MigrateData reached B, reach the gate after all of ours.
	b := e.Client()
	view := g.sync.Migrating(e)
	key := uint64(id)
	if b.Bound() {
		key = uint64(b.Gate)
		g.flushExtrasOf(b)
	}
	blob, err := g.encodeMigrantView(e, mg.pos, view)
	if err == nil {
		err = g.sendShard(key, &netproto.MigrateData{Entity: uint64(id), Space: uint64(mg.space), To: mg.to, Blob: blob})
	}
	if err != nil {
		// The entity stays here, outside any space, and its client's
		// view comes back to this game's sync stage.
		g.st.migrateAborts.Add(1)
		g.log.Error("migration aborted", zap.Stringer("entity", e), zap.Uint16("to", mg.to), zap.Error(err))
		if b.Bound() {
			g.sync.Adopt(e, view)
		}
		release()
		return
	}
	g.timers.CancelEntity(id)
	if err := g.world.Remove(e); err != nil {
		g.log.Error("migrated entity not removed", zap.Stringer("entity", e), zap.Error(err))
	}
	g.migratedOut[id] = true
	delete(g.routed, id)
	g.st.migratedOut.Add(1)
	g.log.Debug("entity migrated out", zap.Stringer("entity", e), zap.Uint16("to", mg.to))
}

// encodeMigrant encodes e, placed at pos (where it enters its new space).
func (g *Game) encodeMigrant(e *ecs.Entity, pos ecs.Vec3) ([]byte, error) {
	return g.encodeMigrantView(e, pos, systems.SyncView{Held: true})
}

// encodeMigrantView is encodeMigrant with view, what e's client holds from
// this game.
func (g *Game) encodeMigrantView(e *ecs.Entity, pos ecs.Vec3, view systems.SyncView) ([]byte, error) {
	mg := migrant{
		Type: e.Type().Name(), Pos: vec(pos), Yaw: e.Yaw(), Attrs: e.Attrs().ToMap(),
		Gate: e.Client().Gate, Client: uint64(e.Client().Client),
		Velocity: vec(e.Velocity()), AOIRadius: e.AOIRadius(),
		Fresh: e.Client().Bound() && !view.Held,
	}
	for _, s := range view.Shown {
		mg.Shown = append(mg.Shown, uint64(s))
	}
	for _, c := range e.Components() {
		v, ok := c.GetAny(e)
		if !ok {
			continue
		}
		b, err := g.codec.MarshalValue(v)
		if err != nil {
			return nil, fmt.Errorf("component %s: %w", c.Name(), err)
		}
		if mg.Components == nil {
			mg.Components = make(map[string][]byte)
		}
		mg.Components[c.Name()] = b
	}
	if d, ok := e.Destination(); ok {
		dv := vec(d)
		mg.Dest, mg.Speed = &dv, e.MoveSpeed()
	}
	now := g.timers.Now()
	for _, t := range g.timers.All() {
		if t.Entity != e.ID() {
			continue
		}
		after := uint64(1)
		if t.Due > now {
			after = t.Due - now
		}
		mg.Timers = append(mg.Timers, migrantTimer{Method: t.Method, Args: t.Args, After: after, Repeat: t.Repeat})
	}
	return g.codec.MarshalValue(&mg)
}

func (g *Game) onMigrateData(m *netproto.MigrateData) {
	id := ecs.EntityID(m.Entity)
	done := func() { g.sendShard(m.Entity, &netproto.MigrateDone{Entity: m.Entity, Game: g.id}) }
	if m.To != g.id {
		g.refuse("MigrateData for another game", zap.Uint16("to", m.To))
		return
	}
	var mg migrant
	err := g.codec.UnmarshalValue(m.Blob, &mg)
	if err == nil && len(mg.Shown) > maxShown {
		err = fmt.Errorf("%d entities shown, more than %d", len(mg.Shown), maxShown)
	}
	if err != nil {
		g.st.migrateFailures.Add(1)
		g.log.Error("migrating entity lost: bad blob", zap.Stringer("entity", id), zap.Error(err))
		done()
		return
	}
	e, err := g.restoreMigrant(id, &mg)
	if err != nil {
		g.st.migrateFailures.Add(1)
		g.log.Error("migrating entity lost", zap.Stringer("entity", id), zap.String("type", mg.Type), zap.Error(err))
		done()
		return
	}
	if s, ok := g.world.Entity(ecs.EntityID(m.Space)); ok && s.IsSpace() {
		if err := e.EnterSpace(s, e.Pos()); err != nil {
			g.log.Error("migrated entity did not enter its space", zap.Stringer("entity", e), zap.Error(err))
		}
	} else {
		g.log.Error("migrated entity's space is not on this game; it stays outside any space",
			zap.Stringer("entity", e), zap.Uint64("space", m.Space))
	}
	g.routed[id] = true
	if e.Client().Bound() {
		view := systems.SyncView{Held: !mg.Fresh, Shown: make([]ecs.EntityID, len(mg.Shown))}
		for i, s := range mg.Shown {
			view.Shown[i] = ecs.EntityID(s)
		}
		g.sync.Adopt(e, view)
	}
	g.st.migratedIn.Add(1)
	done()
	g.log.Debug("entity migrated in", zap.Stringer("entity", e))
}

// restoreMigrant recreates an entity from its blob, without hooks.
func (g *Game) restoreMigrant(id ecs.EntityID, mg *migrant) (*ecs.Entity, error) {
	t, ok := g.reg.Type(mg.Type)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ecs.ErrNoType, mg.Type)
	}
	var own []any
	type named struct {
		c ecs.Component
		v any
	}
	var extra []named
	for name, b := range mg.Components {
		c, ok := g.reg.Component(name)
		if !ok {
			g.log.Warn("migrating entity's component unknown here: dropped", zap.Stringer("entity", id), zap.String("component", name))
			continue
		}
		v := c.New()
		if err := g.codec.UnmarshalValue(b, v); err != nil {
			return nil, fmt.Errorf("component %s: %w", name, err)
		}
		mine := false
		for _, tc := range t.Components() {
			if tc.Name() == name {
				mine = true
			}
		}
		if mine {
			own = append(own, v)
		} else {
			extra = append(extra, named{c, v})
		}
	}
	e, err := g.world.Create(mg.Type, ecs.CreateOptions{
		ID: id, Pos: unvec(mg.Pos), Yaw: mg.Yaw, Attrs: mg.Attrs, Components: own, Restore: true,
		Client: ecs.ClientBinding{Gate: mg.Gate, Client: ecs.ClientID(mg.Client)},
	})
	if err != nil {
		return nil, err
	}
	for _, x := range extra {
		if err := x.c.SetAny(e, x.v); err != nil {
			g.log.Warn("migrating entity's component not set", zap.Stringer("entity", e), zap.Error(err))
		}
	}
	e.SetVelocity(unvec(mg.Velocity))
	if mg.Dest != nil {
		e.SetDestination(unvec(*mg.Dest), mg.Speed)
	}
	e.SetAOIRadius(mg.AOIRadius)
	for _, tm := range mg.Timers {
		g.timers.AddTimer(id, tm.After, tm.Repeat, tm.Method, tm.Args)
	}
	return e, nil
}
