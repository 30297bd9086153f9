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
		for _, e := range g.up[s] {
			i, j := o2n[s], o2n[e.o]
			du[min(i, j)]++
			dl[max(i, j)]++
		}
		if ns := o2n[s]; ns >= 0 {
			cu[ns], cl[ns] = int32(cap(g.up[s])), int32(cap(g.lo[s]))
		}
	}
	oldUp := g.up
	up, ua := carve(du, cu, g.spare[0])
	lo, la := carve(dl, cl, g.spare[1])
	g.spare = g.arena // no list is left in them once the copy below is done
	g.arena = [2][]pair{ua, la}
	g.up, g.lo = up, lo
	g.body, g.anc = body, anc
	for s := range n {
		for _, e := range oldUp[s] {
			i, j := o2n[s], o2n[e.o]
			if i < j {
				g.link(i, j, e.m&bothBits)
			} else {
				g.link(j, i, swapBits(e.m&bothBits))
			}
		}
	}
	g.loStale = false // link wrote both entries of every pair
	g.carveCells(live)
	g.cellIdx = make([]int32, live)
	for s := range int32(live) {
		g.place(s)
	}
	g.pairs.reset()
	g.cellPool.reset()
	g.mark = make([]uint32, live)
	g.token = 0
	g.moved = make([]uint64, (live+63)/64)
	g.holes, g.disorder = 0, 0
}

// carve returns empty lists over one arena in slot order, each with room
// for its count and half more, and at least the room it had (so that a
// list that grew once does not grow again after every compaction: in a
// steady state, growth stops), reusing arena if it is large enough; it also
// returns the arena.
func carve(deg, had []int32, arena []pair) ([][]pair, []pair) {
	room := func(s int) int { return int(max(deg[s]+deg[s]/2+4, had[s])) }
	total := 0
	for s := range deg {
		total += room(s)
	}
	if cap(arena) < total {
		arena = make([]pair, total+total/8)
	}
	out := make([][]pair, len(deg))
	off := 0
	for s := range deg {
		c := room(s)
		out[s] = arena[off : off : off+c]
		off += c
	}
	return out, arena
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
