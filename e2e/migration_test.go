package e2e

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/examples/test_client/bots"
)

// TestNeighboursMigrateTogether sends avatars that see each other to the
// other game at the same time. Each client must end with the view of its
// avatar's new AOI and no protocol error.
//
// Known to fail (reported): game A emits the destroys for what a migrating
// watcher saw there one tick after it sent MigrateData, on another stream
// than game B's creates, so a client can get B's CreateEntity of a
// neighbour that migrated too before A's DestroyEntity of it: a duplicate
// create, then a destroy that leaves the client without an entity its
// avatar's AOI holds. Set E2E_KNOWN_BUGS=1 to run it.
func TestNeighboursMigrateTogether(t *testing.T) {
	if os.Getenv("E2E_KNOWN_BUGS") == "" {
		t.Skip("known bug: concurrent migrations of neighbours (see the test's doc); E2E_KNOWN_BUGS=1 runs it")
	}
	c := startCluster(t, spec{Dispatchers: 1, Games: 2, Gates: 1, Monsters: 0})
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
}
