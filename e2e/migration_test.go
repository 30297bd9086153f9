package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/examples/test_client/bots"
)

// TestNeighboursMigrateTogether sends avatars that see each other to the
// other game at the same time. Each client must end with the view of its
// avatar's new AOI and no protocol error. The view goes with the avatar:
// the game it left sends its client nothing after the hand-off, and the
// new game first takes back what the client was shown, then shows its own
// view. Two dispatchers make the games' streams to the gate unordered
// with each other (the MigrateData is routed to keep them apart).
func TestNeighboursMigrateTogether(t *testing.T) {
	for _, dispatchers := range []int{1, 2} {
		t.Run(fmt.Sprintf("dispatchers=%d", dispatchers), func(t *testing.T) {
			c := startCluster(t, spec{Dispatchers: dispatchers, Games: 2, Gates: 1, Monsters: 0})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			all := c.connectBots(ctx, "tcp", "tcp", 8, []int{0}, bots.Options{})
			states := c.states(ctx)
			gameOf := map[uint64]uint16{}
			for _, s := range states {
				for _, a := range s.Avatars {
					gameOf[a.ID] = s.Game
				}
			}
			var wg sync.WaitGroup
			for _, b := range all {
				to := 3 - gameOf[b.Avatar()]
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := b.Travel(ctx, int(to)); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			vctx, vcancel := context.WithTimeout(ctx, 10*time.Second)
			if err := bots.WaitViewsMatch(vctx, all, c.debug); err != nil {
				t.Error(err)
			}
			vcancel()
			checkProblems(t, all)
		})
	}
}
