package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/examples/test_client/bots"
)

// gameErrorCounters are the game.Stats counters that count something going
// wrong; none may move unless a test provokes it.
var gameErrorCounters = []string{"BadMessages", "Dropped", "Refused", "BadFrames", "BadPositions", "CallTimeouts",
	"BootFailures", "CreateFailures", "MigrateAborts", "MigrateFailures", "HookPanics"}

// rpcErrorCounters are those of the RPC stage (game.Stats.RPC).
var rpcErrorCounters = []string{"NoEntity", "NoMethod", "Denied", "BadArgs", "Panics", "Errors"}

// appErrorCounters are the test game's own.
var appErrorCounters = []string{"login_errors", "travel_errors", "chat_errors", "client_call_errors"}

// checkGameCounters fails the test for every error counter that moved,
// except those named in mayMove ("RPC.NoEntity", "Refused", ...): races
// the test provoked.
func checkGameCounters(t *testing.T, states []*bots.ServerState, mayMove ...string) {
	t.Helper()
	allowed := func(k string) bool { return slices.Contains(mayMove, k) }
	for _, s := range states {
		for _, k := range gameErrorCounters {
			if v := s.Stat(k); v != 0 && !allowed(k) {
				t.Errorf("game %d: Stats.%s = %d, want 0", s.Game, k, v)
			}
		}
		rpc, _ := s.Stats["RPC"].(map[string]any)
		for _, k := range rpcErrorCounters {
			if v, _ := rpc[k].(float64); v != 0 && !allowed("RPC."+k) {
				t.Errorf("game %d: Stats.RPC.%s = %v, want 0", s.Game, k, v)
			}
		}
		for _, k := range appErrorCounters {
			if v := s.App[k]; v != 0 && !allowed(k) {
				t.Errorf("game %d: app counter %s = %d, want 0", s.Game, k, v)
			}
		}
	}
}

func sum(states []*bots.ServerState, app string) uint64 {
	var n uint64
	for _, s := range states {
		n += s.App[app]
	}
	return n
}

// pickOn returns the first bot whose avatar is on game g (per states).
func pickOn(bs []*bots.Bot, states []*bots.ServerState, g uint16, not map[*bots.Bot]bool) *bots.Bot {
	for _, s := range states {
		if s.Game != g {
			continue
		}
		for _, b := range bs {
			if _, ok := s.Avatar(b.Avatar()); ok && !not[b] {
				return b
			}
		}
	}
	return nil
}

// migrate sends b's avatar from its game to game to and checks, on the
// client and on the server, that the entity kept its attributes and its
// client, and still answers.
func migrate(ctx context.Context, t *testing.T, c *cluster, b *bots.Bot, from, to uint16) {
	t.Helper()
	before := c.states(ctx)
	var old bots.ServerAvatar
	for _, s := range before {
		if a, ok := s.Avatar(b.Avatar()); ok {
			if s.Game != from {
				t.Fatalf("%s is on game %d, want %d", b.Name(), s.Game, from)
			}
			old = a
		}
	}
	if err := b.Travel(ctx, int(to)); err != nil {
		t.Fatalf("travel %d -> %d: %v", from, to, err)
	}
	var got bots.ServerAvatar
	c.poll(ctx, fmt.Sprintf("%s on game %d", b.Name(), to), func() bool {
		for _, s := range c.states(ctx) {
			if a, ok := s.Avatar(b.Avatar()); ok && s.Game == to && a.Client != 0 {
				got = a
				return true
			}
		}
		return false
	})
	if got.Client != b.Client().ClientID() || got.Gate != old.Gate {
		t.Errorf("%s after migration: bound to gate %d client %d, want gate %d client %d", b.Name(), got.Gate, got.Client, old.Gate, b.Client().ClientID())
	}
	for _, k := range []string{"name", "secret"} {
		if got.Attrs[k] != old.Attrs[k] {
			t.Errorf("%s after migration: attribute %s = %v, want %v", b.Name(), k, got.Attrs[k], old.Attrs[k])
		}
	}
	// Counters may only have grown (a poke or a ping in flight).
	for _, k := range []string{"level", "pokes"} {
		if g, o := num(got.Attrs[k]), num(old.Attrs[k]); g < o {
			t.Errorf("%s after migration: %s %v < %v before", b.Name(), k, got.Attrs[k], old.Attrs[k])
		}
	}
	if g, _ := got.Attrs["game"].(float64); uint16(g) != to {
		t.Errorf("%s after migration: attribute game = %v, want %d", b.Name(), got.Attrs["game"], to)
	}
	// The client is still served by the new game: a call and its Pong.
	if err := b.Call(ctx, b.Avatar(), "Ping", int64(-1)); err != nil {
		t.Errorf("%s: Ping after migration: %v", b.Name(), err)
	}
}

