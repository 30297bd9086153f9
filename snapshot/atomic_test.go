package snapshot_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/snapshot"
)

// Bomb is a component whose encoding fails when Fail is set: a write that
// breaks in the middle of the body.
type Bomb struct{ Fail bool }

var errBomb = errors.New("bomb")

// MarshalCBOR fails on demand.
func (b Bomb) MarshalCBOR() ([]byte, error) {
	if b.Fail {
		return nil, errBomb
	}
	return []byte{0xf4}, nil
}

// UnmarshalCBOR reads back what MarshalCBOR wrote.
func (b *Bomb) UnmarshalCBOR(p []byte) error { b.Fail = false; return nil }

var bombC = ecs.NewComponent[Bomb]("bomb")

func TestWriteFileAtomic(t *testing.T) {
	reg := ecs.NewRegistry()
	if err := reg.RegisterType(ecs.NewEntityType("thing").With(bombC)); err != nil {
		t.Fatal(err)
	}
	w := ecs.NewWorld(reg, worldOpts())
	for range 3000 { // more than a chunk before the bomb
		if _, err := w.Create("thing", ecs.CreateOptions{Attrs: map[string]any{"pad": "0123456789abcdef0123456789"}}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "game.snap")
	wr, err := snapshot.NewWriter(snapshot.WriteOptions{ChunkBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	info, err := wr.WriteFile(path, w, &snapshot.State{GameID: 7, Tick: 10})
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path)
	if err != nil || int64(len(old)) != info.Bytes || info.Entities != 3000 || info.Chunks < 2 {
		t.Fatalf("first write: %v, %d bytes, info %+v", err, len(old), info)
	}

	// The last entity (in ID order) fails to encode, after chunks were
	// already written to the temporary file.
	var last *ecs.Entity
	w.Each(func(e *ecs.Entity) bool { last = e; return true })
	bombC.Get(last).Fail = true
	if _, err := wr.WriteFile(path, w, &snapshot.State{GameID: 7, Tick: 11}); !errors.Is(err, errBomb) {
		t.Fatalf("failing write: %v, want the component's error", err)
	}
	now, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(now, old) {
		t.Fatalf("the old snapshot changed after a failed write (%v)", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 {
		t.Fatalf("directory after a failed write: %v %v (temporary file left?)", ents, err)
	}
	r, err := snapshot.ReadFile(path, reg, worldOpts(), snapshot.ReadOptions{})
	if err != nil || r.Header.Tick != 10 || r.World.Len() != 3000 {
		t.Fatalf("old snapshot after the failed write: %v", err)
	}

	// A directory that does not exist: an error, nothing created.
	if _, err := wr.WriteFile(filepath.Join(dir, "no", "such.snap"), w, &snapshot.State{}); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
	// A good write replaces the file.
	bombC.Get(last).Fail = false
	if _, err := wr.WriteFile(path, w, &snapshot.State{GameID: 7, Tick: 12}); err != nil {
		t.Fatal(err)
	}
	r, err = snapshot.ReadFile(path, reg, worldOpts(), snapshot.ReadOptions{})
	if err != nil || r.Header.Tick != 12 {
		t.Fatalf("replaced snapshot: %v", err)
	}
}
