package dispatchermetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/dispatcher"
	"github.com/ecsworld/ecsworld/metrics"
	"github.com/ecsworld/ecsworld/metrics/internal/family"
)

// Source is what the dispatcher collector reads: a *dispatcher.Dispatcher,
// or a fake.
type Source interface {
	ID() uint16
	Stats() dispatcher.Stats
}

type dispatcherCollector struct {
	src Source
	fs  family.Set

	traffic                                              family.Traffic
	dropped, rejected                                    *family.Family
	errorReplies, accepted, restored, placed, wrongShard *family.Family
	alerts                                               *family.Family
	games, frozen, gates, routes, services               *family.Family
	queue, heldQueues, heldBytes, heldOldest             *family.Family
	handshakes, backlog                                  *family.Family
}

// NewCollector returns a collector of src's Stats.
func NewCollector(src Source) prometheus.Collector {
	c := &dispatcherCollector{src: src}
	fs := &c.fs
	c.traffic = fs.Traffic()
	c.dropped = fs.Counter("dropped_messages_total", "Messages not delivered, by reason.", "reason")
	c.rejected = fs.Counter("handshakes_rejected_total", "Links refused at their Hello, by reason.", "reason")
	c.errorReplies = fs.Counter("error_replies_total", "Error replies sent for calls that could not be delivered.")
	c.accepted = fs.Counter("handshakes_accepted_total", "Links accepted at their Hello.")
	c.restored = fs.Counter("games_restored_total", "Games that came back from a freeze and took over their queue.")
	c.placed = fs.Counter("entities_placed_total", "Entities placed on a game by load.")
	c.wrongShard = fs.Counter("wrong_shard_total", "Messages about an entity or service of another dispatcher's shard.")
	c.alerts = fs.Counter("queue_alerts_total", "Loud reports of a held queue kept too long or grown too large.", "kind")
	c.games = fs.Gauge("games", "Games connected (a frozen game whose link is still up included).")
	c.frozen = fs.Gauge("games_frozen", "Games frozen, their traffic held.")
	c.gates = fs.Gauge("gates", "Gates connected.")
	c.routes = fs.Gauge("routes", "Entity routes of this dispatcher's shard.")
	c.services = fs.Gauge("services", "Services registered on this dispatcher's shard.")
	c.queue = fs.Gauge("queue_length", "Items waiting in a queue.", "queue")
	c.heldQueues = fs.Gauge("held_queues", "Queues of held traffic (frozen games and migrating entities).")
	c.heldBytes = fs.Gauge("held_queue_bytes", "Bytes held in freeze queues and migration holds.")
	c.heldOldest = fs.Gauge("held_queue_oldest_seconds", "Age of the oldest held queue (0 without any).")
	c.handshakes = fs.Gauge("handshakes_pending", "Links waiting for their Hello.")
	c.backlog = fs.Gauge("send_backlog_bytes", "Bytes accepted for sending but not yet handed to a link.")
	return c
}

// Describe implements prometheus.Collector.
func (c *dispatcherCollector) Describe(ch chan<- *prometheus.Desc) { c.fs.Describe(ch) }

// Collect implements prometheus.Collector.
func (c *dispatcherCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	same := func(t string) string { return t }
	family.EmitTraffic(ch, c.traffic, "internal", "in", s.In, same)
	family.EmitTraffic(ch, c.traffic, "internal", "out", s.Out, same)
	c.dropped.EmitReasons(ch, s.Dropped)
	c.rejected.EmitReasons(ch, s.Rejected)
	c.errorReplies.Emit(ch, float64(s.ErrorReplies))
	c.accepted.Emit(ch, float64(s.Accepted))
	c.restored.Emit(ch, float64(s.Restored))
	c.placed.Emit(ch, float64(s.Placed))
	c.wrongShard.Emit(ch, float64(s.WrongShard))
	c.alerts.Emit(ch, float64(s.QueueAlertsOverTime), "over_time")
	c.alerts.Emit(ch, float64(s.QueueAlertsOverCap), "over_cap")
	c.games.Emit(ch, float64(s.Games))
	c.frozen.Emit(ch, float64(s.FrozenGames))
	c.gates.Emit(ch, float64(s.Gates))
	c.routes.Emit(ch, float64(s.Routes))
	c.services.Emit(ch, float64(s.Services))
	c.queue.Emit(ch, float64(s.Queued), "held")
	var bytes int
	var oldest float64
	for _, q := range s.Queues {
		bytes += q.Bytes
		oldest = max(oldest, q.Age.Seconds())
	}
	c.heldQueues.Emit(ch, float64(len(s.Queues)))
	c.heldBytes.Emit(ch, float64(bytes))
	c.heldOldest.Emit(ch, oldest)
	c.handshakes.Emit(ch, float64(s.Handshakes))
	c.backlog.Emit(ch, float64(s.Backlog))
}

// NewRegistry is the registry of dispatcher d.
func NewRegistry(d Source) (*metrics.Registry, error) {
	r := metrics.NewRegistry(config.RoleDispatcher, d.ID())
	if err := r.Register(NewCollector(d)); err != nil {
		return nil, err
	}
	return r, nil
}
