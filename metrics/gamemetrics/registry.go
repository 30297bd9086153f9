package gamemetrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/metrics"
)

// NewRegistry is the registry of game src: its collector and the swap
// histograms, which the returned Swap observes.
func NewRegistry(src Source) (*metrics.Registry, *Swap, error) {
	r := metrics.NewRegistry(config.RoleGame, src.ID())
	if err := r.Register(NewCollector(src)); err != nil {
		return nil, nil, err
	}
	s := newSwap()
	if err := r.Register(s.freeze); err != nil {
		return nil, nil, err
	}
	if err := r.Register(s.restore); err != nil {
		return nil, nil, err
	}
	return r, s, nil
}

// Serve is the one call a game binary's main makes: it builds src's
// registry and serves it on addr (with pprof if asked) until ctx ends. The
// returned Swap is where the main records its freeze and restore times.
func Serve(ctx context.Context, addr string, src Source, withPprof bool, log *zap.Logger) (*metrics.Server, *Swap, error) {
	r, swap, err := NewRegistry(src)
	if err != nil {
		return nil, nil, err
	}
	srv, err := r.Serve(ctx, addr, withPprof, log)
	if err != nil {
		return nil, nil, err
	}
	return srv, swap, nil
}

// Swap records how long hot swaps take: a freeze (from the request to the
// snapshot written) and a restore (from the start of the new binary to the
// world rebuilt and the dispatchers told). A nil *Swap records nothing, so
// a game without a metrics address needs no test before each call.
type Swap struct {
	freeze, restore prometheus.Histogram
}

func newSwap() *Swap {
	// From a small world (milliseconds) to a large one (tens of seconds).
	swapBuckets := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	return &Swap{
		freeze: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: metrics.Namespace, Name: "freeze_duration_seconds",
			Help:    "Time a freeze took, from the request to the snapshot written.",
			Buckets: swapBuckets,
		}),
		restore: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: metrics.Namespace, Name: "restore_duration_seconds",
			Help:    "Time a restore took, from reading the snapshot to the world running.",
			Buckets: swapBuckets,
		}),
	}
}

// ObserveFreeze records one freeze.
func (s *Swap) ObserveFreeze(d time.Duration) {
	if s != nil {
		s.freeze.Observe(d.Seconds())
	}
}

// ObserveRestore records one restore.
func (s *Swap) ObserveRestore(d time.Duration) {
	if s != nil {
		s.restore.Observe(d.Seconds())
	}
}
