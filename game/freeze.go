package game

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/netproto"
	"github.com/ecsworld/ecsworld/snapshot"
	"github.com/ecsworld/ecsworld/systems"
)

// ErrFrozen is what Run returns once the game has frozen: the snapshot is
// written and the links are closed. A game main exits 0 on it.
var ErrFrozen = errors.New("game: frozen")

// ErrRestore wraps every reason New refuses a restore (no snapshot, a bad
// or incompatible file, another game's snapshot): a restored game never
// starts empty.
var ErrRestore = errors.New("game: cannot restore")

// ErrFreezing: the game is freezing; a migration cannot start now.
var ErrFreezing = errors.New("game: freezing")

// DefaultFreezeTimeout is the default Config.FreezeTimeout.
const DefaultFreezeTimeout = 10 * time.Second

// maxQuiesceTicks bounds the ticks a freeze waits, after every ack, for
// the work in flight (queued RPC calls, inbox, migrations, this game's own
// calls awaiting replies) to end.
const maxQuiesceTicks = 20

// FreezeInfo describes a finished freeze (Game.FreezeInfo).
type FreezeInfo struct {
	Path     string        // the snapshot written
	Tick     uint64        // the last tick run
	Entities int           // entities in the world
	Bytes    int64         // file size
	Duration time.Duration // from the request to the snapshot written
}

// freezing is the tick goroutine's state of a freeze in progress.
type freezing struct {
	start    time.Time
	deadline time.Time
	acked    []bool
	nAcked   int
	quiesce  int // ticks waited since the last ack
}

// RequestFreeze asks the game to freeze at the next opportunity; any
// goroutine may call it (a signal handler, an admin endpoint). A second
// request while one is pending is ignored.
func (g *Game) RequestFreeze() {
	select {
	case g.freezeCh <- struct{}{}:
	default:
	}
}

// FreezeOn calls RequestFreeze on each of sigs (SIGHUP for ecsworld
// freeze) until ctx ends.
func (g *Game) FreezeOn(ctx context.Context, sigs ...os.Signal) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		defer signal.Stop(ch)
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				g.RequestFreeze()
			}
		}
	}()
}

// FreezeInfo returns the last freeze's outcome once Run has returned
// ErrFrozen, with ok false before.
func (g *Game) FreezeInfo() (FreezeInfo, bool) {
	g.frzMu.Lock()
	defer g.frzMu.Unlock()
	return g.frzInfo, g.frzDone
}

// RestoreDuration is how long New took to read the snapshot and rebuild
// the world (0 for a game that was not restored).
func (g *Game) RestoreDuration() time.Duration { return g.restoreDur }

// startFreeze sends FreezeRequest to every dispatcher (tick goroutine).
func (g *Game) startFreeze() {
	if g.frz != nil {
		return
	}
	g.frz = &freezing{start: time.Now(), acked: make([]bool, len(g.links))}
	g.frz.deadline = g.frz.start.Add(g.cfg.FreezeTimeout)
	g.log.Info("freeze requested: asking every dispatcher to queue our traffic", zap.Int("dispatchers", len(g.links)))
	for i := range g.links {
		if err := g.sendTo(i, &netproto.FreezeRequest{Game: g.id}); err != nil {
			g.log.Error("freeze: FreezeRequest not sent", zap.Int("dispatcher", i), zap.Error(err))
		}
		g.links[i].flush()
	}
}

// onFreezeAck counts one dispatcher's ack of the barrier.
func (g *Game) onFreezeAck(from int, m *netproto.FreezeAck) {
	if g.frz == nil || from < 0 || from >= len(g.frz.acked) || m.Game != g.id {
		g.refuse("FreezeAck without a freeze", zap.Uint16("game", m.Game), zap.Int("link", from))
		return
	}
	if !g.frz.acked[from] {
		g.frz.acked[from] = true
		g.frz.nAcked++
	}
}

// abortFreeze resumes after a failed freeze: the dispatchers flush what
// they queued on the same links, and the game carries on.
func (g *Game) abortFreeze(why string, err error) {
	g.st.freezeAborts.Add(1)
	g.log.Error("FREEZE ABORTED: resuming, the game carries on", zap.String("why", why), zap.Error(err),
		zap.Int("acked", g.frz.nAcked), zap.Int("dispatchers", len(g.links)))
	for i := range g.links {
		if err := g.sendTo(i, &netproto.FreezeResume{Game: g.id}); err != nil {
			g.log.Error("freeze: FreezeResume not sent", zap.Int("dispatcher", i), zap.Error(err))
		}
		g.links[i].flush()
	}
	g.frz = nil
}

