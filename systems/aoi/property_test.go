package aoi

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// model is the brute-force reference: every pair tested, nothing clever.
type model struct {
	shape Shape
	x, z  []float32
	r     []float32
	alive []bool
}

func (m *model) set(h Handle, x, z, r float32) {
	for int(h) >= len(m.x) {
		m.x, m.z, m.r, m.alive = append(m.x, 0), append(m.z, 0), append(m.r, 0), append(m.alive, false)
	}
	m.x[h], m.z[h], m.r[h], m.alive[h] = refCoord(x), refCoord(z), refRadius(r), true
}

// refCoord and refRadius restate the documented sanitizing.
func refCoord(v float32) float32 {
	if math.IsNaN(float64(v)) {
		return 0
	}
	return float32(math.Max(-MaxCoord, math.Min(MaxCoord, float64(v))))
}

func refRadius(r float32) float32 {
	if math.IsNaN(float64(r)) || r <= 0 {
		return 0
	}
	return float32(math.Min(MaxRadius, float64(r)))
}

func (m *model) sees(w, t Handle) bool {
	if w == t || !m.alive[w] || !m.alive[t] || m.r[w] <= 0 {
		return false
	}
	dx, dz, r := m.x[t]-m.x[w], m.z[t]-m.z[w], m.r[w]
	if m.shape == Square {
		return float32(math.Abs(float64(dx))) <= r && float32(math.Abs(float64(dz))) <= r
	}
	return float32(dx*dx)+float32(dz*dz) <= float32(r*r)
}

func (m *model) interest(w Handle) []Handle {
	var out []Handle
	for t := range m.x {
		if m.sees(w, Handle(t)) {
			out = append(out, Handle(t))
		}
	}
	return out
}

func (m *model) watchers(t Handle) []Handle {
	var out []Handle
	for w := range m.x {
		if m.sees(Handle(w), t) {
			out = append(out, Handle(w))
		}
	}
	return out
}

func sorted(s []Handle) []Handle {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// replay rebuilds the pair set from the event stream alone.
type replay map[[2]Handle]bool

func (rp replay) apply(t *testing.T, evs []Event) {
	t.Helper()
	for _, e := range evs {
		k := [2]Handle{e.Watcher, e.Target}
		if e.Enter {
			if rp[k] {
				t.Fatalf("enter %v->%v while already in", e.Watcher, e.Target)
			}
			rp[k] = true
		} else {
			if !rp[k] {
				t.Fatalf("leave %v->%v while not in", e.Watcher, e.Target)
			}
			delete(rp, k)
		}
	}
}

func check(t *testing.T, g *Grid, m *model, rp replay, step string) {
	t.Helper()
	n := 0
	pairs := 0
	for h := range m.x {
		hh := Handle(h)
		if !m.alive[h] {
			if g.Valid(hh) || g.Interest(hh) != nil || g.Watchers(hh) != nil {
				t.Fatalf("%s: dead handle %d still answers", step, h)
			}
			continue
		}
		n++
		if x, z := g.Pos(hh); x != m.x[h] || z != m.z[h] {
			t.Fatalf("%s: Pos(%d) = %v,%v want %v,%v", step, h, x, z, m.x[h], m.z[h])
		}
		if r := g.Radius(hh); r != m.r[h] {
			t.Fatalf("%s: Radius(%d) = %v want %v", step, h, r, m.r[h])
		}
		gi, wi := sorted(g.Interest(hh)), m.interest(hh)
		if !slices.Equal(gi, wi) {
			t.Fatalf("%s: Interest(%d) = %v want %v (pos %v,%v r %v)", step, h, gi, wi, m.x[h], m.z[h], m.r[h])
		}
		gw, ww := sorted(g.Watchers(hh)), m.watchers(hh)
		if !slices.Equal(gw, ww) {
			t.Fatalf("%s: Watchers(%d) = %v want %v", step, h, gw, ww)
		}
		for _, o := range wi {
			pairs++
			if !rp[[2]Handle{hh, o}] {
				t.Fatalf("%s: replayed events miss %d->%d", step, h, o)
			}
		}
	}
	if g.Len() != n {
		t.Fatalf("%s: Len = %d want %d", step, g.Len(), n)
	}
	if len(rp) != pairs {
		t.Fatalf("%s: replayed events hold %d pairs, want %d", step, len(rp), pairs)
	}
}

// TestProperty drives random grids through random operations and checks,
// after every step, the exact sets against brute force and the event stream
// against the sets.
func TestProperty(t *testing.T) {
	configs := 150
	if testing.Short() {
		configs = 30
	}
	for seed := range configs {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runProperty(t, uint64(seed)) })
	}
}

