package snapshot

import (
	"math"
	"testing"
)

// TestNumValueShares checks that shared number boxes keep each value's
// kind and value (an integer and a float with the same bits differ), and
// that hits and misses are counted.
func TestNumValueShares(t *testing.T) {
	var b []byte
	want := []any{int64(300), math.Float64frombits(300), int64(-301), 2.5, int64(300), int64(7), 2.5, int64(1) << 40}
	for _, v := range want {
		switch x := v.(type) {
		case int64:
			b = appendInt(b, x)
		case float64:
			b = appendFloat64(b, x)
		}
	}
	d := &decoder{}
	r := &cborReader{b: b}
	var miss uint8
	misses := []uint8{1, 2, 3, 4, 0, 0, 0, 1} // 7 is below 256: not looked up
	for i, w := range want {
		got, err := d.numValue(r, true, &miss)
		if err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		if got != w {
			t.Fatalf("value %d: %#v, want %#v", i, got, w)
		}
		if miss != misses[i] {
			t.Fatalf("value %d: miss count %d, want %d", i, miss, misses[i])
		}
	}
	if r.off != len(b) {
		t.Fatalf("read %d of %d bytes", r.off, len(b))
	}
	// Without sharing, nothing is counted and values are the same.
	r, miss = &cborReader{b: b}, 9
	for i, w := range want {
		if got, err := d.numValue(r, false, &miss); err != nil || got != w || miss != 9 {
			t.Fatalf("unshared value %d: %#v, %v (miss %d)", i, got, err, miss)
		}
	}
}
