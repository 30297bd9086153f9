//go:build !amd64 || purego

package aoi

// haveVector reports that there are no vector scanners on this platform.
func haveVector() bool { return false }

// scanSquareVec and scanCircleVec stand in for the vector loops of
// scan_amd64.s and are never called: see haveVector.
func scanSquareVec(_ *uint32, n int, _ *body, _ uint64, _ uint32) int { return 0 }
func scanCircleVec(_ *uint32, n int, _ *body, _ uint64, _ uint32) int { return 0 }
