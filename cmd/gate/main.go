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

	"github.com/ecsworld/ecsworld/cli/proc"
	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/gate"
	"github.com/ecsworld/ecsworld/metrics"
	"github.com/ecsworld/ecsworld/metrics/gatemetrics"
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
	p, err := proc.Parse(flag.NewFlagSet("gate", flag.ContinueOnError), config.RoleGate, args)
	if err != nil {
		return err
	}
	cl, cfg, log := p.Cluster, p.Cluster.Gate(p.ID), p.Log
	defer log.Sync()

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
		reg, err := gatemetrics.NewRegistry(g)
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
	if p.AddrsFile != "" {
		if err := proc.WriteAddrs(p.AddrsFile, addrs); err != nil {
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
