package game

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/netproto"
)

// TestFreezeKeepsObserversAndServices: a game frozen with an observer
// and a service it won is restored with both: the observer gets views
// from the new process without connecting again, and after a dispatcher
// restart the new process registers the service again.
func TestFreezeKeepsObserversAndServices(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
	defer cancel()
	fd, cfg, g1, done1 := startFreezable(t, ctx)

	won := make(chan bool, 1)
	bank := do(t, g1, func(g *Game) ecs.EntityID {
		arena, err := g.Create("Arena", ecs.CreateOptions{})
		if err != nil {
			t.Error(err)
			return 0
		}
		e, err := g.Create("Mob", ecs.CreateOptions{Space: arena})
		if err != nil {
			t.Error(err)
			return 0
		}
		if err := g.RegisterService("bank", e.ID(), func(_ ecs.EntityID, w bool) { won <- w }); err != nil {
			t.Error(err)
		}
		return e.ID()
	})
	if !recv(t, won, "ServiceRegistered") {
		t.Fatal("the bank did not win its name")
	}
	const gate, obs = 7, uint64(7<<48 | 9)
	fd.send(1, &netproto.ClientConnected{Gate: gate, Client: obs, BootType: netproto.ObserverBootType})
	eventually(t, "observer registered", func() bool { return g1.Stats().Observers == 1 })

	g1.RequestFreeze()
	fd.expect(t, 1, "FreezeRequest", func(m netproto.Message) bool { _, ok := m.(*netproto.FreezeRequest); return ok })
	fd.send(1, &netproto.FreezeAck{Dispatcher: 1, Game: 1})
	select {
	case err := <-done1:
		if !errors.Is(err, ErrFrozen) {
			t.Fatalf("Run = %v, want ErrFrozen", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("the game did not freeze")
	}
	fd.seen = nil
	for len(fd.msgs) > 0 {
		<-fd.msgs
	}

	rcfg := cfg
	rcfg.Restored = true
	g2, err := New(rcfg, newTestWorld().setup(), nil)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	ctx2, cancel2 := context.WithCancel(ctx)
	done2 := runGame(ctx2, g2)
	defer func() {
		cancel2()
		if err := <-done2; err != nil {
			t.Errorf("restored Run: %v", err)
		}
	}()
	if g2.Stats().Observers != 1 {
		t.Errorf("restored observers %d, want 1", g2.Stats().Observers)
	}
	fd.batchWith(t, 1, gate, "a view to the restored observer", func(cm clientMsg) bool {
		cc, ok := cm.msg.(*netproto.CallClient)
		return ok && cc.Method == netproto.ObserveMethod && len(cm.clients) == 1 && cm.clients[0] == obs
	})
	// A dispatcher restart: the restored game says the name is its own.
	fd.drop(1)
	fd.expect(t, 1, "ServiceRegister of the bank again", func(m netproto.Message) bool {
		r, ok := m.(*netproto.ServiceRegister)
		return ok && r.Name == "bank" && r.Entity == uint64(bank)
	})
}

// startFreezable runs game 1 with a snapshot path behind a fake
// dispatcher, until ctx ends or it freezes.
func startFreezable(t *testing.T, ctx context.Context) (*fakeDispatcher, Config, *Game, <-chan error) {
	t.Helper()
	fd := newFakeDispatcher(t, ctx)
	cfg := testConfig(1, fd.addr())
	cfg.SnapshotPath = filepath.Join(t.TempDir(), "game-1.snap")
	g, err := New(cfg, newTestWorld().setup(), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := runGame(ctx, g)
	fd.waitHello(t, 1)
	return fd, cfg, g, done
}
