package aoi

import "math"

// moveBand is Move for the common case: a square grid and a step shorter
// than the smallest radius, so that the old and new areas of every radius in
// the grid overlap in a large common interior. It reads the band between
// the interior (the area of radius lo around both centres, minus a rounding
// margin) and the exterior (beyond radius hi of both), and tests each entry
// in it exactly once:
//
//   - thin rows not wholly inside the interior's z-range, from the row view
//     (one span of long columns per row);
//   - the thin rows in between (the middle), from the column view: the thin
//     columns left and right of the interior's x-range, over the long rows
//     that hold the middle; those long cells also hold entries of other thin
//     rows, which the scan filters out by recomputing their thin row.
//
// Every bound is a cell index computed with the same monotone function that
// placed the entries, from a coordinate moved outwards (or inwards) by a
// margin eps far above the float32 rounding of the tests, so no cell boundary
// arithmetic is needed: rowT(t.z) > rowT(a) implies t.z > a. It reports false,
// having changed nothing, when the interior is empty (a jump, or a radius
// close to the step); Move then takes the general path.
func (g *Grid) moveBand(h Handle, e *entity, nx, nz, lo, hi float32) bool {
	ox, oz := e.x, e.z
	xl, xh := float64(min(ox, nx)), float64(max(ox, nx))
	zl, zh := float64(min(oz, nz)), float64(max(oz, nz))
	m := fmax(fmax(g.absMax, math.Abs(xl)), fmax(math.Abs(xh), fmax(math.Abs(zl), math.Abs(zh))))
	eps := 1e-5*(m+float64(hi)) + 1e-30
	hl := float64(lo) - eps
	ho := float64(hi) + eps
	if !(hl > 0) {
		return false
	}
	j0, j1 := g.fRowT(zh-hl)+1, g.fRowT(zl+hl)-1 // middle thin rows
	i0, i1 := g.fColT(xh-hl)+1, g.fColT(xl+hl)-1 // interior thin columns
	if j0 > j1 || i0 > i1 {
		return false
	}
	g.relocate(h, e, nx, nz)
	k1 := e.k - 1
	// Every live entity has the one positive radius: a pair is either
	// mutual or unlinked, and a single key decides both directions.
	uniform := len(g.radii) == 1 && int(g.radii[0].n) == g.n
	za, zb := g.rowZ[j0], g.rowZ[j1+1] // the middle: za <= z < zb
	cand := g.cand

	// Row view: the thin rows above and below the middle.
	rv := &g.ix[0]
	r0, r1 := g.fRowT(zl-ho), g.fRowT(zh+ho)
	c0, c1 := g.fColL(xl-ho), g.fColL(xh+ho)
	for r := r0; r <= r1; r++ {
		if r == j0 {
			r = j1
			continue
		}
		base := r * rv.spl
		for p := c0; p <= c1; {
			sg := &rv.segs[base+p>>segShift]
			pe := min(c1, p|segMask)
			es := sg.run(p&segMask, pe&segMask)
			p = pe + 1
			if len(es) == 0 {
				continue
			}
			if len(cand) < len(es) {
				cand = g.growCand(len(es))
			}
			if uniform {
				n := scanUniform(es, cand, e.k, ox, oz, nx, nz)
				g.movedUniform(h, cand[:n], e.k, nx, nz)
				continue
			}
			n := scanSquare1(es, cand, k1, ox, oz, nx, nz)
			for _, t := range cand[:n] {
				g.moved(h, t, e.k, ox, oz, nx, nz)
			}
		}
	}

	// Column view: the thin columns beside the interior, over the middle.
	cv := &g.ix[1]
	l0, l1 := g.fRowL(zh-hl), g.fRowL(zl+hl)
	t0, t1 := g.fColT(xl-ho), g.fColT(xh+ho)
	for c := t0; c <= t1; c++ {
		if c == i0 {
			c = i1
			continue
		}
		base := c * cv.spl
		for p := l0; p <= l1; {
			sg := &cv.segs[base+p>>segShift]
			pe := min(l1, p|segMask)
			es := sg.run(p&segMask, pe&segMask)
			p = pe + 1
			if len(es) == 0 {
				continue
			}
			if len(cand) < len(es) {
				cand = g.growCand(len(es))
			}
			if uniform {
				n := scanUniformRows(es, cand, e.k, ox, oz, nx, nz, za, zb)
				g.movedUniform(h, cand[:n], e.k, nx, nz)
				continue
			}
			n := scanSquareRows1(es, cand, k1, ox, oz, nx, nz, za, zb)
			for _, t := range cand[:n] {
				g.moved(h, t, e.k, ox, oz, nx, nz)
			}
		}
	}
	return true
}

