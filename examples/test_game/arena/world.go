// Package arena is the world of the example game (examples/test_game), as
// a library: the test_game command runs it as a game process, and
// `ecsworld demo` runs it inside a whole in-process cluster. It uses the
// public API only, as a user's game would.
//
//   - Account is the boot entity of every client. Its Login(name) method
//     (own client) creates an Avatar in this game's arena, hands it the
//     client and destroys the account.
//   - Avatar is the player: client-moved (the gate enforces a speed limit),
//     seen within an AOI radius of 30, with attributes name, game, pokes
//     (all clients) and secret, level (own client only). Methods, one per
//     permission kind: Ping(n), Say(text), Travel(game) are own-client;
//     Poke() is any-client; Hear(from, text) and Grant(n) are server-only.
//     When its client goes (disconnect, or its gate dies) it is logged,
//     counted and destroyed.
//   - Ping bumps "level" and calls the client's Pong(n).
//   - Say goes through the "chat" service (a ChatHub entity on the first
//     game that registers it), which calls Hear on every avatar of the
//     cluster, which calls the client's Chat(from, text): a chat-style
//     broadcast across games.
//   - Travel(game) migrates the avatar to the arena of another game (found
//     through the service "space.<id>"), at the same coordinates, keeping
//     its attributes and its client.
//   - Monsters wander in the arena (a user system).
//
// World.DebugHandler serves the debug endpoint the e2e tests and the bots
// read (see its doc).
package arena

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/game"
	"github.com/ecsworld/ecsworld/systems"
)

// The world's shape. The bots (examples/test_client/bots) use the same
// numbers: keep them in step.
const (
	arenaHalf     = 100 // every arena spans [-100, 100] on X and Z
	avatarRadius  = 30  // how far an avatar sees
	monsterRadius = 10  // monsters see a little (they only need to be seen)
	monsterSpeed  = 4   // units per second
	avatarSpeed   = 15  // the gate's limit for avatar moves (units per second)
	spawnHalf     = 10  // avatars appear in [-10, 10]: every new avatar sees the others
	chatService   = "chat"
)

// spaceService names the service under which game id registers its arena,
// so another game can find the space to migrate an avatar to.
func spaceService(id uint16) string { return "space." + strconv.Itoa(int(id)) }

// Wander is a monster's roaming state: its own plain Go struct, registered
// under a stable name.
type Wander struct {
	Speed float32
	Steps int // destinations picked so far
}

// HubMembers is the chat hub's list of avatars, wherever they live.
type HubMembers struct {
	IDs map[ecs.EntityID]bool
}

// counters are the test game's own counters, read by the debug endpoint
// from another goroutine (atomics).
type counters struct {
	logins, loginErrors         atomic.Uint64
	clientConnects, clientDrops atomic.Uint64 // Avatar OnClientConnected / OnClientDisconnected
	accountDrops                atomic.Uint64 // Account OnClientDisconnected before a login
	pings, says, hears, pokes   atomic.Uint64
	travels, travelErrors       atomic.Uint64
	arrivals                    atomic.Uint64 // avatars that entered the arena from another game
	grants                      atomic.Uint64
	chatErrors, clientCallErrs  atomic.Uint64
}

// DefaultMonsters is how many monsters an arena holds when Options leave
// it unset.
const DefaultMonsters = 20

// Options configure a World.
type Options struct {
	// Monsters in this game's arena; 0 means none (Setup uses
	// DefaultMonsters).
	Monsters int
	// Seed of the world's randomness (with the game id as the stream); 0
	// means from the clock.
	Seed uint64
	// Log is the game's logger; nil: none.
	Log *zap.Logger
}

// New returns a world for one game process; World.Setup is its game.
func New(o Options) *World {
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	return &World{log: o.Log, seed: o.Seed, monsters: o.Monsters, wanderers: ecs.NewQuery(wanderComp)}
}

// Setup is the example game for one game process, with DefaultMonsters
// monsters and a seed from the clock: the form inproc.Options.Setup (and
// so `ecsworld demo`) takes.
func Setup(cfg config.Game, log *zap.Logger) (game.Setup, error) {
	return New(Options{Monsters: DefaultMonsters, Log: log}).Setup(), nil
}

