package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/cli/proc"
	"github.com/ecsworld/ecsworld/client"
)

// runSwap is run with the freeze verbs added.
func runSwap(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	a := New(&o, &e)
	for _, v := range []Verb{freezeVerb(), restoreVerb(), reloadVerb()} {
		a.Add(v)
	}
	code = a.Main(ctx, args)
	return code, o.String(), e.String()
}

// TestFreezeRestoreReload freezes the minigame's cluster with a client
// connected, restores it, then reloads it, and checks that the client
// stays connected with the same player, the game keeps its entities and
// its client, and that restore without a snapshot is refused.
func TestFreezeRestoreReload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three programs")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	game, err := filepath.Abs("testdata/minigame")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tmp, "bin")
	if code, out, errOut := run(ctx, "build", "-bin", bin, game); code != 0 {
		t.Fatalf("build: %d\n%s%s", code, out, errOut)
	}
	cfg := writeTestCluster(t, tmp, "cluster.toml", "")
	runDir := filepath.Join(tmp, "run")
	r := runDirOf(runDir)
	defer func() {
		ps, _ := readManifest(r)
		for _, p := range ps {
			if alive(p) {
				kill(p)
			}
		}
	}()
	if code, out, errOut := run(ctx, "start", "-config", cfg, "-bin", bin, "-run", runDir, "-timeout", "60s", game); code != 0 {
		t.Fatalf("start: %d\n%s%s", code, out, errOut)
	}

	// Nothing frozen yet: restore is refused, every game runs.
	if code, _, errOut := runSwap(ctx, "restore", "-run", runDir, "-bin", bin, game); code != 1 || !strings.Contains(errOut, "nothing to restore") {
		t.Fatalf("restore of a running cluster: %d %s", code, errOut)
	}

	addrs, err := proc.ReadAddrs(r.addrs("gate.1"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, "tcp", addrs[proc.AddrTCP], client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := c.WaitUntil(wctx, func() bool { return c.PlayerID() != 0 }); err != nil {
		t.Fatalf("no player: %v", err)
	}
	player := c.PlayerID()
	gameClients := func() string {
		_, out, _ := run(ctx, "status", "-run", runDir)
		if g := statusRows(out)["game.1"]; len(g) == 7 && g[2] == "running" {
			return g[4] + "/" + g[5]
		}
		return ""
	}

	// A freeze that cannot write its snapshot (the directory is a file)
	// is given up: the game carries on, freeze says so at once.
	cl, err := runCluster(r)
	if err != nil {
		t.Fatal(err)
	}
	snapDir := filepath.Dir(snapshotOf(r, cl, 1))
	if err := os.WriteFile(snapDir, []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runSwap(ctx, "freeze", "-run", runDir, "-timeout", "20s")
	if code != 1 || !strings.Contains(errOut, "game.1 could not freeze and carries on") || !strings.Contains(errOut, "FREEZE ABORTED") {
		t.Fatalf("freeze without a snapshot directory: %d\n%s%s", code, out, errOut)
	}
	if ps, _ := readManifest(r); !alive(ps[indexProcess(ps, "game.1")]) {
		t.Fatal("game.1 stopped after an aborted freeze")
	}
	os.Remove(snapDir)

	code, out, errOut = runSwap(ctx, "freeze", "-run", runDir, "-timeout", "20s")
	if code != 0 || !strings.Contains(out, "froze game.1") {
		t.Fatalf("freeze: %d\n%s%s", code, out, errOut)
	}
	ps, _ := readManifest(r)
	if i := indexProcess(ps, "game.1"); i < 0 || alive(ps[i]) {
		t.Fatalf("game.1 still running after freeze: %+v", ps)
	}
	if _, err := os.Stat(snapshotOf(r, cl, 1)); err != nil {
		t.Fatalf("no snapshot after freeze: %v", err)
	}
	if code, _, errOut := runSwap(ctx, "freeze", "-run", runDir); code != 1 || !strings.Contains(errOut, "nothing to freeze") {
		t.Errorf("second freeze: %d %s", code, errOut)
	}

	code, out, errOut = runSwap(ctx, "restore", "-run", runDir, "-bin", bin, game)
	if code != 0 || !strings.Contains(out, "restored game.1") {
		t.Fatalf("restore: %d\n%s%s", code, out, errOut)
	}
	// The arena, its 5 rocks and the account; the client is still bound.
	waitFor(t, ctx, "the restored game with 7 entities and 1 client", func() bool { return gameClients() == "7/1" })

	code, out, errOut = runSwap(ctx, "reload", "-run", runDir, "-bin", bin, game)
	if code != 0 || !strings.Contains(out, "reloaded in") {
		t.Fatalf("reload: %d\n%s%s", code, out, errOut)
	}
	waitFor(t, ctx, "the reloaded game with 7 entities and 1 client", func() bool { return gameClients() == "7/1" })
	select {
	case <-c.Done():
		t.Fatalf("the client was disconnected: %v", c.Err())
	default:
	}
	if got := c.PlayerID(); got != player {
		t.Errorf("player %d after the reload, want %d", got, player)
	}
	if errs := c.ProtocolErrors(); len(errs) > 0 {
		t.Errorf("client protocol errors: %v", errs)
	}
	if !strings.Contains(tail(r.log("game.1"), 80), "world restored") {
		t.Errorf("game.1's log does not say it restored:\n%s", tail(r.log("game.1"), 20))
	}
	c.Close()
	if code, out, errOut := run(ctx, "stop", "-run", runDir); code != 0 {
		t.Fatalf("stop: %d\n%s%s", code, out, errOut)
	}
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
