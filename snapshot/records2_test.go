package snapshot

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ecsworld/ecsworld/ecs"
)

// TestVersion2Records: the version 2 forms (ID differences, space
// indices, attribute key sets) restore what they say, and each way of
// getting them wrong is a corrupt record that says why.
func TestVersion2Records(t *testing.T) {
	reg := fuzzRegistry(t)
	w := ecs.NewWorld(reg, ecs.WorldOptions{IDs: ecs.NewIDGen(2, nil)})
	zone, _ := w.Create("zone", ecs.CreateOptions{})
	if _, err := w.Create("mob", ecs.CreateOptions{Space: zone}); err != nil {
		t.Fatal(err)
	}
	wr, err := NewWriter(WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := wr.Encode(&buf, w, &State{GameID: 2}); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()
	const mobType, zoneType = 0, 1 // the header lists types by name
	zoneID := ecs.MakeEntityID(2, 100)
	pos := func(b []byte) []byte {
		b = appendHead(b, majUint, keyPos)
		return appendVec(b, ecs.Vec3{})
	}
	records := func(delta int64, space uint64, attrs func([]byte) []byte) []byte {
		b := appendHead(nil, majMap, 3)
		b = appendHead(b, majUint, keyID)
		b = appendHead(b, majUint, uint64(zoneID))
		b = appendHead(b, majUint, keyType)
		b = appendHead(b, majUint, zoneType)
		b = pos(b)
		n := uint64(4)
		if attrs != nil {
			n++
		}
		b = appendHead(b, majMap, n)
		b = appendHead(b, majUint, keyID)
		b = appendInt(b, delta)
		b = appendHead(b, majUint, keyType)
		b = appendHead(b, majUint, mobType)
		b = appendHead(b, majUint, keySpace)
		b = appendHead(b, majUint, space)
		b = pos(b)
		if attrs != nil {
			b = appendHead(b, majUint, keyAttrs)
			b = attrs(b)
		}
		return b
	}
	set := func(keys []string, vals ...int64) func([]byte) []byte {
		return func(b []byte) []byte {
			b = appendHead(b, majArray, uint64(1+len(vals)))
			b = appendHead(b, majArray, uint64(len(keys)))
			for _, k := range keys {
				b = appendText(b, k)
			}
			for _, v := range vals {
				b = appendInt(b, v)
			}
			return b
		}
	}
	read := func(raw []byte) (*Restored, error) {
		rd, err := NewReader(ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return rd.Decode(bytes.NewReader(reframe(t, file, raw, 2)), reg, ecs.WorldOptions{})
	}

	r, err := read(records(5, 0, set([]string{"a", "b"}, 1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	mob, ok := r.World.Entity(zoneID + 5)
	if !ok || mob.Space() == nil || mob.Space().ID() != zoneID || mob.Attrs().Int("a") != 1 || mob.Attrs().Int("b") != 2 {
		t.Fatalf("restored %v (ok %v)", mob, ok)
	}

	for _, c := range []struct {
		name  string
		raw   []byte
		inErr string
	}{
		{"a space index beyond the spaces", records(5, 1, nil), "space index 1"},
		{"an ID difference to an invalid ID", records(-int64(zoneID), 0, nil), "invalid entity id"},
		{"an undefined key set", records(5, 0, func(b []byte) []byte {
			b = appendHead(b, majArray, 2)
			b = appendHead(b, majUint, 3)
			return appendInt(b, 1)
		}), "key set 3"},
		{"keys out of order", records(5, 0, set([]string{"b", "a"}, 1, 2)), "key set"},
		{"a key twice", records(5, 0, set([]string{"a", "a"}, 1, 2)), "key set"},
		{"more values than keys", records(5, 0, set([]string{"a"}, 1, 2)), "2 attribute values for 1 keys"},
		{"no key set", records(5, 0, func(b []byte) []byte { return appendHead(b, majArray, 0) }), "without a key set"},
		{"a key set of another type", records(5, 0, func(b []byte) []byte {
			b = appendHead(b, majArray, 2)
			b = appendText(b, "a")
			return appendInt(b, 1)
		}), "key set of major type"},
	} {
		_, err := read(c.raw)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.inErr) {
			t.Errorf("%s: %v, want ErrCorrupt saying %q", c.name, err, c.inErr)
		}
	}
}
