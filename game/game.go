package game

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/netproto"
	"github.com/ecsworld/ecsworld/snapshot"
	"github.com/ecsworld/ecsworld/systems"
)

// Config is what a game process needs from the cluster file.
type Config struct {
	// Game is this game's resolved section (id, secret, tick rate, boot
	// entity, link settings).
	Game config.Game
	// Dispatchers are the dispatcher addresses in shard order
	// (config.Cluster.DispatcherAddrs).
	Dispatchers []string
	// Restored makes New restore the world from the freeze snapshot
	// (SnapshotPath) instead of starting empty, and Run say
	// Hello.Restored. New fails (ErrRestore) when the snapshot is missing,
	// bad or not compatible.
	Restored bool
	// SnapshotPath is where a freeze writes and a restore reads; "" means
	// Game.SnapshotPath().
	SnapshotPath string
	// FreezeTimeout bounds the wait for every dispatcher's FreezeAck; past
	// it the freeze is aborted (FreezeResume) and the game carries on. 0
	// means DefaultFreezeTimeout.
	FreezeTimeout time.Duration
	// CallTimeout bounds how long a call waits for its CallReply; 0 means
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// MigrateTimeout bounds how long a migration waits for MigrateHold; 0
	// means DefaultMigrateTimeout.
	MigrateTimeout time.Duration
	// InboxSize bounds the decoded messages waiting for the tick; 0 means
	// DefaultInboxSize. A full inbox makes the network goroutines wait (TCP
	// back-pressure), it drops nothing.
	InboxSize int
}

// Defaults of Config.
const (
	DefaultCallTimeout    = 30 * time.Second
	DefaultMigrateTimeout = 10 * time.Second
	DefaultInboxSize      = 1 << 16
)

// Setup is the user's game: its schema, its systems and its start.
type Setup struct {
	// Types are the entity types, registered in order; the boot entity type
	// of the config must be among them.
	Types []*ecs.EntityType
	// Components are registered besides those the types name (components
	// added to entities later with Set).
	Components []ecs.Component
	// Systems run in stage 4, in order.
	Systems []systems.System
	// ClientMoved names the entity types whose own client moves them
	// (SyncFromClient), with the speed limit the gate applies (units per
	// second, 0: the gate's own limit).
	ClientMoved map[string]float32
	// AOI configures the AOI stage; CellSize 0 takes the config's
	// AOICellSize. Its Logger is set by the game.
	AOI systems.AOIOptions
	// OnStart runs on the tick goroutine before the first tick: create the
	// spaces and the services here.
	OnStart func(g *Game) error
	// OnRestore runs instead of OnStart in a restored game, on the tick
	// goroutine before the first tick and after every entity's OnRestored:
	// find the spaces and entities the game code keeps references to.
	OnRestore func(g *Game) error
}

// Errors of Game's API, wrapped with details.
var (
	// ErrRemote: the called method failed on another game (the message is
	// the remote error's text).
	ErrRemote = errors.New("game: remote call failed")
	// ErrCallTimeout: no CallReply came within Config.CallTimeout.
	ErrCallTimeout = errors.New("game: call timed out")
	// ErrNoDispatcher: the dispatcher that carries the message is not
	// connected; the message is dropped.
	ErrNoDispatcher = errors.New("game: dispatcher not connected")
	// ErrMigrating: the entity is already migrating.
	ErrMigrating = errors.New("game: entity is migrating")
	// ErrRunning: Run was called twice.
	ErrRunning = errors.New("game: already running")
)

