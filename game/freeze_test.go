package game

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/netproto"
)

// runGame runs g until ctx ends and returns Run's result channel.
func runGame(ctx context.Context, g *Game) <-chan error {
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	return done
}

// frozenWorld is what the test compares before and after the freeze.
type frozenWorld struct {
	hero, mob, arena ecs.EntityID
	heroPos          ecs.Vec3
	level            int
	name             string
	timerDue         uint64
	heroSeesMob      bool
}

func readWorld(g *Game, hero, mob, arena ecs.EntityID) frozenWorld {
	fw := frozenWorld{hero: hero, mob: mob, arena: arena}
	h, ok1 := g.World().Entity(hero)
	m, ok2 := g.World().Entity(mob)
	if !ok1 || !ok2 {
		return fw
	}
	fw.heroPos = h.Pos()
	fw.level = mobComp.Get(m).Level
	fw.name = m.Attrs().Str("name")
	for _, t := range g.Timers().All() {
		if t.Entity == mob {
			fw.timerDue = t.Due
		}
	}
	fw.heroSeesMob = g.SyncStage().Sees(hero, mob) && slices.ContainsFunc(g.AOI().Neighbors(h), func(e *ecs.Entity) bool { return e.ID() == mob })
	return fw
}

// TestGameFreezeRestore freezes a game with a bound client, a timer in
// flight and an AOI view, restores it in a new Game (a new binary), and
// checks that the world, the timer and the binding survive, that the
// client gets no create or destroy for what it already holds, and that a
// call held during the freeze runs once after the restore.
func TestGameFreezeRestore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
	defer cancel()
	fd := newFakeDispatcher(t, ctx)
	cfg := testConfig(1, fd.addr())
	cfg.SnapshotPath = filepath.Join(t.TempDir(), "game-1.snap")

	tw := newTestWorld()
	g1, err := New(cfg, tw.setup(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx1, cancel1 := context.WithCancel(ctx)
	defer cancel1()
	done1 := runGame(ctx1, g1)
	fd.waitHello(t, 1)

	const gate, client = 7, uint64(7<<48 | 2)
	type ids struct{ hero, mob, arena ecs.EntityID }
	made := do(t, g1, func(g *Game) ids {
		arena, err := g.Create("Arena", ecs.CreateOptions{})
		if err != nil {
			t.Error(err)
			return ids{}
		}
		mob, err := g.Create("Mob", ecs.CreateOptions{Space: arena, Pos: ecs.Vec3{X: 2}, Attrs: map[string]any{"name": "rat"},
			Components: []any{mobData{Level: 9}}})
		if err != nil {
			t.Error(err)
			return ids{}
		}
		hero, err := g.Create("Hero", ecs.CreateOptions{Space: arena, Pos: ecs.Vec3{X: 1, Z: 1},
			Client: ecs.ClientBinding{Gate: gate, Client: ecs.ClientID(client)}})
		if err != nil {
			t.Error(err)
			return ids{}
		}
		// Fires 3 s after the freeze request: still in flight at the freeze.
		if _, err := g.Timers().After(mob, 300, "Ping", 42); err != nil {
			t.Error(err)
		}
		return ids{hero.ID(), mob.ID(), arena.ID()}
	})
	if made.hero == 0 {
		t.FailNow()
	}
	fd.batchWith(t, 1, gate, "the mob's CreateEntity to the hero's client", func(cm clientMsg) bool {
		ce, ok := cm.msg.(*netproto.CreateEntity)
		return ok && ce.Entity == uint64(made.mob) && slices.Contains(cm.clients, client)
	})
	before := do(t, g1, func(g *Game) frozenWorld { return readWorld(g, made.hero, made.mob, made.arena) })
	if !before.heroSeesMob || before.timerDue == 0 || before.level != 9 || before.name != "rat" {
		t.Fatalf("world before the freeze = %+v", before)
	}

	// Freeze: the game asks, the dispatcher acks, the game writes and stops.
	g1.RequestFreeze()
	fd.expect(t, 1, "FreezeRequest", func(m netproto.Message) bool {
		r, ok := m.(*netproto.FreezeRequest)
		return ok && r.Game == 1
	})
	fd.send(1, &netproto.FreezeAck{Dispatcher: 1, Game: 1})
	select {
	case err := <-done1:
		if !errors.Is(err, ErrFrozen) {
			t.Fatalf("Run after a freeze = %v, want ErrFrozen", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Run did not return after the freeze")
	}
	info, ok := g1.FreezeInfo()
	if !ok || info.Path != cfg.SnapshotPath || info.Entities != 3 || info.Bytes <= 0 {
		t.Errorf("FreezeInfo = %+v, %v", info, ok)
	}
	// What the game sent after the freeze request is done with; what
	// follows is the restored game's.
	fd.seen = nil
	for len(fd.msgs) > 0 {
		<-fd.msgs
	}

	// Restore in a new Game with a new setup (a new binary).
	tw2 := newTestWorld()
	rcfg := cfg
	rcfg.Restored = true
	g2, err := New(rcfg, tw2.setup(), nil)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if g2.RestoreDuration() <= 0 {
		t.Error("RestoreDuration not measured")
	}
	ctx2, cancel2 := context.WithCancel(ctx)
	done2 := runGame(ctx2, g2)
	defer func() {
		cancel2()
		if err := <-done2; err != nil {
			t.Errorf("restored Run: %v", err)
		}
	}()
	eventually(t, "the restored game's Hello{Restored}", func() bool {
		fd.mu.Lock()
		defer fd.mu.Unlock()
		h := fd.hello[1]
		return h != nil && h.Restored && fd.hellos[1] == 2
	})
	after := do(t, g2, func(g *Game) frozenWorld { return readWorld(g, made.hero, made.mob, made.arena) })
	if after != before {
		t.Errorf("world after the restore = %+v\nwant %+v", after, before)
	}

	// The call the dispatcher held during the freeze runs once.
	args, _ := ecs.EncodeArgs(7)
	fd.send(1, &netproto.CallEntity{Target: uint64(made.mob), Method: "Ping", Args: args, CallID: 5,
		Caller: netproto.Caller{Kind: netproto.CallerServer, Game: 2}})
	if n := recv(t, tw2.pinged, "the held call"); n != 7 {
		t.Errorf("held call pinged %d, want 7", n)
	}
	rep := fd.expect(t, 1, "the held call's reply", func(m netproto.Message) bool {
		r, ok := m.(*netproto.CallReply)
		return ok && r.CallID == 5
	}).(*netproto.CallReply)
	if rep.Error != "" {
		t.Errorf("held call failed: %s", rep.Error)
	}
	// The timer fires in the new binary, once.
	if n := recv(t, tw2.pinged, "the restored timer"); n != 42 {
		t.Errorf("timer pinged %d, want 42", n)
	}
	select {
	case n := <-tw2.pinged:
		t.Errorf("an extra ping %d", n)
	case <-time.After(100 * time.Millisecond):
	}
	// The client got no create or destroy: it holds its view already.
	// (A Mob moved by the server would send a position; nothing here moves.)
	do(t, g2, func(*Game) bool { return true })
	for _, fm := range append(fd.seen, drain(fd.msgs)...) {
		b, ok := fm.msg.(*netproto.GateBatch)
		if !ok {
			continue
		}
		for _, cm := range decodeBatch(t, fd.codec, b) {
			switch m := cm.msg.(type) {
			case *netproto.CreateEntity:
				t.Errorf("restored client got CreateEntity %d", m.Entity)
			case *netproto.DestroyEntity:
				t.Errorf("restored client got DestroyEntity %d", m.Entity)
			}
		}
	}
	// A reply to a call the frozen process made is dropped quietly, not
	// taken for one of the new process's calls.
	fd.send(1, &netproto.CallReply{CallID: 3, To: netproto.Peer{Role: netproto.RoleGame, ID: 1}})
	eventually(t, "the frozen process's reply counted", func() bool { return g2.Stats().FrozenReplies == 1 })
	if s := g2.Stats(); s.Clients != 1 || s.Refused != 0 {
		t.Errorf("restored Stats: %d clients (want 1), %d refused (want 0)", s.Clients, s.Refused)
	}
}

func drain(ch chan fromGame) []fromGame {
	var out []fromGame
	for {
		select {
		case fm := <-ch:
			out = append(out, fm)
		default:
			return out
		}
	}
}

// TestGameFreezeAbortsWithoutAcks: a dispatcher that never acks makes the
// freeze give up (FreezeResume) and the game carry on.
func TestGameFreezeAbortsWithoutAcks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	fd := newFakeDispatcher(t, ctx)
	cfg := testConfig(1, fd.addr())
	cfg.SnapshotPath = filepath.Join(t.TempDir(), "game-1.snap")
	cfg.FreezeTimeout = 50 * time.Millisecond
	g := startGame(t, ctx, cfg, newTestWorld().setup())
	fd.waitHello(t, 1)
	g.RequestFreeze()
	fd.expect(t, 1, "FreezeRequest", func(m netproto.Message) bool { _, ok := m.(*netproto.FreezeRequest); return ok })
	fd.expect(t, 1, "FreezeResume", func(m netproto.Message) bool { _, ok := m.(*netproto.FreezeResume); return ok })
	eventually(t, "the abort counted", func() bool { return g.Stats().FreezeAborts == 1 })
	if _, err := os.Stat(cfg.SnapshotPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an aborted freeze wrote a snapshot: %v", err)
	}
	if do(t, g, func(g *Game) bool { return g.frz != nil }) {
		t.Error("still freezing after the abort")
	}
}

// TestGameRestoreRefusesBadSnapshots: a restore never starts empty.
func TestGameRestoreRefusesBadSnapshots(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.snap")
	if err := os.WriteFile(garbage, []byte("not a snapshot at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.snap")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, path string }{
		{"missing", filepath.Join(dir, "none.snap")},
		{"garbage", garbage},
		{"empty", empty},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(1, "127.0.0.1:1")
			cfg.Restored = true
			cfg.SnapshotPath = c.path
			_, err := New(cfg, newTestWorld().setup(), nil)
			if !errors.Is(err, ErrRestore) {
				t.Errorf("New = %v, want ErrRestore", err)
			}
		})
	}
}
