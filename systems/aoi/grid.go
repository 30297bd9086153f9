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
	// MaxCells bounds the cell array.
	MaxCells = 1 << 24
	// MaxEntities bounds the live entities of a grid: a list entry keeps
	// the partner's slot in 30 bits.
	MaxEntities = 1 << 30
	// DefaultRadiusHint is the radius NewGrid tunes the grid for when
	// Config.RadiusHint is not set.
	DefaultRadiusHint = 100
	// SkinPerRadius is the default skin as a fraction of the radius hint
	// (see Config.Skin).
	SkinPerRadius = 0.6
)

// Config describes a grid. The zero value is invalid: the bounds must be set.
type Config struct {
	// CellSize is the side of the square cells that index the entities'
	// reference positions. 0 derives it from the radius hint and the skin
	// ((RadiusHint + Skin) / 2), enlarged if needed so the bounds fit in
	// MaxCells.
	CellSize float32
	// Shape of every entity's area in this grid.
	Shape Shape
	// MinX, MinZ, MaxX, MaxZ are the bounds of the cell array. Positions
	// outside are clamped into the edge cells and still tested exactly, so they
	// are correct but slower when many entities sit outside.
	MinX, MinZ, MaxX, MaxZ float32
	// RadiusHint is the typical radius in this space (DefaultRadiusHint if
	// 0), used to choose the skin and the cell size when they are 0.
	RadiusHint float32
	// Skin is how much farther than its radius an entity's neighbour list
	// reaches (see the package documentation). A larger skin lists more pairs
	// and tests them on every move; a smaller one rebuilds lists more often.
	// 0 means SkinPerRadius × RadiusHint.
	Skin float32
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

// body is what the pair test reads of an entity, by slot: 16 bytes.
type body struct {
	x, z float32 // current position
	k    uint32  // radius key: see keyOf
	h    Handle  // -1 for a dead slot
}

// vec is a reference position.
type vec struct{ x, z float32 }

// anchor is what the lists of an entity are made from, by slot: 16 bytes.
type anchor struct {
	p    vec     // reference position: where the lists were made
	r    float32 // radius as set (sanitized)
	cell int32   // cell of p; -1 for a dead slot
}

// cellEntry is an entity in its cell: its slot, reference position and
// radius, so that a scan reads only the cell.
type cellEntry struct {
	s int32
	p vec
	r float32
}

// radCount counts live entities with one positive radius.
type radCount struct {
	r float32
	n int32
}

// Grid is an AOI grid of Verlet neighbour lists (see the package
// documentation). It is not safe for concurrent use; distinct Grids share
// nothing.
type Grid struct {
	shape      Shape
	vector     bool    // the uniform scanners use the vector loops (see haveVector)
	maxSlots   int     // MaxEntities (less in tests)
	cell, inv  float64 // cell side and its inverse
	minX, minZ float64
	cols, rows int32
	skin       float64 // list reach beyond the radius
	near       float32 // half the skin less a margin for float32 rounding (squared for the circle) ...
	nearBits   uint32  // ... and its bits

	slotOf []int32 // by handle: slot, -1 if free
	free   []Handle
	n      int

	// By slot. Slots are renumbered in cell order by compact, so that
	// neighbours sit close in memory.
	body    []body
	anc     []anchor
	up, lo  []span   // pairs with higher slots, with lower slots
	cellIdx []int32  // index in the cell's entries
	mark    []uint32 // scratch of the scans: token of the last visit
	token   uint32

	cells     [][]cellEntry
	cellArena []cellEntry // the cells' backing array (but cells that grew out)
	radii     []radCount  // positive radii of live entities, ascending

	moved     []uint64 // bitset by slot: moved since the last update
	movedList []int32
	pass      bool  // update's test pass is running ...
	dense     bool  // ... walking every upper list (else the moved entities')
	cursor    int32 // ... and has walked the slots before cursor
	events    []Event
	// loStale: the state bits of the lower entries are not kept, the upper
	// entries' are the truth (see staleAfter, lowerBits, syncLower).
	loStale  bool
	denseRun int // dense passes in a row, up to staleAfter

	ent        []uint32      // the lists' arena (see span)
	freeBlocks [33][]int     // offsets of blocks lists gave up, by class (see regrow)
	holes      int           // dead slots
	disorder   int           // adds, removes and lists grown out since the last compaction
	out        []Handle      // scratch of Interest and Watchers
	dropUp     []uint32      // scratch of rerefUniform: upper entries to drop ...
	dropLo     []uint32      // ... and lower ones
	mirrors    []mirrorWrite // scratch of testMoved: two moved entities' pending mirrors
	mirrors2   []mirrorWrite
	cellPool   pool[cellEntry] // blocks of cells that grew

	stats Stats
}

// Stats counts the grid's internal work since it was made.
type Stats struct {
	Rerefs   int64 // lists re-made around a new reference position
	Compacts int64 // renumberings of the slots in cell order
}

// NewGrid validates cfg and builds an empty grid. It returns an error, never
// panics, on non-finite or empty bounds, a negative or non-finite cell size,
// radius hint or skin, an unknown shape, or more than MaxCells cells.
func NewGrid(cfg Config) (*Grid, error) {
	if cfg.Shape != Circle && cfg.Shape != Square {
		return nil, fmt.Errorf("%w: unknown shape %v", ErrConfig, cfg.Shape)
	}
	for _, v := range []float32{cfg.MinX, cfg.MinZ, cfg.MaxX, cfg.MaxZ, cfg.CellSize, cfg.RadiusHint, cfg.Skin} {
		if !finite(v) || math.Abs(float64(v)) > MaxCoord {
			return nil, fmt.Errorf("%w: config value %v is not finite or exceeds %g", ErrConfig, v, MaxCoord)
		}
	}
	if !(cfg.MinX < cfg.MaxX) || !(cfg.MinZ < cfg.MaxZ) {
		return nil, fmt.Errorf("%w: empty bounds [%v,%v]×[%v,%v]: need MinX < MaxX and MinZ < MaxZ", ErrConfig,
			cfg.MinX, cfg.MaxX, cfg.MinZ, cfg.MaxZ)
	}
	if cfg.CellSize < 0 || cfg.RadiusHint < 0 || cfg.Skin < 0 {
		return nil, fmt.Errorf("%w: negative cell size %v, radius hint %v or skin %v", ErrConfig,
			cfg.CellSize, cfg.RadiusHint, cfg.Skin)
	}
	w := float64(cfg.MaxX) - float64(cfg.MinX)
	d := float64(cfg.MaxZ) - float64(cfg.MinZ)
	hint := float64(cfg.RadiusHint)
	if hint == 0 {
		hint = DefaultRadiusHint
	}
	skin := float64(cfg.Skin)
	if skin == 0 {
		skin = hint * SkinPerRadius
	}
	cells := func(c float64) float64 { return math.Ceil(w/c) * math.Ceil(d/c) }
	cell := float64(cfg.CellSize)
	if cell == 0 {
		cell = (hint + skin) / 2
		if m := math.Sqrt(w * d / MaxCells); cell < m {
			cell = m
		}
		for cells(cell) > MaxCells {
			cell *= 1.01
		}
	}
	if c := cells(cell); c > MaxCells {
		return nil, fmt.Errorf("%w: %v cells of size %v exceed MaxCells (%d): use a larger CellSize",
			ErrConfig, c, cell, MaxCells)
	}
	g := &Grid{
		shape: cfg.Shape,
		cell:  cell, inv: 1 / cell,
		minX: float64(cfg.MinX), minZ: float64(cfg.MinZ),
		cols: int32(max(1, math.Ceil(w/cell))), rows: int32(max(1, math.Ceil(d/cell))),
		skin: skin, vector: haveVector(), maxSlots: MaxEntities,
	}
	half := skin / 2 // the re-reference distance
	g.near = float32(half * (1 - 1e-5))
	if g.shape == Circle {
		g.near = float32(half * half * (1 - 1e-5))
	}
	g.nearBits = math.Float32bits(g.near)
	g.cells = make([][]cellEntry, int(g.cols)*int(g.rows))
	return g, nil
}

// CellSize returns the cell side in use (derived when Config.CellSize was 0).
func (g *Grid) CellSize() float32 { return float32(g.cell) }

// Skin returns the skin in use (derived when Config.Skin was 0).
func (g *Grid) Skin() float32 { return float32(g.skin) }

// Shape returns the grid's shape.
func (g *Grid) Shape() Shape { return g.shape }

// Len returns the number of live handles.
func (g *Grid) Len() int { return g.n }

// Stats returns the counts of the grid's internal work.
func (g *Grid) Stats() Stats { return g.stats }

// Valid reports whether h is a live handle.
func (g *Grid) Valid(h Handle) bool {
	return h >= 0 && int(h) < len(g.slotOf) && g.slotOf[h] >= 0
}

// Pos returns h's position (0, 0 for an invalid handle).
func (g *Grid) Pos(h Handle) (x, z float32) {
	if !g.Valid(h) {
		return 0, 0
	}
	b := &g.body[g.slotOf[h]]
	return b.x, b.z
}

// Radius returns h's radius (0 for an invalid handle).
func (g *Grid) Radius(h Handle) float32 {
	if !g.Valid(h) {
		return 0
	}
	return g.anc[g.slotOf[h]].r
}

// Interest returns the handles h sees, in no particular order, without h
// itself (nil for an invalid handle). The slice is the grid's scratch: it
// stays valid until the next call on the grid. AppendInterest fills the
// caller's own.
func (g *Grid) Interest(h Handle) []Handle {
	if !g.Valid(h) {
		return nil
	}
	g.out = g.AppendInterest(g.out[:0], h)
	return g.out
}

// Watchers returns the handles that see h, in no particular order, without
// h itself. Same rules as Interest.
func (g *Grid) Watchers(h Handle) []Handle {
	if !g.Valid(h) {
		return nil
	}
	g.out = g.AppendWatchers(g.out[:0], h)
	return g.out
}

// AppendInterest appends the handles h sees to dst and returns it (dst
// unchanged for an invalid handle).
func (g *Grid) AppendInterest(dst []Handle, h Handle) []Handle {
	return g.appendPairs(dst, h, seesBit)
}

// AppendWatchers appends the handles that see h to dst and returns it.
func (g *Grid) AppendWatchers(dst []Handle, h Handle) []Handle {
	return g.appendPairs(dst, h, seenBit)
}

func (g *Grid) appendPairs(dst []Handle, h Handle, bit uint32) []Handle {
	if !g.Valid(h) {
		return dst
	}
	g.update()
	s := g.slotOf[h]
	for _, e := range g.entries(g.up[s]) {
		if e&bit != 0 {
			dst = append(dst, g.body[partner(e)].h)
		}
	}
	for k, e := range g.entries(g.lo[s]) {
		if g.lowerBits(s, k)&bit != 0 {
			dst = append(dst, g.body[partner(e)].h)
		}
	}
	return dst
}

// Sees reports whether w currently sees t (false for invalid handles). It
// tests the positions.
func (g *Grid) Sees(w, t Handle) bool {
	if !g.Valid(w) || !g.Valid(t) || w == t {
		return false
	}
	a, b := g.body[g.slotOf[w]], g.body[g.slotOf[t]]
	return pairBits(a, b, g.shape == Circle)&seesBit != 0
}

// Events returns the events buffered since the last ResetEvents. The slice
// aliases the buffer: consume it before the next mutating call.
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

// Flush applies the pending moves (queries and mutations do it first
// anyway): a caller may call it to choose when that cost is paid.
func (g *Grid) Flush() { g.update() }

// Add inserts an entity at (x, z) with the given radius and returns its
// handle. It emits the enter events of every pair now in range, in both
// directions as the radii dictate. A grid that holds MaxEntities already
// returns -1, an invalid handle.
func (g *Grid) Add(x, z, radius float32) Handle { return g.add(x, z, radius, false) }

// AddSilent is Add without events: the neighbour sets are built the same way.
// Use it to rebuild a grid on restore, when clients already know their
// neighbours.
func (g *Grid) AddSilent(x, z, radius float32) Handle { return g.add(x, z, radius, true) }

func (g *Grid) add(x, z, radius float32, silent bool) Handle {
	g.update()
	if len(g.body) >= g.maxSlots { // slots have 30 bits (see span)
		if g.holes == 0 {
			return -1
		}
		g.compact()
	}
	x, z, radius = clampCoord(x), clampCoord(z), clampRadius(radius)
	var h Handle
	if n := len(g.free); n > 0 {
		h = g.free[n-1]
		g.free = g.free[:n-1]
	} else {
		h = Handle(len(g.slotOf))
		g.slotOf = append(g.slotOf, -1)
	}
	s := int32(len(g.body))
	g.slotOf[h] = s
	g.body = append(g.body, body{x: x, z: z, k: g.keyOf(radius), h: h})
	g.anc = append(g.anc, anchor{p: vec{x, z}, r: radius, cell: -1})
	g.up = append(g.up, span{})
	g.lo = append(g.lo, span{})
	g.cellIdx = append(g.cellIdx, -1)
	g.mark = append(g.mark, 0)
	if len(g.moved) < (len(g.body)+63)/64 {
		g.moved = append(g.moved, 0)
	}
	g.n++
	g.disorder++
	g.addRadius(radius)
	g.place(s)
	g.scan(s, silent) // lists every pair of s, tested
	return h
}

// Remove deletes h, emitting a leave event for every pair involving it.
// Its handle is reused by a later Add. An invalid handle is ignored.
func (g *Grid) Remove(h Handle) {
	if !g.Valid(h) {
		return
	}
	g.update()
	s := g.slotOf[h]
	leave := func(o int32, bits uint32) { // the pair of s with slot o, whose state seen from s was bits
		t := g.body[o].h
		if bits&seesBit != 0 {
			g.events = append(g.events, Event{Watcher: h, Target: t})
		}
		if bits&seenBit != 0 {
			g.events = append(g.events, Event{Watcher: t, Target: h})
		}
	}
	for k := int(g.up[s].n) - 1; k >= 0; k-- {
		e := g.ent[g.up[s].off+k]
		leave(partner(e), e)
		g.unpair(s, uint32(k))
	}
	for k := int(g.lo[s].n) - 1; k >= 0; k-- { // the state from the upper entry, the truth, found once
		o := partner(g.ent[g.lo[s].off+k])
		ki := g.find(g.up[o], s)
		leave(o, swapBits(g.ent[g.up[o].off+int(ki)]&bothBits))
		g.unpairAt(o, ki, s, uint32(k))
	}
	g.unplace(s)
	g.removeRadius(g.anc[s].r)
	g.body[s] = body{h: -1}
	g.anc[s].r = 0 // the cell is -1 already
	g.slotOf[h] = -1
	g.free = append(g.free, h)
	g.n--
	g.holes++
	g.disorder++
	if g.n == 0 {
		g.reset()
	}
}

// reset empties the slot arrays once the last entity is gone, so that a
// grid that empties and fills again does not keep dead slots.
func (g *Grid) reset() {
	g.body, g.anc = g.body[:0], g.anc[:0]
	clear(g.up)
	clear(g.lo)
	g.up, g.lo = g.up[:0], g.lo[:0]
	g.cellIdx, g.mark = g.cellIdx[:0], g.mark[:0]
	clear(g.moved)
	g.holes, g.disorder = 0, 0
	g.loStale, g.denseRun = false, 0
	g.ent = g.ent[:0]
	g.clearFree()
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
	s := g.slotOf[h]
	old := g.anc[s].r
	if r == old {
		return
	}
	g.removeRadius(old)
	g.addRadius(r)
	g.anc[s].r = r
	g.cells[g.anc[s].cell][g.cellIdx[s]].r = r
	g.body[s].k = g.keyOf(r)
	if r > old { // pairs farther than the old reach may now be in range
		g.scan(s, false)
	}
	g.testAll(s, false)
}

// keyOf turns a radius into the key the pair test compares distances with:
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

// pairBits tests a pair both ways: seesBit if a sees b, seenBit if b sees
// a.
func pairBits(a, b body, circle bool) uint32 {
	if circle {
		return circleBits(a, b)
	}
	return squareBits(a, b)
}

// squareBits and circleBits are pairBits for one shape, small enough to
// inline in the test loops. Branch-free: d < k is the sign of d-k in 64
// bits (a key of 0 never passes).
func squareBits(a, b body) uint32 {
	d := max(abs32(b.x-a.x), abs32(b.z-a.z))
	return uint32((uint64(d)-uint64(a.k))>>63)<<31 | uint32((uint64(d)-uint64(b.k))>>63)<<30
}

func circleBits(a, b body) uint32 {
	d := distCircle(b.x-a.x, b.z-a.z)
	return uint32((uint64(d)-uint64(a.k))>>63)<<31 | uint32((uint64(d)-uint64(b.k))>>63)<<30
}

// distCircle rounds each square (the conversions forbid a fused
// multiply-add), so every platform gives the same answer.
func distCircle(dx, dz float32) uint32 {
	return math.Float32bits(float32(dx*dx) + float32(dz*dz))
}

// abs32 is the bit pattern of |v|.
func abs32(v float32) uint32 { return math.Float32bits(v) &^ (1 << 31) }

// Reach and distances of the lists, in float64 so that the float32 test's
// rounding stays within cutSlack.
const cutSlack = 1 + 1e-6

// reachOf is how far apart the references of two entities may be with
// their pair unlisted when the larger radius is r: beyond it, neither can
// see the other while both stay within half the skin of their references.
func (g *Grid) reachOf(r float32) float64 { return (float64(r) + g.skin) * cutSlack }

// reachWith is the reach of a pair of radii rs and rt, given own =
// reachOf(rs): the common case of rt <= rs costs a comparison.
func (g *Grid) reachWith(own float64, rs, rt float32) float64 {
	if rt <= rs {
		return own
	}
	return g.reachOf(rt)
}

// within reports whether q is within distance c of p in the shape's metric.
func (g *Grid) within(p, q vec, c float64) bool {
	dx, dz := float64(q.x)-float64(p.x), float64(q.z)-float64(p.z)
	if g.shape == Square {
		return math.Abs(dx) <= c && math.Abs(dz) <= c
	}
	return dx*dx+dz*dz <= c*c
}

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

// maxRadius is the largest radius of a live entity (0 if none).
func (g *Grid) maxRadius() float32 {
	if len(g.radii) == 0 {
		return 0
	}
	return g.radii[len(g.radii)-1].r
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
