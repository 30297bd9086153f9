package bench

// BruteAOI tests every other entity on every move: O(N) per move, no sets
// kept. It is the reference for correctness and the baseline for small N.
type BruteAOI struct {
	x, z   []float32
	events []AOIEvent
}

// NewBruteAOI returns an empty brute-force AOI.
func NewBruteAOI() *BruteAOI { return &BruteAOI{} }

// Init copies the positions.
func (a *BruteAOI) Init(_ float32, x, z []float32) {
	a.x = append([]float32(nil), x...)
	a.z = append([]float32(nil), z...)
}

func inAOI(dx, dz float32) bool {
	return dx <= AOIRadius && -dx <= AOIRadius && dz <= AOIRadius && -dz <= AOIRadius
}

// Update does nothing: every Move is complete when it returns.
func (a *BruteAOI) Update() {}

// Move compares every other entity's status from the old and the new
// position and emits both directions of each change.
func (a *BruteAOI) Move(id int32, x, z float32) {
	ox, oz := a.x[id], a.z[id]
	a.x[id], a.z[id] = x, z
	xs, zs := a.x, a.z[:len(a.x)]
	for j := range xs {
		tx, tz := xs[j], zs[j]
		was := inAOI(tx-ox, tz-oz)
		is := inAOI(tx-x, tz-z)
		if was != is && int32(j) != id {
			a.events = append(a.events,
				AOIEvent{Watcher: id, Target: int32(j), Enter: is},
				AOIEvent{Watcher: int32(j), Target: id, Enter: is})
		}
	}
}

// Neighbours scans everything.
func (a *BruteAOI) Neighbours(id int32, dst []int32) []int32 {
	x, z := a.x[id], a.z[id]
	for j := range a.x {
		if int32(j) != id && inAOI(a.x[j]-x, a.z[j]-z) {
			dst = append(dst, int32(j))
		}
	}
	return dst
}

// Events returns the buffered events.
func (a *BruteAOI) Events() []AOIEvent { return a.events }

// EventCount is the number of buffered events.
func (a *BruteAOI) EventCount() int { return len(a.events) }

// ResetEvents empties the buffer.
func (a *BruteAOI) ResetEvents() { a.events = a.events[:0] }
