package ecs

import (
	"math/bits"
	"slices"
)

// idIndex finds live entities by ID. Entities restored in bulk (Create
// with CreateOptions.Restore), which a snapshot lists in increasing ID
// order, are appended to a run sorted by ID; every other entity goes into
// a map. Appending is sequential, where inserting 100,000 restored
// entities into a map misses the cache on every one of them (a tenth of a
// restore's time). A lookup in the run guesses the place from the run's
// first and last IDs (the IDs of one world are mostly consecutive) and
// falls back to a binary search.
type idIndex struct {
	m    map[EntityID]*Entity
	ids  []EntityID // the run: strictly increasing
	ents []*Entity  // beside ids; nil once removed
	live int        // non-nil entries of ents
}

// minCompact is the smallest run compacted when half of it is removed.
const minCompact = 1024

func newIDIndex() idIndex { return idIndex{m: make(map[EntityID]*Entity)} }

// len returns the number of entities in the index.
func (x *idIndex) len() int { return len(x.m) + x.live }

// get returns the entity with ID id.
func (x *idIndex) get(id EntityID) (*Entity, bool) {
	if len(x.m) > 0 {
		if e, ok := x.m[id]; ok {
			return e, true
		}
	}
	if i, ok := x.find(id); ok && x.ents[i] != nil {
		return x.ents[i], true
	}
	return nil, false
}

// find returns the index of id in the run.
func (x *idIndex) find(id EntityID) (int, bool) {
	n := len(x.ids)
	if n == 0 || id < x.ids[0] || id > x.ids[n-1] {
		return 0, false
	}
	if first, last := x.ids[0], x.ids[n-1]; last > first {
		// (id-first)*(n-1)/(last-first) <= n-1: the quotient fits.
		hi, lo := bits.Mul64(uint64(id-first), uint64(n-1))
		g, _ := bits.Div64(hi, lo, uint64(last-first))
		if x.ids[g] == id {
			return int(g), true
		}
	}
	return slices.BinarySearch(x.ids, id)
}

// put adds e under its ID, which is not in the index; bulk puts it in the
// run if it is above the run's last ID.
func (x *idIndex) put(e *Entity, bulk bool) {
	if bulk && (len(x.ids) == 0 || e.id > x.ids[len(x.ids)-1]) {
		x.ids = append(x.ids, e.id)
		x.ents = append(x.ents, e)
		x.live++
		return
	}
	x.m[e.id] = e
}

// remove takes id out of the index.
func (x *idIndex) remove(id EntityID) {
	if _, ok := x.m[id]; ok {
		delete(x.m, id)
		return
	}
	i, ok := x.find(id)
	if !ok || x.ents[i] == nil {
		return
	}
	x.ents[i] = nil
	x.live--
	if x.live == 0 {
		x.ids, x.ents = nil, nil
		return
	}
	if len(x.ids) >= minCompact && x.live < len(x.ids)/2 {
		x.compact()
	}
}

// compact drops the removed entries of the run (amortised: it runs after
// half of the run was removed since the last one).
func (x *idIndex) compact() {
	j := 0
	for i, e := range x.ents {
		if e != nil {
			x.ids[j], x.ents[j] = x.ids[i], e
			j++
		}
	}
	clear(x.ents[j:])
	x.ids, x.ents = x.ids[:j], x.ents[:j]
}

// grow makes room for n more entities in the run.
func (x *idIndex) grow(n int) {
	x.ids = slices.Grow(x.ids, n)
	x.ents = slices.Grow(x.ents, n)
}
