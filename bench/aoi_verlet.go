package bench

import "math"

// VerletAOI is a prototype (issue 2, AOI speed): a Verlet neighbour list as
// in molecular dynamics, behind the benchmark's AOI interface. Every entity
// keeps the list of entities whose reference positions (the positions at the
// last rebuild) are within AOIRadius + skin of its own (Chebyshev distance,
// the square test's metric), each entry with an "in range" bit. While no two
// entities together have moved more than the skin since the rebuild, no pair
// outside the lists can be in range, so a tick only tests the moved
// entities' entries. When they may have, Update first rebuilds every list
// from a grid of cells of one cut, in which the entities are also
// renumbered in cell order so that a list's partners sit close in memory.
//
// A pair (a < b in slot order) is stored twice: in a's upper list and in b's
// lower list, each entry holding the index of the other (its mirror) and the
// bit. Moves only record the position; Update does the work and reports the
// net change of each pair since the last Update (both directions), so it
// never sees a tick's transient pairs.
type VerletAOI struct {
	skin float32
	cut  float32 // list cut: AOIRadius + skin + verletSlack
	nc   int32   // cells per axis of the rebuild grid
	inv  float32 // 1 / cell size
	pos  []vpos  // by slot: current position
	prev []vpos  // by slot: position at the last Update (what the bits say)
	ref  []vpos  // by slot: position at the last rebuild
	idOf []int32 // by slot
	slot []int32 // by id

	upStart, loStart []int32  // by slot, n+1: s's entries are up[upStart[s]:upStart[s+1]], same for lo
	up, lo           []ventry // entries to higher slots, to lower slots; each list sorted

	moved     []uint64 // bitset by slot: moved since the last Update
	movedList []int32

	d1, d2   float32 // the two largest displacements since the rebuild ...
	d1s      int32   // ... d1 being slot d1s's
	Rebuilds int     // number of rebuilds since Init (tests and reports)

	events []AOIEvent

	// rebuild scratch, kept between rebuilds
	cellStart, cellCur []int32
	o2n                []int32
	npos, nprev        []vpos
	nidOf              []int32
	nUpStart, nLoStart []int32
	nUp, nLo           []ventry
	loCur              []int32
}

type vpos struct{ x, z float32 }

// ventry is one list entry: the other slot, and the index of the mirror
// entry (in the other's list) in the low 31 bits of m, the in-range bit on
// top.
type ventry struct {
	o int32
	m uint32
}

const (
	verletIn    = 1 << 31
	verletIdx   = verletIn - 1
	verletSlack = 1 // the lists' cut is this much wider than needed: float32 rounding of the differences
)

// verletR is AOIRadius's float32 bits (100 = 0x42c80000): for non-negative
// floats the bit patterns order like the values, so the square test is an
// integer max. TestVerletRadiusBits checks the constant.
const verletR = 0x42c80000

// NewVerletAOI returns an empty Verlet-list AOI with the given skin.
func NewVerletAOI(skin float32) *VerletAOI { return &VerletAOI{skin: skin} }

func absBits(v float32) uint32 { return math.Float32bits(v) &^ (1 << 31) }

func abs32(v float32) float32 { return math.Float32frombits(absBits(v)) }

func cheb(p, q vpos) float32 { return max(abs32(q.x-p.x), abs32(q.z-p.z)) }

// outBit is 1 when q is out of p's square, 0 when in, without a branch.
func outBit(p, q vpos) uint32 {
	return (verletR - max(absBits(q.x-p.x), absBits(q.z-p.z))) >> 31
}

// Init places the entities and builds the lists and their bits, without
// events.
func (a *VerletAOI) Init(side float32, x, z []float32) {
	n := len(x)
	a.cut = AOIRadius + a.skin + verletSlack
	a.nc = max(1, int32(side/a.cut))
	a.inv = float32(a.nc) / max(side, 1)
	if float32(1)/a.inv < a.cut { // rounding: a cell must not be narrower than the cut
		a.nc = max(1, a.nc-1)
		a.inv = float32(a.nc) / max(side, 1)
	}
	a.pos, a.prev, a.ref = make([]vpos, n), make([]vpos, n), make([]vpos, n)
	a.idOf, a.slot = make([]int32, n), make([]int32, n)
	for i := range n {
		a.pos[i] = vpos{x[i], z[i]}
		a.idOf[i] = int32(i)
		a.slot[i] = int32(i)
	}
	copy(a.prev, a.pos)
	a.upStart, a.loStart = make([]int32, n+1), make([]int32, n+1)
	a.moved = make([]uint64, (n+63)/64)
	a.rebuild()
	a.Rebuilds = 0
	a.events = a.events[:0]
}

