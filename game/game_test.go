package game

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/netproto"
	"github.com/ecsworld/ecsworld/systems"
)

// testTimeout bounds every wait of these tests.
const testTimeout = 10 * time.Second

// fakeDispatcher accepts games, answers their Hello, records what they
// send and, when routing, forwards calls, replies and migrations between
// them the way docs/cluster.md says a dispatcher does.
type fakeDispatcher struct {
	t     *testing.T
	ln    netproto.Listener
	codec *netproto.Codec
	msgs  chan fromGame
	seen  []fromGame // received, not yet expected (test goroutine only)

	mu       sync.Mutex
	games    map[uint16]netproto.Link
	hello    map[uint16]*netproto.Hello
	hellos   map[uint16]int
	services map[string]uint64
	wg       sync.WaitGroup
}

type fromGame struct {
	game uint16
	msg  netproto.Message
}

func newFakeDispatcher(t *testing.T, ctx context.Context) *fakeDispatcher {
	t.Helper()
	ln, err := netproto.ListenTCP(ctx, "127.0.0.1:0", netproto.Options{})
	if err != nil {
		t.Fatal(err)
	}
	codec, err := netproto.NewCodec(netproto.InternalLimits())
	if err != nil {
		t.Fatal(err)
	}
	fd := &fakeDispatcher{t: t, ln: ln, codec: codec, msgs: make(chan fromGame, 4096),
		games: map[uint16]netproto.Link{}, hello: map[uint16]*netproto.Hello{}, hellos: map[uint16]int{},
		services: map[string]uint64{}}
	fd.wg.Add(1)
	go fd.accept(ctx)
	t.Cleanup(func() {
		ln.Close()
		fd.mu.Lock()
		for _, l := range fd.games {
			l.Close()
		}
		fd.mu.Unlock()
		fd.wg.Wait()
	})
	return fd
}

func (fd *fakeDispatcher) addr() string { return fd.ln.Addr().String() }

func (fd *fakeDispatcher) accept(ctx context.Context) {
	defer fd.wg.Done()
	for {
		l, err := fd.ln.Accept(ctx)
		if err != nil {
			return
		}
		fd.wg.Add(1)
		go fd.serve(l)
	}
}

func (fd *fakeDispatcher) serve(l netproto.Link) {
	defer fd.wg.Done()
	defer l.Close()
	typ, payload, err := l.Recv()
	if err != nil {
		return
	}
	m, err := fd.codec.Decode(typ, payload)
	h, ok := m.(*netproto.Hello)
	if err != nil || !ok || h.Secret != "sesame" || h.Role != netproto.RoleGame {
		fd.codec.Send(l, &netproto.HelloReject{Reason: "bad hello"})
		l.Flush()
		return
	}
	fd.mu.Lock()
	fd.games[h.ID] = l
	fd.hello[h.ID] = h
	fd.hellos[h.ID]++
	fd.mu.Unlock()
	fd.codec.Send(l, &netproto.HelloAck{ID: 1, Version: netproto.ProtocolVersion})
	l.Flush()
	for {
		typ, payload, err := l.Recv()
		if err != nil {
			return
		}
		if typ == netproto.MsgHeartbeat {
			continue
		}
		m, err := fd.codec.Decode(typ, payload)
		if err != nil {
			fd.t.Errorf("game %d sent a bad %v: %v", h.ID, typ, err)
			return
		}
		fd.route(h.ID, m)
		fd.msgs <- fromGame{h.ID, m}
	}
}

// route forwards what a dispatcher would forward between games.
func (fd *fakeDispatcher) route(from uint16, m netproto.Message) {
	switch x := m.(type) {
	case *netproto.CallEntity:
		if g := netproto.Origin(x.Target); g != from {
			fd.send(g, x)
		}
	case *netproto.CallReply:
		if x.To.Role == netproto.RoleGame && fd.connected(x.To.ID) {
			fd.send(x.To.ID, x)
		}
	case *netproto.MigrateRequest:
		fd.send(from, &netproto.MigrateHold{Entity: x.Entity})
	case *netproto.MigrateData:
		fd.send(x.To, x)
	case *netproto.ServiceRegister:
		fd.mu.Lock()
		holder, taken := fd.services[x.Name]
		if !taken {
			holder = x.Entity
			fd.services[x.Name] = holder
		}
		fd.mu.Unlock()
		fd.send(from, &netproto.ServiceRegistered{Name: x.Name, Entity: holder, Won: holder == x.Entity})
	case *netproto.ServiceLookup:
		fd.mu.Lock()
		holder := fd.services[x.Name]
		fd.mu.Unlock()
		fd.send(from, &netproto.ServiceLookupReply{Name: x.Name, CallID: x.CallID, Entity: holder})
	}
}

