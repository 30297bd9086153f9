package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/gate"
	"github.com/ecsworld/ecsworld/netproto"
)

// GateSource is what the gate collector reads: a *gate.Gate, or a fake.
type GateSource interface {
	ID() uint16
	Stats() gate.Stats
}

type gateCollector struct {
	src GateSource
	fs  families

	clients, accepted, links, linksUp *family
	traffic                           traffic
	disconnects, refused, dropped     *family
}

// NewGateCollector returns a collector of src's Stats.
func NewGateCollector(src GateSource) prometheus.Collector {
	c := &gateCollector{src: src}
	fs := &c.fs
	c.clients = fs.gauge("clients", "Clients connected now, by transport.", "transport")
	c.accepted = fs.counter("clients_accepted_total", "Clients welcomed since the gate started.")
	c.links = fs.gauge("dispatcher_links", "Dispatchers this process links to.")
	c.linksUp = fs.gauge("dispatcher_links_up", "Dispatcher links up (handshake done).")
	c.traffic = fs.traffic()
	c.disconnects = fs.counter("client_disconnects_total", "Clients disconnected, by reason.", "reason")
	c.refused = fs.counter("refused_messages_total", "Client calls and moves refused, by reason.", "reason")
	c.dropped = fs.counter("dropped_messages_total", "Messages from dispatchers the gate could not use, by reason.", "reason")
	return c
}

// Describe implements prometheus.Collector.
func (c *gateCollector) Describe(ch chan<- *prometheus.Desc) { c.fs.describe(ch) }

// Collect implements prometheus.Collector.
func (c *gateCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	// Every transport is exported, 0 included, so a gate without clients
	// still has its ecsworld_clients series.
	transports := [...]string{"kcp", "tcp", "ws"}
	for _, t := range transports {
		c.clients.emit(ch, float64(s.ClientsByTransport[t]), t)
	}
	for t, n := range s.ClientsByTransport {
		if t != "kcp" && t != "tcp" && t != "ws" {
			c.clients.emit(ch, float64(n), t)
		}
	}
	c.accepted.emit(ch, float64(s.Accepted))
	c.links.emit(ch, float64(s.Dispatchers))
	c.linksUp.emit(ch, float64(s.DispatchersUp))
	emitTraffic(ch, c.traffic, "client", "in", s.ClientIn, typeName)
	emitTraffic(ch, c.traffic, "client", "out", s.ClientOut, typeName)
	emitTraffic(ch, c.traffic, "dispatcher", "in", s.DispatcherIn, typeName)
	emitTraffic(ch, c.traffic, "dispatcher", "out", s.DispatcherOut, typeName)
	c.disconnects.emitReasons(ch, s.Disconnects)
	c.refused.emitReasons(ch, s.Refused)
	c.dropped.emitReasons(ch, s.Dropped)
}

// typeName labels a message type; type 0 stands for the types outside the
// catalogue that the gate and the game count together.
func typeName(t netproto.MsgType) string {
	if t == 0 {
		return "unknown"
	}
	return t.String()
}

// ForGate is the registry of gate g.
func ForGate(g GateSource) (*Registry, error) {
	r := NewRegistry(config.RoleGate, g.ID())
	if err := r.Register(NewGateCollector(g)); err != nil {
		return nil, err
	}
	return r, nil
}
