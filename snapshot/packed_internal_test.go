package snapshot

import (
	"reflect"
	"testing"

	"github.com/ecsworld/ecsworld/ecs"
)

// FuzzPackedMatchesDecoder: whatever ecs.AttrPacker packs, the snapshot's
// own value decoder reads too, over the same bytes, to the same values.
// A restore checks attribute values with the packer alone, so anything it
// let through that the decoder refuses would be restored unchecked.
func FuzzPackedMatchesDecoder(f *testing.F) {
	f.Add([]byte{0x05, 0x63, 'o', 'r', 'c', 0xf9, 0x3e, 0x00}, 3)
	f.Add([]byte{0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 2)
	f.Add([]byte{0x42, 1, 2, 0xf5, 0xfb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a}, 3)
	f.Add([]byte{0xf8, 0x20}, 1)
	keys := []string{"a", "b", "c", "d", "e", "f"}
	reg := ecs.NewRegistry()
	if err := reg.RegisterType(ecs.NewEntityType("mob")); err != nil {
		f.Fatal(err)
	}
	var pk ecs.AttrPacker
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		n = 1 + (n&0x7fffffff)%len(keys)
		ks, err := ecs.NewAttrKeys(keys[:n])
		if err != nil {
			t.Fatal(err)
		}
		p, used, ok := pk.Pack(ks, b)
		if !ok {
			return
		}
		d := &decoder{}
		r := &cborReader{b: b}
		want := make([]any, n)
		for i := range n {
			if want[i], err = d.attrValue(r, 1); err != nil {
				t.Fatalf("value %d: the decoder refuses what the packer took: %v", i, err)
			}
		}
		if r.off != used {
			t.Fatalf("the decoder read %d bytes, the packer %d", r.off, used)
		}
		w := ecs.NewWorld(reg, ecs.WorldOptions{})
		e, err := w.Create("mob", ecs.CreateOptions{ID: ecs.MakeEntityID(1, 1), Restore: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.AdoptPackedAttrs(p); err != nil {
			t.Fatal(err)
		}
		for i, k := range keys[:n] {
			got, _ := e.Attrs().Get(k)
			if !reflect.DeepEqual(got, want[i]) && !(isNaN(got) && isNaN(want[i])) {
				t.Fatalf("value %d: packed %#v, decoded %#v", i, got, want[i])
			}
		}
	})
}

func isNaN(v any) bool {
	f, ok := v.(float64)
	return ok && f != f
}
