package client

import (
	"context"
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/netproto"
)

var transports = []string{"tcp", "kcp", "ws"}

const (
	testClientID = uint64(3)<<48 | 17
	player       = uint64(1)<<48 | 1
	monster      = uint64(1)<<48 | 2
	npc          = uint64(2)<<48 | 3
	unknown      = uint64(9)<<48 | 999
)

// events collects hook calls for assertions.
type events struct {
	created   chan Entity
	destroyed chan Entity
	calls     chan ServerCall
	closed    chan error
}

func newEvents() *events {
	return &events{
		created:   make(chan Entity, 16),
		destroyed: make(chan Entity, 16),
		calls:     make(chan ServerCall, 16),
		closed:    make(chan error, 1),
	}
}

func (ev *events) hooks() Hooks {
	return Hooks{
		OnCreate:     func(_ *Client, e Entity) { ev.created <- e },
		OnDestroy:    func(_ *Client, e Entity) { ev.destroyed <- e },
		OnCallClient: func(_ *Client, call ServerCall) { ev.calls <- call },
		OnClose:      func(_ *Client, err error) { ev.closed <- err },
	}
}

func recv[T any](t *testing.T, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("no %s: %v", what, ctx.Err())
	}
	var zero T
	return zero
}

// TestClientSession drives a whole session against the fake gate over each
// transport: handshake, view building, attribute deltas, positions,
// inconsistencies, calls, moves, heartbeats, server calls and Disconnect.
func TestClientSession(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			g := startGate(t, tr)
			ev := newEvents()
			c, gc := g.connect(ctx, &netproto.ClientWelcome{Client: testClientID, HeartbeatMs: 40, Version: netproto.ProtocolVersion},
				// The fake gate does not heartbeat: no idle timeout on a
				// loaded machine.
				Options{Token: "secret", Role: "bot", Hooks: ev.hooks(), IdleTimeout: -1})
			if c.IdleTimeout() != 0 {
				t.Fatalf("idle timeout %v, want none", c.IdleTimeout())
			}
			if c.ClientID() != testClientID || c.Heartbeat() != 40*time.Millisecond || c.Transport() != tr {
				t.Fatalf("client %d heartbeat %v transport %q", c.ClientID(), c.Heartbeat(), c.Transport())
			}

			// The view: a player and two neighbours.
			gc.send(
				&netproto.CreateEntity{Entity: player, Type: "Avatar", Pos: netproto.Vec3{X: 1, Y: 2, Z: 3}, Yaw: 1,
					Attrs: map[string]any{"name": "alice", "hp": 100, "bag": []any{}}, IsPlayer: true},
				&netproto.CreateEntity{Entity: monster, Type: "Monster", Attrs: map[string]any{"x": 1, "lvl": 7}},
				&netproto.CreateEntity{Entity: npc, Type: "NPC", Pos: netproto.Vec3{X: -5}},
			)
			for _, want := range []uint64{player, monster, npc} {
				if e := recv(t, ctx, ev.created, "OnCreate"); e.ID != want || e.IsPlayer != (want == player) {
					t.Fatalf("OnCreate %d (player %v), want %d", e.ID, e.IsPlayer, want)
				}
			}
			yaw := float32(2.5)
			gc.send(
				&netproto.AttrDelta{Entity: player, Changes: []netproto.AttrChange{
					{Op: netproto.AttrSet, Path: []any{"hp"}, Value: 90},
					{Op: netproto.AttrAppend, Path: []any{"bag"}, Value: "sword"},
					{Op: netproto.AttrAppend, Path: []any{"bag"}, Value: "shield"},
					{Op: netproto.AttrSet, Path: []any{"stats", "str"}, Value: 5},
					{Op: netproto.AttrDelete, Path: []any{"bag", 0}},
				}},
				&netproto.AttrDelta{Entity: monster, Changes: []netproto.AttrChange{{Op: netproto.AttrDelete, Path: []any{"x"}}}},
				&netproto.PositionSync{Records: []netproto.PositionRecord{
					{Entity: monster, X: 10.5, Y: 0, Z: -3.25, Yaw: yaw},
					{Entity: npc, X: 1, Y: 1, Z: 1},
				}},
				&netproto.DestroyEntity{Entity: npc},
				&netproto.CallClient{Entity: player, Method: "Chat", Args: mustArgs(t, g.codec, "hi", 3)},
			)
			if e := recv(t, ctx, ev.destroyed, "OnDestroy"); e.ID != npc || e.Pos != (netproto.Vec3{X: 1, Y: 1, Z: 1}) {
				t.Fatalf("OnDestroy %+v", e)
			}
			call := recv(t, ctx, ev.calls, "OnCallClient")
			if call.Entity != player || call.Method != "Chat" || !reflect.DeepEqual(call.Args, []any{"hi", uint64(3)}) {
				t.Fatalf("server call %+v", call)
			}
			// Frames apply in order: everything before the CallClient is in
			// the view now.
			if c.PlayerID() != player {
				t.Fatalf("player %d", c.PlayerID())
			}
			if ids := c.EntityIDs(); !reflect.DeepEqual(ids, []uint64{player, monster}) {
				t.Fatalf("entities %v", ids)
			}
			p, ok := c.Player()
			wantAttrs := map[string]any{"name": "alice", "hp": uint64(90), "bag": []any{"shield"}, "stats": map[string]any{"str": uint64(5)}}
			if !ok || p.Type != "Avatar" || !reflect.DeepEqual(p.Attrs, wantAttrs) || p.Pos != (netproto.Vec3{X: 1, Y: 2, Z: 3}) {
				t.Fatalf("player %+v", p)
			}
			m, ok := c.Entity(monster)
			if !ok || m.Type != "Monster" || !reflect.DeepEqual(m.Attrs, map[string]any{"lvl": uint64(7)}) ||
				m.Pos != (netproto.Vec3{X: 10.5, Y: 0, Z: -3.25}) || math.Abs(float64(m.Yaw-yaw)) > math.Pi/65536 {
				t.Fatalf("monster %+v", m)
			}
			// Snapshots are copies.
			p.Attrs["hp"] = "changed"
			if p2, _ := c.Player(); p2.Attrs["hp"] != uint64(90) {
				t.Fatal("a snapshot aliases the view")
			}
			if all := c.Entities(); len(all) != 2 || all[0].ID != player || all[1].ID != monster {
				t.Fatalf("Entities %+v", all)
			}
			if c.Stats().ProtocolErrors != 0 {
				t.Fatalf("protocol errors %v", c.ProtocolErrors())
			}

			// Inconsistencies are recorded, not fatal.
			gc.send(
				&netproto.DestroyEntity{Entity: unknown},
				&netproto.AttrDelta{Entity: unknown, Changes: []netproto.AttrChange{{Op: netproto.AttrSet, Path: []any{"a"}, Value: 1}}},
				&netproto.PositionSync{Records: []netproto.PositionRecord{{Entity: unknown}}},
				&netproto.CreateEntity{Entity: monster, Type: "Monster"},
				&netproto.AttrDelta{Entity: player, Changes: []netproto.AttrChange{{Op: netproto.AttrAppend, Path: []any{"hp"}, Value: 1}}},
				&netproto.ClientCallReply{CallID: 1 << 40},
				&netproto.CallClient{Entity: player, Method: "Marker"},
			)
			recv(t, ctx, ev.created, "duplicate OnCreate")
			if call := recv(t, ctx, ev.calls, "marker"); call.Method != "Marker" || call.Args != nil {
				t.Fatalf("marker %+v", call)
			}
			st := c.Stats()
			if st.ProtocolErrors != 6 {
				t.Fatalf("%d protocol errors, want 6: %v", st.ProtocolErrors, c.ProtocolErrors())
			}
			for _, err := range c.ProtocolErrors() {
				if !errors.Is(err, ErrInconsistent) {
					t.Fatalf("recorded error %v does not wrap ErrInconsistent", err)
				}
			}
			if c.Err() != nil {
				t.Fatalf("client stopped on an inconsistency: %v", c.Err())
			}

			// Calls: a result, an error, a notification.
			type callResult struct {
				res Result
				err error
			}
			results := make(chan callResult, 1)
			go func() {
				res, err := c.Call(ctx, player, "Echo", 1, "a")
				results <- callResult{res, err}
			}()
			cc := gc.expect(ctx, netproto.MsgClientCall).(*netproto.ClientCall)
			args, err := g.codec.DecodeArgs(cc.Args)
			if err != nil || cc.Entity != player || cc.Method != "Echo" || cc.CallID == 0 || !reflect.DeepEqual(args, []any{uint64(1), "a"}) {
				t.Fatalf("ClientCall %+v args %v %v", cc, args, err)
			}
			res, err := g.codec.MarshalValue(map[string]any{"ok": true})
			if err != nil {
				t.Fatal(err)
			}
			gc.send(&netproto.ClientCallReply{CallID: cc.CallID, Result: res})
			r := recv(t, ctx, results, "call result")
			var out struct {
				OK bool `cbor:"ok"`
			}
			if r.err != nil || r.res.Decode(&out) != nil || !out.OK {
				t.Fatalf("call result %v %+v", r.err, out)
			}
			go func() {
				res, err := c.Call(ctx, monster, "Attack")
				results <- callResult{res, err}
			}()
			cc = gc.expect(ctx, netproto.MsgClientCall).(*netproto.ClientCall)
			gc.send(&netproto.ClientCallReply{CallID: cc.CallID, Error: "refused: server-only method"})
			r = recv(t, ctx, results, "refused call")
			var ce *CallError
			if !errors.As(r.err, &ce) || ce.Method != "Attack" || ce.Entity != monster || ce.Message != "refused: server-only method" {
				t.Fatalf("refused call: %v", r.err)
			}
			if err := c.Notify(monster, "Poke", "x"); err != nil {
				t.Fatal(err)
			}
			if cc := gc.expect(ctx, netproto.MsgClientCall).(*netproto.ClientCall); cc.CallID != 0 || cc.Method != "Poke" {
				t.Fatalf("notify %+v", cc)
			}
			// A call whose caller gives up: its reply is late, not an error.
			cctx, ccancel := context.WithCancel(ctx)
			go func() {
				res, err := c.Call(cctx, player, "Slow")
				results <- callResult{res, err}
			}()
			cc = gc.expect(ctx, netproto.MsgClientCall).(*netproto.ClientCall)
			ccancel()
			if r := recv(t, ctx, results, "abandoned call"); !errors.Is(r.err, context.Canceled) {
				t.Fatalf("abandoned call: %v", r.err)
			}
			gc.send(&netproto.ClientCallReply{CallID: cc.CallID}, &netproto.CallClient{Entity: player, Method: "Marker2"})
			recv(t, ctx, ev.calls, "marker 2")
			if st := c.Stats(); st.LateReplies != 1 || st.Replies != 2 || st.ProtocolErrors != 6 || c.Pending() != 0 {
				t.Fatalf("stats %+v pending %d", st, c.Pending())
			}

			// Moves: the gate gets the player's record, the view follows.
			if err := c.Move(4, 5, 6, 7); err != nil {
				t.Fatal(err)
			}
			mv := gc.expect(ctx, netproto.MsgClientMove).(*netproto.ClientMove)
			if len(mv.Records) != 1 || mv.Records[0].Entity != player || mv.Records[0].X != 4 || mv.Records[0].Z != 6 {
				t.Fatalf("move %+v", mv)
			}
			wantYaw := float32(7 - 2*math.Pi)
			if math.Abs(float64(mv.Records[0].Yaw-wantYaw)) > math.Pi/65536 {
				t.Fatalf("move yaw %v, want %v", mv.Records[0].Yaw, wantYaw)
			}
			if p, _ := c.Player(); p.Pos != (netproto.Vec3{X: 4, Y: 5, Z: 6}) || p.Yaw != mv.Records[0].Yaw {
				t.Fatalf("player after move %+v", p)
			}
			if err := c.Move(float32(math.NaN()), 0, 0, 0); err == nil {
				t.Fatal("NaN move accepted")
			}

			// An idle client heartbeats.
			gc.expect(ctx, netproto.MsgHeartbeat)

			// Disconnect from the gate stops the client with its reason.
			gc.send(&netproto.Disconnect{Reason: "kicked by test", Code: netproto.DisconnectKicked})
			select {
			case <-c.Done():
			case <-ctx.Done():
				t.Fatal("client did not stop on Disconnect")
			}
			var de *DisconnectError
			if !errors.As(c.Err(), &de) || de.Code != netproto.DisconnectKicked || de.Reason != "kicked by test" {
				t.Fatalf("Err after Disconnect: %v", c.Err())
			}
			if d, ok := c.DisconnectReason(); !ok || d.Reason != "kicked by test" {
				t.Fatalf("DisconnectReason %+v %v", d, ok)
			}
			if err := recv(t, ctx, ev.closed, "OnClose"); !errors.As(err, &de) {
				t.Fatalf("OnClose %v", err)
			}
			if _, err := c.Call(ctx, player, "After"); !errors.Is(err, ErrClosed) {
				t.Fatalf("call after stop: %v", err)
			}
			if err := c.Move(1, 1, 1, 0); !errors.Is(err, ErrClosed) && !errors.Is(err, ErrNoPlayer) {
				t.Fatalf("move after stop: %v", err)
			}
		})
	}
}