// Game is one game process. Make it with New and start it with Run. All
// methods belong to the tick goroutine (the one running Run, and every
// hook, method and system it calls) except Stats and Do.
type Game struct {
	cfg    Config
	id     uint16
	log    *zap.Logger
	warn   *zap.Logger // sampled, for per-message problems
	codec  *netproto.Codec
	reg    *ecs.Registry
	world  *ecs.World
	rpc    *systems.RPC
	timers *systems.Timers
	aoi    *systems.AOI
	sync   *systems.Sync
	sched  *systems.Scheduler
	setup  Setup
	types  []netproto.EntityTypeSchema

	links []*dispLink
	inbox chan inMsg

	// tick goroutine state
	nextID      uint64
	pending     map[uint64]*pendingCall // our calls awaiting a CallReply
	replies     map[uint64]replyRoute   // calls dispatched here awaiting the RPC stage
	services    map[string]ecs.EntityID
	owned       map[string]ecs.EntityID // services we won, registered again after a reconnect
	lookups     map[uint64]*lookup
	registering map[string][]func(holder ecs.EntityID, won bool)
	migrations  map[ecs.EntityID]*migration
	handoffs    []*migration          // held this tick, handed off in the outbox stage
	migratedOut map[ecs.EntityID]bool // removed this tick by a migration
	routed      map[ecs.EntityID]bool // EntityCreated reported
	out         outbox
	obs         observers // the clients watching (the live map)
	lastLoad    time.Time
	lastSweep   time.Time
	now         time.Time

	running atomic.Bool
	st      counters

	// freeze and restore (freeze.go)
	freezeCh   chan struct{}
	frz        *freezing // tick goroutine
	frzMu      sync.Mutex
	frzInfo    FreezeInfo
	frzDone    bool
	restoreDur time.Duration
	callBase   uint64 // call ids at or below it were the frozen process's
}

// inMsg is one item of the inbox: a decoded message from dispatcher link
// from, or a function to run on the tick goroutine.
type inMsg struct {
	from int
	msg  netproto.Message
	fn   func(*Game)
}

// pendingCall is a call of ours waiting for its reply.
type pendingCall struct {
	cb       func(error)
	deadline time.Time
}

// replyRoute says where the reply of a call dispatched here goes.
type replyRoute struct {
	local  func(error) // a call made on this game
	to     netproto.Peer
	callID uint64
	client uint64
	target ecs.EntityID
}

type lookup struct {
	name string
	cb   func(ecs.EntityID)
}

