package bench

import (
	"slices"
)

// XZListAOI is the cross-linked x/z sorted-list AOI, the algorithm GoWorld
// uses, written here from its description:
//
//   - every entity has a node in a doubly-linked list sorted by x and in one
//     sorted by z;
//   - a move shifts the node to its new sorted place in both lists (walking
//     from where it was, so a small step costs a short walk);
//   - the new neighbours are found by walking the x list both ways while
//     |dx| <= AOIRadius, marking each node, then walking the z list both ways
//     while |dz| <= AOIRadius and collecting the marked nodes;
//   - the result is diffed against the neighbour set of the previous move,
//     kept in a map per entity, giving the enter and leave events (both
//     directions, since every entity has the same radius), and both
//     entities' maps are updated.
//
// The cost of a move is the length of the two walks: every entity whose x (or
// z) is within ±AOIRadius, whatever its other coordinate, so it grows with
// the number of entities in a 200-wide band across the world, that is with N.
//
// Marks are epoch stamps instead of counters that a third walk clears; the
// lists are index-linked over one slice of nodes. Both are plain engineering
// choices that make it faster, not slower, than a pointer-and-counter
// version.
type XZListAOI struct {
	nodes  []xzNode
	xHead  int32 // smallest x, -1 when empty
	zHead  int32
	epoch  uint32
	found  []int32
	events []AOIEvent
}

type xzNode struct {
	x, z         float32
	xPrev, xNext int32 // -1 at the ends
	zPrev, zNext int32
	mark         uint32 // epoch: within ±radius in x for the current move
	keep         uint32 // epoch: in the new neighbour set
	neighbours   map[int32]struct{}
}

// NewXZListAOI returns an empty x/z list AOI.
func NewXZListAOI() *XZListAOI { return &XZListAOI{xHead: -1, zHead: -1} }

// Init links all entities into both lists (sorting once rather than inserting
// one by one) and computes every neighbour set with the same adjustment a
// move does.
func (a *XZListAOI) Init(_ float32, x, z []float32) {
	n := len(x)
	a.nodes = make([]xzNode, n)
	ids := make([]int32, n)
	for i := range n {
		a.nodes[i] = xzNode{x: x[i], z: z[i], neighbours: make(map[int32]struct{})}
		ids[i] = int32(i)
	}
	link := func(key func(int32) float32, set func(id, prev, next int32)) int32 {
		slices.SortStableFunc(ids, func(p, q int32) int {
			switch kp, kq := key(p), key(q); {
			case kp < kq:
				return -1
			case kp > kq:
				return 1
			}
			return 0
		})
		for i, id := range ids {
			prev, next := int32(-1), int32(-1)
			if i > 0 {
				prev = ids[i-1]
			}
			if i < n-1 {
				next = ids[i+1]
			}
			set(id, prev, next)
		}
		if n == 0 {
			return -1
		}
		return ids[0]
	}
	a.xHead = link(func(i int32) float32 { return a.nodes[i].x },
		func(id, p, q int32) { a.nodes[id].xPrev, a.nodes[id].xNext = p, q })
	a.zHead = link(func(i int32) float32 { return a.nodes[i].z },
		func(id, p, q int32) { a.nodes[id].zPrev, a.nodes[id].zNext = p, q })
	for i := range n {
		a.adjust(int32(i))
	}
	a.events = a.events[:0]
}

// Update does nothing: every Move is complete when it returns.
func (a *XZListAOI) Update() {}

// Move updates the position, re-sorts the node in both lists and adjusts the
// neighbour set.
func (a *XZListAOI) Move(id int32, x, z float32) {
	nd := &a.nodes[id]
	nd.x, nd.z = x, z
	a.shiftX(id)
	a.shiftZ(id)
	a.adjust(id)
}

// shiftX moves id to its sorted place in the x list.
func (a *XZListAOI) shiftX(id int32) {
	ns := a.nodes
	nd := &ns[id]
	x := nd.x
	if p := nd.xPrev; p >= 0 && ns[p].x > x {
		// Walk left to the last node with x' <= x, insert after it.
		for p >= 0 && ns[p].x > x {
			p = ns[p].xPrev
		}
		a.unlinkX(id)
		a.insertAfterX(id, p)
		return
	}
	if q := nd.xNext; q >= 0 && ns[q].x < x {
		// Walk right past every node with x' < x, insert after the last one.
		var last int32
		for q >= 0 && ns[q].x < x {
			last = q
			q = ns[q].xNext
		}
		a.unlinkX(id)
		a.insertAfterX(id, last)
	}
}