// TestClientPlayerChange: an account that logs in to an avatar replaces the
// player entity; destroying the player leaves none, and Move refuses.
func TestClientPlayerChange(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	g := startGate(t, "tcp")
	c, gc := g.connect(ctx, &netproto.ClientWelcome{Client: testClientID}, Options{})
	if c.Heartbeat() != DefaultHeartbeat || c.IdleTimeout() != IdleFactor*DefaultHeartbeat {
		t.Fatalf("heartbeat %v, idle timeout %v without a heartbeat in the welcome", c.Heartbeat(), c.IdleTimeout())
	}
	if err := c.Move(1, 2, 3, 0); !errors.Is(err, ErrNoPlayer) {
		t.Fatalf("move without player: %v", err)
	}
	const account, avatar = uint64(1)<<48 | 10, uint64(1)<<48 | 11
	gc.send(&netproto.CreateEntity{Entity: account, Type: "Account", IsPlayer: true})
	if err := c.WaitUntil(ctx, func() bool { return c.PlayerID() == account }); err != nil {
		t.Fatal(err)
	}
	gc.send(&netproto.CreateEntity{Entity: avatar, Type: "Avatar", IsPlayer: true}, &netproto.DestroyEntity{Entity: account})
	if err := c.WaitUntil(ctx, func() bool { return c.NumEntities() == 1 && c.PlayerID() == avatar }); err != nil {
		t.Fatal(err)
	}
	gc.send(&netproto.DestroyEntity{Entity: avatar})
	if err := c.WaitUntil(ctx, func() bool { return c.NumEntities() == 0 }); err != nil {
		t.Fatal(err)
	}
	if c.PlayerID() != 0 {
		t.Fatalf("player %d after its destroy", c.PlayerID())
	}
	if _, ok := c.Player(); ok {
		t.Fatal("Player after its destroy")
	}
	if err := c.Move(1, 2, 3, 0); !errors.Is(err, ErrNoPlayer) {
		t.Fatalf("move after player destroyed: %v", err)
	}
	if c.Stats().ProtocolErrors != 0 {
		t.Fatal(c.ProtocolErrors())
	}
	// WaitUntil gives up with its context.
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer wcancel()
	if err := c.WaitUntil(wctx, func() bool { return false }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitUntil: %v", err)
	}
}

