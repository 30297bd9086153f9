//go:build !amd64 || purego

package aoi

import "unsafe"

// haveVector reports that there are no vector scanners on this platform.
func haveVector() bool { return false }

// scanSquareVec and scanCircleVec stand in for the vector loops of
// scan_amd64.s and are never called: see haveVector.
func scanSquareVec(_ *uint32, n int, _ *body, _ uint64, _ uint32) int { return 0 }
func scanCircleVec(_ *uint32, n int, _ *body, _ uint64, _ uint32) int { return 0 }
func findVec(_ *uint32, n int, _ uint32) int                          { return n }

// denseSquareVec and denseCircleVec stand in for the dense walks of
// scan_amd64.s and are never called: see haveVector.
func denseSquareVec(_ *uint32, _ *span, _ *body, _ *anchor, _ *uint64, _, _ uint32, _, to int32, _ int, _ *[]Event, _ int) (int32, int) {
	return to, 0
}
func denseCircleVec(_ *uint32, _ *span, _ *body, _ *anchor, _ *uint64, _, _ uint32, _, to int32, _ int, _ *[]Event, _ int) (int32, int) {
	return to, 0
}

// prefetchVec stands in for the prefetch of scan_amd64.s.
func prefetchVec(_ *uint32, _ int) {}

// prefetch4 stands in for the prefetch of scan_amd64.s.
func prefetch4(_, _, _, _ unsafe.Pointer) {}

// dropSquareVec and dropCircleVec stand in for the vector loops of
// scan_amd64.s and are never called: see haveVector.
func dropSquareVec(_ *uint32, n int, _ *anchor, _ uint64, _ uint32, _ *uint32, _, _ uint32) int {
	return n
}
func dropCircleVec(_ *uint32, n int, _ *anchor, _ uint64, _ uint32, _ *uint32, _, _ uint32) int {
	return n
}

// newSquareVec and newCircleVec stand in for the vector loops of
// scan_amd64.s and are never called: see haveVector.
func newSquareVec(_ *cellEntry, n int, _ uint64, _ uint32, _ *uint32, _ uint32) int { return n }
func newCircleVec(_ *cellEntry, n int, _ uint64, _ uint32, _ *uint32, _ uint32) int { return n }
