// Monsters is the first ecsworld program to read. It runs one game world,
// without any network, the way a game process does inside:
//
//   - it declares two components (Health, Wander) as plain Go structs;
//   - it declares an entity type, Monster, with those components, an AOI
//     radius, two hooks (OnEnterAOI, OnLeaveAOI) and two server-only
//     methods (Hit, Regen);
//   - it declares a space type, Arena, and fills one arena with monsters;
//   - it plugs the engine's systems (RPC dispatch, timers, movement, AOI)
//     and one system of its own (wander) into the tick scheduler;
//   - it runs a few ticks and prints what AOI reported each tick, and at
//     the end the time each system took per tick.
//
// What happens: every monster wanders to random points of the arena. When
// a monster sees another come into its area of interest (OnEnterAOI), it
// hits it: the hook does not call the method directly but queues an RPC,
// which the RPC stage runs at the start of the next tick, exactly as a
// call from a client or another game would be. A monster whose health
// drops to zero faints and is destroyed; a timer heals every monster a
// little every few ticks.
//
//	go run ./examples/monsters -monsters 50 -ticks 20 -seed 1
package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/systems"
)

// Health is a monster's hit points. Components are plain Go structs; the
// engine stores them in donburi and saves them in snapshots by the name
// they are registered under.
type Health struct {
	HP int // 0 or less: the monster faints
}

// Wander is how a monster roams: its walking speed and where it is going.
type Wander struct {
	Speed  float32  // units per second
	Target ecs.Vec3 // the point it walks to now
}

// The component descriptors. ecs wants them declared once, at package
// initialisation; they are immutable, and the names are what snapshots
// and the wire use, so never rename them.
var (
	healthComp = ecs.NewComponent[Health]("monsters.Health")
	wanderComp = ecs.NewComponent[Wander]("monsters.Wander")
)

// The arena and the monsters.
const (
	arenaHalf = 100 // monsters roam [-100, 100] on X and Z
	aoiRadius = 30  // how far a monster sees
	maxHP     = 100
	regenHP   = 2 // healed by the Regen timer...
	regenT    = 5 // ...every 5 ticks
	tickRate  = 10
)

// options are the command-line flags.
type options struct {
	Monsters int
	Ticks    int
	Seed     uint64
}

func main() {
	var o options
	flag.IntVar(&o.Monsters, "monsters", 50, "number of monsters in the arena")
	flag.IntVar(&o.Ticks, "ticks", 20, "number of ticks to run")
	flag.Uint64Var(&o.Seed, "seed", 1, "random seed (the same seed prints the same story)")
	flag.Parse()
	if _, err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "monsters:", err)
		os.Exit(1)
	}
}

// game holds the world, the systems and the example's own state. Keeping
// it in a value (no package-level variables) is how ecsworld code is
// written: two games could run side by side in one process.
type game struct {
	world  *ecs.World
	rpc    *systems.RPC
	timers *systems.Timers
	aoi    *systems.AOI
	sched  *systems.Scheduler
	arena  *ecs.Entity
	rng    *rand.Rand
	out    io.Writer

	wanderers *ecs.Query // monsters that wander; made once, reused

	// what happened, for the report and the summary
	hitLines []string
	stats    result
}

// result sums up a run (the test checks it).
type result struct {
	Enters, Leaves int // AOI events over the run
	Hooks          int // OnEnterAOI + OnLeaveAOI calls
	Hits, Fainted  int
	Alive          int // monsters left at the end
	RPC            systems.RPCStats
}

