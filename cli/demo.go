package cli

import (
	"context"
	"flag"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/demo"
	"github.com/ecsworld/ecsworld/game"
)

// GameFunc builds the game of one game process (inproc.Options.Setup).
type GameFunc = func(cfg config.Game, log *zap.Logger) (game.Setup, error)

// DemoVerb is the demo verb running game, with bots if withBots (bots
// play the example game only).
func DemoVerb(run GameFunc, withBots bool) Verb {
	return Verb{
		Name:    "demo",
		Usage:   "demo [-bots N] [-addr HOST:PORT] [-log LEVEL]",
		Summary: "run a whole local cluster of the example game in this process, with bots and a live map",
		Help: `
Demo needs no setup and no files: it runs a dispatcher, a game and a gate of
the example game inside this one process, over real loopback links, lets
bots play it, and prints the address of the live map (a web page that
watches every space as an observer: a dot per entity, its AOI radius on
hover, the cluster status table) and of each process's /metrics page. It
runs until Ctrl-C or SIGTERM, then stops everything it started.

The map's URL carries the observer token, made afresh for each run.`,
		Flags: func(fs *flag.FlagSet) func(context.Context, *App, []string) error {
			bots := fs.Int("bots", demo.DefaultBots, "how many bots play (0: none)")
			addr := fs.String("addr", "127.0.0.1:0", "address of the live map's HTTP server")
			level := fs.String("log", "warn", "log level of the cluster's logs on stderr (debug, info, warn, error)")
			return func(ctx context.Context, a *App, args []string) error {
				if len(args) != 0 {
					return usageErr("demo takes no arguments, got %q", args)
				}
				if *bots < 0 || *bots > 10000 {
					return usageErr("-bots %d: must be 0..10000", *bots)
				}
				if *bots > 0 && !withBots {
					return usageErr("-bots: this demo's game has no bots; use -bots 0")
				}
				lvl, err := zapcore.ParseLevel(*level)
				if err != nil {
					return usageErr("-log %q: %v", *level, err)
				}
				enc := zap.NewDevelopmentEncoderConfig()
				log := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(a.Stderr), lvl))
				defer log.Sync()
				n := *bots
				if n == 0 {
					n = -1 // demo.Options: none
				}
				return demo.Run(ctx, demo.Options{Game: run, Bots: n, Addr: *addr, Log: log}, a.Stdout)
			}
		},
	}
}