// Move records the position; Update tests the pairs.
func (a *VerletAOI) Move(id int32, x, z float32) {
	s := a.slot[id]
	a.pos[s] = vpos{x, z}
	if w, b := s>>6, uint64(1)<<(s&63); a.moved[w]&b == 0 {
		a.moved[w] |= b
		a.movedList = append(a.movedList, s)
	}
}

func (a *VerletAOI) isMoved(s int32) bool { return a.moved[s>>6]>>(s&63)&1 != 0 }

// Update rebuilds the lists if two entities may have closed the skin, then
// tests each pair with a moved entity once.
func (a *VerletAOI) Update() {
	if len(a.movedList) == 0 {
		return
	}
	for _, s := range a.movedList { // displacements at the tick's end: a move and its way back cost nothing
		d := cheb(a.ref[s], a.pos[s])
		switch {
		case s == a.d1s:
			a.d1 = max(a.d1, d)
		case d > a.d1:
			a.d1, a.d2, a.d1s = d, a.d1, s
		case d > a.d2:
			a.d2 = d
		}
	}
	if a.d1+a.d2 > a.skin {
		a.rebuild()
	}
	if 2*len(a.movedList) > len(a.pos) {
		a.testDense()
	} else {
		a.testSparse()
	}
	for _, s := range a.movedList {
		a.prev[s] = a.pos[s]
		a.moved[s>>6] = 0
	}
	a.movedList = a.movedList[:0]
}

// testSparse tests every entry of each moved entity, except lower partners
// that moved too (their upper lists test the pair).
func (a *VerletAOI) testSparse() {
	pos, up, lo, moved := a.pos, a.up, a.lo, a.moved
	for _, s := range a.movedList {
		p := pos[s]
		base := a.loStart[s]
		for k, e := range lo[base:a.loStart[s+1]] {
			if moved[e.o>>6]>>(e.o&63)&1 != 0 {
				continue
			}
			if out := outBit(p, pos[e.o]); e.m>>31 == out {
				a.flipLo(s, base+int32(k), out)
			}
		}
		base = a.upStart[s]
		for k, e := range up[base:a.upStart[s+1]] {
			if out := outBit(p, pos[e.o]); e.m>>31 == out {
				a.flipUp(s, base+int32(k), out)
			}
		}
	}
}

// testDense walks every upper list once (when most entities moved, this
// reads half the entries testSparse would): all entries of a moved entity,
// the moved partners of one that did not.
func (a *VerletAOI) testDense() {
	pos, up, ups, moved := a.pos, a.up, a.upStart, a.moved
	for s := range int32(len(pos)) {
		p := pos[s]
		base := ups[s]
		es := up[base:ups[s+1]]
		if moved[s>>6]>>(s&63)&1 != 0 {
			for k, e := range es {
				if out := outBit(p, pos[e.o]); e.m>>31 == out {
					a.flipUp(s, base+int32(k), out)
				}
			}
			continue
		}
		for k, e := range es {
			if moved[e.o>>6]>>(e.o&63)&1 == 0 {
				continue
			}
			if out := outBit(p, pos[e.o]); e.m>>31 == out {
				a.flipUp(s, base+int32(k), out)
			}
		}
	}
}

// flipUp flips upper entry k of slot s and its mirror and reports the
// change; out of line, so the test loops keep their registers.
//
//go:noinline
func (a *VerletAOI) flipUp(s, k int32, out uint32) {
	e := &a.up[k]
	e.m ^= verletIn
	a.lo[e.m&verletIdx] = ventry{o: s, m: uint32(k) | e.m&verletIn} // a store, no load
	a.report(s, e.o, out)
}

