package dispatcher

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/netproto"
)

func TestHandshake(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	game1 := join(t, d.addr, netproto.RoleGame, 1)
	join(t, d.addr, netproto.RoleGate, 1)
	_ = game1

	tests := []struct {
		name   string
		hello  netproto.Hello
		first  netproto.Message // sent instead of the Hello when set
		reason string
		key    string
	}{
		{"bad secret", netproto.Hello{Role: netproto.RoleGame, ID: 2, Secret: "wrong"}, nil, "secret", RejectBadSecret},
		{"empty secret", netproto.Hello{Role: netproto.RoleGame, ID: 2}, nil, "secret", RejectBadSecret},
		{"secret prefix", netproto.Hello{Role: netproto.RoleGame, ID: 2, Secret: testSecret[:3]}, nil, "secret", RejectBadSecret},
		{"duplicate game", netproto.Hello{Role: netproto.RoleGame, ID: 1, Secret: testSecret}, nil, "already connected", RejectDuplicate},
		{"duplicate gate", netproto.Hello{Role: netproto.RoleGate, ID: 1, Secret: testSecret}, nil, "already connected", RejectDuplicate},
		{"restored but not frozen", netproto.Hello{Role: netproto.RoleGame, ID: 1, Secret: testSecret, Restored: true}, nil, "already connected", RejectDuplicate},
		{"dispatcher role", netproto.Hello{Role: netproto.RoleDispatcher, ID: 5, Secret: testSecret}, nil, "games and gates", RejectBadRole},
		{"id 0", netproto.Hello{Role: netproto.RoleGate, Secret: testSecret}, nil, "id 0", RejectBadID},
		{"version", netproto.Hello{Role: netproto.RoleGate, ID: 3, Secret: testSecret, Version: 99}, nil, "version", RejectBadVersion},
		{"not a hello", netproto.Hello{}, &netproto.EntityCreated{Entity: 1, Game: 1}, "must be Hello", RejectNotHello},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := d.Stats().Rejected[tt.key]
			f := dialRaw(t, d.addr, tt.hello.Role, tt.hello.ID)
			if tt.first != nil {
				f.send(tt.first)
			} else {
				f.send(&tt.hello)
			}
			m := f.recv()
			rej, ok := m.(*netproto.HelloReject)
			if !ok {
				t.Fatalf("want HelloReject, got %#v", m)
			}
			if !strings.Contains(rej.Reason, tt.reason) {
				t.Errorf("reason %q does not mention %q", rej.Reason, tt.reason)
			}
			f.expectClosed()
			if got := d.Stats().Rejected[tt.key]; got != before+1 {
				t.Errorf("Rejected[%s] = %d, want %d", tt.key, got, before+1)
			}
		})
	}

	// The accepted links are untouched by the refused ones.
	game1.syncNothing()
	s := d.Stats()
	if s.Games != 1 || s.Gates != 1 || s.Accepted != 2 {
		t.Errorf("games %d gates %d accepted %d, want 1 1 2", s.Games, s.Gates, s.Accepted)
	}
}

func TestHelloAckCarriesID(t *testing.T) {
	cl := testCluster(2)
	d := start(t, cl, 2)
	f, m := hello(t, d.addr, netproto.Hello{Role: netproto.RoleGame, ID: 7, Secret: testSecret})
	ack, ok := m.(*netproto.HelloAck)
	if !ok || ack.ID != 2 || ack.Version != netproto.ProtocolVersion {
		t.Fatalf("got %#v, want HelloAck{ID: 2}", m)
	}
	f.syncNothing()
}

func TestTypeSchemaToGates(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	early := join(t, d.addr, netproto.RoleGate, 1)
	early.schemas = true
	types := []netproto.EntityTypeSchema{{Name: "Avatar", Methods: []netproto.MethodSchema{
		{Name: "Say", Perm: netproto.PermAnyClient}, {Name: "Move", Perm: netproto.PermOwnClient}}}}
	join(t, d.addr, netproto.RoleGame, 3, func(h *netproto.Hello) { h.Types = types })
	want := &netproto.TypeSchema{Game: 3, Types: types}
	early.expect(want)
	late := join(t, d.addr, netproto.RoleGate, 2)
	late.schemas = true
	late.expect(want)
}

