package snapshot_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/snapshot"
)

// TestTimersOfGoneEntities: timers whose entity is not in the world (it
// was destroyed after they were listed) are counted as dropped and not
// written; the others, several to an entity, in any order, are counted
// and written.
func TestTimersOfGoneEntities(t *testing.T) {
	s := newSchema(t)
	w := ecs.NewWorld(s.reg, worldOpts())
	zone, err := w.Create("zone", ecs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ents []*ecs.Entity
	for range 6 {
		e, err := w.Create("mob", ecs.CreateOptions{Space: zone})
		if err != nil {
			t.Fatal(err)
		}
		ents = append(ents, e)
	}
	gone, err := w.Create("mob", ecs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	goneID := gone.ID()
	w.Destroy(gone)
	tm := func(id uint64, e ecs.EntityID) snapshot.Timer {
		return snapshot.Timer{ID: id, Entity: e, Method: "Ping", Due: 10}
	}
	st := &snapshot.State{GameID: 7, Tick: 1, NextTimerID: 20, Timers: []snapshot.Timer{
		tm(9, ents[5].ID()), tm(1, ents[0].ID()), tm(2, goneID), tm(3, ents[2].ID()),
		tm(4, ents[0].ID()), tm(5, ecs.MakeEntityID(7, 1<<40)), tm(6, ents[3].ID()), tm(7, goneID),
	}}
	wr, err := snapshot.NewWriter(snapshot.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	info, err := wr.Encode(&buf, w, st)
	if err != nil {
		t.Fatal(err)
	}
	if info.Timers != 5 || info.DroppedTimers != 3 {
		t.Fatalf("Timers %d, DroppedTimers %d; want 5 and 3", info.Timers, info.DroppedTimers)
	}
	r, err := decode(t, buf.Bytes(), s.reg)
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, x := range r.Timers {
		ids = append(ids, x.ID)
	}
	slices.Sort(ids)
	if want := []uint64{1, 3, 4, 6, 9}; !slices.Equal(ids, want) {
		t.Fatalf("restored timers %v, want %v", ids, want)
	}
}
