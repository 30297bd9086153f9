package snapshot

import (
	"encoding"
	"hash/fnv"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Shape describes how a Go type encodes in CBOR, as far as decoding it
// again depends on it: the kind of each value, and for structs the key of
// each field. The header of a snapshot holds the shape of every component,
// so a new binary can tell an added or removed field (fine: defaults apply,
// or the value is ignored) from a field whose type changed (refused).
type Shape struct {
	// Kind is one of: bool, int, uint, float, string, bytes, array, map,
	// struct, tuple (a toarray struct), any, opaque (a type with its own
	// marshaller, compared by Name), time, ref (a recursive reference to
	// the enclosing type Name), deep (nesting cut off, compared by Name).
	Kind   string       `cbor:"1,keyasint"`
	Fields []ShapeField `cbor:"2,keyasint,omitempty"` // struct and tuple
	Elem   *Shape       `cbor:"3,keyasint,omitempty"` // array and map values
	Key    *Shape       `cbor:"4,keyasint,omitempty"` // map keys
	Name   string       `cbor:"5,keyasint,omitempty"` // opaque, ref, deep
}

// ShapeField is one field of a struct shape: its CBOR key (a name, or a
// decimal integer for keyasint fields) and its shape.
type ShapeField struct {
	Key   string `cbor:"1,keyasint"`
	Shape *Shape `cbor:"2,keyasint"`
}

// maxShapeDepth bounds how deep shapeOf describes a type; the header's
// decode limit (maxHeaderNesting) leaves room for it.
const maxShapeDepth = 12

// String renders the shape compactly, e.g. {1:int,2:[float]}.
func (s *Shape) String() string {
	var b strings.Builder
	s.write(&b)
	return b.String()
}

func (s *Shape) write(b *strings.Builder) {
	if s == nil {
		b.WriteString("?")
		return
	}
	switch s.Kind {
	case "array":
		b.WriteByte('[')
		s.Elem.write(b)
		b.WriteByte(']')
	case "map":
		b.WriteString("map[")
		s.Key.write(b)
		b.WriteByte(']')
		s.Elem.write(b)
	case "struct", "tuple":
		open, end := byte('{'), byte('}')
		if s.Kind == "tuple" {
			open, end = '(', ')'
		}
		b.WriteByte(open)
		for i, f := range s.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(f.Key)
			b.WriteByte(':')
			f.Shape.write(b)
		}
		b.WriteByte(end)
	case "opaque", "ref", "deep":
		b.WriteString(s.Kind)
		b.WriteByte('(')
		b.WriteString(s.Name)
		b.WriteByte(')')
	default:
		b.WriteString(s.Kind)
	}
}

// Fingerprint is a 64-bit FNV-1a hash of String: equal fingerprints mean
// the same shape (the fast path of the schema check).
func (s *Shape) Fingerprint() uint64 {
	h := fnv.New64a()
	h.Write([]byte(s.String()))
	return h.Sum64()
}

var (
	cborMarshaler   = reflect.TypeFor[cbor.Marshaler]()
	binaryMarshaler = reflect.TypeFor[encoding.BinaryMarshaler]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
	bigIntName      = "big.Int"
)

// ShapeOf describes t the way fxamacker/cbor encodes it with this
// package's options: exported fields, cbor (or json) tag names, keyasint,
// toarray, omitted "-" fields, flattened embedded structs; pointers are
// transparent.
func ShapeOf(t reflect.Type) *Shape {
	return shapeOf(t, nil, 0)
}

