package gate

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/netproto"
)

func TestWelcomeAndConnected(t *testing.T) {
	g := startGate(t, nil, WithBootType("Account"))
	seen := map[uint64]bool{}
	for _, tr := range []string{"kcp", "tcp", "ws"} {
		// Not subtests: their cleanup would close the links before the
		// totals below are checked.
		func() {
			c := g.connect(t, tr)
			if netproto.Origin(c.id) != g.ID() {
				t.Errorf("ClientID %x: high 16 bits %d, want gate id %d", c.id, netproto.Origin(c.id), g.ID())
			}
			if seen[c.id] {
				t.Errorf("ClientID %x given twice", c.id)
			}
			seen[c.id] = true
			if c.hbMs != 1000 {
				t.Errorf("HeartbeatMs %d, want 1000", c.hbMs)
			}
			cc := expect(t, g.disp, func(m *netproto.ClientConnected) bool { return m.Client == c.id })
			if cc.Gate != g.ID() || cc.BootType != "Account" || cc.Addr == "" {
				t.Errorf("ClientConnected %+v", cc)
			}
			eventually(t, "client counted", func() bool { return g.Stats().ClientsByTransport[tr] == 1 })
		}()
	}
	s := g.Stats()
	if s.Clients != 3 || s.Accepted != 3 {
		t.Errorf("Stats: %d clients, %d accepted; want 3, 3", s.Clients, s.Accepted)
	}
	if s.ClientIn[netproto.MsgClientHello].Msgs != 3 || s.ClientOut[netproto.MsgClientWelcome].Msgs != 3 {
		t.Errorf("Stats traffic: in %+v out %+v", s.ClientIn, s.ClientOut)
	}
	if s.DispatcherOut[netproto.MsgClientConnected].Msgs != 3 {
		t.Errorf("Stats dispatcher out: %+v", s.DispatcherOut)
	}
}

func TestHelloToDispatcher(t *testing.T) {
	ctx := t.Context()
	d := newFakeDispatcher(t, ctx, nil)
	cfg := testConfig()
	g, err := New(cfg, []string{d.addr()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Wait() }) // after t.Context is cancelled
	select {
	case h := <-d.hellos:
		if h.Role != netproto.RoleGate || h.ID != cfg.ID || h.Secret != cfg.Secret || h.Version != netproto.ProtocolVersion {
			t.Errorf("Hello %+v", h)
		}
	case <-time.After(testTimeout):
		t.Fatal("no Hello")
	}
}

func TestRefusedHello(t *testing.T) {
	g := startGate(t, func(c *config.Gate) { c.ObserverToken = "sesame" })
	cases := []struct {
		name   string
		hello  netproto.Message
		reason string
		code   uint16
	}{
		{"bad version", &netproto.ClientHello{Version: 99}, DisconnectBadVersion, netproto.DisconnectBadVersion},
		{"unknown role", &netproto.ClientHello{Version: 1, Role: "admin"}, DisconnectBadRole, netproto.DisconnectBadInput},
		{"wrong observer token", &netproto.ClientHello{Version: 1, Role: "observer", Token: "guess"}, DisconnectBadRole, netproto.DisconnectBadInput},
		{"call before hello", &netproto.ClientCall{Entity: 1, Method: "Wave"}, DisconnectBadHello, netproto.DisconnectBadInput},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := g.Stats().Disconnects[tc.reason]
			c := &testClient{t: t, link: g.dialLink(t, "tcp"), codec: clientCodec}
			c.sendMsg(tc.hello)
			d := c.recvEnd()
			if d == nil || d.Code != tc.code {
				t.Errorf("Disconnect %+v, want code %d", d, tc.code)
			}
			eventually(t, "counter", func() bool { return g.Stats().Disconnects[tc.reason] == before+1 })
		})
	}
	t.Run("observer", func(t *testing.T) {
		c := &testClient{t: t, link: g.dialLink(t, "tcp"), codec: clientCodec}
		c.sendMsg(&netproto.ClientHello{Version: 1, Role: "observer", Token: "sesame"})
		if _, ok := c.recv().(*netproto.ClientWelcome); !ok {
			t.Fatal("observer with the right token not welcomed")
		}
	})
	if n := g.Stats().Accepted; n != 1 {
		t.Errorf("Accepted %d, want 1 (the observer)", n)
	}
}

func TestHelloTimeout(t *testing.T) {
	g := startGate(t, nil, WithHelloTimeout(200*time.Millisecond))
	c := g.rawConn(t)
	rawEnd(t, c)
	eventually(t, "hello_timeout counted", func() bool { return g.Stats().Disconnects[DisconnectHelloTimeout] == 1 })
}

