package aoi

import "math"

// pair is one entry of a neighbour list: the other slot, and in m the
// index of the mirror entry (the same pair in the other's list) with two
// bits of state seen from the list's owner: seesBit (the owner sees o) and
// seenBit (o sees the owner). The mirror holds the same bits swapped. The
// index has 30 bits: a list of more than 2^30 pairs (8 GiB) is beyond any
// machine this runs on.
type pair struct {
	o int32
	m uint32
}

const (
	seesBit  = 1 << 31
	seenBit  = 1 << 30
	bothBits = seesBit | seenBit
	idxMask  = seenBit - 1
)

// swapBits turns a pair's state into its mirror's.
func swapBits(b uint32) uint32 { return b>>1&seenBit | b<<1&seesBit }

// link lists the pair i < j with the given state (seen from i).
func (g *Grid) link(i, j int32, bits uint32) {
	ki, kj := uint32(len(g.up[i])), uint32(len(g.lo[j]))
	if int(ki) == cap(g.up[i]) {
		g.disorder++
		g.up[i] = g.pairs.grow(g.up[i])
	}
	if int(kj) == cap(g.lo[j]) {
		g.disorder++
		g.lo[j] = g.pairs.grow(g.lo[j])
	}
	g.up[i] = append(g.up[i], pair{o: j, m: kj | bits})
	g.lo[j] = append(g.lo[j], pair{o: i, m: ki | swapBits(bits)})
}

// unpair drops upper entry k of i and its mirror, each replaced by the last
// entry of its list (whose mirror is told its new index).
func (g *Grid) unpair(i int32, k uint32) {
	e := g.up[i][k]
	j, kj := e.o, e.m&idxMask
	l := uint32(len(g.up[i]) - 1)
	if k != l {
		last := g.up[i][l]
		g.up[i][k] = last
		mm := &g.lo[last.o][last.m&idxMask].m
		*mm = *mm&bothBits | k
	}
	g.up[i] = g.up[i][:l]
	l = uint32(len(g.lo[j]) - 1)
	if kj != l {
		last := g.lo[j][l]
		g.lo[j][kj] = last
		mm := &g.up[last.o][last.m&idxMask].m
		*mm = *mm&bothBits | kj
	}
	g.lo[j] = g.lo[j][:l]
}

// flip stores the new state bits of upper entry ki of i (e before the
// change) and its mirror, with the events of the directions that changed.
func (g *Grid) flip(i int32, ki uint32, e pair, bits uint32, silent bool) {
	j, kj := e.o, e.m&idxMask
	g.up[i][ki].m = kj | bits
	if !g.loStale {
		g.lo[j][kj].m = ki | swapBits(bits)
	}
	if silent {
		return
	}
	ch := (e.m ^ bits) & bothBits
	hi, hj := g.body[i].h, g.body[j].h
	if ch == bothBits && (bits == 0 || bits == bothBits) { // the common case: both ways at once
		enter := bits != 0
		g.events = append(g.events, Event{Watcher: hi, Target: hj, Enter: enter}, Event{Watcher: hj, Target: hi, Enter: enter})
		return
	}
	if ch&seesBit != 0 {
		g.events = append(g.events, Event{Watcher: hi, Target: hj, Enter: bits&seesBit != 0})
	}
	if ch&seenBit != 0 {
		g.events = append(g.events, Event{Watcher: hj, Target: hi, Enter: bits&seenBit != 0})
	}
}

// testAll tests every pair of s at the current positions.
func (g *Grid) testAll(s int32, silent bool) {
	circle := g.shape == Circle
	p := g.body[s]
	for k, e := range g.up[s] {
		if bits := pairBits(p, g.body[e.o], circle); bits != e.m&bothBits {
			g.flip(s, uint32(k), e, bits, silent)
		}
	}
	for _, e := range g.lo[s] {
		ki := e.m & idxMask
		u := g.up[e.o][ki]
		if bits := pairBits(g.body[e.o], p, circle); bits != u.m&bothBits {
			g.flip(e.o, ki, u, bits, silent)
		}
	}
}