func shapeOf(t reflect.Type, inProgress []reflect.Type, depth int) *Shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name := typeName(t)
	switch {
	case t == timeType:
		return &Shape{Kind: "time"}
	case t.String() == "big.Int":
		return &Shape{Kind: "opaque", Name: bigIntName}
	case implements(t, cborMarshaler) || implements(t, binaryMarshaler):
		return &Shape{Kind: "opaque", Name: name}
	}
	for _, p := range inProgress {
		if p == t {
			return &Shape{Kind: "ref", Name: name}
		}
	}
	if depth >= maxShapeDepth {
		return &Shape{Kind: "deep", Name: name}
	}
	switch t.Kind() {
	case reflect.Bool:
		return &Shape{Kind: "bool"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &Shape{Kind: "int"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return &Shape{Kind: "uint"}
	case reflect.Float32, reflect.Float64:
		return &Shape{Kind: "float"}
	case reflect.Complex64, reflect.Complex128, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return &Shape{Kind: "opaque", Name: name} // cbor refuses these; the write will say so
	case reflect.String:
		return &Shape{Kind: "string"}
	case reflect.Interface:
		return &Shape{Kind: "any"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return &Shape{Kind: "bytes"}
		}
		return &Shape{Kind: "array", Elem: shapeOf(t.Elem(), append(inProgress, t), depth+1)}
	case reflect.Map:
		in := append(inProgress, t)
		return &Shape{Kind: "map", Key: shapeOf(t.Key(), in, depth+1), Elem: shapeOf(t.Elem(), in, depth+1)}
	case reflect.Struct:
		if implements(t, textMarshaler) {
			// cbor uses TextMarshaler only with an option we do not set,
			// but such types usually have unexported state: name them.
			if t.NumField() > 0 && !hasExported(t) {
				return &Shape{Kind: "opaque", Name: name}
			}
		}
		s := &Shape{Kind: "struct"}
		in := append(inProgress, t)
		structFields(t, in, depth, s, 0)
		return s
	}
	return &Shape{Kind: "opaque", Name: name}
}

func hasExported(t reflect.Type) bool {
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			return true
		}
	}
	return false
}

// structFields appends t's encoded fields to s (embedded structs without a
// name are flattened, as cbor does).
func structFields(t reflect.Type, in []reflect.Type, depth int, s *Shape, embedDepth int) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("cbor")
		if !hasTag {
			tag, hasTag = f.Tag.Lookup("json")
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Name == "_" && hasTag && strings.Contains(","+opts+",", ",toarray,") {
			s.Kind = "tuple"
			continue
		}
		if name == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct && embedDepth < 4 {
			structFields(ft, in, depth, s, embedDepth+1)
			continue
		}
		if !f.IsExported() {
			continue
		}
		key := name
		if key == "" {
			key = f.Name
		}
		if strings.Contains(","+opts+",", ",keyasint,") {
			if _, err := strconv.Atoi(key); err == nil {
				key = "#" + key
			}
		}
		s.Fields = append(s.Fields, ShapeField{Key: key, Shape: shapeOf(f.Type, in, depth+1)})
	}
	if s.Kind == "tuple" {
		for i := range s.Fields {
			s.Fields[i].Key = strconv.Itoa(i)
		}
	}
}

func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || reflect.PointerTo(t).Implements(iface)
}

func typeName(t reflect.Type) string {
	if t.Name() != "" {
		return t.String()
	}
	return t.Kind().String()
}

// compatible says whether values encoded with shape old decode into a type
// of shape cur: struct fields may be added (they keep their zero value) or
// removed (their values are ignored), a field may not change kind. path
// names the field for the error. dropped collects removed fields.
func compatible(old, cur *Shape, path string, dropped *[]string) *SchemaError {
	if old == nil || cur == nil {
		return &SchemaError{Path: path, Old: old.String(), New: cur.String(), Detail: "missing shape"}
	}
	if cur.Kind == "any" {
		return nil // anything decodes into an interface
	}
	if old.Kind != cur.Kind {
		return &SchemaError{Path: path, Old: old.String(), New: cur.String()}
	}
	switch cur.Kind {
	case "array":
		return compatible(old.Elem, cur.Elem, path+"[]", dropped)
	case "map":
		if err := compatible(old.Key, cur.Key, path+"[key]", dropped); err != nil {
			return err
		}
		return compatible(old.Elem, cur.Elem, path+"[]", dropped)
	case "opaque", "ref", "deep":
		if old.Name != cur.Name {
			return &SchemaError{Path: path, Old: old.String(), New: cur.String()}
		}
	case "tuple":
		if len(old.Fields) != len(cur.Fields) {
			return &SchemaError{Path: path, Old: old.String(), New: cur.String(), Detail: "a toarray struct cannot gain or lose fields"}
		}
		for i := range cur.Fields {
			if err := compatible(old.Fields[i].Shape, cur.Fields[i].Shape, joinPath(path, cur.Fields[i].Key), dropped); err != nil {
				return err
			}
		}
	case "struct":
		for _, of := range old.Fields {
			cf := fieldByKey(cur, of.Key)
			if cf == nil {
				*dropped = append(*dropped, joinPath(path, of.Key))
				continue
			}
			if err := compatible(of.Shape, cf.Shape, joinPath(path, of.Key), dropped); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldByKey(s *Shape, key string) *ShapeField {
	for i := range s.Fields {
		if s.Fields[i].Key == key {
			return &s.Fields[i]
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
