package aoi

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// scanCase is a list with its partners' bodies, the owner and a key, for
// comparing the vector scanners with the Go ones.
type scanCase struct {
	es   []uint32
	body []body
	p    body
	key  uint32
}

// newScanCase builds a case from src: positions near the owner, many of
// them exactly at the key's distance or one ulp either side of it, and
// random stored states.
func newScanCase(src func() uint32, circle bool) scanCase {
	r := float32(1 + src()%200)
	c := scanCase{p: body{x: float32(int32(src()%2000) - 1000), z: float32(int32(src()%2000) - 1000)}}
	c.key = math.Float32bits(r) + 1
	if circle {
		c.key = math.Float32bits(r*r) + 1
	}
	off := func() float32 {
		switch src() % 4 {
		case 0:
			return r
		case 1:
			return math.Nextafter32(r, 0)
		case 2:
			return math.Nextafter32(r, 2*r)
		}
		return float32(int32(src()%(4*uint32(r)+1))) - 2*r
	}
	sign := func(v float32) float32 {
		if src()%2 == 0 {
			return -v
		}
		return v
	}
	c.body = make([]body, 1+src()%64)
	for i := range c.body {
		dx, dz := sign(off()), sign(off())
		if src()%3 == 0 {
			dz = 0
		}
		c.body[i] = body{x: c.p.x + dx, z: c.p.z + dz, h: Handle(i)}
	}
	c.es = make([]uint32, src()%40)
	for i := range c.es {
		c.es[i] = src()%uint32(len(c.body)) | src()&bothBits
	}
	return c
}

// check compares the scanners from every start index.
func (c scanCase) check(t *testing.T) {
	t.Helper()
	for _, sc := range []struct {
		name      string
		vec, want scanner
	}{
		{"square", nextSquareVec, nextSquareUniform},
		{"circle", nextCircleVec, nextCircleUniform},
	} {
		for k := 0; k <= len(c.es); k++ {
			if got, want := sc.vec(c.es, k, c.body, c.p, c.key), sc.want(c.es, k, c.body, c.p, c.key); got != want {
				t.Fatalf("%s from %d of %d entries: vector scanner stops at %d, Go scanner at %d", sc.name, k, len(c.es), got, want)
			}
		}
	}
}

