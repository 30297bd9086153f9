package gatemetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/gate"
	"github.com/ecsworld/ecsworld/metrics"
	"github.com/ecsworld/ecsworld/metrics/internal/family"
)

// Source is what the gate collector reads: a *gate.Gate, or a fake.
type Source interface {
	ID() uint16
	Stats() gate.Stats
}

type gateCollector struct {
	src Source
	fs  family.Set

	clients, accepted, links, linksUp *family.Family
	traffic                           family.Traffic
	disconnects, refused, dropped     *family.Family
}

// NewCollector returns a collector of src's Stats.
func NewCollector(src Source) prometheus.Collector {
	c := &gateCollector{src: src}
	fs := &c.fs
	c.clients = fs.Gauge("clients", "Clients connected now, by transport.", "transport")
	c.accepted = fs.Counter("clients_accepted_total", "Clients welcomed since the gate started.")
	c.links = fs.Gauge("dispatcher_links", "Dispatchers this process links to.")
	c.linksUp = fs.Gauge("dispatcher_links_up", "Dispatcher links up (handshake done).")
	c.traffic = fs.Traffic()
	c.disconnects = fs.Counter("client_disconnects_total", "Clients disconnected, by reason.", "reason")
	c.refused = fs.Counter("refused_messages_total", "Client calls and moves refused, by reason.", "reason")
	c.dropped = fs.Counter("dropped_messages_total", "Messages from dispatchers the gate could not use, by reason.", "reason")
	return c
}

// Describe implements prometheus.Collector.
func (c *gateCollector) Describe(ch chan<- *prometheus.Desc) { c.fs.Describe(ch) }

// Collect implements prometheus.Collector.
func (c *gateCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	// Every transport is exported, 0 included, so a gate without clients
	// still has its ecsworld_clients series.
	transports := [...]string{"kcp", "tcp", "ws"}
	for _, t := range transports {
		c.clients.Emit(ch, float64(s.ClientsByTransport[t]), t)
	}
	for t, n := range s.ClientsByTransport {
		if t != "kcp" && t != "tcp" && t != "ws" {
			c.clients.Emit(ch, float64(n), t)
		}
	}
	c.accepted.Emit(ch, float64(s.Accepted))
	c.links.Emit(ch, float64(s.Dispatchers))
	c.linksUp.Emit(ch, float64(s.DispatchersUp))
	family.EmitTraffic(ch, c.traffic, "client", "in", s.ClientIn, family.TypeName)
	family.EmitTraffic(ch, c.traffic, "client", "out", s.ClientOut, family.TypeName)
	family.EmitTraffic(ch, c.traffic, "dispatcher", "in", s.DispatcherIn, family.TypeName)
	family.EmitTraffic(ch, c.traffic, "dispatcher", "out", s.DispatcherOut, family.TypeName)
	c.disconnects.EmitReasons(ch, s.Disconnects)
	c.refused.EmitReasons(ch, s.Refused)
	c.dropped.EmitReasons(ch, s.Dropped)
}

// NewRegistry is the registry of gate g.
func NewRegistry(g Source) (*metrics.Registry, error) {
	r := metrics.NewRegistry(config.RoleGate, g.ID())
	if err := r.Register(NewCollector(g)); err != nil {
		return nil, err
	}
	return r, nil
}
