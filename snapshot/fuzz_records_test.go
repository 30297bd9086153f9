package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/ecsworld/ecsworld/ecs"
)

type fuzzComp struct {
	A int      `cbor:"1,keyasint"`
	B []string `cbor:"2,keyasint"`
}

var fuzzC = ecs.NewComponent[fuzzComp]("fuzz")

func fuzzRegistry(tb testing.TB) *ecs.Registry {
	reg := ecs.NewRegistry()
	if err := reg.RegisterType(ecs.NewEntityType("zone").Space()); err != nil {
		tb.Fatal(err)
	}
	if err := reg.RegisterType(ecs.NewEntityType("mob").With(fuzzC).AOI(5)); err != nil {
		tb.Fatal(err)
	}
	return reg
}

// reframe replaces the body of snapshot file b by one chunk of the given
// raw records, with every checksum and count right, so that the fuzzer
// reaches the record decoder instead of stopping at a checksum.
func reframe(tb testing.TB, b []byte, raw []byte, records uint32) []byte {
	hl := binary.BigEndian.Uint32(b[12:])
	out := bytes.Clone(b[:20+hl+4])
	zenc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		tb.Fatal(err)
	}
	comp := zenc.EncodeAll(raw, nil)
	var hb [chunkHeadLen]byte
	h := chunkHead{seq: 0, records: records, rawLen: uint32(len(raw)), compLen: uint32(len(comp)), dataCRC: crc(comp)}
	h.put(hb[:])
	out = append(append(out, hb[:]...), comp...)
	var cb [4]byte
	putU32(cb[:], h.dataCRC)
	var tr [trailerLen]byte
	putTrailer(tr[:], 1, uint64(records), crc32Update(0, cb[:]))
	return append(out, tr[:]...)
}

// FuzzRecords fuzzes the records of a chunk behind valid framing: the
// header of a real two-entity snapshot (a space and a mob in it), then
// the fuzzed bytes as the chunk's two records. Decoding must not panic,
// must fail with one sentinel, or restore exactly what the header says.
func FuzzRecords(f *testing.F) {
	// Two files of a space and a mob, the same but for the mob's
	// attributes: with a nested map (decoded at once) and scalars only
	// (kept packed). The first file's header frames the fuzzed records.
	file, raw := fuzzRecordsFile(f, map[string]any{"hp": 10, "inv": map[string]any{"l": []any{1, "a", 2.5, true, []byte{1}}}})
	_, rawPacked := fuzzRecordsFile(f, map[string]any{"hp": 300, "name": "orc", "speed": 2.5, "ok": true, "key": []byte{1}, "dx": -7})
	f.Add(raw)
	f.Add(raw[:len(raw)-1])
	f.Add(append(bytes.Clone(raw), 0))
	f.Add(rawPacked)
	rd, err := NewReader(ReadOptions{MaxChunkBytes: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	sentinels := []error{ErrEmpty, ErrNotSnapshot, ErrTooNew, ErrTruncated, ErrCorrupt, ErrSchema}
	f.Fuzz(func(t *testing.T, recs []byte) {
		if len(recs) > 1<<16 {
			return
		}
		b := reframe(t, file, recs, 2)
		var reported error
		r, err := rd.Decode(bytes.NewReader(b), fuzzRegistry(t), ecs.WorldOptions{IDs: ecs.NewIDGen(2, nil), OnError: func(err error) { reported = err }})
		if err != nil {
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error %q wraps %d sentinels", err, n)
			}
			return
		}
		if r.World.Len() != 2 || r.World.NumSpaces() != 1 || len(r.Timers) != 1 {
			t.Fatalf("accepted: %d entities, %d spaces, %d timers", r.World.Len(), r.World.NumSpaces(), len(r.Timers))
		}
		// Whatever was accepted decodes: packed attributes too, on use.
		if reported != nil {
			t.Fatalf("restore reported %v", reported)
		}
		r.World.Each(func(e *ecs.Entity) bool {
			e.Attrs().Range(func(string, any) bool { return true })
			return true
		})
		if reported != nil {
			t.Fatalf("using the restored attributes reported %v", reported)
		}
	})
}

// fuzzRecordsFile encodes a world of a space and a mob with attrs and
// returns the file and its first chunk's records.
func fuzzRecordsFile(f *testing.F, attrs map[string]any) (file, raw []byte) {
	reg := fuzzRegistry(f)
	w := ecs.NewWorld(reg, ecs.WorldOptions{IDs: ecs.NewIDGen(2, nil)})
	zone, _ := w.Create("zone", ecs.CreateOptions{})
	mob, err := w.Create("mob", ecs.CreateOptions{Space: zone, Pos: ecs.Vec3{X: 1.5}, Components: []any{fuzzComp{A: 3, B: []string{"x"}}}, Attrs: attrs})
	if err != nil {
		f.Fatal(err)
	}
	mob.SetClient(ecs.ClientBinding{Gate: 1, Client: 9})
	mob.SetDestination(ecs.Vec3{Z: 4}, 2)
	wr, err := NewWriter(WriteOptions{})
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	st := &State{GameID: 2, Tick: 5, Timers: []Timer{{ID: 1, Entity: mob.ID(), Method: "M", Args: []byte{0x80}, Due: 9, Repeat: 2}}}
	if _, err := wr.Encode(&buf, w, st); err != nil {
		f.Fatal(err)
	}
	file = buf.Bytes()
	hl := binary.BigEndian.Uint32(file[12:])
	var ch chunkHead
	ch.get(file[20+hl+4:])
	zd, err := zstd.NewReader(nil)
	if err != nil {
		f.Fatal(err)
	}
	defer zd.Close()
	raw, err = zd.DecodeAll(file[20+int(hl)+4+chunkHeadLen:][:ch.compLen], nil)
	if err != nil {
		f.Fatal(err)
	}
	return file, raw
}
