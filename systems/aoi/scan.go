package aoi

import "math"

// span is a run of cells to read: positions p0..p1 of line `line` of view
// ix[dir] (dir 0: the row view, a line is a thin row and positions are long
// columns; dir 1: the column view, a line is a thin column and positions are
// long rows).
type span struct {
	dir          uint8
	line, p0, p1 int32
}

// region prepares g.runs and g.fruns: the entries whose status can change
// when a centre moves from o to n, for radii between lo and hi. That is every
// entry in the area of radius hi around o or n, except those in the area of
// radius lo around both o and n (lo <= 0: none is skipped): an entity there
// is in range of both centres for every radius >= lo, and one outside the
// hi areas is out of range of both for every radius <= hi, so neither can
// change. The region is cut in two:
//
//   - thin rows that are not wholly inside the lo areas (the strips above and
//     below, and the caps of a circle) are read from the row view, one run
//     per thin row;
//   - the remaining thin rows [j0, j1] (the middle) are read from the column
//     view, one run per thin column left and right of the skipped interior;
//     the column view's cells are long, so its runs also hold entries of
//     other thin rows, which the scan filters out (g.fj0, g.fj1).
//
// Every entry is thus tested at most once. The geometry is done in float64
// with a margin eps well above the rounding of the float32 tests, so a cell
// is skipped only when every position it can hold gives the same float32
// answer. Edge cells extend to infinity outwards (positions outside the
// bounds are clamped into them), so they are never skipped as interior.
func (g *Grid) region(ox32, oz32, nx32, nz32, lo32, hi32 float32) {
	ox, oz, nx, nz := float64(ox32), float64(oz32), float64(nx32), float64(nz32)
	lo, hi := float64(lo32), float64(hi32)
	m := fmax(fmax(g.absMax, math.Abs(ox)), fmax(math.Abs(oz), fmax(math.Abs(nx), math.Abs(nz))))
	eps := 1e-5*(m+hi) + 1e-30
	g.spans = g.spans[:0]
	g.fj0, g.fj1 = 1, 0
	if g.shape == Square {
		g.regionSquare(ox, oz, nx, nz, lo, hi, eps)
	} else {
		g.regionCircle(ox, oz, nx, nz, lo, hi, eps)
	}
	g.gather()
}

// gather cuts the spans at segment boundaries into runs of entries.
func (g *Grid) gather() {
	runs, fruns := g.runs[:0], g.fruns[:0]
	total := 0
	for _, sp := range g.spans {
		ix := &g.ix[sp.dir]
		base := sp.line * ix.spl
		for p := sp.p0; p <= sp.p1; {
			sg := &ix.segs[base+p>>segShift]
			pe := min(sp.p1, p|segMask)
			if r := sg.run(p&segMask, pe&segMask); len(r) > 0 {
				total += len(r)
				if sp.dir == 0 {
					runs = append(runs, r)
				} else {
					fruns = append(fruns, r)
				}
			}
			p = pe + 1
		}
	}
	g.runs, g.fruns = runs, fruns
	if cap(g.cand) < total {
		g.cand = make([]entry, total+total/2)
	}
}

// Float coordinates to cell indices, in float64 for the geometry.
func (g *Grid) fRowT(z float64) int32 { return clampIndex((z-g.minZ)*g.invT, g.rowsT) }
func (g *Grid) fColT(x float64) int32 { return clampIndex((x-g.minX)*g.invT, g.colsT) }
func (g *Grid) fRowL(z float64) int32 { return clampIndex((z-g.minZ)*g.invL, g.rowsL) }
func (g *Grid) fColL(x float64) int32 { return clampIndex((x-g.minX)*g.invL, g.colsL) }

// innerIndex returns the cells [i0, i1] lying wholly inside [f0, f1]
// (coordinates in cell units: cell k spans [k, k+1]), edge cells excluded;
// empty when i0 > i1.
func innerIndex(f0, f1 float64, n int32) (int32, int32) {
	f0 = fmax(f0, 1)
	f1 = fmin(f1, float64(n)-1)
	if !(f0 <= f1) {
		return 1, 0
	}
	return int32(math.Ceil(f0)), int32(math.Floor(f1)) - 1
}