// freezeStep runs after each tick while a freeze is in progress: the tick
// boundary. It reports true once the snapshot is written.
func (g *Game) freezeStep() bool {
	f := g.frz
	if f.nAcked < len(g.links) {
		if time.Now().After(f.deadline) {
			g.abortFreeze("not every dispatcher acknowledged within the freeze timeout",
				fmt.Errorf("%d of %d acks after %v", f.nAcked, len(g.links), g.cfg.FreezeTimeout))
		}
		return false
	}
	// Every ack is in: nothing more reaches us but the answers to our own
	// requests. Let the work in flight end (what the inbox holds, calls
	// queued for the next RPC stage, hand-offs, our calls awaiting replies)
	// for a few ticks, so it is not lost.
	busy := len(g.inbox) > 0 || g.rpc.Len() > 0 || len(g.migrations) > 0
	if (busy || g.ownRequests() > 0) && f.quiesce < maxQuiesceTicks {
		f.quiesce++
		return false
	}
	if busy {
		g.log.Error("freeze: work still in flight is lost", zap.Int("inbox", len(g.inbox)),
			zap.Int("rpc_queue", g.rpc.Len()), zap.Int("migrations", len(g.migrations)), zap.Int("own_requests", g.ownRequests()))
	}
	g.failPendingCalls()
	// A migration whose hold never came stays (the entity is in the
	// snapshot); the dispatcher's hold is released so the entity's traffic
	// flows (to the queue, then to the restored game).
	for id, m := range g.migrations {
		if !m.held {
			delete(g.migrations, id)
			g.st.migrateAborts.Add(1)
			g.sendShard(uint64(id), &netproto.MigrateDone{Entity: uint64(id), Game: g.id})
		}
	}
	g.world.Each(func(e *ecs.Entity) bool {
		e.Type().Hooks().OnFreeze(e)
		return true
	})
	path := g.snapshotPath()
	st := &snapshot.State{GameID: g.id, Tick: g.sched.LastTick(), NextTimerID: uint64(g.timers.NextID())}
	for _, t := range g.timers.All() {
		st.Timers = append(st.Timers, snapshot.Timer{ID: uint64(t.ID), Entity: t.Entity, Method: t.Method,
			Args: t.Args, Due: t.Due, Repeat: t.Repeat})
	}
	g.saveGameState(st)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		g.abortFreeze("the snapshot directory could not be made", err)
		return false
	}
	info, err := snapshot.WriteFile(path, g.world, st, snapshot.WriteOptions{})
	if err != nil {
		g.abortFreeze("the snapshot could not be written", err)
		return false
	}
	fi := FreezeInfo{Path: path, Tick: st.Tick, Entities: g.world.Len(), Bytes: info.Bytes, Duration: time.Since(f.start)}
	g.frzMu.Lock()
	g.frzInfo, g.frzDone = fi, true
	g.frzMu.Unlock()
	g.log.Info("game frozen", zap.String("snapshot", path), zap.Uint64("tick", fi.Tick), zap.Int("entities", fi.Entities),
		zap.Int64("bytes", fi.Bytes), zap.Duration("took", fi.Duration))
	return true
}

// snapshotPath is where this game freezes to and restores from.
func (g *Game) snapshotPath() string {
	if g.cfg.SnapshotPath != "" {
		return g.cfg.SnapshotPath
	}
	return g.cfg.Game.SnapshotPath()
}

// readSnapshot reads and checks the snapshot for a restore; the world it
// returns is complete or there is none.
func (g *Game) readSnapshot(wopts ecs.WorldOptions) (*snapshot.Restored, error) {
	path := g.snapshotPath()
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w: no snapshot at %s (freeze first): %w", ErrRestore, path, err)
	}
	r, err := ReadSnapshot(path, g.reg, wopts)
	if err != nil {
		return nil, fmt.Errorf("%w from %s: %w", ErrRestore, path, err)
	}
	if r.Header.GameID != g.id {
		return nil, fmt.Errorf("%w from %s: it is game %d's snapshot, this is game %d", ErrRestore, path, r.Header.GameID, g.id)
	}
	for _, w := range r.Warnings {
		g.log.Warn("restore: snapshot schema differs", zap.Stringer("warning", w))
	}
	return r, nil
}

