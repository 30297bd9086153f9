package snapshot

import (
	"encoding"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"

	"github.com/ecsworld/ecsworld/ecs"
)

// A flat component, a struct of integers, floats, bools and strings with
// keyasint fields (the style of LIBRARIES.md), is by far the most common,
// and fxamacker/cbor's reflection costs about 300 ns to decode one and
// 150 ns to encode one: more than the rest of its entity. flatCodec
// encodes and decodes such a struct directly. It produces the bytes
// fxamacker/cbor produces with componentEncOptions, and decodes only
// input it is sure about: anything else (a key it does not know, a
// repeated key, a value of another kind or out of range, a null) makes
// decode report false, and the caller decodes the value with
// fxamacker/cbor, which also gives the error.

// flatCodec is the plan of a flat struct type.
type flatCodec struct {
	fields []flatField // by increasing key
}

type flatField struct {
	key       uint64
	index     int          // in the struct
	kind      reflect.Kind // Int*, Uint*, Float32/64, Bool, String
	omitEmpty bool         // omitempty: a zero (or -0.0) value is left out
	omitZero  bool         // omitzero: a zero value (not -0.0) is left out
}

// maxFlatFields bounds the fields of a flat struct (a bit set tracks
// the keys seen).
const maxFlatFields = 64

var (
	cborUnmarshaler   = reflect.TypeFor[cbor.Unmarshaler]()
	binaryUnmarshaler = reflect.TypeFor[encoding.BinaryUnmarshaler]()
	textUnmarshaler   = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// flatCodecOf returns the plan of t, or nil if t is not a flat struct.
func flatCodecOf(t reflect.Type) *flatCodec {
	if t.Kind() != reflect.Struct || t.NumField() > maxFlatFields {
		return nil
	}
	pt := reflect.PointerTo(t)
	for _, m := range []reflect.Type{cborMarshaler, cborUnmarshaler, binaryMarshaler, binaryUnmarshaler, textMarshaler, textUnmarshaler} {
		if t.Implements(m) || pt.Implements(m) {
			return nil
		}
	}
	c := &flatCodec{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			if f.Name == "_" || f.Anonymous {
				return nil // struct options (toarray) or an embedded struct
			}
			continue
		}
		if f.Anonymous {
			return nil
		}
		// The field's type must be predeclared: a named type may have its
		// own (un)marshaller.
		if f.Type.PkgPath() != "" || f.Type.Name() == "" {
			return nil
		}
		switch f.Type.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Float32, reflect.Float64, reflect.Bool, reflect.String:
		default:
			return nil
		}
		tag, ok := f.Tag.Lookup("cbor")
		if !ok {
			return nil // named by its Go name (or its json tag): not handled
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		fl := flatField{index: i, kind: f.Type.Kind()}
		keyAsInt := false
		for _, o := range strings.Split(opts, ",") {
			switch o {
			case "keyasint":
				keyAsInt = true
			case "omitempty":
				fl.omitEmpty = true
			case "omitzero":
				fl.omitZero = true
			case "":
			default:
				return nil
			}
		}
		key, err := strconv.ParseUint(name, 10, 64)
		if !keyAsInt || err != nil || strconv.FormatUint(key, 10) != name {
			return nil
		}
		fl.key = key
		c.fields = append(c.fields, fl)
	}
	// Keys in increasing order, which is also the order of their shortest
	// encodings (the deterministic sort), and no key twice.
	for i := 1; i < len(c.fields); i++ {
		for j := i; j > 0 && c.fields[j].key < c.fields[j-1].key; j-- {
			c.fields[j], c.fields[j-1] = c.fields[j-1], c.fields[j]
		}
	}
	for i := 1; i < len(c.fields); i++ {
		if c.fields[i].key == c.fields[i-1].key {
			return nil
		}
	}
	return c
}

// omit reports whether f's value v is left out.
func (f *flatField) omit(v reflect.Value) bool {
	switch {
	case f.omitZero && v.IsZero():
		return true
	case !f.omitEmpty:
		return false
	case f.kind == reflect.Float32 || f.kind == reflect.Float64:
		return v.Float() == 0 // -0.0 too, as fxamacker/cbor's omitempty
	}
	return v.IsZero()
}

// flatCodecs returns the plans of comps' types (nil where not flat).
func flatCodecs(comps []ecs.Component) []*flatCodec {
	out := make([]*flatCodec, len(comps))
	for i, c := range comps {
		if c != nil {
			out[i] = flatCodecOf(c.Type())
		}
	}
	return out
}

