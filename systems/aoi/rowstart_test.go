package aoi

import (
	"math"
	"testing"
)

// TestRowStart checks the row boundary table against its definition, also
// where a boundary falls on 0 (float32 steps are tiny there: a search ulp by
// ulp would not end in reasonable time).
func TestRowStart(t *testing.T) {
	for _, cfg := range []Config{
		{MinX: -200, MinZ: -200, MaxX: 200, MaxZ: 200, RadiusHint: 0},
		{MinX: -200, MinZ: -200, MaxX: 200, MaxZ: 200, CellSize: 5},
		{MinX: 0, MinZ: -1000, MaxX: 10, MaxZ: 1000, CellSize: 0.3},
		{MinX: 0, MinZ: 1e6, MaxX: 10, MaxZ: 1e6 + 100, CellSize: 0.7},
	} {
		g, err := NewGrid(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for j := int32(1); j < g.rowsT; j++ {
			z := g.rowZ[j]
			if g.rowT(z) < j {
				t.Fatalf("%+v: row %d: rowT(rowZ) = %d", cfg, j, g.rowT(z))
			}
			if below := math.Nextafter32(z, float32(math.Inf(-1))); g.rowT(below) >= j {
				t.Fatalf("%+v: row %d: rowZ %v is not the least (rowT(%v) = %d)", cfg, j, z, below, g.rowT(below))
			}
		}
	}
	for _, f := range []float32{float32(math.Inf(-1)), -1e30, -1, -1e-45, 0, 1e-45, 1, 3.5, float32(math.Inf(1))} {
		if got := fromOrderKey(orderKey(f)); got != f {
			t.Fatalf("order key round trip of %v gave %v", f, got)
		}
	}
}