// flipLo is flipUp for lower entry k.
//
//go:noinline
func (a *VerletAOI) flipLo(s, k int32, out uint32) {
	e := &a.lo[k]
	e.m ^= verletIn
	a.up[e.m&verletIdx] = ventry{o: s, m: uint32(k) | e.m&verletIn}
	a.report(s, e.o, out)
}

// report appends both directions of a change of slots s and o.
func (a *VerletAOI) report(s, o int32, out uint32) {
	w, t := a.idOf[s], a.idOf[o]
	a.events = append(a.events, AOIEvent{Watcher: w, Target: t, Enter: out == 0},
		AOIEvent{Watcher: t, Target: w, Enter: out == 0})
}

func (a *VerletAOI) cellOf(p vpos) int32 {
	cx, cz := p.x*a.inv, p.z*a.inv
	last := float32(a.nc - 1)
	if !(cx >= 0) {
		cx = 0
	}
	if !(cz >= 0) {
		cz = 0
	}
	return int32(min(cz, last))*a.nc + int32(min(cx, last))
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/8)
	}
	return s[:n]
}

// rebuild reports as left the in-range pairs that a jump takes beyond the
// cut, renumbers the slots in cell order, and builds the lists of every
// pair within the cut of the current positions, each bit the pair's state
// at the previous positions.
func (a *VerletAOI) rebuild() {
	a.Rebuilds++
	n := len(a.pos)
	half := a.skin / 2
	// A pair in range at the previous positions and beyond the cut now has
	// an entity that jumped more than half the skin since then.
	for _, s := range a.movedList {
		if cheb(a.prev[s], a.pos[s]) <= half {
			continue
		}
		p := a.pos[s]
		lost := func(b int32, m uint32) {
			if m&verletIn != 0 && cheb(p, a.pos[b]) > a.cut && (b > s || cheb(a.prev[b], a.pos[b]) <= half) {
				w, t := a.idOf[s], a.idOf[b]
				a.events = append(a.events, AOIEvent{Watcher: w, Target: t}, AOIEvent{Watcher: t, Target: w})
			}
		}
		for _, e := range a.lo[a.loStart[s]:a.loStart[s+1]] {
			lost(e.o, e.m)
		}
		for _, e := range a.up[a.upStart[s]:a.upStart[s+1]] {
			lost(e.o, e.m)
		}
	}

	// Renumber in cell order (counting sort).
	nc := a.nc
	cells := int(nc * nc)
	a.cellStart = grow(a.cellStart, cells+1)
	a.cellCur = grow(a.cellCur, cells)
	a.o2n = grow(a.o2n, n)
	a.npos, a.nprev, a.nidOf = grow(a.npos, n), grow(a.nprev, n), grow(a.nidOf, n)
	cs, o2n := a.cellStart, a.o2n
	clear(cs)
	for s, p := range a.pos {
		c := a.cellOf(p)
		o2n[s] = c // the cell for now
		cs[c+1]++
	}
	for c := range cells {
		cs[c+1] += cs[c]
	}
	copy(a.cellCur, cs[:cells])
	for s, p := range a.pos {
		c := o2n[s]
		ns := a.cellCur[c]
		a.cellCur[c]++
		o2n[s] = ns
		a.npos[ns] = p
		a.nprev[ns] = a.prev[s]
		a.nidOf[ns] = a.idOf[s]
	}

	// Upper lists: each cell against itself and its forward half of
	// neighbours, whose slots are higher; the bit is the previous state.
	np, npr := a.npos, a.nprev
	a.nUpStart, a.nLoStart = grow(a.nUpStart, n+1), grow(a.nLoStart, n+1)
	a.loCur = grow(a.loCur, n)
	deg := a.loCur
	clear(deg)
	up := a.nUp[:0]
	cutBits := math.Float32bits(a.cut)
	for cz := range nc {
		for cx := range nc {
			c := cz*nc + cx
			var fw [2][2]int32
			nf := 0
			if cx+1 < nc {
				fw[nf] = [2]int32{cs[c+1], cs[c+2]}
				nf++
			}
			if cz+1 < nc { // the three cells below are contiguous slots
				lo, hi := c+nc-1, c+nc+2
				if cx == 0 {
					lo = c + nc
				}
				if cx+1 == nc {
					hi = c + nc + 1
				}
				fw[nf] = [2]int32{cs[lo], cs[hi]}
				nf++
			}
			for i := cs[c]; i < cs[c+1]; i++ {
				a.nUpStart[i] = int32(len(up))
				p, pp := np[i], npr[i]
				for f := -1; f < nf; f++ {
					j, end := i+1, cs[c+1]
					if f >= 0 {
						j, end = fw[f][0], fw[f][1]
					}
					for ; j < end; j++ {
						if max(absBits(np[j].x-p.x), absBits(np[j].z-p.z)) <= cutBits {
							up = append(up, ventry{o: j, m: (1 ^ outBit(pp, npr[j])) << 31})
							deg[j]++
						}
					}
				}
			}
		}
	}
	a.nUpStart[n] = int32(len(up))
	a.nUp = up

	// Lower lists from the upper ones, in slot order, with the mirrors.
	ls := a.nLoStart
	total := int32(0)
	for s := range n {
		ls[s] = total
		total += deg[s]
		deg[s] = ls[s] // now the fill cursor
	}
	ls[n] = total
	a.nLo = grow(a.nLo, int(total))
	lo := a.nLo
	for i := range int32(n) {
		for k := a.nUpStart[i]; k < a.nUpStart[i+1]; k++ {
			e := &up[k]
			kj := deg[e.o]
			deg[e.o]++
			bit := e.m
			lo[kj] = ventry{o: i, m: uint32(k) | bit}
			e.m = uint32(kj) | bit
		}
	}

	// Swap in the new numbering.
	for s := range n {
		a.slot[a.nidOf[s]] = int32(s)
	}
	a.pos, a.npos = a.npos, a.pos
	a.prev, a.nprev = a.nprev, a.prev
	a.idOf, a.nidOf = a.nidOf, a.idOf
	a.upStart, a.nUpStart = a.nUpStart, a.upStart
	a.loStart, a.nLoStart = a.nLoStart, a.loStart
	a.up, a.nUp = a.nUp, a.up
	a.lo, a.nLo = a.nLo, a.lo
	copy(a.ref, a.pos)
	clear(a.moved)
	for k, s := range a.movedList {
		s = o2n[s]
		a.movedList[k] = s
		a.moved[s>>6] |= 1 << (s & 63)
	}
	a.d1, a.d2, a.d1s = 0, 0, -1
}

