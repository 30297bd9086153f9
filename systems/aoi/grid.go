package aoi

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Shape is the form of an entity's area of interest.
type Shape uint8

const (
	// Circle: T is in W's area iff dx*dx + dz*dz <= r*r. The default.
	Circle Shape = iota
	// Square: T is in W's area iff |dx| <= r && |dz| <= r (GoWorld's semantics).
	Square
)

// String names the shape for errors and logs.
func (s Shape) String() string {
	switch s {
	case Circle:
		return "circle"
	case Square:
		return "square"
	}
	return fmt.Sprintf("Shape(%d)", uint8(s))
}

const (
	// MaxCoord bounds coordinates: larger magnitudes are clamped, so that
	// every square of a difference stays finite in float32.
	MaxCoord = 1e18
	// MaxRadius bounds radii for the same reason.
	MaxRadius = 1e18
	// MaxCells bounds the cell arrays (both orientations together).
	MaxCells = 1 << 24
	// DefaultRadiusHint is the radius NewGrid tunes the cells for when neither
	// Config.CellSize nor Config.RadiusHint is set.
	DefaultRadiusHint = 100
	// CellsPerRadius is how many thin cells span one radius when the cell
	// size is derived from the radius hint.
	CellsPerRadius = 8
	// LongPerThin is the aspect ratio of the cells (see Config.CellSize).
	LongPerThin = 4
)

// Config describes a grid. The zero value is invalid: the bounds must be set.
type Config struct {
	// CellSize is the thin side of the cells. The grid keeps two views of
	// its cells: rows CellSize tall and LongPerThin*CellSize wide, and
	// columns CellSize wide and LongPerThin*CellSize tall; a move reads the
	// thin strips along the edges of its area from whichever view makes them
	// contiguous. 0 derives it from RadiusHint (RadiusHint / CellsPerRadius),
	// enlarged if needed so the bounds fit in MaxCells.
	CellSize float32
	// Shape of every entity's area in this grid.
	Shape Shape
	// MinX, MinZ, MaxX, MaxZ are the bounds of the cell arrays. Positions
	// outside are clamped into the edge cells and still tested exactly, so they
	// are correct but slower when many entities sit outside.
	MinX, MinZ, MaxX, MaxZ float32
	// RadiusHint is the typical radius in this space, used only to choose the
	// cell size when CellSize is 0 (DefaultRadiusHint if 0 too).
	RadiusHint float32
}

// ErrConfig is wrapped by every error NewGrid returns.
var ErrConfig = errors.New("aoi: invalid config")

// Handle is a dense slot, reused after Remove.
type Handle int32

// Event reports that Watcher's interest set gained (Enter) or lost Target.
type Event struct {
	Watcher, Target Handle
	Enter           bool
}

// entry is an entity as stored inline in its cell: everything a candidate
// test reads, 16 bytes.
type entry struct {
	x, z float32
	k    uint32 // radius key: see keyOf
	h    Handle
}

// entity is the per-handle record, kept small: a move reads only this and
// the cells. The cells are derived from x and z.
type entity struct {
	x, z float32
	r    float32 // radius as set (sanitized)
	k    uint32  // radius key
	p    int32   // 1 + index of the pending move in Grid.pend, 0 if none
	live bool
}

// radCount counts live entities with one positive radius.
type radCount struct {
	r float32
	n int32
}

// Grid is a uniform AOI grid. It is not safe for concurrent use; distinct
// Grids share nothing.
type Grid struct {
	shape      Shape
	thin, long float64 // cell sides
	invT, invL float64
	minX, minZ float64
	rowsT      int32 // row view: rowsT rows (thin) × colsL columns (long)
	colsL      int32
	colsT      int32 // column view: colsT columns (thin) × rowsL rows (long)
	rowsL      int32
	absMax     float64 // largest magnitude of the bounds, for rounding margins

	rowZ   []float32 // rowZ[j]: the least z with rowT(z) >= j (±Inf at the ends)
	ix     [2]index  // 0: rows (line = thin row, position = long column); 1: columns
	ents   []entity
	free   []Handle
	n      int
	radii  []radCount // positive radii of live entities, ascending
	events []Event
	pend   []pending // moves not applied yet (see Move)
	order  []int32   // scratch of update: pend indices in row order
	rowCnt []int32   // scratch of update: counting sort by thin row

	// Scratch of one operation.
	spans    []span
	runs     [][]entry // stretches of entries to test
	fruns    [][]entry // the same from the column view, filtered by thin row
	fj0, fj1 int32     // the filter: thin row in [fj0, fj1)
	lists    lists
	cand     []entry // candidates whose pair changed, at least as long as all runs
}

