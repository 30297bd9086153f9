package e2e

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/xtaci/kcp-go/v5"

	"github.com/ecsworld/ecsworld/client"
	"github.com/ecsworld/ecsworld/examples/test_client/bots"
	"github.com/ecsworld/ecsworld/netproto"
)

// rawClient is a hand-driven client connection over TCP, WebSocket or KCP: it
// says hello like a client, then sends whatever a test wants.
type rawClient struct {
	conn  net.Conn
	fr    *netproto.FrameReader
	codec *netproto.Codec
	id    uint64
	// noClose: the transport cannot show the gate's close (KCP has no
	// close handshake), so the Disconnect is the last thing to wait for.
	noClose bool
}

func dialRaw(t *testing.T, transport, addr string) *rawClient {
	t.Helper()
	var c net.Conn
	switch transport {
	case "tcp":
		tc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c = tc
	case "ws":
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		url := addr
		if !strings.HasPrefix(url, "ws://") {
			url = "ws://" + url
		}
		wc, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		wc.SetReadLimit(-1) // the gate's frames are bounded by the frame reader
		c = websocket.NetConn(context.Background(), wc, websocket.MessageBinary)
	case "kcp":
		// The gate's KCP defaults: no FEC, no encryption; the stream mode
		// and tuning are netproto's.
		s, err := kcp.DialWithOptions(addr, nil, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		s.SetStreamMode(true)
		s.SetWriteDelay(false)
		s.SetNoDelay(1, 10, 2, 1)
		s.SetACKNoDelay(true)
		c = s
	default:
		t.Fatalf("raw client over %q", transport)
	}
	t.Cleanup(func() { c.Close() })
	codec, err := netproto.NewCodec(netproto.ClientLimits())
	if err != nil {
		t.Fatal(err)
	}
	r := &rawClient{conn: c, fr: netproto.NewFrameReader(c, 1<<20), codec: codec, noClose: transport == "kcp"}
	hello, err := codec.AppendFrame(nil, &netproto.ClientHello{Version: netproto.ProtocolVersion})
	if err != nil {
		t.Fatal(err)
	}
	r.write(t, hello)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		typ, payload, err := r.fr.Next()
		if err != nil {
			t.Fatalf("raw client: no welcome: %v", err)
		}
		if typ == netproto.MsgClientWelcome {
			m, err := codec.Decode(typ, payload)
			if err != nil {
				t.Fatal(err)
			}
			r.id = m.(*netproto.ClientWelcome).Client
			return r
		}
	}
}

func (r *rawClient) write(t *testing.T, b []byte) {
	t.Helper()
	_ = r.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.conn.Write(b); err != nil {
		t.Fatalf("raw client write: %v", err)
	}
}

// disconnected reads until the gate closes the connection and returns the
// Disconnect it sent on the way (nil if none).
func (r *rawClient) disconnected(t *testing.T) *netproto.Disconnect {
	t.Helper()
	_ = r.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var d *netproto.Disconnect
	for {
		typ, payload, err := r.fr.Next()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("raw client %d: the gate did not close the connection", r.id)
			}
			return d
		}
		if typ == netproto.MsgDisconnect {
			m, err := r.codec.Decode(typ, payload)
			if err != nil {
				t.Fatal(err)
			}
			d = m.(*netproto.Disconnect)
			if r.noClose {
				return d
			}
		}
	}
}

func frameHeader(length uint32, typ netproto.MsgType) []byte {
	b := binary.BigEndian.AppendUint32(nil, length)
	return binary.BigEndian.AppendUint16(b, uint16(typ))
}