// TestClusterWithBots is the main end-to-end run: 1 dispatcher, 2 games, 2
// gates; 100 bots over KCP (the test_client binary, strict, with its own
// view check and a migration of every avatar) and a few over TCP and
// WebSocket in-process.
func TestClusterWithBots(t *testing.T) {
	nKCP, nSide, nTravel, dur := 100, 4, 10, 12*time.Second
	if testing.Short() {
		nKCP, nSide, nTravel, dur = 20, 2, 3, 5*time.Second
	}
	c := startCluster(t, spec{Dispatchers: 1, Games: 2, Gates: 2, Monsters: 15})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()

	// The KCP swarm, as a real process: it logs in, plays, stops, checks
	// its views against the games, migrates every avatar to the other game
	// and checks again.
	var swarmOut bytes.Buffer
	swarm := exec.CommandContext(ctx, filepath.Join(binDir, "test_client"),
		"-gate", c.gateAddrs[0].KCP+","+c.gateAddrs[1].KCP, "-transport", "kcp",
		"-n", fmt.Sprint(nKCP), "-duration", dur.String(), "-strict", "-seed", "7",
		"-debug", strings.Join(c.debug, ","), "-travel", fmt.Sprint(nTravel), "-json", "-prefix", "kcp")
	swarm.Stdout = &swarmOut
	var swarmErr bytes.Buffer
	swarm.Stderr = &swarmErr
	if err := swarm.Start(); err != nil {
		t.Fatal(err)
	}
	swarmDone := make(chan error, 1)
	go func() { swarmDone <- swarm.Wait() }()

	// TCP and WebSocket bots in-process, on both gates.
	side := append(c.connectBots(ctx, "tcp", "tcp", nSide, []int{0, 1}, bots.Options{}),
		c.connectBots(ctx, "ws", "ws", nSide, []int{0, 1}, bots.Options{})...)
	rctx, stop := context.WithTimeout(ctx, dur)
	runBots(rctx, side)
	stop()
	for _, b := range side {
		b.Pause(true)
	}

	var err error
	select {
	case err = <-swarmDone:
	case <-ctx.Done():
		t.Fatal("the bot swarm did not finish")
	}
	var rep bots.Report
	if jerr := json.Unmarshal(swarmOut.Bytes(), &rep); jerr != nil {
		t.Fatalf("swarm report: %v\nstdout: %s\nstderr: %s", jerr, swarmOut.String(), swarmErr.String())
	}
	if err != nil {
		t.Errorf("test_client -strict failed: %v\nproblems (%d): %s\nstderr: %s", err, rep.Count, strings.Join(rep.Problems, "\n"), tailString(swarmErr.String(), 30))
	}
	if rep.LoggedIn != nKCP {
		t.Errorf("swarm: %d of %d bots logged in", rep.LoggedIn, nKCP)
	}
	st := rep.Stats
	if st.Calls == 0 || st.Replies != st.Calls {
		t.Errorf("swarm: %d calls, %d replies", st.Calls, st.Replies)
	}
	if st.Pongs != st.Pings || st.OwnChatsHeard != st.ChatsSent || st.ChatsSent == 0 {
		t.Errorf("swarm: pongs %d of %d, own chat lines back %d of %d", st.Pongs, st.Pings, st.OwnChatsHeard, st.ChatsSent)
	}
	if st.Travels != uint64(nTravel) {
		t.Errorf("swarm: %d of %d migrations done", st.Travels, nTravel)
	}
	t.Logf("swarm: %+v", st)

	// The side bots: views against the server's AOI, then a migration
	// each way, views again.
	vctx, vcancel := context.WithTimeout(ctx, 15*time.Second)
	if err := bots.WaitViewsMatch(vctx, side, c.debug); err != nil {
		t.Error(err)
	}
	vcancel()
	states := c.states(ctx)
	if got := sum(states, "logins"); got != uint64(nKCP+2*nSide) {
		t.Errorf("games counted %d logins, want %d", got, nKCP+2*nSide)
	}
	used := map[*bots.Bot]bool{}
	for _, dir := range [][2]uint16{{1, 2}, {2, 1}} {
		b := pickOn(side, states, dir[0], used)
		if b == nil {
			t.Errorf("no side bot on game %d to migrate", dir[0])
			continue
		}
		used[b] = true
		migrate(ctx, t, c, b, dir[0], dir[1])
	}
	vctx, vcancel = context.WithTimeout(ctx, 15*time.Second)
	if err := bots.WaitViewsMatch(vctx, side, c.debug); err != nil {
		t.Error(err)
	}
	vcancel()
	for _, b := range side {
		b.Settle(ctx)
	}
	checkProblems(t, side)
	var sideStats bots.Stats
	for _, b := range side {
		s := b.Stats()
		if s.Replies != s.Calls {
			t.Errorf("%s: %d calls, %d replies", b.Name(), s.Calls, s.Replies)
		}
		sideStats.Calls += s.Calls
	}
	if sideStats.Calls == 0 {
		t.Error("the side bots made no calls")
	}

	states = c.states(ctx)
	checkGameCounters(t, states)
	if got := sum(states, "arrivals"); got != uint64(nTravel+2) {
		t.Errorf("games counted %d arrivals by migration, want %d", got, nTravel+2)
	}
	c.checkAlive()
	// The swarm's bots have left: what the games sent them meanwhile is
	// dropped by the gates, and only that.
	c.checkTrouble(ctx, c.leftClients(nil))
	c.checkLogs(nil)
}

// num is a JSON number (0 if v is none).
func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

func tailString(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
