package client

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ecsworld/ecsworld/netproto"
)

func set(v any, path ...any) netproto.AttrChange {
	return netproto.AttrChange{Op: netproto.AttrSet, Path: path, Value: v}
}

func del(path ...any) netproto.AttrChange {
	return netproto.AttrChange{Op: netproto.AttrDelete, Path: path}
}

func app(v any, path ...any) netproto.AttrChange {
	return netproto.AttrChange{Op: netproto.AttrAppend, Path: path, Value: v}
}

// base is a fresh tree as a CreateEntity decodes it.
func base() map[string]any {
	return map[string]any{
		"hp":   uint64(10),
		"bag":  []any{"a", "b", "c"},
		"pos":  map[string]any{"x": 1.5},
		"grid": []any{[]any{uint64(1)}, map[string]any{"k": "v"}},
	}
}

func TestApplyAttrChanges(t *testing.T) {
	tests := []struct {
		name    string
		changes []netproto.AttrChange
		want    map[string]any // nil: an error is expected
		// wantPartial is the tree after a failing change (earlier ones
		// applied); checked when want is nil.
		wantPartial func(map[string]any)
	}{
		{"set top", []netproto.AttrChange{set("x", "hp")}, func() map[string]any { m := base(); m["hp"] = "x"; return m }(), nil},
		{"set new top", []netproto.AttrChange{set(uint64(1), "new")}, func() map[string]any { m := base(); m["new"] = uint64(1); return m }(), nil},
		{"set creates maps", []netproto.AttrChange{set(true, "a", "b", "c")}, func() map[string]any {
			m := base()
			m["a"] = map[string]any{"b": map[string]any{"c": true}}
			return m
		}(), nil},
		{"set list element", []netproto.AttrChange{set("B", "bag", uint64(1))}, func() map[string]any { m := base(); m["bag"] = []any{"a", "B", "c"}; return m }(), nil},
		{"set in nested list", []netproto.AttrChange{set(uint64(2), "grid", uint64(0), uint64(0))}, func() map[string]any {
			m := base()
			m["grid"].([]any)[0] = []any{uint64(2)}
			return m
		}(), nil},
		{"set map in list", []netproto.AttrChange{set("w", "grid", int64(1), "k")}, func() map[string]any {
			m := base()
			m["grid"].([]any)[1] = map[string]any{"k": "w"}
			return m
		}(), nil},
		{"delete key", []netproto.AttrChange{del("hp")}, func() map[string]any { m := base(); delete(m, "hp"); return m }(), nil},
		{"delete absent key", []netproto.AttrChange{del("nope"), del("nope", "deeper")}, base(), nil},
		{"delete list element", []netproto.AttrChange{del("bag", uint64(0))}, func() map[string]any { m := base(); m["bag"] = []any{"b", "c"}; return m }(), nil},
		{"delete last list element", []netproto.AttrChange{del("bag", uint64(2))}, func() map[string]any { m := base(); m["bag"] = []any{"a", "b"}; return m }(), nil},
		{"append", []netproto.AttrChange{app("d", "bag"), app(uint64(5), "grid", 0)}, func() map[string]any {
			m := base()
			m["bag"] = []any{"a", "b", "c", "d"}
			m["grid"].([]any)[0] = []any{uint64(1), uint64(5)}
			return m
		}(), nil},
		{"set then delete then append, in order", []netproto.AttrChange{set([]any{}, "l"), app("x", "l"), app("y", "l"), del("l", 0)}, func() map[string]any {
			m := base()
			m["l"] = []any{"y"}
			return m
		}(), nil},
		{"unknown op", []netproto.AttrChange{{Op: 9, Path: []any{"hp"}}}, nil, nil},
		{"empty path", []netproto.AttrChange{set(1)}, nil, nil},
		{"index at top", []netproto.AttrChange{set(1, uint64(0))}, nil, nil},
		{"path too long", []netproto.AttrChange{set(1, make([]any, MaxAttrPath+1)...)}, nil, nil},
		{"bad path element", []netproto.AttrChange{set(1, "pos", 1.5)}, nil, nil},
		{"negative index", []netproto.AttrChange{set(1, "bag", int64(-1))}, nil, nil},
		{"huge index", []netproto.AttrChange{set(1, "bag", uint64(1)<<63)}, nil, nil},
		{"index out of range", []netproto.AttrChange{set(1, "bag", uint64(3))}, nil, nil},
		{"delete out of range", []netproto.AttrChange{del("bag", uint64(3))}, nil, nil},
		{"key on a list", []netproto.AttrChange{set(1, "bag", "k")}, nil, nil},
		{"index on a map", []netproto.AttrChange{set(1, "pos", uint64(0))}, nil, nil},
		{"through a scalar", []netproto.AttrChange{set(1, "hp", "x")}, nil, nil},
		{"append to a scalar", []netproto.AttrChange{app(1, "hp")}, nil, nil},
		{"append to missing", []netproto.AttrChange{app(1, "missing")}, nil, nil},
		{"append below missing", []netproto.AttrChange{app(1, "missing", "l")}, nil, nil},
		{"append to list element scalar", []netproto.AttrChange{app(1, "bag", 0)}, nil, nil},
		{"set cannot create a list", []netproto.AttrChange{set(1, "missing", uint64(0))}, nil, func(m map[string]any) {
			if _, ok := m["missing"]; ok {
				t.Error("a failed set left a map behind")
			}
		}},
		{"stops at the first error", []netproto.AttrChange{set(uint64(1), "hp"), app(1, "hp"), set(uint64(2), "hp")}, nil, func(m map[string]any) {
			if m["hp"] != uint64(1) {
				t.Errorf("hp %v, want the first change applied and the third not", m["hp"])
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			err := ApplyAttrChanges(m, tc.changes)
			if tc.want == nil {
				if !errors.Is(err, ErrAttrChange) {
					t.Fatalf("err %v, want ErrAttrChange", err)
				}
				if tc.wantPartial != nil {
					tc.wantPartial(m)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, tc.want) {
				t.Fatalf("got %#v\nwant %#v", m, tc.want)
			}
		})
	}
	if err := ApplyAttrChanges(nil, []netproto.AttrChange{set(1, "a")}); !errors.Is(err, ErrAttrChange) {
		t.Fatalf("nil map: %v", err)
	}
}

func TestCopyAttrs(t *testing.T) {
	m := base()
	m["bytes"] = []byte{1, 2}
	c := CopyAttrs(m)
	if !reflect.DeepEqual(c, m) {
		t.Fatalf("copy %#v differs", c)
	}
	c["bag"].([]any)[0] = "changed"
	c["pos"].(map[string]any)["x"] = 0
	c["bytes"].([]byte)[0] = 9
	c["grid"].([]any)[0].([]any)[0] = "z"
	if !reflect.DeepEqual(m, func() map[string]any { b := base(); b["bytes"] = []byte{1, 2}; return b }()) {
		t.Fatalf("changing the copy changed the original: %#v", m)
	}
	if CopyAttrs(nil) != nil {
		t.Fatal("CopyAttrs(nil) is not nil")
	}
}