// TestBadInput sends every kind of bad input to a live gate, each from its
// own client, while bots play on the same gate: each bad client is
// disconnected (or its call refused) and the bots carry on untouched.
func TestBadInput(t *testing.T) {
	c := startCluster(t, spec{Dispatchers: 1, Games: 1, Gates: 1, Monsters: 5})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// Bystanders: they play during the whole test. The victim and the
	// attacker are bots too, but they do not walk (all avatars appear
	// within sight of each other).
	players := append(c.connectBots(ctx, "kcp", "kcp", 4, []int{0}, bots.Options{}),
		c.connectBots(ctx, "tcp", "tcp", 2, []int{0}, bots.Options{})...)
	duo := c.connectBots(ctx, "duo", "tcp", 2, []int{0}, bots.Options{})
	victim, attacker := duo[0], duo[1]
	// They play for at least 3 s, the attacks last less.
	rctx, stop := context.WithCancel(ctx)
	playUntil := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); runBots(rctx, players) }()

	maxFrame := 65536 // the gate's default max_frame
	// Every rule, the framing ones included, ends with a Disconnect that
	// says why: a link keeps writing after a framing error (netproto).
	rules := []struct {
		name   string
		send   func(r *rawClient) []byte
		half   bool   // close the write side after sending
		reason string // the disconnect reason; "" any but "normal"
	}{
		{"oversized frame", func(*rawClient) []byte {
			return frameHeader(uint32(maxFrame+100), netproto.MsgClientCall)
		}, false, "frame_too_large"},
		{"truncated frame", func(*rawClient) []byte {
			return append(frameHeader(100, netproto.MsgClientCall), make([]byte, 10)...)
		}, true, "truncated"},
		{"truncated payload", func(r *rawClient) []byte {
			f, _ := r.codec.AppendFrame(nil, &netproto.ClientCall{Entity: 1, Method: "Ping", CallID: 9})
			// Cut the CBOR map short but keep the frame's length honest.
			cut := f[netproto.FrameHeaderSize : len(f)-3]
			return append(frameHeader(uint32(len(cut)+2), netproto.MsgClientCall), cut...)
		}, false, "malformed"},
		{"random bytes", func(*rawClient) []byte {
			rng := rand.New(rand.NewPCG(3, 4))
			b := make([]byte, 6)
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			return b
		}, false, ""},
		{"unknown message type", func(*rawClient) []byte { return frameHeader(2, 0x0177) }, false, "unknown_type"},
		{"type a client may not send", func(r *rawClient) []byte {
			f, _ := r.codec.AppendFrame(nil, &netproto.CreateEntity{Entity: 5, Type: "Avatar"})
			return f
		}, false, "not_from_client"},
		{"flood above the rate limit", func(*rawClient) []byte {
			var b []byte
			for range 400 { // max_msgs_per_second is 100
				b = append(b, frameHeader(2, netproto.MsgHeartbeat)...)
			}
			return b
		}, false, "rate_limit"},
	}
	want := map[string]float64{} // the trouble counters this test provokes
	var rawIDs []string          // the bad clients' ClientIDs, as logged
	transports := []string{"tcp", "ws", "kcp"}
	for _, tr := range transports {
		for _, r := range rules {
			if r.half && tr != "tcp" {
				continue // a half close is TCP's; the other rules run on both
			}
			t.Run(tr+"/"+r.name, func(t *testing.T) {
				before := c.disconnects(ctx, c.gates[0])
				rc := dialRaw(t, tr, c.gateAddrs[0].of(tr))
				rawIDs = append(rawIDs, fmt.Sprint(rc.id))
				rc.write(t, r.send(rc))
				if r.half {
					_ = rc.conn.(*net.TCPConn).CloseWrite()
				}
				d := rc.disconnected(t)
				switch {
				case d == nil:
					t.Errorf("closed without a Disconnect")
				case d.Code != netproto.DisconnectBadInput || (r.reason != "" && d.Reason != r.reason):
					t.Errorf("Disconnect{%q, code %d}, want {%q, code %d}", d.Reason, d.Code, r.reason, netproto.DisconnectBadInput)
				}
				// The gate's own account of it: one more disconnection counted,
				// for the reason (its log line is sampled, so not relied on).
				var got string
				for deadline := time.Now().Add(10 * time.Second); got == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
					after := c.disconnects(ctx, c.gates[0])
					for reason, n := range after {
						if n > before[reason] {
							got = reason
						}
					}
				}
				if got == "" {
					t.Fatalf("the gate counted no disconnection of client %d within 10 s", rc.id)
				}
				if (r.reason != "" && got != r.reason) || got == "normal" {
					t.Errorf("the gate disconnected client %d for %q, want %q", rc.id, got, r.reason)
				}
				want[troubleKey(c.gates[0], "ecsworld_client_disconnects_total", "reason="+got)]++
			})
		}
	}

	// Calls the gate must refuse without disconnecting: a server-only
	// method on the caller's own avatar, an own-client method on another
	// player's avatar, and an entity the caller does not see.
	refused := func(reason string) {
		want[troubleKey(c.gates[0], "ecsworld_refused_messages_total", "reason="+reason)]++
	}
	var ce *client.CallError
	refused("call_not_callable")
	if err := attacker.Call(ctx, attacker.Avatar(), "Grant", int64(1000)); !errors.As(err, &ce) {
		t.Errorf("server-only Grant on own avatar: %v, want a refusal", err)
	}
	if err := attacker.Client().WaitUntil(ctx, func() bool { _, ok := attacker.Client().Entity(victim.Avatar()); return ok }); err != nil {
		t.Fatalf("the attacker never saw the victim: %v", err)
	}
	for _, m := range []string{"Say", "Travel", "Ping"} {
		refused("call_not_owner")
		if err := attacker.Call(ctx, victim.Avatar(), m, argFor(m)); !errors.As(err, &ce) {
			t.Errorf("own-client %s on another player's avatar: %v, want a refusal", m, err)
		}
	}
	refused("call_not_callable")
	if err := attacker.Call(ctx, victim.Avatar(), "Grant", int64(5)); !errors.As(err, &ce) {
		t.Errorf("server-only Grant on another player's avatar: %v, want a refusal", err)
	}
	refused("call_not_visible")
	if err := attacker.Call(ctx, victim.Avatar()^0xFFFF, "Poke"); !errors.As(err, &ce) {
		t.Errorf("Poke on an entity the caller does not see: %v, want a refusal", err)
	}
	// Still connected, and any-client Poke on the victim works.
	if err := attacker.Call(ctx, victim.Avatar(), "Poke"); err != nil {
		t.Errorf("Poke on a visible avatar after the refusals: %v", err)
	}
	if err := attacker.Call(ctx, attacker.Avatar(), "Ping", int64(1)); err != nil {
		t.Errorf("own Ping after the refusals: %v", err)
	}

	// The bystanders played through all of it.
	time.Sleep(time.Until(playUntil))
	stop()
	wg.Wait()
	checkProblems(t, players)
	for _, b := range append(players, duo...) {
		if err := b.Client().Err(); err != nil {
			t.Errorf("%s was disconnected: %v", b.Name(), err)
		}
		if err := b.Call(ctx, b.Avatar(), "Ping", int64(2)); err != nil {
			t.Errorf("%s: Ping after the attacks: %v", b.Name(), err)
		}
	}
	for _, b := range duo {
		b.Settle(ctx)
	}
	checkProblems(t, duo)

	states := c.states(ctx)
	// A bad client that is gone before its ClientBound reaches the gate
	// is disconnected twice on the game (the gate answers the late
	// ClientBound with another ClientDisconnected): refused there, counted
	// and logged. Allowed for the bad clients only.
	checkGameCounters(t, states, "Refused")
	if n := states[0].App["grants"]; n != 0 {
		t.Errorf("the server-only Grant ran %d times", n)
	}
	if a, ok := states[0].Avatar(victim.Avatar()); !ok || a.Attrs["level"] != 1.0 || a.Attrs["pokes"].(float64) < 1 {
		t.Errorf("victim on the server: %+v, want level 1 (its own Ping only) and a poke", a)
	}
	// Pokes racing a target's leave are refused too (counted by the bots).
	for _, b := range players {
		if n := b.Stats().PokesRefused; n > 0 {
			want[troubleKey(c.gates[0], "ecsworld_refused_messages_total", "reason=call_not_visible")] += float64(n)
		}
	}
	c.checkAlive()
	want[troubleKey(c.games[0], "ecsworld_refused_messages_total", "reason=unusable")] = mayMove
	c.checkTrouble(ctx, c.leftClients(want)) // the bad clients left
	c.checkLogs(nil, regexp.MustCompile(`ClientDisconnected for no bound entity.*"client": (`+strings.Join(rawIDs, "|")+`),`))
}

