package snapshot_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/snapshot"
)

// sameWorld fails t unless every entity of g is in r, equal.
func sameWorld(t *testing.T, s *schema, g *game, r *snapshot.Restored) {
	t.Helper()
	if r.World.Len() != g.w.Len() {
		t.Fatalf("%d entities, want %d", r.World.Len(), g.w.Len())
	}
	g.w.Each(func(e *ecs.Entity) bool {
		e2, ok := r.World.Entity(e.ID())
		if !ok {
			t.Fatalf("%s not restored", e)
		}
		if d := entityDiff(s.reg, e, e2); d != "" {
			t.Fatalf("%s: %s", e, d)
		}
		return true
	})
}

// TestReadsVersion1: a file of the previous format version (absolute
// IDs, spaces by ID, attributes as maps) restores the same world.
func TestReadsVersion1(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		s := newSchema(t)
		g := randWorld(t, s, seed, 120)
		wr, err := snapshot.NewWriter(snapshot.WriteOptions{ChunkBytes: 4 << 10})
		if err != nil {
			t.Fatal(err)
		}
		snapshot.WriteVersion1(wr)
		var buf bytes.Buffer
		if _, err := wr.Encode(&buf, g.w, g.state()); err != nil {
			t.Fatal(err)
		}
		if v := binary.BigEndian.Uint16(buf.Bytes()[8:]); v != 1 {
			t.Fatalf("version %d written", v)
		}
		r, err := decode(t, buf.Bytes(), s.reg)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if r.Header.Version != 1 || len(r.Timers) != len(g.timers.All()) {
			t.Errorf("seed %d: version %d, %d timers", seed, r.Header.Version, len(r.Timers))
		}
		sameWorld(t, s, g, r)
		// Its snapshot is a current one, of the same world.
		if b := encode(t, restoreGame(t, r)); binary.BigEndian.Uint16(b[8:]) != snapshot.Version {
			t.Errorf("seed %d: rewritten as version %d", seed, binary.BigEndian.Uint16(b[8:]))
		}
	}
}

// TestKeySets: entities with more distinct attribute key sets than a
// chunk may define, and with more keys than a key set holds, restore
// equal (the writer falls back to maps), in one chunk and in many.
func TestKeySets(t *testing.T) {
	for _, chunk := range []int{1 << 20, 2 << 10} {
		s := newSchema(t)
		g := newGame(s.reg)
		zone, err := g.w.Create("zone", ecs.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 600 {
			attrs := map[string]any{"name": fmt.Sprint("r", i), fmt.Sprintf("k%03d", i%300): i}
			if i%50 == 0 {
				for j := range 40 { // beyond a key set
					attrs[fmt.Sprint("many", j)] = j
				}
			}
			if i%7 == 0 {
				attrs["inv"] = map[string]any{"gold": i, "items": []any{"a", i}}
			}
			if _, err := g.w.Create("rock", ecs.CreateOptions{Space: zone, Attrs: attrs}); err != nil {
				t.Fatal(err)
			}
		}
		wr, err := snapshot.NewWriter(snapshot.WriteOptions{ChunkBytes: chunk})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		info, err := wr.Encode(&buf, g.w, g.state())
		if err != nil {
			t.Fatal(err)
		}
		r, err := decode(t, buf.Bytes(), s.reg)
		if err != nil {
			t.Fatalf("chunks of %d: %v", chunk, err)
		}
		sameWorld(t, s, g, r)
		if (chunk < 1<<20) != (info.Chunks > 1) {
			t.Fatalf("chunks of %d bytes: %d chunks", chunk, info.Chunks)
		}
	}
}