// NewGrid validates cfg and builds an empty grid. It returns an error, never
// panics, on non-finite or empty bounds, a negative or non-finite cell size,
// an unknown shape, or more than MaxCells cells.
func NewGrid(cfg Config) (*Grid, error) {
	if cfg.Shape != Circle && cfg.Shape != Square {
		return nil, fmt.Errorf("%w: unknown shape %v", ErrConfig, cfg.Shape)
	}
	for _, v := range []float32{cfg.MinX, cfg.MinZ, cfg.MaxX, cfg.MaxZ, cfg.CellSize, cfg.RadiusHint} {
		if !finite(v) || math.Abs(float64(v)) > MaxCoord {
			return nil, fmt.Errorf("%w: config value %v is not finite or exceeds %g", ErrConfig, v, MaxCoord)
		}
	}
	if !(cfg.MinX < cfg.MaxX) || !(cfg.MinZ < cfg.MaxZ) {
		return nil, fmt.Errorf("%w: empty bounds [%v,%v]×[%v,%v]: need MinX < MaxX and MinZ < MaxZ", ErrConfig,
			cfg.MinX, cfg.MaxX, cfg.MinZ, cfg.MaxZ)
	}
	if cfg.CellSize < 0 {
		return nil, fmt.Errorf("%w: negative cell size %v", ErrConfig, cfg.CellSize)
	}
	if cfg.RadiusHint < 0 {
		return nil, fmt.Errorf("%w: negative radius hint %v", ErrConfig, cfg.RadiusHint)
	}
	w := float64(cfg.MaxX) - float64(cfg.MinX)
	d := float64(cfg.MaxZ) - float64(cfg.MinZ)
	cells := func(t float64) float64 {
		l := t * LongPerThin
		return math.Ceil(d/t)*math.Ceil(w/l) + math.Ceil(w/t)*math.Ceil(d/l)
	}
	thin := float64(cfg.CellSize)
	if thin == 0 {
		hint := float64(cfg.RadiusHint)
		if hint == 0 {
			hint = DefaultRadiusHint
		}
		thin = hint / CellsPerRadius
		if m := math.Sqrt(2 * w * d / LongPerThin / MaxCells); thin < m {
			thin = m
		}
		for cells(thin) > MaxCells {
			thin *= 1.01
		}
	}
	if c := cells(thin); c > MaxCells {
		return nil, fmt.Errorf("%w: %v cells of size %v exceed MaxCells (%d): use a larger CellSize",
			ErrConfig, c, thin, MaxCells)
	}
	long := thin * LongPerThin
	g := &Grid{
		shape: cfg.Shape,
		thin:  thin, long: long,
		invT: 1 / thin, invL: 1 / long,
		minX: float64(cfg.MinX), minZ: float64(cfg.MinZ),
		rowsT: int32(max(1, math.Ceil(d/thin))), colsL: int32(max(1, math.Ceil(w/long))),
		colsT: int32(max(1, math.Ceil(w/thin))), rowsL: int32(max(1, math.Ceil(d/long))),
	}
	for _, v := range []float32{cfg.MinX, cfg.MinZ, cfg.MaxX, cfg.MaxZ} {
		g.absMax = max(g.absMax, math.Abs(float64(v)))
	}
	g.rowZ = make([]float32, g.rowsT+1)
	for j := range g.rowZ {
		g.rowZ[j] = g.rowStart(int32(j))
	}
	g.ix[0] = newIndex(g.rowsT, g.colsL)
	g.ix[1] = newIndex(g.colsT, g.rowsL)
	return g, nil
}

