package gatemetrics

import (
	"testing"

	"github.com/ecsworld/ecsworld/gate"
	"github.com/ecsworld/ecsworld/metrics/internal/metricstest"
	"github.com/ecsworld/ecsworld/netproto"
)

type fakeGate struct{ s gate.Stats }

func (f *fakeGate) ID() uint16        { return 2 }
func (f *fakeGate) Stats() gate.Stats { return f.s }

func TestCollector(t *testing.T) {
	src := &fakeGate{s: gate.Stats{
		Clients: 3, ClientsByTransport: map[string]int{"kcp": 2, "ws": 1},
		Accepted: 9, Dispatchers: 2, DispatchersUp: 2,
		ClientIn:     map[netproto.MsgType]gate.Traffic{netproto.MsgHeartbeat: {Msgs: 4, Bytes: 40}, 0: {Msgs: 1, Bytes: 9}},
		DispatcherIn: map[netproto.MsgType]gate.Traffic{netproto.MsgHeartbeat: {Msgs: 2, Bytes: 20}},
		Disconnects:  map[string]uint64{gate.DisconnectIdle: 2},
		Refused:      map[string]uint64{gate.RefusedNotOwner: 5},
		Dropped:      map[string]uint64{gate.DroppedDecode: 1},
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
	} {
		metricstest.Check(t, f, s.name, s.want, s.labels...)
	}
	if f["ecsworld_freeze_duration_seconds"] != nil {
		t.Error("a gate exports the game's freeze histogram")
	}
}

// TestLint runs the client library's metric linter (names, units, help)
// over the gate's metrics.
func TestLint(t *testing.T) {
	r, err := NewRegistry(&fakeGate{})
	if err != nil {
		t.Fatal(err)
	}
	metricstest.Lint(t, r)
}
