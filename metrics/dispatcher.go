package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/dispatcher"
)

// DispatcherSource is what the dispatcher collector reads: a
// *dispatcher.Dispatcher, or a fake.
type DispatcherSource interface {
	ID() uint16
	Stats() dispatcher.Stats
}

type dispatcherCollector struct {
	src DispatcherSource
	fs  families

	traffic                                              traffic
	dropped, rejected                                    *family
	errorReplies, accepted, restored, placed, wrongShard *family
	alerts                                               *family
	games, frozen, gates, routes, services               *family
	queue, heldQueues, heldBytes, heldOldest             *family
	handshakes, backlog                                  *family
}

// NewDispatcherCollector returns a collector of src's Stats.
func NewDispatcherCollector(src DispatcherSource) prometheus.Collector {
	c := &dispatcherCollector{src: src}
	fs := &c.fs
	c.traffic = fs.traffic()
	c.dropped = fs.counter("dropped_messages_total", "Messages not delivered, by reason.", "reason")
	c.rejected = fs.counter("handshakes_rejected_total", "Links refused at their Hello, by reason.", "reason")
	c.errorReplies = fs.counter("error_replies_total", "Error replies sent for calls that could not be delivered.")
	c.accepted = fs.counter("handshakes_accepted_total", "Links accepted at their Hello.")
	c.restored = fs.counter("games_restored_total", "Games that came back from a freeze and took over their queue.")
	c.placed = fs.counter("entities_placed_total", "Entities placed on a game by load.")
	c.wrongShard = fs.counter("wrong_shard_total", "Messages about an entity or service of another dispatcher's shard.")
	c.alerts = fs.counter("queue_alerts_total", "Loud reports of a held queue kept too long or grown too large.", "kind")
	c.games = fs.gauge("games", "Games connected (a frozen game whose link is still up included).")
	c.frozen = fs.gauge("games_frozen", "Games frozen, their traffic held.")
	c.gates = fs.gauge("gates", "Gates connected.")
	c.routes = fs.gauge("routes", "Entity routes of this dispatcher's shard.")
	c.services = fs.gauge("services", "Services registered on this dispatcher's shard.")
	c.queue = fs.gauge("queue_length", "Items waiting in a queue.", "queue")
	c.heldQueues = fs.gauge("held_queues", "Queues of held traffic (frozen games and migrating entities).")
	c.heldBytes = fs.gauge("held_queue_bytes", "Bytes held in freeze queues and migration holds.")
	c.heldOldest = fs.gauge("held_queue_oldest_seconds", "Age of the oldest held queue (0 without any).")
	c.handshakes = fs.gauge("handshakes_pending", "Links waiting for their Hello.")
	c.backlog = fs.gauge("send_backlog_bytes", "Bytes accepted for sending but not yet handed to a link.")
	return c
}

// Describe implements prometheus.Collector.
func (c *dispatcherCollector) Describe(ch chan<- *prometheus.Desc) { c.fs.describe(ch) }

// Collect implements prometheus.Collector.
func (c *dispatcherCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	same := func(t string) string { return t }
	emitTraffic(ch, c.traffic, "internal", "in", s.In, same)
	emitTraffic(ch, c.traffic, "internal", "out", s.Out, same)
	c.dropped.emitReasons(ch, s.Dropped)
	c.rejected.emitReasons(ch, s.Rejected)
	c.errorReplies.emit(ch, float64(s.ErrorReplies))
	c.accepted.emit(ch, float64(s.Accepted))
	c.restored.emit(ch, float64(s.Restored))
	c.placed.emit(ch, float64(s.Placed))
	c.wrongShard.emit(ch, float64(s.WrongShard))
	c.alerts.emit(ch, float64(s.QueueAlertsOverTime), "over_time")
	c.alerts.emit(ch, float64(s.QueueAlertsOverCap), "over_cap")
	c.games.emit(ch, float64(s.Games))
	c.frozen.emit(ch, float64(s.FrozenGames))
	c.gates.emit(ch, float64(s.Gates))
	c.routes.emit(ch, float64(s.Routes))
	c.services.emit(ch, float64(s.Services))
	c.queue.emit(ch, float64(s.Queued), "held")
	var bytes int
	var oldest float64
	for _, q := range s.Queues {
		bytes += q.Bytes
		oldest = max(oldest, q.Age.Seconds())
	}
	c.heldQueues.emit(ch, float64(len(s.Queues)))
	c.heldBytes.emit(ch, float64(bytes))
	c.heldOldest.emit(ch, oldest)
	c.handshakes.emit(ch, float64(s.Handshakes))
	c.backlog.emit(ch, float64(s.Backlog))
}

// ForDispatcher is the registry of dispatcher d.
func ForDispatcher(d DispatcherSource) (*Registry, error) {
	r := NewRegistry(config.RoleDispatcher, d.ID())
	if err := r.Register(NewDispatcherCollector(d)); err != nil {
		return nil, err
	}
	return r, nil
}