// Entity ids of the call tests: game 1's entities.
const (
	entA       uint64 = 1<<48 | 1 // client A's avatar
	entB       uint64 = 1<<48 | 2 // client B's avatar, visible to A
	entC       uint64 = 1<<48 | 3 // another avatar, never shown to A
	entMonster uint64 = 1<<48 | 4
)

// sync sends a batch with one marker frame to c and waits for it, so that
// everything the dispatcher sent before has been applied by the gate.
func (g *testGate) sync(t *testing.T, c *testClient, items ...netproto.BatchItem) {
	t.Helper()
	marker := &netproto.CallClient{Entity: 0, Method: "marker"}
	items = append(items, netproto.BatchItem{Clients: []uint64{c.id}, Frames: frame(t, marker)})
	g.disp.send(t, &netproto.GateBatch{Gate: g.ID(), Game: 1, Items: items})
	for {
		if m, ok := c.recv().(*netproto.CallClient); ok && m.Method == "marker" {
			return
		}
	}
}

func TestCallForwarding(t *testing.T) {
	g := startGate(t, nil)
	a := g.connect(t, "kcp")
	b := g.connect(t, "tcp")
	g.bind(t, a, entA, "Avatar", false, 0)
	g.bind(t, b, entB, "Avatar", false, 0)
	enter := func(e uint64, typ string, to ...uint64) netproto.BatchItem {
		return netproto.BatchItem{Clients: to, Frames: frame(t, &netproto.CreateEntity{Entity: e, Type: typ}),
			Vis: netproto.VisEnter, VisEntity: e, VisType: typ}
	}
	g.sync(t, a, enter(entB, "Avatar", a.id), enter(entMonster, "Monster", a.id))

	cases := []struct {
		name   string
		entity uint64
		method string
		refuse string // "" forwarded
	}{
		{"own entity, own-client method", entA, "SetName", ""},
		{"own entity, any-client method", entA, "Wave", ""},
		{"visible player, any-client method", entB, "Wave", ""},
		{"visible monster", entMonster, "Hit", ""},
		{"visible player, own-client method", entB, "SetName", RefusedNotOwner},
		{"server-only method", entA, "Kill", RefusedNotCallable},
		{"unknown method of a visible monster", entMonster, "Heal", RefusedNotCallable},
		{"another player's entity never seen", entC, "Wave", RefusedNotVisible},
		{"unknown entity", 999, "Wave", RefusedNotVisible},
		{"entity zero", 0, "Wave", RefusedNotVisible},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			callID := uint64(100 + i)
			args, _ := clientCodec.EncodeArgs("hi", 3)
			before := g.Stats().Refused[tc.refuse]
			a.sendMsg(&netproto.ClientCall{Entity: tc.entity, Method: tc.method, Args: args, CallID: callID})
			if tc.refuse == "" {
				ce := expect(t, g.disp, func(m *netproto.CallEntity) bool { return m.CallID == callID })
				want := netproto.Caller{Kind: netproto.CallerClient, Entity: entA, Client: a.id, Gate: g.ID()}
				if ce.Target != tc.entity || ce.Method != tc.method || !bytes.Equal(ce.Args, args) || ce.Caller != want {
					t.Errorf("CallEntity %+v", ce)
				}
				// The game's reply goes back to the caller.
				g.disp.send(t, &netproto.CallReply{CallID: callID, To: netproto.Peer{Role: netproto.RoleGate, ID: g.ID()}, Client: a.id, Result: []byte{0x01}})
				r, ok := a.recv().(*netproto.ClientCallReply)
				if !ok || r.CallID != callID || r.Error != "" || !bytes.Equal(r.Result, []byte{0x01}) {
					t.Errorf("reply %+v", r)
				}
				return
			}
			r, ok := a.recv().(*netproto.ClientCallReply)
			if !ok || r.CallID != callID || r.Error == "" {
				t.Fatalf("refusal reply %+v", r)
			}
			if got := g.Stats().Refused[tc.refuse]; got != before+1 {
				t.Errorf("Refused[%s] = %d, want %d", tc.refuse, got, before+1)
			}
		})
	}
	// Nothing refused reached the dispatcher.
	none(t, g.disp, 50*time.Millisecond, func(m *netproto.CallEntity) bool { return true })

	// After the monster leaves A's view, A can no longer call it; B, which
	// never saw it, cannot either.
	g.sync(t, a, netproto.BatchItem{Clients: []uint64{a.id}, Frames: frame(t, &netproto.DestroyEntity{Entity: entMonster}),
		Vis: netproto.VisLeave, VisEntity: entMonster})
	for _, c := range []*testClient{a, b} {
		c.sendMsg(&netproto.ClientCall{Entity: entMonster, Method: "Hit", CallID: 7})
		if r, ok := c.recv().(*netproto.ClientCallReply); !ok || r.Error == "" {
			t.Errorf("call on an entity out of view: %+v", r)
		}
	}
	// A call without CallID that is refused gets no reply but is counted.
	before := g.Stats().Refused[RefusedNotVisible]
	a.sendMsg(&netproto.ClientCall{Entity: entC, Method: "Wave"})
	eventually(t, "silent refusal counted", func() bool { return g.Stats().Refused[RefusedNotVisible] == before+1 })
	// Both clients still work.
	b.sendMsg(&netproto.ClientCall{Entity: entB, Method: "SetName", CallID: 9})
	expect(t, g.disp, func(m *netproto.CallEntity) bool { return m.CallID == 9 && m.Caller.Client == b.id })
	if n := g.Stats().Clients; n != 2 {
		t.Errorf("%d clients, want 2", n)
	}
}

