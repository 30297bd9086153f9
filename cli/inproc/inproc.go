// Package inproc runs a whole ecsworld cluster inside one program: every
// dispatcher, game and gate of a config.Cluster as libraries, over real
// loopback links, each with its own metrics endpoint. It is what `ecsworld
// demo` and end-to-end tests build on; `ecsworld start` runs the same
// processes as separate programs instead.
package inproc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/dispatcher"
	"github.com/ecsworld/ecsworld/game"
	"github.com/ecsworld/ecsworld/gate"
	"github.com/ecsworld/ecsworld/metrics"
	"github.com/ecsworld/ecsworld/metrics/dispatchermetrics"
	"github.com/ecsworld/ecsworld/metrics/gamemetrics"
	"github.com/ecsworld/ecsworld/metrics/gatemetrics"
)

// DefaultReadyTimeout bounds how long Start waits for each process to be
// ready.
const DefaultReadyTimeout = 15 * time.Second

// Options configure Start.
type Options struct {
	// Setup returns the user game of game process cfg (each game gets its
	// own: a Setup holds the game's state).
	Setup func(cfg config.Game, log *zap.Logger) (game.Setup, error)
	// Log receives every process's logs (each named by its process).
	// Nil: none.
	Log *zap.Logger
	// ReadyTimeout: DefaultReadyTimeout if 0.
	ReadyTimeout time.Duration
}

// Cluster is a running in-process cluster.
type Cluster struct {
	// Config is the cluster as run: each dispatcher's Advertise set to the
	// address it bound, so DispatcherAddrs is what games and gates dialled.
	Config      *config.Cluster
	Dispatchers []*dispatcher.Dispatcher
	Games       []*game.Game
	Gates       []*gate.Gate
	// Metrics are the running metrics endpoints by process name
	// ("game.1"), for the processes whose config has a metrics address;
	// Registries has every process's registry, served or not.
	Metrics    map[string]*metrics.Server
	Registries map[string]*metrics.Registry

	cancel   context.CancelFunc
	wg       sync.WaitGroup
	mu       sync.Mutex
	err      error // the first failure
	done     chan struct{}
	finish   func() // closes done, once
	stopOnce sync.Once
}

// Start runs cl: dispatchers, then games, then gates, each kind started
// once the previous is ready (listening; linked to every dispatcher). The
// processes run until ctx ends, Stop is called, or one of them fails (then
// all stop; Err says why). On an error Start stops what it started.
// cl is not modified: Cluster.Config is a copy.
func Start(ctx context.Context, cl *config.Cluster, opts Options) (_ *Cluster, err error) {
	if opts.Setup == nil {
		return nil, errors.New("inproc: Options.Setup is required")
	}
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	cfg := *cl
	cfg.Dispatchers = append([]config.Dispatcher(nil), cl.Dispatchers...)
	ctx, cancel := context.WithCancel(ctx)
	c := &Cluster{
		Config:     &cfg,
		Metrics:    make(map[string]*metrics.Server),
		Registries: make(map[string]*metrics.Registry),
		cancel:     cancel,
		done:       make(chan struct{}),
	}
	c.finish = sync.OnceFunc(func() { close(c.done) })
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()

	for i := range cfg.Dispatchers {
		dc := &cfg.Dispatchers[i]
		log := opts.Log.Named(dc.Name())
		d, err := dispatcher.New(&cfg, dc.ID, dispatcher.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("inproc: %s: %w", dc.Name(), err)
		}
		dc.Advertise = d.Addr().String()
		c.Dispatchers = append(c.Dispatchers, d)
		c.run(dc.Name(), func() error { return d.Serve(ctx) })
		reg, err := dispatchermetrics.NewRegistry(d)
		if err != nil {
			return nil, fmt.Errorf("inproc: %s: %w", dc.Name(), err)
		}
		if err := c.serveMetrics(ctx, dc.Process, reg, log); err != nil {
			return nil, err
		}
	}
	for i := range cfg.Games {
		gc := cfg.Games[i]
		log := opts.Log.Named(gc.Name())
		setup, err := opts.Setup(gc, log)
		if err != nil {
			return nil, fmt.Errorf("inproc: %s: setup: %w", gc.Name(), err)
		}
		g, err := game.New(game.Config{Game: gc, Dispatchers: cfg.DispatcherAddrs()}, setup, log)
		if err != nil {
			return nil, fmt.Errorf("inproc: %s: %w", gc.Name(), err)
		}
		c.Games = append(c.Games, g)
		c.run(gc.Name(), func() error { return g.Run(ctx) })
		reg, _, err := gamemetrics.NewRegistry(g)
		if err != nil {
			return nil, fmt.Errorf("inproc: %s: %w", gc.Name(), err)
		}
		if err := c.serveMetrics(ctx, gc.Process, reg, log); err != nil {
			return nil, err
		}
	}
	for _, g := range c.Games {
		if err := c.waitReady(ctx, opts.ReadyTimeout, fmt.Sprintf("game.%d", g.ID()), func() bool {
			s := g.Stats()
			return s.Connected == s.Dispatchers
		}); err != nil {
			return nil, err
		}
	}
	var gopts []gate.Option
	if bt, ok := BootType(&cfg); ok {
		gopts = append(gopts, gate.WithBootType(bt))
	}
	for i := range cfg.Gates {
		tc := cfg.Gates[i]
		log := opts.Log.Named(tc.Name())
		t, err := gate.New(tc, cfg.DispatcherAddrs(), log, gopts...)
		if err != nil {
			return nil, fmt.Errorf("inproc: %s: %w", tc.Name(), err)
		}
		if err := t.Start(ctx); err != nil {
			return nil, fmt.Errorf("inproc: %s: %w", tc.Name(), err)
		}
		c.Gates = append(c.Gates, t)
		c.run(tc.Name(), t.Wait)
		reg, err := gatemetrics.NewRegistry(t)
		if err != nil {
			return nil, fmt.Errorf("inproc: %s: %w", tc.Name(), err)
		}
		if err := c.serveMetrics(ctx, tc.Process, reg, log); err != nil {
			return nil, err
		}
	}
	for _, t := range c.Gates {
		if err := c.waitReady(ctx, opts.ReadyTimeout, fmt.Sprintf("gate.%d", t.ID()), func() bool {
			s := t.Stats()
			return s.DispatchersUp == s.Dispatchers
		}); err != nil {
			return nil, err
		}
	}
	go func() {
		c.wg.Wait()
		c.finish()
	}()
	return c, nil
}