// World is the example game: its schema, its systems and its state. One
// value per game process, no package-level state.
type World struct {
	g      *game.Game
	log    *zap.Logger
	seed   uint64
	rng    *rand.Rand
	arena  *ecs.Entity
	hub    ecs.EntityID // the chat hub this game created (0 once it lost the service)
	frozen atomic.Bool  // monsters stand still (set through the debug endpoint)
	n      counters

	monsters  int
	wanderers *ecs.Query
}

var (
	wanderComp = ecs.NewComponent[Wander]("test_game.Wander")
	hubComp    = ecs.NewComponent[HubMembers]("test_game.HubMembers")
)

// Setup declares the schema: Account (boot entity), Avatar (client-moved
// player), Monster, Arena (space) and ChatHub (service). Its OnStart
// creates the arena, its OnRestore finds it again in a restored world; a
// World serves one game.
func (w *World) Setup() game.Setup {
	account := ecs.NewEntityType("Account").
		Method(ecs.Method1("Login", ecs.OwnClient, w.login)).
		OnClientDisconnected(func(e *ecs.Entity) {
			// A client that leaves before logging in: its account goes.
			w.n.accountDrops.Add(1)
			e.Destroy()
		})

	avatar := ecs.NewEntityType("Avatar").
		Attr("name", ecs.AttrAllClients).
		Attr("game", ecs.AttrAllClients).
		Attr("pokes", ecs.AttrAllClients).
		Attr("secret", ecs.AttrOwnClient).
		Attr("level", ecs.AttrOwnClient).
		AOI(avatarRadius).
		// Own client: only the avatar's player may call these.
		Method(ecs.Method1("Ping", ecs.OwnClient, w.ping)).
		Method(ecs.Method1("Say", ecs.OwnClient, w.say)).
		Method(ecs.Method1("Travel", ecs.OwnClient, w.travel)).
		// Any client that sees the avatar.
		Method(ecs.Method0("Poke", ecs.AnyClient, w.poke)).
		// Server only: the chat hub calls Hear; Grant is for admins (and
		// for the gate's refusal tests).
		Method(ecs.Method2("Hear", ecs.ServerOnly, w.hear)).
		Method(ecs.Method1("Grant", ecs.ServerOnly, w.grant)).
		OnCreated(func(e *ecs.Entity) {
			if err := w.g.CallService(e.ID(), chatService, "Join", nil, uint64(e.ID())); err != nil {
				w.n.chatErrors.Add(1)
			}
		}).
		OnEnterSpace(func(e, space *ecs.Entity) {
			if old := e.Attrs().Int("game"); old != 0 && old != int64(w.g.ID()) {
				w.n.arrivals.Add(1)
			}
			_ = e.Attrs().Set("game", int64(w.g.ID()))
		}).
		OnClientConnected(func(e *ecs.Entity) { w.n.clientConnects.Add(1) }).
		OnClientDisconnected(func(e *ecs.Entity) {
			// Logged (one line per client, rare) and counted: the e2e
			// tests read both.
			w.n.clientDrops.Add(1)
			w.log.Info("avatar lost its client", zap.Stringer("entity", e), zap.String("name", e.Attrs().Str("name")))
			_ = w.g.CallService(e.ID(), chatService, "Leave", nil, uint64(e.ID()))
			e.Destroy()
		})

	monster := ecs.NewEntityType("Monster").
		With(wanderComp).
		Attr("name", ecs.AttrAllClients).
		AOI(monsterRadius)

	arena := ecs.NewEntityType("Arena").Space()

	hub := ecs.NewEntityType("ChatHub").
		With(hubComp).
		Method(ecs.Method1("Join", ecs.ServerOnly, w.hubJoin)).
		Method(ecs.Method1("Leave", ecs.ServerOnly, w.hubLeave)).
		Method(ecs.Method2("Broadcast", ecs.ServerOnly, w.hubBroadcast))

	return game.Setup{
		Types:       []*ecs.EntityType{account, avatar, monster, arena, hub},
		Systems:     []systems.System{systems.SystemFunc("wander", w.wander)},
		ClientMoved: map[string]float32{"Avatar": avatarSpeed},
		AOI:         systems.AOIOptions{MinX: -arenaHalf, MinZ: -arenaHalf, MaxX: arenaHalf, MaxZ: arenaHalf},
		OnStart:     w.start,
		OnRestore:   w.restored,
	}
}

