package game

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/netproto"
)

// TestFreezeFinishesOwnCalls: a game freezing with a call of its own in
// flight waits for the reply (the dispatchers let it through) and runs the
// callback before the snapshot; a call whose reply does not come within
// the quiescing ticks fails with ErrFreezing. Either way the callback runs
// once and the game freezes.
func TestFreezeFinishesOwnCalls(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply bool
	}{
		{"reply comes", true},
		{"reply never comes", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
			defer cancel()
			fd, _, g, done := startFreezable(t, ctx)

			remote := ecs.EntityID(1<<48 | 999) // made here, now elsewhere: a remote call
			outcome := make(chan error, 2)
			if err := do(t, g, func(g *Game) error {
				return g.CallWithReply(0, remote, "Ping", func(err error) { outcome <- err }, 1)
			}); err != nil {
				t.Fatal(err)
			}
			ce := fd.expect(t, 1, "the call", func(m netproto.Message) bool {
				c, ok := m.(*netproto.CallEntity)
				return ok && c.Target == uint64(remote)
			}).(*netproto.CallEntity)

			g.RequestFreeze()
			fd.expect(t, 1, "FreezeRequest", func(m netproto.Message) bool {
				_, ok := m.(*netproto.FreezeRequest)
				return ok
			})
			fd.send(1, &netproto.FreezeAck{Dispatcher: 1, Game: 1})
			if tc.reply {
				// A few ticks with the reply outstanding: no freeze yet.
				select {
				case err := <-done:
					t.Fatalf("froze with its call unanswered: Run = %v", err)
				case <-time.After(50 * time.Millisecond):
				}
				fd.send(1, &netproto.CallReply{CallID: ce.CallID, To: netproto.Peer{Role: netproto.RoleGame, ID: 1}})
			}
			select {
			case err := <-done:
				if !errors.Is(err, ErrFrozen) {
					t.Fatalf("Run = %v, want ErrFrozen", err)
				}
			case <-time.After(testTimeout):
				t.Fatal("the game did not freeze")
			}
			select {
			case err := <-outcome:
				switch {
				case tc.reply && err != nil:
					t.Errorf("callback got %v, want the reply's success", err)
				case !tc.reply && !errors.Is(err, ErrFreezing):
					t.Errorf("callback got %v, want ErrFreezing", err)
				}
			default:
				t.Fatal("the callback did not run before the freeze")
			}
			if len(outcome) > 0 {
				t.Errorf("the callback ran twice")
			}
		})
	}
}