func runProperty(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	cfg := Config{Shape: Shape(rng.IntN(2))}
	cfg.MinX = float32(rng.IntN(1000) - 500)
	cfg.MinZ = float32(rng.IntN(1000) - 500)
	cfg.MaxX = cfg.MinX + float32(1+rng.IntN(600))
	cfg.MaxZ = cfg.MinZ + float32(1+rng.IntN(600))
	switch rng.IntN(3) {
	case 0: // default from the hint
		cfg.RadiusHint = float32(rng.IntN(100))
	case 1:
		cfg.CellSize = float32(1 + rng.IntN(40))
	case 2:
		cfg.CellSize = rng.Float32()*300 + 0.5
	}
	switch rng.IntN(4) { // the default skin, one that re-references on almost every move, a wide one
	case 1:
		cfg.Skin = 0.5
	case 2:
		cfg.Skin = rng.Float32() * 20
	case 3:
		cfg.Skin = 150
	}
	g, err := NewGrid(cfg)
	if err != nil {
		t.Fatalf("NewGrid(%+v): %v", cfg, err)
	}
	g.vector = g.vector && seed%3 != 0 // a third of the grids take the Go scanners
	cs := g.CellSize()
	m := &model{shape: cfg.Shape}
	rp := replay{}
	w, d := cfg.MaxX-cfg.MinX, cfg.MaxZ-cfg.MinZ
	radii := []float32{0, 1, cs, cs / 2, 25, 60, 60, 100, 300}
	uniform := rng.IntN(3) == 0
	radius := func() float32 {
		if uniform {
			return 60
		}
		if rng.IntN(4) == 0 {
			return rng.Float32() * 150
		}
		return radii[rng.IntN(len(radii))]
	}
	var live []Handle
	anyLive := func() Handle { return live[rng.IntN(len(live))] }
	// point picks a position: mostly inside, sometimes outside the bounds,
	// on cell lines, on another entity or exactly at its radius.
	point := func() (float32, float32) {
		switch k := rng.IntN(20); {
		case k == 0:
			return cfg.MinX - rng.Float32()*400, cfg.MaxZ + rng.Float32()*400
		case k == 1:
			return cfg.MaxX + rng.Float32()*100, cfg.MinZ + rng.Float32()*d
		case k == 2:
			return cfg.MinX + float32(rng.IntN(8))*cs, cfg.MinZ + float32(rng.IntN(8))*cs
		case k == 3 && len(live) > 0:
			o := anyLive()
			x, z := g.Pos(o)
			r := g.Radius(o)
			switch rng.IntN(3) {
			case 0:
				return x, z
			case 1:
				return x + r, z - r
			default:
				return x - r, z
			}
		case k == 4:
			return float32(math.NaN()), float32(math.Inf(1))
		}
		return cfg.MinX + rng.Float32()*w, cfg.MinZ + rng.Float32()*d
	}
	maxN := 5 + rng.IntN(40)
	steps := 250
	for step := range steps {
		op := rng.IntN(10)
		var name string
		switch {
		case len(live) == 0 || (op < 3 && len(live) < maxN):
			x, z := point()
			r := radius()
			silent := rng.IntN(6) == 0
			var h Handle
			if silent {
				h = g.AddSilent(x, z, r)
				if len(g.Events()) != 0 {
					t.Fatalf("AddSilent emitted %v", g.Events())
				}
			} else {
				h = g.Add(x, z, r)
			}
			m.set(h, x, z, r)
			if slices.Contains(live, h) {
				t.Fatalf("Add returned live handle %d", h)
			}
			live = append(live, h)
			if silent { // the restore path: the caller knows the pairs already
				for _, o := range g.Interest(h) {
					rp[[2]Handle{h, o}] = true
				}
				for _, o := range g.Watchers(h) {
					rp[[2]Handle{o, h}] = true
				}
			}
			name = fmt.Sprintf("add(%v,%v,%v silent=%v)=%d", x, z, r, silent, h)
		case op < 4:
			i := rng.IntN(len(live))
			h := live[i]
			g.Remove(h)
			m.alive[h] = false
			live = slices.Delete(live, i, i+1)
			name = fmt.Sprintf("remove(%d)", h)
		case op < 5:
			h := anyLive()
			r := radius()
			g.SetRadius(h, r)
			m.r[h] = refRadius(r)
			name = fmt.Sprintf("setRadius(%d,%v)", h, r)
		case op < 6:
			h := anyLive()
			x, z := point()
			g.Move(h, x, z)
			m.x[h], m.z[h] = refCoord(x), refCoord(z)
			name = fmt.Sprintf("jump(%d,%v,%v)", h, x, z)
		default: // small steps, the common case
			h := anyLive()
			x, z := g.Pos(h)
			x += (rng.Float32()*2 - 1) * 8
			z += (rng.Float32()*2 - 1) * 8
			g.Move(h, x, z)
			m.x[h], m.z[h] = refCoord(x), refCoord(z)
			name = fmt.Sprintf("move(%d,%v,%v)", h, x, z)
		}
		if rng.IntN(10) == 0 { // renumber the slots, which update does only now and then
			g.Flush()
			g.compact()
		}
		rp.apply(t, g.Events())
		g.ResetEvents()
		check(t, g, m, rp, fmt.Sprintf("seed %d step %d %s cfg %+v", seed, step, name, cfg))
	}
	// Remove everything: every pair must leave.
	for _, h := range live {
		g.Remove(h)
		m.alive[h] = false
	}
	rp.apply(t, g.Events())
	g.ResetEvents()
	check(t, g, m, rp, "final")
	if len(rp) != 0 {
		t.Fatalf("pairs left after removing all: %v", rp)
	}
}

