package metrics

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric name.
const Namespace = "ecsworld"

// Registry is one process's metrics: a private prometheus.Registry whose
// every metric is labelled with the process's role and id.
type Registry struct {
	reg     *prometheus.Registry
	labeled prometheus.Registerer
	role    string
	id      uint16
	// Swap holds the freeze and restore histograms of a game (nil for the
	// other roles).
	Swap *Swap
}

// NewRegistry makes the registry of process role/id, with the Go runtime
// and process collectors already in it.
func NewRegistry(role string, id uint16) *Registry {
	reg := prometheus.NewRegistry()
	r := &Registry{
		reg:     reg,
		labeled: prometheus.WrapRegistererWith(prometheus.Labels{"role": role, "id": strconv.Itoa(int(id))}, reg),
		role:    role,
		id:      id,
	}
	// Both are fresh values and cannot collide in a fresh registry.
	r.labeled.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Register adds c, whose metrics get the role and id labels.
func (r *Registry) Register(c prometheus.Collector) error {
	if err := r.labeled.Register(c); err != nil {
		return fmt.Errorf("metrics: %s.%d: %w", r.role, r.id, err)
	}
	return nil
}

// Gatherer is what the HTTP handler reads; tests gather from it directly.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{
		// A failing collector must not hide the others.
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       10 * time.Second,
	})
}

// Role and ID name the process.
func (r *Registry) Role() string { return r.role }

// ID is the process's id within its role.
func (r *Registry) ID() uint16 { return r.id }

// Swap records how long hot swaps take: a freeze (from the request to the
// snapshot written) and a restore (from the start of the new binary to the
// world rebuilt and the dispatchers told).
type Swap struct {
	freeze, restore prometheus.Histogram
}

func newSwap() *Swap {
	// From a small world (milliseconds) to a large one (tens of seconds).
	swapBuckets := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	return &Swap{
		freeze: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "freeze_duration_seconds",
			Help:    "Time a freeze took, from the request to the snapshot written.",
			Buckets: swapBuckets,
		}),
		restore: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "restore_duration_seconds",
			Help:    "Time a restore took, from reading the snapshot to the world running.",
			Buckets: swapBuckets,
		}),
	}
}

// ObserveFreeze records one freeze. Safe on a nil *Swap (no metrics).
func (s *Swap) ObserveFreeze(d time.Duration) {
	if s != nil {
		s.freeze.Observe(d.Seconds())
	}
}

// ObserveRestore records one restore. Safe on a nil *Swap.
func (s *Swap) ObserveRestore(d time.Duration) {
	if s != nil {
		s.restore.Observe(d.Seconds())
	}
}

// register adds both histograms to r.
func (s *Swap) register(r *Registry) error {
	if err := r.Register(s.freeze); err != nil {
		return err
	}
	return r.Register(s.restore)
}