// New builds a game: it registers the setup's schema, builds the world and
// the tick. Nothing runs until Run.
func New(cfg Config, setup Setup, log *zap.Logger) (*Game, error) {
	if log == nil {
		log = zap.NewNop()
	}
	gc := cfg.Game
	if gc.ID == 0 {
		return nil, errors.New("game: config has no game id")
	}
	if len(cfg.Dispatchers) == 0 {
		return nil, errors.New("game: no dispatcher addresses")
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.MigrateTimeout <= 0 {
		cfg.MigrateTimeout = DefaultMigrateTimeout
	}
	if cfg.InboxSize <= 0 {
		cfg.InboxSize = DefaultInboxSize
	}
	if cfg.FreezeTimeout <= 0 {
		cfg.FreezeTimeout = DefaultFreezeTimeout
	}
	began := time.Now()
	if gc.Link.MaxFrame <= 0 {
		gc.Link.MaxFrame = netproto.DefaultInternalMaxFrame
	}
	if gc.TickRate <= 0 {
		gc.TickRate = 20
	}
	cfg.Game = gc
	log = log.With(zap.String("game", gc.Name()))

	lim := netproto.InternalLimits()
	lim.MaxPayload = gc.Link.MaxFrame - 2
	codec, err := netproto.NewCodec(lim)
	if err != nil {
		return nil, fmt.Errorf("game: %w", err)
	}
	reg := ecs.NewRegistry()
	for _, c := range setup.Components {
		if err := reg.RegisterComponent(c); err != nil {
			return nil, fmt.Errorf("game: %w", err)
		}
	}
	for _, t := range setup.Types {
		if err := reg.RegisterType(t); err != nil {
			return nil, fmt.Errorf("game: %w", err)
		}
	}
	if gc.BootEntity != "" {
		if _, ok := reg.Type(gc.BootEntity); !ok {
			return nil, fmt.Errorf("game: boot entity type %q (config boot_entity) is not among the setup's types", gc.BootEntity)
		}
	}
	for name := range setup.ClientMoved {
		if _, ok := reg.Type(name); !ok {
			return nil, fmt.Errorf("game: client-moved type %q is not among the setup's types", name)
		}
	}

	g := &Game{
		cfg:         cfg,
		id:          gc.ID,
		log:         log,
		warn:        sampled(log),
		codec:       codec,
		reg:         reg,
		setup:       setup,
		inbox:       make(chan inMsg, cfg.InboxSize),
		pending:     make(map[uint64]*pendingCall),
		replies:     make(map[uint64]replyRoute),
		services:    make(map[string]ecs.EntityID),
		owned:       make(map[string]ecs.EntityID),
		lookups:     make(map[uint64]*lookup),
		registering: make(map[string][]func(ecs.EntityID, bool)),
		migrations:  make(map[ecs.EntityID]*migration),
		migratedOut: make(map[ecs.EntityID]bool),
		routed:      make(map[ecs.EntityID]bool),
		freezeCh:    make(chan struct{}, 1),
	}
	wopts := ecs.WorldOptions{
		IDs:     ecs.NewIDGen(gc.ID, nil),
		OnError: func(err error) { g.st.hookPanics.Add(1); g.warn.Error("hook failed", zap.Error(err)) },
	}
	var restored *snapshot.Restored
	if cfg.Restored {
		if restored, err = g.readSnapshot(wopts); err != nil {
			return nil, err
		}
		g.world = restored.World
	} else {
		g.world = ecs.NewWorld(reg, wopts)
	}
	g.types = schemaOf(reg)

	aopts := setup.AOI
	if aopts.CellSize == 0 {
		aopts.CellSize = float32(gc.AOICellSize)
	}
	aopts.Logger = log
	g.rpc = systems.NewRPC(g.world, systems.RPCOptions{Logger: log, Reply: g.onReply})
	g.timers = systems.NewTimers(g.world, systems.TimerOptions{Logger: log})
	g.aoi = systems.NewAOI(g.world, aopts)
	posEvery := 1
	if r := gc.PositionSyncRate; r > 0 && r < gc.TickRate {
		posEvery = gc.TickRate / r
	}
	g.sync = systems.NewSync(g.world, systems.SyncOptions{AOI: g.aoi, PositionEvery: posEvery, Emit: g.emit})
	g.sched = systems.NewScheduler(g.world, systems.Stages{
		Inbox:    systems.SystemFunc("inbox", g.drainInbox),
		RPC:      g.rpc,
		Timers:   g.timers,
		Movement: systems.NewMovement(g.world),
		AOI:      g.aoi,
		Sync:     g.sync,
		Outbox:   systems.SystemFunc("outbox", g.flushOutbox),
	}, systems.SchedulerOptions{Logger: log, Interval: gc.TickInterval()})
	for _, s := range setup.Systems {
		g.sched.AddUser(s)
	}
	for i, addr := range cfg.Dispatchers {
		g.links = append(g.links, newDispLink(i, addr))
	}
	if restored != nil {
		if err := g.adoptSnapshot(restored); err != nil {
			return nil, err
		}
		g.restoreDur = time.Since(began)
	}
	return g, nil
}

// AddSystem appends a user system to stage 4, after Setup.Systems: for
// systems that need the *Game New returned. Call it before Run.
func (g *Game) AddSystem(sys systems.System) error {
	if g.running.Load() {
		return fmt.Errorf("game: AddSystem %s: %w", sys.Name(), ErrRunning)
	}
	g.sched.AddUser(sys)
	return nil
}

// Run is New then Game.Run.
func Run(ctx context.Context, cfg Config, setup Setup, log *zap.Logger) error {
	g, err := New(cfg, setup, log)
	if err != nil {
		return err
	}
	return g.Run(ctx)
}

// sampled wraps log so a problem repeated per message logs a few lines a
// second, not thousands.
func sampled(log *zap.Logger) *zap.Logger {
	return log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewSamplerWithOptions(c, time.Second, 5, 100)
	}))
}

