package ecs

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// encodeItems encodes each value as one CBOR item, one after the other.
func encodeItems(tb testing.TB, vals ...any) []byte {
	tb.Helper()
	var out []byte
	for _, v := range vals {
		b, err := cbor.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

func mustKeys(tb testing.TB, keys ...string) *AttrKeys {
	tb.Helper()
	ks, err := NewAttrKeys(keys)
	if err != nil {
		tb.Fatal(err)
	}
	return ks
}

func TestPackAcceptsScalarsOnly(t *testing.T) {
	var pk AttrPacker
	one := mustKeys(t, "a")
	tests := []struct {
		name string
		b    []byte
		ok   bool
		want any
	}{
		{"small uint", []byte{0x05}, true, int64(5)},
		{"uint in 8 bytes", []byte{0x1b, 0, 0, 0, 0, 0, 0, 1, 0}, true, int64(256)},
		{"max int64", encodeItems(t, uint64(math.MaxInt64)), true, int64(math.MaxInt64)},
		{"uint over int64", encodeItems(t, uint64(math.MaxInt64)+1), false, nil},
		{"negative", encodeItems(t, int64(-1000)), true, int64(-1000)},
		{"min int64", encodeItems(t, int64(math.MinInt64)), true, int64(math.MinInt64)},
		{"negative under int64", []byte{0x3b, 0x80, 0, 0, 0, 0, 0, 0, 0}, false, nil},
		{"half float", []byte{0xf9, 0x3e, 0x00}, true, 1.5},
		{"single float", []byte{0xfa, 0x3f, 0xc0, 0, 0}, true, 1.5},
		{"double float", encodeItems(t, 0.1), true, 0.1},
		{"true", []byte{0xf5}, true, true},
		{"false", []byte{0xf4}, true, false},
		{"text", encodeItems(t, "knight"), true, "knight"},
		{"bytes", encodeItems(t, []byte{1, 2}), true, []byte{1, 2}},
		{"empty bytes", []byte{0x40}, true, []byte{}},
		{"null", []byte{0xf6}, false, nil},
		{"undefined", []byte{0xf7}, false, nil},
		{"simple value 32", []byte{0xf8, 0x20}, false, nil},
		{"list", encodeItems(t, []int{1}), false, nil},
		{"map", encodeItems(t, map[string]int{"x": 1}), false, nil},
		{"tag", []byte{0xc1, 0x01}, false, nil},
		{"indefinite text", []byte{0x7f, 0x61, 'a', 0xff}, false, nil},
		{"reserved info", []byte{0x1c}, false, nil},
		{"truncated head", []byte{0x19, 0x01}, false, nil},
		{"text beyond the end", []byte{0x65, 'a', 'b'}, false, nil},
		{"nothing", nil, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.b
			if tc.ok { // what follows the value is not read
				b = append(append([]byte{}, tc.b...), 0xff, 0x00)
			}
			p, n, ok := pk.Pack(one, b)
			if ok != tc.ok {
				t.Fatalf("Pack ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if n != len(tc.b) {
				t.Fatalf("Pack took %d bytes, want %d", n, len(tc.b))
			}
			vals := make([]any, 1)
			if _, ok := scanPacked(p.Encoded(), 1, vals); !ok || !reflect.DeepEqual(vals[0], tc.want) {
				t.Fatalf("decoded %#v (ok %v), want %#v", vals[0], ok, tc.want)
			}
		})
	}
	if _, _, ok := pk.Pack(mustKeys(t), []byte{0x01}); ok {
		t.Error("Pack of an empty key set succeeded")
	}
	if _, _, ok := pk.Pack(mustKeys(t, "a", "b"), []byte{0x01}); ok {
		t.Error("Pack of two values from one succeeded")
	}
}

// packedEntity returns an entity whose root attributes are packed from
// name → "orc", hp → 120, speed → 2.5.
func packedEntity(t *testing.T, onError func(error)) *Entity {
	t.Helper()
	reg := NewRegistry()
	if err := reg.RegisterType(NewEntityType("mob")); err != nil {
		t.Fatal(err)
	}
	w := NewWorld(reg, WorldOptions{OnError: onError})
	e, err := w.Create("mob", CreateOptions{ID: MakeEntityID(1, 1), Restore: true})
	if err != nil {
		t.Fatal(err)
	}
	var pk AttrPacker
	ks := mustKeys(t, "hp", "name", "speed")
	p, _, ok := pk.Pack(ks, encodeItems(t, 120, "orc", 2.5))
	if !ok {
		t.Fatal("Pack failed")
	}
	if err := e.AdoptPackedAttrs(p); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPackedAttrsDecodeOnFirstUse(t *testing.T) {
	e := packedEntity(t, nil)
	m := e.Attrs()
	// Keys alone never decode.
	if m.Len() != 3 || !m.Has("name") || m.Has("gold") || !reflect.DeepEqual(m.Keys(), []string{"hp", "name", "speed"}) {
		t.Fatalf("Len %d, Keys %v", m.Len(), m.Keys())
	}
	p, ok := m.Packed()
	if !ok || p.Len() != 3 || p.Key(1) != "name" {
		t.Fatalf("Packed() = %v, %v before any value was used", p, ok)
	}
	if m.Str("name") != "orc" || m.Int("hp") != 120 || m.Float("speed") != 2.5 {
		t.Fatalf("values %v", m.ToMap())
	}
	if _, ok := m.Packed(); ok {
		t.Fatal("still packed after a value was read")
	}
	if len(e.AttrChanges()) != 0 {
		t.Fatalf("reading recorded changes: %v", e.AttrChanges())
	}
}

func TestPackedAttrsEveryUseDecodes(t *testing.T) {
	want := map[string]any{"hp": int64(120), "name": "orc", "speed": 2.5}
	tests := []struct {
		name  string
		use   func(m *MapAttr) error
		after map[string]any // the map's contents afterwards
	}{
		{"Get", func(m *MapAttr) error { _, _ = m.Get("hp"); return nil }, want},
		{"Set", func(m *MapAttr) error { return m.Set("hp", 7) }, map[string]any{"hp": int64(7), "name": "orc", "speed": 2.5}},
		{"Set a new key", func(m *MapAttr) error { return m.Set("gold", 1) }, map[string]any{"gold": int64(1), "hp": int64(120), "name": "orc", "speed": 2.5}},
		{"Delete", func(m *MapAttr) error { m.Delete("name"); return nil }, map[string]any{"hp": int64(120), "speed": 2.5}},
		{"Clear", func(m *MapAttr) error { m.Clear(); return nil }, map[string]any{}},
		{"Range", func(m *MapAttr) error { m.Range(func(string, any) bool { return true }); return nil }, want},
		{"Clone", func(m *MapAttr) error {
			if c := m.Clone(); !reflect.DeepEqual(c.ToMap(), want) {
				return errors.New("clone differs")
			}
			return nil
		}, want},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := packedEntity(t, nil).Attrs()
			if err := tc.use(m); err != nil {
				t.Fatal(err)
			}
			if got := m.ToMap(); !reflect.DeepEqual(got, tc.after) {
				t.Fatalf("after %s: %v, want %v", tc.name, got, tc.after)
			}
		})
	}
}

func TestPackedAttrsAdoptAgain(t *testing.T) {
	e := packedEntity(t, nil)
	if err := e.AdoptAttrs([]string{"x"}, []any{int64(1)}); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.Attrs().Packed(); ok || !reflect.DeepEqual(e.Attrs().ToMap(), map[string]any{"x": int64(1)}) {
		t.Fatalf("after AdoptAttrs: %v", e.Attrs().ToMap())
	}
}

// TestPackedAttrsUndecodable: packed values that do not decode (which
// Pack makes impossible: it checks them, and they are a string) empty the
// map and say so; no panic.
func TestPackedAttrsUndecodable(t *testing.T) {
	var got []error
	e := packedEntity(t, func(err error) { got = append(got, err) })
	e.root.packed = "\xc1\x01" // a tag
	if v, ok := e.Attrs().Get("hp"); ok || v != nil || e.Attrs().Len() != 0 {
		t.Fatalf("Get = %v, %v; Len %d", v, ok, e.Attrs().Len())
	}
	if len(got) != 1 || !errors.Is(got[0], ErrAttrType) {
		t.Fatalf("errors %v", got)
	}
}

// FuzzPack: Pack never panics, takes no more than it was given, and what
// it packs decodes to what fxamacker/cbor reads from the same bytes.
func FuzzPack(f *testing.F) {
	f.Add(encodeItems(f, 1, "a", 2.5), 3)
	f.Add(encodeItems(f, []byte{1}, true, -7), 3)
	f.Add([]byte{0xf9, 0x7e, 0x00}, 1)
	f.Add([]byte{0x82, 0x01}, 1)
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	var pk AttrPacker
	dm, err := cbor.DecOptions{IntDec: cbor.IntDecConvertSigned, DefaultByteStringType: reflect.TypeOf([]byte(nil)), UTF8: cbor.UTF8DecodeInvalid}.DecMode()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		n = 1 + (n&0x7fffffff)%len(keys)
		ks := mustKeys(t, keys[:n]...)
		p, used, ok := pk.Pack(ks, b)
		if !ok {
			return
		}
		if used > len(b) || p.Encoded() != string(b[:used]) {
			t.Fatalf("packed %d of %d bytes: %x", used, len(b), p.Encoded())
		}
		vals := make([]any, n)
		if _, ok := scanPacked(p.Encoded(), n, vals); !ok {
			t.Fatal("packed bytes do not decode")
		}
		rest := b[:used]
		for i := range n {
			var v any
			r, err := dm.UnmarshalFirst(rest, &v)
			if err != nil {
				t.Fatalf("value %d: cbor refuses what Pack took: %v", i, err)
			}
			rest = r
			if f, isF := v.(float32); isF {
				v = float64(f)
			}
			if !reflect.DeepEqual(v, vals[i]) && !(isNaN(v) && isNaN(vals[i])) {
				t.Fatalf("value %d: ours %#v, cbor %#v", i, vals[i], v)
			}
		}
	})
}

func isNaN(v any) bool {
	f, ok := v.(float64)
	return ok && f != f
}