// appendFlat appends the CBOR of the struct ptr points to.
func (c *flatCodec) appendFlat(b []byte, ptr any) []byte {
	v := reflect.ValueOf(ptr).Elem()
	n := 0
	for i := range c.fields {
		f := &c.fields[i]
		if !f.omit(v.Field(f.index)) {
			n++
		}
	}
	b = appendHead(b, majMap, uint64(n))
	for i := range c.fields {
		f := &c.fields[i]
		fv := v.Field(f.index)
		if f.omit(fv) {
			continue
		}
		b = appendHead(b, majUint, f.key)
		switch f.kind {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			b = appendInt(b, fv.Int())
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			b = appendHead(b, majUint, fv.Uint())
		case reflect.Float32:
			b = appendFloat32(b, float32(fv.Float()))
		case reflect.Float64:
			b = appendFloat64(b, fv.Float())
		case reflect.Bool:
			b = appendBool(b, fv.Bool())
		case reflect.String:
			b = appendText(b, fv.String())
		}
	}
	return b
}

// decodeFlat decodes raw (one well-formed item) into the zeroed struct
// ptr points to, and reports whether it could; on false the struct may
// be half set.
func (c *flatCodec) decodeFlat(raw []byte, ptr any) bool {
	r := cborReader{b: raw}
	return c.decodeFrom(&r, c.fieldPtrs(reflect.ValueOf(ptr).Elem())) && r.off == len(raw)
}

// fieldPtrs returns, for each of c's fields, a pointer to it in the
// struct v (addressable): an *int32 for an int32 field, and so on (the
// fields are of predeclared types only). A decoder keeps them for a
// reused holder, so that decoding stores through them instead of going
// through reflection for every field.
func (c *flatCodec) fieldPtrs(v reflect.Value) []any {
	ptrs := make([]any, len(c.fields))
	for i := range c.fields {
		ptrs[i] = v.Field(c.fields[i].index).Addr().Interface()
	}
	return ptrs
}

// decodeFrom is decodeFlat for the next item of r into the zeroed struct
// whose fields ptrs points to (see fieldPtrs): on true, r is past the
// item; on false, r's position is undefined and the struct may be half
// set.
func (c *flatCodec) decodeFrom(r *cborReader, ptrs []any) bool {
	n, err := r.expect(majMap)
	if err != nil {
		return false
	}
	var seen uint64
	for range n {
		k, err := r.uint()
		if err != nil {
			return false
		}
		fi := -1
		for i := range c.fields {
			if c.fields[i].key == k {
				fi = i
				break
			}
		}
		if fi < 0 || seen&(1<<fi) != 0 {
			return false
		}
		seen |= 1 << fi
		maj, info, arg, err := r.head()
		if err != nil {
			return false
		}
		switch p := ptrs[fi].(type) {
		case *int, *int8, *int16, *int32, *int64:
			var x int64
			switch {
			case maj == majUint && arg <= math.MaxInt64:
				x = int64(arg)
			case maj == majNeg && arg <= math.MaxInt64:
				x = ^int64(arg)
			default:
				return false
			}
			if !storeInt(p, x) {
				return false
			}
		case *uint, *uint8, *uint16, *uint32, *uint64:
			if maj != majUint || !storeUint(p, arg) {
				return false
			}
		case *float32:
			if maj != majSimple || (info != 25 && info != 26) {
				return false
			}
			x, err := r.floatOf(maj, info, arg)
			if err != nil {
				return false
			}
			*p = float32(x) // exact: a half or a single
		case *float64:
			if maj != majSimple || info < 25 || info > 27 {
				return false
			}
			x, err := r.floatOf(maj, info, arg)
			if err != nil {
				return false
			}
			*p = x
		case *bool:
			if maj != majSimple || (info != 20 && info != 21) {
				return false
			}
			*p = info == 21
		case *string:
			if maj != majText {
				return false
			}
			l, err := r.length(arg)
			if err != nil {
				return false
			}
			b := r.b[r.off : r.off+l]
			r.off += l
			if !utf8.Valid(b) {
				return false
			}
			*p = string(b)
		default:
			return false
		}
	}
	return true
}

// storeInt stores x through p (a pointer to a signed integer) unless it
// overflows it.
func storeInt(p any, x int64) bool {
	switch p := p.(type) {
	case *int:
		if int64(int(x)) != x {
			return false
		}
		*p = int(x)
	case *int8:
		if x < math.MinInt8 || x > math.MaxInt8 {
			return false
		}
		*p = int8(x)
	case *int16:
		if x < math.MinInt16 || x > math.MaxInt16 {
			return false
		}
		*p = int16(x)
	case *int32:
		if x < math.MinInt32 || x > math.MaxInt32 {
			return false
		}
		*p = int32(x)
	case *int64:
		*p = x
	default:
		return false
	}
	return true
}

// storeUint stores x through p (a pointer to an unsigned integer) unless
// it overflows it.
func storeUint(p any, x uint64) bool {
	switch p := p.(type) {
	case *uint:
		if uint64(uint(x)) != x {
			return false
		}
		*p = uint(x)
	case *uint8:
		if x > math.MaxUint8 {
			return false
		}
		*p = uint8(x)
	case *uint16:
		if x > math.MaxUint16 {
			return false
		}
		*p = uint16(x)
	case *uint32:
		if x > math.MaxUint32 {
			return false
		}
		*p = uint32(x)
	case *uint64:
		*p = x
	default:
		return false
	}
	return true
}
