package dispatcher

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/netproto"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestFreezeQueueOverLimitsIsLoudAndKept: a frozen game's queue past its
// cap and its timeout is reported at error level and counted, and nothing
// of it is lost.
func TestFreezeQueueOverLimitsIsLoudAndKept(t *testing.T) {
	cl := testCluster(1)
	cl.Dispatchers[0].FrozenQueueMax = 3
	cl.Dispatchers[0].FrozenQueueTimeout = 100 * time.Millisecond
	core, logs := observer.New(zapcore.ErrorLevel)
	d := start(t, cl, 1, WithLogger(zap.New(core)), WithCheckInterval(5*time.Millisecond))
	game := join(t, d.addr, netproto.RoleGame, 1)
	gate := join(t, d.addr, netproto.RoleGate, 1)
	game.send(&netproto.FreezeRequest{Game: 1})
	game.expect(&netproto.FreezeAck{Dispatcher: 1, Game: 1})
	game.link.Close()

	var queued []netproto.Message
	for i := range 5 {
		c := clientCall(1, entity(1, 9), entity(1, 1), uint64(i+1), "Say")
		gate.send(c)
		queued = append(queued, c)
	}
	waitFor(t, "the queue", func() bool { return d.Stats().Queued == len(queued) })
	if s := d.Stats(); s.QueueAlertsOverCap != 1 {
		t.Errorf("QueueAlertsOverCap = %d, want 1 (one report per timeout)", s.QueueAlertsOverCap)
	}
	waitFor(t, "the over-time report", func() bool { return d.Stats().QueueAlertsOverTime >= 1 })
	capLogs := logs.FilterMessageSnippet("more messages than the cap").All()
	timeLogs := logs.FilterMessageSnippet("longer than the timeout").All()
	if len(capLogs) == 0 || len(timeLogs) == 0 {
		t.Fatalf("want error logs for cap and time, got %d and %d", len(capLogs), len(timeLogs))
	}
	if f := capLogs[0].ContextMap(); fmt.Sprint(f["game"], f["cap"], f["msgs"]) != "1 3 4" {
		t.Errorf("cap log fields %v", f)
	}
	// Reports repeat while it lasts.
	waitFor(t, "a repeated report", func() bool { return d.Stats().QueueAlertsOverTime >= 2 })

	// Kept: the restored game gets all of it.
	restoredGame := join(t, d.addr, netproto.RoleGame, 1, restored)
	for _, m := range queued {
		restoredGame.expect(m)
	}
	s := d.Stats()
	if s.Queued != 0 || len(s.Dropped) != 0 {
		t.Errorf("queued %d dropped %v", s.Queued, s.Dropped)
	}
}

// TestLargeQueueFlushThroughBacklog: a queue larger than a link's send
// buffer reaches the restored game whole and in order, through the
// per-link backlog.
func TestLargeQueueFlushThroughBacklog(t *testing.T) {
	cl := testCluster(1)
	cl.Dispatchers[0].Link.Compression = "none"
	d := start(t, cl, 1)
	game := join(t, d.addr, netproto.RoleGame, 1)
	other := join(t, d.addr, netproto.RoleGame, 2)
	game.send(&netproto.FreezeRequest{Game: 1})
	game.expect(&netproto.FreezeAck{Dispatcher: 1, Game: 1})
	game.link.Close()

	// 12 MiB of calls: three times the link buffer.
	const n = 192
	args := bytes.Repeat([]byte{0x42}, 64<<10)
	for i := range n {
		other.send(&netproto.CallEntity{Target: entity(1, 1), Method: "Load", Args: args, CallID: uint64(i + 1),
			Caller: netproto.Caller{Kind: netproto.CallerEntity, Game: 2, Entity: entity(2, 1)}})
	}
	other.syncNothing()
	restoredGame := join(t, d.addr, netproto.RoleGame, 1, restored)
	for i := range n {
		m, ok := restoredGame.recv().(*netproto.CallEntity)
		if !ok || m.CallID != uint64(i+1) || !bytes.Equal(m.Args, args) {
			t.Fatalf("message %d: got %T call %d", i, m, m.CallID)
		}
	}
	// And live traffic follows the queue.
	live := entityCall(2, entity(2, 1), entity(1, 1), 999, "Live")
	other.send(live)
	restoredGame.expect(live)
	waitFor(t, "the backlog to drain", func() bool { return d.Stats().Backlog == 0 })
	if s := d.Stats(); len(s.Dropped) != 0 || s.Out["CallEntity"].Msgs != n+1 {
		t.Errorf("dropped %v, out %v", s.Dropped, s.Out["CallEntity"])
	}
}

