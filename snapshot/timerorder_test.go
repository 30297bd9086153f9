package snapshot_test

import (
	"bytes"
	"cmp"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ecsworld/ecsworld/snapshot"
)

// TestTimerOrder: timers whose IDs do not follow the entities' order come
// back sorted by ID, and a file with one timer ID twice is refused.
func TestTimerOrder(t *testing.T) {
	s := newSchema(t)
	g := randWorld(t, s, 5, 40)
	st := g.state()
	if len(st.Timers) < 3 {
		t.Fatalf("%d timers in the test world", len(st.Timers))
	}
	// Number the timers backwards: the file lists them (by entity) in
	// decreasing ID order.
	slices.SortFunc(st.Timers, func(a, b snapshot.Timer) int { return cmp.Compare(a.Entity, b.Entity) })
	for i := range st.Timers {
		st.Timers[i].ID = uint64(len(st.Timers) - i)
	}
	r, err := decode(t, encodeState(t, g, st), s.reg)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Timers) != len(st.Timers) || !slices.IsSortedFunc(r.Timers, func(a, b snapshot.Timer) int { return cmp.Compare(a.ID, b.ID) }) {
		t.Fatalf("restored timers not sorted by ID: %v", r.Timers)
	}

	st.Timers[len(st.Timers)-1].ID = st.Timers[0].ID // on another entity
	_, err = decode(t, encodeState(t, g, st), s.reg)
	if !errors.Is(err, snapshot.ErrCorrupt) || !strings.Contains(err.Error(), "timer id") {
		t.Fatalf("a repeated timer id: %v", err)
	}
}

// encodeState is encode with a given state.
func encodeState(t testing.TB, g *game, st *snapshot.State) []byte {
	t.Helper()
	wr, err := snapshot.NewWriter(snapshot.WriteOptions{ChunkBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := wr.Encode(&buf, g.w, st); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