// TestClientRecentErrorsBounded: the list of recent errors keeps the last
// ones while the counter counts all.
func TestClientRecentErrorsBounded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	g := startGate(t, "tcp")
	c, gc := g.connect(ctx, &netproto.ClientWelcome{Client: testClientID}, Options{RecentErrors: 3})
	var ms []netproto.Message
	for i := range 10 {
		ms = append(ms, &netproto.DestroyEntity{Entity: uint64(100 + i)})
	}
	gc.send(ms...)
	if err := c.WaitUntil(ctx, func() bool { return c.Stats().Destroys == 10 }); err != nil {
		t.Fatal(err)
	}
	errs := c.ProtocolErrors()
	if c.Stats().ProtocolErrors != 10 || len(errs) != 3 {
		t.Fatalf("%d counted, %d kept", c.Stats().ProtocolErrors, len(errs))
	}
	if got := errs[2].Error(); !strings.Contains(got, "109") {
		t.Fatalf("last kept error %q, want the one about entity 109", got)
	}
}

// TestClientIdleTimeout: a gate that sends nothing past IdleTimeout stops
// the client with ErrIdle.
func TestClientIdleTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	g := startGate(t, "kcp")
	c, _ := g.connect(ctx, &netproto.ClientWelcome{Client: testClientID, HeartbeatMs: 20}, Options{IdleTimeout: 100 * time.Millisecond})
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("client did not time out")
	}
	if !errors.Is(c.Err(), ErrIdle) {
		t.Fatalf("Err %v, want ErrIdle", c.Err())
	}
}

