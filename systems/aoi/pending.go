package aoi

// pending is a move requested by Move and not applied yet.
type pending struct {
	h    Handle
	x, z float32
}

// sortMin is the number of pending moves from which update applies them in
// row order: below it, the sort costs more than the locality saves.
const sortMin = 64

// Move sets h's position. An invalid handle is ignored; NaN coordinates
// become 0 and magnitudes beyond MaxCoord are clamped.
//
// The move is queued, and every query or mutation (Events, Interest,
// Watchers, Sees, Flush, Add, Remove, SetRadius, ResetEvents) first applies
// the queue, so callers observe the same sets and an equivalent event
// stream as if each move had been applied at once. A second Move of the
// same handle before that replaces the first: the events describe the net
// change. Queued moves are applied in thin-row order of their destination,
// so that consecutive moves touch neighbouring cells and lists and a tick's
// moves run from the caches, not from memory: that is most of a move's cost
// in a large space.
func (g *Grid) Move(h Handle, x, z float32) {
	if !g.Valid(h) {
		return
	}
	x, z = clampCoord(x), clampCoord(z)
	e := &g.ents[h]
	if e.p != 0 {
		p := &g.pend[e.p-1]
		p.x, p.z = x, z
		return
	}
	if e.x == x && e.z == z {
		return
	}
	g.pend = append(g.pend, pending{h: h, x: x, z: z})
	e.p = int32(len(g.pend))
}

// update applies the queued moves.
func (g *Grid) update() {
	pend := g.pend
	if len(pend) == 0 {
		return
	}
	g.pend = nil // moveNow must not see the queue; restored below
	if len(pend) < sortMin {
		for _, p := range pend {
			g.ents[p.h].p = 0
			g.moveNow(p.h, p.x, p.z)
		}
	} else {
		for _, i := range g.rowOrder(pend) {
			p := &pend[i]
			g.ents[p.h].p = 0
			g.moveNow(p.h, p.x, p.z)
		}
	}
	g.pend = pend[:0]
}

// rowOrder returns the indices of pend sorted by the thin row of their
// destination (a stable counting sort).
func (g *Grid) rowOrder(pend []pending) []int32 {
	rows := int(g.rowsT)
	if cap(g.rowCnt) < rows+1 {
		g.rowCnt = make([]int32, rows+1)
	}
	cnt := g.rowCnt[:rows+1]
	clear(cnt)
	for i := range pend {
		cnt[g.rowT(pend[i].z)+1]++
	}
	for r := 1; r <= rows; r++ {
		cnt[r] += cnt[r-1]
	}
	if cap(g.order) < len(pend) {
		g.order = make([]int32, len(pend), len(pend)+len(pend)/4)
	}
	order := g.order[:len(pend)]
	for i := range pend {
		r := g.rowT(pend[i].z)
		order[cnt[r]] = int32(i)
		cnt[r]++
	}
	return order
}
