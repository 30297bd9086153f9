//go:build amd64 && !purego

#include "textflag.h"

// The uniform scanners, four entries a step. An entry is a doubleword: the
// partner's slot in the low 30 bits and the state above, whose sign is
// seesBit; shifting it left by two leaves the slot times four, the scale
// that reaches its 16-byte body. Each partner's position is the first
// quadword of its body; four scalar loads and two inserts fetch four of
// them into a ymm register, faster here than VPGATHERQQ (0.67 against 0.85
// ns an entry). The test leaves "in range" in the sign of each high half,
// VMOVMSKPD collects the four, VMOVMSKPS the four stored states, and an
// entry is wrong where they differ. The last n%4 entries go one at a time
// through the same test in the low lane.
//
// Registers: SI the list, DI the bodies, CX the count, DX the count of
// whole quads' entries, AX the index; Y10 the owner's position four times,
// Y9 the key eight times, Y7 the mask of a float's magnitude.

#define SETUP \
	MOVQ	es+0(FP), SI \
	MOVQ	n+8(FP), CX \
	MOVQ	body+16(FP), DI \
	VPBROADCASTQ	pxz+24(FP), Y10 \
	VPBROADCASTD	key+32(FP), Y9 \
	VPCMPEQD	Y7, Y7, Y7 \
	VPSRLD	$1, Y7, Y7 \
	MOVQ	CX, DX \
	ANDQ	$~3, DX \
	XORQ	AX, AX

// QUAD leaves the entries AX..AX+3 in X0 and the [dx dz] of each in Y3.
// (Two quads a step measured no faster.)
#define QUAD \
	VMOVDQU	(SI)(AX*4), X0 \
	MOVL	(SI)(AX*4), R8 \
	MOVL	4(SI)(AX*4), R9 \
	MOVL	8(SI)(AX*4), R10 \
	MOVL	12(SI)(AX*4), R11 \
	SHLL	$2, R8 \
	SHLL	$2, R9 \
	SHLL	$2, R10 \
	SHLL	$2, R11 \
	VMOVQ	(DI)(R8*4), X3 \
	VPINSRQ	$1, (DI)(R9*4), X3, X3 \
	VMOVQ	(DI)(R10*4), X4 \
	VPINSRQ	$1, (DI)(R11*4), X4, X4 \
	VINSERTI128	$1, X4, Y3, Y3 \
	VSUBPS	Y10, Y3, Y3

// ONE leaves entry AX in R12 and its [dx dz] in the low lane of X3.
#define ONE \
	MOVL	(SI)(AX*4), R12 \
	MOVL	R12, R8 \
	SHLL	$2, R8 \
	VMOVQ	(DI)(R8*4), X3 \
	VSUBPS	X10, X3, X3

// WRONG4 tests the entries AX..AX+3 with TEST, leaving in BX a bit for
// each whose stored state the test contradicts (and the flags of that).
#define WRONG4(TEST) \
	QUAD \
	TEST(Y3, Y4, Y7, Y9) \
	VMOVMSKPD	Y3, BX \
	VMOVMSKPS	X0, R12 \
	XORL	R12, BX

// WRONG1 tests entry AX with TEST, leaving the flags not equal if its
// stored state the test contradicts.
#define WRONG1(TEST) \
	ONE \
	TEST(X3, X4, X7, X9) \
	VMOVMSKPD	X3, BX \
	ANDL	$1, BX \
	SHRL	$31, R12 \
	CMPL	BX, R12

// SQUARE and CIRCLE test [dx dz] in D, leaving the sign of each high half
// set where it is in range; T is scratch, ABS the magnitude mask and KEY
// the key, of D's width. SQUARE takes the magnitudes' bits, subtracts the
// key from each (the sign: within it) and ANDs the two signs into the high
// half. CIRCLE squares each difference, rounded as distCircle rounds it,
// adds dx² into the high half and subtracts the key.
#define SQUARE(D, T, ABS, KEY) \
	VPAND	ABS, D, D \
	VPSUBD	KEY, D, D \
	VPSLLQ	$32, D, T \
	VPAND	T, D, D