func TestBadInputDisconnectsOnlyThatClient(t *testing.T) {
	g := startGate(t, func(c *config.Gate) { c.MaxMsgsPerSecond = 50 })
	good := g.connect(t, "kcp")
	g.bind(t, good, entA, "Avatar", false, 0)

	header := func(n uint32, typ netproto.MsgType) []byte {
		b := binary.BigEndian.AppendUint32(nil, n)
		return binary.BigEndian.AppendUint16(b, uint16(typ))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 256)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	random[0] = 0x7f // a length far over the maximum, whatever the seed

	// Raw cases write bytes after the hello on a plain TCP connection.
	raw := []struct {
		name   string
		bytes  []byte
		half   bool // close the write side after (the stream ends there)
		reason string
	}{
		{"oversized frame", header(uint32(netproto.DefaultClientMaxFrame+1), netproto.MsgClientCall), false, DisconnectFrameTooLarge},
		{"truncated frame", append(header(100, netproto.MsgClientCall), 1, 2, 3, 4), true, DisconnectTruncated},
		{"frame too short for its type", header(1, netproto.MsgClientCall), false, DisconnectMalformed},
		{"random bytes", random, false, DisconnectFrameTooLarge},
		{"unknown message type", header(2, 0x0999), false, DisconnectUnknownType},
		{"internal message type", header(2, netproto.MsgGateBatch), false, DisconnectNotFromClient},
		{"server-to-client type", header(2, netproto.MsgCreateEntity), false, DisconnectNotFromClient},
		{"truncated CBOR call", append(header(4, netproto.MsgClientCall), 0xa1, 0x01), false, DisconnectMalformed},
		{"heartbeat with payload", append(header(3, netproto.MsgHeartbeat), 0), false, DisconnectMalformed},
	}
	for i, tc := range raw {
		t.Run(tc.name, func(t *testing.T) {
			before := g.Stats().Disconnects[tc.reason]
			c := g.rawConn(t)
			id := rawHello(t, c)
			expect(t, g.disp, func(m *netproto.ClientConnected) bool { return m.Client == id })
			if _, err := c.Write(tc.bytes); err != nil {
				t.Fatal(err)
			}
			if tc.half {
				c.CloseWrite()
			}
			rawEnd(t, c)
			expect(t, g.disp, func(m *netproto.ClientDisconnected) bool { return m.Client == id && m.Gate == g.ID() })
			eventually(t, tc.reason+" counted", func() bool { return g.Stats().Disconnects[tc.reason] == before+1 })
			checkAlive(t, g, good, uint64(1000+i))
		})
	}

	// Link cases send well-framed messages a client may not send.
	links := []struct {
		name   string
		tr     string
		send   func(c *testClient)
		reason string
	}{
		{"unknown type over kcp", "kcp", func(c *testClient) { c.link.Send(0x0999, nil); c.link.Flush() }, DisconnectUnknownType},
		{"second hello over ws", "ws", func(c *testClient) { c.sendMsg(&netproto.ClientHello{Version: 1}) }, DisconnectBadHello},
		{"game message over tcp", "tcp", func(c *testClient) { c.sendMsg(&netproto.CallClient{Entity: 1, Method: "x"}) }, DisconnectNotFromClient},
		{"flood over kcp", "kcp", func(c *testClient) {
			for range 200 {
				c.link.Send(netproto.MsgHeartbeat, nil)
			}
			c.link.Flush()
		}, DisconnectRateLimit},
		{"flood of calls over tcp", "tcp", func(c *testClient) {
			for i := range 200 {
				clientCodec.Send(c.link, &netproto.ClientCall{Entity: 999, Method: "Wave", CallID: uint64(i + 1)})
			}
			c.link.Flush()
		}, DisconnectRateLimit},
	}
	for i, tc := range links {
		t.Run(tc.name, func(t *testing.T) {
			before := g.Stats().Disconnects[tc.reason]
			c := g.connect(t, tc.tr)
			expect(t, g.disp, func(m *netproto.ClientConnected) bool { return m.Client == c.id })
			tc.send(c)
			d := c.recvEnd()
			if d == nil || d.Code != netproto.DisconnectBadInput || d.Reason != tc.reason {
				t.Errorf("Disconnect %+v, want code %d reason %s", d, netproto.DisconnectBadInput, tc.reason)
			}
			expect(t, g.disp, func(m *netproto.ClientDisconnected) bool { return m.Client == c.id })
			eventually(t, tc.reason+" counted", func() bool { return g.Stats().Disconnects[tc.reason] == before+1 })
			checkAlive(t, g, good, uint64(2000+i))
		})
	}
	if n := g.Stats().Clients; n != 1 {
		t.Errorf("%d clients left, want only the good one", n)
	}
}