func TestCallRouting(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	game1 := join(t, d.addr, netproto.RoleGame, 1)
	game2 := join(t, d.addr, netproto.RoleGame, 2)
	gate := join(t, d.addr, netproto.RoleGate, 1)

	// An entity created by game 1 that lives on game 2 (it migrated there):
	// the route, not the origin, decides.
	e := entity(1, 42)
	game2.send(&netproto.EntityCreated{Entity: e, Game: 2})
	game2.syncNothing()
	if g, ok := d.Route(e); !ok || g != 2 {
		t.Fatalf("route of %x = %d, %v; want 2", e, g, ok)
	}

	// Game to game, and the reply back to the caller's process.
	call := entityCall(1, entity(1, 1), e, 11, "Hit")
	game1.send(call)
	game2.expect(call)
	reply := &netproto.CallReply{CallID: 11, To: netproto.Peer{Role: netproto.RoleGame, ID: 1}, Result: []byte{0x05}}
	game2.send(reply)
	game1.expect(reply)

	// Gate (a client) to game, and the reply to the gate with the client.
	ccall := clientCall(1, entity(1, 900), e, 12, "Say")
	gate.send(ccall)
	game2.expect(ccall)
	creply := &netproto.CallReply{CallID: 12, To: netproto.Peer{Role: netproto.RoleGate, ID: 1}, Client: entity(1, 900), Result: []byte{0xf5}}
	game2.send(creply)
	gate.expect(creply)

	// No route: the origin game gets it (the call overtook EntityCreated).
	fresh := entity(2, 7)
	call2 := entityCall(1, entity(1, 1), fresh, 0, "Init")
	game1.send(call2)
	game2.expect(call2)

	// Client traffic to the entity's game; game traffic to gates.
	sync := &netproto.SyncFromClient{Client: entity(1, 900), Record: netproto.PositionRecord{Entity: e, X: 1, Y: 2, Z: 3}}
	gate.send(sync)
	game2.expect(sync)
	disc := &netproto.ClientDisconnected{Gate: 1, Client: entity(1, 900), Entity: e}
	gate.send(disc)
	game2.expect(disc)
	batch := &netproto.GateBatch{Gate: 1, Game: 2, Items: []netproto.BatchItem{{Clients: []uint64{entity(1, 900)}, Frames: netproto.AppendFrame(nil, netproto.MsgDestroyEntity, []byte{0xa0})}}}
	bound := &netproto.ClientBound{Gate: 1, Client: entity(1, 900), Entity: e, Type: "Avatar", ClientMoved: true, MaxSpeed: 5}
	kick := &netproto.KickClient{Gate: 1, Client: entity(1, 900), Reason: "bye"}
	game2.send(bound, batch, kick)
	gate.expect(bound)
	gate.expect(batch)
	gate.expect(kick)

	// Creation on a named game.
	onGame := &netproto.CreateEntityOnGame{Game: 1, Type: "Monster", Pos: netproto.Vec3{X: 1}}
	game2.send(onGame)
	game1.expect(onGame)

	// EntityDestroyed from a game the route does not point to is ignored;
	// from the route's game it removes the route.
	game1.send(&netproto.EntityDestroyed{Entity: e, Game: 1})
	game1.syncNothing()
	if _, ok := d.Route(e); !ok {
		t.Fatal("a destroy from another game removed the route")
	}
	game2.send(&netproto.EntityDestroyed{Entity: e, Game: 2})
	game2.syncNothing()
	if _, ok := d.Route(e); ok {
		t.Fatal("route kept after EntityDestroyed")
	}
	game1.syncNothing()

	s := d.Stats()
	if len(s.Dropped) != 0 {
		t.Errorf("dropped: %v", s.Dropped)
	}
	if got := s.In["CallEntity"].Msgs; got != 3 {
		t.Errorf("In[CallEntity] = %d, want 3", got)
	}
	if got := s.Out["CallReply"].Msgs; got != 2 {
		t.Errorf("Out[CallReply] = %d, want 2", got)
	}
}