// Neighbours appends the entries in range.
func (a *VerletAOI) Neighbours(id int32, dst []int32) []int32 {
	s := a.slot[id]
	for _, e := range a.lo[a.loStart[s]:a.loStart[s+1]] {
		if e.m&verletIn != 0 {
			dst = append(dst, a.idOf[e.o])
		}
	}
	for _, e := range a.up[a.upStart[s]:a.upStart[s+1]] {
		if e.m&verletIn != 0 {
			dst = append(dst, a.idOf[e.o])
		}
	}
	return dst
}

// Events returns the buffered events.
func (a *VerletAOI) Events() []AOIEvent { return a.events }

// EventCount is the number of buffered events.
func (a *VerletAOI) EventCount() int { return len(a.events) }

// ResetEvents empties the buffer.
func (a *VerletAOI) ResetEvents() { a.events = a.events[:0] }

// VerletLocalAOI is the Verlet list without global rebuilds: each entity
// has its own reference position, and an entity that moves more than half
// the skin from it takes its current position as the new one and completes
// its lists from a grid of the reference positions (cells half a cut wide;
// only the cells between its old and its new square are read). The
// lists hold every pair whose reference positions are within the cut (and
// possibly some farther, dropped once out of range), so while every entity
// is within half the skin of its reference no pair outside them can be in
// range. A move's cost is its entries, plus now and then one grid scan: it
// does not depend on the number of entities or on what the others do.
//
// Lists are per entity (a pair a < b in a's upper and b's lower list, each
// entry holding its mirror's index and the in-range bit, removed by swap
// with the last). A change rewrites both entries whole (stores, no loads:
// the partner's list is seldom in the cache), and a tick where most
// entities moved reads the upper lists only. Init numbers the entities in
// cell order and carves the lists from one arena in that order, with half
// again as much room, so neighbours' data sit close in memory. A list that outgrows
// its room moves to the heap, out of that order; when n/32 have, Update
// compacts: it renumbers by the current cells and carves the lists again
// (O(n + pairs), amortized over the re-references that caused it; it
// allocates its scratch, which a real implementation would keep).
type VerletLocalAOI struct {
	skin, cut, half float32
	nc              int32
	inv             float32
	pos, ref        []vpos     // by slot
	idOf, slot      []int32    // by slot, by id
	up, lo          [][]ventry // by slot
	cells           [][]vcell  // slots and reference positions by cell
	cellOf, cellIdx []int32    // by slot: cell, index in it

	moved     []uint64
	movedList []int32
	mark      []uint32
	token     uint32
	Rerefs    int // re-references since Init (tests and reports)
	Compacts  int // compactions since Init (tests and reports)
	grown     int // lists moved out of the arena since the last compaction

	upArena, loArena []ventry // the lists' backing arrays (but those that grew out)
	spareUp, spareLo []ventry // the arenas before the last compaction, reused by the next

	events []AOIEvent
}

