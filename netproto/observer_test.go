package netproto

import (
	"errors"
	"math"
	"testing"
)

func TestObserverRecordsRoundTrip(t *testing.T) {
	in := []ObserverRecord{
		{Entity: 1<<48 | 7, Type: 0, X: -12.5, Z: 40, Radius: 30},
		{Entity: 2, Type: 1, X: 0, Z: -0.25, Radius: 0},
	}
	var b []byte
	for _, r := range in {
		b = AppendObserverRecord(b, r)
	}
	if len(b) != len(in)*ObserverRecordSize {
		t.Fatalf("encoded %d bytes, want %d", len(b), len(in)*ObserverRecordSize)
	}
	out, err := ParseObserverRecords(b, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if out[i] != in[i] {
			t.Errorf("record %d: got %+v, want %+v", i, out[i], in[i])
		}
	}
}

func TestObserverRecordsRefused(t *testing.T) {
	good := AppendObserverRecord(nil, ObserverRecord{Entity: 1, Type: 1, X: 1, Z: 2, Radius: 3})
	nan := AppendObserverRecord(nil, ObserverRecord{Entity: 1, X: float32(math.NaN())})
	inf := AppendObserverRecord(nil, ObserverRecord{Entity: 1, Radius: float32(math.Inf(1))})
	for _, tc := range []struct {
		name   string
		b      []byte
		ntypes int
	}{
		{"partial record", good[:ObserverRecordSize-1], 2},
		{"type index out of range", good, 1},
		{"no types", good, 0},
		{"NaN", nan, 1},
		{"infinity", inf, 1},
		{"too many", make([]byte, (MaxObserverRecords+1)*ObserverRecordSize), 1},
	} {
		if _, err := ParseObserverRecords(tc.b, tc.ntypes); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", tc.name, err)
		}
	}
}

// FuzzObserverRecords: any bytes decode to records within the bounds, or
// an ErrMalformed error; never a panic.
func FuzzObserverRecords(f *testing.F) {
	f.Add(AppendObserverRecord(nil, ObserverRecord{Entity: 9, Type: 0, X: 1, Z: 1, Radius: 30}), 1)
	f.Add([]byte{1, 2, 3}, 4)
	f.Add([]byte{}, 0)
	f.Fuzz(func(t *testing.T, b []byte, ntypes int) {
		rs, err := ParseObserverRecords(b, ntypes)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if len(rs)*ObserverRecordSize != len(b) {
			t.Fatalf("%d records from %d bytes", len(rs), len(b))
		}
		for _, r := range rs {
			if int(r.Type) >= ntypes {
				t.Fatalf("type index %d of %d", r.Type, ntypes)
			}
		}
	})
}
