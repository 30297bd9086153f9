// Package aoi is the area-of-interest grid: a pure data structure over
// handles, positions on the X/Z plane and per-entity radii. It knows nothing
// of the ECS; the systems package wraps one Grid per space and maps handles
// to entities.
//
// # Semantics
//
// A watcher W sees a target T iff T != W, radius(W) > 0 and T lies within
// W's own radius of W:
//
//	Circle: dx*dx + dz*dz <= r*r   (float32, each product rounded, no fused multiply-add)
//	Square: |dx| <= r && |dz| <= r (GoWorld's AOI semantics)
//
// with dx = x(T) - x(W), dz = z(T) - z(W). Radius 0 sees nobody but can still
// be seen. The relation is not symmetric when radii differ: Interest(h) lists
// the handles h sees, Watchers(h) the handles that see h.
//
// After every query or mutation, every entity's interest and watcher sets
// equal exactly what a brute-force test over all pairs gives for the current
// positions and radii. The changes are reported as events: an
// Event{W, T, true} when W starts seeing T, an Event{W, T, false} when it
// stops. Moves are tested together at the next query or mutation, so their
// events are each pair's net change since the previous one (see Move); Add,
// Remove and SetRadius report theirs at once. Every enter is matched by
// exactly one later leave, or the pair is still in range. AddSilent builds
// the same sets without events (restore from a snapshot).
//
// # How it is fast
//
// Each entity has a reference position, where its neighbour list was last
// made, and the list holds every entity whose reference is within
// max(r1, r2) + skin of its own (the pair's reach, in the shape's metric).
// While neither of two entities is farther than half the skin from its
// reference, they cannot be in range unless they are listed, so a move only
// tests the moved entity's list: no grid is read, no set is searched. When
// an entity has gone farther than half the skin, it is re-referenced: its
// list drops the pairs now beyond their reach and gains those now within,
// found in the cells of a uniform grid of reference positions, skipping the
// cells its old reach covered. A list entry holds the partner and a bit per
// direction, so a pair that comes into range or leaves is a store or two
// and an event; the same pair's entry in the partner's list is found by a
// vector search of that list, a short sequential read.
//
// A pair is stored in both lists, split into partners with higher and lower
// slots. When most entities moved, the update walks every upper list once in
// slot order; otherwise it walks the lists of the moved ones. A moved entity
// is re-referenced just before its own lists are tested, so the neighbours'
// lists it changes are those the walk is reading. The lists are read by
// small leaf loops that return the next entry to change; when every entity
// has the same radius, one comparison decides both directions, and on amd64
// with AVX2 those loops are vector code that tests four entries at a time
// (scan_amd64.s; the purego build tag keeps the Go loops). There the dense
// walk over all slots is one such loop, which gathers a list's pairs to flip
// in a mask, without a branch on each quad, flips them, and returns to Go
// only to re-reference an entity or to test a slot that did not move. After
// two dense walks in a row, a pair that changes writes its state only into
// the upper entry: the lower entry is in another list, far in memory, and
// only the sparse walk reads its bits in place, so it rewrites them first.
// The sparse walk writes a flipped pair's entry in the partner's list one
// moved entity later, its search prefetched, and prefetches the lists of
// the moved entities ahead of it. When every entity has the same radius,
// a re-reference tests its lists and cells in vector loops too, and
// chooses its drops before its cell scan, so that the partners' lists it
// searches to drop them are prefetched by the time it does. Slots are
// renumbered in cell order now and then (after many adds, removes or lists
// outgrowing their room), so that a list's partners sit close in memory, and
// the lists and cells are carved from one array each in that order: the
// lists from one arena, the upper lists first, so that a pass streams them
// in order and the GC sees no pointers. Handles do not change. The steady
// state allocates nothing: a list that outgrows its room takes a block
// another one gave up, or the arena's spare end, and keeps its room.
//
// The skin trades the two costs: a wider one lists more pairs, tested on
// every move, a narrower one re-references more often. Config.Skin sets it;
// the default is SkinPerRadius of the radius hint. The cell scan of a
// re-reference covers the largest radius in the grid, so a few very large
// radii make every re-reference read their area.
//
// # Bounds and values
//
// Config.MinX..MaxX × MinZ..MaxZ are the bounds of the cell array. Positions
// outside are legal: they are clamped into the edge cells for indexing and
// still tested exactly. Coordinates are clamped to ±MaxCoord and radii to
// [0, MaxRadius]; NaN coordinates and NaN or negative radii become 0. The
// reach and the re-reference test are computed in float64 with a relative
// margin, so the float32 test's rounding never puts a pair in range
// unlisted; a grid of one radius tests the reach in float32 against a reach
// rounded up far enough that it passes every pair the float64 test does.
//
// # Handles
//
// A Handle is a dense index, reused (last removed, first reused) after
// Remove. Every method given a handle that is out of range or not live does
// nothing and returns zero values (nil slices, 0 radius); it never panics.
//
// # Concurrency
//
// A Grid is not safe for concurrent use. Two Grids share nothing, so the
// caller may run the grids of several spaces in parallel, one goroutine per
// grid at a time.
package aoi
