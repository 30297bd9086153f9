package netproto

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// angleDiff is the absolute difference of two angles on the circle.
func angleDiff(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 2*math.Pi)
	if d > math.Pi {
		d = 2*math.Pi - d
	}
	return d
}

func TestPositionBatchRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]PositionRecord, 500)
	for i := range recs {
		recs[i] = PositionRecord{
			Entity: rng.Uint64(),
			X:      float32(rng.NormFloat64() * 5000),
			Y:      float32(rng.NormFloat64() * 100),
			Z:      float32(rng.NormFloat64() * 5000),
			Yaw:    float32(rng.Float64()*40 - 20), // any range, negative too
		}
	}
	recs = append(recs,
		PositionRecord{Yaw: 0},
		PositionRecord{Yaw: float32(2*math.Pi) - 1e-6},
		PositionRecord{X: math.MaxFloat32, Y: -math.MaxFloat32, Z: math.SmallestNonzeroFloat32, Yaw: -math.Pi},
	)
	payload, err := AppendPositionBatch(nil, recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(payload) != 2+len(recs)*PositionRecordSize {
		t.Fatalf("payload %d bytes", len(payload))
	}
	got, err := DecodePositionBatch(nil, payload, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("%d records, want %d", len(got), len(recs))
	}
	const maxYawErr = math.Pi/65536 + 1e-6 // half a step, plus float32 rounding
	for i, r := range got {
		w := recs[i]
		if r.Entity != w.Entity || r.X != w.X || r.Y != w.Y || r.Z != w.Z {
			t.Fatalf("record %d: got %+v, want %+v (positions must be exact)", i, r, w)
		}
		if r.Yaw < 0 || r.Yaw >= float32(2*math.Pi) {
			t.Fatalf("record %d: yaw %v outside [0, 2π)", i, r.Yaw)
		}
		if d := angleDiff(float64(r.Yaw), float64(w.Yaw)); d > maxYawErr {
			t.Fatalf("record %d: yaw %v decoded as %v, error %v > %v", i, w.Yaw, r.Yaw, d, maxYawErr)
		}
	}
}

func TestYawQuantisationStable(t *testing.T) {
	// A decoded yaw re-encodes to the same wire value: a gate or client
	// relaying a heading does not drift.
	for q := 0; q < 65536; q++ {
		if got := QuantizeYaw(DequantizeYaw(uint16(q))); got != uint16(q) {
			t.Fatalf("q=%d re-encodes to %d", q, got)
		}
	}
}

func TestDecodePositionBatchZeroAlloc(t *testing.T) {
	recs := make([]PositionRecord, 100)
	for i := range recs {
		recs[i] = PositionRecord{Entity: uint64(i), X: float32(i)}
	}
	payload, _ := AppendPositionBatch(nil, recs)
	dst := make([]PositionRecord, 0, 100)
	allocs := testing.AllocsPerRun(50, func() {
		var err error
		dst, err = DecodePositionBatch(dst, payload, 100)
		if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
	buf := make([]byte, 0, len(payload))
	allocs = testing.AllocsPerRun(50, func() {
		buf, _ = AppendPositionBatch(buf[:0], recs)
	})
	if allocs != 0 {
		t.Fatalf("encode: %v allocations", allocs)
	}
}

func TestPositionBatchErrors(t *testing.T) {
	one, _ := AppendPositionBatch(nil, []PositionRecord{{Entity: 1}})
	nan := append([]byte(nil), one...)
	binary.BigEndian.PutUint32(nan[2+8:], math.Float32bits(float32(math.NaN())))
	inf := append([]byte(nil), one...)
	binary.BigEndian.PutUint32(inf[2+16:], math.Float32bits(float32(math.Inf(-1))))
	tests := []struct {
		name    string
		payload []byte
		max     int
		want    error
	}{
		{"empty", nil, 0, ErrTruncated},
		{"one byte", []byte{0}, 0, ErrTruncated},
		{"count over max", binary.BigEndian.AppendUint16(nil, 5), 4, ErrFrameTooLarge},
		{"count without records", binary.BigEndian.AppendUint16(nil, 3), 0, ErrTruncated},
		{"short record", one[:len(one)-1], 0, ErrTruncated},
		{"trailing bytes", append(append([]byte(nil), one...), 0), 0, ErrMalformed},
		{"NaN", nan, 0, ErrMalformed},
		{"Inf", inf, 0, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodePositionBatch(nil, tc.payload, tc.max); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := AppendPositionBatch(nil, make([]PositionRecord, MaxPositionBatch+1)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized batch: %v", err)
	}
	dst := []byte("keep")
	out, err := AppendPositionBatch(dst, []PositionRecord{{}, {X: float32(math.NaN())}})
	if !errors.Is(err, ErrMalformed) || string(out) != "keep" {
		t.Fatalf("NaN encode: %v, %q", err, out)
	}
	if _, err := AppendPositionRecord(nil, PositionRecord{Yaw: float32(math.Inf(1))}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Inf record: %v", err)
	}
}

func TestPositionBatchRaw(t *testing.T) {
	var raw []byte
	recs := []PositionRecord{{Entity: 1, X: 1}, {Entity: 2, Y: 2}, {Entity: 3, Z: 3}}
	for _, r := range recs {
		raw, _ = AppendPositionRecord(raw, r)
	}
	payload, err := AppendPositionBatchRaw(nil, raw)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := AppendPositionBatch(nil, recs)
	if string(payload) != string(want) {
		t.Fatal("raw batch differs from encoded batch")
	}
	if _, err := AppendPositionBatchRaw(nil, raw[:5]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("misaligned raw: %v", err)
	}
	n, err := PositionBatchLen(payload, 3)
	if err != nil || n != 3 {
		t.Fatalf("PositionBatchLen = %d, %v", n, err)
	}
}

func TestSyncFromClient(t *testing.T) {
	r := PositionRecord{Entity: 5, X: 1, Y: 2, Z: 3, Yaw: DequantizeYaw(100)}
	p, err := AppendSyncFromClient(nil, 77, r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSyncFromClient(p)
	if err != nil || got.Client != 77 || got.Record != r {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := DecodeSyncFromClient(append(p, 0)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("long payload: %v", err)
	}
}
