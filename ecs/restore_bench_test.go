package ecs

import "testing"

// BenchmarkRestoreCreate creates 10,000 restored entities (Reserve, then
// Create with Restore, a component and shared attributes), as a snapshot
// restore does, in a new world each time.
func BenchmarkRestoreCreate(b *testing.B) {
	const n = 10_000
	reg := NewRegistry()
	if err := reg.RegisterType(NewEntityType("zone").Space()); err != nil {
		b.Fatal(err)
	}
	mob := NewEntityType("mob").With(healthC).AOI(10)
	if err := reg.RegisterType(mob); err != nil {
		b.Fatal(err)
	}
	keys, err := NewAttrKeys([]string{"a", "b", "c"})
	if err != nil {
		b.Fatal(err)
	}
	comps := []any{health{HP: 1}}
	b.ReportAllocs()
	for b.Loop() {
		w := NewWorld(reg, WorldOptions{})
		zone, err := w.Create("zone", CreateOptions{ID: MakeEntityID(1, 1), Restore: true})
		if err != nil {
			b.Fatal(err)
		}
		w.Reserve(mob, n)
		for i := range n {
			e, err := w.Create("mob", CreateOptions{ID: MakeEntityID(1, uint64(i+2)), Space: zone, Components: comps, Restore: true})
			if err != nil {
				b.Fatal(err)
			}
			if err := e.AdoptAttrsWith(keys, []any{int64(i), "x", true}); err != nil {
				b.Fatal(err)
			}
		}
		w.Unreserve()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entity")
}
