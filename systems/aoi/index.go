package aoi

// segLen cells make a segment; its header (entries slice and the start
// offsets of its cells) is two 64-byte cache lines. Sixteen cells (800
// units of a line for a radius of 100) make most band runs one stretch;
// eight measured about 10% slower on W3 and W5.
const (
	segShift = 4
	segLen   = 1 << segShift
	segMask  = segLen - 1
	// minSegCap is the capacity of a segment's first allocation.
	minSegCap = 16
)

// segment packs the entries of segLen consecutive cells of one line, grouped
// by cell: cell j holds e[st[j]:st[j+1]], with st[0] = 0 and st[segLen] =
// len(e). Entries within a cell are unordered.
type segment struct {
	e  []entry
	st [segLen + 1]int32
	_  [128 - 24 - 4*(segLen+1)]byte
}

// run returns the entries of cells j0..j1 (local indices), contiguous.
func (s *segment) run(j0, j1 int32) []entry {
	return s.e[s.st[j0&segMask]:s.st[(j1&segMask)+1]]
}

// index is the grid laid out along lines (rows, or columns for the second
// index), each line cut into segments. A run of cells along a line is a few
// contiguous stretches of entries, whatever the number of cells.
type index struct {
	spl  int32 // segments per line
	segs []segment
}

func newIndex(lines, cellsPerLine int32) index {
	spl := (cellsPerLine + segLen - 1) / segLen
	return index{spl: spl, segs: make([]segment, int(lines)*int(spl))}
}

func (ix *index) seg(line, pos int32) *segment {
	return &ix.segs[line*ix.spl+pos>>segShift]
}

// find returns the position of h in cell j of s.
func (s *segment) find(j int32, h Handle) int32 {
	for p := s.st[j]; ; p++ {
		if s.e[p].h == h {
			return p
		}
	}
}

// shift moves the entry at p, in cell j, to cell j2 of the same segment by
// swapping it across each cell boundary in between (cells are unordered, so
// moving one element to the other side of a boundary is O(1)). It returns the
// entry's new position.
func (s *segment) shift(p, j, j2 int32) int32 {
	for ; j < j2; j++ { // right: swap with the last of cell j, which shrinks
		last := s.st[j+1] - 1
		s.e[p], s.e[last] = s.e[last], s.e[p]
		s.st[j+1]--
		p = last
	}
	for ; j > j2; j-- { // left: swap with the first of cell j, which shrinks
		first := s.st[j]
		s.e[p], s.e[first] = s.e[first], s.e[p]
		s.st[j]++
		p = first
	}
	return p
}

// add inserts en into cell j of s.
func (s *segment) add(j int32, en entry) {
	if len(s.e) == cap(s.e) {
		// Grow ahead (at least minSegCap, then double): entities drift
		// between segments every tick, and each new high of a segment's
		// occupancy would otherwise cost an allocation.
		e := make([]entry, len(s.e), max(minSegCap, 2*cap(s.e)))
		copy(e, s.e)
		s.e = e
	}
	s.e = append(s.e, en) // in the last cell
	s.st[segLen]++
	s.shift(int32(len(s.e)-1), segLen-1, j)
}

// remove deletes the entry at p, in cell j, from s.
func (s *segment) remove(p, j int32) {
	p = s.shift(p, j, segLen-1)
	last := int32(len(s.e) - 1)
	s.e[p] = s.e[last]
	s.e = s.e[:last]
	s.st[segLen]--
}

// insert adds en at cell (line, pos).
func (ix *index) insert(line, pos int32, en entry) {
	ix.seg(line, pos).add(pos&segMask, en)
}

// delete removes h from cell (line, pos).
func (ix *index) delete(line, pos int32, h Handle) {
	s := ix.seg(line, pos)
	j := pos & segMask
	s.remove(s.find(j, h), j)
}

// relocate moves h from cell (line, pos) to (line2, pos2) and stores its new
// position. Along one segment it is a few swaps; otherwise a delete and an
// insert, each bounded by segLen swaps.
func (ix *index) relocate(line, pos, line2, pos2 int32, h Handle, x, z float32) {
	s := ix.seg(line, pos)
	j := pos & segMask
	p := s.find(j, h)
	if line == line2 && pos>>segShift == pos2>>segShift {
		p = s.shift(p, j, pos2&segMask)
		s.e[p].x, s.e[p].z = x, z
		return
	}
	en := s.e[p]
	en.x, en.z = x, z
	s.remove(p, j)
	ix.insert(line2, pos2, en)
}

// entry returns h's entry in cell (line, pos).
func (ix *index) entry(line, pos int32, h Handle) *entry {
	s := ix.seg(line, pos)
	return &s.e[s.find(pos&segMask, h)]
}
