package aoi

// Pair states from one entity's (the owner's) point of view.
const (
	none   uint8 = iota // not linked
	sees                // the owner sees the other, not the reverse
	mutual              // both see each other
	seenBy              // the other sees the owner, not the reverse
)

func state(ownerSees, otherSees bool) uint8 {
	switch {
	case ownerSees && otherSees:
		return mutual
	case ownerSees:
		return sees
	case otherSees:
		return seenBy
	}
	return none
}

// mirror is the same pair's state from the other entity's point of view.
func mirror(s uint8) uint8 {
	switch s {
	case sees:
		return seenBy
	case seenBy:
		return sees
	}
	return s
}

// pairChange is one logged change: the pair (w, t) went from s to s2, seen
// from w.
type pairChange struct {
	w, t  Handle
	s, s2 uint8
}

// op is one side of a pairChange: owner's list changes other from s to s2.
type op struct {
	owner, other Handle
	s, s2        uint8
}

// list is an entity's neighbour list, a region of the arena in three
// sections:
//
//	arena[off : off+a]    sees (the owner sees them only)
//	arena[off+a : off+b]  mutual
//	arena[off+b : off+n]  seenBy (they see the owner only)
//
// so [0, b) is the interest set and [a, n) the watcher set, and a pair seen
// both ways is stored once. Moving one element between sections is an O(1)
// rotation.
type list struct {
	off, n, cap int32
	a, b        int32
}

// lists holds every neighbour list in one arena, in handle order after each
// compaction, and the log of changes not yet applied to them.
//
// Moves do not touch the lists: they only log the pairs that changed (the
// scan needs positions, not sets). The log is applied when a list is read
// (Interest, Watchers, Flush) or when it grows large. A large log is sorted
// by owner (counting sort) and applied owner after owner, so the lists are
// visited once each, in memory order, instead of once per change at random:
// that is what keeps a move cheap when the lists far exceed the caches.
type lists struct {
	arena   []Handle
	spare   []Handle // the next arena, for compaction
	l       []list   // per handle
	live    int      // elements in use
	garbage int      // arena elements no longer in any list
	log     []pairChange

	// flush scratch
	ops   []op
	cnt   []int32
	stamp []bool
	fin   []uint8
	sect  [4][]Handle
}

// grow makes room for n handles.
func (ls *lists) grow(n int) {
	for len(ls.l) < n {
		ls.l = append(ls.l, list{})
		ls.stamp = append(ls.stamp, false)
		ls.fin = append(ls.fin, 0)
	}
}

func (ls *lists) interest(h Handle) []Handle {
	l := &ls.l[h]
	return ls.arena[l.off : l.off+l.b : l.off+l.b]
}

func (ls *lists) watchers(h Handle) []Handle {
	l := &ls.l[h]
	return ls.arena[l.off+l.a : l.off+l.n : l.off+l.n]
}

// threshold is the log length that triggers a flush: large enough that the
// O(handles) counting sort and the O(list) rebuilds are paid by many
// changes.
func (ls *lists) threshold() int {
	return max(4096, len(ls.l), min(ls.live/2, 1<<18))
}

// Flush applies the pending changes to the neighbour lists. Interest and
// Watchers call it; the grid also calls it when the log grows large. A
// caller may call it at a convenient time to choose when the cost is paid.
func (g *Grid) Flush() {
	g.update()
	g.lists.flush()
}

func (g *Grid) maybeFlush() {
	if len(g.lists.log) >= g.lists.threshold() {
		g.lists.flush()
	}
}

func (ls *lists) flush() {
	if len(ls.log) == 0 {
		return
	}
	if len(ls.log) < max(256, len(ls.l)/8) {
		for _, c := range ls.log {
			ls.apply(c.w, c.t, c.s, c.s2)
			ls.apply(c.t, c.w, mirror(c.s), mirror(c.s2))
		}
	} else {
		ls.sorted()
	}
	ls.log = ls.log[:0]
	if ls.garbage > max(ls.live/2, 1<<16) {
		ls.compact()
	}
}