// checkAlive makes a call from c and checks the dispatcher gets it.
func checkAlive(t *testing.T, g *testGate, c *testClient, callID uint64) {
	t.Helper()
	c.sendMsg(&netproto.ClientCall{Entity: entA, Method: "Wave", CallID: callID})
	expect(t, g.disp, func(m *netproto.CallEntity) bool { return m.CallID == callID && m.Caller.Client == c.id })
}

func TestGateBatchFanout(t *testing.T) {
	g := startGate(t, nil)
	a := g.connect(t, "tcp")
	b := g.connect(t, "kcp")
	w := g.connect(t, "ws")

	create := &netproto.CreateEntity{Entity: entMonster, Type: "Monster", Pos: netproto.Vec3{X: 1, Y: 2, Z: 3}, Attrs: map[string]any{"hp": uint64(10)}}
	delta := &netproto.AttrDelta{Entity: entMonster, Changes: []netproto.AttrChange{{Op: netproto.AttrSet, Path: []any{"hp"}, Value: uint64(9)}}}
	callA := &netproto.CallClient{Entity: entMonster, Method: "Roar"}
	recs := []netproto.PositionRecord{
		{Entity: entMonster, X: 1.5, Y: 2, Z: 3, Yaw: 1},
		{Entity: entB, X: -4, Y: 0, Z: 8.25},
	}
	var raw []byte
	for _, r := range recs {
		var err error
		if raw, err = netproto.AppendPositionRecord(raw, r); err != nil {
			t.Fatal(err)
		}
	}
	const ghost = 7<<48 | 999 // a client of this gate that is not connected
	g.disp.send(t, &netproto.GateBatch{
		Gate: g.ID(), Game: 1,
		Items: []netproto.BatchItem{
			{Clients: []uint64{a.id, b.id, w.id, ghost}, Frames: frame(t, create, delta), Vis: netproto.VisEnter, VisEntity: entMonster, VisType: "Monster"},
			{Clients: []uint64{a.id}, Frames: frame(t, callA)},
		},
		PosRecords: raw,
		PosClients: [][]uint64{{a.id, b.id, w.id}, {a.id}},
	})

	wantFor := map[*testClient][]netproto.Message{
		a: {create, delta, callA, &netproto.PositionSync{Records: recs}},
		b: {create, delta, &netproto.PositionSync{Records: recs[:1]}},
		w: {create, delta, &netproto.PositionSync{Records: recs[:1]}},
	}
	for c, want := range wantFor {
		for i, wm := range want {
			got := c.recv()
			if got.MsgType() != wm.MsgType() {
				t.Fatalf("client %s message %d: %v, want %v", c.link.Transport(), i, got.MsgType(), wm.MsgType())
			}
			gb, _ := clientCodec.AppendMessage(nil, got)
			wb, _ := clientCodec.AppendMessage(nil, wm)
			if ps, ok := got.(*netproto.PositionSync); ok {
				// Yaw is quantised on the wire: compare the decoded records
				// with what the game encoded, record by record.
				for j, r := range ps.Records {
					wr := wm.(*netproto.PositionSync).Records[j]
					if r.Entity != wr.Entity || r.X != wr.X || r.Y != wr.Y || r.Z != wr.Z || netproto.QuantizeYaw(r.Yaw) != netproto.QuantizeYaw(wr.Yaw) {
						t.Errorf("client %s record %d: %+v, want %+v", c.link.Transport(), j, r, wr)
					}
				}
				continue
			}
			if !bytes.Equal(gb, wb) {
				t.Errorf("client %s message %d (%v) differs", c.link.Transport(), i, got.MsgType())
			}
		}
	}
	// The visibility change was applied: the monster is callable by all
	// three.
	for i, c := range []*testClient{a, b, w} {
		c.sendMsg(&netproto.ClientCall{Entity: entMonster, Method: "Hit", CallID: uint64(50 + i)})
		expect(t, g.disp, func(m *netproto.CallEntity) bool { return m.CallID == uint64(50+i) && m.Caller.Client == c.id })
	}
	s := g.Stats()
	if s.Dropped[DroppedUnknownClient] != 1 {
		t.Errorf("Dropped %+v, want one unknown client", s.Dropped)
	}
	if s.ClientOut[netproto.MsgCreateEntity].Msgs != 3 || s.ClientOut[netproto.MsgPositionSync].Msgs != 3 || s.ClientOut[netproto.MsgCallClient].Msgs != 1 {
		t.Errorf("ClientOut %+v", s.ClientOut)
	}

	// A batch for another gate, or with frames that are not valid client
	// frames, is dropped and counted; the clients stay.
	g.disp.send(t, &netproto.GateBatch{Gate: g.ID() + 1, Items: []netproto.BatchItem{{Clients: []uint64{a.id}, Frames: frame(t, callA)}}})
	g.disp.send(t, &netproto.GateBatch{Gate: g.ID(), Items: []netproto.BatchItem{{Clients: []uint64{a.id}, Frames: []byte{0, 0, 0, 9, 1}}}})
	g.sync(t, a)
	s = g.Stats()
	if s.Dropped[DroppedWrongGate] != 1 || s.Dropped[DroppedBadFrames] != 1 || s.Clients != 3 {
		t.Errorf("after bad batches: dropped %+v, %d clients", s.Dropped, s.Clients)
	}
}

