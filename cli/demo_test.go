package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/game"
)

// lockedBuffer is written by the verb while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// emptyGame has the config's boot entity type and one empty space.
func emptyGame(config.Game, *zap.Logger) (game.Setup, error) {
	return game.Setup{
		Types:   []*ecs.EntityType{ecs.NewEntityType("Account"), ecs.NewEntityType("Room").Space()},
		OnStart: func(g *game.Game) error { _, err := g.Create("Room", ecs.CreateOptions{}); return err },
	}, nil
}

// runDemo runs `ecsworld demo args` on app until the URLs are printed,
// checks that the live map and every /metrics page answer, then cancels
// and checks the verb exits 0.
func runDemo(t *testing.T, app *App, out *lockedBuffer, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	code := make(chan int, 1)
	go func() { code <- app.Main(runCtx, append([]string{"demo"}, args...)) }()
	for !strings.Contains(out.String(), "Ctrl-C") {
		select {
		case c := <-code:
			t.Fatalf("demo exited %d early:\n%s", c, out)
		case <-ctx.Done():
			t.Fatalf("demo printed no URLs:\n%s", out)
		case <-time.After(20 * time.Millisecond):
		}
	}
	urls := regexp.MustCompile(`http://127\.0\.0\.1:\d+/\S*`).FindAllString(out.String(), -1)
	if len(urls) != 4 { // the map, and the metrics of the dispatcher, the game and the gate
		t.Fatalf("want 4 URLs, got %q in:\n%s", urls, out)
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	for _, u := range urls {
		resp, err := hc.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %s", u, resp.Status)
		}
	}
	hc.CloseIdleConnections()
	stop()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("demo exited %d after cancel:\n%s", c, out)
		}
	case <-ctx.Done():
		t.Fatal("demo did not stop after cancel")
	}
}

func TestDemoVerbRunsAndStops(t *testing.T) {
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	app := New(out, errOut)
	app.Add(DemoVerb(emptyGame, false))
	runDemo(t, app, out, "-bots", "0")
	if !strings.Contains(out.String(), "stopped") {
		t.Errorf("no stop line:\n%s", out)
	}
}

func TestDemoVerbUsage(t *testing.T) {
	for _, args := range [][]string{{"demo", "extra"}, {"demo", "-bots", "-1"}, {"demo", "-log", "loud"}} {
		if code, _, stderr := run(context.Background(), args...); code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", args, code, stderr)
		}
	}
	app := New(io.Discard, io.Discard)
	app.Add(DemoVerb(emptyGame, false))
	if code := app.Main(context.Background(), []string{"demo", "-bots", "3"}); code != 2 {
		t.Errorf("bots with a game that has none: exit %d, want 2", code)
	}
}

// TestDemoCommandStopsOnSIGTERM builds cmd/ecsworld and runs `ecsworld
// demo` from an empty working directory, as a person would: it prints the
// URLs, the map answers, and SIGTERM stops it with status 0.
func TestDemoCommandStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/ecsworld")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	exe := filepath.Join(t.TempDir(), "ecsworld")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", exe, "../cmd/ecsworld").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, exe, "demo", "-bots", "5")
	cmd.Dir = t.TempDir()
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for !strings.Contains(out.String(), "Ctrl-C") {
		select {
		case err := <-exited:
			t.Fatalf("demo exited early (%v):\n%s", err, out)
		case <-ctx.Done():
			cmd.Process.Kill()
			t.Fatalf("demo printed no URLs:\n%s", out)
		case <-time.After(50 * time.Millisecond):
		}
	}
	m := regexp.MustCompile(`live map: (http://127\.0\.0\.1:\d+/\?token=\w+)`).FindStringSubmatch(out.String())
	if m == nil {
		cmd.Process.Kill()
		t.Fatalf("no map URL:\n%s", out)
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	if resp, err := hc.Get(m[1]); err != nil || resp.StatusCode != 200 {
		t.Errorf("GET %s: %v %v", m[1], resp, err)
	} else {
		resp.Body.Close()
	}
	hc.CloseIdleConnections()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("demo after SIGTERM: %v\n%s", err, out)
		}
	case <-ctx.Done():
		cmd.Process.Kill()
		t.Fatalf("demo did not stop on SIGTERM:\n%s", out)
	}
	if !strings.Contains(out.String(), "stopped") {
		t.Errorf("no stop line:\n%s", out)
	}
}
