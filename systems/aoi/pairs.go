package aoi

import (
	"math"
	"math/bits"
	"slices"
	"unsafe"
)

// A neighbour list is a span of one arena shared by all lists. An entry is
// the partner's slot in the low 30 bits with two bits of state seen from
// the list's owner: seesBit (the owner sees the partner) and seenBit (the
// partner sees the owner). A pair i < j is in the upper list of i and the
// lower list of j, whose entry holds the same bits swapped. The upper
// entry is the truth; the lower one's bits may be stale (see
// Grid.loStale). Neither entry knows where the other is: a change that
// needs it finds it in the partner's list (see find), a short sequential
// read, where an index kept beside every entry cost a second arena, a miss
// of its own on every change and a fix-up of the entry moved into a
// removed one's place. Offsets instead of slices leave the GC nothing to
// scan or guard with write barriers. Slots have 30 bits: a grid of more
// than 2^30 entities (16 GiB of bodies alone) is beyond any machine this
// runs on.
type span struct {
	off  int    // first entry in Grid.ent
	n, c uint32 // entries, room
}

const (
	seesBit  = 1 << 31
	seenBit  = 1 << 30
	bothBits = seesBit | seenBit
	idxMask  = seenBit - 1
)

// swapBits turns a pair's state into its mirror's.
func swapBits(b uint32) uint32 { return b>>1&seenBit | b<<1&seesBit }

// partner is the slot of entry e.
func partner(e uint32) int32 { return int32(e & idxMask) }

// entries is l's entries. It aliases the arena: a push may move it.
func (g *Grid) entries(l span) []uint32 { return g.ent[l.off : l.off+int(l.n)] }

// find returns the index of the entry of l whose partner is slot s. The
// pair is listed (the lists' invariant), so it is found.
func (g *Grid) find(l span, s int32) uint32 {
	es := g.entries(l)
	k := len(es)
	if g.vector && k > 0 {
		k = findVec(&es[0], k, uint32(s))
	} else {
		for j, e := range es {
			if e&idxMask == uint32(s) {
				k = j
				break
			}
		}
	}
	if k == len(es) {
		panic("aoi: a pair is missing from its partner's list") // a broken invariant, not input
	}
	return uint32(k)
}

// prefetch asks for the first lines of l's entries ahead of a search.
func (g *Grid) prefetch(l span) {
	if l.n > 0 {
		prefetchVec(&g.ent[l.off], int(l.n))
	}
}

// push appends entry e to l, moving l to a block twice its room when it is
// full (reported, so that the caller can count the disorder).
func (g *Grid) push(l *span, e uint32) (grew bool) {
	if l.n == l.c {
		g.regrow(l)
		grew = true
	}
	g.ent[l.off+int(l.n)] = e
	l.n++
	return grew
}

// regrow moves l to a block of twice its room (at least 4): one another
// list gave up, else one at the arena's end, so that in a steady state a
// growing list allocates nothing. l's own block is given up, by class: a
// block of room c is in class floor(log2 c) and serves any need up to
// 1<<class.
func (g *Grid) regrow(l *span) {
	k := bits.Len(uint(max(2*l.c, 4) - 1))
	size := 1 << k
	var off int
	if n := len(g.freeBlocks[k]); n > 0 {
		off = g.freeBlocks[k][n-1]
		g.freeBlocks[k] = g.freeBlocks[k][:n-1]
	} else {
		off = len(g.ent)
		if off+size > cap(g.ent) { // the arena moves, by a quarter: the only allocation
			g.ent = slices.Grow(g.ent, max(size, off/4))
		}
		g.ent = g.ent[:off+size]
	}
	copy(g.ent[off:], g.entries(*l))
	if l.c > 0 {
		c := bits.Len32(l.c) - 1
		g.freeBlocks[c] = append(g.freeBlocks[c], l.off)
	}
	l.off, l.c = off, uint32(size)
}

// link lists the pair i < j with the given state (seen from i).
func (g *Grid) link(i, j int32, bits uint32) {
	if g.push(&g.up[i], uint32(j)|bits) {
		g.disorder++
	}
	if g.push(&g.lo[j], uint32(i)|swapBits(bits)) {
		g.disorder++
	}
}

// unpair drops upper entry k of i and its mirror.
func (g *Grid) unpair(i int32, k uint32) {
	j := partner(g.ent[g.up[i].off+int(k)])
	g.unpairAt(i, k, j, g.find(g.lo[j], i))
}

