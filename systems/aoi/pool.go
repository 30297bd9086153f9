package aoi

import "math/bits"

// pool recycles the backing arrays of cells that outgrew their room, by
// capacity class (a block of capacity c is in class floor(log2 c) and
// serves any need up to 1<<class), so that in a steady state a growing cell
// takes a block another one gave up instead of allocating. compact empties
// it: the arena the blocks may point into is reused. (The lists recycle
// their blocks within their own arena: see regrow.)
type pool[T any] struct {
	free [64][][]T
}

// grow returns s with room for at least one more element: a pooled block
// of twice s's capacity (at least 4) holding s's elements, s's own block
// going to the pool.
func (p *pool[T]) grow(s []T) []T {
	c := bits.Len(uint(max(2*cap(s), 4) - 1)) // 1<<c >= the need
	var b []T
	if n := len(p.free[c]); n > 0 {
		b = p.free[c][n-1][:0]
		p.free[c][n-1] = nil
		p.free[c] = p.free[c][:n-1]
	} else {
		b = make([]T, 0, 1<<c)
	}
	b = append(b, s...)
	if k := cap(s); k > 0 {
		c := bits.Len(uint(k)) - 1
		p.free[c] = append(p.free[c], s[:0])
	}
	return b
}

// reset forgets every pooled block.
func (p *pool[T]) reset() {
	for c := range p.free {
		clear(p.free[c])
		p.free[c] = p.free[c][:0]
	}
}
