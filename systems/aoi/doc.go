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
// After every call, every entity's interest and watcher sets equal exactly
// what a brute-force test over all pairs gives for the current positions and
// radii. The changes are reported as events, buffered in the order they were
// applied (see Move for the order of queued moves): an
// Event{W, T, true} when W starts seeing T, an Event{W, T, false} when it
// stops. Every enter is matched by exactly one later leave, or the pair is
// still in range. AddSilent builds the same sets without events (restore
// from a snapshot).
//
// # How it is fast
//
// The grid keeps every entity twice, in two views of one cell array: thin
// rows cut into long cells, and thin columns cut into long cells. Cells store
// each entity's position, radius key and handle inline, and the cells of a
// line are packed in segments of sixteen, so a stretch of cells along a line is
// one contiguous run of entries. A move reads only the band where a pair's
// status can change: between the area of the smallest radius around both the
// old and the new centre (everything there stays in range) and the area of
// the largest radius around either (everything beyond stays out). The rows
// above and below the band's interior come from the row view, the columns
// beside it from the column view, so a move reads a handful of runs whatever
// the number of entities; cost grows with the neighbours near the edge of the
// area. For each candidate both directions are tested from the old and the
// new position; when every entity shares one radius a single key decides
// both. No set is looked up on this path and no map is used.
//
// Move only queues: the queue is applied by the next query or mutation, in
// thin-row order of the destinations, so the moves of a tick walk the grid
// and the lists of neighbouring entities while they are in the caches. A
// handle moved twice before that moves once, to its last position.
//
// Each entity keeps one list of neighbours partitioned in three sections:
// those it sees only, those it sees and that see it (mutual), and those that
// see it only. Interest and Watchers are two overlapping windows of that one
// list, so symmetric pairs (the common case of equal radii) are stored once.
// When every entity shares one radius and the lists are short and fit in a
// core's cache, a move tests, links and unlinks its pairs in one pass.
// Otherwise pair changes are logged and applied in bulk, owner by owner,
// when a list is read or the log grows large (Flush applies it on demand),
// which visits each list once in memory order. The steady state allocates
// nothing.
//
// # Bounds and values
//
// Config.MinX..MaxX × MinZ..MaxZ are the bounds of the dense cell array.
// Positions outside are legal: they are clamped into the edge cells for
// storage and still tested exactly. Coordinates are clamped to ±MaxCoord and
// radii to [0, MaxRadius]; NaN coordinates and NaN or negative radii become 0.
//
// # Handles
//
// A Handle is a dense slot index, reused (last removed, first reused) after
// Remove. Every method given a handle that is out of range or not live does
// nothing and returns zero values (nil slices, 0 radius); it never panics.
//
// # Concurrency
//
// A Grid is not safe for concurrent use. Two Grids share nothing, so the
// caller may run the grids of several spaces in parallel, one goroutine per
// grid at a time.
package aoi
