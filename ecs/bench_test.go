package ecs

import (
	"testing"
)

func benchWorld(b *testing.B, n int) (*World, []*Entity) {
	b.Helper()
	reg := NewRegistry()
	if err := reg.RegisterType(NewEntityType("mob").With(healthC).AOI(10)); err != nil {
		b.Fatal(err)
	}
	if err := reg.RegisterType(NewEntityType("zone").Space()); err != nil {
		b.Fatal(err)
	}
	w := NewWorld(reg, WorldOptions{IDs: NewIDGen(1, nil)})
	zone, _ := w.Create("zone", CreateOptions{})
	ents := make([]*Entity, n)
	for i := range ents {
		e, err := w.Create("mob", CreateOptions{Space: zone})
		if err != nil {
			b.Fatal(err)
		}
		ents[i] = e
	}
	w.ResetTick()
	return w, ents
}

// BenchmarkSetPos is one tick's worth of moves: every entity moves once,
// then the moved list is reset.
func BenchmarkSetPos(b *testing.B) {
	const n = 10000
	w, ents := benchWorld(b, n)
	b.ReportAllocs()
	b.ResetTimer()
	x := float32(0)
	for b.Loop() {
		x++
		for _, e := range ents {
			e.SetPos(Vec3{x, 0, x})
		}
		w.ResetMoved()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/move")
}

func BenchmarkQueryEach(b *testing.B) {
	const n = 10000
	w, _ := benchWorld(b, n)
	q := NewQuery(healthC)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		q.Each(w, func(e *Entity) { healthC.Get(e).HP++ })
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entity")
}

func BenchmarkAttrSet(b *testing.B) {
	w, ents := benchWorld(b, 1)
	inv := ents[0].Attrs().Map("inv")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		_ = inv.Set("gold", i)
		if i%16 == 0 {
			w.ResetAttrDirty()
		}
	}
}