// CellSize returns the thin cell side in use (derived when Config.CellSize
// was 0).
func (g *Grid) CellSize() float32 { return float32(g.thin) }

// Shape returns the grid's shape.
func (g *Grid) Shape() Shape { return g.shape }

// Len returns the number of live handles.
func (g *Grid) Len() int { return g.n }

// Valid reports whether h is a live handle.
func (g *Grid) Valid(h Handle) bool {
	return h >= 0 && int(h) < len(g.ents) && g.ents[h].live
}

// Pos returns h's position (0, 0 for an invalid handle).
func (g *Grid) Pos(h Handle) (x, z float32) {
	if !g.Valid(h) {
		return 0, 0
	}
	e := &g.ents[h]
	if e.p != 0 {
		p := &g.pend[e.p-1]
		return p.x, p.z
	}
	return e.x, e.z
}

// Radius returns h's radius (0 for an invalid handle).
func (g *Grid) Radius(h Handle) float32 {
	if !g.Valid(h) {
		return 0
	}
	return g.ents[h].r
}

// Interest returns the handles h sees, in no particular order, without h
// itself (nil for an invalid handle). The slice aliases the grid's storage:
// do not modify it; it stays valid until the next Add, AddSilent, Move,
// SetRadius or Remove (queries do not invalidate each other).
func (g *Grid) Interest(h Handle) []Handle {
	if !g.Valid(h) {
		return nil
	}
	g.Flush()
	return g.lists.interest(h)
}

// Watchers returns the handles that see h, in no particular order, without
// h itself. Same rules as Interest.
func (g *Grid) Watchers(h Handle) []Handle {
	if !g.Valid(h) {
		return nil
	}
	g.Flush()
	return g.lists.watchers(h)
}

// Sees reports whether w currently sees t (false for invalid handles). It
// tests the positions; it does not need the lists.
func (g *Grid) Sees(w, t Handle) bool {
	if !g.Valid(w) || !g.Valid(t) || w == t {
		return false
	}
	g.update()
	a, b := &g.ents[w], &g.ents[t]
	return g.dist(b.x-a.x, b.z-a.z) < a.k
}

// Events returns the events buffered since the last ResetEvents, in the
// order they happened. The slice aliases the buffer: consume it before the
// next mutating call.
func (g *Grid) Events() []Event {
	g.update()
	return g.events
}

// ResetEvents applies the pending moves and empties the event buffer,
// keeping its capacity.
func (g *Grid) ResetEvents() {
	g.update()
	g.events = g.events[:0]
}

// Add inserts an entity at (x, z) with the given radius and returns its
// handle. It emits the enter events of every pair now in range, in both
// directions as the radii dictate.
func (g *Grid) Add(x, z, radius float32) Handle { return g.add(x, z, radius, false) }

// AddSilent is Add without events: the neighbour sets are built the same way.
// Use it to rebuild a grid on restore, when clients already know their
// neighbours.
func (g *Grid) AddSilent(x, z, radius float32) Handle { return g.add(x, z, radius, true) }

func (g *Grid) add(x, z, radius float32, silent bool) Handle {
	g.update()
	x, z, radius = clampCoord(x), clampCoord(z), clampRadius(radius)
	var h Handle
	if n := len(g.free); n > 0 {
		h = g.free[n-1]
		g.free = g.free[:n-1]
	} else {
		h = Handle(len(g.ents))
		g.ents = append(g.ents, entity{})
		g.lists.grow(len(g.ents))
	}
	e := &g.ents[h]
	*e = entity{x: x, z: z, r: radius, k: g.keyOf(radius), live: true}
	g.n++
	g.addRadius(radius)
	g.place(h, e)
	if len(g.radii) > 0 {
		g.region(x, z, x, z, -1, g.radii[len(g.radii)-1].r)
		g.scanAround(h, x, z, e.k, silent, false)
	}
	g.maybeFlush()
	return h
}