// run builds the game and runs o.Ticks ticks, printing to out.
func run(o options, out io.Writer) (result, error) {
	if o.Monsters < 0 || o.Ticks < 0 {
		return result{}, fmt.Errorf("negative -monsters or -ticks")
	}
	g, err := newGame(o, out)
	if err != nil {
		return result{}, err
	}
	// A real game process calls RunTick from a time.Ticker at its tick
	// rate. Here ticks run back to back on a simulated clock: with a fixed
	// Interval, Tick.Dt does not depend on the wall clock, so the same
	// seed always tells the same story.
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range o.Ticks {
		g.sched.RunTick(start.Add(time.Duration(i) * time.Second / tickRate))
	}
	g.stats.Alive = g.arena.NumMembers()
	g.stats.RPC = g.rpc.Stats()
	fmt.Fprintf(out, "after %d ticks: %d monsters left, %d hits, %d fainted\n",
		o.Ticks, g.stats.Alive, g.stats.Hits, g.stats.Fainted)
	// The scheduler times every system on every tick; a game exports these
	// as metrics. (Wall-clock figures: they differ from run to run.)
	st := g.sched.Stats()
	fmt.Fprintf(out, "time per tick over the last %d ticks (mean / p99):\n", st.Samples)
	for _, sys := range st.Systems {
		fmt.Fprintf(out, "    %-8s %-8s %9v / %v\n", sys.Stage, sys.Name, sys.Mean.Round(time.Microsecond/10), sys.P99.Round(time.Microsecond/10))
	}
	fmt.Fprintf(out, "    %-17s %9v / %v\n", "whole tick", st.TickMean.Round(time.Microsecond/10), st.TickP99.Round(time.Microsecond/10))
	return g.stats, nil
}

func newGame(o options, out io.Writer) (*game, error) {
	g := &game{rng: rand.New(rand.NewPCG(o.Seed, 0x6d6f6e73)), out: out, wanderers: ecs.NewQuery(wanderComp)}

	// 1. The schema: entity types are declared once and registered.
	monster := ecs.NewEntityType("Monster").
		With(healthComp, wanderComp).
		Attr("name", ecs.AttrAllClients). // clients that see a monster get its name
		AOI(aoiRadius).
		// Methods are declared one by one with who may call them. These two
		// are server-only: a client could never hit a monster directly.
		Method(ecs.Method1("Hit", ecs.ServerOnly, g.hit)).
		Method(ecs.Method1("Regen", ecs.ServerOnly, g.regen)).
		// AOI hooks run on the tick goroutine during the AOI stage.
		OnEnterAOI(g.spotted).
		OnLeaveAOI(func(e, other *ecs.Entity) { g.stats.Hooks++ })
	arena := ecs.NewEntityType("Arena").Space()

	reg := ecs.NewRegistry()
	for _, t := range []*ecs.EntityType{monster, arena} {
		if err := reg.RegisterType(t); err != nil {
			return nil, fmt.Errorf("register %s: %w", t, err)
		}
	}

	// 2. The world. Game id 1 stamps the entity IDs; OnError receives
	// panics of hooks, which never unwind into the tick.
	g.world = ecs.NewWorld(reg, ecs.WorldOptions{
		IDs:     ecs.NewIDGen(1, nil),
		OnError: func(err error) { fmt.Fprintln(out, "error:", err) },
	})

	// 3. The systems, in the scheduler's fixed order: inbox (none here: no
	// network), RPC, timers, user systems, movement, AOI, sync, outbox. The
	// report stands where a networked game's sync stage would be: right
	// after AOI, reading the tick's AOI events. Loggers are nil here (no
	// logging); a game passes its *zap.Logger.
	g.rpc = systems.NewRPC(g.world, systems.RPCOptions{})
	g.timers = systems.NewTimers(g.world, systems.TimerOptions{})
	g.aoi = systems.NewAOI(g.world, systems.AOIOptions{MinX: -arenaHalf, MinZ: -arenaHalf, MaxX: arenaHalf, MaxZ: arenaHalf})
	g.sched = systems.NewScheduler(g.world, systems.Stages{
		RPC:      g.rpc,
		Timers:   g.timers,
		Movement: systems.NewMovement(g.world),
		AOI:      g.aoi,
		Sync:     systems.SystemFunc("report", g.report),
	}, systems.SchedulerOptions{Interval: time.Second / tickRate})
	g.sched.AddUser(systems.SystemFunc("wander", g.wander))

	// 4. The arena and its monsters.
	var err error
	g.arena, err = g.world.Create("Arena", ecs.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create the arena: %w", err)
	}
	for i := range o.Monsters {
		m, err := g.world.Create("Monster", ecs.CreateOptions{
			Pos:   g.randomPoint(),
			Space: g.arena,
			Attrs: map[string]any{"name": fmt.Sprintf("monster-%02d", i)},
			Components: []any{
				Health{HP: maxHP},
				Wander{Speed: 10 + 20*g.rng.Float32()},
			},
		})
		if err != nil {
			return nil, fmt.Errorf("create monster %d: %w", i, err)
		}
		// Timers are data (entity, method, arguments, due tick), not
		// closures, so a snapshot carries them across a hot swap.
		if _, err := g.timers.Every(m, regenT, "Regen", regenHP); err != nil {
			return nil, fmt.Errorf("regen timer of %v: %w", m, err)
		}
	}
	return g, nil
}