// run starts one process's goroutine; its failure stops the cluster.
func (c *Cluster) run(name string, fn func() error) {
	c.wg.Go(func() {
		if err := fn(); err != nil {
			c.fail(fmt.Errorf("inproc: %s: %w", name, err))
		}
	})
}

func (c *Cluster) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.cancel()
}

func (c *Cluster) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// serveMetrics keeps p's registry and serves it if p has a metrics
// address.
func (c *Cluster) serveMetrics(ctx context.Context, p config.Process, reg *metrics.Registry, log *zap.Logger) error {
	c.Registries[p.Name()] = reg
	if p.Metrics == "" {
		return nil
	}
	srv, err := reg.Serve(ctx, p.Metrics, p.Pprof, log)
	if err != nil {
		return fmt.Errorf("inproc: %s: %w", p.Name(), err)
	}
	c.Metrics[p.Name()] = srv
	c.wg.Go(func() {
		if err := srv.Wait(); err != nil {
			c.fail(fmt.Errorf("inproc: %s: %w", p.Name(), err))
		}
	})
	return nil
}

// waitReady polls ready (a cheap Stats call) until it holds.
func (c *Cluster) waitReady(ctx context.Context, timeout time.Duration, name string, ready func() bool) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
	for !ready() {
		select {
		case <-ctx.Done():
			if err := c.failure(); err != nil {
				return err
			}
			return fmt.Errorf("inproc: %s: %w", name, ctx.Err())
		case <-deadline:
			return fmt.Errorf("inproc: %s not ready after %v (not linked to every dispatcher)", name, timeout)
		case <-tick.C:
		}
	}
	return nil
}

// Done is closed once every process has stopped.
func (c *Cluster) Done() <-chan struct{} { return c.done }

// Err is the failure that stopped the cluster, nil if it was stopped by
// its context or Stop.
func (c *Cluster) Err() error {
	select {
	case <-c.done:
	default:
		return nil
	}
	return c.failure()
}

// Stop stops every process and waits for them; it returns Err.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		c.cancel()
		c.wg.Wait()
		// Dispatchers whose Serve never ran still hold their listener.
		for _, d := range c.Dispatchers {
			d.Close()
		}
		c.finish()
	})
	return c.failure()
}

// BootType is the games' boot_entity when they all agree on it, for the
// gates (gate.WithBootType).
func BootType(cl *config.Cluster) (string, bool) {
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