// testMoved tests every pair with a moved entity, walking the moved
// entities in slot order, each re-referenced first if it went far (see
// update): both of its lists. A pair of two moved entities is tested twice,
// the second time finding it up to date: cheaper than a check per entry
// when few move. The flip of a lower entry rebuilds its mirror from it
// instead of reading the partner's list, which is far in memory.
func (g *Grid) testMoved() {
	g.syncLower()
	g.denseRun = 0
	g.pass, g.dense = true, false
	scan, key := g.scanners()
	circle := g.shape == Circle
	for _, s := range g.movedList {
		if g.far(s) {
			g.rerefAt(s)
		}
		p := g.body[s]
		g.flipUpper(s, g.up[s], p, scan, key)
		es := g.lo[s]
		for k := 0; ; k++ {
			if k = scan(es, k, g.body, p, key); k == len(es) {
				break
			}
			e := es[k]
			g.flip(e.o, e.m&idxMask, pair{o: s, m: uint32(k) | swapBits(e.m&bothBits)}, pairBits(g.body[e.o], p, circle), false)
		}
	}
	g.pass = false
}

// testDense does testMoved's work when most entities moved, walking every
// upper list once in slot order, each pair tested once: the lists are read
// in memory order and the partners, numbered in cell order, are near in
// memory too.
func (g *Grid) testDense() {
	if g.denseRun < staleAfter {
		g.denseRun++
	} else {
		g.loStale = true
	}
	g.pass, g.dense = true, true
	scan, key := g.scanners()
	body, moved, circle := g.body, g.moved, g.shape == Circle
	for i := range int32(len(g.up)) {
		mi := moved[i>>6]>>(i&63)&1 != 0
		if mi && g.far(i) {
			g.rerefAt(i)
		}
		es := g.up[i]
		if len(es) == 0 {
			continue
		}
		p := body[i]
		if !mi { // only the pairs whose partner moved
			for k := 0; ; k++ {
				if circle {
					k = nextCircleMoved(es, k, body, p, moved)
				} else {
					k = nextSquareMoved(es, k, body, p, moved)
				}
				if k == len(es) {
					break
				}
				e := es[k]
				g.flip(i, uint32(k), e, pairBits(p, body[e.o], circle), false)
			}
			continue
		}
		for k := 0; ; k++ {
			if k = scan(es, k, body, p, key); k == len(es) {
				break
			}
			e := es[k]
			bits := e.m&bothBits ^ bothBits // uniform: a symmetric pair changes both ways
			if key == 0 {
				bits = pairBits(p, body[e.o], circle)
			}
			g.flip(i, uint32(k), e, bits, false)
		}
	}
	g.pass = false
}

// staleAfter is the number of dense passes in a row after which they stop
// writing the lower entries' state bits (see Grid.loStale): a flip's write
// into the partner's lower list is a cache miss, a fifth of W4's time, and
// only the sparse pass needs those bits in place.
const staleAfter = 2

// lowerBits is the state of lower entry e seen from its list's owner: from
// its mirror, the upper entry, when the lower lists' bits are stale.
func (g *Grid) lowerBits(e pair) uint32 {
	if g.loStale {
		return swapBits(g.up[e.o][e.m&idxMask].m & bothBits)
	}
	return e.m & bothBits
}

// syncLower writes the state bits of every lower entry from its mirror, if
// they are stale.
func (g *Grid) syncLower() {
	if !g.loStale {
		return
	}
	for _, es := range g.up {
		for k, e := range es {
			g.lo[e.o][e.m&idxMask].m = uint32(k) | swapBits(e.m&bothBits)
		}
	}
	g.loStale = false
}

// flipUpper flips every upper entry of i that scan finds.
func (g *Grid) flipUpper(i int32, es []pair, p body, scan scanner, key uint32) {
	circle := g.shape == Circle
	for k := 0; ; k++ {
		if k = scan(es, k, g.body, p, key); k == len(es) {
			return
		}
		e := es[k]
		bits := e.m&bothBits ^ bothBits // uniform: a symmetric pair changes both ways
		if key == 0 {
			bits = pairBits(p, g.body[e.o], circle)
		}
		g.flip(i, uint32(k), e, bits, false)
	}
}

// rerefAt re-references moved slot s inside the test pass (see update);
// cursor marks the slots before s as walked. The loops call it when far(s).
func (g *Grid) rerefAt(s int32) {
	g.cursor = s
	g.reref(s)
}

// far reports whether s is farther than half the skin (less a margin for
// the float32 rounding) from its reference. Small enough to inline.
func (g *Grid) far(s int32) bool {
	b, a := &g.body[s], &g.anc[s].p
	dx, dz := b.x-a.x, b.z-a.z
	if g.shape == Circle { // the margin covers a fused multiply-add too
		return dx*dx+dz*dz > g.near
	}
	return max(abs32(dx), abs32(dz)) > g.nearBits
}