func TestVectorScanners(t *testing.T) {
	if !haveVector() {
		t.Skip("no vector scanners on this machine")
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 3000 {
		newScanCase(rng.Uint32, i%2 == 0).check(t)
	}
	// A list that agrees everywhere must be walked to its end.
	c := newScanCase(rng.Uint32, false)
	for k, e := range c.es {
		q := c.body[partner(e)]
		c.es[k] = e&idxMask | squareBits(body{x: c.p.x, z: c.p.z, k: c.key}, body{x: q.x, z: q.z, k: c.key})
	}
	if got := nextSquareVec(c.es, 0, c.body, c.p, c.key); got != len(c.es) {
		t.Fatalf("agreeing list: stopped at %d of %d", got, len(c.es))
	}
}

// FuzzVectorScanners compares the scanners on cases built from the input.
func FuzzVectorScanners(f *testing.F) {
	if !haveVector() {
		f.Skip("no vector scanners on this machine")
	}
	f.Add([]byte{0}, false)
	f.Add([]byte("a list of pairs, some of them at the edge"), true)
	f.Add(make([]byte, 300), false)
	f.Fuzz(func(t *testing.T, data []byte, circle bool) {
		newScanCase(byteSource(data), circle).check(t)
	})
}

// byteSource returns the words of data, then zeros.
func byteSource(data []byte) func() uint32 {
	i := 0
	return func() uint32 {
		var b [4]byte
		i += copy(b[:], data[min(i, len(data)):])
		return binary.LittleEndian.Uint32(b[:])
	}
}

// TestFindVec compares findVec with find's Go loop on lists of every length
// up to 40, the slot looked for at every place and absent.
func TestFindVec(t *testing.T) {
	if !haveVector() {
		t.Skip("no vector loops on this machine")
	}
	rng := rand.New(rand.NewPCG(3, 5))
	for n := range 41 {
		es := make([]uint32, n)
		for at := -1; at < n; at++ {
			s := int32(rng.Uint32() & idxMask) // slots of all 30 bits
			for i := range es {
				if es[i] = rng.Uint32(); partner(es[i]) == s {
					es[i] ^= 1
				}
			}
			if at >= 0 {
				es[at] = uint32(s) | rng.Uint32()&bothBits // with any state
			}
			checkFind(t, es, s)
			if n > 0 {
				checkFind(t, es, partner(es[rng.IntN(n)]))
			}
		}
	}
}

// checkFind compares findVec with the Go loop for slot s in es.
func checkFind(t *testing.T, es []uint32, s int32) {
	t.Helper()
	want := len(es)
	for k, e := range es {
		if partner(e) == s {
			want = k
			break
		}
	}
	got := len(es)
	if len(es) > 0 {
		got = findVec(&es[0], len(es), uint32(s))
	}
	if got != want {
		t.Fatalf("find %d in %d entries: vector loop says %d, Go loop %d", s, len(es), got, want)
	}
}

// FuzzFindVec compares findVec with the Go loop on lists from the input.
func FuzzFindVec(f *testing.F) {
	if !haveVector() {
		f.Skip("no vector loops on this machine")
	}
	f.Add([]byte{}, uint32(0))
	f.Add([]byte("0123456789abcdef0123456789abcdef01234"), uint32(0x34333231))
	f.Fuzz(func(t *testing.T, data []byte, s uint32) {
		es := make([]uint32, len(data)/4)
		for i := range es {
			es[i] = binary.LittleEndian.Uint32(data[4*i:])
		}
		checkFind(t, es, int32(s&idxMask))
	})
}

// TestDenseWalk runs the same ticks on two grids, one walking with the
// vector loops and one with the Go ones, and requires the same events in
// the same order: both walk the slots and their lists in the same order.
// The ticks mix every entity moving (the dense walk), some not moving,
// steps past half the skin (re-references) and lists of every length.
func TestDenseWalk(t *testing.T) {
	if !haveVector() {
		t.Skip("no vector loops on this machine")
	}
	for seed := range 16 {
		rng := rand.New(rand.NewPCG(uint64(seed), 0xd3))
		shape := Shape(seed % 2)
		side := float32(100 + rng.IntN(900))
		cfg := Config{Shape: shape, MaxX: side, MaxZ: side, RadiusHint: 40}
		vec, gol := mustGrid(t, cfg), mustGrid(t, cfg)
		gol.vector = false
		n := 50 + rng.IntN(400)
		for range n {
			x, z := rng.Float32()*side, rng.Float32()*side
			vec.Add(x, z, 40)
			gol.Add(x, z, 40)
		}
		step := float32(1 + rng.IntN(30))
		for tick := range 25 {
			skip := rng.IntN(4) // every entity moves in a quarter of the ticks
			for h := range Handle(n) {
				if skip > 0 && rng.IntN(8) == 0 {
					continue
				}
				x, z := vec.Pos(h)
				x += (rng.Float32()*2 - 1) * step
				z += (rng.Float32()*2 - 1) * step
				vec.Move(h, x, z)
				gol.Move(h, x, z)
			}
			ev, eg := vec.Events(), gol.Events()
			if !slices.Equal(ev, eg) {
				t.Fatalf("seed %d tick %d: %d events from the vector walk, %d from the Go walk, or in another order",
					seed, tick, len(ev), len(eg))
			}
			vec.ResetEvents()
			gol.ResetEvents()
		}
		for h := range Handle(n) {
			if a, b := sorted(vec.Interest(h)), sorted(gol.Interest(h)); !slices.Equal(a, b) {
				t.Fatalf("seed %d: %d sees %v with the vector walk, %v with the Go walk", seed, h, a, b)
			}
		}
	}
}

func mustGrid(t *testing.T, cfg Config) *Grid {
	t.Helper()
	g, err := NewGrid(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestReach32 checks that the float32 reach of rerefUniform passes every
// pair the float64 test passes, at the reach itself and at any magnitude.
func TestReach32(t *testing.T) {
	for _, shape := range []Shape{Square, Circle} {
		g := mustGrid(t, Config{Shape: shape, MaxX: 1000, MaxZ: 1000, RadiusHint: 100})
		rng := rand.New(rand.NewPCG(7, uint64(shape)))
		for i := range 200000 {
			r := float32(rng.Float64() * 200)
			if i%4 == 0 {
				r = float32(math.Ldexp(rng.Float64(), rng.IntN(120)-60))
			}
			reach := g.reachOf(r)
			scale := math.Ldexp(1, rng.IntN(120)-60) // magnitudes of the positions
			p := vec{float32((rng.Float64()*2 - 1) * scale), float32((rng.Float64()*2 - 1) * scale)}
			// q at about the reach from p, on an axis, a diagonal or anywhere.
			a := rng.Float64() * 2 * math.Pi
			switch i % 3 {
			case 0:
				a = float64(rng.IntN(4)) * math.Pi / 2
			case 1:
				a = math.Pi/4 + float64(rng.IntN(4))*math.Pi/2
			}
			d := reach * (1 + (rng.Float64()*2-1)*1e-6)
			if shape == Square {
				d /= max(math.Abs(math.Cos(a)), math.Abs(math.Sin(a)))
			}
			q := vec{float32(float64(p.x) + d*math.Cos(a)), float32(float64(p.z) + d*math.Sin(a))}
			if g.within(p, q, reach) && dist32(p, q, shape == Circle) > g.reach32(r) {
				t.Fatalf("%v: %v and %v are within reach %v of radius %v, but not by the float32 test", shape, p, q, reach, r)
			}
		}
	}
}

// checkDrop compares the vector loops of nextDrop with the Go one on c's
// list, the bodies' positions standing for the partners' references, from
// every start index, states stale or not.
func (c scanCase) checkDrop(t *testing.T, circle bool) {
	t.Helper()
	anc := make([]anchor, len(c.body))
	for i, b := range c.body {
		anc[i].p = vec{b.x, b.z}
	}
	g := &Grid{shape: Square, vector: true, anc: anc}
	if circle {
		g.shape = Circle
	}
	r := vec{c.p.x, c.p.z}
	for _, stale := range []bool{false, true} {
		for k := 0; k <= len(c.es); k++ {
			g.mark = make([]uint32, len(c.body))
			want := make([]uint32, len(c.body))
			got := g.nextDrop(c.es, k, r, c.key-1, 1, stale)
			if w := nextDropGo(c.es, k, anc, r, c.key-1, want, 1, circle, stale); got != w {
				t.Fatalf("circle %v, stale %v, from %d of %d entries: vector loop stops at %d, Go loop at %d",
					circle, stale, k, len(c.es), got, w)
			}
			for _, e := range c.es[k:min(got+1, len(c.es))] {
				if g.mark[partner(e)] != 1 {
					t.Fatalf("circle %v, stale %v, from %d: partner %d of an entry before the stop unmarked", circle, stale, k, partner(e))
				}
			}
		}
	}
}

func TestDropVec(t *testing.T) {
	if !haveVector() {
		t.Skip("no vector loops on this machine")
	}
	if unsafe.Sizeof(anchor{}) != 16 || unsafe.Offsetof(anchor{}.p) != 0 {
		t.Fatal("the vector loops read 16-byte anchors with the reference at 0")
	}
	rng := rand.New(rand.NewPCG(8, 12))
	for i := range 3000 {
		circle := i%2 == 0
		newScanCase(rng.Uint32, circle).checkDrop(t, circle)
	}
}

// FuzzDropVec compares the drop loops on cases built from the input.
func FuzzDropVec(f *testing.F) {
	if !haveVector() {
		f.Skip("no vector loops on this machine")
	}
	f.Add([]byte{0}, false)
	f.Add([]byte("partners at the reach and beyond it"), true)
	f.Fuzz(func(t *testing.T, data []byte, circle bool) {
		newScanCase(byteSource(data), circle).checkDrop(t, circle)
	})
}

// checkNew compares the vector loops of nextNew with the Go one on cells
// made from c: an entry per list entry, its slot marked where the entry's
// seesBit is set, from every start index.
func (c scanCase) checkNew(t *testing.T, circle bool) {
	t.Helper()
	g := &Grid{shape: Square, vector: true, mark: make([]uint32, len(c.body))}
	if circle {
		g.shape = Circle
	}
	es := make([]cellEntry, len(c.es))
	for i, e := range c.es {
		s := partner(e)
		es[i] = cellEntry{s: s, p: vec{c.body[s].x, c.body[s].z}, r: 1}
		if e&seesBit != 0 {
			g.mark[s] = 7
		}
	}
	r := vec{c.p.x, c.p.z}
	for k := 0; k <= len(es); k++ {
		got := g.nextNew(es, k, r, c.key-1, 7)
		if want := nextNewGo(es, k, r, c.key-1, g.mark, 7, circle); got != want {
			t.Fatalf("circle %v, from %d of %d entries: vector loop stops at %d, Go loop at %d", circle, k, len(es), got, want)
		}
	}
}

func TestNewVec(t *testing.T) {
	if !haveVector() {
		t.Skip("no vector loops on this machine")
	}
	if unsafe.Sizeof(cellEntry{}) != 16 || unsafe.Offsetof(cellEntry{}.p) != 4 {
		t.Fatal("the vector cell scan reads 16-byte entries with the reference at 4")
	}
	rng := rand.New(rand.NewPCG(9, 13))
	for i := range 3000 {
		circle := i%2 == 0
		newScanCase(rng.Uint32, circle).checkNew(t, circle)
	}
}

// FuzzNewVec compares the cell scans on cases built from the input.
func FuzzNewVec(f *testing.F) {
	if !haveVector() {
		f.Skip("no vector loops on this machine")
	}
	f.Add([]byte{0}, false)
	f.Add([]byte("cells of entities, some marked, some at the reach"), true)
	f.Fuzz(func(t *testing.T, data []byte, circle bool) {
		newScanCase(byteSource(data), circle).checkNew(t, circle)
	})
}
