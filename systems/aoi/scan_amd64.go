//go:build amd64 && !purego

package aoi

import "golang.org/x/sys/cpu"

// haveVector reports whether the vector scanners of scan_amd64.s can run:
// they use AVX2's gathers.
func haveVector() bool { return cpu.X86.HasAVX2 }

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
