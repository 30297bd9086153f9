package aoi

// compact renumbers the live slots in the order of the cells of their
// references, dropping dead slots, and moves every list into a fresh arena
// in that order with some room to grow. update calls it, between tests,
// when adds, removes and lists outgrowing their room have disordered the
// slots: its O(entities + pairs) cost is paid by that many changes.
func (g *Grid) compact() {
	g.stats.Compacts++
	n := len(g.body)
	start := make([]int32, len(g.cells)+1)
	for s := range n {
		if c := g.anc[s].cell; c >= 0 {
			start[c+1]++
		}
	}
	for c := range g.cells {
		start[c+1] += start[c]
	}
	live := int(start[len(g.cells)])
	o2n := make([]int32, n)
	for s := range n {
		if c := g.anc[s].cell; c >= 0 {
			o2n[s] = start[c]
			start[c]++
		} else {
			o2n[s] = -1
		}
	}
	body, anc := make([]body, live), make([]anchor, live)
	for s := range n {
		if ns := o2n[s]; ns >= 0 {
			body[ns], anc[ns] = g.body[s], g.anc[s]
			g.slotOf[body[ns].h] = ns
		}
	}
	du, dl := make([]int32, live), make([]int32, live)
	cu, cl := make([]int32, live), make([]int32, live) // each list's room so far
	for s := range n {
		for _, e := range g.entries(g.up[s]) {
			i, j := o2n[s], o2n[partner(e)]
			du[min(i, j)]++
			dl[max(i, j)]++
		}
		if ns := o2n[s]; ns >= 0 {
			cu[ns], cl[ns] = int32(g.up[s].c), int32(g.lo[s].c)
		}
	}
	oldUp, oldEnt := g.up, g.ent
	g.up, g.lo = g.carve(du, cu, dl, cl) // the upper lists first, so that the dense pass streams them
	g.clearFree()
	g.body, g.anc = body, anc
	// The upper lists, then the lower ones from them: each pass writes into
	// lists whose heads fit in the caches, where writing both entries of a
	// pair at once took twice the time. Every list has room for its count.
	for s := range n {
		for _, e := range oldEnt[oldUp[s].off : oldUp[s].off+int(oldUp[s].n)] {
			i, j, bits := o2n[s], o2n[partner(e)], e&bothBits
			if i > j {
				i, j, bits = j, i, swapBits(bits)
			}
			u := &g.up[i]
			g.ent[u.off+int(u.n)] = uint32(j) | bits
			u.n++
		}
	}
	g.rebuildLower()
	g.carveCells(live)
	g.cellIdx = make([]int32, live)
	for s := range int32(live) {
		g.place(s)
	}
	g.cellPool.reset()
	g.mark = make([]uint32, live)
	g.token = 0
	g.moved = make([]uint64, (live+63)/64)
	g.holes, g.disorder = 0, 0
}

// carve returns empty upper and lower lists over a fresh arena in slot
// order, each with room for its count (du, dl) and half more, and at least
// the room it had (cu, cl; so that a list that grew once does not grow again
// after every compaction: in a steady state, growth stops). The arena keeps
// a quarter more at its end for lists that grow: with an eighth, the lists
// that grew before the next compaction outgrew it, and the arena's move,
// a copy of all of it, was a pause of its own (W5: 30-40 ms, some 20
// ticks before each compaction). (Keeping the old arena for the next
// compaction would save an allocation a compaction at the cost of twice
// the memory.)
func (g *Grid) carve(du, cu, dl, cl []int32) (up, lo []span) {
	room := func(deg, had []int32, s int) uint32 { return uint32(max(deg[s]+deg[s]/2+4, had[s])) }
	total := 0
	for s := range du {
		total += int(room(du, cu, s)) + int(room(dl, cl, s))
	}
	g.ent = make([]uint32, total, total+total/4)
	up, lo = make([]span, len(du)), make([]span, len(dl))
	off := 0
	for s := range du {
		up[s] = span{off: off, c: room(du, cu, s)}
		off += int(up[s].c)
	}
	for s := range dl {
		lo[s] = span{off: off, c: room(dl, cl, s)}
		off += int(lo[s].c)
	}
	return up, lo
}

// clearFree forgets the blocks lists gave up (their arena is gone).
func (g *Grid) clearFree() {
	for c := range g.freeBlocks {
		g.freeBlocks[c] = g.freeBlocks[c][:0]
	}
}

// carveCells empties the cells over one array in cell order, each with
// room for its live entities and half more (at least the room it had): the
// cells around a reference, read by every reref, are then a few contiguous
// stretches.
func (g *Grid) carveCells(live int) {
	cnt := make([]int32, len(g.cells))
	for s := range live {
		cnt[g.anc[s].cell]++
	}
	room := make([]int32, len(g.cells))
	total := 0
	for c, k := range cnt {
		room[c] = max(k+k/2+1, int32(cap(g.cells[c]))) // as carve's lists
		total += int(room[c])
	}
	if cap(g.cellArena) < total {
		g.cellArena = make([]cellEntry, total+total/8)
	}
	off := 0
	for c, r := range room {
		g.cells[c] = g.cellArena[off : off : off+int(r)]
		off += int(r)
	}
}
