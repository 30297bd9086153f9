package ecs

import "testing"

// TestRemoveLastComponent removes every component of an entity whose type
// declares one (its donburi entity then holds only the hidden component)
// and checks that queries, the world and re-adding still work.
func TestRemoveLastComponent(t *testing.T) {
	reg := NewRegistry()
	if err := reg.RegisterType(NewEntityType("mob").With(healthC)); err != nil {
		t.Fatal(err)
	}
	if err := reg.RegisterType(NewEntityType("bare")); err != nil {
		t.Fatal(err)
	}
	w := NewWorld(reg, WorldOptions{IDs: NewIDGen(1, nil)})
	a, err := w.Create("mob", CreateOptions{Components: []any{health{HP: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.Create("bare", CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	all, withHealth := NewQuery(), NewQuery(healthC)
	count := func(q *Query) int {
		n := 0
		q.Each(w, func(*Entity) { n++ })
		return n
	}
	if count(all) != 2 || count(withHealth) != 1 {
		t.Fatalf("before: %d entities, %d with health", count(all), count(withHealth))
	}
	for _, remove := range []func(){
		func() { healthC.Remove(a) },
		func() { a.RemoveComponent(healthC) },
	} {
		remove()
		if healthC.Has(a) || healthC.Get(a) != nil {
			t.Fatal("component still there")
		}
		if count(all) != 2 || count(withHealth) != 0 {
			t.Fatalf("after remove: %d entities, %d with health", count(all), count(withHealth))
		}
		if err := w.donburiCheck(); err != nil {
			t.Fatal(err)
		}
		healthC.Set(a, health{HP: 5})
		if got := healthC.Get(a); got == nil || got.HP != 5 || count(withHealth) != 1 || count(all) != 2 {
			t.Fatalf("set again: %v, %d with health", got, count(withHealth))
		}
	}
	healthC.Set(b, health{HP: 1})
	healthC.Remove(b)
	w.Destroy(a)
	if count(all) != 1 {
		t.Fatalf("after destroy: %d entities", count(all))
	}
	if err := w.donburiCheck(); err != nil {
		t.Fatal(err)
	}
}
