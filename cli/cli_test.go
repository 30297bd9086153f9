package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/cli/proc"
	"github.com/ecsworld/ecsworld/client"
)

const testCluster = `
[common]
secret = "cli-test"

[dispatcher.1]
listen = "127.0.0.1:0"
metrics = "127.0.0.1:0"

[game]
tick_rate = 50
metrics = "127.0.0.1:0"
%GAME%

[game.1]

[gate.1]
kcp_listen = "127.0.0.1:0"
tcp_listen = "127.0.0.1:0"
ws_listen = ""
metrics = "127.0.0.1:0"
`

// run runs one command line and returns its exit status and output.
func run(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = New(&o, &e).Main(ctx, args)
	return code, o.String(), e.String()
}

func writeTestCluster(t *testing.T, dir, name, gameExtra string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Replace(testCluster, "%GAME%", gameExtra, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBuildStartStatusStop builds the test game and the engine's programs,
// starts a cluster of them as separate processes, reads its status (with a
// client connected), stops it, and checks that start with a broken config
// fails clearly without leaving a process behind.
func TestBuildStartStatusStop(t *testing.T) {
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
	// The arena and its 5 rocks, and the client's account.
	bin := buildStartStatusStop(t, ctx, tmp, game, 7)
	t.Run("invalid file", func(t *testing.T) {
		bad := filepath.Join(tmp, "bad.toml")
		os.WriteFile(bad, []byte("[dispatcher.1]\n[game.1]\ntick_rate = 0\n[gate.1]\n"), 0o644)
		run2 := filepath.Join(tmp, "run-bad")
		code, _, errOut := run(ctx, "start", "-config", bad, "-bin", bin, "-run", run2, game)
		if code != 1 || !strings.Contains(errOut, "bad.toml:3: game.1.tick_rate") || !strings.Contains(errOut, "fix it") {
			t.Fatalf("start with an invalid file: %d\n%s", code, errOut)
		}
		if _, err := os.Stat(run2); err == nil {
			t.Error("start made a run directory for an invalid file")
		}
	})

	t.Run("game fails", func(t *testing.T) {
		// A boot entity type the game does not declare: the game exits at
		// once, after the dispatcher was started.
		bad := writeTestCluster(t, tmp, "noboot.toml", `boot_entity = "Nope"`)
		run2 := filepath.Join(tmp, "run-noboot")
		code, _, errOut := run(ctx, "start", "-config", bad, "-bin", bin, "-run", run2, "-timeout", "60s", game)
		if code != 1 || !strings.Contains(errOut, "game.1 exited before it was ready") || !strings.Contains(errOut, "Nope") {
			t.Fatalf("start with a failing game: %d\n%s", code, errOut)
		}
		ps, err := readManifest(runDirOf(run2))
		if err != nil || len(ps) != 2 {
			t.Fatalf("manifest: %+v %v", ps, err)
		}
		for _, p := range ps {
			if alive(p) {
				kill(p)
				t.Errorf("%s (pid %d) left running by a failed start", p.Name, p.PID)
			}
		}
	})
}

// TestExampleGame runs build, start, status and stop on
// examples/test_game, the example game.
func TestExampleGame(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three programs")
	}
	game, err := filepath.Abs("../examples/test_game")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(game, "main.go")); err != nil {
		t.Skipf("no example game: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// Its arena, monsters and chat hub, and the client's account.
	buildStartStatusStop(t, ctx, t.TempDir(), game, 2)
}

// buildStartStatusStop builds game into tmp/bin, starts a cluster of one
// dispatcher, one game and one gate, connects a client, waits until
// status shows it and at least minEntities entities in the game, and stops
// the cluster. It returns the bin directory.
func buildStartStatusStop(t *testing.T, ctx context.Context, tmp, game string, minEntities int) string {
	t.Helper()
	bin := filepath.Join(tmp, "bin")
	if code, out, errOut := run(ctx, "build", "-bin", bin, game); code != 0 {
		t.Fatalf("build: %d\n%s%s", code, out, errOut)
	}
	for _, p := range []string{binGame, binDispatcher, binGate} {
		if _, err := os.Stat(filepath.Join(bin, p)); err != nil {
			t.Fatalf("build made no %s: %v", p, err)
		}
	}

	cfg := writeTestCluster(t, tmp, "cluster.toml", "")
	runDir := filepath.Join(tmp, "run")
	code, out, errOut := run(ctx, "start", "-config", cfg, "-bin", bin, "-run", runDir, "-timeout", "60s", game)
	r := runDirOf(runDir)
	ps, _ := readManifest(r)
	defer func() {
		for _, p := range ps { // whatever happened, nothing stays behind
			if alive(p) {
				kill(p)
			}
		}
	}()
	if code != 0 {
		t.Fatalf("start: %d\n%s%s", code, out, errOut)
	}
	if len(ps) != 3 {
		t.Fatalf("manifest has %d processes, want 3: %+v", len(ps), ps)
	}
	for i, want := range []string{"dispatcher.1", "game.1", "gate.1"} {
		if ps[i].Name != want || !alive(ps[i]) {
			t.Fatalf("process %d: %+v alive=%v, want %s running", i, ps[i], alive(ps[i]), want)
		}
		b, err := os.ReadFile(r.pidFile(want))
		if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(ps[i].PID) {
			t.Fatalf("pid file of %s: %q %v", want, b, err)
		}
	}

	// Starting again over a running cluster is refused.
	if code, _, errOut := run(ctx, "start", "-config", cfg, "-bin", bin, "-run", runDir, game); code != 1 || !strings.Contains(errOut, "still running") {
		t.Fatalf("second start: %d %s", code, errOut)
	}

	// status: every process running, the game with its entities and a tick
	// time; once a client connects, the gate and the game count it.
	addrs, err := proc.ReadAddrs(r.addrs("gate.1"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, "tcp", addrs[proc.AddrTCP], client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var table, lastErr string
	sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
	defer scancel()
	for {
		code, out, errOut := run(sctx, "status", "-run", runDir)
		lastErr = errOut
		if code != 0 {
			t.Fatalf("status: %d\n%s%s", code, out, errOut)
		}
		table = out
		rows := statusRows(out)
		g, t1 := rows["game.1"], rows["gate.1"]
		if len(g) == 7 && len(t1) == 7 && g[2] == "running" && atLeast(g[4], minEntities) && g[5] == "1" && t1[5] == "1" && g[6] != "?" && g[6] != "-" {
			break
		}
		select {
		case <-sctx.Done():
			t.Fatalf("status never showed the client and the game's figures:\n%s%s", table, lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !strings.HasPrefix(table, "PROCESS") || !strings.Contains(table, "TICK P99") {
		t.Fatalf("status table header:\n%s", table)
	}
	c.Close()

	if code, out, errOut := run(ctx, "stop", "-run", runDir); code != 0 {
		t.Fatalf("stop: %d\n%s%s", code, out, errOut)
	}
	for _, p := range ps {
		if alive(p) {
			t.Errorf("%s (pid %d) still running after stop", p.Name, p.PID)
		}
		if _, err := os.Stat(r.pidFile(p.Name)); err == nil {
			t.Errorf("pid file of %s left after stop", p.Name)
		}
	}
	if !strings.Contains(tail(r.log("game.1"), 50), "game stopped") {
		t.Errorf("game.1 did not stop gracefully; its log:\n%s", tail(r.log("game.1"), 20))
	}
	if code, _, _ := run(ctx, "status", "-run", runDir); code != 1 {
		t.Errorf("status of a stopped cluster: exit %d, want 1", code)
	}

	return bin
}

func runDirOf(p string) runDir { return runDir(p) }

// atLeast reports whether a table cell is a number of at least n.
func atLeast(cell string, n int) bool {
	v, err := strconv.Atoi(cell)
	return err == nil && v >= n
}

// statusRows splits a status table into its rows by process name.
func statusRows(table string) map[string][]string {
	rows := make(map[string][]string)
	for _, line := range strings.Split(table, "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 {
			rows[f[0]] = f
		}
	}
	return rows
}

func TestHelp(t *testing.T) {
	ctx := context.Background()
	code, out, _ := run(ctx, "help")
	if code != 0 {
		t.Fatalf("help: %d", code)
	}
	var verbs []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  ") {
			verbs = append(verbs, strings.Fields(line)[0])
		}
	}
	if got := strings.Join(verbs, " "); got != "build start stop kill status freeze restore reload demo" {
		t.Fatalf("help lists %q", got)
	}
	for _, v := range verbs {
		code, out, _ := run(ctx, "help", v)
		if code != 0 || !strings.HasPrefix(out, "usage: ecsworld "+v) {
			t.Errorf("help %s: %d %q", v, code, out)
		}
		if code, out, _ := run(ctx, v, "-h"); code != 0 || !strings.HasPrefix(out, "usage: ecsworld "+v) {
			t.Errorf("%s -h: %d %q", v, code, out)
		}
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: ecsworld VERB"},
		{[]string{"frobnicate"}, 2, `no verb "frobnicate"`},
		{[]string{"help", "frobnicate"}, 2, `no verb "frobnicate"`},
		{[]string{"build"}, 2, "usage: ecsworld build"},
		{[]string{"start", "-nope", "x"}, 2, "flag provided but not defined"},
		{[]string{"stop", "extra"}, 2, "stop takes no arguments"},
		{[]string{"status", "-run", filepath.Join(t.TempDir(), "none")}, 1, "no run directory"},
		{[]string{"stop", "-run", t.TempDir()}, 1, "nothing was started there"},
		{[]string{"kill", "-run", t.TempDir()}, 1, "nothing was started there"},
		{[]string{"start", "-config", filepath.Join(t.TempDir(), "none.toml"), "."}, 1, "write a cluster file"},
		{[]string{"start", "-config", "testdata/../../config/testdata/cluster.toml", "-bin", t.TempDir(), "."}, 1, "run `ecsworld build` first"},
		{[]string{"build", t.TempDir() + "/none"}, 1, "is not a directory"},
	}
	for _, c := range cases {
		code, out, errOut := run(ctx, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("ecsworld %q: %d %q, want %d and %q", c.args, code, out+errOut, c.code, c.want)
		}
	}
}
