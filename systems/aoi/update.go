package aoi

import (
	"math"
	"slices"
)

// Move sets h's position. An invalid handle is ignored; NaN coordinates
// become 0 and magnitudes beyond MaxCoord are clamped.
//
// Pos reports the new position at once; the pairs are tested by the next
// query or mutation (Events, Interest, Watchers, Flush, Add, Remove,
// SetRadius, ResetEvents), which tests every pair of every entity moved
// since. The events are therefore the net change of each pair since the
// last such call: a pair that came into range and left again between two
// calls reports nothing.
func (g *Grid) Move(h Handle, x, z float32) {
	if !g.Valid(h) {
		return
	}
	s := g.slotOf[h]
	b := &g.body[s]
	if abs32(x) > math.Float32bits(MaxCoord) || abs32(z) > math.Float32bits(MaxCoord) { // also NaN
		x, z = clampCoord(x), clampCoord(z)
	}
	b.x, b.z = x, z
	if w, bit := s>>6, uint64(1)<<(s&63); g.moved[w]&bit == 0 {
		g.moved[w] |= bit
		g.movedList = append(g.movedList, s)
	}
}

// update tests every pair with a moved entity, re-referencing first the
// moved entities that went farther than half the skin from their
// reference. After it, every pair in range is listed: a pair's references
// are within its reach, since neither entity is farther than half the skin
// from its own, and the lists hold every pair within its reach.
//
// The rerefs happen inside the test pass, in slot order, each just before
// the entity's own lists are tested: a reref changes the lists of its
// neighbours, which the pass is reading at the same time, so they are in
// the caches. A pair that a reref links to a list the pass has already
// walked is tested at once (see walked).
func (g *Grid) update() {
	if len(g.movedList) == 0 {
		return
	}
	if 2*len(g.movedList) > len(g.body) {
		g.testDense()
	} else {
		slices.Sort(g.movedList)
		g.testMoved()
	}
	for _, s := range g.movedList {
		g.moved[s>>6] = 0
	}
	g.movedList = g.movedList[:0]
	if g.disorder > len(g.body)/8+64 || g.holes > len(g.body)/4 {
		g.compact()
	}
}

// reref makes s's position its reference. It drops the pairs now beyond
// their reach that were out of range at the last test, and lists, out of
// range, those it brings within reach; the test of s's lists that follows
// sets their bits, or a test at once when the pair goes into a list the
// pass has walked (see walked). A pair beyond its reach that was in range
// stays listed, so that its leave is reported; a later reref drops it.
// When the partner is re-referenced in the same update, the later of the
// two rerefs sees both new references.
func (g *Grid) reref(s int32) {
	g.stats.Rerefs++
	old := g.anc[s].p
	b := &g.body[s]
	r := vec{b.x, b.z}
	g.anc[s].p = r
	g.recell(s)
	tok := g.nextToken()
	if uni, _ := g.uniformKey(); uni {
		g.rerefUniform(s, old, tok)
		return
	}
	mark, anc := g.mark, g.anc
	own := g.reachOf(anc[s].r)
	for k := int(g.up[s].n) - 1; k >= 0; k-- { // backwards: a removal moves an entry already seen
		e := g.ent[g.up[s].off+k]
		if o := partner(e); e&bothBits == 0 && !g.within(r, anc[o].p, g.reachWith(own, anc[s].r, anc[o].r)) {
			g.unpair(s, uint32(k))
		} else {
			mark[o] = tok
		}
	}
	for k := int(g.lo[s].n) - 1; k >= 0; k-- {
		// The reach first: the state may be in the partner's list, far in memory.
		e := g.ent[g.lo[s].off+k]
		o := partner(e)
		if g.within(r, anc[o].p, g.reachWith(own, anc[s].r, anc[o].r)) || !g.loStale && e&bothBits != 0 {
			mark[o] = tok
			continue
		}
		ki := g.find(g.up[o], s) // the upper entry is the truth
		if g.ent[g.up[o].off+int(ki)]&bothBits != 0 {
			mark[o] = tok
			continue
		}
		g.unpairAt(o, ki, s, uint32(k))
	}
	mark[s] = tok
	g.scanCells(s, &old, tok, false)
}