// Remove deletes h, emitting a leave event for every pair involving it.
// Its slot is reused by a later Add. An invalid handle is ignored.
func (g *Grid) Remove(h Handle) {
	if !g.Valid(h) {
		return
	}
	g.update()
	e := &g.ents[h]
	if len(g.radii) > 0 {
		g.region(e.x, e.z, e.x, e.z, -1, g.radii[len(g.radii)-1].r)
		g.scanAround(h, e.x, e.z, e.k, false, true)
	}
	g.unplace(h, e)
	g.removeRadius(e.r)
	e.live = false
	g.n--
	g.free = append(g.free, h)
	g.maybeFlush()
}

// scanAround finds every pair of h in range at (x, z): on add it links them
// (with enter events unless silent), on remove it unlinks them with leave
// events. Every candidate is tested, no interior skipped.
func (g *Grid) scanAround(h Handle, x, z float32, k uint32, silent, remove bool) {
	for _, es := range g.runs {
		for _, t := range es {
			d := g.dist(t.x-x, t.z-z)
			a, b := d < k, d < t.k
			if (a || b) && t.h != h {
				s := state(a, b)
				if remove {
					g.change(h, t.h, s, none, false)
				} else {
					g.change(h, t.h, none, s, silent)
				}
			}
		}
	}
}

// change records that the pair (w, t) went from state s to s2 (w's point
// of view): events now, lists at the next flush.
func (g *Grid) change(w, t Handle, s, s2 uint8, silent bool) {
	if !silent {
		a, a2 := s == sees || s == mutual, s2 == sees || s2 == mutual
		b, b2 := s == seenBy || s == mutual, s2 == seenBy || s2 == mutual
		if a != a2 {
			g.events = append(g.events, Event{Watcher: w, Target: t, Enter: a2})
		}
		if b != b2 {
			g.events = append(g.events, Event{Watcher: t, Target: w, Enter: b2})
		}
	}
	g.lists.log = append(g.lists.log, pairChange{w: w, t: t, s: s, s2: s2})
}

// moveNow moves h to the sanitized (x, z) and records the changes.
func (g *Grid) moveNow(h Handle, x, z float32) {
	e := &g.ents[h]
	ox, oz := e.x, e.z
	if ox == x && oz == z {
		return
	}
	if len(g.radii) == 0 {
		g.relocate(h, e, x, z)
		return
	}
	lo, hi := g.radii[0].r, g.radii[len(g.radii)-1].r
	if g.shape == Square && g.moveBand(h, e, x, z, lo, hi) {
		g.maybeFlush()
		return
	}
	g.relocate(h, e, x, z)
	g.region(ox, oz, x, z, lo, hi)
	if g.shape == Square {
		g.moveSquare(h, e.k, ox, oz, x, z)
	} else {
		g.moveCircle(h, e.k, ox, oz, x, z)
	}
	g.maybeFlush()
}

// moveSquare and moveCircle are the hot loops of Move, one per shape so the
// distance inlines. For each candidate: do/dn = distance key to the old/new
// centre; W sees T iff dist < W's key, T sees W iff dist < T's key, so a
// direction changed iff its key k is in (lo, hi] with lo, hi = min, max of
// do, dn: iff k-1-lo < hi-lo in unsigned arithmetic (k = 0, radius 0, never
// passes: k-1-lo wraps above any hi-lo). Both directions: the min of the two.
// Runs from the column view count only in the thin rows the row view did not
// read. Branch-free but for the rare change: mispredictions, not arithmetic,
// are the cost of this loop.
func (g *Grid) moveSquare(h Handle, k uint32, ox, oz, nx, nz float32) {
	cand := g.cand[:cap(g.cand)]
	n := scanSquare(g.runs, cand, 0, k-1, ox, oz, nx, nz)
	if len(g.fruns) > 0 {
		n = scanSquareRows(g.fruns, cand, n, k-1, ox, oz, nx, nz, g.minZ, g.invT, g.rowsT, g.fj0, g.fj1)
	}
	for _, t := range cand[:n] {
		g.moved(h, t, k, ox, oz, nx, nz)
	}
}

