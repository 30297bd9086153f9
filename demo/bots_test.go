package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/examples/test_game/arena"
)

// TestExampleGameWithBots runs the demo as `ecsworld demo` does (the
// example game, bots) with a few bots: they all log in, and the map's
// observer sees their avatars among the monsters, moving.
func TestExampleGameWithBots(t *testing.T) {
	const n = 8
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	d, err := Start(ctx, Options{Game: arena.Setup, Bots: n})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := d.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}()
	waitFor(t, "the bots to log in", func() bool { return d.BotsIn() == n })
	ws := "ws" + strings.TrimPrefix(strings.SplitN(d.MapURL, "/?", 2)[0], "http") + "/ws"
	first := avatars(t, ctx, ws, d.Token())
	if len(first) != n {
		t.Fatalf("the map sees %d avatars, want %d", len(first), n)
	}
	// Bots walk 0.5 units per move: within a few seconds one has moved.
	deadline := time.Now().Add(testTimeout)
	for {
		now := avatars(t, ctx, ws, d.Token())
		moved := 0
		for id, p := range now {
			if q, ok := first[id]; ok && q != p {
				moved++
			}
		}
		if moved > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no avatar moved on the map")
		}
		time.Sleep(300 * time.Millisecond)
	}
	rows := d.Status()
	if len(rows) != 3 || rows[1].Process != "game.1" || rows[1].Entities == "-" {
		t.Errorf("status rows %+v", rows)
	}
}

// avatars is where one whole view of the arena puts each avatar.
func avatars(t *testing.T, ctx context.Context, url, token string) map[uint64][2]float32 {
	t.Helper()
	recsByType := map[uint64][2]float32{}
	for _, v := range watchViews(t, ctx, url, token, "Arena") {
		for _, r := range v.recs {
			if v.types[r.Type] == "Avatar" {
				recsByType[r.Entity] = [2]float32{r.X, r.Z}
			}
		}
	}
	return recsByType
}