// middle sets the filter to thin rows [j0, j1] and returns the long rows
// of the column view that hold them.
func (g *Grid) middle(j0, j1 int32, eps float64) (int32, int32) {
	g.fj0, g.fj1 = j0, j1+1
	z0 := g.minZ + float64(j0)*g.thin
	z1 := g.minZ + float64(j1+1)*g.thin
	return g.fRowL(z0 - eps), g.fRowL(z1 + eps)
}

func (g *Grid) regionSquare(ox, oz, nx, nz, lo, hi, eps float64) {
	ho := hi + eps
	// Rows and long columns of each outer square in the row view.
	ar0, ar1 := g.fRowT(oz-ho), g.fRowT(oz+ho)
	br0, br1 := g.fRowT(nz-ho), g.fRowT(nz+ho)
	ac0, ac1 := g.fColL(ox-ho), g.fColL(ox+ho)
	bc0, bc1 := g.fColL(nx-ho), g.fColL(nx+ho)
	if ac1 < bc0 || bc1 < ac0 || ar1 < br0 || br1 < ar0 {
		// A jump: the two squares share no cell, nothing to skip.
		g.rows(ar0, ar1, ac0, ac1)
		g.rows(br0, br1, bc0, bc1)
		return
	}
	r0, r1 := min(ar0, br0), max(ar1, br1)
	c0, c1 := min(ac0, bc0), max(ac1, bc1)
	if lo > 0 {
		hl := lo - eps
		j0, j1 := innerIndex((fmax(oz, nz)-hl-g.minZ)*g.invT, (fmin(oz, nz)+hl-g.minZ)*g.invT, g.rowsT)
		i0, i1 := innerIndex((fmax(ox, nx)-hl-g.minX)*g.invT, (fmin(ox, nx)+hl-g.minX)*g.invT, g.colsT)
		if j0 <= j1 && i0 <= i1 {
			g.rows(r0, j0-1, c0, c1)
			g.rows(j1+1, r1, c0, c1)
			R0, R1 := g.middle(j0, j1, eps)
			t0, t1 := g.fColT(fmin(ox, nx)-ho), g.fColT(fmax(ox, nx)+ho)
			for c := t0; c < i0; c++ {
				g.spans = append(g.spans, span{1, c, R0, R1})
			}
			for c := i1 + 1; c <= t1; c++ {
				g.spans = append(g.spans, span{1, c, R0, R1})
			}
			return
		}
	}
	g.rows(r0, r1, c0, c1)
}

// rows adds row-view spans for thin rows r0..r1, long columns c0..c1.
func (g *Grid) rows(r0, r1, c0, c1 int32) {
	for r := r0; r <= r1; r++ {
		g.spans = append(g.spans, span{0, r, c0, c1})
	}
}

// regionCircle: the caps (thin rows not wholly within 1/√2 of the inner
// radius of both centres) go row by row, each row's chord of the outer discs
// minus the cells wholly inside both inner discs; the middle goes by thin
// columns, minus the columns wholly inside both inner discs over the whole
// middle.
func (g *Grid) regionCircle(ox, oz, nx, nz, lo, hi, eps float64) {
	ho := hi + eps
	hl := lo - eps
	r0 := g.fRowT(fmin(oz, nz) - ho)
	r1 := g.fRowT(fmax(oz, nz) + ho)
	if hl > 0 {
		s := hl * math.Sqrt2 / 2
		j0, j1 := innerIndex((fmax(oz, nz)-s-g.minZ)*g.invT, (fmin(oz, nz)+s-g.minZ)*g.invT, g.rowsT)
		if j0 <= j1 {
			z0 := g.minZ + float64(j0)*g.thin
			z1 := g.minZ + float64(j1+1)*g.thin
			wo := innerHalf(oz, z0, z1, hl)
			wn := innerHalf(nz, z0, z1, hl)
			i0, i1 := innerIndex((fmax(ox-wo, nx-wn)+eps-g.minX)*g.invT, (fmin(ox+wo, nx+wn)-eps-g.minX)*g.invT, g.colsT)
			if wo > eps && wn > eps && i0 <= i1 {
				g.chords(r0, j0-1, ox, oz, nx, nz, ho, hl, eps)
				g.chords(j1+1, r1, ox, oz, nx, nz, ho, hl, eps)
				R0, R1 := g.middle(j0, j1, eps)
				t0, t1 := g.fColT(fmin(ox, nx)-ho), g.fColT(fmax(ox, nx)+ho)
				for c := t0; c < i0; c++ {
					g.spans = append(g.spans, span{1, c, R0, R1})
				}
				for c := i1 + 1; c <= t1; c++ {
					g.spans = append(g.spans, span{1, c, R0, R1})
				}
				return
			}
		}
	}
	g.chords(r0, r1, ox, oz, nx, nz, ho, hl, eps)
}

