package game

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/dispatcher"
	"github.com/ecsworld/ecsworld/ecs"
)

// TestGameFreezeWithDispatchers freezes and restores a game behind two real
// dispatchers while another game keeps calling one of its entities: every
// call is run exactly once (before the freeze, or after the restore from
// the dispatchers' queues) and every caller gets its reply.
func TestGameFreezeWithDispatchers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
	defer cancel()
	cl := config.Ephemeral(2, 2, 1)
	cl.Common.Secret = "sesame"
	for i := range cl.Dispatchers {
		cl.Dispatchers[i].Secret = "sesame"
	}
	var dwg sync.WaitGroup
	defer dwg.Wait()
	dctx, dcancel := context.WithCancel(ctx)
	defer dcancel()
	for i := range cl.Dispatchers {
		d, err := dispatcher.New(cl, cl.Dispatchers[i].ID, dispatcher.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))))
		if err != nil {
			t.Fatal(err)
		}
		cl.Dispatchers[i].Advertise = d.Addr().String()
		dwg.Add(1)
		go func() {
			defer dwg.Done()
			if err := d.Serve(dctx); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("dispatcher Serve: %v", err)
			}
		}()
	}
	gameCfg := func(id uint16) Config {
		c := testConfig(id, cl.DispatcherAddrs()...)
		c.SnapshotPath = filepath.Join(t.TempDir(), "game.snap")
		return c
	}
	const calls = 300
	newWorld := func() *testWorld {
		tw := newTestWorld()
		tw.pinged = make(chan int, calls+16)
		return tw
	}

	// Game 1 holds the mob; game 2 calls it.
	cfg1 := gameCfg(1)
	tw1 := newWorld()
	g1, err := New(cfg1, tw1.setup(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx1, cancel1 := context.WithCancel(ctx)
	defer cancel1()
	done1 := runGame(ctx1, g1)
	g2 := startGame(t, ctx, gameCfg(2), newWorld().setup())
	eventually(t, "both games linked", func() bool {
		return g1.Stats().Connected == 2 && g2.Stats().Connected == 2
	})
	mob := do(t, g1, func(g *Game) ecs.EntityID {
		e, err := g.Create("Mob", ecs.CreateOptions{})
		if err != nil {
			t.Error(err)
			return 0
		}
		return e.ID()
	})

	var mu sync.Mutex
	replies := map[int]int{}
	var failed []error
	call := func(n int) {
		ok := g2.Do(ctx, func(g *Game) {
			err := g.CallWithReply(0, mob, "Ping", func(err error) {
				mu.Lock()
				defer mu.Unlock()
				replies[n]++
				if err != nil {
					failed = append(failed, err)
				}
			}, n)
			if err != nil {
				t.Errorf("call %d: %v", n, err)
			}
		})
		if !ok {
			t.Errorf("call %d not made", n)
		}
	}
	n := 0
	for ; n < calls/3; n++ {
		call(n)
		time.Sleep(time.Millisecond)
	}
	g1.RequestFreeze()
	// Calls made while game 1 freezes, while it is gone, and once it is back.
	for ; n < 2*calls/3; n++ {
		call(n)
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done1:
		if !errors.Is(err, ErrFrozen) {
			t.Fatalf("Run = %v, want ErrFrozen", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("game 1 did not freeze")
	}
	for ; n < calls*5/6; n++ {
		call(n)
	}
	cfg1.Restored = true
	tw1b := newWorld()
	g1b, err := New(cfg1, tw1b.setup(), nil)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	ctx1b, cancel1b := context.WithCancel(ctx)
	done1b := runGame(ctx1b, g1b)
	defer func() {
		cancel1b()
		if err := <-done1b; err != nil {
			t.Errorf("restored Run: %v", err)
		}
	}()
	for ; n < calls; n++ {
		call(n)
		time.Sleep(time.Millisecond)
	}
	eventually(t, "every reply", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(replies) == calls
	})
	time.Sleep(50 * time.Millisecond) // a duplicate would come now
	mu.Lock()
	for i := range calls {
		if replies[i] != 1 {
			t.Errorf("call %d got %d replies", i, replies[i])
		}
	}
	if len(failed) > 0 {
		t.Errorf("%d calls failed, first: %v", len(failed), failed[0])
	}
	mu.Unlock()
	ran := map[int]int{}
	counts := []int{0, 0}
	for k, ch := range []chan int{tw1.pinged, tw1b.pinged} {
		for len(ch) > 0 {
			ran[<-ch]++
			counts[k]++
		}
	}
	for i := range calls {
		if ran[i] != 1 {
			t.Errorf("call %d ran %d times", i, ran[i])
		}
	}
	if counts[0] == 0 || counts[1] == 0 {
		t.Errorf("calls run before the freeze %d, after the restore %d: want some of each", counts[0], counts[1])
	}
	t.Logf("calls run before the freeze %d, after the restore %d", counts[0], counts[1])
	if s := g1b.Stats(); s.Refused != 0 || s.Dropped != 0 {
		t.Errorf("restored game refused %d, dropped %d", s.Refused, s.Dropped)
	}
}
