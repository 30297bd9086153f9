package client

import (
	"fmt"
	"math"
	"slices"

	"github.com/ecsworld/ecsworld/netproto"
)

// Entity is a snapshot of one entity of the local view. Attrs is a deep
// copy: the caller may keep and change it.
type Entity struct {
	ID       uint64
	Type     string
	Pos      netproto.Vec3
	Yaw      float32 // radians in [0, 2π), as dequantised from the wire
	Attrs    map[string]any
	IsPlayer bool
}

// ServerCall is a CallClient from the server: Method of the client-side
// Entity with its decoded Args (integers as uint64 or int64, maps as
// map[string]any, lists as []any).
type ServerCall struct {
	Entity uint64
	Method string
	Args   []any
}

// Hooks are callbacks for events of the local view. They run on the
// client's receive goroutine, in the order the gate sent the messages, after
// the view has been updated, so they must return quickly. A hook may call
// Notify, Move and every accessor; it must not wait for a Call's reply
// (replies arrive on the same goroutine: start a goroutine for that). Nil
// hooks are skipped.
type Hooks struct {
	// OnCreate: an entity entered the view (the player too: IsPlayer).
	OnCreate func(c *Client, e Entity)
	// OnDestroy: an entity left the view; e is its last state.
	OnDestroy func(c *Client, e Entity)
	// OnCallClient: the server called a method of a client-side entity.
	OnCallClient func(c *Client, call ServerCall)
	// OnClose: the client stopped; err is Client.Err. Called once.
	OnClose func(c *Client, err error)
}

// entityState is one entity of the view.
type entityState struct {
	typ   string
	pos   netproto.Vec3
	yaw   float32
	attrs map[string]any
}

// view is the world as the gate shows it to this client; guarded by
// Client.mu.
type view struct {
	player   uint64
	entities map[uint64]*entityState
}

// snapshot copies entity id out of the view; Client.mu must be held.
func (v *view) snapshot(id uint64, s *entityState) Entity {
	return Entity{ID: id, Type: s.typ, Pos: s.pos, Yaw: s.yaw, Attrs: CopyAttrs(s.attrs), IsPlayer: id == v.player}
}

// fromGate reports whether a gate may send t to a client.
func fromGate(t netproto.MsgType) bool {
	switch t {
	case netproto.MsgHeartbeat, netproto.MsgClientWelcome, netproto.MsgClientCallReply,
		netproto.MsgCreateEntity, netproto.MsgDestroyEntity, netproto.MsgAttrDelta,
		netproto.MsgCallClient, netproto.MsgPositionSync, netproto.MsgDisconnect:
		return true
	}
	return false
}

