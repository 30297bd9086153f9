package aoi

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkDenseFlips times the dense pass on W3's population (10k
// entities of radius 100 in 3162×3162, square) when every entity jitters
// around where it was inserted by up to ±J per axis: nothing is
// re-referenced (J stays under half the skin), so what it measures is the
// walk over every upper list, and what each flip adds to it (J = 0: none).
// It reports the events a move.
func BenchmarkDenseFlips(b *testing.B) {
	for _, j := range []float32{0, 1, 3, 5, 10} {
		b.Run(fmt.Sprintf("jitter%g", j), func(b *testing.B) { denseFlips(b, j) })
	}
}

func denseFlips(b *testing.B, jitter float32) {
	const n, side, ticks = 10_000, 3162, 16
	g, err := NewGrid(Config{Shape: Square, MaxX: side, MaxZ: side, RadiusHint: 100})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x0, z0 := make([]float32, n), make([]float32, n)
	for i := range n {
		x0[i], z0[i] = rng.Float32()*side, rng.Float32()*side
		g.AddSilent(x0[i], z0[i], 100)
	}
	// The positions of ticks ticks, made before the timing.
	xs, zs := make([]float32, ticks*n), make([]float32, ticks*n)
	for k := range xs {
		xs[k] = x0[k%n] + (rng.Float32()*2-1)*jitter
		zs[k] = z0[k%n] + (rng.Float32()*2-1)*jitter
	}
	move := func(t int) int {
		for h := range Handle(n) {
			g.Move(h, xs[t*n+int(h)], zs[t*n+int(h)])
		}
		events := len(g.Events())
		g.ResetEvents()
		return events
	}
	for t := range 2 * staleAfter { // past the passes that keep the lower bits
		move(t % ticks)
	}
	events, t := 0, 0
	b.ResetTimer()
	for i := 0; i < b.N; i += n {
		events += move(t)
		t = (t + 1) % ticks
	}
	b.StopTimer()
	if g.Stats().Rerefs != 0 {
		b.Fatalf("%d re-references: the jitter reaches half the skin", g.Stats().Rerefs)
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/move")
}
