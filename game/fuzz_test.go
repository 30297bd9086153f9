package game

import (
	"testing"

	"github.com/ecsworld/ecsworld/ecs"
)

// FuzzMigrateData feeds MigrateData blobs (bytes from another game) to the
// decoder and the restore: whatever the bytes, no panic, and an entity is
// either restored whole or not at all.
func FuzzMigrateData(f *testing.F) {
	g, err := New(testConfig(1, "127.0.0.1:1"), newTestWorld().setup(), nil)
	if err != nil {
		f.Fatal(err)
	}
	src, err := g.world.Create("Mob", ecs.CreateOptions{Attrs: map[string]any{"name": "m", "bag": []any{int64(1), "x"}},
		Components: []any{mobData{Level: 3}}, Client: ecs.ClientBinding{Gate: 1, Client: 1<<48 | 1}, Restore: true})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := g.timers.After(src, 5, "Ping", 1); err != nil {
		f.Fatal(err)
	}
	blob, err := g.encodeMigrant(src, ecs.Vec3{X: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(blob)
	f.Add([]byte{})
	f.Add([]byte{0xa1, 0x01, 0x63, 'M', 'o', 'b'})
	f.Add([]byte{0xa1, 0x05, 0xa1, 0x6e, 'g', 'a', 'm', 'e', '_', 't', 'e', 's', 't', '.', 'm', 'o', 'b', 0x41, 0xff})
	id := ecs.MakeEntityID(2, 1)
	f.Fuzz(func(t *testing.T, b []byte) {
		var mg migrant
		if err := g.codec.UnmarshalValue(b, &mg); err != nil {
			return
		}
		e, err := g.restoreMigrant(id, &mg)
		if err != nil {
			if _, ok := g.world.Entity(id); ok {
				t.Fatalf("failed restore left entity %v behind: %v", id, err)
			}
			return
		}
		if e.ID() != id || e.Type().Name() != mg.Type {
			t.Fatalf("restored %v of type %s from %+v", e.ID(), e.Type().Name(), mg)
		}
		g.timers.CancelEntity(id)
		if err := g.world.Remove(e); err != nil {
			t.Fatal(err)
		}
	})
}
