package arena

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/game"
)

// State is the JSON of GET /debug/state. The bots package decodes the same
// shape (examples/test_client/bots.ServerState).
type State struct {
	Game    uint16            `json:"game"`
	Tick    uint64            `json:"tick"`
	Stats   game.Stats        `json:"stats"`
	App     map[string]uint64 `json:"app"`
	Avatars []AvatarState     `json:"avatars"`
}

// AvatarState is one avatar as the server holds it.
type AvatarState struct {
	ID        uint64         `json:"id"`
	Client    uint64         `json:"client"`
	Gate      uint16         `json:"gate"`
	Pos       [3]float32     `json:"pos"`
	Attrs     map[string]any `json:"attrs"`
	Neighbors []uint64       `json:"neighbors"`
}

func (w *World) appCounters() map[string]uint64 {
	n := &w.n
	return map[string]uint64{
		"logins": n.logins.Load(), "login_errors": n.loginErrors.Load(),
		"client_connects": n.clientConnects.Load(), "client_drops": n.clientDrops.Load(),
		"account_drops": n.accountDrops.Load(),
		"pings":         n.pings.Load(), "says": n.says.Load(), "hears": n.hears.Load(), "pokes": n.pokes.Load(),
		"travels": n.travels.Load(), "travel_errors": n.travelErrors.Load(), "arrivals": n.arrivals.Load(),
		"grants": n.grants.Load(), "chat_errors": n.chatErrors.Load(), "client_call_errors": n.clientCallErrs.Load(),
	}
}

// state reads the avatars on the tick goroutine (game.Do runs it in the
// inbox stage, so the AOI sets are those of the last AOI stage: what the
// last batch told the clients).
func (w *World) state(g *game.Game) State {
	st := State{Game: g.ID(), Tick: g.Stats().Tick}
	g.World().Each(func(e *ecs.Entity) bool {
		if e.Type().Name() != "Avatar" {
			return true
		}
		p := e.Pos()
		a := AvatarState{ID: uint64(e.ID()), Client: uint64(e.Client().Client), Gate: e.Client().Gate,
			Pos: [3]float32{p.X, p.Y, p.Z}, Attrs: map[string]any{}}
		for _, k := range []string{"name", "game", "pokes", "secret", "level"} {
			if v, ok := e.Attrs().Get(k); ok {
				a.Attrs[k] = v
			}
		}
		for _, n := range g.AOI().Neighbors(e) {
			a.Neighbors = append(a.Neighbors, uint64(n.ID()))
		}
		slices.Sort(a.Neighbors)
		st.Avatars = append(st.Avatars, a)
		return true
	})
	return st
}

// DebugHandler is the debug endpoint of game g (the game World.Setup
// runs in), for tests and demos; it has no authentication, so serve it on
// loopback:
//
//   - GET /debug/state: JSON (State) with the game's Stats, the example
//     game's own counters, and for every avatar its id, client, gate,
//     position, attributes and the ids of the entities its AOI holds
//     (systems.AOI.Neighbors: what its client must see), read on the tick
//     goroutine at a tick boundary, with the tick number.
//   - POST /debug/monsters?frozen=1 (or 0): monsters stop (or go on)
//     wandering, so a test can compare views at rest.
//
// ctx ending makes a pending request answer "stopping".
func (w *World) DebugHandler(ctx context.Context, g *game.Game) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/state", func(rw http.ResponseWriter, r *http.Request) {
		rctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		ch := make(chan State, 1)
		if !g.Do(rctx, func(g *game.Game) { ch <- w.state(g) }) {
			http.Error(rw, "game busy", http.StatusServiceUnavailable)
			return
		}
		var st State
		select {
		case st = <-ch:
		case <-rctx.Done():
			http.Error(rw, "game busy", http.StatusServiceUnavailable)
			return
		case <-ctx.Done():
			http.Error(rw, "stopping", http.StatusServiceUnavailable)
			return
		}
		st.Stats = g.Stats()
		st.App = w.appCounters()
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(st)
	})
	mux.HandleFunc("POST /debug/monsters", func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("frozen") {
		case "1", "true":
			w.frozen.Store(true)
		case "0", "false":
			w.frozen.Store(false)
		default:
			http.Error(rw, "frozen=1 or frozen=0", http.StatusBadRequest)
			return
		}
		rw.WriteHeader(http.StatusNoContent)
	})
	return mux
}