func TestPositionSyncSplitsLargeBatches(t *testing.T) {
	g := startGate(t, func(c *config.Gate) { c.MaxFrame = 1024 })
	c := g.connect(t, "tcp")
	perFrame := (1024 - 4) / netproto.PositionRecordSize
	n := 2*perFrame + 3
	var raw []byte
	var clients [][]uint64
	for i := range n {
		raw, _ = netproto.AppendPositionRecord(raw, netproto.PositionRecord{Entity: uint64(i + 1), X: float32(i)})
		clients = append(clients, []uint64{c.id})
	}
	g.disp.send(t, &netproto.GateBatch{Gate: g.ID(), Game: 1, PosRecords: raw, PosClients: clients})
	next := uint64(1)
	for next <= uint64(n) {
		ps, ok := c.recv().(*netproto.PositionSync)
		if !ok {
			t.Fatal("expected PositionSync")
		}
		if len(ps.Records) > perFrame {
			t.Errorf("PositionSync of %d records, frame holds %d", len(ps.Records), perFrame)
		}
		for _, r := range ps.Records {
			if r.Entity != next {
				t.Fatalf("record for %d, want %d", r.Entity, next)
			}
			next++
		}
	}
}

func TestIdleTimeoutAndHeartbeat(t *testing.T) {
	g := startGate(t, func(c *config.Gate) {
		c.HeartbeatInterval = 100 * time.Millisecond
		c.IdleTimeout = 400 * time.Millisecond
	})
	quiet := g.connect(t, "kcp")
	busy := g.connect(t, "tcp")
	g.bind(t, busy, entA, "Avatar", false, 0)

	// busy heartbeats; the gate heartbeats both.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(50 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if busy.link.Send(netproto.MsgHeartbeat, nil) != nil || busy.link.Flush() != nil {
					return
				}
			}
		}
	}()
	heartbeats := 0
	for {
		typ, payload, err := quiet.link.Recv()
		if err != nil {
			t.Fatalf("quiet client: %v", err)
		}
		if typ == netproto.MsgHeartbeat {
			heartbeats++
			continue
		}
		m, _ := clientCodec.Decode(typ, payload)
		if d, ok := m.(*netproto.Disconnect); ok {
			if d.Code != netproto.DisconnectIdle {
				t.Errorf("Disconnect %+v, want idle", d)
			}
			break
		}
	}
	if heartbeats == 0 {
		t.Error("the gate sent the quiet client no heartbeat")
	}
	expect(t, g.disp, func(m *netproto.ClientDisconnected) bool { return m.Client == quiet.id && m.Entity == 0 })
	eventually(t, "idle counted", func() bool { return g.Stats().Disconnects[DisconnectIdle] == 1 })
	// busy outlived the idle timeout: it still works.
	time.Sleep(200 * time.Millisecond)
	close(stop)
	<-done
	checkAlive(t, g, busy, 77)
}