// schemaOf lists every type's client-callable methods for Hello.
func schemaOf(reg *ecs.Registry) []netproto.EntityTypeSchema {
	var out []netproto.EntityTypeSchema
	for _, t := range reg.Types() {
		s := netproto.EntityTypeSchema{Name: t.Name()}
		for _, m := range t.Methods() {
			switch m.Permission() {
			case ecs.OwnClient:
				s.Methods = append(s.Methods, netproto.MethodSchema{Name: m.Name(), Perm: netproto.PermOwnClient})
			case ecs.AnyClient:
				s.Methods = append(s.Methods, netproto.MethodSchema{Name: m.Name(), Perm: netproto.PermAnyClient})
			}
		}
		out = append(out, s)
	}
	return out
}

// Run connects to the dispatchers and runs the tick until ctx ends. The
// calling goroutine becomes the tick goroutine; Setup.OnStart runs on it
// first (OnRestore in a restored game). It returns nil when ctx ends,
// ErrFrozen once a freeze wrote the snapshot, or OnStart's error.
func (g *Game) Run(ctx context.Context) error {
	if !g.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	g.now = time.Now()
	if g.cfg.Restored {
		if err := g.runRestored(); err != nil {
			return err
		}
	} else if g.setup.OnStart != nil {
		if err := g.setup.OnStart(g); err != nil {
			return fmt.Errorf("game: OnStart: %w", err)
		}
	}
	// The links outlive ctx by the final flush: they stop on their own
	// context, cancelled once the last tick's output is flushed.
	lctx, lcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer lcancel()
	var wg sync.WaitGroup
	for _, l := range g.links {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.connLoop(lctx, l)
		}()
	}
	g.log.Info("game running", zap.Int("tick_rate", g.cfg.Game.TickRate), zap.Strings("dispatchers", g.cfg.Dispatchers))
	ticker := time.NewTicker(g.cfg.Game.TickInterval())
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			for _, l := range g.links {
				l.shutdown()
			}
			lcancel()
			wg.Wait()
			g.log.Info("game stopped", zap.Uint64("ticks", g.sched.LastTick()))
			return nil
		case <-g.freezeCh:
			g.startFreeze()
		case now := <-ticker.C:
			g.now = now
			g.sched.RunTick(now)
			if g.frz != nil && g.freezeStep() {
				for _, l := range g.links {
					l.shutdown()
				}
				lcancel()
				wg.Wait()
				return ErrFrozen
			}
		}
	}
}

// Do runs fn on the tick goroutine at the next inbox stage: the way other
// goroutines (an admin endpoint, a test) act on the world. It blocks while
// the inbox is full and returns false if ctx ends first.
func (g *Game) Do(ctx context.Context, fn func(g *Game)) bool {
	select {
	case g.inbox <- inMsg{from: -1, fn: fn}:
		return true
	case <-ctx.Done():
		return false
	}
}

// ID returns the game id.
func (g *Game) ID() uint16 { return g.id }

// World returns the world (tick goroutine only).
func (g *Game) World() *ecs.World { return g.world }

// Timers returns the timer stage.
func (g *Game) Timers() *systems.Timers { return g.timers }

// AOI returns the AOI stage.
func (g *Game) AOI() *systems.AOI { return g.aoi }

// RPC returns the RPC stage.
func (g *Game) RPC() *systems.RPC { return g.rpc }

// Scheduler returns the tick scheduler.
func (g *Game) Scheduler() *systems.Scheduler { return g.sched }

// SyncStage returns the sync stage.
func (g *Game) SyncStage() *systems.Sync { return g.sync }

// Codec returns the game's wire codec (for encoding arguments as the wire
// does).
func (g *Game) Codec() *netproto.Codec { return g.codec }

// nextCallID returns a new id for calls, lookups and replies.
func (g *Game) nextCallID() uint64 {
	g.nextID++
	return g.nextID
}

// shard returns the dispatcher index for key.
func (g *Game) shard(key uint64) int { return netproto.Shard(key, len(g.links)) }