func TestUndeliverableCall(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	game1 := join(t, d.addr, netproto.RoleGame, 1)
	gate := join(t, d.addr, netproto.RoleGate, 4)

	// Game 9 does not exist: a call wanting a reply gets an error reply; a
	// call without CallID is only counted.
	lost := entity(9, 1)
	game1.send(entityCall(1, entity(1, 1), lost, 0, "Fire"))
	game1.send(entityCall(1, entity(1, 1), lost, 77, "Ask"))
	m := game1.recv()
	r, ok := m.(*netproto.CallReply)
	if !ok || r.CallID != 77 || r.Error == "" || r.To != (netproto.Peer{Role: netproto.RoleGame, ID: 1}) {
		t.Fatalf("want an error CallReply for call 77, got %#v", m)
	}
	if !strings.Contains(r.Error, "game 9") {
		t.Errorf("error %q does not name the game", r.Error)
	}

	// From a client: the reply goes to its gate, naming the client.
	gate.send(clientCall(4, entity(4, 5), lost, 78, "Ask"))
	m = gate.recv()
	r, ok = m.(*netproto.CallReply)
	if !ok || r.CallID != 78 || r.Error == "" || r.Client != entity(4, 5) || r.To.Role != netproto.RoleGate {
		t.Fatalf("want an error CallReply for call 78 to the client, got %#v", m)
	}

	// A gate may not pose as a game entity, nor as another gate.
	bad := entityCall(1, entity(1, 1), entity(1, 2), 79, "Admin")
	gate.send(bad)
	if r, ok := gate.recv().(*netproto.CallReply); !ok || r.CallID != 79 || r.Error == "" {
		t.Fatalf("want a refusal of call 79, got %#v", r)
	}
	game1.syncNothing() // and nothing reached game 1

	// A reply to a gate that is gone is counted.
	game1.send(&netproto.CallReply{CallID: 5, To: netproto.Peer{Role: netproto.RoleGate, ID: 8}})
	game1.syncNothing()

	s := d.Stats()
	if s.Dropped[DropUnknownGame] != 3 || s.Dropped[DropBadSender] != 1 || s.Dropped[DropUnknownGate] != 1 {
		t.Errorf("dropped %v, want unknown_game 3, bad_sender 1, unknown_gate 1", s.Dropped)
	}
	if s.ErrorReplies != 3 {
		t.Errorf("ErrorReplies = %d, want 3", s.ErrorReplies)
	}
}

