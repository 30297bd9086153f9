//go:build amd64 && !purego

package aoi

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// haveVector reports whether the vector loops of scan_amd64.s can run: they
// use AVX2, and the dense walks BMI1's BLSR and BMI2's SHLX (every AVX2
// processor has both).
func haveVector() bool { return cpu.X86.HasAVX2 && cpu.X86.HasBMI1 && cpu.X86.HasBMI2 }

// scanSquareVec and scanCircleVec are the uniform scanners (see
// nextSquareUniform, nextCircleUniform) in vector code, four entries at a
// time: they test the n entries of the list at es against the owner's
// position pxz (x in the low half, z in the high) and return the index of
// the first whose stored state the test contradicts, or n. Every entry's
// partner must be a slot of body: the lists' invariant, which the Go
// scanners' bounds checks assert and TestVectorScanners compares.
//
//go:noescape
func scanSquareVec(es *uint32, n int, body *body, pxz uint64, key uint32) int

//go:noescape
func scanCircleVec(es *uint32, n int, body *body, pxz uint64, key uint32) int

// findVec is find's loop in vector code: the index of the first of the n
// entries at es whose slot is s, or n.
//
//go:noescape
func findVec(es *uint32, n int, s uint32) int

// denseSquareVec and denseCircleVec are the dense pass's walk over the
// upper lists of the slots i..to-1 when every entity has the same radius
// (see Grid.denseVector), in vector code: from entry k of slot i, they
// test each moved slot's list as the uniform scanners do. They flip the
// pairs they find themselves, appending the events to ev, when ev is not
// nil (the lower bits are stale) and has room; else they return at the
// entry to flip (ri, rk). They also return at a slot that did not move (rk
// = -1) or is farther than nearBits from its reference (rk = -2), and at
// to (ri = to, rk = 0). Each slot prefetches the body and anchor of the
// slot ahead slots on (see Grid.ahead).
//
//go:noescape
func denseSquareVec(ent *uint32, up *span, body *body, anc *anchor, moved *uint64, key, near uint32, i, to int32, k int, ev *[]Event, ahead int) (ri int32, rk int)

//go:noescape
func denseCircleVec(ent *uint32, up *span, body *body, anc *anchor, moved *uint64, key, near uint32, i, to int32, k int, ev *[]Event, ahead int) (ri int32, rk int)

// prefetchVec prefetches the lines of the n entries at es, eight at most.
//
//go:noescape
func prefetchVec(es *uint32, n int)

// prefetch4 prefetches the lines at a, b, c and d.
//
//go:noescape
func prefetch4(a, b, c, d unsafe.Pointer)

// dropSquareVec and dropCircleVec are nextDrop's loop in vector code, from
// the first of the n entries at es: the index of the first entry whose pair
// may be dropped, or n, having marked the partners of those before it and
// maybe a few after (with tok, in mark). key is the reach's bits plus one;
// keep is 15 when a pair in range is kept, 0 when the states are stale.
//
//go:noescape
func dropSquareVec(es *uint32, n int, anc *anchor, pxz uint64, key uint32, mark *uint32, tok, keep uint32) int

//go:noescape
func dropCircleVec(es *uint32, n int, anc *anchor, pxz uint64, key uint32, mark *uint32, tok, keep uint32) int

// newSquareVec and newCircleVec are nextNew's loop in vector code, from
// the first of the n cell entries at es: the index of the first whose
// reference is within key (the reach's bits plus one) of pxz and whose
// slot's mark is not tok, or n.
//
//go:noescape
func newSquareVec(es *cellEntry, n int, pxz uint64, key uint32, mark *uint32, tok uint32) int

//go:noescape
func newCircleVec(es *cellEntry, n int, pxz uint64, key uint32, mark *uint32, tok uint32) int
