// Command dispatcher runs one dispatcher of an ecsworld cluster: the
// router every game and gate connects to.
//
//	dispatcher -config cluster.toml -id 1 [-addrs FILE]
//
// It runs until SIGINT or SIGTERM, then flushes and closes its links and
// exits 0. It serves Prometheus metrics on its metrics address (and pprof
// when the config switches it on). With -addrs it writes the addresses it
// bound (useful with port 0) to FILE as one JSON object {"tcp":
// "host:port", "metrics": "host:port"} once it listens; the file appears
// complete or not at all (see package cli/proc).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ecsworld/ecsworld/cli/proc"
	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/dispatcher"
	"github.com/ecsworld/ecsworld/metrics"
	"github.com/ecsworld/ecsworld/metrics/dispatchermetrics"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dispatcher:", err)
		os.Exit(1)
	}
}

func run() error {
	p, err := proc.Parse(flag.CommandLine, config.RoleDispatcher, os.Args[1:])
	if err != nil {
		return err
	}
	cl, cfg, log := p.Cluster, p.Cluster.Dispatcher(p.ID), p.Log
	defer log.Sync()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	d, err := dispatcher.New(cl, p.ID, dispatcher.WithLogger(log))
	if err != nil {
		return err
	}
	addrs := map[string]string{proc.AddrTCP: d.Addr().String()}
	var srv *metrics.Server
	if cfg.Metrics != "" {
		reg, err := dispatchermetrics.NewRegistry(d)
		if err == nil {
			srv, err = reg.Serve(ctx, cfg.Metrics, cfg.Pprof, log)
		}
		if err != nil {
			d.Close()
			return err
		}
		addrs[proc.AddrMetrics] = srv.Addr()
	}
	if p.AddrsFile != "" {
		if err := proc.WriteAddrs(p.AddrsFile, addrs); err != nil {
			d.Close()
			stop()
			return err
		}
	}
	err = d.Serve(ctx)
	stop()
	if srv != nil {
		srv.Wait()
	}
	return err
}