func (fd *fakeDispatcher) connected(id uint16) bool {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	return fd.games[id] != nil
}

// drop closes game id's link, as a dispatcher restart would.
func (fd *fakeDispatcher) drop(id uint16) {
	fd.mu.Lock()
	l := fd.games[id]
	delete(fd.games, id)
	delete(fd.hello, id)
	fd.mu.Unlock()
	if l != nil {
		l.Close()
	}
}

// send queues m to game id and flushes.
func (fd *fakeDispatcher) send(id uint16, m netproto.Message) {
	fd.mu.Lock()
	l := fd.games[id]
	fd.mu.Unlock()
	if l == nil {
		fd.t.Errorf("fake dispatcher: no game %d for %v", id, m.MsgType())
		return
	}
	if err := fd.codec.Send(l, m); err != nil {
		fd.t.Errorf("fake dispatcher: send %v: %v", m.MsgType(), err)
	}
	l.Flush()
}

// waitHello waits until game id has said Hello.
func (fd *fakeDispatcher) waitHello(t *testing.T, id uint16) *netproto.Hello {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for time.Now().Before(deadline) {
		fd.mu.Lock()
		h := fd.hello[id]
		fd.mu.Unlock()
		if h != nil {
			return h
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("game %d never said Hello", id)
	return nil
}

// expect returns the first message from game that pred accepts, and
// removes it. Messages it passes over are kept for later expects, so the
// order in which two games' messages arrive does not matter.
func (fd *fakeDispatcher) expect(t *testing.T, game uint16, what string, pred func(m netproto.Message) bool) netproto.Message {
	t.Helper()
	for i, fm := range fd.seen {
		if fm.game == game && pred(fm.msg) {
			fd.seen = slices.Delete(fd.seen, i, i+1)
			return fm.msg
		}
	}
	timer := time.NewTimer(testTimeout)
	defer timer.Stop()
	for {
		select {
		case fm := <-fd.msgs:
			if fm.game == game && pred(fm.msg) {
				return fm.msg
			}
			fd.seen = append(fd.seen, fm)
		case <-timer.C:
			t.Fatalf("game %d never sent %s", game, what)
			return nil
		}
	}
}

// clientMsg is one client frame of a GateBatch with its recipients.
type clientMsg struct {
	msg     netproto.Message
	clients []uint64
	vis     netproto.VisChange
}

func decodeBatch(t *testing.T, c *netproto.Codec, b *netproto.GateBatch) []clientMsg {
	t.Helper()
	var out []clientMsg
	for _, it := range b.Items {
		rest := it.Frames
		for len(rest) > 0 {
			typ, payload, r, err := netproto.SplitFrame(rest, 0)
			if err != nil {
				t.Fatalf("batch item: %v", err)
			}
			m, err := c.Decode(typ, payload)
			if err != nil {
				t.Fatalf("batch frame %v: %v", typ, err)
			}
			out = append(out, clientMsg{m, it.Clients, it.Vis})
			rest = r
		}
	}
	return out
}

// batchWith waits for a GateBatch to gate holding a client message pred
// accepts, and returns the batch's messages and the batch.
func (fd *fakeDispatcher) batchWith(t *testing.T, game, gate uint16, what string, pred func(cm clientMsg) bool) ([]clientMsg, *netproto.GateBatch) {
	t.Helper()
	var msgs []clientMsg
	m := fd.expect(t, game, what, func(m netproto.Message) bool {
		b, ok := m.(*netproto.GateBatch)
		if !ok || b.Gate != gate {
			return false
		}
		msgs = decodeBatch(t, fd.codec, b)
		return slices.ContainsFunc(msgs, pred)
	})
	return msgs, m.(*netproto.GateBatch)
}

// testWorld is the game code of the tests: a boot Account, a Hero with a
// client, Mobs, an Arena, and channels the hooks report to.
type testWorld struct {
	connected, disconnected chan ecs.EntityID
	pinged                  chan int
}

type mobData struct{ Level int }

var mobComp = ecs.NewComponent[mobData]("game_test.mob")

func newTestWorld() *testWorld {
	return &testWorld{connected: make(chan ecs.EntityID, 16), disconnected: make(chan ecs.EntityID, 16), pinged: make(chan int, 16)}
}

func (tw *testWorld) setup() Setup {
	account := ecs.NewEntityType("Account").
		Attr("greeting", ecs.AttrAllClients).
		Method(ecs.Method1("Hello", ecs.OwnClient, func(e *ecs.Entity, _ ecs.Caller, s string) error {
			return e.Attrs().Set("greeting", s)
		})).
		Method(ecs.Method0("Admin", ecs.ServerOnly, func(*ecs.Entity, ecs.Caller) error { return nil })).
		OnClientConnected(func(e *ecs.Entity) { tw.connected <- e.ID() })
	hero := ecs.NewEntityType("Hero").AOI(10).
		Attr("name", ecs.AttrAllClients).
		Method(ecs.Method0("Look", ecs.AnyClient, func(*ecs.Entity, ecs.Caller) error { return nil })).
		OnClientDisconnected(func(e *ecs.Entity) { tw.disconnected <- e.ID() })
	mob := ecs.NewEntityType("Mob").With(mobComp).AOI(10).
		Attr("name", ecs.AttrAllClients).
		Method(ecs.Method1("Ping", ecs.ServerOnly, func(e *ecs.Entity, _ ecs.Caller, n int) error {
			tw.pinged <- n
			return nil
		})).
		Method(ecs.Method0("Fail", ecs.ServerOnly, func(*ecs.Entity, ecs.Caller) error { return errors.New("no luck") }))
	arena := ecs.NewEntityType("Arena").Space()
	return Setup{Types: []*ecs.EntityType{account, hero, mob, arena}, ClientMoved: map[string]float32{"Hero": 7}}
}

func testConfig(id uint16, addrs ...string) Config {
	gc := *config.Default().Game(1)
	gc.ID = id
	gc.Secret = "sesame"
	gc.TickRate = 100
	gc.PositionSyncRate = 100
	gc.Link.HeartbeatInterval = 200 * time.Millisecond
	gc.Link.IdleTimeout = 5 * time.Second
	return Config{Game: gc, Dispatchers: addrs}
}

// startGame runs a game until the test ends.
func startGame(t *testing.T, ctx context.Context, cfg Config, setup Setup) *Game {
	t.Helper()
	g, err := New(cfg, setup, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(testTimeout):
			t.Error("Run did not return")
		}
	})
	return g
}

