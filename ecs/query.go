package ecs

import (
	"slices"

	"github.com/yohamta/donburi"
)

// Query selects the entities that have all of a set of components. Make
// it once (a package-level var or a system field) and reuse it: each world
// caches the donburi archetypes a query matches, and checks only
// archetypes created since the last run. A Query is immutable; like the
// world it runs over, each run belongs to the world's goroutine.
type Query struct {
	comps []Component
	ids   []donburi.IComponentType
}

// maxQueryCaches bounds the per-world query caches, in case a game makes
// queries on the fly instead of once.
const maxQueryCaches = 1024

// queryCache is a world's list of the archetypes a query matches.
type queryCache struct {
	seen  int   // archetypes checked so far
	match []int // indices of matching archetypes
}

// NewQuery returns a query over entities that have every one of
// components; with none it matches every entity.
func NewQuery(components ...Component) *Query {
	ids := make([]donburi.IComponentType, 0, len(components))
	for _, c := range components {
		ids = append(ids, c.donburiType())
	}
	return &Query{comps: slices.Clone(components), ids: ids}
}

// archetypes returns the indices of w's donburi archetypes that q matches.
func (q *Query) archetypes(w *World) []int {
	qc := w.queries[q]
	if qc == nil {
		if len(w.queries) >= maxQueryCaches {
			clear(w.queries) // queries made per call: bound the memory, rebuild on demand
		}
		qc = &queryCache{}
		w.queries[q] = qc
	}
	archs := w.dw.Archetypes()
	for ; qc.seen < len(archs); qc.seen++ {
		layout := archs[qc.seen].Layout()
		ok := true
		for _, id := range q.ids {
			if !layout.HasComponent(id) {
				ok = false
				break
			}
		}
		if ok {
			qc.match = append(qc.match, qc.seen)
		}
	}
	return qc.match
}

// Each calls fn for every matching entity, in donburi's storage order
// (grouped by archetype).
//
// The matches are collected before the first call, so fn may freely
// create and destroy entities and add or remove components: entities
// destroyed during Each are skipped, entities created during it are not
// visited, and an entity that gains or loses a component is visited
// according to the components it had when Each began. Each does not
// allocate in steady state (buffers are reused per world and nesting
// depth).
func (q *Query) Each(w *World, fn func(e *Entity)) {
	buf := w.pushScratch()
	defer w.popScratch(buf)
	archs := w.dw.Archetypes()
	for _, ai := range q.archetypes(w) {
		for _, de := range archs[ai].Entities() {
			if e := w.byIndex[de.Id()]; e != nil {
				*buf = append(*buf, e)
			}
		}
	}
	for _, e := range *buf {
		if !e.destroyed {
			fn(e)
		}
	}
}

// Count returns the number of matching entities.
func (q *Query) Count(w *World) int {
	n := 0
	archs := w.dw.Archetypes()
	for _, ai := range q.archetypes(w) {
		n += len(archs[ai].Entities())
	}
	return n
}
