package systems

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/ecs"
)

// newSyncEnvOn is newSyncEnv for game id (its own EntityIDs).
func newSyncEnvOn(t *testing.T, game uint16) *syncEnv {
	t.Helper()
	reg := ecs.NewRegistry()
	space := ecs.NewEntityType("syncSpace").Space()
	hero := ecs.NewEntityType("syncHero").AOI(10).
		Attr("name", ecs.AttrAllClients).
		Attr("gold", ecs.AttrOwnClient)
	for _, typ := range []*ecs.EntityType{space, hero} {
		if err := reg.RegisterType(typ); err != nil {
			t.Fatal(err)
		}
	}
	env := &syncEnv{now: time.Unix(1700000000, 0)}
	env.w = ecs.NewWorld(reg, ecs.WorldOptions{IDs: ecs.NewIDGen(game, nil)})
	env.aoi = NewAOI(env.w, AOIOptions{Workers: 1})
	env.sync = NewSync(env.w, SyncOptions{AOI: env.aoi, SweepEvery: -1})
	env.sched = NewScheduler(env.w, Stages{Movement: NewMovement(env.w), AOI: env.aoi, Sync: env.sync},
		SchedulerOptions{Interval: 50 * time.Millisecond})
	s, err := env.w.Create("syncSpace", ecs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env.space = s
	return env
}

// clientView is what one client holds, with the client library's strict
// checks: a create of an entity it holds, or a destroy of one it does not,
// is a protocol error.
type clientView struct {
	id   ecs.ClientID
	held map[ecs.EntityID]bool
}

func (c *clientView) apply(out *SyncOutput) error {
	for _, f := range out.Frames {
		if !slices.Contains(flatten(f.To), c.id) {
			continue
		}
		switch f.Kind {
		case SyncCreate:
			if c.held[f.ID] {
				return fmt.Errorf("duplicate create of %v", f.ID)
			}
			c.held[f.ID] = true
		case SyncDestroy:
			if !c.held[f.ID] {
				return fmt.Errorf("destroy of %v, not held", f.ID)
			}
			delete(c.held, f.ID)
		case SyncAttrs:
			if !c.held[f.ID] {
				return fmt.Errorf("delta for %v, not held", f.ID)
			}
		}
	}
	for _, p := range out.Positions {
		if slices.Contains(flatten(p.To), c.id) && !c.held[p.ID] {
			return fmt.Errorf("position of %v, not held", p.ID)
		}
	}
	return nil
}

// migrateIn recreates e of game a on game b's world, as restoreMigrant does.
func migrateIn(t *testing.T, b *syncEnv, e *ecs.Entity) *ecs.Entity {
	t.Helper()
	n, err := b.w.Create("syncHero", ecs.CreateOptions{ID: e.ID(), Pos: e.Pos(), Space: b.space,
		Attrs: e.Attrs().ToMap(), Client: e.Client(), Restore: true})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSyncHandOverView migrates a watched avatar and a neighbour it sees
// from game A to game B, the neighbour in the same tick or later: the
// client, fed A's frames and then B's, never sees a duplicate create or a
// destroy of something it does not hold, and ends with exactly B's view.
func TestSyncHandOverView(t *testing.T) {
	for _, tc := range []struct {
		name          string
		neighbourLate int // ticks of B between the avatar's and the neighbour's arrival
	}{
		{"together", 0},
		{"neighbour first", -1},
		{"neighbour later", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newSyncEnvOn(t, 1), newSyncEnvOn(t, 2)
			y := a.hero(t, 0, map[string]any{"name": "y", "gold": 1})
			n1 := a.hero(t, 4, map[string]any{"name": "n1"}) // migrates too
			n2 := a.hero(t, 5, map[string]any{"name": "n2"}) // stays on A
			a.bind(y, 1, 11)
			a.bind(n2, 1, 12)
			c := &clientView{id: 11, held: map[ecs.EntityID]bool{}}
			if err := c.apply(a.tick()); err != nil {
				t.Fatal(err)
			}
			if want := map[ecs.EntityID]bool{y.ID(): true, n1.ID(): true, n2.ID(): true}; !maps.Equal(c.held, want) {
				t.Fatalf("client holds %v on A, want %v", c.held, want)
			}
			z := b.hero(t, 3, map[string]any{"name": "z"})
			b.tick()

			// Hand-off on A: y with its view, and n1, in the same tick.
			v := a.sync.Migrating(y)
			if want := (SyncView{Held: true, Shown: []ecs.EntityID{n1.ID(), n2.ID()}}); !reflect.DeepEqual(v, want) {
				t.Fatalf("view = %+v, want %+v", v, want)
			}
			n1.Attrs().Set("name", "n1'") // a change y's client must not get from A
			for _, e := range []*ecs.Entity{y, n1} {
				if err := a.w.Remove(e); err != nil {
					t.Fatal(err)
				}
			}
			for range 3 {
				out := a.tick()
				for _, f := range out.Frames {
					if slices.Contains(flatten(f.To), 11) {
						t.Errorf("A sent %v of %v to the migrated client", f.Kind, f.ID)
					}
				}
				for _, p := range out.Positions {
					if slices.Contains(flatten(p.To), 11) {
						t.Errorf("A sent a position of %v to the migrated client", p.ID)
					}
				}
				if err := c.apply(out); err != nil {
					t.Fatal(err)
				}
			}
			if a.sync.Sees(y.ID(), n2.ID()) || a.sync.NumWatchers() != 1 {
				t.Errorf("A still follows y: %d watchers", a.sync.NumWatchers())
			}

			// Arrival on B.
			if tc.neighbourLate < 0 {
				migrateIn(t, b, n1)
				if err := c.apply(b.tick()); err != nil {
					t.Fatal(err)
				}
			}
			yb := migrateIn(t, b, y)
			b.sync.Adopt(yb, v)
			if tc.neighbourLate == 0 {
				migrateIn(t, b, n1)
			}
			out := b.tick()
			if len(out.Bindings) != 1 || !out.Bindings[0].Adopted {
				t.Errorf("bindings = %+v, want y adopted", out.Bindings)
			}
			if f := findFrame(out, SyncCreate, y.ID()); f != nil {
				t.Errorf("B sent the player's own entity again: %+v", f)
			}
			if err := c.apply(out); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < tc.neighbourLate; i++ {
				if i == tc.neighbourLate-1 {
					migrateIn(t, b, n1)
				}
				if err := c.apply(b.tick()); err != nil {
					t.Fatal(err)
				}
			}
			want := map[ecs.EntityID]bool{y.ID(): true, n1.ID(): true, z.ID(): true}
			if !maps.Equal(c.held, want) {
				t.Errorf("client holds %v, want %v", c.held, want)
			}
			for id := range want {
				if id != y.ID() && !b.sync.Sees(y.ID(), id) {
					t.Errorf("B does not know the client holds %v", id)
				}
			}
		})
	}
}

// TestSyncAdoptNotHeld binds as new an entity whose client never got it
// from the game it left: IsPlayer, then its neighbours.
func TestSyncAdoptNotHeld(t *testing.T) {
	b := newSyncEnvOn(t, 2)
	z := b.hero(t, 3, nil)
	e, err := b.w.Create("syncHero", ecs.CreateOptions{ID: ecs.MakeEntityID(1, 99), Space: b.space,
		Client: ecs.ClientBinding{Gate: 1, Client: 11}, Restore: true})
	if err != nil {
		t.Fatal(err)
	}
	b.sync.Adopt(e, SyncView{})
	out := b.tick()
	want := []sent{{SyncCreate, e.ID(), true, []ecs.ClientID{11}}, {SyncCreate, z.ID(), false, []ecs.ClientID{11}}}
	if got := frames(out); !reflect.DeepEqual(got, want) {
		t.Errorf("frames = %+v, want %+v", got, want)
	}
	if len(out.Bindings) != 1 || out.Bindings[0].Adopted {
		t.Errorf("bindings = %+v, want one not adopted", out.Bindings)
	}
}