#define CIRCLE(D, T, ABS, KEY) \
	VMULPS	D, D, D \
	VPSLLQ	$32, D, T \
	VADDPS	T, D, D \
	VPSUBD	KEY, D, D

// SCAN is the body of a scanner for the test TEST.
#define SCAN(TEST) \
	SETUP \
quads: \
	CMPQ	AX, DX \
	JAE	tail \
	WRONG4(TEST) \
	JNZ	found \
	ADDQ	$4, AX \
	JMP	quads \
tail: \
	CMPQ	AX, CX \
	JAE	done \
	WRONG1(TEST) \
	JNE	done \
	INCQ	AX \
	JMP	tail \
found: \
	BSFL	BX, BX \
	ADDQ	BX, AX \
done:

// FARSQ and FARCI leave in R12 the bits of the distance (square) or squared
// distance (circle) of the [dx dz] in the low lane of X3 (X4 scratch), to
// compare with the grid's nearBits: both non-negative, so they order like
// the floats.
#define FARSQ \
	VPAND	X7, X3, X3 \
	VPSHUFD	$1, X3, X4 \
	VPMAXUD	X4, X3, X3 \
	VMOVD	X3, R12

#define FARCI \
	VMULPS	X3, X3, X3 \
	VPSHUFD	$1, X3, X4 \
	VADDSS	X4, X3, X3 \
	VMOVD	X3, R12

// FLIP flips entry AX of the list, a pair of slot R13 and a partner, both
// ways, and appends the two events to the slice at ev, when ev is not nil
// (the lower bits are stale, so that the upper entry is all there is to
// write) and has room; else it returns, for Go to do it.
#define FLIP \
	MOVQ	ev+64(FP), R8 \
	TESTQ	R8, R8 \
	JZ	ret \
	MOVQ	8(R8), R9 \
	LEAQ	2(R9), R11 \
	CMPQ	R11, 16(R8) \
	JHI	ret \
	MOVQ	R11, 8(R8) \
	MOVQ	(R8), R8 \
	LEAQ	(R9)(R9*2), R9 \
	LEAQ	(R8)(R9*4), R8 \
	MOVL	(SI)(AX*4), R12 \
	XORL	$0xc0000000, R12 \
	MOVL	R12, (SI)(AX*4) \
	MOVL	R12, BX \
	SHRL	$31, BX \
	ANDL	$0x3fffffff, R12 \
	SHLQ	$4, R12 \
	MOVL	12(DI)(R12*1), R12 \
	MOVQ	R13, R11 \
	SHLQ	$4, R11 \
	MOVL	12(DI)(R11*1), R11 \
	MOVL	R11, 0(R8) \
	MOVL	R12, 4(R8) \
	MOVL	BX, 8(R8) \
	MOVL	R12, 12(R8) \
	MOVL	R11, 16(R8) \
	MOVL	BX, 20(R8)

// FLIPS(L) flips, with FLIP, the entries R10+b for each bit b of R14,
// lowest first, leaving R14 zero; FLIP may return first, at the entry.
#define FLIPS(L) \
L: \
	BSFQ	R14, AX \
	ADDQ	R10, AX \
	FLIP \
	BLSRQ	R14, R14 \
	JNZ	L