func (g *game) randomPoint() ecs.Vec3 {
	return ecs.Vec3{X: (g.rng.Float32()*2 - 1) * arenaHalf, Z: (g.rng.Float32()*2 - 1) * arenaHalf}
}

// wander is the user system: a monster that has arrived (or never left)
// picks a new random point and walks there. The movement system does the
// walking and stops it exactly on the point.
func (g *game) wander(t *systems.Tick) error {
	g.wanderers.Each(t.World, func(e *ecs.Entity) {
		if _, walking := e.Destination(); walking {
			return
		}
		w := wanderComp.Get(e)
		w.Target = g.randomPoint()
		e.SetDestination(w.Target, w.Speed)
	})
	return nil
}

// spotted is Monster's OnEnterAOI hook: e now sees other, and attacks it.
// It queues the call instead of running it: the RPC stage of the next tick
// dispatches it, with permission checks and counters, as it would a call
// from the network. Caller.Entity says who attacks.
func (g *game) spotted(e, other *ecs.Entity) {
	g.stats.Hooks++
	dmg := 5 + g.rng.IntN(16)
	args, err := ecs.EncodeArgs(dmg)
	if err != nil {
		return // an int always encodes
	}
	g.rpc.Enqueue(systems.Call{
		Target: other.ID(),
		Method: "Hit",
		Args:   args,
		Caller: ecs.Caller{Kind: ecs.CallerServer, Entity: e.ID()},
	})
}

// hit is Monster.Hit(dmg). A monster without health left faints: Destroy
// takes it out of the arena, AOI tells its watchers it left, and its timers
// are dropped.
func (g *game) hit(e *ecs.Entity, c ecs.Caller, dmg int) error {
	if dmg < 0 {
		return fmt.Errorf("negative damage %d", dmg) // counted as a failed call
	}
	h := healthComp.Get(e)
	h.HP -= dmg
	g.stats.Hits++
	attacker := "someone"
	if a, ok := g.world.Entity(c.Entity); ok {
		attacker = name(a)
	}
	line := fmt.Sprintf("%s hits %s for %d (HP %d)", attacker, name(e), dmg, max(h.HP, 0))
	if h.HP <= 0 {
		g.stats.Fainted++
		line += ": it faints"
		e.Destroy()
	}
	g.hitLines = append(g.hitLines, line)
	return nil
}

// regen is Monster.Regen(hp), fired by a repeating timer.
func (g *game) regen(e *ecs.Entity, _ ecs.Caller, hp int) error {
	h := healthComp.Get(e)
	h.HP = min(h.HP+hp, maxHP)
	return nil
}

// samples is how many lines of each kind the report prints per tick.
const samples = 2

// report runs in the sync slot, right after AOI: it prints the tick's AOI
// events (valid until the next tick) the way a sync stage would turn them
// into client creates and destroys.
func (g *game) report(t *systems.Tick) error {
	evs := g.aoi.Events()
	enters := 0
	for _, ev := range evs {
		if ev.Enter {
			enters++
		}
	}
	g.stats.Enters += enters
	g.stats.Leaves += len(evs) - enters
	fmt.Fprintf(g.out, "tick %d: %d enter, %d leave, %d hits\n", t.N, enters, len(evs)-enters, len(g.hitLines))
	for i, ev := range evs {
		if i == samples {
			break
		}
		verb := "loses sight of"
		if ev.Enter {
			verb = "sees"
		}
		fmt.Fprintf(g.out, "    %s %s %s\n", name(ev.Watcher), verb, name(ev.Target))
	}
	for i, l := range g.hitLines {
		if i == samples {
			break
		}
		fmt.Fprintf(g.out, "    %s\n", l)
	}
	g.hitLines = g.hitLines[:0]
	return nil
}

// name is a monster's name attribute (kept readable after it is destroyed).
func name(e *ecs.Entity) string { return e.Attrs().Str("name") }