func argFor(method string) any {
	switch method {
	case "Say":
		return "not yours"
	case "Travel":
		return int64(1)
	}
	return int64(7)
}

// TestGateKilled kills one gate with SIGKILL while bots play on both: the
// dead gate's clients' entities get OnClientDisconnected (the game counts
// and logs them), and the other gate's bots carry on.
func TestGateKilled(t *testing.T) {
	n := 6
	if testing.Short() {
		n = 3
	}
	c := startCluster(t, spec{Dispatchers: 1, Games: 2, Gates: 2, Monsters: 10})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	survivors := append(c.connectBots(ctx, "a-kcp", "kcp", n, []int{0}, bots.Options{}),
		c.connectBots(ctx, "a-tcp", "tcp", n/2, []int{0}, bots.Options{})...)
	doomed := append(c.connectBots(ctx, "b-kcp", "kcp", n, []int{1}, bots.Options{}),
		c.connectBots(ctx, "b-ws", "ws", n/2, []int{1}, bots.Options{})...)
	before := sum(c.states(ctx), "client_drops")

	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); runBots(rctx, survivors) }()
	go func() { defer wg.Done(); runBots(rctx, doomed) }()
	time.Sleep(2 * time.Second) // let them play (no assertion depends on it)

	c.kill(c.gates[1])
	// Every doomed avatar loses its client and is gone; the survivors'
	// avatars stay bound.
	c.poll(ctx, "OnClientDisconnected for every client of the dead gate", func() bool {
		states := c.states(ctx)
		for _, s := range states {
			for _, a := range s.Avatars {
				if a.Gate == 2 {
					return false
				}
			}
		}
		return sum(states, "client_drops")-before == uint64(len(doomed))
	})
	lost := 0
	for _, g := range c.games {
		lost += countLog(g, "avatar lost its client", `"b-`)
	}
	if lost != len(doomed) {
		t.Errorf("the games logged %d lost clients of the dead gate, want %d", lost, len(doomed))
	}
	time.Sleep(2 * time.Second) // the survivors play on
	stop()
	wg.Wait()
	for _, b := range doomed {
		b.Close()
	}
	checkProblems(t, survivors)
	for _, b := range survivors {
		if err := b.Client().Err(); err != nil {
			t.Errorf("%s (on the live gate) was disconnected: %v", b.Name(), err)
		}
	}
	c.freezeMonsters(ctx, true)
	vctx, vcancel := context.WithTimeout(ctx, 15*time.Second)
	if err := bots.WaitViewsMatch(vctx, survivors, c.debug); err != nil {
		t.Error(err)
	}
	vcancel()
	// Calls on their way from the dead gate's clients, and chat lines to
	// their avatars, may find the avatars gone: counted as calls to no
	// entity, and nothing else.
	states := c.states(ctx)
	checkGameCounters(t, states, "RPC.NoEntity")
	if n := sum(states, "client_drops") - before; n != uint64(len(doomed)) {
		t.Errorf("%d clients dropped, want %d (only the dead gate's)", n, len(doomed))
	}
	c.checkAlive()
	// What was on its way to the dead gate is dropped by the dispatcher
	// (the games learn of it from GateDown), and only that.
	d := c.procs[0]
	allowed := map[string]float64{
		troubleKey(d, "ecsworld_dropped_messages_total", "reason=unknown_gate"): mayMove,
		troubleKey(d, "ecsworld_dropped_messages_total", "reason=link_lost"):    mayMove,
		troubleKey(d, "ecsworld_dropped_messages_total", "reason=link_failed"):  mayMove,
	}
	for _, g := range c.games {
		allowed[troubleKey(g, "ecsworld_rpc_calls_total", "outcome=no_entity")] = mayMove
	}
	c.checkTrouble(ctx, allowed)
	// The dispatcher reports the lost gate at warn level; the races above
	// are logged too (sampled), naming the dead gate or a doomed avatar.
	var ids []string
	for _, b := range doomed {
		ids = append(ids, fmt.Sprintf("%016x", b.Avatar()))
	}
	c.checkLogs(nil,
		regexp.MustCompile(`gate disconnected; telling every game.*"role": "gate", "id": 2[,}]`),
		regexp.MustCompile(`undeliverable message.*"reason": "unknown_gate".*gate 2 is not connected`),
		regexp.MustCompile(`rpc: call to unknown entity.*"target": "(`+strings.Join(ids, "|")+`)"`))
	if n := countLog(c.procs[0], "gate disconnected; telling every game", `"role": "gate", "id": 2`); n != 1 {
		t.Errorf("the dispatcher reported the dead gate %d times, want 1", n)
	}
}