// do runs fn on g's tick goroutine and waits for it.
func do[T any](t *testing.T, g *Game, fn func(g *Game) T) T {
	t.Helper()
	ch := make(chan T, 1)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if !g.Do(ctx, func(g *Game) { ch <- fn(g) }) {
		t.Fatal("Do: inbox full")
	}
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatal("Do: fn did not run")
	}
	var zero T
	return zero
}

// eventually polls cond until it holds or the test times out.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatalf("no %s", what)
	}
	var zero T
	return zero
}

func TestGameClientLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	fd := newFakeDispatcher(t, ctx)
	tw := newTestWorld()
	g := startGame(t, ctx, testConfig(1, fd.addr()), tw.setup())

	// Handshake: role, id, secret, and the client-callable schema only.
	h := fd.waitHello(t, 1)
	if h.Role != netproto.RoleGame || h.ID != 1 || h.Version != netproto.ProtocolVersion {
		t.Errorf("hello = %+v", h)
	}
	schema := map[string][]netproto.MethodSchema{}
	for _, ts := range h.Types {
		schema[ts.Name] = ts.Methods
	}
	if got, want := schema["Account"], []netproto.MethodSchema{{Name: "Hello", Perm: netproto.PermOwnClient}}; !slices.Equal(got, want) {
		t.Errorf("Account schema = %+v, want %+v", got, want)
	}
	if got, want := schema["Hero"], []netproto.MethodSchema{{Name: "Look", Perm: netproto.PermAnyClient}}; !slices.Equal(got, want) {
		t.Errorf("Hero schema = %+v, want %+v", got, want)
	}
	if _, ok := schema["Mob"]; !ok || len(schema["Mob"]) != 0 {
		t.Errorf("Mob schema = %+v, want listed without methods", schema["Mob"])
	}

	// A client connects: boot entity, route, ClientBound, then its player.
	const gate, client = 7, uint64(7<<48 | 1)
	fd.send(1, &netproto.ClientConnected{Gate: gate, Client: client})
	acct := ecs.EntityID(fd.expect(t, 1, "EntityCreated", func(m netproto.Message) bool {
		_, ok := m.(*netproto.EntityCreated)
		return ok
	}).(*netproto.EntityCreated).Entity)
	if got := recv(t, tw.connected, "OnClientConnected"); got != acct {
		t.Errorf("OnClientConnected on %v, want %v", got, acct)
	}
	bound := fd.expect(t, 1, "ClientBound", func(m netproto.Message) bool { _, ok := m.(*netproto.ClientBound); return ok }).(*netproto.ClientBound)
	if bound.Gate != gate || bound.Client != client || bound.Entity != uint64(acct) || bound.Type != "Account" || bound.ClientMoved {
		t.Errorf("ClientBound = %+v", bound)
	}
	fd.batchWith(t, 1, gate, "the player's CreateEntity", func(cm clientMsg) bool {
		ce, ok := cm.msg.(*netproto.CreateEntity)
		return ok && ce.Entity == uint64(acct) && ce.IsPlayer && slices.Equal(cm.clients, []uint64{client})
	})

	// The client calls its own entity: the reply goes back to its gate,
	// the attribute change to its client.
	args, _ := ecs.EncodeArgs("hi")
	fd.send(1, &netproto.CallEntity{Target: uint64(acct), Method: "Hello", Args: args, CallID: 99,
		Caller: netproto.Caller{Kind: netproto.CallerClient, Client: client, Gate: gate, Entity: uint64(acct)}})
	rep := fd.expect(t, 1, "CallReply 99", func(m netproto.Message) bool {
		r, ok := m.(*netproto.CallReply)
		return ok && r.CallID == 99
	}).(*netproto.CallReply)
	if rep.Error != "" || rep.To != (netproto.Peer{Role: netproto.RoleGate, ID: gate}) || rep.Client != client {
		t.Errorf("reply = %+v", rep)
	}
	fd.batchWith(t, 1, gate, "the greeting's AttrDelta", func(cm clientMsg) bool {
		d, ok := cm.msg.(*netproto.AttrDelta)
		return ok && d.Entity == uint64(acct) && len(d.Changes) == 1 && d.Changes[0].Value == "hi" &&
			slices.Equal(cm.clients, []uint64{client})
	})
	// Another client may not call an own-client method; nobody may call a
	// server-only one.
	for i, c := range []struct {
		method string
		client uint64
	}{{"Hello", client + 1}, {"Admin", client}} {
		id := uint64(100 + i)
		fd.send(1, &netproto.CallEntity{Target: uint64(acct), Method: c.method, Args: args, CallID: id,
			Caller: netproto.Caller{Kind: netproto.CallerClient, Client: c.client, Gate: gate}})
		rep := fd.expect(t, 1, "a refusal", func(m netproto.Message) bool {
			r, ok := m.(*netproto.CallReply)
			return ok && r.CallID == id
		}).(*netproto.CallReply)
		if rep.Error == "" {
			t.Errorf("%s by client %x was not refused", c.method, c.client)
		}
	}

	// The game gives the client a Hero in an arena next to a mob.
	type ids struct{ hero, mob ecs.EntityID }
	got := do(t, g, func(g *Game) ids {
		arena, err := g.Create("Arena", ecs.CreateOptions{})
		if err != nil {
			t.Error(err)
			return ids{}
		}
		mob, err := g.Create("Mob", ecs.CreateOptions{Space: arena, Pos: ecs.Vec3{X: 3}, Attrs: map[string]any{"name": "rat"}})
		if err != nil {
			t.Error(err)
			return ids{}
		}
		a, _ := g.World().Entity(acct)
		b := a.Client()
		a.SetClient(ecs.ClientBinding{})
		hero, err := g.Create("Hero", ecs.CreateOptions{Space: arena, Client: b})
		if err != nil {
			t.Error(err)
			return ids{}
		}
		if err := g.CallClient(hero, "Welcome", "home"); err != nil {
			t.Error(err)
		}
		return ids{hero.ID(), mob.ID()}
	})
	msgs, _ := fd.batchWith(t, 1, gate, "the hero's CreateEntity", func(cm clientMsg) bool {
		ce, ok := cm.msg.(*netproto.CreateEntity)
		return ok && ce.Entity == uint64(got.hero) && ce.IsPlayer
	})
	var kinds []string
	for _, cm := range msgs {
		switch m := cm.msg.(type) {
		case *netproto.CallClient:
			kinds = append(kinds, "call:"+m.Method)
		case *netproto.DestroyEntity:
			kinds = append(kinds, "destroy:"+ecs.EntityID(m.Entity).String())
		case *netproto.CreateEntity:
			kinds = append(kinds, "create:"+ecs.EntityID(m.Entity).String())
			if m.Entity == uint64(got.mob) && (m.Attrs["name"] != "rat" || m.Type != "Mob" || cm.vis != netproto.VisEnter) {
				t.Errorf("mob create = %+v (vis %v)", m, cm.vis)
			}
		}
	}
	want := []string{"destroy:" + acct.String(), "create:" + got.hero.String(), "create:" + got.mob.String(), "call:Welcome"}
	if !slices.Equal(kinds, want) {
		t.Errorf("batch after the hand-over = %v, want %v", kinds, want)
	}

	// The mob moves in range: one position record for the client.
	do(t, g, func(g *Game) bool {
		m, _ := g.World().Entity(got.mob)
		m.SetPos(ecs.Vec3{X: 4})
		return true
	})
	b := fd.expect(t, 1, "a position record", func(m netproto.Message) bool {
		b, ok := m.(*netproto.GateBatch)
		return ok && len(b.PosRecords) > 0
	}).(*netproto.GateBatch)
	recs, err := netproto.DecodePositionBatch(nil, append([]byte{0, byte(len(b.PosRecords) / netproto.PositionRecordSize)}, b.PosRecords...), 0)
	if err != nil || len(recs) != 1 || recs[0].Entity != uint64(got.mob) || recs[0].X != 4 || !slices.Equal(b.PosClients[0], []uint64{client}) {
		t.Errorf("positions = %+v %v (%v)", recs, b.PosClients, err)
	}

	// The client moves its hero (client-moved); a move of the mob is refused.
	fd.send(1, &netproto.SyncFromClient{Client: client, Record: netproto.PositionRecord{Entity: uint64(got.hero), X: 1, Z: 1}})
	fd.send(1, &netproto.SyncFromClient{Client: client, Record: netproto.PositionRecord{Entity: uint64(got.mob), X: 1}})
	// The moves travel over TCP and Do does not: wait for them to count.
	eventually(t, "both client moves handled", func() bool { st := g.Stats(); return st.ClientMoves == 1 && st.Refused >= 1 })
	pos := do(t, g, func(g *Game) [2]ecs.Vec3 {
		h, _ := g.World().Entity(got.hero)
		m, _ := g.World().Entity(got.mob)
		return [2]ecs.Vec3{h.Pos(), m.Pos()}
	})
	if pos[0] != (ecs.Vec3{X: 1, Z: 1}) || pos[1] != (ecs.Vec3{X: 4}) {
		t.Errorf("after client moves: hero %v, mob %v", pos[0], pos[1])
	}

	// The mob walks away: the client gets its destroy.
	do(t, g, func(g *Game) bool {
		m, _ := g.World().Entity(got.mob)
		m.SetPos(ecs.Vec3{X: 50})
		return true
	})
	fd.batchWith(t, 1, gate, "the mob's DestroyEntity", func(cm clientMsg) bool {
		d, ok := cm.msg.(*netproto.DestroyEntity)
		return ok && d.Entity == uint64(got.mob) && cm.vis == netproto.VisLeave && slices.Equal(cm.clients, []uint64{client})
	})

	// The client disconnects: OnClientDisconnected on the hero.
	fd.send(1, &netproto.ClientDisconnected{Gate: gate, Client: client, Entity: uint64(got.hero)})
	if id := recv(t, tw.disconnected, "OnClientDisconnected"); id != got.hero {
		t.Errorf("OnClientDisconnected on %v, want %v", id, got.hero)
	}
	eventually(t, "no client left in the stats", func() bool { return g.Stats().Clients == 0 })
	st := g.Stats()
	if st.Connected != 1 || st.BatchesOut == 0 || st.FramesOut == 0 || st.PositionsOut == 0 || st.Entities != 4 || st.Spaces != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestGameCallsAcrossGames(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	fd := newFakeDispatcher(t, ctx)
	tw1, tw2 := newTestWorld(), newTestWorld()
	g1 := startGame(t, ctx, testConfig(1, fd.addr()), tw1.setup())
	g2 := startGame(t, ctx, testConfig(2, fd.addr()), tw2.setup())
	fd.waitHello(t, 1)
	fd.waitHello(t, 2)

	mob := do(t, g2, func(g *Game) ecs.EntityID {
		e, err := g.Create("Mob", ecs.CreateOptions{})
		if err != nil {
			t.Error(err)
		}
		return e.ID()
	})
	replies := make(chan error, 2)
	do(t, g1, func(g *Game) bool {
		if err := g.CallWithReply(0, mob, "Ping", func(err error) { replies <- err }, 42); err != nil {
			t.Error(err)
		}
		if err := g.CallWithReply(0, mob, "Fail", func(err error) { replies <- err }); err != nil {
			t.Error(err)
		}
		return true
	})
	if n := recv(t, tw2.pinged, "Ping on game 2"); n != 42 {
		t.Errorf("Ping(%d), want 42", n)
	}
	if err := recv(t, replies, "Ping's reply"); err != nil {
		t.Errorf("Ping reply: %v", err)
	}
	if err := recv(t, replies, "Fail's reply"); !errors.Is(err, ErrRemote) {
		t.Errorf("Fail reply = %v, want ErrRemote", err)
	}
	// A local call never leaves the process.
	local := do(t, g1, func(g *Game) ecs.EntityID {
		e, _ := g.Create("Mob", ecs.CreateOptions{})
		g.Call(e.ID(), e.ID(), "Ping", 7)
		return e.ID()
	})
	if n := recv(t, tw1.pinged, "local Ping"); n != 7 {
		t.Errorf("local Ping(%d)", n)
	}
	_ = local
}

