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
	mv := bandMove{h: h, k: e.k, ox: ox, oz: oz, nx: nx, nz: nz,
		// Every live entity has the one positive radius: a pair is either
		// mutual or unlinked, and a single key decides both directions.
		uniform: len(g.radii) == 1 && int(g.radii[0].n) == g.n,
		za:      float32(math.Inf(-1)), zb: float32(math.Inf(1)),
	}
	// The common case links at once: test and link in one pass, with no
	// candidate buffer and no log.
	mv.direct = mv.uniform && len(g.lists.log) == 0 && g.lists.live <= directMaxMean*g.n && g.lists.live <= directMaxLive
	// Row view: the thin rows above and below the middle.
	g.bandLines(&g.ix[0], g.fRowT(zl-ho), g.fRowT(zh+ho), j0, j1, g.fColL(xl-ho), g.fColL(xh+ho), &mv)
	// Column view: the thin columns beside the interior, over the long rows
	// of the middle, counting only the entries of the middle's thin rows.
	mv.za, mv.zb = g.rowZ[j0], g.rowZ[j1+1]
	g.bandLines(&g.ix[1], g.fColT(xl-ho), g.fColT(xh+ho), i0, i1, g.fRowL(zh-hl), g.fRowL(zl+hl), &mv)
	return true
}

// bandMove is what a band scan needs to know of the move.
type bandMove struct {
	h              Handle
	k              uint32 // the mover's key
	ox, oz, nx, nz float32
	uniform        bool
	direct         bool    // uniform, linking at once (see directMaxMean)
	za, zb         float32 // only entries with za <= z < zb count
}

// bandLines scans lines l0..l1 of ix but s0..s1 (the interior), positions
// p0..p1 of each, segment by segment, and records every pair that changed.
func (g *Grid) bandLines(ix *index, l0, l1, s0, s1, p0, p1 int32, mv *bandMove) {
	cand := g.cand
	for l := l0; l <= l1; l++ {
		if l == s0 {
			l = s1
			continue
		}
		base := l * ix.spl
		for p := p0; p <= p1; {
			sg := &ix.segs[base+p>>segShift]
			pe := min(p1, p|segMask)
			es := sg.run(p&segMask, pe&segMask)
			p = pe + 1
			if mv.direct {
				g.linkRun(es, mv)
				continue
			}
			if len(es) == 0 {
				continue
			}
			if len(cand) < len(es) {
				cand = g.growCand(len(es))
			}
			if mv.uniform {
				n := scanUniform(es, cand, mv.k, mv.ox, mv.oz, mv.nx, mv.nz, mv.za, mv.zb)
				g.movedUniform(mv.h, cand[:n], mv.k, mv.nx, mv.nz)
				continue
			}
			n := scanBand(es, cand, mv.k-1, mv.ox, mv.oz, mv.nx, mv.nz, mv.za, mv.zb)
			for _, t := range cand[:n] {
				g.moved(mv.h, t, mv.k, mv.ox, mv.oz, mv.nx, mv.nz)
			}
		}
	}
}

// growCand makes the candidate buffer hold at least n entries.
func (g *Grid) growCand(n int) []entry {
	g.cand = make([]entry, n+n/2+16)
	return g.cand
}

// scanBand is the inner loop of a band scan over one run (see moveSquare
// for the test): a leaf function, so nothing spills.
func scanBand(es, cand []entry, k1 uint32, ox, oz, nx, nz, za, zb float32) int {
	n := 0
	cand = cand[:len(es)]
	for i, t := range es {
		do := max(abs32(t.x-ox), abs32(t.z-oz))
		dn := max(abs32(t.x-nx), abs32(t.z-nz))
		lo, hi := min(do, dn), max(do, dn)
		d := (hi - lo) * (uint32(b2i(t.z >= za)) & uint32(b2i(t.z < zb))) // 0 outside the band
		cand[n] = es[i]
		n += b2i(min(k1-lo, t.k-1-lo) < d)
	}
	return n
}

// scanUniform is scanBand for a grid whose entities all share one radius
// key k: a pair changed iff exactly one of the old and new distances is
// below k, i.e. iff do-k and dn-k differ in sign.
func scanUniform(es, cand []entry, k uint32, ox, oz, nx, nz, za, zb float32) int {
	n := 0
	cand = cand[:len(es)]
	for i := range es {
		t := &es[i]
		do := max(abs32(t.x-ox), abs32(t.z-oz))
		dn := max(abs32(t.x-nx), abs32(t.z-nz))
		// Changed: do-k and dn-k differ in sign; in the band: za <= z < zb.
		// Both as 0/1 without a branch (the filter is unpredictable).
		c := uint32(int32(do-k)^int32(dn-k)) >> 31
		c &= uint32(b2i(t.z >= za)) & uint32(b2i(t.z < zb))
		cand[n] = *t
		n += int(c)
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

// A uniform move links and unlinks its pairs at once, rather than logging
// them for a sorted flush, while the lists are short (an unlink searches
// both lists: a mean length up to directMaxMean) and all of them fit in a
// core's cache (directMaxLive elements, 2 MiB); beyond either, visiting
// each list once per flush, in memory order, is cheaper.
const (
	directMaxMean = 64
	directMaxLive = 1 << 19
)

// linkRun tests one run of a direct uniform move (see bandLines) and links
// or unlinks each changed pair at once: a pair changed iff exactly one of
// the old and new distances is below the shared key. The test branches, as
// the rare change is well predicted not taken.
func (g *Grid) linkRun(es []entry, mv *bandMove) {
	k := int32(mv.k)
	ox, oz, nx, nz, za, zb := mv.ox, mv.oz, mv.nx, mv.nz, mv.za, mv.zb
	for i := range es {
		t := &es[i]
		do := int32(max(abs32(t.x-ox), abs32(t.z-oz))) - k
		dn := int32(max(abs32(t.x-nx), abs32(t.z-nz))) - k
		if do^dn < 0 && t.z >= za && t.z < zb {
			g.flipUniform(mv.h, t.h, dn < 0)
		}
	}
}

// flipUniform links (enter) or unlinks the mutual pair (h, t) now, with its
// two events.
func (g *Grid) flipUniform(h, t Handle, enter bool) {
	if h == t {
		return
	}
	g.events = append(g.events, Event{Watcher: h, Target: t, Enter: enter}, Event{Watcher: t, Target: h, Enter: enter})
	ls := &g.lists
	if enter {
		ls.insert(h, t, mutual)
		ls.insert(t, h, mutual)
		return
	}
	ls.unlinkMutual(h, t)
	ls.unlinkMutual(t, h)
}
