package dispatchermetrics

import (
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/dispatcher"
	"github.com/ecsworld/ecsworld/metrics/internal/metricstest"
)

type fakeDispatcher struct{ s dispatcher.Stats }

func (f *fakeDispatcher) ID() uint16              { return 1 }
func (f *fakeDispatcher) Stats() dispatcher.Stats { return f.s }

func TestCollector(t *testing.T) {
	src := &fakeDispatcher{s: dispatcher.Stats{
		In:       map[string]dispatcher.Traffic{"CallEntity": {Msgs: 3, Bytes: 300}},
		Out:      map[string]dispatcher.Traffic{"CallEntity": {Msgs: 2, Bytes: 200}},
		Dropped:  map[string]uint64{dispatcher.DropUnknownGame: 4},
		Rejected: map[string]uint64{dispatcher.RejectBadSecret: 1},
		Games:    2, FrozenGames: 1, Gates: 3, Routes: 50, Queued: 7,
		Queues:              []dispatcher.QueueStats{{Game: 1, Msgs: 5, Bytes: 500, Age: 2 * time.Second}, {Game: 2, Entity: 9, Msgs: 2, Bytes: 20, Age: time.Second}},
		QueueAlertsOverTime: 1, Backlog: 1024, Handshakes: 1,
	}}
	r, err := NewRegistry(src)
	if err != nil {
		t.Fatal(err)
	}
	f := metricstest.Scrape(t, r)
	for _, s := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ecsworld_messages_total", []string{"role", "dispatcher", "direction", "in", "type", "CallEntity"}, 3},
		{"ecsworld_message_bytes_total", []string{"direction", "out"}, 200},
		{"ecsworld_dropped_messages_total", []string{"reason", dispatcher.DropUnknownGame}, 4},
		{"ecsworld_handshakes_rejected_total", []string{"reason", dispatcher.RejectBadSecret}, 1},
		{"ecsworld_games", nil, 2},
		{"ecsworld_games_frozen", nil, 1},
		{"ecsworld_routes", nil, 50},
		{"ecsworld_queue_length", []string{"queue", "held"}, 7},
		{"ecsworld_held_queues", nil, 2},
		{"ecsworld_held_queue_bytes", nil, 520},
		{"ecsworld_held_queue_oldest_seconds", nil, 2},
		{"ecsworld_queue_alerts_total", []string{"kind", "over_time"}, 1},
		{"ecsworld_send_backlog_bytes", nil, 1024},
		{"ecsworld_handshakes_pending", nil, 1},
	} {
		metricstest.Check(t, f, s.name, s.want, s.labels...)
	}
}

// TestLint runs the client library's metric linter (names, units, help)
// over the dispatcher's metrics.
func TestLint(t *testing.T) {
	r, err := NewRegistry(&fakeDispatcher{})
	if err != nil {
		t.Fatal(err)
	}
	metricstest.Lint(t, r)
}