// TestShardedDispatchers runs the cluster over 2 dispatchers: entities of
// both shards are created, called, migrated and seen, calls and replies
// flow through both.
func TestShardedDispatchers(t *testing.T) {
	n, dur := 8, 6*time.Second
	if testing.Short() {
		n, dur = 4, 3*time.Second
	}
	c := startCluster(t, spec{Dispatchers: 2, Games: 2, Gates: 2, Monsters: 10})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	fast := bots.Options{ChatEvery: time.Second} // chat lines through the service's shard
	all := append(c.connectBots(ctx, "kcp", "kcp", n, []int{0, 1}, fast),
		c.connectBots(ctx, "tcp", "tcp", n/2, []int{0, 1}, fast)...)
	all = append(all, c.connectBots(ctx, "ws", "ws", n/2, []int{0, 1}, fast)...)
	shards := map[int]int{}
	for _, b := range all {
		shards[netproto.Shard(b.Avatar(), 2)]++
	}
	if shards[0] == 0 || shards[1] == 0 {
		t.Fatalf("avatars per shard %v: want both shards used", shards)
	}
	rctx, stop := context.WithTimeout(ctx, dur)
	runBots(rctx, all)
	stop()
	for _, b := range all {
		b.Pause(true)
	}
	checkProblems(t, all)
	var st bots.Stats
	for _, b := range all {
		s := b.Stats()
		if s.Calls == 0 || s.Replies != s.Calls || s.Pongs != s.Pings || s.OwnChatsHeard != s.ChatsSent {
			t.Errorf("%s (shard %d): %+v", b.Name(), netproto.Shard(b.Avatar(), 2), s)
		}
		st.ChatsHeard += s.ChatsHeard
	}
	if st.ChatsHeard == 0 {
		t.Error("no chat line was heard")
	}
	c.freezeMonsters(ctx, true)
	states := c.states(ctx)
	used := map[*bots.Bot]bool{}
	for _, dir := range [][2]uint16{{1, 2}, {2, 1}} {
		b := pickOn(all, states, dir[0], used)
		if b == nil {
			t.Errorf("no bot on game %d to migrate", dir[0])
			continue
		}
		used[b] = true
		migrate(ctx, t, c, b, dir[0], dir[1])
	}
	vctx, vcancel := context.WithTimeout(ctx, 15*time.Second)
	if err := bots.WaitViewsMatch(vctx, all, c.debug); err != nil {
		t.Error(err)
	}
	vcancel()
	for _, b := range all {
		b.Settle(ctx)
	}
	checkProblems(t, all)
	checkGameCounters(t, c.states(ctx))
	c.checkAlive()
	c.checkTrouble(ctx, nil)
	c.checkLogs(nil)
}
