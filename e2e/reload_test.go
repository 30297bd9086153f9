package e2e

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/examples/test_client/bots"
)

// TestReloadKeepsClients hot-swaps the game of a running cluster while
// bots play and call: SIGHUP freezes it (the dispatchers queue its
// traffic, it writes its snapshot and exits 0), a new binary (test_game
// built with a changed Ping: it raises "level" by 1000, not 1) starts
// with -restore, and the dispatchers deliver what they held. The bots
// must see no disconnect and no problem (every call answered once, every
// Pong and own chat line back, views equal to the server's AOI), every
// avatar must have kept its client, position and attributes, and after
// the swap Ping behaves as the new binary says. The longest gap in any bot's stream of replies, the client-visible
// pause, is logged.
func TestReloadKeepsClients(t *testing.T) {
	nBots, play := 200, 3*time.Second
	if testing.Short() {
		nBots, play = 30, 2*time.Second
	}
	buildVariant(t, "test_game_v2",
		`_ = e.Attrs().Set("level", e.Attrs().Int("level")+1)`,
		`_ = e.Attrs().Set("level", e.Attrs().Int("level")+1000)`)
	c := startCluster(t, spec{Dispatchers: 2, Games: 1, Gates: 2, Monsters: 10})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	bs := c.connectBots(ctx, "r", "tcp", nBots, []int{0, 1}, bots.Options{CallTimeout: 20 * time.Second})

	// The bots play (walk, ping, chat, poke) while each also calls Ping
	// back to back, timing the replies.
	pctx, stopPlay := context.WithCancel(ctx)
	var played sync.WaitGroup
	played.Add(1)
	go func() { defer played.Done(); runBots(pctx, bs) }()
	gaps := make([]time.Duration, len(bs))
	mine := make([]uint64, len(bs)) // Pings of the timing loop, answered
	var pinged sync.WaitGroup
	for i, b := range bs {
		pinged.Add(1)
		go func() {
			defer pinged.Done()
			last := time.Now()
			for n := int64(1 << 40); pctx.Err() == nil; n++ {
				if err := b.Call(pctx, b.Avatar(), "Ping", n); err != nil {
					return // counted by the bot as a problem or a refusal
				}
				now := time.Now()
				mine[i]++
				gaps[i] = max(gaps[i], now.Sub(last))
				last = now
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	time.Sleep(play)

	// At rest (calls go on) the avatars' state is what must survive.
	for _, b := range bs {
		b.Pause(true)
	}
	c.freezeMonsters(ctx, true)
	time.Sleep(500 * time.Millisecond)
	before := avatarsByID(c.states(ctx))
	if len(before) != nBots {
		t.Fatalf("%d avatars before the reload, want %d", len(before), nBots)
	}

	began := time.Now()
	old := c.games[0]
	if err := syscall.Kill(old.cmd.Process.Pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-old.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the game did not freeze:\n%s", tail(old.logPath, 30))
	}
	if old.err != nil {
		t.Fatalf("the frozen game exited with %v:\n%s", old.err, tail(old.logPath, 30))
	}
	frozeIn := time.Since(began)
	old.killed = true // it was meant to go
	c.restoreGame(ctx, 0, "test_game_v2")
	restoredIn := time.Since(began)
	c.freezeMonsters(ctx, true)
	after := avatarsByID(c.states(ctx))
	if len(after) != len(before) {
		t.Errorf("%d avatars after the reload, want %d", len(after), len(before))
	}
	for id, a := range before {
		b, ok := after[id]
		switch {
		case !ok:
			t.Errorf("avatar %d lost in the reload", id)
		case a.Client != b.Client || a.Gate != b.Gate || a.Pos != b.Pos || !reflect.DeepEqual(stable(a.Attrs), stable(b.Attrs)) ||
			num(b.Attrs["level"]) < num(a.Attrs["level"]) || num(b.Attrs["pokes"]) < num(a.Attrs["pokes"]):
			t.Errorf("avatar %d changed in the reload:\n before %+v\n after  %+v", id, a, b)
		}
	}
	vctx, vcancel := context.WithTimeout(ctx, 20*time.Second)
	if err := bots.WaitViewsMatch(vctx, bs, c.debug); err != nil {
		t.Error(err)
	}
	vcancel()

	// Play on with the new process, then stop and settle.
	for _, b := range bs {
		b.Pause(false)
	}
	c.freezeMonsters(ctx, false)
	time.Sleep(play)
	stopPlay()
	pinged.Wait()
	played.Wait()

	for _, b := range bs {
		select {
		case <-b.Client().Done():
			t.Errorf("%s was disconnected: %v", b.Name(), b.Client().Err())
		default:
		}
	}
	checkProblems(t, bs)
	// A Pong follows its call's reply: let the last ones land.
	settled := time.Now().Add(5 * time.Second)
	for i := 0; i < len(bs) && time.Now().Before(settled); {
		if s := bs[i].Stats(); s.Pongs >= s.Pings+mine[i] {
			i++
			continue
		}
		time.Sleep(10 * time.Millisecond)
	}
	var calls, replies uint64
	for i, b := range bs {
		s := b.Stats()
		calls += s.Calls
		replies += s.Replies
		// Every Ping, the bot's own and the timing loop's, got one Pong.
		if s.Replies != s.Calls || s.Pongs != s.Pings+mine[i] {
			t.Errorf("%s: %d calls, %d replies; %d+%d pings, %d pongs", b.Name(), s.Calls, s.Replies, s.Pings, mine[i], s.Pongs)
		}
	}
	// The new behaviour is live: one Ping raises level by 1000.
	level := func(b *bots.Bot) float64 {
		a, ok := avatarsByID(c.states(ctx))[b.Avatar()]
		if !ok {
			t.Fatalf("no avatar %d", b.Avatar())
		}
		return num(a.Attrs["level"])
	}
	l1 := level(bs[0])
	if err := bs[0].Call(ctx, bs[0].Avatar(), "Ping", int64(1)); err != nil {
		t.Fatal(err)
	}
	if l2 := level(bs[0]); l2-l1 != 1000 {
		t.Errorf("a Ping after the swap raised level by %v, want 1000 (the new binary's)", l2-l1)
	}
	pause := slices.Max(gaps)
	t.Logf("reload of a game with %d clients: frozen in %v, restored and linked in %v; %d calls, %d replies; client-visible pause (longest gap between two replies of one bot): %v",
		nBots, frozeIn.Round(time.Millisecond), restoredIn.Round(time.Millisecond), calls, replies, pause.Round(time.Millisecond))
	c.checkAlive()
	c.checkTrouble(ctx, c.leftClients(nil))
	c.checkLogs(nil, reloadLogLines...)
}

// reloadLogLines are the warnings a reload makes: the dispatchers see
// the frozen game's links close (and say they keep its queue).
var reloadLogLines = []*regexp.Regexp{
	regexp.MustCompile(`game disconnected`),
	regexp.MustCompile(`frozen`),
}

// stable is an avatar's attributes without those the calls in flight
// keep raising (level: Ping, pokes: Poke), which may only grow.
func stable(attrs map[string]any) map[string]any {
	out := maps.Clone(attrs)
	delete(out, "level")
	delete(out, "pokes")
	return out
}

// avatarsByID indexes every game's avatars.
func avatarsByID(states []*bots.ServerState) map[uint64]bots.ServerAvatar {
	out := map[uint64]bots.ServerAvatar{}
	for _, s := range states {
		for _, a := range s.Avatars {
			a.Neighbors = nil
			out[a.ID] = a
		}
	}
	return out
}

// restoreGame starts game i+1 again from its snapshot (program bin, -restore)
// in place of the frozen process, and waits until it is linked to every
// dispatcher.
func (c *cluster) restoreGame(ctx context.Context, i int, bin string) {
	c.t.Helper()
	id := i + 1
	af := filepath.Join(c.dir, fmt.Sprintf("game-%d-restored.addr", id))
	old := c.games[i]
	p := c.start(fmt.Sprintf("game-%d-restored", id), bin, "-config", filepath.Join(c.dir, "cluster.toml"),
		"-id", fmt.Sprint(id), "-debug", "127.0.0.1:0", "-addrs", af, "-monsters", fmt.Sprint(c.spec.Monsters),
		"-seed", fmt.Sprint(id), "-restore")
	var a struct{ Debug, Metrics string }
	c.waitJSON(ctx, af, &a)
	c.mu.Lock()
	maps.DeleteFunc(c.metrics, func(q *proc, _ string) bool { return q == old })
	c.metrics[p] = a.Metrics
	c.games[i] = p
	c.debug[i] = a.Debug
	c.mu.Unlock()
	c.poll(ctx, fmt.Sprintf("restored game %d connected to every dispatcher", id), func() bool {
		st, err := bots.FetchState(ctx, a.Debug)
		return err == nil && st.Stat("Connected") == uint64(c.spec.Dispatchers)
	})
}
