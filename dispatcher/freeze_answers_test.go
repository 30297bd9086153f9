package dispatcher

import (
	"testing"

	"github.com/ecsworld/ecsworld/netproto"
)

// TestFreezingGameStillGetsItsAnswers: while a freezing game's link is up,
// replies to its own calls and lookups reach it (so it can finish them
// before its snapshot); calls to it wait in the queue; once its link is
// gone, its answers wait in the queue too and reach the restored game.
func TestFreezingGameStillGetsItsAnswers(t *testing.T) {
	cl := testCluster(1)
	d := start(t, cl, 1)
	game := join(t, d.addr, netproto.RoleGame, 1)
	other := join(t, d.addr, netproto.RoleGame, 2)
	e := entity(1, 1)
	game.send(&netproto.EntityCreated{Entity: e, Game: 1}, &netproto.FreezeRequest{Game: 1})
	game.expect(&netproto.FreezeAck{Dispatcher: 1, Game: 1})

	held := entityCall(2, entity(2, 1), e, 4, "Hit")
	other.send(held)
	waitFor(t, "the call to be queued", func() bool { return d.Stats().Queued == 1 })
	reply := &netproto.CallReply{CallID: 11, To: netproto.Peer{Role: netproto.RoleGame, ID: 1}}
	other.send(reply)
	game.expect(reply)
	game.send(&netproto.ServiceLookup{Name: "chat", CallID: 12})
	game.expect(&netproto.ServiceLookupReply{Name: "chat", CallID: 12})
	if s := d.Stats(); s.Queued != 1 {
		t.Fatalf("queued %d, want only the call to the game", s.Queued)
	}

	game.link.Close()
	waitFor(t, "the frozen game to leave", func() bool { return d.Stats().Games == 1 })
	late := &netproto.CallReply{CallID: 13, To: netproto.Peer{Role: netproto.RoleGame, ID: 1}}
	other.send(late)
	waitFor(t, "the late reply to be queued", func() bool { return d.Stats().Queued == 2 })
	back := join(t, d.addr, netproto.RoleGame, 1, restored)
	back.expect(held)
	back.expect(late)
	if s := d.Stats(); s.Queued != 0 || len(s.Dropped) != 0 {
		t.Errorf("after restore: queued %d dropped %v", s.Queued, s.Dropped)
	}
}
