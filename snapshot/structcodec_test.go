package snapshot

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

type flatA struct {
	HP    int32   `cbor:"1,keyasint"`
	Max   int64   `cbor:"2,keyasint,omitempty"`
	Level uint8   `cbor:"3,keyasint"`
	Speed float32 `cbor:"4,keyasint,omitempty"`
	X     float64 `cbor:"30,keyasint,omitzero"`
	Name  string  `cbor:"25,keyasint,omitempty"`
	On    bool    `cbor:"7,keyasint"`
	U     uint    `cbor:"300,keyasint"`
	I8    int8    `cbor:"5,keyasint"`
	skip  int     //nolint:unused // unexported: not encoded
	Gone  int     `cbor:"-"`
}

type myInt int

type notFlat1 struct {
	A myInt `cbor:"1,keyasint"` // a named type
}

type notFlat2 struct {
	A int `cbor:"a"` // keyed by name
}

type notFlat3 struct {
	A []int `cbor:"1,keyasint"`
}

type notFlat4 struct {
	_ struct{} `cbor:",toarray"`
	A int
}

func TestFlatCodecOf(t *testing.T) {
	if flatCodecOf(reflect.TypeFor[flatA]()) == nil {
		t.Fatal("flatA is flat")
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[notFlat1](), reflect.TypeFor[notFlat2](), reflect.TypeFor[notFlat3](),
		reflect.TypeFor[notFlat4](), reflect.TypeFor[int](), reflect.TypeFor[Shape]()} {
		if flatCodecOf(typ) != nil {
			t.Errorf("%v taken as flat", typ)
		}
	}
}

func randFlat(rng *rand.Rand) flatA {
	floats := []float64{0, math.Copysign(0, -1), 1.5, 3.1, 1e300, math.Inf(1), math.NaN(), 65504, 1e-8}
	v := flatA{HP: rng.Int32() - math.MaxInt32/2, Level: uint8(rng.IntN(256)), On: rng.IntN(2) == 0, U: uint(rng.Uint64()), I8: int8(rng.IntN(256) - 128)}
	if rng.IntN(2) == 0 {
		v.Max = rng.Int64() - math.MaxInt64/2
	}
	if rng.IntN(2) == 0 {
		v.Speed = float32(floats[rng.IntN(len(floats))])
	}
	if rng.IntN(2) == 0 {
		v.X = floats[rng.IntN(len(floats))]
	}
	if rng.IntN(2) == 0 {
		v.Name = []string{"", "a", "héllo", "knights"}[rng.IntN(4)]
	}
	return v
}

// TestFlatCodecMatchesCBOR: the flat codec writes the bytes
// fxamacker/cbor writes, and reads them back to the same value.
func TestFlatCodecMatchesCBOR(t *testing.T) {
	em, err := componentEncOptions().EncMode()
	if err != nil {
		t.Fatal(err)
	}
	dm, err := componentDecOptions().DecMode()
	if err != nil {
		t.Fatal(err)
	}
	c := flatCodecOf(reflect.TypeFor[flatA]())
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		v := randFlat(rng)
		want, err := em.Marshal(&v)
		if err != nil {
			t.Fatal(err)
		}
		got := c.appendFlat(nil, &v)
		if !bytes.Equal(got, want) {
			t.Fatalf("value %d %+v: % x, fxamacker/cbor % x", i, v, got, want)
		}
		var back, ref flatA
		if !c.decodeFlat(got, &back) {
			t.Fatalf("value %d: not decoded", i)
		}
		if err := dm.Unmarshal(got, &ref); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, ref) && !(back.X != back.X && ref.X != ref.X) && !(back.Speed != back.Speed && ref.Speed != ref.Speed) {
			t.Fatalf("value %d: %+v, fxamacker/cbor %+v", i, back, ref)
		}
	}
}

