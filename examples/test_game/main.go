// Command test_game is a game process written as a user of ecsworld would
// write one, with the public API only. The end-to-end tests (e2e) and the
// bots (examples/test_client) play it.
//
//	test_game -config cluster.toml -id 1 [-addrs FILE] [-debug 127.0.0.1:0] [-monsters 20] [-seed N]
//
// It follows the launcher contract of `ecsworld start` (cli/proc): once
// linked to every dispatcher it writes -addrs FILE, a JSON object of the
// addresses it bound ("metrics" when the config gives the game a metrics
// address, where it serves Prometheus metrics; "debug" with -debug), and
// it stops gracefully on SIGINT or SIGTERM. SIGHUP freezes it (ecsworld
// freeze): the world goes to its snapshot and the process exits 0;
// -restore starts it from that snapshot with every client still bound.
//
// The game's world is package arena (examples/test_game/arena), which
// `ecsworld demo` runs too; its doc describes the entity types and
// methods.
//
// With -debug ADDR the game serves the debug endpoint
// (arena.World.DebugHandler: GET /debug/state, POST
// /debug/monsters?frozen=1) on ADDR (port 0: the OS picks one; its address
// is the "debug" key of the -addrs file). It is for tests and demos: it has
// no authentication, so bind it to loopback.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/cli/proc"
	"github.com/ecsworld/ecsworld/cli/proc/gameproc"
	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/examples/test_game/arena"
	"github.com/ecsworld/ecsworld/game"
	"github.com/ecsworld/ecsworld/metrics"
	"github.com/ecsworld/ecsworld/metrics/gamemetrics"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "test_game:", err)
		os.Exit(1)
	}
}

// run is the whole command; it returns when ctx ends or on an error.
func run(ctx context.Context, args []string) error {
	// Until FreezeOn takes SIGHUP over, one must not kill a game that is
	// still starting.
	signal.Ignore(syscall.SIGHUP)
	fs := flag.NewFlagSet("test_game", flag.ContinueOnError)
	restore := fs.Bool("restore", false, "start from this game's freeze snapshot (snapshot_dir) instead of empty")
	debugAddr := fs.String("debug", "", "serve the debug endpoint on this address (\"\": none)")
	monsters := fs.Int("monsters", 20, "monsters in this game's arena")
	seed := fs.Uint64("seed", 0, "random seed (0: from the clock)")
	p, err := proc.Parse(fs, config.RoleGame, args)
	if err != nil {
		return err
	}
	if *monsters < 0 || *monsters > 100000 {
		return fmt.Errorf("-monsters %d: must be 0..100000", *monsters)
	}
	cl, cfg, log := p.Cluster, p.Cluster.Game(p.ID), p.Log
	defer log.Sync()
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}

	w := arena.New(arena.Options{Monsters: *monsters, Seed: *seed, Log: log})
	g, err := game.New(game.Config{Game: *cfg, Dispatchers: cl.DispatcherAddrs(), Restored: *restore}, w.Setup(), log)
	if err != nil && *restore {
		return fmt.Errorf("-restore: %w", err)
	}
	if err != nil {
		return err
	}

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	g.FreezeOn(ctx, syscall.SIGHUP)
	addrs := map[string]string{}
	var msrv *metrics.Server
	if cfg.Metrics != "" {
		if msrv, _, err = gamemetrics.Serve(ctx, cfg.Metrics, g, cfg.Pprof, log); err != nil {
			return err
		}
		addrs["metrics"] = msrv.Addr()
	}
	if *debugAddr != "" {
		ln, err := net.Listen("tcp", *debugAddr)
		if err != nil {
			return fmt.Errorf("debug endpoint: %w", err)
		}
		srv := &http.Server{Handler: w.DebugHandler(ctx, g), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		addrs["debug"] = ln.Addr().String()
		log.Info("debug endpoint", zap.Stringer("addr", ln.Addr()))
	}
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	// The addresses file says the game is ready: written once it is linked
	// to every dispatcher (the launcher contract of ecsworld start).
	if p.AddrsFile != "" && gameproc.WaitLinked(ctx, g, done) {
		if err := proc.WriteAddrs(p.AddrsFile, addrs); err != nil {
			stop()
			<-done
			return err
		}
	}
	err = <-done
	stop()
	if msrv != nil {
		msrv.Wait()
	}
	if errors.Is(err, game.ErrFrozen) {
		return nil // the snapshot is written: the new binary takes over
	}
	return err
}