// chords adds, for each thin row r0..r1, the long columns the outer discs
// meet, without those wholly inside both inner discs.
func (g *Grid) chords(r0, r1 int32, ox, oz, nx, nz, ho, hl, eps float64) {
	for r := r0; r <= r1; r++ {
		z0 := g.minZ + float64(r)*g.thin
		z1 := z0 + g.thin
		if r == 0 {
			z0 = math.Inf(-1)
		}
		if r == g.rowsT-1 {
			z1 = math.Inf(1)
		}
		var ca, cb [2]int32
		okA := g.chord(&ca, ox, oz, z0, z1, ho, eps)
		okB := g.chord(&cb, nx, nz, z0, z1, ho, eps)
		if !okA && !okB {
			continue
		}
		i0, i1 := int32(1), int32(0)
		if hl > 0 {
			wo := innerHalf(oz, z0, z1, hl)
			wn := innerHalf(nz, z0, z1, hl)
			if wo > eps && wn > eps {
				i0, i1 = innerIndex((fmax(ox-wo, nx-wn)+eps-g.minX)*g.invL, (fmin(ox+wo, nx+wn)-eps-g.minX)*g.invL, g.colsL)
			}
		}
		switch {
		case !okA:
			g.rowMinus(r, cb[0], cb[1], i0, i1)
		case !okB:
			g.rowMinus(r, ca[0], ca[1], i0, i1)
		case ca[1]+1 < cb[0]:
			g.rowMinus(r, ca[0], ca[1], i0, i1)
			g.rowMinus(r, cb[0], cb[1], i0, i1)
		case cb[1]+1 < ca[0]:
			g.rowMinus(r, cb[0], cb[1], i0, i1)
			g.rowMinus(r, ca[0], ca[1], i0, i1)
		default:
			g.rowMinus(r, min(ca[0], cb[0]), max(ca[1], cb[1]), i0, i1)
		}
	}
}

// chord sets c to the long columns the disc of radius rad around (cx, cz)
// meets within the thin row [z0, z1]; false if it misses the row.
func (g *Grid) chord(c *[2]int32, cx, cz, z0, z1, rad, eps float64) bool {
	d := 0.0
	if cz < z0 {
		d = z0 - cz
	} else if cz > z1 {
		d = cz - z1
	}
	if d > rad {
		return false
	}
	w := math.Sqrt(rad*rad-d*d) + eps
	c[0], c[1] = g.fColL(cx-w), g.fColL(cx+w)
	return true
}

// innerHalf is the half-width of the chord of the disc of radius rad around
// z = cz that holds over the whole z-range [z0, z1] (0 if none).
func innerHalf(cz, z0, z1, rad float64) float64 {
	d := fmax(math.Abs(cz-z0), math.Abs(cz-z1)) // +Inf on edge rows
	if !(d < rad) {
		return 0
	}
	return math.Sqrt(rad*rad - d*d)
}

// rowMinus adds the long columns c0..c1 of thin row r without i0..i1.
func (g *Grid) rowMinus(r, c0, c1, i0, i1 int32) {
	if i0 > i1 || i1 < c0 || i0 > c1 {
		g.spans = append(g.spans, span{0, r, c0, c1})
		return
	}
	if c0 < i0 {
		g.spans = append(g.spans, span{0, r, c0, i0 - 1})
	}
	if i1 < c1 {
		g.spans = append(g.spans, span{0, r, i1 + 1, c1})
	}
}

// fmax and fmin are max and min for the finite values of the geometry,
// without the builtins' NaN and signed-zero handling.
func fmax(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

func fmin(a, b float64) float64 {
	if a < b {
		return a
	}
	return b
}