// vcell is a cell's entry: a slot and its reference position, inline for
// the scan.
type vcell struct {
	s int32
	p vpos
}

// NewVerletLocalAOI returns an empty local-rebuild Verlet AOI with the
// given skin.
func NewVerletLocalAOI(skin float32) *VerletLocalAOI { return &VerletLocalAOI{skin: skin} }

// Init numbers the entities in cell order and lists every pair within the
// cut, bits set without events.
func (a *VerletLocalAOI) Init(side float32, x, z []float32) {
	n := len(x)
	a.cut = AOIRadius + a.skin + verletSlack
	a.half = a.skin / 2
	a.nc = max(1, int32(2*side/a.cut))
	a.inv = float32(a.nc) / max(side, 1)
	if 2/a.inv < a.cut { // rounding: two cells must not be narrower than the cut
		a.nc = max(1, a.nc-1)
		a.inv = float32(a.nc) / max(side, 1)
	}
	cells := int(a.nc * a.nc)
	a.pos, a.ref = make([]vpos, n), make([]vpos, n)
	a.idOf, a.slot = make([]int32, n), make([]int32, n)
	a.cells = make([][]vcell, cells)
	a.cellOf, a.cellIdx = make([]int32, n), make([]int32, n)
	a.moved = make([]uint64, (n+63)/64)
	a.mark = make([]uint32, n)
	start := make([]int32, cells+1)
	for i := range n {
		start[a.cellOfPos(vpos{x[i], z[i]})+1]++
	}
	for c := range cells {
		start[c+1] += start[c]
	}
	for i := range int32(n) {
		p := vpos{x[i], z[i]}
		c := a.cellOfPos(p)
		s := start[c]
		start[c]++
		a.pos[s], a.ref[s], a.idOf[s], a.slot[i] = p, p, i, s
	}
	for s := range int32(n) {
		c := a.cellOfPos(a.ref[s])
		a.cellOf[s], a.cellIdx[s] = c, int32(len(a.cells[c]))
		a.cells[c] = append(a.cells[c], vcell{s, a.ref[s]})
	}
	// Count, carve the lists from two arenas with some room, fill.
	du, dl := make([]int32, n), make([]int32, n)
	each := func(f func(i, j int32)) {
		for i := range int32(n) {
			r := a.ref[i]
			a.scan(r, func(c vcell) {
				if c.s > i && cheb(r, c.p) <= a.cut {
					f(i, c.s)
				}
			})
		}
	}
	each(func(i, j int32) { du[i]++; dl[j]++ })
	a.up, a.upArena = carve(du, nil)
	a.lo, a.loArena = carve(dl, nil)
	each(func(i, j int32) { a.addPair(i, j, (1^outBit(a.pos[i], a.pos[j]))<<31) })
	a.events = a.events[:0]
}

// carve returns empty lists over one arena in slot order, each with room
// for its count and half more, reusing arena if it is large enough; it
// also returns the arena.
func carve(deg []int32, arena []ventry) ([][]ventry, []ventry) {
	total := 0
	for _, d := range deg {
		total += int(d + d/2 + 4)
	}
	if cap(arena) < total {
		arena = make([]ventry, total+total/8)
	}
	out := make([][]ventry, len(deg))
	off := 0
	for s, d := range deg {
		c := int(d + d/2 + 4)
		out[s] = arena[off : off : off+c]
		off += c
	}
	return out, arena
}