func (g *Grid) moveCircle(h Handle, k uint32, ox, oz, nx, nz float32) {
	cand := g.cand[:cap(g.cand)]
	n := scanCircle(g.runs, cand, 0, k-1, ox, oz, nx, nz)
	if len(g.fruns) > 0 {
		n = scanCircleRows(g.fruns, cand, n, k-1, ox, oz, nx, nz, g.minZ, g.invT, g.rowsT, g.fj0, g.fj1)
	}
	for _, t := range cand[:n] {
		g.moved(h, t, k, ox, oz, nx, nz)
	}
}

// The scan loops are leaf functions (no call, so nothing spills) that copy
// every candidate to cand[n] and advance n only when its pair changed:
// branch-free but for the loop bounds. k1 is the mover's key minus one.

func scanSquare(runs [][]entry, cand []entry, n int, k1 uint32, ox, oz, nx, nz float32) int {
	for _, es := range runs {
		for _, t := range es {
			do := max(abs32(t.x-ox), abs32(t.z-oz))
			dn := max(abs32(t.x-nx), abs32(t.z-nz))
			lo, hi := min(do, dn), max(do, dn)
			cand[n] = t
			n += b2i(min(k1-lo, t.k-1-lo) < hi-lo)
		}
	}
	return n
}

// scanSquareRows is scanSquare for runs of the column view: only entries
// whose thin row is in [j0, j1) count.
func scanSquareRows(runs [][]entry, cand []entry, n int, k1 uint32, ox, oz, nx, nz float32,
	minZ, invT float64, rows, j0, j1 int32) int {
	nj := uint32(j1 - j0)
	for _, es := range runs {
		for _, t := range es {
			do := max(abs32(t.x-ox), abs32(t.z-oz))
			dn := max(abs32(t.x-nx), abs32(t.z-nz))
			lo, hi := min(do, dn), max(do, dn)
			d := hi - lo
			if uint32(clampIndex((float64(t.z)-minZ)*invT, rows)-j0) >= nj {
				d = 0
			}
			cand[n] = t
			n += b2i(min(k1-lo, t.k-1-lo) < d)
		}
	}
	return n
}

func scanCircle(runs [][]entry, cand []entry, n int, k1 uint32, ox, oz, nx, nz float32) int {
	for _, es := range runs {
		for _, t := range es {
			do, dn := distCircle(t.x-ox, t.z-oz), distCircle(t.x-nx, t.z-nz)
			lo, hi := min(do, dn), max(do, dn)
			cand[n] = t
			n += b2i(min(k1-lo, t.k-1-lo) < hi-lo)
		}
	}
	return n
}

func scanCircleRows(runs [][]entry, cand []entry, n int, k1 uint32, ox, oz, nx, nz float32,
	minZ, invT float64, rows, j0, j1 int32) int {
	nj := uint32(j1 - j0)
	for _, es := range runs {
		for _, t := range es {
			do, dn := distCircle(t.x-ox, t.z-oz), distCircle(t.x-nx, t.z-nz)
			lo, hi := min(do, dn), max(do, dn)
			d := hi - lo
			if uint32(clampIndex((float64(t.z)-minZ)*invT, rows)-j0) >= nj {
				d = 0
			}
			cand[n] = t
			n += b2i(min(k1-lo, t.k-1-lo) < d)
		}
	}
	return n
}

// b2i is 1 for true: a SETcc, no branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// moved records the change of candidate t for mover h (the mover itself
// shows up with its new position and is ignored).
func (g *Grid) moved(h Handle, t entry, k uint32, ox, oz, nx, nz float32) {
	if t.h == h {
		return
	}
	do, dn := g.dist(t.x-ox, t.z-oz), g.dist(t.x-nx, t.z-nz)
	s, s2 := state(do < k, do < t.k), state(dn < k, dn < t.k)
	if s != s2 {
		g.change(h, t.h, s, s2, false)
	}
}