// DENSE is the dense pass's walk of the upper lists of slots i..to-1 from
// entry k of slot i (see denseSquareVec), with the pair test TEST and the
// distance FAR. R13 is the slot, R10 the slot times 16 (the stride of the
// bodies, anchors and spans), AX the entry, SI the list, CX its count, DX
// the end of the quads of the current 64 entries.
//
// The quads start on multiples of four (a return to Go resumes on the
// quad of k: the entries before k agree with their state). A quad does not
// branch on what it finds: it ORs its wrong entries into R14, a bit for
// each entry of the current 64, and FLIPS flips them once the 64 are done
// or the list ends. A branch on each quad's result was mispredicted at
// every flip, late, when the partners' positions had arrived: 20 ns a
// flip, a fifth of W3's time. The last entries of a list of four or more
// are tested as the quad of its last four, after R14's flips, so that the
// entries it tests again agree with their state, and a list ends without a
// loop of unpredictable count.
//
// Each slot prefetches the first four lines of the list four slots on: the
// lists are in slot order, but with room between them, and the hardware's
// prefetch alone left a tenth of W3's time waiting for the first line of
// each. It also prefetches the body and anchor of the slot ahead slots on,
// for the partners' tests and re-references.
#define DENSE(TEST, FAR) \
	MOVQ	body+16(FP), DI \
	VPBROADCASTD	key+40(FP), Y9 \
	VPCMPEQD	Y7, Y7, Y7 \
	VPSRLD	$1, Y7, Y7 \
	MOVLQSX	i+48(FP), R13 \
	MOVQ	k+56(FP), AX \
slot: \
	MOVL	to+52(FP), R8 \
	CMPL	R13, R8 \
	JGE	end \
	MOVQ	moved+32(FP), R8 \
	MOVQ	R13, R9 \
	SHRQ	$6, R9 \
	MOVQ	(R8)(R9*8), R9 \
	BTQ	R13, R9 \
	JCC	unmoved \
	MOVQ	R13, R10 \
	SHLQ	$4, R10 \
	MOVQ	anc+24(FP), R8 \
	VMOVQ	(DI)(R10*1), X3 \
	VMOVQ	(R8)(R10*1), X4 \
	VSUBPS	X4, X3, X3 \
	FAR \
	CMPL	R12, near+44(FP) \
	JHI	far \
	MOVQ	up+8(FP), R8 \
	MOVQ	(R8)(R10*1), R11 \
	MOVL	8(R8)(R10*1), CX \
	MOVQ	ent+0(FP), SI \
	MOVQ	ahead+72(FP), R9 \
	ADDQ	R13, R9 \
	CMPL	R9, to+52(FP) \
	JGE	noahead \
	SHLQ	$4, R9 \
	MOVQ	anc+24(FP), R12 \
	PREFETCHT0	(DI)(R9*1) \
	PREFETCHT0	(R12)(R9*1) \
noahead: \
	LEAQ	4(R13), R9 \
	CMPL	R9, to+52(FP) \
	JGE	nopf \
	MOVQ	64(R8)(R10*1), R9 \
	PREFETCHT0	(SI)(R9*4) \
	PREFETCHT0	64(SI)(R9*4) \
	PREFETCHT0	128(SI)(R9*4) \
	PREFETCHT0	192(SI)(R9*4) \
nopf: \
	LEAQ	(SI)(R11*4), SI \
	VPBROADCASTQ	(DI)(R10*1), Y10 \
	ANDQ	$~3, AX \
	XORQ	R14, R14 \
bound: \
	LEAQ	64(AX), DX \
	ANDQ	$~63, DX \
	LEAQ	-3(CX), R8 \
	CMPQ	R8, DX \
	CMOVQLT	R8, DX \
	CMPQ	AX, DX \
	JGE	chunk \
quads: \
	WRONG4(TEST) \
	SHLXQ	AX, BX, BX \
	ORQ	BX, R14 \
	ADDQ	$4, AX \
	CMPQ	AX, DX \
	JLT	quads \
chunk: \
	LEAQ	-3(CX), R8 \
	CMPQ	AX, R8 \
	JGE	last \
	TESTQ	R14, R14 \
	JZ	bound \
	MOVQ	AX, DX \
	LEAQ	-64(AX), R10 \
	FLIPS(cflip) \
	MOVQ	DX, AX \
	JMP	bound \
last: \
	TESTQ	R14, R14 \
	JZ	lastq \
	LEAQ	-1(AX), R10 \
	ANDQ	$~63, R10 \
	FLIPS(lflip) \
lastq: \
	CMPQ	CX, $4 \
	JLT	tail \
	LEAQ	-4(CX), AX \
	WRONG4(TEST) \
	JZ	next \
	MOVQ	BX, R14 \
	LEAQ	-4(CX), R10 \
	FLIPS(qflip) \
	JMP	next \
