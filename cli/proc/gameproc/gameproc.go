// Package gameproc is a game binary's side of `ecsworld start`: the whole
// main of a game process, following the launcher contract of package proc
// (flags, addresses file, signals). It is apart from proc because it
// links the engine: the dispatcher and gate programs import proc only.
//
//	func main() { gameproc.Main("test_game", newSetup) }
package gameproc

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/cli/proc"
	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/game"
	"github.com/ecsworld/ecsworld/metrics"
	"github.com/ecsworld/ecsworld/metrics/gamemetrics"
)

// SetupFunc builds the user game of game process cfg: its types, systems
// and start (inproc.Options.Setup has the same shape, so one function
// serves both).
type SetupFunc func(cfg config.Game, log *zap.Logger) (game.Setup, error)

// Main is a game binary's whole main: it runs Run with the command line
// until SIGINT or SIGTERM, or until a freeze (SIGHUP) wrote the snapshot,
// and exits 0, 1 on an error (printed as "name: error"), or 2 on bad
// flags.
func Main(name string, setup SetupFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := Run(ctx, name, os.Args[1:], setup)
	stop()
	if errors.Is(err, game.ErrFrozen) {
		os.Exit(0)
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// readyPoll is how often Run checks whether the game is linked to
// every dispatcher before writing the addresses file.
const readyPoll = 20 * time.Millisecond

// Run runs one game process of the cluster file named by -config until
// ctx ends: flags -config FILE, -id N and -addrs FILE (see package proc),
// and -restore to start from the game's freeze snapshot (refused
// with an error when it is missing or bad). SIGHUP freezes the game (the
// snapshot is written and Run returns game.ErrFrozen). It serves the
// game's metrics on its metrics address, with pprof if the config says so.
func Run(ctx context.Context, name string, args []string, setup SetupFunc) error {
	// Until FreezeOn takes SIGHUP over, one (a freeze asked too early)
	// must not kill a game that is still starting.
	signal.Ignore(syscall.SIGHUP)
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	restore := fs.Bool("restore", false, "start from this game's freeze snapshot (snapshot_dir) instead of empty")
	p, err := proc.Parse(fs, config.RoleGame, args)
	if err != nil {
		return err
	}
	cl, cfg, log := p.Cluster, p.Cluster.Game(p.ID), p.Log
	defer log.Sync()
	st, err := setup(*cfg, log)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	g, err := game.New(game.Config{Game: *cfg, Dispatchers: cl.DispatcherAddrs(), Restored: *restore}, st, log)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g.FreezeOn(ctx, syscall.SIGHUP)
	addrs := map[string]string{}
	var srv *metrics.Server
	var swap *gamemetrics.Swap // nil without a metrics address: records nothing
	if cfg.Metrics != "" {
		if srv, swap, err = gamemetrics.Serve(ctx, cfg.Metrics, g, cfg.Pprof, log); err != nil {
			return err
		}
		addrs[proc.AddrMetrics] = srv.Addr()
	}
	if *restore {
		swap.ObserveRestore(g.RestoreDuration())
	}
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	if p.AddrsFile != "" && WaitLinked(ctx, g, done) {
		if err := proc.WriteAddrs(p.AddrsFile, addrs); err != nil {
			cancel()
			<-done
			return err
		}
	}
	err = <-done
	if fi, ok := g.FreezeInfo(); ok {
		swap.ObserveFreeze(fi.Duration)
	}
	cancel()
	if srv != nil {
		srv.Wait()
	}
	return err
}

// WaitLinked waits until g, whose g.Run is running and will send its
// result to done, is linked to every dispatcher: the moment a game main
// writes its addresses file. It reports false if ctx ended or g.Run
// returned first (its result is then put back into done, which must have
// room for it).
func WaitLinked(ctx context.Context, g *game.Game, done chan error) bool {
	t := time.NewTicker(readyPoll)
	defer t.Stop()
	for {
		if s := g.Stats(); s.Connected == s.Dispatchers {
			return ctx.Err() == nil
		}
		select {
		case err := <-done:
			done <- err
			return false
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}