// TestFlatDecodeRefuses: what the flat decoder takes, fxamacker/cbor
// decodes to the same value; what it refuses is left to fxamacker/cbor.
func TestFlatDecodeRefuses(t *testing.T) {
	dm, err := componentDecOptions().DecMode()
	if err != nil {
		t.Fatal(err)
	}
	c := flatCodecOf(reflect.TypeFor[flatA]())
	enc := func(v any) []byte {
		b, err := cbor.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, raw := range [][]byte{
		enc(map[uint64]any{1: 5, 99: 1}),             // an unknown key
		enc(map[uint64]any{5: 200}),                  // int8 overflow
		enc(map[uint64]any{3: -1}),                   // negative into uint8
		enc(map[uint64]any{1: "x"}),                  // a string into an int
		enc(map[uint64]any{4: 1e300}),                // a double into float32
		enc(map[uint64]any{7: nil}),                  // null
		enc(map[uint64]any{1: 1.5}),                  // a float into an int
		enc(map[string]any{"HP": 1}),                 // keyed by name
		enc([]any{1, 2}),                             // not a map
		{0xa2, 0x01, 0x01, 0x01, 0x02},               // a key twice
		{0xa1, 0x18, 0x19, 0x62, 0xff, 0xfe},         // invalid UTF-8
		{0xa1, 0x01, 0xc2, 0x41, 0x01},               // a tag
		enc(map[uint64]any{1: 5, 25: "ok", 30: 2.5}), // accepted
	} {
		var got, want flatA
		ok := c.decodeFlat(raw, &got)
		err := dm.Unmarshal(raw, &want)
		if ok && (err != nil || !reflect.DeepEqual(got, want)) {
			t.Errorf("% x: flat decoder took it as %+v; fxamacker/cbor: %+v, %v", raw, got, want, err)
		}
	}
	var v flatA
	if c.decodeFlat(append(enc(map[uint64]any{1: 5}), 0x00), &v) {
		t.Error("taken with a byte after the item")
	}
	v = flatA{}
	if !c.decodeFlat(enc(map[uint64]any{1: 5, 25: "ok", 30: 2.5}), &v) || v.HP != 5 || v.Name != "ok" || v.X != 2.5 {
		t.Errorf("a plain value was refused: %+v", v)
	}
}

type flatInts struct {
	A int    `cbor:"1,keyasint"`
	B int8   `cbor:"2,keyasint"`
	C int16  `cbor:"3,keyasint"`
	D uint   `cbor:"4,keyasint"`
	E uint16 `cbor:"5,keyasint"`
	F uint32 `cbor:"6,keyasint"`
	G uint64 `cbor:"7,keyasint"`
}

// TestFlatDecodeIntegerBounds: every integer width takes its bounds and
// refuses one past them, as fxamacker/cbor does.
func TestFlatDecodeIntegerBounds(t *testing.T) {
	dm, err := componentDecOptions().DecMode()
	if err != nil {
		t.Fatal(err)
	}
	c := flatCodecOf(reflect.TypeFor[flatInts]())
	if c == nil {
		t.Fatal("flatInts is not flat")
	}
	for _, m := range []map[uint64]any{
		{1: int64(math.MinInt64), 2: -128, 3: 32767, 4: uint64(math.MaxUint64), 5: 65535, 6: uint32(math.MaxUint32), 7: uint64(math.MaxUint64)},
		{1: int64(math.MaxInt64), 2: 127, 3: -32768, 4: 0, 5: 0, 6: 0, 7: 0},
		{2: 128}, {2: -129}, {3: 32768}, {5: 65536}, {6: uint64(math.MaxUint32) + 1}, {4: -1}, {7: -1},
	} {
		raw, err := cbor.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var got, want flatInts
		ok := c.decodeFlat(raw, &got)
		werr := dm.Unmarshal(raw, &want)
		if ok != (werr == nil) || (ok && got != want) {
			t.Errorf("%v: flat decoder %v %+v; fxamacker/cbor %v %+v", m, ok, got, werr, want)
		}
	}
}
