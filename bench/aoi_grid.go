package bench

import (
	"fmt"

	"github.com/ecsworld/ecsworld/systems/aoi"
)

// GridAOI is ours: systems/aoi with the square shape, radius AOIRadius, its
// default cell size and the world square as bounds. Ids are handles: a fresh
// grid hands out 0..n-1 in insertion order.
type GridAOI struct {
	g      *aoi.Grid
	events []AOIEvent
}

// NewGridAOI returns an empty adapter; Init builds the grid.
func NewGridAOI() *GridAOI { return &GridAOI{} }

// Init builds the grid over the world square and adds every entity.
func (a *GridAOI) Init(side float32, x, z []float32) {
	g, err := aoi.NewGrid(aoi.Config{Shape: aoi.Square, MaxX: side, MaxZ: side, RadiusHint: AOIRadius})
	if err != nil {
		panic(fmt.Sprintf("bench: grid config: %v", err)) // static config: a bug, not input
	}
	a.g = g
	for i := range x {
		if h := g.Add(x[i], z[i], AOIRadius); h != aoi.Handle(i) {
			panic(fmt.Sprintf("bench: fresh grid returned handle %d for entity %d", h, i))
		}
	}
	g.ResetEvents()
}

// Grid exposes the grid (tests).
func (a *GridAOI) Grid() *aoi.Grid { return a.g }

// Move moves the handle.
func (a *GridAOI) Move(id int32, x, z float32) { a.g.Move(aoi.Handle(id), x, z) }

// Update tests the pairs of the entities moved since the last Update (the
// grid does it on the next query anyway), so the measured time includes
// all the work of the tick.
func (a *GridAOI) Update() { a.g.Flush() }

// Neighbours appends id's interest set.
func (a *GridAOI) Neighbours(id int32, dst []int32) []int32 {
	for _, h := range a.g.Interest(aoi.Handle(id)) {
		dst = append(dst, int32(h))
	}
	return dst
}

// Events converts the grid's buffered events (a copy: tests use it per tick,
// the benchmark only counts them with EventCount).
func (a *GridAOI) Events() []AOIEvent {
	a.events = a.events[:0]
	for _, e := range a.g.Events() {
		a.events = append(a.events, AOIEvent{Watcher: int32(e.Watcher), Target: int32(e.Target), Enter: e.Enter})
	}
	return a.events
}

// EventCount is the number of buffered events.
func (a *GridAOI) EventCount() int { return len(a.g.Events()) }

// ResetEvents empties the grid's buffer.
func (a *GridAOI) ResetEvents() { a.g.ResetEvents() }