// sorted applies the log owner by owner: a stable counting sort of both
// sides of every change by owner, then each owner's changes in order.
func (ls *lists) sorted() {
	n := len(ls.l)
	if cap(ls.cnt) < n+1 {
		ls.cnt = make([]int32, n+1)
	}
	cnt := ls.cnt[:n+1]
	clear(cnt)
	for _, c := range ls.log {
		cnt[c.w+1]++
		cnt[c.t+1]++
	}
	for i := 1; i <= n; i++ {
		cnt[i] += cnt[i-1]
	}
	if cap(ls.ops) < 2*len(ls.log) {
		ls.ops = make([]op, 2*len(ls.log))
	}
	ops := ls.ops[:2*len(ls.log)]
	for _, c := range ls.log {
		ops[cnt[c.w]] = op{c.w, c.t, c.s, c.s2}
		cnt[c.w]++
		ops[cnt[c.t]] = op{c.t, c.w, mirror(c.s), mirror(c.s2)}
		cnt[c.t]++
	}
	for i := 0; i < len(ops); {
		x := ops[i].owner
		j := i + 1
		for j < len(ops) && ops[j].owner == x {
			j++
		}
		ls.applyGroup(x, ops[i:j])
		i = j
	}
}

// applyGroup applies one owner's changes, in order: one by one when they
// are few, else by rebuilding the list in one pass from the final state of
// each changed pair.
func (ls *lists) applyGroup(x Handle, group []op) {
	l := &ls.l[x]
	if len(group) <= 2 || l.n < 16 {
		for _, o := range group {
			ls.apply(x, o.other, o.s, o.s2)
		}
		return
	}
	if l.a == 0 && l.b == l.n && mutualOnly(group) {
		ls.applyMutual(x, group)
		return
	}
	for _, o := range group {
		ls.stamp[o.other], ls.fin[o.other] = true, o.s2
	}
	for i := range ls.sect {
		ls.sect[i] = ls.sect[i][:0]
	}
	h := ls.arena[l.off : l.off+l.n]
	for i, y := range h {
		s := l.stateAt(int32(i))
		if ls.stamp[y] {
			s = ls.fin[y]
			ls.stamp[y] = false
		}
		ls.sect[s] = append(ls.sect[s], y)
	}
	for _, o := range group { // pairs new to the list
		if y := o.other; ls.stamp[y] {
			ls.stamp[y] = false
			s := ls.fin[y]
			ls.sect[s] = append(ls.sect[s], y)
		}
	}
	a, m, b := ls.sect[sees], ls.sect[mutual], ls.sect[seenBy]
	total := int32(len(a) + len(m) + len(b))
	if total > l.cap {
		ls.relocate(x, total+total/4+4)
	}
	dst := ls.arena[l.off : l.off+total]
	copy(dst, a)
	copy(dst[len(a):], m)
	copy(dst[len(a)+len(m):], b)
	ls.live += int(total - l.n)
	l.n, l.a, l.b = total, int32(len(a)), int32(len(a)+len(m))
}

func (l *list) stateAt(i int32) uint8 {
	switch {
	case i < l.a:
		return sees
	case i < l.b:
		return mutual
	}
	return seenBy
}

// apply changes other from s to s2 in x's list.
func (ls *lists) apply(x, y Handle, s, s2 uint8) {
	if s == s2 {
		return
	}
	l := &ls.l[x]
	if s == none {
		ls.insert(x, y, s2)
		return
	}
	h := ls.arena[l.off : l.off+l.n]
	lo, hi := l.section(s)
	i := lo + indexOf(h[lo:hi], y)
	switch {
	case s2 == none:
		l.removeAt(h, i, s)
		ls.live--
	case s == mutual && s2 == sees:
		h[i], h[l.a] = h[l.a], h[i]
		l.a++
	case s == mutual && s2 == seenBy:
		h[i], h[l.b-1] = h[l.b-1], h[i]
		l.b--
	case s == sees && s2 == mutual:
		h[i], h[l.a-1] = h[l.a-1], h[i]
		l.a--
	case s == seenBy && s2 == mutual:
		h[i], h[l.b] = h[l.b], h[i]
		l.b++
	default: // sees <-> seenBy
		l.removeAt(h, i, s)
		ls.live--
		ls.insert(x, y, s2)
	}
}

// section returns the index range of section s.
func (l *list) section(s uint8) (int32, int32) {
	switch s {
	case sees:
		return 0, l.a
	case mutual:
		return l.a, l.b
	}
	return l.b, l.n
}

// indexOf returns the index of v in s (present while the grid's invariant
// holds; len(s) otherwise, which the caller's indexing catches).
func indexOf(s []Handle, v Handle) int32 {
	i := 0
	for ; i+4 <= len(s); i += 4 {
		q := s[i : i+4 : i+4]
		if q[0] == v || q[1] == v || q[2] == v || q[3] == v {
			break
		}
	}
	for ; i < len(s); i++ {
		if s[i] == v {
			return int32(i)
		}
	}
	return int32(len(s))
}