tail: \
	CMPQ	AX, CX \
	JGE	next \
	WRONG1(TEST) \
	JNE	flip \
	INCQ	AX \
	JMP	tail \
next: \
	INCQ	R13 \
	XORQ	AX, AX \
	JMP	slot \
flip: \
	FLIP \
	INCQ	AX \
	JMP	tail \
unmoved: \
	MOVQ	$-1, AX \
	JMP	ret \
far: \
	MOVQ	$-2, AX \
	JMP	ret \
end: \
	XORQ	AX, AX \
ret: \
	MOVL	R13, ri+80(FP) \
	MOVQ	AX, rk+88(FP) \
	VZEROUPPER

// DROP is the body of rerefUniform's list loop (see nextDrop) for the
// test TEST: four entries a step as in SCAN, each partner marked with tok
// and its reference tested against the reach, the key. A pair may be
// dropped where it is beyond the reach and keep's bit (the state, when it
// is not stale) is clear.
//
// Registers: SI the list, DI the anchors, CX the count, DX the count of
// whole quads' entries, AX the index, R13 the marks, R14 tok, R15 keep;
// Y10 the reference four times, Y9 the key, Y7 the magnitude mask.
#define DROP(TEST) \
	MOVQ	es+0(FP), SI \
	MOVQ	n+8(FP), CX \
	MOVQ	anc+16(FP), DI \
	VPBROADCASTQ	pxz+24(FP), Y10 \
	VPBROADCASTD	key+32(FP), Y9 \
	VPCMPEQD	Y7, Y7, Y7 \
	VPSRLD	$1, Y7, Y7 \
	MOVQ	mark+40(FP), R13 \
	MOVL	tok+48(FP), R14 \
	MOVL	keep+52(FP), R15 \
	MOVQ	CX, DX \
	ANDQ	$~3, DX \
	XORQ	AX, AX \
dquads: \
	CMPQ	AX, DX \
	JAE	dtail \
	QUAD \
	MOVL	R14, (R13)(R8*1) \
	MOVL	R14, (R13)(R9*1) \
	MOVL	R14, (R13)(R10*1) \
	MOVL	R14, (R13)(R11*1) \
	TEST(Y3, Y4, Y7, Y9) \
	VMOVMSKPD	Y3, BX \
	VMOVMSKPS	X0, R12 \
	ANDL	R15, R12 \
	ORL	R12, BX \
	XORL	$15, BX \
	JNZ	dfound \
	ADDQ	$4, AX \
	JMP	dquads \
dtail: \
	CMPQ	AX, CX \
	JAE	ddone \
	ONE \
	MOVL	R14, (R13)(R8*1) \
	TEST(X3, X4, X7, X9) \
	VMOVMSKPD	X3, BX \
	ANDL	$1, BX \
	SHRL	$31, R12 \
	ANDL	R15, R12 \
	ORL	R12, BX \
	XORL	$1, BX \
	JNZ	ddone \
	INCQ	AX \
	JMP	dtail \
dfound: \
	BSFL	BX, BX \
	ADDQ	BX, AX \
ddone:

// NEW is the body of rerefUniform's cell scan (see Grid.nextNew) for the
// test TEST: four cell entries a step, each 16 bytes (slot, reference,
// radius), their references tested against the key and their slots'
// marks against tok; the first within it and unmarked stops it. A cell of
// four or more ends with the quad of its last four: those it tests again
// were not new, or were and have been marked since.
//
// Registers: SI the entries, CX the count, AX the index, R13 the marks,
// X14 tok four times; Y10 the reference four times, Y9 the key, Y7 the
// magnitude mask.
#define NEW(TEST) \
	MOVQ	es+0(FP), SI \
	MOVQ	n+8(FP), CX \
	VPBROADCASTQ	pxz+16(FP), Y10 \
	VPBROADCASTD	key+24(FP), Y9 \
	VPCMPEQD	Y7, Y7, Y7 \
	VPSRLD	$1, Y7, Y7 \
	MOVQ	mark+32(FP), R13 \
	VPBROADCASTD	tok+40(FP), X14 \
	XORQ	AX, AX \
	CMPQ	CX, $4 \
	JLT	ntail \
