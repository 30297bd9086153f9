package snapshot

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/klauspost/compress/zstd"

	"github.com/ecsworld/ecsworld/ecs"
)

type bodyComp struct {
	N int `cbor:"1,keyasint"`
}

// TestBodyIsCBOR: the body is ordinary zstd and CBOR; a strict generic
// decoder reads every record, and the keys are what the format says.
func TestBodyIsCBOR(t *testing.T) {
	comp := ecs.NewComponent[bodyComp]("body")
	reg := ecs.NewRegistry()
	if err := reg.RegisterType(ecs.NewEntityType("zone").Space()); err != nil {
		t.Fatal(err)
	}
	if err := reg.RegisterType(ecs.NewEntityType("mob").With(comp).AOI(5)); err != nil {
		t.Fatal(err)
	}
	w := ecs.NewWorld(reg, ecs.WorldOptions{IDs: ecs.NewIDGen(3, nil)})
	zone, _ := w.Create("zone", ecs.CreateOptions{})
	for i := range 500 {
		if _, err := w.Create("mob", ecs.CreateOptions{Space: zone, Pos: ecs.Vec3{X: float32(i) / 3}, Components: []any{bodyComp{N: i}},
			Attrs: map[string]any{"i": i, "l": []any{1.25, "x", map[string]any{"deep": true}}}}); err != nil {
			t.Fatal(err)
		}
	}
	wr, err := NewWriter(WriteOptions{ChunkBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	timers := []Timer{{ID: 1, Entity: zone.ID(), Method: "M", Due: 12, Repeat: 3}}
	if _, err := wr.Encode(&buf, w, &State{GameID: 3, Tick: 10, Timers: timers}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	dm, err := cbor.DecOptions{DupMapKey: cbor.DupMapKeyEnforcedAPF, IndefLength: cbor.IndefLengthForbidden}.DecMode()
	if err != nil {
		t.Fatal(err)
	}
	var h Header
	hl := binary.BigEndian.Uint32(b[12:])
	if err := dm.Unmarshal(b[20:20+hl], &h); err != nil || h.Entities != 501 {
		t.Fatalf("header: %v %+v", err, h)
	}
	zd, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zd.Close()
	off := 20 + int(hl) + 4
	total := 0
	for string(b[off:off+4]) == chunkMagic {
		var ch chunkHead
		ch.get(b[off:])
		raw, err := zd.DecodeAll(b[off+chunkHeadLen:off+chunkHeadLen+int(ch.compLen)], nil)
		if err != nil {
			t.Fatal(err)
		}
		dec := dm.NewDecoder(bytes.NewReader(raw))
		for range ch.records {
			var rec map[uint64]cbor.RawMessage
			if err := dec.Decode(&rec); err != nil {
				t.Fatalf("record %d: %v", total, err)
			}
			if total == 0 {
				var remaining []any
				if err := dm.Unmarshal(rec[keyTimers], &remaining); err != nil || len(remaining) != 1 {
					t.Fatalf("timers of the space: %v %v", err, remaining)
				}
			} else {
				var c map[uint64]bodyComp
				if err := dm.Unmarshal(rec[keyComps], &c); err != nil || len(c) != 1 {
					t.Fatalf("record %d components: %v %v", total, err, c)
				}
			}
			total++
		}
		if dec.NumBytesRead() != len(raw) {
			t.Fatalf("chunk: %d of %d bytes read", dec.NumBytesRead(), len(raw))
		}
		off += chunkHeadLen + int(ch.compLen)
	}
	if total != 501 || string(b[off:off+4]) != trailerMagic {
		t.Fatalf("%d records, then %q", total, b[off:off+4])
	}
}