// rerefUniform is reref's work after the new reference when every live
// entity has the same radius: one reach for every pair, tested in float32
// (see reach32) by vector loops over the lists and the cells (nextDrop,
// nextNew), where the general loops take several branches an entry. It
// marks the partners it drops too: they are beyond the reach by the same
// test that the cell scan applies.
func (g *Grid) rerefUniform(s int32, old vec, tok uint32) {
	mark, anc := g.mark, g.anc
	r, c := anc[s].p, g.reach32(anc[s].r)
	// The drops are chosen first and done last: each searches the
	// partner's list, far in memory, prefetched when it is chosen so that
	// it arrives during the cell scan. The lists only grow meanwhile, at
	// their ends, so the chosen entries stay where they were, and they are
	// dropped from the last: a drop moves the list's last entry.
	ups, los := g.dropUp[:0], g.dropLo[:0]
	g.prefetch(g.lo[s])      // the pass reads only upper lists: s's lower one is far
	es := g.entries(g.up[s]) // no entry moves before the drops
	for k := 0; ; k++ {
		if k = g.nextDrop(es, k, r, c, tok, false); k == len(es) {
			break
		}
		ups = append(ups, uint32(k))
		g.prefetch(g.lo[partner(es[k])])
	}
	es = g.entries(g.lo[s])
	for k := 0; ; k++ { // a lower entry's state may be stale: the upper one tells, at the drop
		if k = g.nextDrop(es, k, r, c, tok, g.loStale); k == len(es) {
			break
		}
		los = append(los, uint32(k))
		g.prefetch(g.up[partner(es[k])])
	}
	mark[s] = tok
	g.scanCells(s, &old, tok, false)
	for _, k := range slices.Backward(ups) { // a drop moves the last entry: the last first
		g.unpair(s, k)
	}
	for _, k := range slices.Backward(los) {
		o := partner(g.ent[g.lo[s].off+int(k)])
		if ki := g.find(g.up[o], s); g.ent[g.up[o].off+int(ki)]&bothBits == 0 { // the upper entry is the truth
			g.unpairAt(o, ki, s, k)
		}
	}
	g.dropUp, g.dropLo = ups, los
}

// nextDrop marks the partners of the entries of es from k on, up to the
// first whose pair may be dropped: beyond c of r (see dist32) and, unless
// the states are stale, out of range. It returns that entry's index, or
// len(es): rerefUniform's list loops. The grid is uniform, so that an
// entry's seesBit is its whole state.
func (g *Grid) nextDrop(es []uint32, k int, r vec, c uint32, tok uint32, stale bool) int {
	if k == len(es) {
		return k
	}
	circle := g.shape == Circle
	if g.vector {
		keep := uint32(15)
		if stale {
			keep = 0
		}
		if circle {
			return k + dropCircleVec(&es[k], len(es)-k, &g.anc[0], position(body{x: r.x, z: r.z}), c+1, &g.mark[0], tok, keep)
		}
		return k + dropSquareVec(&es[k], len(es)-k, &g.anc[0], position(body{x: r.x, z: r.z}), c+1, &g.mark[0], tok, keep)
	}
	return nextDropGo(es, k, g.anc, r, c, g.mark, tok, circle, stale)
}

// nextDropGo is nextDrop's loop in Go, a leaf like nextNew.
//
//go:noinline
func nextDropGo(es []uint32, k int, anc []anchor, r vec, c uint32, mark []uint32, tok uint32, circle, stale bool) int {
	for ; k < len(es); k++ {
		e := es[k]
		o := partner(e)
		mark[o] = tok
		if b2u(dist32(r, anc[o].p, circle) > c)&b2u(stale || e&seesBit == 0) != 0 {
			return k
		}
	}
	return len(es)
}

// nextNew returns the index of the first entry of es from k on within c
// of r (see dist32) and unmarked, or len(es): scanCells' test in a grid of
// one radius.
func (g *Grid) nextNew(es []cellEntry, k int, r vec, c uint32, tok uint32) int {
	if k == len(es) {
		return k
	}
	circle := g.shape == Circle
	if g.vector {
		pxz := position(body{x: r.x, z: r.z})
		if circle {
			return k + newCircleVec(&es[k], len(es)-k, pxz, c+1, &g.mark[0], tok)
		}
		return k + newSquareVec(&es[k], len(es)-k, pxz, c+1, &g.mark[0], tok)
	}
	return nextNewGo(es, k, r, c, g.mark, tok, circle)
}