// growCand makes the candidate buffer hold at least n entries.
func (g *Grid) growCand(n int) []entry {
	g.cand = make([]entry, n+n/2+16)
	return g.cand
}

// scanSquare1 and scanSquareRows1 are the inner loops of moveBand over one
// run (see moveSquare for the test); leaf functions, so nothing spills.
func scanSquare1(es, cand []entry, k1 uint32, ox, oz, nx, nz float32) int {
	n := 0
	cand = cand[:len(es)]
	for i, t := range es {
		do := max(abs32(t.x-ox), abs32(t.z-oz))
		dn := max(abs32(t.x-nx), abs32(t.z-nz))
		lo, hi := min(do, dn), max(do, dn)
		cand[n] = es[i]
		n += b2i(min(k1-lo, t.k-1-lo) < hi-lo)
	}
	return n
}

func scanSquareRows1(es, cand []entry, k1 uint32, ox, oz, nx, nz, za, zb float32) int {
	n := 0
	cand = cand[:len(es)]
	for i, t := range es {
		do := max(abs32(t.x-ox), abs32(t.z-oz))
		dn := max(abs32(t.x-nx), abs32(t.z-nz))
		lo, hi := min(do, dn), max(do, dn)
		d := hi - lo
		if !(t.z >= za && t.z < zb) {
			d = 0
		}
		cand[n] = es[i]
		n += b2i(min(k1-lo, t.k-1-lo) < d)
	}
	return n
}

// scanUniform and scanUniformRows are the loops for a grid whose entities
// all share one radius key k: a pair changed iff exactly one of the old and
// new distances is below k, i.e. iff do-k and dn-k differ in sign.
func scanUniform(es, cand []entry, k uint32, ox, oz, nx, nz float32) int {
	n := 0
	cand = cand[:len(es)]
	for i := range es {
		t := &es[i]
		do := max(abs32(t.x-ox), abs32(t.z-oz))
		dn := max(abs32(t.x-nx), abs32(t.z-nz))
		cand[n] = *t
		n += b2i(int32(do-k)^int32(dn-k) < 0)
	}
	return n
}

func scanUniformRows(es, cand []entry, k uint32, ox, oz, nx, nz, za, zb float32) int {
	n := 0
	cand = cand[:len(es)]
	for i := range es {
		t := &es[i]
		do := max(abs32(t.x-ox), abs32(t.z-oz))
		dn := max(abs32(t.x-nx), abs32(t.z-nz))
		c := int32(do-k) ^ int32(dn-k)
		if !(t.z >= za && t.z < zb) {
			c = 0
		}
		cand[n] = *t
		n += b2i(c < 0)
	}
	return n
}

// movedUniform records the changes found by a uniform scan: each pair went
// from unlinked to mutual (the new distance is in range) or back.
func (g *Grid) movedUniform(h Handle, ts []entry, k uint32, nx, nz float32) {
	for i := range ts {
		t := &ts[i]
		if t.h == h {
			continue
		}
		if max(abs32(t.x-nx), abs32(t.z-nz)) < k {
			g.change(h, t.h, none, mutual, false)
		} else {
			g.change(h, t.h, mutual, none, false)
		}
	}
}