// TestSlowConsumerIsClosed: a gate that stops reading is cut off once its
// backlog passes the cap, rather than given a gap; the game is told.
func TestSlowConsumerIsClosed(t *testing.T) {
	cl := testCluster(1)
	cl.Dispatchers[0].Link.Compression = "none"
	d := start(t, cl, 1, WithMaxBacklog(1<<20))
	game := join(t, d.addr, netproto.RoleGame, 1)
	join(t, d.addr, netproto.RoleGate, 1) // never reads again
	frames := netproto.AppendFrame(nil, netproto.MsgDestroyEntity, bytes.Repeat([]byte{0xa0}, 200<<10))
	batch := &netproto.GateBatch{Gate: 1, Game: 1, Items: []netproto.BatchItem{{Clients: []uint64{1}, Frames: frames}}}
	// Kernel buffers, the link buffer (4 MiB) and the backlog (1 MiB) fill
	// up; sending stops at the first sign the gate is gone.
	for i := 0; i < 400; i++ {
		game.send(batch)
		if i%20 == 19 && d.Stats().Gates == 0 {
			break
		}
	}
	waitFor(t, "the slow gate to be dropped", func() bool { return d.Stats().Gates == 0 })
	game.expect(&netproto.GateDown{Gate: 1})
	if s := d.Stats(); s.Dropped[DropSlowConsumer] == 0 {
		t.Errorf("dropped %v, want slow_consumer", s.Dropped)
	}
}

// TestMigrationSourceGone: the source dies before sending the
// entity; the hold is released (nothing will end it), and once its data has
// gone through, the source's death does not matter.
func TestMigrationSourceGone(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1, WithCheckInterval(10*time.Millisecond))
	gameA := join(t, d.addr, netproto.RoleGame, 1)
	gameB := join(t, d.addr, netproto.RoleGame, 2)
	gate := join(t, d.addr, netproto.RoleGate, 1)
	early, sent := entity(1, 1), entity(1, 2)
	gameA.send(&netproto.MigrateRequest{Entity: early, From: 1, To: 2}, &netproto.MigrateRequest{Entity: sent, From: 1, To: 2})
	gameA.expect(&netproto.MigrateHold{Entity: early})
	gameA.expect(&netproto.MigrateHold{Entity: sent})
	data := &netproto.MigrateData{Entity: sent, To: 2, Blob: []byte{1}}
	gameA.send(data)
	gameB.expect(data)
	gate.send(clientCall(1, entity(1, 9), early, 1, "Say"), clientCall(1, entity(1, 9), sent, 2, "Say"))
	waitFor(t, "the holds", func() bool { return d.Stats().Queued == 2 })

	gameA.link.Close()
	// The early one is released once no MigrateDone came within the grace:
	// its origin is gone, so the call fails.
	if r, ok := gate.recv().(*netproto.CallReply); !ok || r.CallID != 1 || r.Error == "" {
		t.Fatalf("want an error reply for call 1, got %#v", r)
	}
	// The other is still held and reaches game 2 when it is done.
	gameB.send(&netproto.MigrateDone{Entity: sent, Game: 2})
	gameB.expect(clientCall(1, entity(1, 9), sent, 2, "Say"))
	if s := d.Stats(); s.Queued != 0 {
		t.Errorf("queued %d", s.Queued)
	}
}