// TestClientCloseReleasesGoroutines: Close stops the receive and keepalive
// goroutines and the link's own, over every transport, and fails waiting
// calls.
func TestClientCloseReleasesGoroutines(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			before := runtime.NumGoroutine()
			func() {
				g := startGate(t, tr)
				c, gc := g.connect(ctx, &netproto.ClientWelcome{Client: testClientID, HeartbeatMs: 20}, Options{})
				callErr := make(chan error, 1)
				go func() {
					_, err := c.Call(ctx, player, "NeverAnswered")
					callErr <- err
				}()
				gc.expect(ctx, netproto.MsgClientCall)
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
				if err := recv(t, ctx, callErr, "call error"); !errors.Is(err, ErrClosed) {
					t.Fatalf("waiting call after Close: %v", err)
				}
				if d := gc.expect(ctx, netproto.MsgDisconnect).(*netproto.Disconnect); d.Code != netproto.DisconnectNormal {
					t.Fatalf("goodbye %+v", d)
				}
				if !errors.Is(c.Err(), ErrClosed) {
					t.Fatalf("Err after Close: %v", c.Err())
				}
				c.Close() // idempotent
				gc.link.Close()
				<-gc.done
				g.close()
			}()
			waitGoroutines(t, before)
		})
	}
}

// TestClientCloseFromHook: Close called inside a hook does not deadlock.
func TestClientCloseFromHook(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	g := startGate(t, "tcp")
	closed := make(chan struct{})
	c, gc := g.connect(ctx, &netproto.ClientWelcome{Client: testClientID}, Options{Hooks: Hooks{
		OnCreate: func(c *Client, _ Entity) { c.Close(); close(closed) },
	}})
	gc.send(&netproto.CreateEntity{Entity: player, IsPlayer: true})
	recv(t, ctx, closed, "close from hook")
	if !errors.Is(c.Err(), ErrClosed) {
		t.Fatal(c.Err())
	}
}

