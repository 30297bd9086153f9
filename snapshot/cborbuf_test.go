package snapshot

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// TestHalfFloats: every half float converts to single and back exactly,
// and a single converts to half only when that is exact.
func TestHalfFloats(t *testing.T) {
	for h := range 1 << 16 {
		f := f32From16(uint16(h))
		back, ok := f16From32(f)
		if f != f {
			if !ok || back != 0x7e00 {
				t.Fatalf("NaN %#04x → %#04x %v", h, back, ok)
			}
			continue
		}
		if !ok || back != uint16(h) {
			t.Fatalf("%#04x → %v → %#04x %v", h, f, back, ok)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1 << 16 {
		f := math.Float32frombits(rng.Uint32())
		if h, ok := f16From32(f); ok && f == f && f32From16(h) != f {
			t.Fatalf("%v → %#04x → %v", f, h, f32From16(h))
		}
	}
}

// TestRecordsAreCBOR: what appendFloat/Head/... write is what fxamacker
// reads.
func TestRecordsAreCBOR(t *testing.T) {
	var b []byte
	vals := []any{int64(0), int64(23), int64(24), int64(-1), int64(-25), int64(math.MaxInt64), int64(math.MinInt64),
		1.5, 0.1, float64(float32(0.1)), math.Inf(-1), 65504.0, 1e-7, "héllo", []byte{1, 2}, true, false}
	for _, v := range vals {
		switch x := v.(type) {
		case int64:
			b = appendInt(b[:0], x)
		case float64:
			b = appendFloat64(b[:0], x)
		case string:
			b = appendText(b[:0], x)
		case []byte:
			b = appendBytes(b[:0], x)
		case bool:
			b = appendBool(b[:0], x)
		}
		var got any
		if err := cbor.Unmarshal(b, &got); err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		switch x := v.(type) {
		case int64:
			ok := false
			switch g := got.(type) {
			case uint64:
				ok = x >= 0 && g == uint64(x)
			case int64:
				ok = g == x
			}
			if !ok {
				t.Fatalf("%v read back as %v", v, got)
			}
		case float64:
			if got.(float64) != x {
				t.Fatalf("%v read back as %v", v, got)
			}
		case []byte:
			if string(got.([]byte)) != string(x) {
				t.Fatalf("%v read back as %v", v, got)
			}
		default:
			if got != v {
				t.Fatalf("%v read back as %v", v, got)
			}
		}
		r := cborReader{b: b}
		if _, err := r.skip(4); err != nil || r.off != len(b) {
			t.Fatalf("skip %v: %v at %d of %d", v, err, r.off, len(b))
		}
	}
}

func TestReaderRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"indefinite array", []byte{0x9f, 0x01, 0xff}},
		{"reserved info", []byte{0x1c}},
		{"length beyond input", []byte{0x5a, 0xff, 0xff, 0xff, 0xff}},
		{"array beyond input", []byte{0x9b, 0, 0, 0, 1, 0, 0, 0, 0}},
		{"cut head", []byte{0x19, 0x01}},
		{"deep", []byte{0x81, 0x81, 0x81, 0x81, 0x81, 0x01}},
	} {
		r := cborReader{b: c.b}
		if _, err := r.skip(4); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}