// start creates this game's arena with its monsters, registers the arena
// as a service and offers a chat hub (the first game to register wins).
func (w *World) start(g *game.Game) error {
	w.bind(g)
	var err error
	w.arena, err = g.Create("Arena", ecs.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create the arena: %w", err)
	}
	if err := g.RegisterService(spaceService(g.ID()), w.arena.ID(), nil); err != nil {
		return fmt.Errorf("register the arena: %w", err)
	}
	for i := range w.monsters {
		_, err := g.Create("Monster", ecs.CreateOptions{
			Pos:        w.randomPoint(arenaHalf),
			Space:      w.arena,
			Attrs:      map[string]any{"name": fmt.Sprintf("monster-%d-%d", g.ID(), i)},
			Components: []any{Wander{Speed: monsterSpeed}},
		})
		if err != nil {
			return fmt.Errorf("create monster %d: %w", i, err)
		}
	}
	hub, err := g.Create("ChatHub", ecs.CreateOptions{Components: []any{HubMembers{IDs: map[ecs.EntityID]bool{}}}})
	if err != nil {
		return fmt.Errorf("create the chat hub: %w", err)
	}
	w.hub = hub.ID()
	return g.RegisterService(chatService, hub.ID(), func(holder ecs.EntityID, won bool) {
		if !won {
			// Another game holds the chat: ours is not needed.
			w.hub = 0
			hub.Destroy()
		}
		w.log.Info("chat service", zap.Stringer("holder", holder), zap.Bool("ours", won))
	})
}

// bind ties the world to the game it runs in (its id is the stream of the
// world's randomness).
func (w *World) bind(g *game.Game) {
	w.g = g
	w.rng = rand.New(rand.NewPCG(w.seed, uint64(g.ID())))
}

// restored finds, in a world restored from a snapshot, what start keeps
// references to: the arena and this game's chat hub. The dispatchers
// kept the services registered for them.
func (w *World) restored(g *game.Game) error {
	w.bind(g)
	for _, s := range g.World().Spaces() {
		if s.Type().Name() == "Arena" {
			w.arena = s
		}
	}
	if w.arena == nil {
		return errors.New("the restored world has no arena")
	}
	g.World().Each(func(e *ecs.Entity) bool {
		if e.Type().Name() == "ChatHub" {
			w.hub = e.ID()
		}
		return true
	})
	return nil
}

func (w *World) randomPoint(half float32) ecs.Vec3 {
	return ecs.Vec3{X: (w.rng.Float32()*2 - 1) * half, Z: (w.rng.Float32()*2 - 1) * half}
}

// wander is the user system: a monster that has arrived picks a new point
// and walks there (the movement system does the walking). While frozen,
// monsters stand still, so a test can compare views at rest.
func (w *World) wander(t *systems.Tick) error {
	frozen := w.frozen.Load()
	w.wanderers.Each(t.World, func(e *ecs.Entity) {
		if frozen {
			if _, walking := e.Destination(); walking {
				e.ClearDestination()
				e.SetVelocity(ecs.Vec3{})
			}
			return
		}
		if _, walking := e.Destination(); walking {
			return
		}
		wd := wanderComp.Get(e)
		wd.Steps++
		e.SetDestination(w.randomPoint(arenaHalf*0.9), wd.Speed)
	})
	return nil
}

// login is Account.Login: the account hands its client to a new Avatar in
// this game's arena and goes away. The client sees the account destroyed
// and the avatar created as its player.
func (w *World) login(e *ecs.Entity, c ecs.Caller, name string) error {
	b := e.Client()
	if !b.Bound() || c.Client != b.Client {
		w.n.loginErrors.Add(1)
		return fmt.Errorf("login: account %s has no client", e)
	}
	if name == "" || len(name) > 64 {
		w.n.loginErrors.Add(1)
		return fmt.Errorf("login: bad name (1 to 64 bytes)")
	}
	// The account is destroyed without unbinding (no disconnect hook: this
	// is a login, not a client leaving); the avatar takes the binding, and
	// the sync stage sends the account's destroy and the avatar's create.
	e.Destroy()
	if _, err := w.g.Create("Avatar", ecs.CreateOptions{
		Pos:    w.randomPoint(spawnHalf),
		Space:  w.arena,
		Attrs:  map[string]any{"name": name, "secret": "s-" + name, "level": int64(0), "pokes": int64(0)},
		Client: b,
	}); err != nil {
		w.n.loginErrors.Add(1)
		w.g.KickClient(b, "login failed")
		return fmt.Errorf("login: %w", err)
	}
	w.n.logins.Add(1)
	return nil
}