// compact renumbers the slots in the order of the cells of the reference
// positions and moves every list back into an arena in that order. Called
// between Updates: nothing is moved.
func (a *VerletLocalAOI) compact() {
	a.Compacts++
	a.grown = 0
	n := len(a.pos)
	cells := len(a.cells)
	start := make([]int32, cells+1)
	for s := range n {
		start[a.cellOf[s]+1]++
	}
	for c := range cells {
		start[c+1] += start[c]
	}
	o2n := make([]int32, n)
	for s := range n {
		c := a.cellOf[s]
		o2n[s] = start[c]
		start[c]++
	}
	pos, ref, idOf := make([]vpos, n), make([]vpos, n), make([]int32, n)
	for s := range n {
		ns := o2n[s]
		pos[ns], ref[ns], idOf[ns] = a.pos[s], a.ref[s], a.idOf[s]
		a.slot[a.idOf[s]] = ns
	}
	for c := range a.cells {
		a.cells[c] = a.cells[c][:0]
	}
	for ns := range int32(n) {
		c := a.cellOfPos(ref[ns])
		a.cellOf[ns], a.cellIdx[ns] = c, int32(len(a.cells[c]))
		a.cells[c] = append(a.cells[c], vcell{ns, ref[ns]})
	}
	du, dl := make([]int32, n), make([]int32, n)
	for s := range int32(n) {
		for _, e := range a.up[s] {
			i, j := o2n[s], o2n[e.o]
			du[min(i, j)]++
			dl[max(i, j)]++
		}
	}
	oldUp := a.up
	newUp, newLo := a.spareUp, a.spareLo
	a.spareUp, a.spareLo = a.upArena, a.loArena // no list is left in them once the loop below is done
	a.up, a.upArena = carve(du, newUp)
	a.lo, a.loArena = carve(dl, newLo)
	for s := range int32(n) {
		for _, e := range oldUp[s] {
			i, j := o2n[s], o2n[e.o]
			a.addPair(min(i, j), max(i, j), e.m&verletIn)
		}
	}
	a.grown = 0
	a.pos, a.ref, a.idOf = pos, ref, idOf
}

func (a *VerletLocalAOI) cellOfPos(p vpos) int32 {
	cx, cz := p.x*a.inv, p.z*a.inv
	last := float32(a.nc - 1)
	if !(cx >= 0) {
		cx = 0
	}
	if !(cz >= 0) {
		cz = 0
	}
	return int32(min(cz, last))*a.nc + int32(min(cx, last))
}

// scan calls f for every entry of the 5×5 cells around p's cell.
func (a *VerletLocalAOI) scan(p vpos, f func(vcell)) {
	c := a.cellOfPos(p)
	cx, cz := c%a.nc, c/a.nc
	for z := max(cz-2, 0); z <= min(cz+2, a.nc-1); z++ {
		for x := max(cx-2, 0); x <= min(cx+2, a.nc-1); x++ {
			for _, e := range a.cells[z*a.nc+x] {
				f(e)
			}
		}
	}
}

// addPair lists i < j with the given in-range bit.
func (a *VerletLocalAOI) addPair(i, j int32, bit uint32) {
	ki, kj := uint32(len(a.up[i])), uint32(len(a.lo[j]))
	if int(ki) == cap(a.up[i]) {
		a.grown++
	}
	if int(kj) == cap(a.lo[j]) {
		a.grown++
	}
	a.up[i] = append(a.up[i], ventry{o: j, m: kj | bit})
	a.lo[j] = append(a.lo[j], ventry{o: i, m: ki | bit})
}

// removeUp drops upper entry k of i and its mirror, each replaced by the
// last entry of its list (whose mirror is told its new index).
func (a *VerletLocalAOI) removeUp(i int32, k uint32) {
	e := a.up[i][k]
	j, kj := e.o, e.m&verletIdx
	l := uint32(len(a.up[i]) - 1)
	if k != l {
		last := a.up[i][l]
		a.up[i][k] = last
		a.lo[last.o][last.m&verletIdx].m = k | last.m&verletIn
	}
	a.up[i] = a.up[i][:l]
	l = uint32(len(a.lo[j]) - 1)
	if kj != l {
		last := a.lo[j][l]
		a.lo[j][kj] = last
		a.up[last.o][last.m&verletIdx].m = kj | last.m&verletIn
	}
	a.lo[j] = a.lo[j][:l]
}