// handle applies one frame from the gate. It returns an error only when the
// client must stop: a frame it cannot decode or a type a gate never sends
// (ErrProtocol), or a Disconnect (*DisconnectError). Messages that decode but
// do not fit the view are recorded (ErrInconsistent) and skipped.
func (c *Client) handle(typ netproto.MsgType, payload []byte) error {
	if !fromGate(typ) {
		return fmt.Errorf("%w: the gate sent %v (%d bytes), which a gate never sends: %w", ErrProtocol, typ, len(payload), netproto.ErrUnknownType)
	}
	if typ == netproto.MsgPositionSync {
		// The hot path: decode into a reused batch.
		c.pos.Records = c.pos.Records[:0]
		if err := c.codec.DecodeInto(payload, &c.pos); err != nil {
			return fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		c.onPositions(c.pos.Records)
		c.wake()
		return nil
	}
	m, err := c.codec.Decode(typ, payload)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	c.mu.Lock()
	c.stats.Frames++
	c.mu.Unlock()
	switch v := m.(type) {
	case *netproto.Heartbeat:
		c.mu.Lock()
		c.stats.Heartbeats++
		c.mu.Unlock()
	case *netproto.ClientWelcome:
		c.mu.Lock()
		c.recordLocked("second ClientWelcome (client %d)", v.Client)
		c.mu.Unlock()
	case *netproto.CreateEntity:
		c.onCreate(v)
	case *netproto.DestroyEntity:
		c.onDestroy(v.Entity)
	case *netproto.AttrDelta:
		c.onAttrDelta(v)
	case *netproto.CallClient:
		c.onCallClient(v)
	case *netproto.ClientCallReply:
		c.onReply(v)
	case *netproto.Disconnect:
		c.mu.Lock()
		c.disconnect = v
		c.mu.Unlock()
		return &DisconnectError{Reason: v.Reason, Code: v.Code}
	}
	c.wake()
	return nil
}

// wake lets WaitUntil callers re-evaluate their condition after a frame.
func (c *Client) wake() {
	c.mu.Lock()
	c.changedLocked()
	c.mu.Unlock()
}

func (c *Client) onCreate(m *netproto.CreateEntity) {
	if m.Entity == 0 {
		c.mu.Lock()
		c.recordLocked("CreateEntity of entity 0 (type %q)", m.Type)
		c.mu.Unlock()
		return
	}
	attrs := m.Attrs
	if attrs == nil {
		attrs = map[string]any{}
	}
	c.mu.Lock()
	c.stats.Creates++
	if old, dup := c.view.entities[m.Entity]; dup {
		// The server's latest word wins; the duplicate is still an error.
		c.recordLocked("duplicate CreateEntity of entity %d (type %q, already %q)", m.Entity, m.Type, old.typ)
	}
	s := &entityState{typ: m.Type, pos: m.Pos, yaw: m.Yaw, attrs: attrs}
	c.view.entities[m.Entity] = s
	if m.IsPlayer {
		// A new player entity replaces the old one (an account that
		// logs in to an avatar).
		c.view.player = m.Entity
	}
	var ev Entity
	hook := c.hooks.OnCreate
	if hook != nil {
		ev = c.view.snapshot(m.Entity, s)
	}
	c.mu.Unlock()
	if hook != nil {
		c.callHook(func() { hook(c, ev) })
	}
}

func (c *Client) onDestroy(id uint64) {
	c.mu.Lock()
	c.stats.Destroys++
	s, ok := c.view.entities[id]
	if !ok {
		c.recordLocked("DestroyEntity of unknown entity %d", id)
		c.mu.Unlock()
		return
	}
	hook := c.hooks.OnDestroy
	var ev Entity
	if hook != nil {
		ev = c.view.snapshot(id, s)
	}
	delete(c.view.entities, id)
	if c.view.player == id {
		c.view.player = 0
	}
	c.mu.Unlock()
	if hook != nil {
		c.callHook(func() { hook(c, ev) })
	}
}

func (c *Client) onAttrDelta(m *netproto.AttrDelta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.AttrDeltas++
	s, ok := c.view.entities[m.Entity]
	if !ok {
		c.recordLocked("AttrDelta for unknown entity %d (%d changes)", m.Entity, len(m.Changes))
		return
	}
	if err := ApplyAttrChanges(s.attrs, m.Changes); err != nil {
		c.recordLocked("AttrDelta for entity %d: %w", m.Entity, err)
	}
}

func (c *Client) onPositions(recs []netproto.PositionRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Frames++
	c.stats.PositionRecords += uint64(len(recs))
	for i := range recs {
		r := &recs[i]
		s, ok := c.view.entities[r.Entity]
		if !ok {
			c.recordLocked("position of unknown entity %d", r.Entity)
			continue
		}
		s.pos = netproto.Vec3{X: r.X, Y: r.Y, Z: r.Z}
		s.yaw = r.Yaw
	}
}

func (c *Client) onCallClient(m *netproto.CallClient) {
	c.mu.Lock()
	c.stats.CallClients++
	if _, ok := c.view.entities[m.Entity]; !ok {
		// Still delivered: the handler may know what to do with it.
		c.recordLocked("CallClient %q on unknown entity %d", m.Method, m.Entity)
	}
	c.mu.Unlock()
	var args []any
	if len(m.Args) > 0 {
		var err error
		if args, err = c.codec.DecodeArgs(m.Args); err != nil {
			c.mu.Lock()
			c.recordLocked("CallClient %q on entity %d: %w", m.Method, m.Entity, err)
			c.mu.Unlock()
			return
		}
	}
	if hook := c.hooks.OnCallClient; hook != nil {
		call := ServerCall{Entity: m.Entity, Method: m.Method, Args: args}
		c.callHook(func() { hook(c, call) })
	}
}

// PlayerID is the client's own entity (the last CreateEntity with IsPlayer
// still in view), or 0.
func (c *Client) PlayerID() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.view.player
}

// Player returns a snapshot of the player entity.
func (c *Client) Player() (Entity, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.view.entities[c.view.player]
	if !ok {
		return Entity{}, false
	}
	return c.view.snapshot(c.view.player, s), true
}

// Entity returns a snapshot of entity id, if the client sees it.
func (c *Client) Entity(id uint64) (Entity, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.view.entities[id]
	if !ok {
		return Entity{}, false
	}
	return c.view.snapshot(id, s), true
}

// Entities returns a snapshot of every entity the client sees (the player
// included), sorted by ID. It copies every attribute tree; EntityIDs is the
// cheap form.
func (c *Client) Entities() []Entity {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Entity, 0, len(c.view.entities))
	for id, s := range c.view.entities {
		out = append(out, c.view.snapshot(id, s))
	}
	slices.SortFunc(out, func(a, b Entity) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// EntityIDs returns the ids of every entity the client sees (the player
// included), sorted.
func (c *Client) EntityIDs() []uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]uint64, 0, len(c.view.entities))
	for id := range c.view.entities {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// NumEntities is how many entities the client sees (the player included).
func (c *Client) NumEntities() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.view.entities)
}

// Move sends the player entity's new position and yaw (radians) to the gate
// (ClientMove) and updates the local view at once, with the yaw as the wire
// quantises it: the server need not echo a client its own moves. The gate
// applies it only if the game lets this client move its entity, within the
// speed limit.
func (c *Client) Move(x, y, z, yaw float32) error {
	for _, f := range [...]float32{x, y, z, yaw} {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return fmt.Errorf("client: move: non-finite position or yaw (%v, %v, %v, %v)", x, y, z, yaw)
		}
	}
	c.mu.Lock()
	id := c.view.player
	s := c.view.entities[id]
	if s == nil {
		c.mu.Unlock()
		return ErrNoPlayer
	}
	s.pos = netproto.Vec3{X: x, Y: y, Z: z}
	s.yaw = netproto.DequantizeYaw(netproto.QuantizeYaw(yaw))
	c.changedLocked()
	c.mu.Unlock()
	rec := []netproto.PositionRecord{{Entity: id, X: x, Y: y, Z: z, Yaw: yaw}}
	return c.send(&netproto.ClientMove{Records: rec})
}
