package aoi

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// scanCase is a list with its partners' bodies, the owner and a key, for
// comparing the vector scanners with the Go ones.
type scanCase struct {
	es   []uint32
	body []body
	p    body
	key  uint32
}

// newScanCase builds a case from src: positions near the owner, many of
// them exactly at the key's distance or one ulp either side of it, and
// random stored states.
func newScanCase(src func() uint32, circle bool) scanCase {
	r := float32(1 + src()%200)
	c := scanCase{p: body{x: float32(int32(src()%2000) - 1000), z: float32(int32(src()%2000) - 1000)}}
	c.key = math.Float32bits(r) + 1
	if circle {
		c.key = math.Float32bits(r*r) + 1
	}
	off := func() float32 {
		switch src() % 4 {
		case 0:
			return r
		case 1:
			return math.Nextafter32(r, 0)
		case 2:
			return math.Nextafter32(r, 2*r)
		}
		return float32(int32(src()%(4*uint32(r)+1))) - 2*r
	}
	sign := func(v float32) float32 {
		if src()%2 == 0 {
			return -v
		}
		return v
	}
	c.body = make([]body, 1+src()%64)
	for i := range c.body {
		dx, dz := sign(off()), sign(off())
		if src()%3 == 0 {
			dz = 0
		}
		c.body[i] = body{x: c.p.x + dx, z: c.p.z + dz, h: Handle(i)}
	}
	c.es = make([]uint32, src()%40)
	for i := range c.es {
		c.es[i] = src()%uint32(len(c.body)) | src()&bothBits
	}
	return c
}

// check compares the scanners from every start index.
func (c scanCase) check(t *testing.T) {
	t.Helper()
	for _, sc := range []struct {
		name      string
		vec, want scanner
	}{
		{"square", nextSquareVec, nextSquareUniform},
		{"circle", nextCircleVec, nextCircleUniform},
	} {
		for k := 0; k <= len(c.es); k++ {
			if got, want := sc.vec(c.es, k, c.body, c.p, c.key), sc.want(c.es, k, c.body, c.p, c.key); got != want {
				t.Fatalf("%s from %d of %d entries: vector scanner stops at %d, Go scanner at %d", sc.name, k, len(c.es), got, want)
			}
		}
	}
}

func TestVectorScanners(t *testing.T) {
	if !haveVector() {
		t.Skip("no vector scanners on this machine")
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 3000 {
		newScanCase(rng.Uint32, i%2 == 0).check(t)
	}
	// A list that agrees everywhere must be walked to its end.
	c := newScanCase(rng.Uint32, false)
	for k, e := range c.es {
		q := c.body[partner(e)]
		c.es[k] = e&idxMask | squareBits(body{x: c.p.x, z: c.p.z, k: c.key}, body{x: q.x, z: q.z, k: c.key})
	}
	if got := nextSquareVec(c.es, 0, c.body, c.p, c.key); got != len(c.es) {
		t.Fatalf("agreeing list: stopped at %d of %d", got, len(c.es))
	}
}

// FuzzVectorScanners compares the scanners on cases built from the input.
func FuzzVectorScanners(f *testing.F) {
	if !haveVector() {
		f.Skip("no vector scanners on this machine")
	}
	f.Add([]byte{0}, false)
	f.Add([]byte("a list of pairs, some of them at the edge"), true)
	f.Add(make([]byte, 300), false)
	f.Fuzz(func(t *testing.T, data []byte, circle bool) {
		i := 0
		src := func() uint32 { // the input's words, then zeros
			var b [4]byte
			i += copy(b[:], data[min(i, len(data)):])
			return binary.LittleEndian.Uint32(b[:])
		}
		newScanCase(src, circle).check(t)
	})
}