// SetRadius changes h's radius, emitting the events of h's interest set
// (its watchers do not change). Negative or NaN radii become 0. An invalid
// handle is ignored.
func (g *Grid) SetRadius(h Handle, r float32) {
	if !g.Valid(h) {
		return
	}
	r = clampRadius(r)
	g.update()
	e := &g.ents[h]
	if r == e.r {
		return
	}
	old, ok := e.r, e.k
	g.removeRadius(old)
	g.addRadius(r)
	e.r, e.k = r, g.keyOf(r)
	g.ix[0].entry(g.rowT(e.z), g.colL(e.x), h).k = e.k
	g.ix[1].entry(g.colT(e.x), g.rowL(e.z), h).k = e.k
	lo, hi := min(old, r), max(old, r)
	if lo == 0 {
		lo = -1 // no interior to skip
	}
	x, z, k := e.x, e.z, e.k
	g.region(x, z, x, z, lo, hi)
	test := func(t entry) {
		d := g.dist(t.x-x, t.z-z)
		if (d < ok) != (d < k) && t.h != h {
			b := d < t.k
			g.change(h, t.h, state(d < ok, b), state(d < k, b), false)
		}
	}
	for _, es := range g.runs {
		for _, t := range es {
			test(t)
		}
	}
	for _, es := range g.fruns {
		for _, t := range es {
			if r := g.rowT(t.z); r >= g.fj0 && r < g.fj1 {
				test(t)
			}
		}
	}
	g.maybeFlush()
}

// place inserts h into both views at its position.
func (g *Grid) place(h Handle, e *entity) {
	en := entry{x: e.x, z: e.z, k: e.k, h: h}
	g.ix[0].insert(g.rowT(e.z), g.colL(e.x), en)
	g.ix[1].insert(g.colT(e.x), g.rowL(e.z), en)
}

func (g *Grid) unplace(h Handle, e *entity) {
	g.ix[0].delete(g.rowT(e.z), g.colL(e.x), h)
	g.ix[1].delete(g.colT(e.x), g.rowL(e.z), h)
}

// relocate moves h to (x, z) in both views and in its record.
func (g *Grid) relocate(h Handle, e *entity, x, z float32) {
	g.ix[0].relocate(g.rowT(e.z), g.colL(e.x), g.rowT(z), g.colL(x), h, x, z)
	g.ix[1].relocate(g.colT(e.x), g.rowL(e.z), g.colT(x), g.rowL(z), h, x, z)
	e.x, e.z = x, z
}

// keyOf turns a radius into the key the hot loops compare distances with:
// dist < key iff in range. dist is the float32 bit pattern of max(|dx|,|dz|)
// (square) or dx*dx+dz*dz (circle), which orders like the float for the
// finite non-negative values it takes, so the key is the bit pattern of r
// (square) or r*r (circle) plus one, and 0 for radius 0: nothing passes.
func (g *Grid) keyOf(r float32) uint32 {
	if r <= 0 {
		return 0
	}
	if g.shape == Circle {
		return math.Float32bits(float32(r*r)) + 1
	}
	return math.Float32bits(r) + 1
}

// dist is the distance key of an offset (see keyOf).
func (g *Grid) dist(dx, dz float32) uint32 {
	if g.shape == Square {
		return max(abs32(dx), abs32(dz))
	}
	return distCircle(dx, dz)
}

// distCircle rounds each square (the conversions forbid a fused
// multiply-add), so every platform gives the same answer.
func distCircle(dx, dz float32) uint32 {
	return math.Float32bits(float32(dx*dx) + float32(dz*dz))
}

// abs32 is the bit pattern of |v|.
func abs32(v float32) uint32 { return math.Float32bits(v) &^ (1 << 31) }

