package metrics

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/ecsworld/ecsworld/dispatcher"
	"github.com/ecsworld/ecsworld/game"
	"github.com/ecsworld/ecsworld/gate"
	"github.com/ecsworld/ecsworld/netproto"
	"github.com/ecsworld/ecsworld/systems"
)

type fakeGame struct{ s game.Stats }

func (f *fakeGame) ID() uint16                  { return 7 }
func (f *fakeGame) Stats() game.Stats           { return f.s }
func (f *fakeGame) InboxLen() (n, capacity int) { return 3, 100 }

type fakeGate struct{ s gate.Stats }

func (f *fakeGate) ID() uint16        { return 2 }
func (f *fakeGate) Stats() gate.Stats { return f.s }

type fakeDispatcher struct{ s dispatcher.Stats }

func (f *fakeDispatcher) ID() uint16              { return 1 }
func (f *fakeDispatcher) Stats() dispatcher.Stats { return f.s }

// scrape serves r over HTTP on port 0 and reads the page back.
func scrape(t *testing.T, r *Registry) Families {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv, err := r.Serve(ctx, "127.0.0.1:0", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Scrape(ctx, nil, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := srv.Wait(); err != nil {
		t.Fatal(err)
	}
	return f
}

// series is one expected sample: a family, labels to match, and a value.
type series struct {
	name   string
	labels []string
	want   float64
}

func check(t *testing.T, f Families, cases []series) {
	t.Helper()
	for _, c := range cases {
		got, ok := f.Sum(c.name, c.labels...)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
}

func TestGameCollector(t *testing.T) {
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
	r, err := ForGame(src)
	if err != nil {
		t.Fatal(err)
	}
	r.Swap.ObserveFreeze(1500 * time.Millisecond)
	// The invalid system name fails the gather, but the page still serves
	// everything else (ContinueOnError).
	if _, err := r.Gatherer().Gather(); err == nil || !strings.Contains(err.Error(), "bad") {
		t.Errorf("gather with an invalid label value: %v", err)
	}
	f := scrape(t, r)
	check(t, f, []series{
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
	})
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
}

func TestGateCollector(t *testing.T) {
	src := &fakeGate{s: gate.Stats{
		Clients: 3, ClientsByTransport: map[string]int{"kcp": 2, "ws": 1},
		Accepted: 9, Dispatchers: 2, DispatchersUp: 2,
		ClientIn:     map[netproto.MsgType]gate.Traffic{netproto.MsgHeartbeat: {Msgs: 4, Bytes: 40}, 0: {Msgs: 1, Bytes: 9}},
		DispatcherIn: map[netproto.MsgType]gate.Traffic{netproto.MsgHeartbeat: {Msgs: 2, Bytes: 20}},
		Disconnects:  map[string]uint64{gate.DisconnectIdle: 2},
		Refused:      map[string]uint64{gate.RefusedNotOwner: 5},
		Dropped:      map[string]uint64{gate.DroppedDecode: 1},
	}}
	r, err := ForGate(src)
	if err != nil {
		t.Fatal(err)
	}
	check(t, scrape(t, r), []series{
		{"ecsworld_clients", []string{"role", "gate", "id", "2"}, 3},
		{"ecsworld_clients", []string{"transport", "kcp"}, 2},
		{"ecsworld_clients", []string{"transport", "tcp"}, 0},
		{"ecsworld_clients_accepted_total", nil, 9},
		{"ecsworld_messages_total", []string{"link", "client", "direction", "in", "type", netproto.MsgHeartbeat.String()}, 4},
		{"ecsworld_messages_total", []string{"link", "client", "type", "unknown"}, 1},
		{"ecsworld_message_bytes_total", []string{"link", "client"}, 49},
		{"ecsworld_message_bytes_total", []string{"link", "dispatcher", "direction", "in"}, 20},
		{"ecsworld_client_disconnects_total", []string{"reason", gate.DisconnectIdle}, 2},
		{"ecsworld_refused_messages_total", []string{"reason", gate.RefusedNotOwner}, 5},
		{"ecsworld_dropped_messages_total", []string{"reason", gate.DroppedDecode}, 1},
	})
}

func TestDispatcherCollector(t *testing.T) {
	src := &fakeDispatcher{s: dispatcher.Stats{
		In:       map[string]dispatcher.Traffic{"CallEntity": {Msgs: 3, Bytes: 300}},
		Out:      map[string]dispatcher.Traffic{"CallEntity": {Msgs: 2, Bytes: 200}},
		Dropped:  map[string]uint64{dispatcher.DropUnknownGame: 4},
		Rejected: map[string]uint64{dispatcher.RejectBadSecret: 1},
		Games:    2, FrozenGames: 1, Gates: 3, Routes: 50, Queued: 7,
		Queues:              []dispatcher.QueueStats{{Game: 1, Msgs: 5, Bytes: 500, Age: 2 * time.Second}, {Game: 2, Entity: 9, Msgs: 2, Bytes: 20, Age: time.Second}},
		QueueAlertsOverTime: 1, Backlog: 1024, Handshakes: 1,
	}}
	r, err := ForDispatcher(src)
	if err != nil {
		t.Fatal(err)
	}
	check(t, scrape(t, r), []series{
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
	})
}

// TestCollectorsLint runs the client library's metric linter (names,
// units, help) over every collector.
func TestCollectorsLint(t *testing.T) {
	for name, r := range map[string]func() (*Registry, error){
		"game":       func() (*Registry, error) { return ForGame(&fakeGame{}) },
		"gate":       func() (*Registry, error) { return ForGate(&fakeGate{}) },
		"dispatcher": func() (*Registry, error) { return ForDispatcher(&fakeDispatcher{}) },
	} {
		reg, err := r()
		if err != nil {
			t.Fatal(err)
		}
		mfs, err := reg.Gatherer().Gather()
		if err != nil {
			t.Fatal(err)
		}
		problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			if strings.HasPrefix(p.Metric, "ecsworld_") {
				t.Errorf("%s: %s: %s", name, p.Metric, p.Text)
			}
		}
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := NewRegistry("gate", 1)
	if _, err := r.Serve(ctx, "", false, nil); err == nil {
		t.Error("Serve with no address succeeded")
	}
	if _, err := r.Serve(ctx, "127.0.0.1:99999", false, nil); err == nil {
		t.Error("Serve on a bad port succeeded")
	}
	sctx, stop := context.WithCancel(ctx)
	srv, err := r.Serve(sctx, "127.0.0.1:0", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/metrics": 200, "/debug/pprof/": 200, "/debug/pprof/cmdline": 200, "/": 404} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+srv.Addr()+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	stop()
	if err := srv.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := Scrape(ctx, nil, srv.URL()); err == nil {
		t.Error("scrape of a stopped server succeeded")
	}
}

func TestParseText(t *testing.T) {
	f, err := ParseText(strings.NewReader("# TYPE a gauge\na{x=\"1\"} 2\na{x=\"2\"} 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := f.Sum("a"); !ok || v != 5 {
		t.Errorf("Sum(a) = %v %v", v, ok)
	}
	if v, ok := f.Sum("a", "x", "2"); !ok || v != 3 {
		t.Errorf("Sum(a, x=2) = %v %v", v, ok)
	}
	if _, ok := f.Sum("a", "x", "3"); ok {
		t.Error("Sum matched a label value no series has")
	}
	if _, ok := f.Sum("b"); ok {
		t.Error("Sum found a missing family")
	}
	for name, page := range map[string]string{
		"garbage":   "this is { not a page",
		"too large": "# " + strings.Repeat("x", MaxScrapeBytes+10) + "\n",
	} {
		if _, err := ParseText(strings.NewReader(page)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