// Move records the position.
func (a *VerletLocalAOI) Move(id int32, x, z float32) {
	s := a.slot[id]
	a.pos[s] = vpos{x, z}
	if w, b := s>>6, uint64(1)<<(s&63); a.moved[w]&b == 0 {
		a.moved[w] |= b
		a.movedList = append(a.movedList, s)
	}
}

// Update re-references the moved entities that left half the skin, then
// tests each pair with a moved entity once.
func (a *VerletLocalAOI) Update() {
	if len(a.movedList) == 0 {
		return
	}
	for _, s := range a.movedList {
		if cheb(a.ref[s], a.pos[s]) > a.half {
			a.reref(s)
		}
	}
	if 2*len(a.movedList) > len(a.pos) {
		a.testDense()
	} else {
		a.testSparse()
	}
	for _, s := range a.movedList {
		a.moved[s>>6] = 0
	}
	a.movedList = a.movedList[:0]
	if a.grown > len(a.pos)/32 {
		a.compact()
	}
}

// reref makes s's position its reference, drops the pairs it takes
// beyond the cut that were out of range at the last Update, and lists, out
// of range, those it brings within the cut. Either kind was out of range at
// the last Update (every entity within half the skin of its reference);
// if the partner also leaves half the skin in this Update, its own reref
// lists the pair again if needed. A pair beyond the cut that was in range
// stays listed, to report its leave; a later reref drops it.
func (a *VerletLocalAOI) reref(s int32) {
	a.Rerefs++
	r, old := a.pos[s], a.ref[s]
	a.ref[s] = r
	if c, oc := a.cellOfPos(r), a.cellOf[s]; c != oc {
		old := a.cells[oc]
		k, l := a.cellIdx[s], int32(len(old)-1)
		old[k] = old[l]
		a.cellIdx[old[k].s] = k
		a.cells[oc] = old[:l]
		a.cellOf[s], a.cellIdx[s] = c, int32(len(a.cells[c]))
		a.cells[c] = append(a.cells[c], vcell{s, r})
	} else {
		a.cells[c][a.cellIdx[s]].p = r
	}
	if a.token++; a.token == 0 {
		clear(a.mark)
		a.token = 1
	}
	tok, mark, ref, cut := a.token, a.mark, a.ref, a.cut
	for k := len(a.up[s]) - 1; k >= 0; k-- { // backwards: a removal moves an entry already seen
		if e := a.up[s][k]; cheb(r, ref[e.o]) > cut && e.m&verletIn == 0 {
			a.removeUp(s, uint32(k))
		} else {
			mark[e.o] = tok
		}
	}
	for k := len(a.lo[s]) - 1; k >= 0; k-- {
		if e := a.lo[s][k]; cheb(r, ref[e.o]) > cut && e.m&verletIn == 0 {
			a.removeUp(e.o, e.m&verletIdx)
		} else {
			mark[e.o] = tok
		}
	}
	mark[s] = tok
	// Only the pairs between the old and the new square can be missing:
	// scan the cells of the two strips (with a unit of margin inside the
	// old square, for rounding).
	nx0, nx1 := a.cellAxis(r.x-cut), a.cellAxis(r.x+cut)
	nz0, nz1 := a.cellAxis(r.z-cut), a.cellAxis(r.z+cut)
	if r.x > old.x { // each strip clipped to the new square: a jump reads no more
		a.scanAdd(s, max(a.cellAxis(old.x+cut-1), nx0), nx1, nz0, nz1)
	} else if r.x < old.x {
		a.scanAdd(s, nx0, min(a.cellAxis(old.x-cut+1), nx1), nz0, nz1)
	}
	if r.z > old.z {
		a.scanAdd(s, nx0, nx1, max(a.cellAxis(old.z+cut-1), nz0), nz1)
	} else if r.z < old.z {
		a.scanAdd(s, nx0, nx1, nz0, min(a.cellAxis(old.z-cut+1), nz1))
	}
}