// walked reports whether the test pass has already tested the upper list
// of o, so that a pair linked to it now must be tested at once: o is
// before the cursor and, in a sparse pass, moved (an unmoved o's pairs
// are tested from its moved partners' lower lists).
func (g *Grid) walked(o int32) bool {
	return g.pass && o < g.cursor && (g.dense || g.moved[o>>6]>>(o&63)&1 != 0)
}

// uniformKey reports whether every live entity has the same positive
// radius, and its key. Then every pair is symmetric, both of its bits are
// equal, and the dense loops test one key for both directions: in range iff
// d < key, the sign of d-key (both below 1<<31). For the square, both
// coordinates below the key is the AND of the two signs.
func (g *Grid) uniformKey() (bool, uint32) {
	if len(g.radii) != 1 || int(g.radii[0].n) != g.n {
		return false, 0
	}
	return true, g.keyOf(g.radii[0].r)
}

// A scanner returns the index of the first entry of es from k on whose
// stored state the test at the current positions contradicts, or len(es);
// p is the list's owner. The scanners are leaves, kept out of line and
// written once per shape so that the test inlines: with no call in the
// loop everything stays in registers (a flip called from the loop made the
// compiler reload four values on every entry), and their callers flip what
// they find. The uniform ones test one key (see uniformKey); the moved
// ones skip the entries whose partner did not move.
type scanner func(es []pair, k int, body []body, p body, key uint32) int

// scanners picks the grid's scanner for all entries, and the key of the
// uniform ones (0 if the grid is not uniform).
func (g *Grid) scanners() (scanner, uint32) {
	uni, key := g.uniformKey()
	switch {
	case g.shape == Circle && uni && g.vector:
		return nextCircleVec, key
	case g.shape == Circle && uni:
		return nextCircleUniform, key
	case g.shape == Circle:
		return nextCircle, key
	case uni && g.vector:
		return nextSquareVec, key
	case uni:
		return nextSquareUniform, key
	}
	return nextSquare, key
}

//go:noinline
func nextSquare(es []pair, k int, body []body, p body, _ uint32) int {
	for j, e := range es[k:] {
		if squareBits(p, body[e.o]) != e.m&bothBits {
			return k + j
		}
	}
	return len(es)
}

// In the uniform scanners, t's sign is "in range", and e.m's sign the
// stored state: they differ iff t^e.m is negative.

//go:noinline
func nextSquareUniform(es []pair, k int, body []body, p body, key uint32) int {
	for j, e := range es[k:] {
		q := body[e.o]
		if t := (abs32(q.x-p.x) - key) & (abs32(q.z-p.z) - key); int32(t^e.m) < 0 {
			return k + j
		}
	}
	return len(es)
}

// nextSquareVec and nextCircleVec are the uniform scanners with the
// vector loops of scan_amd64.s (see haveVector).
func nextSquareVec(es []pair, k int, body []body, p body, key uint32) int {
	if k == len(es) {
		return k
	}
	return k + scanSquareVec(&es[k], len(es)-k, &body[0], position(p), key)
}

func nextCircleVec(es []pair, k int, body []body, p body, key uint32) int {
	if k == len(es) {
		return k
	}
	return k + scanCircleVec(&es[k], len(es)-k, &body[0], position(p), key)
}

// position packs p's position as the first quadword of its body.
func position(p body) uint64 {
	return uint64(math.Float32bits(p.z))<<32 | uint64(math.Float32bits(p.x))
}

//go:noinline
func nextSquareMoved(es []pair, k int, body []body, p body, moved []uint64) int {
	for j, e := range es[k:] {
		if moved[e.o>>6]>>(e.o&63)&1 != 0 && squareBits(p, body[e.o]) != e.m&bothBits {
			return k + j
		}
	}
	return len(es)
}

//go:noinline
func nextCircle(es []pair, k int, body []body, p body, _ uint32) int {
	for j, e := range es[k:] {
		if circleBits(p, body[e.o]) != e.m&bothBits {
			return k + j
		}
	}
	return len(es)
}

//go:noinline
func nextCircleUniform(es []pair, k int, body []body, p body, key uint32) int {
	for j, e := range es[k:] {
		q := body[e.o]
		if t := distCircle(q.x-p.x, q.z-p.z) - key; int32(t^e.m) < 0 {
			return k + j
		}
	}
	return len(es)
}

//go:noinline
func nextCircleMoved(es []pair, k int, body []body, p body, moved []uint64) int {
	for j, e := range es[k:] {
		if moved[e.o>>6]>>(e.o&63)&1 != 0 && circleBits(p, body[e.o]) != e.m&bothBits {
			return k + j
		}
	}
	return len(es)
}