nquads: \
	LEAQ	4(AX), DX \
	CMPQ	DX, CX \
	JLE	nquad \
	LEAQ	-4(CX), AX \
nquad: \
	MOVQ	AX, DX \
	SHLQ	$4, DX \
	VMOVQ	4(SI)(DX*1), X3 \
	VPINSRQ	$1, 20(SI)(DX*1), X3, X3 \
	VMOVQ	36(SI)(DX*1), X4 \
	VPINSRQ	$1, 52(SI)(DX*1), X4, X4 \
	VINSERTI128	$1, X4, Y3, Y3 \
	VSUBPS	Y10, Y3, Y3 \
	TEST(Y3, Y4, Y7, Y9) \
	VMOVMSKPD	Y3, BX \
	MOVL	(SI)(DX*1), R8 \
	MOVL	16(SI)(DX*1), R9 \
	MOVL	32(SI)(DX*1), R10 \
	MOVL	48(SI)(DX*1), R11 \
	VMOVD	(R13)(R8*4), X5 \
	VPINSRD	$1, (R13)(R9*4), X5, X5 \
	VPINSRD	$2, (R13)(R10*4), X5, X5 \
	VPINSRD	$3, (R13)(R11*4), X5, X5 \
	VPCMPEQD	X14, X5, X5 \
	VMOVMSKPS	X5, R12 \
	ANDNL	BX, R12, BX \
	JNZ	nfound \
	ADDQ	$4, AX \
	CMPQ	AX, CX \
	JLT	nquads \
	JMP	ndone \
ntail: \
	CMPQ	AX, CX \
	JGE	ndone \
	MOVQ	AX, DX \
	SHLQ	$4, DX \
	VMOVQ	4(SI)(DX*1), X3 \
	VSUBPS	X10, X3, X3 \
	TEST(X3, X4, X7, X9) \
	VMOVMSKPD	X3, BX \
	ANDL	$1, BX \
	MOVL	(SI)(DX*1), R8 \
	MOVL	(R13)(R8*4), R8 \
	VMOVD	X14, R9 \
	CMPL	R8, R9 \
	SETEQ	R12 \
	ANDNL	BX, R12, BX \
	JNZ	ndone \
	INCQ	AX \
	JMP	ntail \
nfound: \
	BSFL	BX, BX \
	ADDQ	BX, AX \
ndone:

// func dropSquareVec(es *uint32, n int, anc *anchor, pxz uint64, key uint32, mark *uint32, tok, keep uint32) int
TEXT ·dropSquareVec(SB), NOSPLIT, $0-64
	DROP(SQUARE)
	MOVQ	AX, ret+56(FP)
	VZEROUPPER
	RET

// func dropCircleVec(es *uint32, n int, anc *anchor, pxz uint64, key uint32, mark *uint32, tok, keep uint32) int
TEXT ·dropCircleVec(SB), NOSPLIT, $0-64
	DROP(CIRCLE)
	MOVQ	AX, ret+56(FP)
	VZEROUPPER
	RET

// func newSquareVec(es *cellEntry, n int, pxz uint64, key uint32, mark *uint32, tok uint32) int
TEXT ·newSquareVec(SB), NOSPLIT, $0-56
	NEW(SQUARE)
	MOVQ	AX, ret+48(FP)
	VZEROUPPER
	RET

// func newCircleVec(es *cellEntry, n int, pxz uint64, key uint32, mark *uint32, tok uint32) int
TEXT ·newCircleVec(SB), NOSPLIT, $0-56
	NEW(CIRCLE)
	MOVQ	AX, ret+48(FP)
	VZEROUPPER
	RET