func TestGameMigration(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	fd := newFakeDispatcher(t, ctx)
	tw1, tw2 := newTestWorld(), newTestWorld()
	g1 := startGame(t, ctx, testConfig(1, fd.addr()), tw1.setup())
	g2 := startGame(t, ctx, testConfig(2, fd.addr()), tw2.setup())
	fd.waitHello(t, 1)
	fd.waitHello(t, 2)

	type place struct{ arena, mob ecs.EntityID }
	there := do(t, g2, func(g *Game) place {
		a, _ := g.Create("Arena", ecs.CreateOptions{})
		m, _ := g.Create("Mob", ecs.CreateOptions{Space: a, Pos: ecs.Vec3{X: 102}, Attrs: map[string]any{"name": "local"}})
		return place{a.ID(), m.ID()}
	})
	b := ecs.ClientBinding{Gate: 3, Client: 3<<48 | 5}
	var guard ecs.EntityID
	hero := do(t, g1, func(g *Game) ecs.EntityID {
		home, _ := g.Create("Arena", ecs.CreateOptions{})
		gd, _ := g.Create("Mob", ecs.CreateOptions{Space: home, Pos: ecs.Vec3{X: 2}})
		guard = gd.ID()
		e, err := g.Create("Mob", ecs.CreateOptions{Space: home, Client: b,
			Attrs: map[string]any{"name": "traveller", "bag": []any{"map"}}, Components: []any{mobData{Level: 9}}})
		if err != nil {
			t.Error(err)
			return 0
		}
		if _, err := g.Timers().After(e, 1000, "Ping", 1); err != nil {
			t.Error(err)
		}
		if err := g.EnterSpace(e, there.arena, ecs.Vec3{X: 100}); err != nil {
			t.Error(err)
		}
		return e.ID()
	})
	// Game 1 shows the client the guard; the view goes with the hero, so
	// game 2 takes the guard back (below), not game 1.
	fd.batchWith(t, 1, b.Gate, "the guard's create", func(cm clientMsg) bool {
		ce, ok := cm.msg.(*netproto.CreateEntity)
		return ok && ce.Entity == uint64(guard)
	})
	fd.expect(t, 2, "MigrateDone", func(m netproto.Message) bool {
		d, ok := m.(*netproto.MigrateDone)
		return ok && d.Entity == uint64(hero) && d.Game == 2
	})
	type state struct {
		gone, ok      bool
		name, bag     any
		level, timers int
		client        ecs.ClientBinding
		space         ecs.EntityID
		pos           ecs.Vec3
		nearOK        bool
	}
	if gone := do(t, g1, func(g *Game) bool { _, ok := g.World().Entity(hero); return !ok }); !gone {
		t.Error("migrated entity still on game 1")
	}
	st := do(t, g2, func(g *Game) state {
		e, ok := g.World().Entity(hero)
		if !ok {
			return state{}
		}
		s := state{ok: true, name: e.Attrs().Str("name"), client: e.Client(), pos: e.Pos()}
		if l, ok := e.Attrs().Get("bag"); ok {
			s.bag = l.(*ecs.ListAttr).ToSlice()
		}
		if c := mobComp.Get(e); c != nil {
			s.level = c.Level
		}
		if sp := e.Space(); sp != nil {
			s.space = sp.ID()
		}
		for _, tm := range g.Timers().All() {
			if tm.Entity == hero && tm.Method == "Ping" {
				s.timers++
			}
		}
		return s
	})
	if !st.ok || st.name != "traveller" || st.level != 9 || st.client != b || st.space != there.arena ||
		st.pos != (ecs.Vec3{X: 100}) || st.timers != 1 || !slices.Equal(st.bag.([]any), []any{"map"}) {
		t.Errorf("on game 2: %+v", st)
	}
	// Game 2 tells the gate about the binding, takes back what game 1
	// showed (the guard) and shows the client its new neighbours, but
	// not itself again (the client kept it).
	msgs, _ := fd.batchWith(t, 2, b.Gate, "the new neighbour's create", func(cm clientMsg) bool {
		ce, ok := cm.msg.(*netproto.CreateEntity)
		return ok && ce.Entity == uint64(there.mob)
	})
	guardGone, created := -1, -1
	for i, cm := range msgs {
		switch m := cm.msg.(type) {
		case *netproto.CreateEntity:
			if m.Entity == uint64(hero) {
				t.Error("migrated player re-created on its client")
			}
			if m.Entity == uint64(there.mob) {
				created = i
			}
		case *netproto.DestroyEntity:
			if m.Entity == uint64(hero) {
				t.Error("the migrating player was destroyed on its client")
			}
			if m.Entity == uint64(guard) && slices.Equal(cm.clients, []uint64{uint64(b.Client)}) {
				guardGone = i
			}
		}
	}
	if guardGone < 0 || guardGone > created {
		t.Errorf("game 2's batch: guard's destroy at %d, neighbour's create at %d; want the destroy first", guardGone, created)
	}
}