func TestBadInputKeepsLink(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	game := join(t, d.addr, netproto.RoleGame, 1)
	gate := join(t, d.addr, netproto.RoleGate, 1)

	sendRaw := func(f *fake, typ netproto.MsgType, payload []byte) {
		t.Helper()
		if err := f.link.Send(typ, payload); err != nil {
			t.Fatal(err)
		}
		if err := f.link.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	sendRaw(game, netproto.MsgCallEntity, []byte{0xff, 0x00})                        // not CBOR
	sendRaw(game, netproto.MsgCallEntity, []byte{0xa0})                              // no target
	sendRaw(game, netproto.MsgGateBatch, []byte{0x82, 0x01, 0x02})                   // an array, not a map
	sendRaw(game, netproto.MsgType(0x3000), []byte{0x01})                            // unknown type
	sendRaw(game, netproto.MsgHello, []byte{0xa0})                                   // Hello again
	sendRaw(gate, netproto.MsgFreezeRequest, []byte{0xa1, 0x01, 0x01})               // a gate freezing
	sendRaw(gate, netproto.MsgSyncFromClient, []byte{1, 2, 3})                       // truncated record
	sendRaw(gate, netproto.MsgClientConnected, []byte{0xa2, 0x01, 0x02, 0x02, 0x01}) // another gate's client
	game.syncNothing()
	s := d.Stats()
	want := map[string]uint64{DropBadMessage: 4, DropUnknownType: 1, DropBadRole: 2, DropBadSender: 1}
	waitFor(t, "the gate's messages to be counted", func() bool {
		s = d.Stats()
		return s.Dropped[DropBadSender] == 1 && s.Dropped[DropBadMessage] == 4
	})
	for k, v := range want {
		if s.Dropped[k] != v {
			t.Errorf("Dropped[%s] = %d, want %d (all: %v)", k, s.Dropped[k], v, s.Dropped)
		}
	}
	if s.Games != 1 || s.Gates != 1 {
		t.Errorf("links closed by bad input: games %d gates %d", s.Games, s.Gates)
	}
}

func TestPlacement(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	games := []*fake{
		join(t, d.addr, netproto.RoleGame, 1),
		join(t, d.addr, netproto.RoleGame, 2),
		join(t, d.addr, netproto.RoleGame, 3),
	}
	gate := join(t, d.addr, netproto.RoleGate, 1)

	// Game 2 reports the least load: a create-anywhere goes there.
	loads := []float32{0.5, 0.1, 0.3005}
	for i, g := range games {
		g.send(&netproto.GameLoad{Game: uint16(i + 1), Load: loads[i], Entities: 100})
		g.syncNothing()
	}
	create := &netproto.CreateEntityAnywhere{Type: "Monster", Pos: netproto.Vec3{X: 3}}
	games[0].send(create)
	games[1].expect(create)

	// Placed entities count against their game until its next report: at
	// 0.001 of a tick per entity, game 2 takes 200 more before it is more
	// loaded than game 3 (0.3005); the next goes to game 3.
	for range 200 {
		games[0].send(create)
	}
	for range 200 {
		games[1].expect(create)
	}
	games[0].send(create)
	games[2].expect(create)
	for _, g := range games {
		g.syncNothing()
	}

	// Equal reports: new clients' boot entities spread evenly.
	for i, g := range games {
		g.send(&netproto.GameLoad{Game: uint16(i + 1)})
		g.syncNothing()
	}
	for c := range 6 {
		gate.send(&netproto.ClientConnected{Gate: 1, Client: entity(1, uint64(c+1)), BootType: "Account"})
	}
	seen := map[uint64]bool{}
	for _, g := range games {
		for range 2 {
			m, ok := g.recv().(*netproto.ClientConnected)
			if !ok || m.BootType != "Account" || seen[m.Client] {
				t.Fatalf("%s: bad placement %#v", g.name, m)
			}
			seen[m.Client] = true
		}
	}
	for _, g := range games {
		g.syncNothing()
	}
	if s := d.Stats(); s.Placed != 208 {
		t.Errorf("Placed = %d, want 208", s.Placed)
	}
}

func TestNoGameKicksClient(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	gate := join(t, d.addr, netproto.RoleGate, 2)
	gate.send(&netproto.ClientConnected{Gate: 2, Client: entity(2, 1), BootType: "Account"})
	gate.expect(&netproto.KickClient{Gate: 2, Client: entity(2, 1), Reason: "no game available"})
	if got := d.Stats().Dropped[DropNoGame]; got != 1 {
		t.Errorf("Dropped[no_game] = %d, want 1", got)
	}
}

func TestServices(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	game1 := join(t, d.addr, netproto.RoleGame, 1)
	game2 := join(t, d.addr, netproto.RoleGame, 2)
	a, b := entity(1, 1), entity(2, 1)

	game1.send(&netproto.ServiceRegister{Name: "boss", Entity: a})
	game1.expect(&netproto.ServiceRegistered{Name: "boss", Entity: a, Won: true})
	game2.send(&netproto.ServiceRegister{Name: "boss", Entity: b})
	game2.expect(&netproto.ServiceRegistered{Name: "boss", Entity: a, Won: false})
	game1.send(&netproto.ServiceRegister{Name: "boss", Entity: a}) // idempotent
	game1.expect(&netproto.ServiceRegistered{Name: "boss", Entity: a, Won: true})
	game2.send(&netproto.ServiceRegister{Name: "bank", Entity: b})
	game2.expect(&netproto.ServiceRegistered{Name: "bank", Entity: b, Won: true})

	game2.send(&netproto.ServiceLookup{Name: "boss", CallID: 3}, &netproto.ServiceLookup{Name: "nobody", CallID: 4})
	game2.expect(&netproto.ServiceLookupReply{Name: "boss", CallID: 3, Entity: a})
	game2.expect(&netproto.ServiceLookupReply{Name: "nobody", CallID: 4})

	// Bad names are refused without an answer.
	game2.send(&netproto.ServiceRegister{Name: strings.Repeat("x", maxServiceName+1), Entity: b})
	game2.syncNothing()

	// The registering game leaves: its services go; the next writer wins.
	game1.link.Close()
	waitFor(t, "game 1 to be gone", func() bool { return d.Stats().Games == 1 })
	game2.send(&netproto.ServiceLookup{Name: "boss", CallID: 5})
	game2.expect(&netproto.ServiceLookupReply{Name: "boss", CallID: 5})
	game2.send(&netproto.ServiceRegister{Name: "boss", Entity: b})
	game2.expect(&netproto.ServiceRegistered{Name: "boss", Entity: b, Won: true})
	if s := d.Stats(); s.Services != 2 {
		t.Errorf("Services = %d, want 2", s.Services)
	}
}

func TestSharding(t *testing.T) {
	cl := testCluster(2)
	d1 := start(t, cl, 1)
	d2 := start(t, cl, 2)
	ds := []*started{d1, d2}
	// Every game dials every dispatcher.
	var game1, game2 [2]*fake
	for i, d := range ds {
		game1[i] = join(t, d.addr, netproto.RoleGame, 1)
		game2[i] = join(t, d.addr, netproto.RoleGame, 2)
		game1[i].syncName = nameOnShard(i, 2)
		game2[i].syncName = nameOnShard(i, 2)
	}

	// An entity of shard 1 (dispatcher 2), created by game 1, living on
	// game 2: game 2 reports it to its shard only.
	e := entityOnShard(1, 1, 2)
	game2[1].send(&netproto.EntityCreated{Entity: e, Game: 2})
	game2[1].syncNothing()
	if g, ok := d2.Route(e); !ok || g != 2 {
		t.Fatalf("shard dispatcher: route %d, %v; want 2", g, ok)
	}
	if _, ok := d1.Route(e); ok {
		t.Fatal("the other dispatcher has the route")
	}

	// Through its shard, a call reaches game 2.
	call := entityCall(1, entity(1, 1), e, 1, "Hit")
	game1[1].send(call)
	game2[1].expect(call)

	// Through the other dispatcher there is no route: it falls back to the
	// origin, game 1, and counts the misrouting.
	game1[0].send(call)
	game1[0].expect(call)
	if s := d1.Stats(); s.WrongShard != 1 {
		t.Errorf("dispatcher 1 WrongShard = %d, want 1", s.WrongShard)
	}

	// A route update sent to the wrong shard is refused.
	game2[0].send(&netproto.EntityCreated{Entity: e, Game: 2})
	game2[0].syncNothing()
	if _, ok := d1.Route(e); ok {
		t.Fatal("route stored on the wrong shard")
	}
	if s := d1.Stats(); s.Dropped[DropWrongShard] != 1 || s.Routes != 0 {
		t.Errorf("dispatcher 1: dropped %v, routes %d", s.Dropped, s.Routes)
	}
	if s := d2.Stats(); s.Routes != 1 || s.WrongShard != 0 {
		t.Errorf("dispatcher 2: routes %d, wrong shard %d", s.Routes, s.WrongShard)
	}

	// Entities spread over both shards.
	for seq := uint64(1); seq <= 64; seq++ {
		e := entity(2, seq)
		game2[netproto.Shard(e, 2)].send(&netproto.EntityCreated{Entity: e, Game: 2})
	}
	game2[0].syncNothing()
	game2[1].syncNothing()
	r1, r2 := d1.Stats().Routes, d2.Stats().Routes-1
	if r1+r2 != 64 || r1 == 0 || r2 == 0 {
		t.Errorf("routes per shard %d and %d, want 64 spread over both", r1, r2)
	}
}

func TestMigrationHoldFlushesInOrder(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	gameA := join(t, d.addr, netproto.RoleGame, 1)
	gameB := join(t, d.addr, netproto.RoleGame, 2)
	gate := join(t, d.addr, netproto.RoleGate, 1)
	e := entity(1, 5)
	gameA.send(&netproto.EntityCreated{Entity: e, Game: 1})
	gameA.syncNothing()

	gameA.send(&netproto.MigrateRequest{Entity: e, From: 1, To: 2, Space: 99})
	gameA.expect(&netproto.MigrateHold{Entity: e})

	// Traffic for e while it moves: held, from two links.
	var held []netproto.Message
	for i := range 3 {
		c := clientCall(1, entity(1, 100), e, uint64(10+i), "Say")
		gate.send(c)
		held = append(held, c)
	}
	mv := &netproto.SyncFromClient{Client: entity(1, 100), Record: netproto.PositionRecord{Entity: e, X: 4}}
	gate.send(mv)
	held = append(held, mv)
	// Links are read concurrently: wait before using another one, so the
	// expected order is the order of arrival.
	waitFor(t, "the gate's traffic to be held", func() bool { return d.Stats().Queued == len(held) })
	ec := entityCall(2, entity(2, 1), e, 20, "Hit")
	gameB.send(ec)
	held = append(held, ec)
	waitFor(t, "the traffic to be held", func() bool { return d.Stats().Queued == len(held) })
	gameA.syncNothing() // none of it reached the source

	// The migration data is not held.
	data := &netproto.MigrateData{Entity: e, Space: 99, To: 2, Blob: []byte("entity")}
	gameA.send(data)
	gameB.expect(data)
	gameB.syncNothing() // nor did the held traffic reach the destination yet

	gameB.send(&netproto.MigrateDone{Entity: e, Game: 2})
	for _, m := range held {
		gameB.expect(m)
	}
	if g, ok := d.Route(e); !ok || g != 2 {
		t.Fatalf("route after migration %d, %v; want 2", g, ok)
	}
	after := clientCall(1, entity(1, 100), e, 30, "Say")
	gate.send(after)
	gameB.expect(after)
	if s := d.Stats(); s.Queued != 0 || len(s.Dropped) != 0 {
		t.Errorf("queued %d, dropped %v", s.Queued, s.Dropped)
	}
}

func TestMigrationToVanishedGameReleasesHold(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	gameA := join(t, d.addr, netproto.RoleGame, 1)
	gameB := join(t, d.addr, netproto.RoleGame, 2)
	e := entity(1, 5)
	gameA.send(&netproto.EntityCreated{Entity: e, Game: 1}, &netproto.MigrateRequest{Entity: e, From: 1, To: 2})
	gameA.expect(&netproto.MigrateHold{Entity: e})
	c := entityCall(1, entity(1, 9), e, 3, "Hit")
	gameA.send(c)
	gameA.syncNothing()
	gameB.link.Close()
	// Game 2 died mid-migration: the held call goes where the route says.
	gameA.expect(c)
	if s := d.Stats(); s.Queued != 0 {
		t.Errorf("queued %d after release", s.Queued)
	}
}

func TestFreezeQueueFlushesInOrder(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	game := join(t, d.addr, netproto.RoleGame, 1)
	other := join(t, d.addr, netproto.RoleGame, 2)
	gate := join(t, d.addr, netproto.RoleGate, 1)
	e := entity(1, 1)
	game.send(&netproto.EntityCreated{Entity: e, Game: 1})

	game.send(&netproto.FreezeRequest{Game: 1})
	game.expect(&netproto.FreezeAck{Dispatcher: 1, Game: 1})

	// Everything for game 1 and its entities waits, in order.
	var queued []netproto.Message
	for i := range 5 {
		c := clientCall(1, entity(1, 50), e, uint64(i+1), "Say")
		gate.send(c)
		queued = append(queued, c)
	}
	// Links are read concurrently: wait before using another one, so the
	// expected order is the order of arrival.
	waitFor(t, "the queue", func() bool { return d.Stats().Queued == len(queued) })
	ec := entityCall(2, entity(2, 1), e, 9, "Hit")
	other.send(ec)
	queued = append(queued, ec)
	other.syncNothing()
	// Placement avoids the frozen game while another is live.
	cc := &netproto.ClientConnected{Gate: 1, Client: entity(1, 51), BootType: "Account"}
	gate.send(cc)
	other.expect(cc)
	// A gate lost while frozen: its GateDown is queued too.
	gate2 := join(t, d.addr, netproto.RoleGate, 2)
	gate2.link.Close()
	other.expect(&netproto.GateDown{Gate: 2})
	queued = append(queued, &netproto.GateDown{Gate: 2})
	waitFor(t, "the queue", func() bool { return d.Stats().Queued == len(queued) })

	// While the frozen game's link is up, a fresh game 1 is a duplicate.
	if _, m := hello(t, d.addr, netproto.Hello{Role: netproto.RoleGame, ID: 1, Secret: testSecret}); m.MsgType() != netproto.MsgHelloReject {
		t.Fatalf("fresh game on a frozen id: got %#v", m)
	}

	// The game exits; its routes and queue stay.
	game.link.Close()
	waitFor(t, "the frozen game to leave", func() bool { return d.Stats().Games == 1 })
	s := d.Stats()
	if s.FrozenGames != 1 || s.Routes != 1 || len(s.Queues) != 1 || s.Queues[0].Connected || s.Queues[0].Msgs != len(queued) {
		t.Fatalf("after exit: frozen %d routes %d queues %+v", s.FrozenGames, s.Routes, s.Queues)
	}
	late := clientCall(1, entity(1, 50), e, 6, "Say")
	gate.send(late)
	queued = append(queued, late)
	waitFor(t, "the queue", func() bool { return d.Stats().Queued == len(queued) })

	// The restored game gets HelloAck, then the queue in order, then live
	// traffic.
	restoredGame := join(t, d.addr, netproto.RoleGame, 1, restored)
	for _, m := range queued {
		restoredGame.expect(m)
	}
	live := clientCall(1, entity(1, 50), e, 7, "Say")
	gate.send(live)
	restoredGame.expect(live)
	s = d.Stats()
	if s.FrozenGames != 0 || s.Queued != 0 || s.Restored != 1 || len(s.Dropped) != 0 {
		t.Errorf("after restore: frozen %d queued %d restored %d dropped %v", s.FrozenGames, s.Queued, s.Restored, s.Dropped)
	}
}

func TestRestoredReplacesFrozenLink(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	old := join(t, d.addr, netproto.RoleGame, 1)
	gate := join(t, d.addr, netproto.RoleGate, 1)
	old.send(&netproto.FreezeRequest{})
	old.expect(&netproto.FreezeAck{Dispatcher: 1, Game: 1})
	c := clientCall(1, entity(1, 2), entity(1, 1), 1, "Say")
	gate.send(c)
	waitFor(t, "the queue", func() bool { return d.Stats().Queued == 1 })
	// The new binary is up before the old one has exited.
	fresh := join(t, d.addr, netproto.RoleGame, 1, restored)
	fresh.expect(c)
	old.expectClosed()
	fresh.syncNothing()
	if s := d.Stats(); s.Games != 1 || s.FrozenGames != 0 {
		t.Errorf("games %d frozen %d", s.Games, s.FrozenGames)
	}
}

func TestFreezeResumeOnSameLink(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	game := join(t, d.addr, netproto.RoleGame, 1)
	other := join(t, d.addr, netproto.RoleGame, 2)
	game.send(&netproto.FreezeRequest{Game: 1})
	game.expect(&netproto.FreezeAck{Dispatcher: 1, Game: 1})
	c := entityCall(2, entity(2, 1), entity(1, 1), 4, "Hit")
	other.send(c)
	other.syncNothing()
	game.send(&netproto.FreezeResume{Game: 1}) // the freeze was aborted
	game.expect(c)
	if s := d.Stats(); s.FrozenGames != 0 || s.Queued != 0 {
		t.Errorf("frozen %d queued %d", s.FrozenGames, s.Queued)
	}
}

func TestFreshStartDiscardsFrozenQueue(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	game := join(t, d.addr, netproto.RoleGame, 1)
	gate := join(t, d.addr, netproto.RoleGate, 1)
	e := entity(1, 1)
	game.send(&netproto.EntityCreated{Entity: e, Game: 1}, &netproto.FreezeRequest{Game: 1})
	game.expect(&netproto.FreezeAck{Dispatcher: 1, Game: 1})
	gate.send(clientCall(1, entity(1, 3), e, 8, "Say"))
	waitFor(t, "the queue", func() bool { return d.Stats().Queued == 1 })
	game.link.Close()
	waitFor(t, "the frozen game to leave", func() bool { return d.Stats().Games == 0 })

	fresh := join(t, d.addr, netproto.RoleGame, 1) // no Restored: a new world
	r, ok := gate.recv().(*netproto.CallReply)
	if !ok || r.CallID != 8 || r.Error == "" || r.Client != entity(1, 3) {
		t.Fatalf("want an error reply for the discarded call, got %#v", r)
	}
	fresh.syncNothing()
	s := d.Stats()
	if s.Dropped[DropQueueDiscarded] != 1 || s.Routes != 0 || s.FrozenGames != 0 {
		t.Errorf("dropped %v routes %d frozen %d", s.Dropped, s.Routes, s.FrozenGames)
	}
}

func TestGameDisconnect(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	game1 := join(t, d.addr, netproto.RoleGame, 1)
	game2 := join(t, d.addr, netproto.RoleGame, 2)
	gate := join(t, d.addr, netproto.RoleGate, 1)
	moved, native := entity(1, 1), entity(2, 1)
	game2.send(&netproto.EntityCreated{Entity: moved, Game: 2}, &netproto.EntityCreated{Entity: native, Game: 2})
	game2.syncNothing()

	game2.link.Close()
	waitFor(t, "game 2 to be gone", func() bool { return d.Stats().Games == 1 })
	if s := d.Stats(); s.Routes != 0 {
		t.Fatalf("routes of the gone game kept: %d", s.Routes)
	}
	// The moved entity falls back to its origin; the native one has none.
	c := clientCall(1, entity(1, 7), moved, 1, "Say")
	gate.send(c)
	game1.expect(c)
	gate.send(clientCall(1, entity(1, 7), native, 2, "Say"))
	if r, ok := gate.recv().(*netproto.CallReply); !ok || r.CallID != 2 || r.Error == "" {
		t.Fatalf("want an error reply, got %#v", r)
	}
	// A gate's disconnect is told to every game.
	gate.link.Close()
	game1.expect(&netproto.GateDown{Gate: 1})
	if s := d.Stats(); s.Gates != 0 || s.Dropped[DropUnknownGame] != 1 {
		t.Errorf("gates %d dropped %v", s.Gates, s.Dropped)
	}
}

func TestHeartbeatAndIdleTimeout(t *testing.T) {
	cl := testCluster(1)
	cl.Dispatchers[0].Link.HeartbeatInterval = 20 * time.Millisecond
	cl.Dispatchers[0].Link.IdleTimeout = 200 * time.Millisecond
	d := start(t, cl, 1)
	game := join(t, d.addr, netproto.RoleGame, 1)
	// The test game never sends anything: it gets heartbeats, then is
	// closed as idle.
	heartbeats := 0
	for {
		m, err := game.recvAny()
		if err != nil {
			break
		}
		if _, ok := m.(*netproto.Heartbeat); !ok {
			t.Fatalf("unexpected %#v", m)
		}
		heartbeats++
	}
	if heartbeats == 0 {
		t.Error("no heartbeat on an idle link")
	}
	waitFor(t, "the idle game to be dropped", func() bool { return d.Stats().Games == 0 })
}

func TestServeStopsEverything(t *testing.T) {
	cl := testCluster(1)
	d, err := New(cl, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	addr := d.Addr().String()
	game := join(t, addr, netproto.RoleGame, 1)
	gate := join(t, addr, netproto.RoleGate, 1)
	silent := dialRaw(t, addr, netproto.RoleGame, 2) // still in its handshake
	game.send(&netproto.ServiceRegister{Name: "x", Entity: entity(1, 1)})
	game.expect(&netproto.ServiceRegistered{Name: "x", Entity: entity(1, 1), Won: true})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Serve did not return")
	}
	for _, f := range []*fake{game, gate, silent} {
		f.expectClosed()
	}
	if _, err := netproto.DialTCP(context.Background(), addr, netproto.Options{}); err == nil {
		t.Error("still listening after Serve returned")
	}
	if err := d.Serve(context.Background()); err == nil {
		t.Error("second Serve accepted")
	}
}

func TestHandshakeLimit(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	for i := range maxHandshakes {
		dialRaw(t, d.addr, netproto.RoleGame, uint16(i+1)) // never says Hello
	}
	waitFor(t, "the pending handshakes", func() bool { return d.Stats().Handshakes == maxHandshakes })
	dialRaw(t, d.addr, netproto.RoleGame, 999).expectClosed()
	if got := d.Stats().Rejected[RejectBusy]; got != 1 {
		t.Errorf("Rejected[busy] = %d, want 1", got)
	}
}
