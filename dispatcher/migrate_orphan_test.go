package dispatcher

import (
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/netproto"
)

// TestMigrationSourceDiesAfterItsData: the source game dies after its
// MigrateData left through another dispatcher (so this one never saw it).
// The hold waits for the destination: its MigrateDone gets the held call
// and the route, and nobody gets an error. Without a MigrateDone, the hold
// is released after the grace and the call is answered with an error.
func TestMigrationSourceDiesAfterItsData(t *testing.T) {
	for _, tc := range []struct {
		name string
		done bool // the destination reports MigrateDone
	}{
		{"destination ends it", true},
		{"destination never does", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := testCluster(1)
			d := start(t, cl, 1, WithCheckInterval(10*time.Millisecond))
			gameA := join(t, d.addr, netproto.RoleGame, 1)
			gameB := join(t, d.addr, netproto.RoleGame, 2)
			gate := join(t, d.addr, netproto.RoleGate, 1)
			e := entity(1, 5)
			gameA.send(&netproto.EntityCreated{Entity: e, Game: 1}, &netproto.MigrateRequest{Entity: e, From: 1, To: 2})
			gameA.expect(&netproto.MigrateHold{Entity: e})
			c := clientCall(1, entity(1, 100), e, 7, "Say")
			gate.send(c)
			waitFor(t, "the call to be held", func() bool { return d.Stats().Queued == 1 })
			gameA.link.Close()
			waitFor(t, "the source to be gone", func() bool { return d.Stats().Games == 1 })
			if !tc.done {
				r, ok := gate.recv().(*netproto.CallReply)
				if !ok || r.CallID != 7 || r.Error == "" {
					t.Fatalf("want an error reply for the released call, got %#v", r)
				}
				if s := d.Stats(); s.Queued != 0 {
					t.Errorf("queued %d after the release", s.Queued)
				}
				return
			}
			gameB.send(&netproto.MigrateDone{Entity: e, Game: 2})
			gameB.expect(c)
			if g, ok := d.Route(e); !ok || g != 2 {
				t.Errorf("route %d, %v; want 2", g, ok)
			}
			if s := d.Stats(); s.Queued != 0 || len(s.Dropped) != 0 {
				t.Errorf("queued %d, dropped %v", s.Queued, s.Dropped)
			}
		})
	}
}
