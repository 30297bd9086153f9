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
