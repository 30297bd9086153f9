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
// radii. The changes are reported as events, buffered in call order: an
// Event{W, T, true} when W starts seeing T, an Event{W, T, false} when it
// stops. Every enter is matched by exactly one later leave, or the pair is
// still in range. AddSilent builds the same sets without events (restore
// from a snapshot).
//
// # How it is fast
//
// Entities live in a dense cell array (row-major) whose cells store the
// entity's position, radius key and handle inline, so a candidate scan reads
// sequential memory. A move visits only the cells whose status can change:
// those between the old and new areas of the smallest and the largest radius
// in the grid. Cells fully inside both the old and the new area (for the
// smallest radius) or fully outside both (for the largest) are skipped, so
// the cost per move grows with the number of neighbours near the edge of
// the area, not with the number of entities. For each candidate the was-in
// and is-in tests are done from the old and new positions in both directions
// (W→T with W's radius, T→W with T's radius); no set is looked up, because
// the sets always equal the in-range pairs of the current positions.
//
// Each entity keeps one list of neighbours partitioned in three sections:
// those it sees only, those it sees and that see it (mutual), and those that
// see it only. Interest and Watchers are two overlapping windows of that one
// list, so symmetric pairs (the common case of equal radii) are stored once.
// Moving a handle between sections is an O(1) swap. No map is used on the
// per-move path, and the steady state allocates nothing.
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