// func scanSquareVec(es *uint32, n int, body *body, pxz uint64, key uint32) int
TEXT ·scanSquareVec(SB), NOSPLIT, $0-48
	SCAN(SQUARE)
	MOVQ	AX, ret+40(FP)
	VZEROUPPER
	RET

// func scanCircleVec(es *uint32, n int, body *body, pxz uint64, key uint32) int
TEXT ·scanCircleVec(SB), NOSPLIT, $0-48
	SCAN(CIRCLE)
	MOVQ	AX, ret+40(FP)
	VZEROUPPER
	RET

// func findVec(es *uint32, n int, s uint32) int
//
// The index of the first of the n entries at es whose slot is s, or n:
// eight entries a step, each masked to its slot and compared with s. The
// list is far in memory (another entity's), so its first eight lines are
// prefetched together first: their misses overlap instead of coming one
// after another.
TEXT ·findVec(SB), NOSPLIT, $0-32
	MOVQ	es+0(FP), SI
	MOVQ	n+8(FP), CX
	MOVL	s+16(FP), R8
	VMOVD	R8, X1
	VPBROADCASTD	X1, Y1
	VPCMPEQD	Y2, Y2, Y2
	VPSRLD	$2, Y2, Y2
	LEAQ	(SI)(CX*4), R9
	LEAQ	512(SI), R11
	CMPQ	R11, R9
	CMOVQHI	R9, R11
	MOVQ	SI, R10
pf:
	PREFETCHT0	(R10)
	ADDQ	$64, R10
	CMPQ	R10, R11
	JCS	pf
	MOVQ	CX, DX
	ANDQ	$~7, DX
	XORQ	AX, AX
octs:
	CMPQ	AX, DX
	JAE	rest
	VPAND	(SI)(AX*4), Y2, Y0
	VPCMPEQD	Y1, Y0, Y0
	VMOVMSKPS	Y0, BX
	TESTL	BX, BX
	JNZ	hit
	ADDQ	$8, AX
	JMP	octs
rest:
	CMPQ	AX, CX
	JAE	out
	MOVL	(SI)(AX*4), BX
	ANDL	$0x3fffffff, BX
	CMPL	BX, R8
	JEQ	out
	INCQ	AX
	JMP	rest
hit:
	BSFL	BX, BX
	ADDQ	BX, AX
out:
	MOVQ	AX, ret+24(FP)
	VZEROUPPER
	RET

// func denseSquareVec(ent *uint32, up *span, body *body, anc *anchor, moved *uint64, key, near uint32, i, to int32, k int, ev *[]Event, ahead int) (ri int32, rk int)
TEXT ·denseSquareVec(SB), NOSPLIT, $0-96
	DENSE(SQUARE, FARSQ)
	RET

// func denseCircleVec(ent *uint32, up *span, body *body, anc *anchor, moved *uint64, key, near uint32, i, to int32, k int, ev *[]Event, ahead int) (ri int32, rk int)
TEXT ·denseCircleVec(SB), NOSPLIT, $0-96
	DENSE(CIRCLE, FARCI)
	RET

// func prefetchVec(es *uint32, n int)
//
// The lines of the n entries at es, eight at most.
TEXT ·prefetchVec(SB), NOSPLIT, $0-16
	MOVQ	es+0(FP), SI
	MOVQ	n+8(FP), CX
	LEAQ	(SI)(CX*4), R9
	LEAQ	512(SI), R11
	CMPQ	R11, R9
	CMOVQHI	R9, R11
pf:
	PREFETCHT0	(SI)
	ADDQ	$64, SI
	CMPQ	SI, R11
	JCS	pf
	RET

// func prefetch4(a, b, c, d unsafe.Pointer)
TEXT ·prefetch4(SB), NOSPLIT, $0-32
	MOVQ	a+0(FP), AX
	PREFETCHT0	(AX)
	MOVQ	b+8(FP), AX
	PREFETCHT0	(AX)
	MOVQ	c+16(FP), AX
	PREFETCHT0	(AX)
	MOVQ	d+24(FP), AX
	PREFETCHT0	(AX)
	RET
