package game

import (
	"context"
	"slices"
	"testing"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/netproto"
)

// TestGameMigrationHandsOverView runs two games behind two dispatchers,
// with a migrating hero whose shard is not its gate's: the MigrateData
// goes on the gate's shard (the link that carried the client's frames),
// carries what the client was shown, and the new game takes that back.
func TestGameMigrationHandsOverView(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	fds := []*fakeDispatcher{newFakeDispatcher(t, ctx), newFakeDispatcher(t, ctx)}
	addrs := []string{fds[0].addr(), fds[1].addr()}
	tw1, tw2 := newTestWorld(), newTestWorld()
	g1 := startGame(t, ctx, testConfig(1, addrs...), tw1.setup())
	g2 := startGame(t, ctx, testConfig(2, addrs...), tw2.setup())
	for _, fd := range fds {
		fd.waitHello(t, 1)
		fd.waitHello(t, 2)
	}
	arena := do(t, g2, func(g *Game) ecs.EntityID {
		a, _ := g.Create("Arena", ecs.CreateOptions{})
		return a.ID()
	})
	type start struct {
		hero, guard ecs.EntityID
		b           ecs.ClientBinding
	}
	st := do(t, g1, func(g *Game) start {
		home, _ := g.Create("Arena", ecs.CreateOptions{})
		gd, _ := g.Create("Mob", ecs.CreateOptions{Space: home, Pos: ecs.Vec3{X: 2}})
		e, err := g.Create("Mob", ecs.CreateOptions{Space: home})
		if err != nil {
			t.Error(err)
			return start{}
		}
		// A gate whose shard is not the hero's.
		gate := uint16(3)
		for netproto.Shard(uint64(gate), 2) == netproto.Shard(uint64(e.ID()), 2) {
			gate++
		}
		b := ecs.ClientBinding{Gate: gate, Client: ecs.ClientID(uint64(gate)<<48 | 5)}
		e.SetClient(b)
		g.sync.Notice(e)
		return start{e.ID(), gd.ID(), b}
	})
	gateFD := fds[netproto.Shard(uint64(st.b.Gate), 2)]
	heroFD := fds[netproto.Shard(uint64(st.hero), 2)]
	gateFD.batchWith(t, 1, st.b.Gate, "the guard's create", func(cm clientMsg) bool {
		ce, ok := cm.msg.(*netproto.CreateEntity)
		return ok && ce.Entity == uint64(st.guard)
	})
	do(t, g1, func(g *Game) bool {
		e, _ := g.World().Entity(st.hero)
		if err := g.EnterSpace(e, arena, ecs.Vec3{X: 100}); err != nil {
			t.Error(err)
		}
		return true
	})
	heroFD.expect(t, 1, "MigrateRequest", func(m netproto.Message) bool {
		r, ok := m.(*netproto.MigrateRequest)
		return ok && r.Entity == uint64(st.hero)
	})
	md := gateFD.expect(t, 1, "MigrateData on the gate's shard", func(m netproto.Message) bool {
		d, ok := m.(*netproto.MigrateData)
		return ok && d.Entity == uint64(st.hero)
	}).(*netproto.MigrateData)
	// Every batch of game 1 seen so far on that link came before it.
	gateFD.seen = slices.DeleteFunc(gateFD.seen, func(fm fromGame) bool {
		_, ok := fm.msg.(*netproto.GateBatch)
		return ok && fm.game == 1
	})
	var mg migrant
	if err := g1.codec.UnmarshalValue(md.Blob, &mg); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mg.Shown, []uint64{uint64(st.guard)}) || mg.Fresh {
		t.Errorf("blob view: shown %v, fresh %v; want the guard, held", mg.Shown, mg.Fresh)
	}
	heroFD.expect(t, 2, "MigrateDone", func(m netproto.Message) bool {
		d, ok := m.(*netproto.MigrateDone)
		return ok && d.Entity == uint64(st.hero) && d.Game == 2
	})
	msgs, _ := gateFD.batchWith(t, 2, st.b.Gate, "the guard's destroy from game 2", func(cm clientMsg) bool {
		d, ok := cm.msg.(*netproto.DestroyEntity)
		return ok && d.Entity == uint64(st.guard) && slices.Equal(cm.clients, []uint64{uint64(st.b.Client)})
	})
	for _, cm := range msgs {
		if ce, ok := cm.msg.(*netproto.CreateEntity); ok && ce.Entity == uint64(st.hero) {
			t.Error("migrated player re-created on its client")
		}
	}
	// Game 1 sends its client nothing after the MigrateData: two ticks
	// later (the old protocol's destroys came one tick later), a marker on
	// the same link puts every batch before it into seen.
	do(t, g1, func(g *Game) bool { return true })
	do(t, g1, func(g *Game) bool { return true })
	do(t, g1, func(g *Game) bool {
		return g.sendShard(uint64(st.b.Gate), &netproto.KickClient{Gate: st.b.Gate, Client: 1, Reason: "marker"}) == nil
	})
	gateFD.expect(t, 1, "the marker", func(m netproto.Message) bool {
		k, ok := m.(*netproto.KickClient)
		return ok && k.Reason == "marker"
	})
	for _, fm := range gateFD.seen {
		bt, ok := fm.msg.(*netproto.GateBatch)
		if fm.game != 1 || !ok {
			continue
		}
		for _, cm := range decodeBatch(t, gateFD.codec, bt) {
			if slices.Contains(cm.clients, uint64(st.b.Client)) {
				t.Errorf("game 1 sent the migrated client %T after the hand-off", cm.msg)
			}
		}
	}
}
