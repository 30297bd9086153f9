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
// since, once. The events are therefore the net change of each pair since
// the last such call: a pair that came into range and left again between
// two calls reports nothing.
func (g *Grid) Move(h Handle, x, z float32) {
	if !g.Valid(h) {
		return
	}
	s := g.slotOf[h]
	b := &g.body[s]
	b.x, b.z = clampCoord(x), clampCoord(z)
	if w, bit := s>>6, uint64(1)<<(s&63); g.moved[w]&bit == 0 {
		g.moved[w] |= bit
		g.movedList = append(g.movedList, s)
	}
}

// update re-references the moved entities that went farther than half the
// skin from their reference, then tests every pair with a moved entity.
// After it, every pair in range is listed: a pair's references are within
// its reach, since neither entity is farther than half the skin from its
// own, and the lists hold every pair within its reach.
func (g *Grid) update() {
	if len(g.movedList) == 0 {
		return
	}
	// Re-reference in slot (cell) order: each reref touches its partners'
	// lists, which then sit near those of the previous one.
	far := g.far[:0]
	for _, s := range g.movedList {
		if b := &g.body[s]; !g.within(g.anc[s].p, vec{b.x, b.z}, g.half) {
			far = append(far, s)
		}
	}
	slices.Sort(far)
	for _, s := range far {
		g.reref(s)
	}
	g.far = far
	if 2*len(g.movedList) > len(g.body) {
		g.testDense()
	} else {
		slices.Sort(g.movedList) // slot order: neighbours' lists in turn
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
// range, those it brings within reach; the test that follows sets their
// bits. A pair beyond its reach that was in range stays listed, so that its
// leave is reported; a later reref drops it. When the partner is
// re-referenced in the same update, the later of the two rerefs sees both
// new references.
func (g *Grid) reref(s int32) {
	g.stats.Rerefs++
	old := g.anc[s].p
	b := &g.body[s]
	r := vec{b.x, b.z}
	g.anc[s].p = r
	g.recell(s)
	tok := g.nextToken()
	mark, anc := g.mark, g.anc
	own := g.reachOf(anc[s].r)
	for k := len(g.up[s]) - 1; k >= 0; k-- { // backwards: a removal moves an entry already seen
		if e := g.up[s][k]; e.m&bothBits == 0 && !g.within(r, anc[e.o].p, g.reachWith(own, anc[s].r, anc[e.o].r)) {
			g.unpair(s, uint32(k))
		} else {
			mark[e.o] = tok
		}
	}
	for k := len(g.lo[s]) - 1; k >= 0; k-- {
		if e := g.lo[s][k]; e.m&bothBits == 0 && !g.within(r, anc[e.o].p, g.reachWith(own, anc[s].r, anc[e.o].r)) {
			g.unpair(e.o, e.m&idxMask)
		} else {
			mark[e.o] = tok
		}
	}
	mark[s] = tok
	g.scanCells(s, &old, tok)
}

// scan lists, out of range, every unlisted pair of s within its reach (Add,
// and SetRadius with a larger radius).
func (g *Grid) scan(s int32) {
	tok := g.nextToken()
	for _, l := range [2][]pair{g.up[s], g.lo[s]} {
		for _, e := range l {
			g.mark[e.o] = tok
		}
	}
	g.mark[s] = tok
	g.scanCells(s, nil, tok)
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
// (s's previous reference) it skips the cells wholly within s's least
// reach of old: every entity there was within its pair's reach of s
// before, so its pair is listed (and marked) already.
func (g *Grid) scanCells(s int32, old *vec, tok uint32) {
	rmax := g.maxRadius()
	if rmax == 0 {
		return
	}
	a := g.anc[s]
	r, rs, own := a.p, a.r, g.reachOf(a.r)
	c := g.reachOf(rmax)
	x0, x1 := g.cellX(float64(r.x)-c), g.cellX(float64(r.x)+c)
	z0, z1 := g.cellZ(float64(r.z)-c), g.cellZ(float64(r.z)+c)
	least := float64(rs) + g.skin
	mark := g.mark
	for cz := z0; cz <= z1; cz++ {
		for cx := x0; cx <= x1; cx++ {
			if old != nil && g.cellWithin(cx, cz, *old, least) {
				continue
			}
			for _, e := range g.cells[cz*g.cols+cx] {
				if (rs != 0 || e.r != 0) && g.within(r, e.p, g.reachWith(own, rs, e.r)) && mark[e.s] != tok {
					mark[e.s] = tok
					if s < e.s {
						g.link(s, e.s, 0)
					} else {
						g.link(e.s, s, 0)
					}
				}
			}
		}
	}
}

// cellWithin reports whether every position that maps to cell (cx, cz) is
// within d of p. Edge cells, which hold everything beyond the bounds, never
// are; a margin covers the rounding of the cell computation.
func (g *Grid) cellWithin(cx, cz int32, p vec, d float64) bool {
	if cx == 0 || cz == 0 || cx == g.cols-1 || cz == g.rows-1 {
		return false
	}
	x0, z0 := g.minX+float64(cx)*g.cell, g.minZ+float64(cz)*g.cell
	x1, z1 := x0+g.cell, z0+g.cell
	m := 1e-9 * (math.Abs(x0) + math.Abs(z0) + g.cell)
	x0, z0, x1, z1 = x0-m, z0-m, x1+m, z1+m
	px, pz := float64(p.x), float64(p.z)
	if g.shape == Square {
		return x0 >= px-d && x1 <= px+d && z0 >= pz-d && z1 <= pz+d
	}
	fx := max(math.Abs(x0-px), math.Abs(x1-px)) // the farthest corner
	fz := max(math.Abs(z0-pz), math.Abs(z1-pz))
	return fx*fx+fz*fz <= d*d
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
