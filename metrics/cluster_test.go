package metrics_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/cli/inproc"
	"github.com/ecsworld/ecsworld/client"
	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/game"
	"github.com/ecsworld/ecsworld/metrics"
)

// TestClusterMetrics scrapes the /metrics pages of a real dispatcher, game
// and gate (in-process, over loopback) and checks the tick time and the
// client counts move when a client connects and leaves.
func TestClusterMetrics(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := config.Ephemeral(1, 1, 1)
	for i := range cl.Dispatchers {
		cl.Dispatchers[i].Metrics = "127.0.0.1:0"
	}
	for i := range cl.Games {
		cl.Games[i].Metrics = "127.0.0.1:0"
		cl.Games[i].TickRate = 50
	}
	for i := range cl.Gates {
		cl.Gates[i].Metrics = "127.0.0.1:0"
		cl.Gates[i].Pprof = true
	}
	c, err := inproc.Start(ctx, cl, inproc.Options{Setup: func(config.Game, *zap.Logger) (game.Setup, error) {
		return game.Setup{Types: []*ecs.EntityType{ecs.NewEntityType("Account")}}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()

	url := func(name string) string {
		srv := c.Metrics[name]
		if srv == nil {
			t.Fatalf("no metrics server for %s", name)
		}
		return srv.URL()
	}
	scrape := func(name string) metrics.Families {
		t.Helper()
		f, err := metrics.Scrape(ctx, nil, url(name))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	value := func(f metrics.Families, name string, match ...string) float64 {
		t.Helper()
		v, ok := f.Sum(name, match...)
		if !ok {
			t.Fatalf("no series %s %v", name, match)
		}
		return v
	}
	// waitFor scrapes name until cond holds on the page.
	waitFor := func(name, what string, cond func(metrics.Families) bool) metrics.Families {
		t.Helper()
		for {
			f := scrape(name)
			if cond(f) {
				return f
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s: %s never held", name, what)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}

	g1 := waitFor("game.1", "ticks and a tick time", func(f metrics.Families) bool {
		return value(f, "ecsworld_ticks_total") > 0 && value(f, "ecsworld_tick_p99_seconds") > 0
	})
	if v := value(g1, "ecsworld_clients"); v != 0 {
		t.Fatalf("game clients before any client = %v", v)
	}
	if _, ok := g1.Sum("ecsworld_system_p99_seconds", "system", "rpc", "role", "game", "id", "1"); !ok {
		t.Fatal("no per-system tick time for the rpc stage labelled role=game id=1")
	}
	ticks := value(g1, "ecsworld_ticks_total")
	waitFor("game.1", "ticks moving", func(f metrics.Families) bool { return value(f, "ecsworld_ticks_total") > ticks })

	t1 := scrape("gate.1")
	if v := value(t1, "ecsworld_clients"); v != 0 {
		t.Fatalf("gate clients before any client = %v", v)
	}
	if v := value(t1, "ecsworld_dispatcher_links_up"); v != 1 {
		t.Fatalf("gate dispatcher links up = %v, want 1", v)
	}
	d1 := scrape("dispatcher.1")
	if v := value(d1, "ecsworld_games"); v != 1 {
		t.Fatalf("dispatcher games = %v, want 1", v)
	}
	if v := value(d1, "ecsworld_gates"); v != 1 {
		t.Fatalf("dispatcher gates = %v, want 1", v)
	}
	if _, ok := d1.Sum("ecsworld_freeze_duration_seconds"); ok {
		t.Fatal("a dispatcher exports the game's freeze histogram")
	}
	if _, ok := g1.Sum("ecsworld_freeze_duration_seconds"); ok {
		t.Fatal("Sum reads histograms") // Sum skips histograms: only presence is checked below
	}
	if g1["ecsworld_freeze_duration_seconds"] == nil || g1["ecsworld_restore_duration_seconds"] == nil {
		t.Fatal("the game does not export the freeze and restore histograms")
	}

	cli, err := client.Dial(ctx, "tcp", c.Gates[0].Addrs().TCP, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor("gate.1", "one tcp client", func(f metrics.Families) bool {
		return value(f, "ecsworld_clients", "transport", "tcp") == 1 && value(f, "ecsworld_messages_total", "link", "client", "direction", "in") > 0
	})
	waitFor("game.1", "one bound client", func(f metrics.Families) bool { return value(f, "ecsworld_clients") == 1 })
	cli.Close()
	waitFor("gate.1", "no client", func(f metrics.Families) bool {
		return value(f, "ecsworld_clients") == 0 && value(f, "ecsworld_client_disconnects_total") == 1
	})

	// pprof is served where it is switched on, and only there.
	for name, want := range map[string]int{"gate.1": http.StatusOK, "game.1": http.StatusNotFound} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.Metrics[name].Addr()+"/debug/pprof/cmdline", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s /debug/pprof/cmdline: %d, want %d", name, resp.StatusCode, want)
		}
	}

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	for name, srv := range c.Metrics {
		select {
		case <-srv.Done():
		case <-ctx.Done():
			t.Fatalf("%s metrics server still running after Stop", name)
		}
	}
}