// Create creates an entity of type typ on this game (World.Create) and
// reports its route to its dispatcher.
func (g *Game) Create(typ string, opts ecs.CreateOptions) (*ecs.Entity, error) {
	e, err := g.world.Create(typ, opts)
	if err != nil {
		return nil, err
	}
	g.reportCreated(e)
	if e.Client().Bound() {
		g.sync.Notice(e)
	}
	return e, nil
}

func (g *Game) reportCreated(e *ecs.Entity) {
	if e.Destroyed() {
		return
	}
	g.routed[e.ID()] = true
	g.sendShard(uint64(e.ID()), &netproto.EntityCreated{Entity: uint64(e.ID()), Game: g.id})
}

// CreateAnywhere asks the dispatchers to create an entity on the
// least-loaded game (maybe this one) and returns its ID at once. space, if
// not 0, is the space it enters (it must be on the chosen game).
func (g *Game) CreateAnywhere(typ string, attrs map[string]any, pos ecs.Vec3, yaw float32, space ecs.EntityID) (ecs.EntityID, error) {
	id := g.world.IDs().Next()
	err := g.sendShard(uint64(id), &netproto.CreateEntityAnywhere{Entity: uint64(id), Type: typ, Attrs: attrs,
		Pos: vec(pos), Yaw: yaw, Space: uint64(space)})
	return id, err
}

// CreateOnGame asks game to create an entity and returns its ID at once.
func (g *Game) CreateOnGame(game uint16, typ string, attrs map[string]any, pos ecs.Vec3, yaw float32, space ecs.EntityID) (ecs.EntityID, error) {
	id := g.world.IDs().Next()
	err := g.sendShard(uint64(id), &netproto.CreateEntityOnGame{Game: game, Entity: uint64(id), Type: typ, Attrs: attrs,
		Pos: vec(pos), Yaw: yaw, Space: uint64(space)})
	return id, err
}

// Call calls method on the entity target, wherever it lives, as the server
// acting for from (0: no entity). A call to an entity of this game never
// leaves the process: it runs at the next RPC stage.
func (g *Game) Call(from, target ecs.EntityID, method string, args ...any) error {
	return g.CallWithReply(from, target, method, nil, args...)
}

// CallWithReply is Call with a callback that gets the outcome (nil on
// success, the method's error, or ErrRemote / ErrCallTimeout wrapped),
// on the tick goroutine.
func (g *Game) CallWithReply(from, target ecs.EntityID, method string, reply func(error), args ...any) error {
	b, err := ecs.EncodeArgs(args...)
	if err != nil {
		return err
	}
	return g.CallRaw(from, target, method, b, reply)
}

// CallRaw is CallWithReply with arguments already encoded (one CBOR
// array, ecs.EncodeArgs).
func (g *Game) CallRaw(from, target ecs.EntityID, method string, args []byte, reply func(error)) error {
	var id uint64
	if _, ok := g.world.Entity(target); ok {
		if reply != nil {
			id = g.nextCallID()
			g.replies[id] = replyRoute{local: reply}
		}
		g.rpc.Enqueue(systems.Call{Target: target, Method: method, Args: args,
			Caller: ecs.Caller{Kind: ecs.CallerServer, Entity: from}, ID: id})
		return nil
	}
	kind := netproto.CallerServer
	if from != 0 {
		kind = netproto.CallerEntity
	}
	if reply != nil {
		id = g.nextCallID()
	}
	err := g.sendShard(uint64(target), &netproto.CallEntity{Target: uint64(target), Method: method, Args: args,
		Caller: netproto.Caller{Kind: kind, Entity: uint64(from), Game: g.id}, CallID: id})
	if err != nil {
		return err
	}
	if reply != nil {
		g.pending[id] = &pendingCall{cb: reply, deadline: g.now.Add(g.cfg.CallTimeout)}
	}
	return nil
}