func TestClientMove(t *testing.T) {
	g := startGate(t, func(c *config.Gate) { c.MaxSpeed = 10 }, WithMoveViolations(4))
	c := g.connect(t, "kcp")
	move := func(e uint64, x float32) {
		c.sendMsg(&netproto.ClientMove{Records: []netproto.PositionRecord{{Entity: e, X: x}}})
	}
	synced := func(x float32) {
		t.Helper()
		m := expect(t, g.disp, func(m *netproto.SyncFromClient) bool { return m.Client == c.id })
		if m.Record.Entity != entA || m.Record.X != x {
			t.Fatalf("SyncFromClient %+v, want entity %x at x=%v", m, entA, x)
		}
	}

	// Not bound yet, then bound but not client-moved: refused.
	move(entA, 1)
	g.bind(t, c, entA, "Avatar", false, 0)
	move(entA, 1)
	eventually(t, "moves refused", func() bool { return g.Stats().Refused[RefusedMoveNotAllowed] == 2 })
	// Two violations so far, of the four that drop a client.
	g.bind(t, c, entA, "Avatar", true, 0)
	g.sync(t, c) // the binding is applied before the next move
	g.disp.send(t, &netproto.GateBatch{Gate: g.ID(), Game: 1, PosRecords: mustRecord(t, entA, 100), PosClients: [][]uint64{{c.id}}})
	if ps, ok := c.recv().(*netproto.PositionSync); !ok || len(ps.Records) != 1 {
		t.Fatal("no PositionSync of the own entity")
	}
	move(entA, 101) // from the server's position: 1 unit, within 10 u/s
	synced(101)
	none(t, g.disp, 50*time.Millisecond, func(m *netproto.SyncFromClient) bool { return true })

	// A teleport is refused, not forwarded; the next honest move is.
	move(entA, 5000)
	eventually(t, "teleport refused", func() bool { return g.Stats().Refused[RefusedMoveTooFast] == 1 })
	move(entA, 101.5)
	synced(101.5)
	if n := g.Stats().Clients; n != 1 {
		t.Fatalf("client dropped too early")
	}
	// Another entity: refused, and the fourth violation drops the client.
	move(entB, 3)
	d := c.recvEnd()
	if d == nil || d.Reason != DisconnectMoveAbuse {
		t.Errorf("Disconnect %+v, want %s", d, DisconnectMoveAbuse)
	}
	if g.Stats().Refused[RefusedMoveEntity] != 1 {
		t.Errorf("Refused %+v", g.Stats().Refused)
	}
	expect(t, g.disp, func(m *netproto.ClientDisconnected) bool { return m.Client == c.id && m.Entity == entA })
}