func mustArgs(t *testing.T, codec *netproto.Codec, args ...any) []byte {
	t.Helper()
	b, err := codec.EncodeArgs(args...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIdleTimeoutDefaults(t *testing.T) {
	tests := []struct {
		opt, hb, want time.Duration
	}{
		{0, 5 * time.Second, 20 * time.Second},
		{0, 40 * time.Millisecond, MinIdleTimeout},
		{-1, time.Second, 0},
		{3 * time.Second, time.Second, 3 * time.Second},
	}
	for _, tc := range tests {
		if got := idleTimeout(tc.opt, tc.hb); got != tc.want {
			t.Errorf("idleTimeout(%v, %v) = %v, want %v", tc.opt, tc.hb, got, tc.want)
		}
	}
}

// TestClientCompressedFrames: frames the gate compresses (s2, zstd) reach
// the view intact.
func TestClientCompressedFrames(t *testing.T) {
	for _, algo := range []netproto.CompressAlgo{netproto.CompressS2, netproto.CompressZstd} {
		t.Run(algo.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			g := startGateWith(t, "tcp", netproto.Options{Compression: netproto.Compression{Algo: algo, Threshold: 64}})
			c, gc := g.connect(ctx, &netproto.ClientWelcome{Client: testClientID}, Options{})
			text := strings.Repeat("compressible ", 1000)
			gc.send(&netproto.CreateEntity{Entity: player, Type: "Avatar", Attrs: map[string]any{"text": text}, IsPlayer: true})
			if err := c.WaitUntil(ctx, func() bool { return c.PlayerID() == player }); err != nil {
				t.Fatal(err)
			}
			if p, _ := c.Player(); p.Attrs["text"] != text {
				t.Fatal("compressed attribute changed on the way")
			}
		})
	}
}