// ping is Avatar.Ping: it bumps the own-client "level" and calls the
// client back with n.
func (w *World) ping(e *ecs.Entity, c ecs.Caller, n int64) error {
	w.n.pings.Add(1)
	_ = e.Attrs().Set("level", e.Attrs().Int("level")+1)
	if err := w.g.CallClient(e, "Pong", n); err != nil {
		w.n.clientCallErrs.Add(1)
		return err
	}
	return nil
}

// say is Avatar.Say: a chat line for every avatar of the cluster, through
// the chat hub service.
func (w *World) say(e *ecs.Entity, c ecs.Caller, text string) error {
	if len(text) > 200 {
		return fmt.Errorf("say: line too long")
	}
	w.n.says.Add(1)
	return w.g.CallService(e.ID(), chatService, "Broadcast", func(err error) {
		if err != nil {
			w.n.chatErrors.Add(1)
		}
	}, uint64(e.ID()), text)
}

// hear is Avatar.Hear (server only): pass a chat line to the client.
func (w *World) hear(e *ecs.Entity, c ecs.Caller, from uint64, text string) error {
	w.n.hears.Add(1)
	if !e.Client().Bound() {
		return nil // a player between two games or gone: nothing to show
	}
	if err := w.g.CallClient(e, "Chat", from, text); err != nil {
		w.n.clientCallErrs.Add(1)
		return err
	}
	return nil
}

// poke is Avatar.Poke: any client that sees the avatar may poke it.
func (w *World) poke(e *ecs.Entity, c ecs.Caller) error {
	w.n.pokes.Add(1)
	return e.Attrs().Set("pokes", e.Attrs().Int("pokes")+1)
}

// grant is Avatar.Grant (server only): never callable by a client.
func (w *World) grant(e *ecs.Entity, c ecs.Caller, n int64) error {
	w.n.grants.Add(1)
	return e.Attrs().Set("level", e.Attrs().Int("level")+n)
}

// travel is Avatar.Travel: move to the arena of game to, at the same
// coordinates (a cross-game migration when to is another game).
func (w *World) travel(e *ecs.Entity, c ecs.Caller, to int64) error {
	if to < 1 || to > 65535 {
		w.n.travelErrors.Add(1)
		return fmt.Errorf("travel: no game %d", to)
	}
	if uint16(to) == w.g.ID() {
		return nil // already here
	}
	id := e.ID()
	return w.g.LookupService(spaceService(uint16(to)), func(space ecs.EntityID) {
		e, ok := w.g.World().Entity(id)
		if !ok || space == 0 {
			w.n.travelErrors.Add(1)
			w.log.Warn("travel failed", zap.Stringer("entity", id), zap.Int64("to", to), zap.Bool("space_known", space != 0))
			return
		}
		if err := w.g.EnterSpace(e, space, e.Pos()); err != nil {
			w.n.travelErrors.Add(1)
			w.log.Warn("travel failed", zap.Stringer("entity", e), zap.Error(err))
			return
		}
		w.n.travels.Add(1)
	})
}

func (w *World) hubJoin(e *ecs.Entity, c ecs.Caller, id uint64) error {
	hubComp.Get(e).IDs[ecs.EntityID(id)] = true
	return nil
}

func (w *World) hubLeave(e *ecs.Entity, c ecs.Caller, id uint64) error {
	delete(hubComp.Get(e).IDs, ecs.EntityID(id))
	return nil
}

// hubBroadcast is ChatHub.Broadcast: every member hears the line, wherever
// it lives (calls by EntityID cross games through the dispatchers).
func (w *World) hubBroadcast(e *ecs.Entity, c ecs.Caller, from uint64, text string) error {
	for id := range hubComp.Get(e).IDs {
		if err := w.g.Call(e.ID(), id, "Hear", from, text); err != nil {
			w.n.chatErrors.Add(1)
		}
	}
	return nil
}
