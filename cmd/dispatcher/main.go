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
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dispatcher:", err)
		os.Exit(1)
	}
}

func run() error {
	path := flag.String("config", "cluster.toml", "cluster file")
	id := flag.Uint("id", 1, "this dispatcher's id (its [dispatcher.N] section)")
	addrsFile := flag.String("addrs", "", "write the bound listen address to this file as JSON")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if *id < 1 || *id > 65535 {
		return fmt.Errorf("-id %d: must be 1..65535", *id)
	}
	cl, err := config.Load(*path)
	if err != nil {
		return err
	}
	cfg := cl.Dispatcher(uint16(*id))
	if cfg == nil {
		return fmt.Errorf("%s has no [dispatcher.%d]", *path, *id)
	}
	log, err := proc.NewLogger(cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	defer log.Sync()
	for _, w := range cl.Warnings() {
		log.Warn(w)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	d, err := dispatcher.New(cl, uint16(*id), dispatcher.WithLogger(log))
	if err != nil {
		return err
	}
	addrs := map[string]string{proc.AddrTCP: d.Addr().String()}
	var srv *metrics.Server
	if cfg.Metrics != "" {
		reg, err := metrics.ForDispatcher(d)
		if err == nil {
			srv, err = reg.Serve(ctx, cfg.Metrics, cfg.Pprof, log)
		}
		if err != nil {
			d.Close()
			return err
		}
		addrs[proc.AddrMetrics] = srv.Addr()
	}
	if *addrsFile != "" {
		if err := proc.WriteAddrs(*addrsFile, addrs); err != nil {
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
