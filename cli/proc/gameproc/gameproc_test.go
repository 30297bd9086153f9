package gameproc

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/cli/proc"
	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/dispatcher"
	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/game"
	"github.com/ecsworld/ecsworld/metrics"
)

func accountSetup(config.Game, *zap.Logger) (game.Setup, error) {
	return game.Setup{Types: []*ecs.EntityType{ecs.NewEntityType("Account")}}, nil
}

func TestRunFlags(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	good := filepath.Join(dir, "c.toml")
	os.WriteFile(good, []byte("[dispatcher.1]\n[game.1]\n[gate.1]\n"), 0o644)
	cases := map[string]struct {
		args []string
		want string
	}{
		"help":       {[]string{"-h"}, flag.ErrHelp.Error()},
		"extra":      {[]string{"-config", good, "x"}, "unexpected arguments"},
		"id 0":       {[]string{"-config", good, "-id", "0"}, "must be 1..65535"},
		"no file":    {[]string{"-config", filepath.Join(dir, "none.toml")}, "none.toml"},
		"no section": {[]string{"-config", good, "-id", "2"}, "has no [game.2]"},
	}
	for name, c := range cases {
		err := Run(ctx, "g", c.args, accountSetup)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	if err := Run(ctx, "g", []string{"-config", good}, func(config.Game, *zap.Logger) (game.Setup, error) {
		return game.Setup{}, errors.New("no world today")
	}); err == nil || !strings.Contains(err.Error(), "no world today") {
		t.Errorf("setup error: %v", err)
	}
}

// TestRun runs a game process against a real dispatcher: the
// addresses file appears once it is linked, with its metrics address, and
// the game stops when its context ends.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl := config.Ephemeral(1, 1, 1)
	d, err := dispatcher.New(cl, 1)
	if err != nil {
		t.Fatal(err)
	}
	dctx, dstop := context.WithCancel(ctx)
	ddone := make(chan error, 1)
	go func() { ddone <- d.Serve(dctx) }()
	defer func() { dstop(); <-ddone }()

	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.toml")
	os.WriteFile(cfg, []byte(`
[dispatcher.1]
listen = "127.0.0.1:0"
advertise = "`+d.Addr().String()+`"
[game.1]
metrics = "127.0.0.1:0"
log_level = "warn"
[gate.1]
`), 0o644)
	addrs := filepath.Join(dir, "addrs.json")
	gctx, gstop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Run(gctx, "g", []string{"-config", cfg, "-id", "1", "-addrs", addrs}, accountSetup)
	}()
	var m map[string]string
	for {
		if m, err = proc.ReadAddrs(addrs); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("Run returned before it was ready: %v", err)
		case <-ctx.Done():
			t.Fatal("no addresses file")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if d.Stats().Games != 1 {
		t.Errorf("the addresses file came before the game was linked: %+v", d.Stats().Games)
	}
	f, err := metrics.Scrape(ctx, nil, "http://"+m[proc.AddrMetrics]+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := f.Sum("ecsworld_dispatcher_links_up", "role", "game"); !ok || v != 1 {
		t.Errorf("links up = %v %v", v, ok)
	}
	gstop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Run did not return after its context ended")
	}
}
