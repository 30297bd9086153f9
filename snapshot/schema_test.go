package snapshot

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

type shapeA struct {
	ID    uint64            `cbor:"1,keyasint"`
	Name  string            `cbor:"name"`
	Skip  int               `cbor:"-"`
	Pos   [3]float32        `json:"pos"`
	Tags  map[string][]int8 //
	When  time.Time
	Next  *shapeA
	inner int
	shapeEmbed
}

type shapeEmbed struct{ Flat bool }

type shapeTuple struct {
	_ struct{} `cbor:",toarray"`
	A int
	B string
}

func TestShapeOf(t *testing.T) {
	got := ShapeOf(reflect.TypeFor[shapeA]()).String()
	want := "{#1:uint,name:string,pos:[float],Tags:map[string][int],When:time,Next:ref(snapshot.shapeA),Flat:bool}"
	if got != want {
		t.Fatalf("shape\n got %s\nwant %s", got, want)
	}
	if got := ShapeOf(reflect.TypeFor[shapeTuple]()).String(); got != "(0:int,1:string)" {
		t.Fatalf("tuple shape %s", got)
	}
	if got := ShapeOf(reflect.TypeFor[[]byte]()).String(); got != "bytes" {
		t.Fatalf("bytes shape %s", got)
	}
}

func TestCompatible(t *testing.T) {
	type v1 struct {
		A int      `cbor:"1,keyasint"`
		B []string `cbor:"2,keyasint"`
		C float64  `cbor:"3,keyasint"`
	}
	type added struct {
		A int      `cbor:"1,keyasint"`
		B []string `cbor:"2,keyasint"`
		C float32  `cbor:"3,keyasint"`
		D bool     `cbor:"4,keyasint"`
	}
	type dropped struct {
		A int64 `cbor:"1,keyasint"`
	}
	type changed struct {
		A int   `cbor:"1,keyasint"`
		B []int `cbor:"2,keyasint"`
	}
	type anyB struct {
		B any `cbor:"2,keyasint"`
	}
	for _, c := range []struct {
		name    string
		cur     reflect.Type
		wantErr string // "" for compatible
		dropped int
	}{
		{"same", reflect.TypeFor[v1](), "", 0},
		{"added field, wider float", reflect.TypeFor[added](), "", 0},
		{"dropped fields", reflect.TypeFor[dropped](), "", 2},
		{"element type changed", reflect.TypeFor[changed](), "field #2[]", 1},
		{"now any", reflect.TypeFor[anyB](), "", 2},
		{"not a struct", reflect.TypeFor[int](), "was {", 0},
	} {
		var d []string
		err := compatible(ShapeOf(reflect.TypeFor[v1]()), ShapeOf(c.cur), "", &d)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.wantErr != "" && (err == nil || !strings.Contains((&SchemaError{Component: "x", Path: err.Path, Old: err.Old, New: err.New}).Error(), c.wantErr)):
			t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
		case c.wantErr == "" && len(d) != c.dropped:
			t.Errorf("%s: dropped %v, want %d", c.name, d, c.dropped)
		}
	}
}