func (a *XZListAOI) unlinkX(id int32) {
	ns := a.nodes
	p, q := ns[id].xPrev, ns[id].xNext
	if p >= 0 {
		ns[p].xNext = q
	} else {
		a.xHead = q
	}
	if q >= 0 {
		ns[q].xPrev = p
	}
	ns[id].xPrev, ns[id].xNext = -1, -1
}

// insertAfterX links id after p (p < 0: at the head).
func (a *XZListAOI) insertAfterX(id, p int32) {
	ns := a.nodes
	var q int32
	if p >= 0 {
		q = ns[p].xNext
		ns[p].xNext = id
	} else {
		q = a.xHead
		a.xHead = id
	}
	ns[id].xPrev, ns[id].xNext = p, q
	if q >= 0 {
		ns[q].xPrev = id
	}
}

func (a *XZListAOI) shiftZ(id int32) {
	ns := a.nodes
	nd := &ns[id]
	z := nd.z
	if p := nd.zPrev; p >= 0 && ns[p].z > z {
		for p >= 0 && ns[p].z > z {
			p = ns[p].zPrev
		}
		a.unlinkZ(id)
		a.insertAfterZ(id, p)
		return
	}
	if q := nd.zNext; q >= 0 && ns[q].z < z {
		var last int32
		for q >= 0 && ns[q].z < z {
			last = q
			q = ns[q].zNext
		}
		a.unlinkZ(id)
		a.insertAfterZ(id, last)
	}
}

func (a *XZListAOI) unlinkZ(id int32) {
	ns := a.nodes
	p, q := ns[id].zPrev, ns[id].zNext
	if p >= 0 {
		ns[p].zNext = q
	} else {
		a.zHead = q
	}
	if q >= 0 {
		ns[q].zPrev = p
	}
	ns[id].zPrev, ns[id].zNext = -1, -1
}

func (a *XZListAOI) insertAfterZ(id, p int32) {
	ns := a.nodes
	var q int32
	if p >= 0 {
		q = ns[p].zNext
		ns[p].zNext = id
	} else {
		q = a.zHead
		a.zHead = id
	}
	ns[id].zPrev, ns[id].zNext = p, q
	if q >= 0 {
		ns[q].zPrev = id
	}
}

// adjust recomputes id's neighbour set from the lists and emits the diff.
func (a *XZListAOI) adjust(id int32) {
	ns := a.nodes
	a.epoch++
	ep := a.epoch
	nd := &ns[id]
	x, z := nd.x, nd.z
	// Mark everything within ±radius in x.
	for p := nd.xPrev; p >= 0 && x-ns[p].x <= AOIRadius; p = ns[p].xPrev {
		ns[p].mark = ep
	}
	for q := nd.xNext; q >= 0 && ns[q].x-x <= AOIRadius; q = ns[q].xNext {
		ns[q].mark = ep
	}
	// Collect the marked ones within ±radius in z.
	found := a.found[:0]
	for p := nd.zPrev; p >= 0 && z-ns[p].z <= AOIRadius; p = ns[p].zPrev {
		if ns[p].mark == ep {
			found = append(found, p)
		}
	}
	for q := nd.zNext; q >= 0 && ns[q].z-z <= AOIRadius; q = ns[q].zNext {
		if ns[q].mark == ep {
			found = append(found, q)
		}
	}
	a.found = found
	// Diff against the previous set.
	for _, o := range found {
		ns[o].keep = ep
		if _, ok := nd.neighbours[o]; !ok {
			nd.neighbours[o] = struct{}{}
			ns[o].neighbours[id] = struct{}{}
			a.events = append(a.events,
				AOIEvent{Watcher: id, Target: o, Enter: true},
				AOIEvent{Watcher: o, Target: id, Enter: true})
		}
	}
	for o := range nd.neighbours {
		if ns[o].keep != ep {
			delete(nd.neighbours, o)
			delete(ns[o].neighbours, id)
			a.events = append(a.events,
				AOIEvent{Watcher: id, Target: o, Enter: false},
				AOIEvent{Watcher: o, Target: id, Enter: false})
		}
	}
}

// Neighbours appends id's current neighbour set.
func (a *XZListAOI) Neighbours(id int32, dst []int32) []int32 {
	for o := range a.nodes[id].neighbours {
		dst = append(dst, o)
	}
	return dst
}

// Events returns the buffered events.
func (a *XZListAOI) Events() []AOIEvent { return a.events }

// EventCount is the number of buffered events.
func (a *XZListAOI) EventCount() int { return len(a.events) }

// ResetEvents empties the buffer.
func (a *XZListAOI) ResetEvents() { a.events = a.events[:0] }
