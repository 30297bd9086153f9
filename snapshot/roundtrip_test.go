package snapshot_test

import (
	"cmp"
	"slices"
	"testing"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/systems"
)

// TestRoundTrip is the property test: random worlds → snapshot → new
// world are equal in every field, timers included, and one tick after the
// restore every entity's AOI neighbours are those it had before the
// freeze, with no AOI event (no create/destroy storm to clients).
func TestRoundTrip(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		s := newSchema(t)
		g := randWorld(t, s, seed, 40+int(seed)*25)
		before := map[ecs.EntityID][]ecs.EntityID{}
		g.w.Each(func(e *ecs.Entity) bool {
			before[e.ID()] = neighbourIDs(g.aoi, e)
			return true
		})
		wantTimers := g.timers.All()
		b := encode(t, g)

		r, err := decode(t, b, s.reg)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if len(r.Warnings) != 0 {
			t.Errorf("seed %d: warnings %v", seed, r.Warnings)
		}
		if r.World.Len() != g.w.Len() || r.World.NumSpaces() != g.w.NumSpaces() {
			t.Fatalf("seed %d: %d entities, %d spaces; want %d, %d", seed, r.World.Len(), r.World.NumSpaces(), g.w.Len(), g.w.NumSpaces())
		}
		g.w.Each(func(e *ecs.Entity) bool {
			e2, ok := r.World.Entity(e.ID())
			if !ok {
				t.Fatalf("seed %d: %s not restored", seed, e)
			}
			if d := entityDiff(s.reg, e, e2); d != "" {
				t.Fatalf("seed %d: %s: %s", seed, e, d)
			}
			return true
		})
		if r.Header.GameID != 7 || r.Header.Tick != g.tick || r.Header.Time().Unix() != 1_800_000_000 {
			t.Errorf("seed %d: header %+v", seed, r.Header)
		}
		if r.Header.LastID != g.w.IDs().Last() || r.World.IDs().Last() < g.w.IDs().Last() {
			t.Errorf("seed %d: IDGen not resumed: %d, want %d", seed, r.World.IDs().Last(), g.w.IDs().Last())
		}

		g2 := restoreGame(t, r)
		gotTimers := g2.timers.All()
		byID := func(a, b systems.Timer) int { return cmp.Compare(a.ID, b.ID) }
		slices.SortFunc(wantTimers, byID)
		slices.SortFunc(gotTimers, byID)
		if !slices.EqualFunc(wantTimers, gotTimers, timerEqual) {
			t.Fatalf("seed %d: timers\n%v\nwant\n%v", seed, gotTimers, wantTimers)
		}
		if g2.timers.NextID() != g.timers.NextID() {
			t.Errorf("seed %d: next timer id %d, want %d", seed, g2.timers.NextID(), g.timers.NextID())
		}
		if len(wantTimers) == 0 {
			t.Errorf("seed %d: no timers in flight: the test proves nothing about them", seed)
		}

		g2.step(t) // the first tick of the new binary
		if ev := g2.aoi.Events(); len(ev) != 0 {
			t.Fatalf("seed %d: %d AOI events on the first tick after restore, want none (first %+v)", seed, len(ev), ev[0])
		}
		r.World.Each(func(e *ecs.Entity) bool {
			if got := neighbourIDs(g2.aoi, e); !slices.Equal(got, before[e.ID()]) {
				t.Fatalf("seed %d: %s sees %v after restore, %v before", seed, e, got, before[e.ID()])
			}
			return true
		})
	}
}

func timerEqual(a, b systems.Timer) bool {
	return a.ID == b.ID && a.Entity == b.Entity && a.Method == b.Method && string(a.Args) == string(b.Args) &&
		a.Due == b.Due && a.Repeat == b.Repeat
}

// TestDeterministic: the same world gives the same bytes.
func TestDeterministic(t *testing.T) {
	s := newSchema(t)
	g := randWorld(t, s, 99, 100)
	if a, b := encode(t, g), encode(t, g); string(a) != string(b) {
		t.Fatal("two snapshots of one world differ")
	}
}

// TestSnapshotOfRestore: a restored world snapshots to the same bytes as
// the original (nothing is lost or reordered on the way).
func TestSnapshotOfRestore(t *testing.T) {
	s := newSchema(t)
	g := randWorld(t, s, 5, 150)
	a := encode(t, g)
	r, err := decode(t, a, s.reg)
	if err != nil {
		t.Fatal(err)
	}
	g2 := restoreGame(t, r)
	g2.tick = g.tick
	if b := encode(t, g2); string(a) != string(b) {
		t.Fatalf("snapshot of the restored world differs (%d vs %d bytes)", len(a), len(b))
	}
}
