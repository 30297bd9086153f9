package ecs

import (
	"math/rand/v2"
	"testing"
)

// TestIDIndexMatchesMap runs random puts (bulk and not), removes and
// lookups against a plain map, over dense and sparse IDs.
func TestIDIndexMatchesMap(t *testing.T) {
	for _, tc := range []struct {
		name string
		gap  uint64 // largest step between consecutive bulk IDs
	}{
		{"dense", 1},
		{"gaps", 5},
		{"sparse", 1 << 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(tc.gap)))
			x := newIDIndex()
			want := map[EntityID]*Entity{}
			var all []EntityID
			next := MakeEntityID(1, 1)
			check := func(id EntityID) {
				t.Helper()
				e, ok := x.get(id)
				if w, wok := want[id]; ok != wok || e != w {
					t.Fatalf("get(%s) = %v, %v; want %v, %v", id, e, ok, w, wok)
				}
			}
			for range 20_000 {
				switch op := rng.IntN(10); {
				case op < 6: // a restored entity, mostly in increasing order
					id := next
					next += EntityID(1 + rng.Uint64N(tc.gap))
					if rng.IntN(20) == 0 && len(all) > 0 {
						id = all[rng.IntN(len(all))] + 1 // out of order
					}
					if _, dup := want[id]; dup || !id.Valid() {
						continue
					}
					e := &Entity{id: id}
					x.put(e, op < 5)
					want[id] = e
					all = append(all, id)
				case op < 9 && len(all) > 0: // remove a random one
					id := all[rng.IntN(len(all))]
					x.remove(id)
					delete(want, id)
				default:
					check(next + 1) // beyond everything
				}
				if len(all) > 0 {
					id := all[rng.IntN(len(all))]
					check(id)
					check(id + 1)
				}
				if x.len() != len(want) {
					t.Fatalf("len %d, want %d", x.len(), len(want))
				}
			}
			for _, id := range all {
				check(id)
			}
		})
	}
}

// TestIDIndexCompacts checks that removing most of a bulk run shrinks it
// and keeps the rest found.
func TestIDIndexCompacts(t *testing.T) {
	x := newIDIndex()
	const n = 4 * minCompact
	for i := range n {
		x.put(&Entity{id: MakeEntityID(1, uint64(i+1))}, true)
	}
	for i := range n {
		if i%8 != 0 {
			x.remove(MakeEntityID(1, uint64(i+1)))
		}
	}
	if len(x.ids) > n/2 {
		t.Fatalf("run of %d entries holds %d live: not compacted", len(x.ids), x.live)
	}
	for i := range n {
		e, ok := x.get(MakeEntityID(1, uint64(i+1)))
		if ok != (i%8 == 0) || (ok && e.id != MakeEntityID(1, uint64(i+1))) {
			t.Fatalf("entity %d: found %v", i+1, ok)
		}
	}
	if x.len() != n/8 {
		t.Fatalf("len %d, want %d", x.len(), n/8)
	}
}