// ReadSnapshot reads the snapshot at path into a new world made from reg
// and wopts (snapshot.ReadFile) the way a restoring game does, with the
// garbage collector paused for the read. A restore allocates the whole
// world and frees almost nothing, so each collection while it grows only
// marks the same new world again (at 100,000 entities that doubled the
// read); paused, the world is marked once, by the first collection after
// the restore. The collector percentage is set to -1 and, unless the
// process already has a memory limit (GOMEMLIMIT), a limit of the heap in
// use plus 64 times the file's size plus 256 MB (a restored world takes
// about 25 times its file) starts collections if the read grows beyond
// any expectation; both are put back afterwards. These are process-wide
// settings: the game process owns them, and it restores before its tick
// loop runs. bench/cmd/snapbench measures this function.
func ReadSnapshot(path string, reg *ecs.Registry, wopts ecs.WorldOptions) (*snapshot.Restored, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("snapshot: read: %w", err)
	}
	if limit := debug.SetMemoryLimit(-1); limit == math.MaxInt64 {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(sample)
		var heap int64
		if sample[0].Value.Kind() == metrics.KindUint64 {
			heap = int64(min(sample[0].Value.Uint64(), math.MaxInt64/4))
		}
		size := min(fi.Size(), math.MaxInt64/256)
		debug.SetMemoryLimit(heap + 64*size + 256<<20)
		defer debug.SetMemoryLimit(limit)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	return snapshot.ReadFile(path, reg, wopts, snapshot.ReadOptions{})
}

// adoptSnapshot makes the systems continue the restored world: the tick
// and timers resume, AOI is rebuilt without events, and every bound
// entity's client is taken to hold what it held (no creates).
func (g *Game) adoptSnapshot(r *snapshot.Restored) error {
	tick := r.Header.Tick
	g.sched.SetLastTick(tick)
	g.timers.SetNow(tick)
	list := make([]systems.Timer, 0, len(r.Timers))
	for _, t := range r.Timers {
		list = append(list, systems.Timer{ID: systems.TimerID(t.ID), Entity: t.Entity, Method: t.Method,
			Args: t.Args, Due: t.Due, Repeat: t.Repeat})
	}
	if err := g.timers.Restore(list, systems.TimerID(r.Header.NextTimerID)); err != nil {
		return fmt.Errorf("%w: %w", ErrRestore, err)
	}
	for _, s := range g.world.Spaces() {
		if err := g.aoi.RebuildSilent(s); err != nil {
			return fmt.Errorf("%w: %w", ErrRestore, err)
		}
	}
	g.world.ResetTick()
	g.adoptGameState(&r.Header)
	// Call ids are not in the snapshot: start above any id the frozen
	// process can have used (it counted from 1, or from its own restore's
	// clock, one per call), so a reply to one of its calls, delivered from
	// the dispatchers' queues, is never taken for a reply to one of ours.
	g.nextID = uint64(time.Now().UnixNano())
	g.callBase = g.nextID
	bound := 0
	g.world.Each(func(e *ecs.Entity) bool {
		// The dispatchers kept the routes of a frozen game: every entity
		// here is reported (its destroy is reported later).
		g.routed[e.ID()] = true
		if e.Client().Bound() {
			g.sync.AdoptRestored(e)
			bound++
		}
		return true
	})
	g.log.Info("world restored", zap.Uint64("tick", tick), zap.Int("entities", g.world.Len()),
		zap.Int("timers", len(list)), zap.Int("clients", bound))
	return nil
}

// frozenReply reports (and counts) a reply to a call the frozen process
// made: its callback went with that process.
func (g *Game) frozenReply(id uint64) bool {
	if g.callBase == 0 || id > g.callBase {
		return false
	}
	g.st.frozenReplies.Add(1)
	g.warn.Info("reply to a call of the frozen process: dropped", zap.Uint64("call", id))
	return true
}

// runRestored runs OnRestored on every entity and Setup.OnRestore, on the
// tick goroutine before the first tick.
func (g *Game) runRestored() error {
	g.world.Each(func(e *ecs.Entity) bool {
		e.Type().Hooks().OnRestored(e)
		return true
	})
	if g.setup.OnRestore != nil {
		if err := g.setup.OnRestore(g); err != nil {
			return fmt.Errorf("game: OnRestore: %w", err)
		}
	}
	return nil
}
