package snapshot_test

import (
	"testing"

	"github.com/ecsworld/ecsworld/ecs"
)

// TestRestoreKeepsScalarsPacked: a restored entity whose attributes are
// all scalars keeps them packed; the world then snapshots to the same
// bytes whether its attributes were used since or not (the writer copies
// packed values as they are).
func TestRestoreKeepsScalarsPacked(t *testing.T) {
	s := newSchema(t)
	g := randWorld(t, s, 11, 200)
	a := encode(t, g)
	r, err := decode(t, a, s.reg)
	if err != nil {
		t.Fatal(err)
	}
	packed, eager := 0, 0
	r.World.Each(func(e *ecs.Entity) bool {
		m := e.Attrs()
		if m.Len() == 0 {
			return true
		}
		scalars := true
		orig, _ := g.w.Entity(e.ID())
		orig.Attrs().Range(func(_ string, v any) bool {
			switch v.(type) {
			case *ecs.MapAttr, *ecs.ListAttr:
				scalars = false
			}
			return true
		})
		if _, ok := m.Packed(); ok != scalars {
			t.Fatalf("%s: packed %v, all scalars %v", e, ok, scalars)
		}
		if scalars {
			packed++
		} else {
			eager++
		}
		return true
	})
	if packed == 0 || eager == 0 {
		t.Fatalf("%d packed and %d decoded maps: the world tests only one kind", packed, eager)
	}
	g2 := restoreGame(t, r)
	g2.tick = g.tick
	if b := encode(t, g2); string(a) != string(b) {
		t.Fatalf("snapshot of the restored, still packed world differs (%d vs %d bytes)", len(a), len(b))
	}
	r.World.Each(func(e *ecs.Entity) bool {
		e.Attrs().Range(func(string, any) bool { return true })
		if _, ok := e.Attrs().Packed(); ok {
			t.Fatalf("%s: still packed after Range", e)
		}
		return true
	})
	if b := encode(t, g2); string(a) != string(b) {
		t.Fatalf("snapshot of the restored world, attributes decoded, differs (%d vs %d bytes)", len(a), len(b))
	}
}
