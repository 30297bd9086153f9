// Command dispatcher runs one dispatcher of an ecsworld cluster: the
// router every game and gate connects to.
//
//	dispatcher -config cluster.toml -id 1 [-addrs FILE]
//
// It runs until SIGINT or SIGTERM, then flushes and closes its links and
// exits 0. With -addrs it writes the address it bound (useful with port 0)
// to FILE as one JSON object {"tcp": "host:port"} once it listens; the
// file appears complete or not at all.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/dispatcher"
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
	log, err := newLogger(cfg.LogLevel, cfg.LogFormat)
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
	if *addrsFile != "" {
		if err := writeAddrs(*addrsFile, d.Addr().String()); err != nil {
			d.Close()
			return err
		}
	}
	return d.Serve(ctx)
}

// writeAddrs writes the address atomically: a temporary file renamed into
// place, so a launcher polling for it never reads half of it.
func writeAddrs(path, addr string) error {
	b, err := json.Marshal(map[string]string{"tcp": addr})
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write address: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write address: %w", err)
	}
	return nil
}

// newLogger builds the process logger from the config: console (human
// readable, for development) or json (production, sampled).
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
		zc.Development = false // no panics on DPanic in a server
	default:
		return nil, fmt.Errorf("log format %q: console or json", format)
	}
	zc.Level = zap.NewAtomicLevelAt(lvl)
	return zc.Build()
}