// onReply is the RPC stage's reply sink.
func (g *Game) onReply(c systems.Call, err error) {
	r, ok := g.replies[c.ID]
	if !ok {
		return
	}
	delete(g.replies, c.ID)
	if r.local != nil {
		r.local(err)
		return
	}
	msg := &netproto.CallReply{CallID: r.callID, To: r.to, Client: r.client}
	if err != nil {
		msg.Error = err.Error()
	}
	key := uint64(r.target)
	if r.to.Role == netproto.RoleGate {
		key = uint64(r.to.ID)
	}
	g.sendShard(key, msg)
}

// CallClient calls method on the client side of e (its own client), in
// this tick's gate batch. It fails if e has no client.
func (g *Game) CallClient(e *ecs.Entity, method string, args ...any) error {
	b := e.Client()
	if !b.Bound() {
		return fmt.Errorf("game: CallClient %s.%s: %w: no client", e, method, ecs.ErrNoEntity)
	}
	a, err := g.codec.EncodeArgs(args...)
	if err != nil {
		return err
	}
	return g.out.extra(g.codec, b, &netproto.CallClient{Entity: uint64(e.ID()), Method: method, Args: a})
}

// KickClient asks b's gate to disconnect the client.
func (g *Game) KickClient(b ecs.ClientBinding, reason string) error {
	return g.sendShard(uint64(b.Gate), &netproto.KickClient{Gate: b.Gate, Client: uint64(b.Client), Reason: reason})
}

// RegisterService claims name for entity e cluster-wide (first writer
// wins). done, if set, gets the holder and whether e won.
func (g *Game) RegisterService(name string, e ecs.EntityID, done func(holder ecs.EntityID, won bool)) error {
	if err := g.sendTo(netproto.ShardString(name, len(g.links)), &netproto.ServiceRegister{Name: name, Entity: uint64(e)}); err != nil {
		return err
	}
	g.registering[name] = append(g.registering[name], done)
	return nil
}

// LookupService finds the entity holding name (0: none) and gives it to cb
// on the tick goroutine. Known holders are answered from a cache at once.
func (g *Game) LookupService(name string, cb func(ecs.EntityID)) error {
	if id, ok := g.services[name]; ok {
		cb(id)
		return nil
	}
	id := g.nextCallID()
	if err := g.sendTo(netproto.ShardString(name, len(g.links)), &netproto.ServiceLookup{Name: name, CallID: id}); err != nil {
		return err
	}
	g.lookups[id] = &lookup{name: name, cb: cb}
	return nil
}

// CallService calls method on the holder of service name; reply (may be
// nil) gets the outcome, or an error if nobody holds the name.
func (g *Game) CallService(from ecs.EntityID, name, method string, reply func(error), args ...any) error {
	b, err := ecs.EncodeArgs(args...)
	if err != nil {
		return err
	}
	return g.LookupService(name, func(holder ecs.EntityID) {
		if holder == 0 {
			g.st.dropped.Add(1)
			if reply != nil {
				reply(fmt.Errorf("game: service %q: %w: not registered", name, ecs.ErrNoEntity))
			}
			return
		}
		if err := g.CallRaw(from, holder, method, b, reply); err != nil && reply != nil {
			reply(err)
		}
	})
}

// EnterSpace puts e into space at pos: directly if the space is on this
// game, else by migrating e to the space's origin game.
func (g *Game) EnterSpace(e *ecs.Entity, space ecs.EntityID, pos ecs.Vec3) error {
	if s, ok := g.world.Entity(space); ok {
		return e.EnterSpace(s, pos)
	}
	to := netproto.Origin(uint64(space))
	if to == g.id || to == 0 {
		return fmt.Errorf("game: enter space %s: %w", space, ecs.ErrNoEntity)
	}
	return g.Migrate(e, to, space, pos)
}

func vec(v ecs.Vec3) netproto.Vec3 { return netproto.Vec3{X: v.X, Y: v.Y, Z: v.Z} }
func unvec(v netproto.Vec3) ecs.Vec3 {
	return ecs.Vec3{X: v.X, Y: v.Y, Z: v.Z}
}
