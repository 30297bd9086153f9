package gamemetrics

import (
	"strings"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/game"
	"github.com/ecsworld/ecsworld/metrics/internal/metricstest"
	"github.com/ecsworld/ecsworld/netproto"
	"github.com/ecsworld/ecsworld/systems"
)

type fakeGame struct{ s game.Stats }

func (f *fakeGame) ID() uint16                  { return 7 }
func (f *fakeGame) Stats() game.Stats           { return f.s }
func (f *fakeGame) InboxLen() (n, capacity int) { return 3, 100 }

func TestCollector(t *testing.T) {
	src := &fakeGame{s: game.Stats{
		Tick: 42,
		Scheduler: systems.SchedulerStats{
			Tick: 42, Samples: 42, TickLast: 2 * time.Millisecond, TickMean: time.Millisecond, TickP99: 3 * time.Millisecond,
			Systems: []systems.SystemStats{
				{Name: "rpc", Stage: systems.StageRPC, Last: time.Microsecond, Mean: time.Microsecond, P99: 5 * time.Microsecond},
				{Name: "wander", Stage: systems.StageUser, P99: 7 * time.Microsecond, Errors: 2, Panics: 1},
				{Name: "wander", Stage: systems.StageUser, P99: 9 * time.Microsecond}, // same name: first kept
				{Name: "bad\xff", Stage: systems.StageUser},                           // invalid label: reported, no panic
			},
		},
		RPC:      systems.RPCStats{OK: 10, Denied: 2},
		Entities: 100, Spaces: 2, Clients: 5, Dispatchers: 2, Connected: 1,
		MsgsIn: 11, MsgsOut: 12, Dropped: 1, BadMessages: 4, Refused: 3,
		In:          map[netproto.MsgType]game.Traffic{netproto.MsgCallEntity: {Msgs: 11, Bytes: 700}},
		Out:         map[netproto.MsgType]game.Traffic{netproto.MsgGateBatch: {Msgs: 12, Bytes: 9000}},
		MigratedOut: 6,
	}}
	r, swap, err := NewRegistry(src)
	if err != nil {
		t.Fatal(err)
	}
	swap.ObserveFreeze(1500 * time.Millisecond)
	// The invalid system name fails the gather, but the page still serves
	// everything else (ContinueOnError).
	if _, err := r.Gatherer().Gather(); err == nil || !strings.Contains(err.Error(), "bad") {
		t.Errorf("gather with an invalid label value: %v", err)
	}
	f := metricstest.Scrape(t, r)
	for _, s := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ecsworld_ticks_total", []string{"role", "game", "id", "7"}, 42},
		{"ecsworld_tick_p99_seconds", nil, 0.003},
		{"ecsworld_tick_mean_seconds", nil, 0.001},
		{"ecsworld_system_p99_seconds", []string{"system", "rpc", "stage", "rpc"}, 5e-6},
		{"ecsworld_system_p99_seconds", []string{"system", "wander", "stage", "user"}, 7e-6},
		{"ecsworld_system_errors_total", []string{"system", "wander"}, 2},
		{"ecsworld_system_panics_total", []string{"system", "wander"}, 1},
		{"ecsworld_rpc_calls_total", []string{"outcome", "ok"}, 10},
		{"ecsworld_rpc_calls_total", []string{"outcome", "denied"}, 2},
		{"ecsworld_entities", nil, 100},
		{"ecsworld_spaces", nil, 2},
		{"ecsworld_clients", nil, 5},
		{"ecsworld_dispatcher_links_up", nil, 1},
		{"ecsworld_messages_total", []string{"direction", "in", "type", netproto.MsgCallEntity.String()}, 11},
		{"ecsworld_message_bytes_total", []string{"direction", "out", "type", netproto.MsgGateBatch.String()}, 9000},
		{"ecsworld_dropped_messages_total", []string{"reason", "bad_message"}, 4},
		{"ecsworld_dropped_messages_total", nil, 5},
		{"ecsworld_refused_messages_total", nil, 3},
		{"ecsworld_migrations_total", []string{"direction", "out"}, 6},
		{"ecsworld_queue_length", []string{"queue", "inbox"}, 3},
		{"ecsworld_queue_capacity", []string{"queue", "inbox"}, 100},
	} {
		metricstest.Check(t, f, s.name, s.want, s.labels...)
	}
	h := f["ecsworld_freeze_duration_seconds"]
	if h == nil || len(h.Metric) != 1 || h.Metric[0].Histogram.GetSampleCount() != 1 || h.Metric[0].Histogram.GetSampleSum() != 1.5 {
		t.Errorf("freeze histogram: %v", h)
	}
	if f["ecsworld_restore_duration_seconds"] == nil {
		t.Error("no restore histogram")
	}
	if f["go_goroutines"] == nil {
		t.Error("no Go runtime metrics")
	}
	var nilSwap *Swap
	nilSwap.ObserveFreeze(time.Second) // no metrics, no panic
	nilSwap.ObserveRestore(time.Second)
}

// TestLint runs the client library's metric linter (names, units, help)
// over the game's metrics.
func TestLint(t *testing.T) {
	r, _, err := NewRegistry(&fakeGame{})
	if err != nil {
		t.Fatal(err)
	}
	metricstest.Lint(t, r)
}