// removeAt removes h[i], in section s, keeping the sections contiguous.
func (l *list) removeAt(h []Handle, i int32, s uint8) {
	last := l.n - 1
	switch s {
	case seenBy:
		h[i] = h[last]
	case mutual:
		h[i] = h[l.b-1]
		h[l.b-1] = h[last]
		l.b--
	case sees:
		h[i] = h[l.a-1]
		h[l.a-1] = h[l.b-1]
		h[l.b-1] = h[last]
		l.a--
		l.b--
	}
	l.n--
}

// insert adds y in section s of x's list.
func (ls *lists) insert(x, y Handle, s uint8) {
	l := &ls.l[x]
	if l.n == l.cap {
		ls.relocate(x, max(8, 2*l.cap))
	}
	l.n++
	ls.live++
	h := ls.arena[l.off : l.off+l.n]
	n := l.n - 1
	switch s {
	case seenBy:
		h[n] = y
	case mutual:
		h[n] = h[l.b]
		h[l.b] = y
		l.b++
	case sees:
		h[n] = h[l.b]
		h[l.b] = h[l.a]
		h[l.a] = y
		l.a++
		l.b++
	}
}

// relocate moves x's list to a new region of newCap at the arena's end.
func (ls *lists) relocate(x Handle, newCap int32) {
	l := &ls.l[x]
	off := int32(len(ls.arena))
	if need := len(ls.arena) + int(newCap); need > cap(ls.arena) {
		// Double: append's growth of large slices (x1.25) would copy the
		// whole arena every few relocations.
		a := make([]Handle, len(ls.arena), max(2*cap(ls.arena), need, 1024))
		copy(a, ls.arena)
		ls.arena = a
	}
	ls.arena = ls.arena[:len(ls.arena)+int(newCap)]
	copy(ls.arena[off:], ls.arena[l.off:l.off+l.n])
	ls.garbage += int(l.cap)
	l.off, l.cap = off, newCap
}

// compact rewrites every list into the spare arena in handle order, with
// some room to grow, and makes it the arena.
func (ls *lists) compact() {
	dst := ls.spare[:0]
	for x := range ls.l {
		l := &ls.l[x]
		off := int32(len(dst))
		c := l.n + l.n/4
		if l.n > 0 {
			c += 4
		}
		dst = append(dst, ls.arena[l.off:l.off+l.n]...)
		dst = append(dst, make([]Handle, c-l.n)...)
		l.off, l.cap = off, c
	}
	ls.spare, ls.arena = ls.arena, dst
	ls.garbage = 0
}

// mutualOnly reports whether every change links or unlinks a mutual pair,
// as in a grid whose entities share one radius.
func mutualOnly(group []op) bool {
	for _, o := range group {
		if (o.s|o.s2) != mutual || o.s == o.s2 {
			return false
		}
	}
	return true
}

// applyMutual is applyGroup for a list that holds only mutual pairs and
// changes that keep it so: one pass that drops the pairs whose final state
// is none, in place, then the new pairs appended.
func (ls *lists) applyMutual(x Handle, group []op) {
	for _, o := range group {
		ls.stamp[o.other], ls.fin[o.other] = true, o.s2
	}
	l := &ls.l[x]
	h := ls.arena[l.off : l.off+l.n]
	j := 0
	for _, y := range h {
		if ls.stamp[y] {
			ls.stamp[y] = false
			if ls.fin[y] == none {
				continue
			}
		}
		h[j] = y
		j++
	}
	n := int32(j)
	for _, o := range group { // pairs new to the list
		if y := o.other; ls.stamp[y] {
			ls.stamp[y] = false
			if ls.fin[y] == mutual {
				if n == l.cap {
					l.n = n
					ls.relocate(x, max(8, 2*l.cap))
				}
				ls.arena[l.off+n] = y
				n++
			}
		}
	}
	ls.live += int(n) - len(h)
	l.n, l.a, l.b = n, 0, n
}

// unlinkMutual removes y from the mutual section of x's list. It searches
// from the end: pairs that unlink are mostly pairs that linked recently
// (entities wandering along each other's edge), and links append.
func (ls *lists) unlinkMutual(x, y Handle) {
	l := &ls.l[x]
	h := ls.arena[l.off : l.off+l.n]
	i := l.b - 1
	for ; i >= l.a && h[i] != y; i-- {
	}
	if i < l.a {
		return // not linked: cannot happen while the invariant holds
	}
	l.removeAt(h, i, mutual)
	ls.live--
}