// TestPropertyTicks moves many entities per tick, as the AOI system does
// (enough to take the row-sorted path of update, with repeated moves of one
// handle in a tick), and checks the sets and the event stream after each.
func TestPropertyTicks(t *testing.T) {
	for seed := range 12 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 0x71c5))
			shape := Shape(seed % 2)
			side := float32(300 + rng.IntN(700))
			g, err := NewGrid(Config{Shape: shape, MaxX: side, MaxZ: side, RadiusHint: 50})
			if err != nil {
				t.Fatal(err)
			}
			g.vector = g.vector && seed%4 < 2 // both shapes, either scanner
			m := &model{shape: shape}
			rp := replay{}
			n := 100 + rng.IntN(200)
			uniform := seed%3 != 0
			for range n {
				x, z := rng.Float32()*side, rng.Float32()*side
				r := float32(50)
				if !uniform {
					r = rng.Float32() * 90
				}
				h := g.Add(x, z, r)
				m.set(h, x, z, r)
			}
			rp.apply(t, g.Events())
			g.ResetEvents()
			step := float32(3 + rng.IntN(40))
			for tick := range 15 {
				moves := n + n/3
				if tick%5 == 4 { // a sparse pass after dense ones, which left the lower bits stale
					moves = n / 10
				}
				for range moves {
					h := Handle(rng.IntN(n))
					x, z := g.Pos(h)
					x += (rng.Float32()*2 - 1) * step
					z += (rng.Float32()*2 - 1) * step
					g.Move(h, x, z)
					m.x[h], m.z[h] = refCoord(x), refCoord(z)
				}
				rp.apply(t, g.Events())
				g.ResetEvents()
				check(t, g, m, rp, fmt.Sprintf("seed %d tick %d", seed, tick))
			}
		})
	}
}
