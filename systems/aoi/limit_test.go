package aoi

import "testing"

// TestFullGrid checks that a grid at its entity limit refuses an Add with an
// invalid handle, touching nothing, and takes one again after a Remove (the
// dead slot compacted away).
func TestFullGrid(t *testing.T) {
	g, err := NewGrid(Config{MaxX: 100, MaxZ: 100})
	if err != nil {
		t.Fatal(err)
	}
	g.maxSlots = 3
	var hs []Handle
	for i := range 3 {
		hs = append(hs, g.Add(float32(10*i), 0, 50))
	}
	g.ResetEvents()
	if h := g.Add(50, 50, 50); h != -1 || g.Valid(h) || g.Len() != 3 {
		t.Fatalf("Add on a full grid = %d (valid %v), Len %d; want -1, invalid, 3", h, g.Valid(h), g.Len())
	}
	if ev := g.Events(); len(ev) != 0 {
		t.Fatalf("a refused Add emitted %v", ev)
	}
	g.Remove(hs[1])
	g.ResetEvents()
	h := g.Add(15, 10, 50)
	if !g.Valid(h) || g.Len() != 3 {
		t.Fatalf("Add after a Remove = %d (valid %v), Len %d; want a live handle, 3", h, g.Valid(h), g.Len())
	}
	if got := len(g.Interest(h)); got != 2 {
		t.Fatalf("the new entity sees %d, want 2", got)
	}
}
