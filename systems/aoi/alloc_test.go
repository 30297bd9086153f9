package aoi

import (
	"math/rand/v2"
	"testing"
)

// TestSteadyStateAllocs checks that, once the lists have found their size,
// a tick of small moves of every entity (the update, the events and their
// reset) allocates nothing: lists and cells keep their room, and the event
// buffer its capacity.
func TestSteadyStateAllocs(t *testing.T) {
	for _, shape := range []Shape{Square, Circle} {
		t.Run(shape.String(), func(t *testing.T) {
			g, err := NewGrid(Config{Shape: shape, MaxX: 1000, MaxZ: 1000, RadiusHint: 50})
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			const n = 2000
			for range n {
				g.Add(rng.Float32()*1000, rng.Float32()*1000, 50)
			}
			tick := func() {
				for h := range Handle(n) {
					x, z := g.Pos(h)
					g.Move(h, x+rng.Float32()*4-2, z+rng.Float32()*4-2)
				}
				g.ResetEvents()
			}
			for range 40 { // warm up: the first compaction, lists and buffers at size
				tick()
			}
			if a := testing.AllocsPerRun(10, tick); a != 0 {
				t.Errorf("%v allocations a tick of %d moves, want 0 (stats %+v)", a, n, g.Stats())
			}
		})
	}
}