// cellAxis is the cell column (or row) of coordinate v, clamped.
func (a *VerletLocalAOI) cellAxis(v float32) int32 {
	c := v * a.inv
	if !(c >= 0) {
		return 0
	}
	return int32(min(c, float32(a.nc-1)))
}

// scanAdd lists, out of range, the pairs of s with the unmarked entries of
// cells x0..x1 × z0..z1 within the cut of s's reference, and marks them.
func (a *VerletLocalAOI) scanAdd(s, x0, x1, z0, z1 int32) {
	r, tok, mark := a.ref[s], a.token, a.mark
	cutBits := math.Float32bits(a.cut)
	for z := z0; z <= z1; z++ {
		for _, e := range a.cells[z*a.nc+x0 : z*a.nc+x1+1] {
			for _, e := range e {
				if max(absBits(e.p.x-r.x), absBits(e.p.z-r.z)) <= cutBits && mark[e.s] != tok {
					mark[e.s] = tok
					if s < e.s {
						a.addPair(s, e.s, 0)
					} else {
						a.addPair(e.s, s, 0)
					}
				}
			}
		}
	}
}

// testSparse: as VerletAOI's, per moved entity.
func (a *VerletLocalAOI) testSparse() {
	pos, moved := a.pos, a.moved
	for _, s := range a.movedList {
		p := pos[s]
		for k, e := range a.lo[s] {
			if moved[e.o>>6]>>(e.o&63)&1 != 0 {
				continue
			}
			if out := outBit(p, pos[e.o]); e.m>>31 == out {
				a.flip(e.o, e.m&verletIdx, s, uint32(k), out)
			}
		}
		for k, e := range a.up[s] {
			if out := outBit(p, pos[e.o]); e.m>>31 == out {
				a.flip(s, uint32(k), e.o, e.m&verletIdx, out)
			}
		}
	}
}

// testDense: as VerletAOI's, every upper list once.
func (a *VerletLocalAOI) testDense() {
	pos, moved := a.pos, a.moved
	for s := range int32(len(pos)) {
		p := pos[s]
		es := a.up[s]
		if moved[s>>6]>>(s&63)&1 != 0 {
			for k, e := range es {
				if out := outBit(p, pos[e.o]); e.m>>31 == out {
					a.flip(s, uint32(k), e.o, e.m&verletIdx, out)
				}
			}
			continue
		}
		for k, e := range es {
			if moved[e.o>>6]>>(e.o&63)&1 == 0 {
				continue
			}
			if out := outBit(p, pos[e.o]); e.m>>31 == out {
				a.flip(s, uint32(k), e.o, e.m&verletIdx, out)
			}
		}
	}
}

// flip flips pair (i < j): upper entry ki of i, lower entry kj of j.
//
//go:noinline
func (a *VerletLocalAOI) flip(i int32, ki uint32, j int32, kj uint32, out uint32) {
	bit := (1 ^ out) << 31
	a.up[i][ki] = ventry{o: j, m: kj | bit}
	a.lo[j][kj] = ventry{o: i, m: ki | bit}
	w, t := a.idOf[i], a.idOf[j]
	a.events = append(a.events, AOIEvent{Watcher: w, Target: t, Enter: out == 0},
		AOIEvent{Watcher: t, Target: w, Enter: out == 0})
}

// Neighbours appends the entries in range.
func (a *VerletLocalAOI) Neighbours(id int32, dst []int32) []int32 {
	s := a.slot[id]
	for _, e := range a.lo[s] {
		if e.m&verletIn != 0 {
			dst = append(dst, a.idOf[e.o])
		}
	}
	for _, e := range a.up[s] {
		if e.m&verletIn != 0 {
			dst = append(dst, a.idOf[e.o])
		}
	}
	return dst
}

// Events returns the buffered events.
func (a *VerletLocalAOI) Events() []AOIEvent { return a.events }

// EventCount is the number of buffered events.
func (a *VerletLocalAOI) EventCount() int { return len(a.events) }

// ResetEvents empties the buffer.
func (a *VerletLocalAOI) ResetEvents() { a.events = a.events[:0] }