// nextNewGo is nextNew's loop in Go, a leaf kept out of line so that its
// loop stays in registers.
//
//go:noinline
func nextNewGo(es []cellEntry, k int, r vec, c uint32, mark []uint32, tok uint32, circle bool) int {
	for ; k < len(es); k++ {
		if e := &es[k]; b2u(dist32(r, e.p, circle) > c)|b2u(mark[e.s] == tok) == 0 {
			return k
		}
	}
	return len(es)
}

// reach32 is the reach of a pair of entities of radius r as the bits of a
// float32 distance (square) or squared distance (circle), for dist32 to
// compare with, so that every pair within its float64 reach (see within)
// passes. A float32 difference of float32 values is the exact difference
// correctly rounded, and rounding is monotonic: for the square, |dx| <= c
// implies round(|dx|) <= round(c). The circle's squares and sum round
// three more times, each by a relative 2^-24 at most: a margin of 2^-18
// covers them. Listing a pair a hair beyond its reach is harmless; missing
// one within it is not (TestReach32).
func (g *Grid) reach32(r float32) uint32 {
	c := g.reachOf(r)
	if g.shape == Circle {
		return math.Float32bits(float32(c * c * (1 + 1.0/(1<<18))))
	}
	return math.Float32bits(float32(c))
}

// dist32 is the bits of the float32 distance (square) or squared distance
// (circle) between p and q, which order like the floats.
func dist32(p, q vec, circle bool) uint32 {
	dx, dz := q.x-p.x, q.z-p.z
	if circle {
		return distCircle(dx, dz)
	}
	return max(abs32(dx), abs32(dz))
}

// b2u is 1 for true: two conditions combined with it cost one branch.
func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// scan lists every unlisted pair of s within its reach, tested at once,
// with its events unless silent (Add, and SetRadius with a larger radius).
func (g *Grid) scan(s int32, silent bool) {
	tok := g.nextToken()
	for _, l := range [2][]uint32{g.entries(g.up[s]), g.entries(g.lo[s])} {
		for _, e := range l {
			g.mark[partner(e)] = tok
		}
	}
	g.mark[s] = tok
	g.scanCells(s, nil, tok, silent)
}

func (g *Grid) nextToken() uint32 {
	if g.token++; g.token == 0 {
		clear(g.mark)
		g.token = 1
	}
	return g.token
}

// scanCells lists, out of range, the pairs of s with the unmarked entities
// of the cells around its reference that are within their reach. With old
// (s's previous reference: a reref) it skips the cells wholly within s's
// least reach of old: every entity there was within its pair's reach of s
// before, so its pair is listed (and marked) already; it tests a new pair
// at once only when the pass has walked the list it goes into, the pass
// tests the others. Without old (Add, SetRadius) it tests every new pair
// at once, with its events unless silent.
func (g *Grid) scanCells(s int32, old *vec, tok uint32, silent bool) {
	rmax := g.maxRadius()
	if rmax == 0 {
		return
	}
	a := g.anc[s]
	r, rs, own := a.p, a.r, g.reachOf(a.r)
	c := g.reachOf(rmax)
	x0, x1 := g.cellX(float64(r.x)-c), g.cellX(float64(r.x)+c)
	z0, z1 := g.cellZ(float64(r.z)-c), g.cellZ(float64(r.z)+c)
	sx0, sx1, sz0, sz1 := int32(1), int32(0), int32(1), int32(0) // the skipped cells: none
	if old != nil {
		sx0, sx1, sz0, sz1 = g.inside(*old, float64(rs)+g.skin)
	}
	// A grid of one radius tests the cells' entries in float32, by a vector
	// loop where there is one (see nextNew): its reach is a hair longer
	// than the float64 one that chose the cells, and a pair between the two
	// may or may not be listed; either is right.
	uni, _ := g.uniformKey()
	c32 := g.reach32(rs)
	mark := g.mark
	for cz := z0; cz <= z1; cz++ {
		skipRow := cz >= sz0 && cz <= sz1
		for cx := x0; cx <= x1; cx++ {
			if skipRow && cx >= sx0 && cx <= sx1 {
				cx = sx1
				continue
			}
			es := g.cells[cz*g.cols+cx]
			if uni {
				for k := 0; ; k++ {
					if k = g.nextNew(es, k, r, c32, tok); k == len(es) {
						break
					}
					g.listNew(s, es[k].s, tok, old == nil, silent)
				}
				continue
			}
			for _, e := range es {
				if mark[e.s] != tok && (rs != 0 || e.r != 0) && g.within(r, e.p, g.reachWith(own, rs, e.r)) {
					g.listNew(s, e.s, tok, old == nil, silent)
				}
			}
		}
	}
}