func mustRecord(t *testing.T, e uint64, x float32) []byte {
	t.Helper()
	b, err := netproto.AppendPositionRecord(nil, netproto.PositionRecord{Entity: e, X: x})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKickClient(t *testing.T) {
	g := startGate(t, nil)
	c := g.connect(t, "tcp")
	other := g.connect(t, "kcp")
	g.bind(t, c, entA, "Avatar", false, 0)
	g.disp.send(t, &netproto.KickClient{Gate: g.ID(), Client: c.id, Reason: "banned"})
	d := c.recvEnd()
	if d == nil || d.Code != netproto.DisconnectKicked || d.Reason != "banned" {
		t.Errorf("Disconnect %+v", d)
	}
	expect(t, g.disp, func(m *netproto.ClientDisconnected) bool { return m.Client == c.id && m.Entity == entA })
	eventually(t, "kick counted", func() bool { return g.Stats().Disconnects[DisconnectKicked] == 1 })
	// A binding that arrives after its client left is answered with a
	// ClientDisconnected for that entity, so the game unbinds it.
	g.disp.send(t, &netproto.ClientBound{Gate: g.ID(), Client: c.id, Entity: entC, Type: "Avatar"})
	expect(t, g.disp, func(m *netproto.ClientDisconnected) bool { return m.Client == c.id && m.Entity == entC })
	g.bind(t, other, entB, "Avatar", false, 0)
	other.sendMsg(&netproto.ClientCall{Entity: entB, Method: "Wave", CallID: 3})
	expect(t, g.disp, func(m *netproto.CallEntity) bool { return m.CallID == 3 })
}

func TestDispatcherReconnect(t *testing.T) {
	g := startGate(t, nil)
	c := g.connect(t, "tcp")
	g.disp.dropLink()
	// The dispatcher told every game GateDown: the gate's clients are
	// unbound, so it drops them, then redials.
	d := c.recvEnd()
	if d == nil || d.Code != netproto.DisconnectShutdown {
		t.Errorf("Disconnect %+v", d)
	}
	select {
	case <-g.disp.hellos:
	case <-time.After(testTimeout):
		t.Fatal("gate did not redial")
	}
	eventually(t, "link up again", func() bool { return g.Stats().DispatchersUp == 1 })
	if n := g.Stats().Disconnects[DisconnectClusterLost]; n != 1 {
		t.Errorf("cluster_link_lost %d, want 1", n)
	}
	c2 := g.connect(t, "kcp")
	expect(t, g.disp, func(m *netproto.ClientConnected) bool { return m.Client == c2.id })
}

func TestUnavailableDispatcher(t *testing.T) {
	ctx := t.Context()
	d := newFakeDispatcher(t, ctx, nil)
	d.reject = "bad secret"
	cfg := testConfig()
	g, err := New(cfg, []string{d.addr()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Wait() })
	<-d.hellos
	tg := &testGate{Gate: g, disp: d}
	c := &testClient{t: t, link: tg.dialLink(t, "tcp"), codec: clientCodec}
	c.sendMsg(&netproto.ClientHello{Version: 1})
	if m := c.recvEnd(); m == nil || m.Reason != "cluster unavailable" {
		t.Errorf("Disconnect %+v", m)
	}
	if s := g.Stats(); s.DispatchersUp != 0 || s.Disconnects[DisconnectUnavailable] != 1 || s.Accepted != 0 {
		t.Errorf("Stats %+v", s)
	}
}

func TestShutdown(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := newFakeDispatcher(t, ctx, testSchema)
	g, err := New(testConfig(), []string{d.addr()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	tg := &testGate{Gate: g, disp: d}
	<-d.hellos
	eventually(t, "link up", func() bool { return g.Stats().DispatchersUp == 1 })
	var cs []*testClient
	for _, tr := range []string{"kcp", "tcp", "ws"} {
		cs = append(cs, tg.connect(t, tr))
	}
	cancel()
	// Read the clients' ends first: a WebSocket link's close handshake
	// needs the client to read (the gate would wait up to 5 s otherwise).
	for _, c := range cs {
		if m := c.recvEnd(); m == nil || m.Code != netproto.DisconnectShutdown {
			t.Errorf("%s: Disconnect %+v", c.link.Transport(), m)
		}
	}
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Wait did not return")
	}
	for _, c := range cs {
		c.link.Close()
	}
	d.ln.Close()
	d.dropLink()
	d.wg.Wait()
	// Every goroutine of the gate has returned (WebSocket close handshakes
	// and kcp-go's own workers may take a moment).
	deadline := time.Now().Add(testTimeout)
	for runtime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestShardedDispatchers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ds := []*fakeDispatcher{newFakeDispatcher(t, ctx, testSchema), newFakeDispatcher(t, ctx, testSchema)}
	g, err := New(testConfig(), []string{ds[0].addr(), ds[1].addr()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); g.Wait() })
	for _, d := range ds {
		<-d.hellos
	}
	eventually(t, "both links up", func() bool { return g.Stats().DispatchersUp == 2 })
	tg := &testGate{Gate: g, disp: ds[0]}

	// Entities of each shard.
	var own, other uint64
	for i := uint64(1); own == 0 || other == 0; i++ {
		e := 1<<48 | i
		if netproto.Shard(e, 2) == 0 && own == 0 {
			own = e
		} else if netproto.Shard(e, 2) == 1 && other == 0 {
			other = e
		}
	}
	c := tg.connect(t, "tcp")
	boot := ds[netproto.Shard(c.id, 2)]
	expect(t, boot, func(m *netproto.ClientConnected) bool { return m.Client == c.id })
	none(t, ds[1-netproto.Shard(c.id, 2)], 50*time.Millisecond, func(m *netproto.ClientConnected) bool { return true })

	// Bind from dispatcher 0 and show the other entity from dispatcher 1:
	// a gate takes game traffic from any dispatcher.
	ds[0].send(t, &netproto.ClientBound{Gate: g.ID(), Client: c.id, Entity: own, Type: "Avatar", ClientMoved: true})
	tg.disp = ds[1]
	tg.sync(t, c, netproto.BatchItem{Clients: []uint64{c.id}, Frames: frame(t, &netproto.CreateEntity{Entity: other, Type: "Avatar"}),
		Vis: netproto.VisEnter, VisEntity: other, VisType: "Avatar"})
	eventually(t, "binding", func() bool { gc := g.client(c.id); return gc != nil && gc.ownEntity.Load() == own })

	c.sendMsg(&netproto.ClientCall{Entity: own, Method: "SetName", CallID: 1})
	c.sendMsg(&netproto.ClientCall{Entity: other, Method: "Wave", CallID: 2})
	expect(t, ds[0], func(m *netproto.CallEntity) bool { return m.CallID == 1 && m.Target == own })
	expect(t, ds[1], func(m *netproto.CallEntity) bool { return m.CallID == 2 && m.Target == other })
	c.sendMsg(&netproto.ClientMove{Records: []netproto.PositionRecord{{Entity: own, X: 1}}})
	expect(t, ds[0], func(m *netproto.SyncFromClient) bool { return m.Client == c.id })

	// A reply may come back through either dispatcher.
	ds[1].send(t, &netproto.CallReply{CallID: 1, To: netproto.Peer{Role: netproto.RoleGate, ID: g.ID()}, Client: c.id})
	if r, ok := c.recv().(*netproto.ClientCallReply); !ok || r.CallID != 1 {
		t.Fatalf("reply %+v", r)
	}
	c.sendMsg(&netproto.Disconnect{})
	expect(t, ds[0], func(m *netproto.ClientDisconnected) bool { return m.Client == c.id && m.Entity == own })
	eventually(t, "normal disconnect counted", func() bool { return g.Stats().Disconnects[DisconnectNormal] == 1 })
}

func TestSlowClientDropped(t *testing.T) {
	g := startGate(t, nil, WithWriteTimeout(300*time.Millisecond))
	other := g.connect(t, "kcp")
	g.bind(t, other, entA, "Avatar", false, 0)
	slow := g.rawConn(t)
	slow.SetReadBuffer(4096)
	id := rawHello(t, slow)
	noise := make([]byte, 60000) // incompressible: the link compresses with s2
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	big := frame(t, &netproto.CallClient{Entity: 1, Method: "blob", Args: noise})
	// The slow client never reads: its socket buffers fill, then its
	// writes time out or its queue fills, and the gate drops it.
	for i := 0; g.Stats().Disconnects[DisconnectSlow] == 0; i++ {
		if i == 500 {
			t.Fatal("a client that does not read was never dropped")
		}
		g.disp.send(t, &netproto.GateBatch{Gate: g.ID(), Game: 1, Items: []netproto.BatchItem{{Clients: []uint64{id}, Frames: big}}})
		time.Sleep(2 * time.Millisecond)
	}
	expect(t, g.disp, func(m *netproto.ClientDisconnected) bool { return m.Client == id })
	checkAlive(t, g, other, 5)
}

func TestCaps(t *testing.T) {
	g := startGate(t, nil, WithMaxClients(2), WithMaxPending(1))
	g.connect(t, "tcp")
	// One connection waiting for its hello is the most allowed: a second
	// one is closed at once.
	quiet := g.rawConn(t)
	eventually(t, "pending", func() bool { return g.pending.Load() == 1 })
	busy := g.rawConn(t)
	rawEnd(t, busy)
	eventually(t, "busy counted", func() bool { return g.Stats().Disconnects[DisconnectBusy] == 1 })
	quiet.Close()
	eventually(t, "pending freed", func() bool { return g.pending.Load() == 0 })

	g.connect(t, "kcp")
	c := &testClient{t: t, link: g.dialLink(t, "tcp"), codec: clientCodec}
	c.sendMsg(&netproto.ClientHello{Version: 1})
	if d := c.recvEnd(); d == nil || d.Reason != "gate full" {
		t.Errorf("third client: Disconnect %+v", d)
	}
	if s := g.Stats(); s.Disconnects[DisconnectFull] != 1 || s.Clients != 2 {
		t.Errorf("Stats: %+v", s)
	}
}