func TestGameServicesGateDownAndReconnect(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	fd := newFakeDispatcher(t, ctx)
	tw1, tw2 := newTestWorld(), newTestWorld()
	won := make(chan bool, 2)
	setup1 := tw1.setup()
	var bank ecs.EntityID
	setup1.OnStart = func(g *Game) error {
		// Before any link is up: the registration waits in the backlog.
		e, err := g.Create("Mob", ecs.CreateOptions{})
		if err != nil {
			return err
		}
		bank = e.ID()
		return g.RegisterService("bank", e.ID(), func(holder ecs.EntityID, w bool) { won <- w && holder == e.ID() })
	}
	g1 := startGame(t, ctx, testConfig(1, fd.addr()), setup1)
	if !recv(t, won, "ServiceRegistered") {
		t.Error("first registrant did not win")
	}
	load := fd.expect(t, 1, "GameLoad", func(m netproto.Message) bool { _, ok := m.(*netproto.GameLoad); return ok }).(*netproto.GameLoad)
	if load.Game != 1 || load.Entities != 1 {
		t.Errorf("GameLoad = %+v", load)
	}
	// Traffic is counted by type: the GameLoad just received went out, the
	// ServiceRegistered came in.
	if st := g1.Stats(); st.Out[netproto.MsgGameLoad].Msgs == 0 || st.Out[netproto.MsgGameLoad].Bytes <= netproto.FrameHeaderSize ||
		st.In[netproto.MsgServiceRegistered].Msgs != 1 {
		t.Errorf("traffic by type: out %v, in %v", st.Out, st.In)
	}

	g2 := startGame(t, ctx, testConfig(2, fd.addr()), tw2.setup())
	fd.waitHello(t, 2)
	replies := make(chan error, 1)
	holders := make(chan ecs.EntityID, 1)
	do(t, g2, func(g *Game) bool {
		rival, _ := g.Create("Mob", ecs.CreateOptions{})
		g.RegisterService("bank", rival.ID(), func(_ ecs.EntityID, w bool) { won <- w })
		g.CallService(0, "bank", "Ping", func(err error) { replies <- err }, 5)
		g.LookupService("nobody", func(id ecs.EntityID) { holders <- id })
		return true
	})
	if recv(t, won, "second ServiceRegistered") {
		t.Error("second registrant won")
	}
	if n := recv(t, tw1.pinged, "Ping through the service"); n != 5 {
		t.Errorf("Ping(%d)", n)
	}
	if err := recv(t, replies, "service call reply"); err != nil {
		t.Errorf("service call: %v", err)
	}
	if id := recv(t, holders, "lookup of an unknown service"); id != 0 {
		t.Errorf("unknown service held by %v", id)
	}

	// A gate goes down: every client of that gate is unbound.
	hero := do(t, g1, func(g *Game) ecs.EntityID {
		e, _ := g.Create("Hero", ecs.CreateOptions{Client: ecs.ClientBinding{Gate: 9, Client: 9<<48 | 1}})
		return e.ID()
	})
	fd.send(1, &netproto.GateDown{Gate: 9})
	if id := recv(t, tw1.disconnected, "OnClientDisconnected after GateDown"); id != hero {
		t.Errorf("OnClientDisconnected on %v, want %v", id, hero)
	}

	// The dispatcher drops game 1: it says Hello again and works on.
	fd.drop(1)
	eventually(t, "game 1 redials", func() bool {
		fd.mu.Lock()
		defer fd.mu.Unlock()
		return fd.hellos[1] == 2
	})
	// Routes and services are reported again (the dispatcher dropped them
	// with the link): each appears twice in all.
	for range 2 {
		fd.expect(t, 1, "EntityCreated of the bank", func(m netproto.Message) bool {
			c, ok := m.(*netproto.EntityCreated)
			return ok && c.Entity == uint64(bank)
		})
		fd.expect(t, 1, "ServiceRegister of the bank", func(m netproto.Message) bool {
			r, ok := m.(*netproto.ServiceRegister)
			return ok && r.Name == "bank" && r.Entity == uint64(bank)
		})
	}
	do(t, g2, func(g *Game) bool { g.Call(0, bank, "Ping", 6); return true })
	if n := recv(t, tw1.pinged, "Ping after the reconnect"); n != 6 {
		t.Errorf("Ping(%d)", n)
	}
	if st := g1.Stats(); st.Backlogged == 0 || st.Connected != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestNewRefusesBadSetups(t *testing.T) {
	ok := testConfig(1, "127.0.0.1:1")
	noBoot := ok
	noBoot.Game.BootEntity = "Nobody"
	noID := ok
	noID.Game.ID = 0
	noDisp := ok
	noDisp.Dispatchers = nil
	badMoved := newTestWorld().setup()
	badMoved.ClientMoved = map[string]float32{"Ghost": 1}
	tests := []struct {
		name  string
		cfg   Config
		setup Setup
	}{
		{"boot type not registered", noBoot, newTestWorld().setup()},
		{"no game id", noID, newTestWorld().setup()},
		{"no dispatchers", noDisp, newTestWorld().setup()},
		{"client-moved type not registered", ok, badMoved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg, tt.setup, nil); err == nil {
				t.Error("New accepted it")
			}
		})
	}
	// A user system added with AddSystem runs; after Run it is refused.
	ticked := make(chan uint64, 1)
	g0, err := New(ok, newTestWorld().setup(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g0.AddSystem(systems.SystemFunc("probe", func(tk *systems.Tick) error {
		select {
		case ticked <- tk.N:
		default:
		}
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g0.Run(ctx) }()
	recv(t, ticked, "a tick of the added system")
	if err := g0.AddSystem(systems.SystemFunc("late", func(*systems.Tick) error { return nil })); !errors.Is(err, ErrRunning) {
		t.Errorf("AddSystem while running = %v", err)
	}
	cancel()
	if err := recv(t, done, "Run's return"); err != nil {
		t.Errorf("Run = %v", err)
	}

	// OnStart's error is Run's.
	s := newTestWorld().setup()
	boom := errors.New("boom")
	s.OnStart = func(*Game) error { return boom }
	g, err := New(ok, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Run(context.Background()); !errors.Is(err, boom) {
		t.Errorf("Run = %v, want OnStart's error", err)
	}
}

func TestGameBadInputIsCounted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	fd := newFakeDispatcher(t, ctx)
	tw := newTestWorld()
	g := startGame(t, ctx, testConfig(1, fd.addr()), tw.setup())
	fd.waitHello(t, 1)
	fd.mu.Lock()
	l := fd.games[1]
	fd.mu.Unlock()
	// A payload that does not decode: dropped, the link stays.
	l.Send(netproto.MsgCallEntity, []byte{0xff, 0x00})
	l.Flush()
	// Messages that decode but fit nothing: refused.
	fd.send(1, &netproto.CallReply{CallID: 12345, To: netproto.Peer{Role: netproto.RoleGame, ID: 1}})
	fd.send(1, &netproto.SyncFromClient{Client: 1, Record: netproto.PositionRecord{Entity: 99}})
	fd.send(1, &netproto.ServiceLookupReply{Name: "x", CallID: 777})
	// A client that left before it was bound, unknown here: ignored.
	fd.send(1, &netproto.ClientDisconnected{Gate: 2, Client: 5})
	// A call to an entity that is not here gets an error reply.
	fd.send(1, &netproto.CallEntity{Target: 1<<48 | 42, Method: "Ping", CallID: 5,
		Caller: netproto.Caller{Kind: netproto.CallerEntity, Game: 2, Entity: 2<<48 | 1}})
	rep := fd.expect(t, 1, "the error reply", func(m netproto.Message) bool {
		r, ok := m.(*netproto.CallReply)
		return ok && r.CallID == 5
	}).(*netproto.CallReply)
	if rep.Error == "" || rep.To != (netproto.Peer{Role: netproto.RoleGame, ID: 2}) {
		t.Errorf("reply = %+v", rep)
	}
	eventually(t, "bad input counted", func() bool { st := g.Stats(); return st.BadMessages == 1 && st.Refused == 3 })
	// The game goes on.
	mob := do(t, g, func(g *Game) ecs.EntityID { e, _ := g.Create("Mob", ecs.CreateOptions{}); return e.ID() })
	args, _ := ecs.EncodeArgs(3)
	fd.send(1, &netproto.CallEntity{Target: uint64(mob), Method: "Ping", Args: args, Caller: netproto.Caller{Kind: netproto.CallerServer, Game: 2}})
	if n := recv(t, tw.pinged, "Ping after bad input"); n != 3 {
		t.Errorf("Ping(%d)", n)
	}
	if st := g.Stats(); st.Refused != 3 || st.RPC.NoEntity != 1 {
		t.Errorf("stats = %+v", st)
	}
}