// unpairAt drops upper entry ki of i and lower entry kj of j, its mirror,
// each replaced by the last entry of its list.
func (g *Grid) unpairAt(i int32, ki uint32, j int32, kj uint32) {
	g.drop(&g.up[i], ki)
	g.drop(&g.lo[j], kj)
}

// drop replaces entry k of l by its last.
func (g *Grid) drop(l *span, k uint32) {
	l.n--
	g.ent[l.off+int(k)] = g.ent[l.off+int(l.n)]
}

// flip stores the new state bits of upper entry ki of i, whose partner is
// j with the mirror at kj (unused while the lower bits are stale) and whose
// state was old, and of its mirror, with the events of the directions that
// changed.
func (g *Grid) flip(i int32, ki uint32, j int32, kj, old, bits uint32, silent bool) {
	g.ent[g.up[i].off+int(ki)] = uint32(j) | bits
	if !g.loStale {
		g.ent[g.lo[j].off+int(kj)] = uint32(i) | swapBits(bits)
	}
	if !silent {
		g.emit(i, j, old, bits)
	}
}

// emit appends the events of the pair i < j whose state seen from i went
// from old to bits.
func (g *Grid) emit(i, j int32, old, bits uint32) {
	ch := (old ^ bits) & bothBits
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

// flipAt flips upper entry k of i to bits. The mirror is in another list,
// far in memory, so it is looked for only when the lower bits are kept.
func (g *Grid) flipAt(i int32, k int, bits uint32, silent bool) {
	e, kj := g.ent[g.up[i].off+k], uint32(0)
	j := partner(e)
	if !g.loStale {
		kj = g.find(g.lo[j], i)
	}
	g.flip(i, uint32(k), j, kj, e, bits, silent)
}

// testAll tests every pair of s at the current positions.
func (g *Grid) testAll(s int32, silent bool) {
	circle := g.shape == Circle
	p := g.body[s]
	for k, e := range g.entries(g.up[s]) {
		if bits := pairBits(p, g.body[partner(e)], circle); bits != e&bothBits {
			g.flipAt(s, k, bits, silent)
		}
	}
	for k, e := range g.entries(g.lo[s]) {
		o := partner(e)
		ki := g.find(g.up[o], s)
		u := g.ent[g.up[o].off+int(ki)]
		if bits := pairBits(g.body[o], p, circle); bits != u&bothBits {
			g.flip(o, ki, s, uint32(k), u, bits, silent)
		}
	}
}

// testMoved tests every pair with a moved entity, walking the moved
// entities in slot order, each re-referenced first if it went far (see
// update): both of its lists. A pair of two moved entities is tested twice,
// the second time finding it up to date: cheaper than a check per entry
// when few move.
//
// A flip writes the entity's own entry at once and the mirror, in the
// partner's list and far in memory, one moved entity later: the search for
// it is prefetched when the flip is found, and the next entity's lists are
// tested meanwhile (see mirror). Searched at once, the mirrors took a third
// of the time. A mirror in the next entity's own lists is written before
// they are tested, and every pending one before a re-reference. The
// moved entities are far apart in memory: each prefetches the lists of the
// entity four on, and the spans, body and anchor of the one eight on (W5
// with 1 % moving: −37 %).
func (g *Grid) testMoved() {
	g.syncLower()
	g.denseRun = 0
	g.pass, g.dense = true, false
	scan, key := g.scanners()
	circle := g.shape == Circle
	prev, cur := g.mirrors[:0], g.mirrors2[:0]
	for x, s := range g.movedList {
		if y := x + 4; y < len(g.movedList) { // the lists of the entity four on, its spans eight on
			t := g.movedList[y]
			g.prefetch(g.up[t])
			g.prefetch(g.lo[t])
			if y += 4; y < len(g.movedList) {
				t = g.movedList[y]
				prefetch4(unsafe.Pointer(&g.up[t]), unsafe.Pointer(&g.lo[t]), unsafe.Pointer(&g.body[t]), unsafe.Pointer(&g.anc[t]))
			}
		}
		if g.far(s) {
			prev = g.writeMirrors(prev, -1)
			g.rerefAt(s)
		} else {
			prev = g.writeMirrors(prev, s)
		}
		p := g.body[s]
		es := g.entries(g.up[s])
		for k := 0; ; k++ {
			if k = scan(es, k, g.body, p, key); k == len(es) {
				break
			}
			e := es[k]
			j := partner(e)
			bits := e&bothBits ^ bothBits // uniform: a symmetric pair changes both ways
			if key == 0 {
				bits = pairBits(p, g.body[j], circle)
			}
			es[k] = uint32(j) | bits
			g.emit(s, j, e, bits)
			cur = g.mirror(cur, j, true, s, swapBits(bits))
		}
		es = g.entries(g.lo[s])
		for k := 0; ; k++ {
			if k = scan(es, k, g.body, p, key); k == len(es) {
				break
			}
			o := partner(es[k])
			old, bits := swapBits(es[k]&bothBits), pairBits(g.body[o], p, circle) // seen from o
			es[k] = uint32(o) | swapBits(bits)
			g.emit(o, s, old, bits)
			cur = g.mirror(cur, o, false, s, bits)
		}
		g.writeMirrors(prev, -1)
		prev, cur = cur, prev[:0]
	}
	g.mirrors, g.mirrors2 = g.writeMirrors(prev, -1), cur
	g.pass = false
}

// A mirrorWrite is the pending write of a flipped pair's entry in the
// list of slot t (its lower list if lower), whose partner is p: state bits.
type mirrorWrite struct {
	t, p  int32
	lower bool
	bits  uint32
}

// mirror queues the write of the entry of p in a list of t, prefetching
// the list for the search.
func (g *Grid) mirror(ws []mirrorWrite, t int32, lower bool, p int32, bits uint32) []mirrorWrite {
	g.prefetch(g.list(t, lower))
	return append(ws, mirrorWrite{t: t, p: p, lower: lower, bits: bits})
}

// writeMirrors writes the pending entries into the lists of slot only, or
// of every slot if only is -1, and returns those left.
func (g *Grid) writeMirrors(ws []mirrorWrite, only int32) []mirrorWrite {
	left := ws[:0]
	for _, w := range ws {
		if only >= 0 && w.t != only {
			left = append(left, w)
			continue
		}
		l := g.list(w.t, w.lower)
		g.ent[l.off+int(g.find(l, w.p))] = uint32(w.p) | w.bits
	}
	return left
}

// list is t's lower list if lower, else its upper one.
func (g *Grid) list(t int32, lower bool) span {
	if lower {
		return g.lo[t]
	}
	return g.up[t]
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
	if g.vector && key != 0 {
		g.denseVector(key)
		g.pass = false
		return
	}
	body, moved, circle := g.body, g.moved, g.shape == Circle
	for i := range int32(len(g.up)) {
		if moved[i>>6]>>(i&63)&1 == 0 {
			g.testUnmoved(i)
			continue
		}
		if g.far(i) {
			g.rerefAt(i)
		}
		es := g.entries(g.up[i])
		p := body[i]
		for k := 0; ; k++ {
			if k = scan(es, k, body, p, key); k == len(es) {
				break
			}
			e := es[k]
			bits := e&bothBits ^ bothBits // uniform: a symmetric pair changes both ways
			if key == 0 {
				bits = pairBits(p, body[partner(e)], circle)
			}
			g.flipAt(i, k, bits, false)
		}
	}
	g.pass = false
}

// denseVector is testDense's walk when every entity has the same radius,
// with key, on a machine with the vector loops: they walk the slots and
// return only at what needs Go: a pair to flip, a slot that did not move or
// one to re-reference.
func (g *Grid) denseVector(key uint32) {
	circle := g.shape == Circle
	to := int32(len(g.up))
	i, k := int32(0), 0
	ahead := g.ahead()
	for {
		// The arena may have moved: a re-reference's links push.
		ent, up, body, anc, moved := unsafe.SliceData(g.ent), &g.up[0], &g.body[0], &g.anc[0], &g.moved[0]
		var ev *[]Event
		if g.loStale {
			ev = &g.events
		}
		if circle {
			i, k = denseCircleVec(ent, up, body, anc, moved, key, g.nearBits, i, to, k, ev, ahead)
		} else {
			i, k = denseSquareVec(ent, up, body, anc, moved, key, g.nearBits, i, to, k, ev, ahead)
		}
		switch {
		case i == to:
			return
		case k == -1:
			g.testUnmoved(i)
			i, k = i+1, 0
		case k == -2:
			g.rerefAt(i)
			k = 0
		default:
			g.flipAt(i, k, g.ent[g.up[i].off+k]&bothBits^bothBits, false) // uniform: a symmetric pair changes both ways
			k++
		}
	}
}

// ahead is how many slots ahead of the walk it prefetches the bodies and
// anchors: about as far as the partners of a slot reach, the cell rows
// within the largest reach (slots are in cell order). The walk reads the
// bodies of those partners, a re-reference their anchors, and a tick of
// lists streamed through the caches since the walk last passed them has
// left them cold.
func (g *Grid) ahead() int {
	rows := math.Ceil(g.reachOf(g.maxRadius())*g.inv) + 1
	return int(min(rows*float64(len(g.body))/float64(g.rows), float64(len(g.body)))) // a radius beyond the bounds: no prefetch
}

// testUnmoved tests, in a dense pass, the upper pairs of unmoved slot i
// whose partner moved.
func (g *Grid) testUnmoved(i int32) {
	es, p, circle := g.entries(g.up[i]), g.body[i], g.shape == Circle
	for k := 0; ; k++ {
		if circle {
			k = nextCircleMoved(es, k, g.body, p, g.moved)
		} else {
			k = nextSquareMoved(es, k, g.body, p, g.moved)
		}
		if k == len(es) {
			return
		}
		g.flipAt(i, k, pairBits(p, g.body[partner(es[k])], circle), false)
	}
}

// staleAfter is the number of dense passes in a row after which they stop
// writing the lower entries' state bits (see Grid.loStale): a flip's write
// into the partner's lower list is a cache miss, a fifth of W4's time, and
// only the sparse pass needs those bits in place.
const staleAfter = 2

// lowerBits is the state of lower entry k of s seen from s: from its
// mirror, the upper entry, when the lower lists' bits are stale.
func (g *Grid) lowerBits(s int32, k int) uint32 {
	e := g.ent[g.lo[s].off+k]
	if g.loStale {
		u := g.up[partner(e)]
		return swapBits(g.ent[u.off+int(g.find(u, s))] & bothBits)
	}
	return e & bothBits
}

// syncLower rewrites the lower lists from the upper ones if their bits are
// stale (see rebuildLower).
func (g *Grid) syncLower() {
	if g.loStale {
		g.rebuildLower()
	}
}

// rebuildLower rewrites the lower lists from the upper ones: each keeps its
// room and its partners, now in slot order, and their bits are the upper
// entries'.
func (g *Grid) rebuildLower() {
	for j := range g.lo {
		g.lo[j].n = 0
	}
	for i, u := range g.up {
		for _, e := range g.entries(u) {
			l := &g.lo[partner(e)]
			g.ent[l.off+int(l.n)] = uint32(i) | swapBits(e&bothBits)
			l.n++
		}
	}
	g.loStale = false
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
type scanner func(es []uint32, k int, body []body, p body, key uint32) int

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
func nextSquare(es []uint32, k int, body []body, p body, _ uint32) int {
	for j, e := range es[k:] {
		if squareBits(p, body[e&idxMask]) != e&bothBits {
			return k + j
		}
	}
	return len(es)
}

// In the uniform scanners, t's sign is "in range", and e's sign the stored
// state: they differ iff t^e is negative.

//go:noinline
func nextSquareUniform(es []uint32, k int, body []body, p body, key uint32) int {
	for j, e := range es[k:] {
		q := body[e&idxMask]
		if t := (abs32(q.x-p.x) - key) & (abs32(q.z-p.z) - key); int32(t^e) < 0 {
			return k + j
		}
	}
	return len(es)
}

// nextSquareVec and nextCircleVec are the uniform scanners with the
// vector loops of scan_amd64.s (see haveVector).
func nextSquareVec(es []uint32, k int, body []body, p body, key uint32) int {
	if k == len(es) {
		return k
	}
	return k + scanSquareVec(&es[k], len(es)-k, &body[0], position(p), key)
}

func nextCircleVec(es []uint32, k int, body []body, p body, key uint32) int {
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
func nextSquareMoved(es []uint32, k int, body []body, p body, moved []uint64) int {
	for j, e := range es[k:] {
		if o := e & idxMask; moved[o>>6]>>(o&63)&1 != 0 && squareBits(p, body[o]) != e&bothBits {
			return k + j
		}
	}
	return len(es)
}

//go:noinline
func nextCircle(es []uint32, k int, body []body, p body, _ uint32) int {
	for j, e := range es[k:] {
		if circleBits(p, body[e&idxMask]) != e&bothBits {
			return k + j
		}
	}
	return len(es)
}

//go:noinline
func nextCircleUniform(es []uint32, k int, body []body, p body, key uint32) int {
	for j, e := range es[k:] {
		q := body[e&idxMask]
		if t := distCircle(q.x-p.x, q.z-p.z) - key; int32(t^e) < 0 {
			return k + j
		}
	}
	return len(es)
}

//go:noinline
func nextCircleMoved(es []uint32, k int, body []body, p body, moved []uint64) int {
	for j, e := range es[k:] {
		if o := e & idxMask; moved[o>>6]>>(o&63)&1 != 0 && circleBits(p, body[o]) != e&bothBits {
			return k + j
		}
	}
	return len(es)
}