func (g *Grid) addRadius(r float32) {
	if r <= 0 {
		return
	}
	i := sort.Search(len(g.radii), func(i int) bool { return g.radii[i].r >= r })
	if i < len(g.radii) && g.radii[i].r == r {
		g.radii[i].n++
		return
	}
	g.radii = append(g.radii, radCount{})
	copy(g.radii[i+1:], g.radii[i:])
	g.radii[i] = radCount{r: r, n: 1}
}

func (g *Grid) removeRadius(r float32) {
	if r <= 0 {
		return
	}
	i := sort.Search(len(g.radii), func(i int) bool { return g.radii[i].r >= r })
	if i == len(g.radii) || g.radii[i].r != r {
		return // cannot happen: every live positive radius is counted
	}
	if g.radii[i].n--; g.radii[i].n == 0 {
		g.radii = append(g.radii[:i], g.radii[i+1:]...)
	}
}

// Cell coordinates, clamping positions outside the bounds into the edge
// cells. The same expressions place entities and filter the column view.
func (g *Grid) rowT(z float32) int32 { return clampIndex((float64(z)-g.minZ)*g.invT, g.rowsT) }
func (g *Grid) colT(x float32) int32 { return clampIndex((float64(x)-g.minX)*g.invT, g.colsT) }
func (g *Grid) rowL(z float32) int32 { return clampIndex((float64(z)-g.minZ)*g.invL, g.rowsL) }
func (g *Grid) colL(x float32) int32 { return clampIndex((float64(x)-g.minX)*g.invL, g.colsL) }

func clampIndex(f float64, n int32) int32 {
	if !(f >= 0) { // also NaN
		return 0
	}
	if f >= float64(n) {
		return n - 1
	}
	return int32(f)
}

func finite(v float32) bool {
	return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
}

func clampCoord(v float32) float32 {
	switch {
	case v != v:
		return 0
	case v > MaxCoord:
		return MaxCoord
	case v < -MaxCoord:
		return -MaxCoord
	}
	return v
}

func clampRadius(r float32) float32 {
	switch {
	case !(r > 0): // also NaN
		return 0
	case r > MaxRadius:
		return MaxRadius
	}
	return r
}

// rowStart returns the least float32 z with rowT(z) >= j: -Inf for j = 0,
// +Inf for j = rowsT. Since rowT is monotone, rowT(z) is in [j0, j1] iff
// rowStart(j0) <= z < rowStart(j1+1), a test far cheaper than rowT.
//
// It searches the floats in their order (orderKey), galloping out from the
// nominal boundary minZ + j*thin and then bisecting, so it takes a few steps
// where the boundary is within some ulps of the nominal one and about 64 at
// worst (a boundary at 0, where float32 steps are tiny).
func (g *Grid) rowStart(j int32) float32 {
	if j <= 0 {
		return float32(math.Inf(-1))
	}
	if j >= g.rowsT {
		return float32(math.Inf(1))
	}
	in := func(k uint32) bool { return g.rowT(fromOrderKey(k)) >= j }
	lo, hi := orderKey(float32(math.Inf(-1))), orderKey(float32(math.Inf(1))) // in(lo) false, in(hi) true
	k := orderKey(float32(g.minZ + float64(j)*g.thin))
	if in(k) {
		hi = k
		for step := uint32(1); hi-lo > 1; step *= 2 { // gallop down
			c := hi - min(step, hi-lo-1)
			if !in(c) {
				lo = c
				break
			}
			hi = c
		}
	} else {
		lo = k
		for step := uint32(1); hi-lo > 1; step *= 2 { // gallop up
			c := lo + min(step, hi-lo-1)
			if in(c) {
				hi = c
				break
			}
			lo = c
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if in(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return fromOrderKey(hi)
}

// orderKey maps a non-NaN float32 to a uint32 in the same order, so floats
// can be searched as integers; fromOrderKey is its inverse.
func orderKey(f float32) uint32 {
	b := math.Float32bits(f)
	if b>>31 != 0 {
		return ^b
	}
	return b | 1<<31
}

func fromOrderKey(k uint32) float32 {
	if k>>31 != 0 {
		return math.Float32frombits(k &^ (1 << 31))
	}
	return math.Float32frombits(^k)
}