// listNew marks o and lists its pair with s, out of range, testing it at
// once if now or the pass has walked the list it goes into (see walked),
// with its events unless silent.
func (g *Grid) listNew(s, o int32, tok uint32, now, silent bool) {
	g.mark[o] = tok
	i, j := min(s, o), max(s, o)
	g.link(i, j, 0)
	if now || g.walked(i) {
		if bits := pairBits(g.body[i], g.body[j], g.shape == Circle); bits != 0 {
			g.flip(i, g.up[i].n-1, j, g.lo[j].n-1, 0, bits, silent)
		}
	}
}

// inside returns the range of cells wholly within distance d of p (empty
// when the first index exceeds the last): for the circle, those within its
// inscribed square. Edge cells, which hold everything beyond the bounds,
// never are; a margin covers the rounding of the cell computation.
func (g *Grid) inside(p vec, d float64) (x0, x1, z0, z1 int32) {
	if g.shape == Circle {
		d /= math.Sqrt2
	}
	span := func(v, lo float64, n int32) (int32, int32) {
		m := 1e-9*(math.Abs(v)+d) + 1e-9*g.cell
		a := math.Ceil((v - d + m - lo) * g.inv)
		b := math.Floor((v+d-m-lo)*g.inv) - 1
		if !(a <= b) || b < 1 || a > float64(n-2) {
			return 1, 0
		}
		return int32(max(a, 1)), int32(min(b, float64(n-2)))
	}
	x0, x1 = span(float64(p.x), g.minX, g.cols)
	z0, z1 = span(float64(p.z), g.minZ, g.rows)
	return x0, x1, z0, z1
}

// Cell coordinates, clamping positions outside the bounds into the edge
// cells.
func (g *Grid) cellX(x float64) int32 { return clampIndex((x-g.minX)*g.inv, g.cols) }
func (g *Grid) cellZ(z float64) int32 { return clampIndex((z-g.minZ)*g.inv, g.rows) }

func (g *Grid) cellOfRef(p vec) int32 {
	return g.cellZ(float64(p.z))*g.cols + g.cellX(float64(p.x))
}

func clampIndex(f float64, n int32) int32 {
	if !(f >= 0) { // also NaN
		return 0
	}
	if f >= float64(n) {
		return n - 1
	}
	return int32(f)
}

// place puts s in the cell of its reference.
func (g *Grid) place(s int32) {
	c := g.cellOfRef(g.anc[s].p)
	g.anc[s].cell, g.cellIdx[s] = c, int32(len(g.cells[c]))
	if len(g.cells[c]) == cap(g.cells[c]) {
		g.cells[c] = g.cellPool.grow(g.cells[c])
	}
	g.cells[c] = append(g.cells[c], cellEntry{s: s, p: g.anc[s].p, r: g.anc[s].r})
}

// unplace takes s out of its cell.
func (g *Grid) unplace(s int32) {
	c := g.anc[s].cell
	es := g.cells[c]
	k, l := g.cellIdx[s], int32(len(es)-1)
	es[k] = es[l]
	g.cellIdx[es[k].s] = k
	g.cells[c] = es[:l]
	g.anc[s].cell, g.cellIdx[s] = -1, -1
}

// recell moves s to the cell of its new reference, or updates its entry.
func (g *Grid) recell(s int32) {
	if g.cellOfRef(g.anc[s].p) == g.anc[s].cell {
		g.cells[g.anc[s].cell][g.cellIdx[s]].p = g.anc[s].p
		return
	}
	g.unplace(s)
	g.place(s)
}
