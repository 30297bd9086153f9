// Command gate runs one gate of an ecsworld cluster: the process clients
// connect to (KCP, TCP, WebSocket).
//
//	gate -config cluster.toml -id 1 [-addrs FILE]
//
// It runs until SIGINT or SIGTERM, then tells its clients it is shutting
// down and exits 0. It serves Prometheus metrics on its metrics address
// (and pprof when the config switches it on). With -addrs it writes the
// addresses it bound (useful with port 0) to FILE as one JSON object
// {"kcp": ..., "tcp": ..., "ws": ..., "metrics": ...} (transports that are
// off left out) once it listens; the file appears complete or not at all
// (see package cli/proc).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ecsworld/ecsworld/cli/proc"
	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/gate"
	"github.com/ecsworld/ecsworld/metrics"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gate:", err)
		os.Exit(1)
	}
}

// run is the whole command: it returns when ctx ends (a signal) or on an
// error.
func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("gate", flag.ContinueOnError)
	path := fs.String("config", "cluster.toml", "cluster file")
	id := fs.Uint("id", 1, "this gate's id (its [gate.N] section)")
	addrsFile := fs.String("addrs", "", "write the bound listen addresses to this file as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *id < 1 || *id > 65535 {
		return fmt.Errorf("-id %d: must be 1..65535", *id)
	}
	cl, err := config.Load(*path)
	if err != nil {
		return err
	}
	cfg := cl.Gate(uint16(*id))
	if cfg == nil {
		return fmt.Errorf("%s has no [gate.%d]", *path, *id)
	}
	log, err := newLogger(cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	defer log.Sync()
	for _, w := range cl.Warnings() {
		log.Warn(w)
	}

	var opts []gate.Option
	if bt, ok := bootType(cl); ok {
		opts = append(opts, gate.WithBootType(bt))
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	g, err := gate.New(*cfg, cl.DispatcherAddrs(), log, opts...)
	if err != nil {
		return err
	}
	if err := g.Start(ctx); err != nil {
		return err
	}
	a := g.Addrs()
	addrs := map[string]string{proc.AddrKCP: a.KCP, proc.AddrTCP: a.TCP, proc.AddrWS: a.WS}
	var srv *metrics.Server
	if cfg.Metrics != "" {
		reg, err := metrics.ForGate(g)
		if err == nil {
			srv, err = reg.Serve(ctx, cfg.Metrics, cfg.Pprof, log)
		}
		if err != nil {
			stop()
			g.Wait()
			return err
		}
		addrs[proc.AddrMetrics] = srv.Addr()
	}
	if *addrsFile != "" {
		if err := proc.WriteAddrs(*addrsFile, addrs); err != nil {
			stop()
			g.Wait()
			return err
		}
	}
	err = g.Wait()
	stop()
	if srv != nil {
		srv.Wait()
	}
	return err
}

// bootType is the games' boot_entity when they all agree on it: the gate's
// own section has none, and a game picked by a dispatcher uses its own when
// ClientConnected leaves it empty.
func bootType(cl *config.Cluster) (string, bool) {
	if len(cl.Games) == 0 {
		return "", false
	}
	bt := cl.Games[0].BootEntity
	for _, g := range cl.Games[1:] {
		if g.BootEntity != bt {
			return "", false
		}
	}
	return bt, bt != ""
}

// newLogger builds the process logger from the config: console (human
// readable) or json (production, sampled).
func newLogger(level, format string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	var zc zap.Config
	switch format {
	case "json":
		zc = zap.NewProductionConfig()
	case "console", "":
		zc = zap.NewDevelopmentConfig()
		zc.Development = false
		zc.Sampling = &zap.SamplingConfig{Initial: 100, Thereafter: 100}
	default:
		return nil, fmt.Errorf("log format %q: console or json", format)
	}
	zc.Level = zap.NewAtomicLevelAt(lvl)
	return zc.Build()
}
