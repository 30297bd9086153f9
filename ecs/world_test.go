package ecs

import (
	"errors"
	"slices"
	"testing"

	"github.com/yohamta/donburi"
	"github.com/yohamta/donburi/filter"
)

func TestCreateDestroyHooks(t *testing.T) {
	f := newFixture(t)
	s := f.create("space", "town", CreateOptions{})
	p := f.create("player", "bob", CreateOptions{Space: s, Pos: Vec3{1, 2, 3}, Yaw: 0.5})
	wantLog(t, f.ev.take(),
		"created town",
		"created bob",
		"enter bob->town space=town",
		"entity-enter town+bob",
	)
	if p.Space() != s || p.Pos() != (Vec3{1, 2, 3}) || p.Yaw() != 0.5 || p.Type() != f.player || p.World() != f.w {
		t.Fatalf("state after create: space=%v pos=%v yaw=%v", p.Space(), p.Pos(), p.Yaw())
	}
	if got, ok := f.w.Entity(p.ID()); !ok || got != p {
		t.Fatal("Entity lookup failed")
	}
	if f.w.Len() != 2 || p.AOIRadius() != 30 || p.AOIHandle() != -1 {
		t.Fatalf("Len=%d radius=%v handle=%d", f.w.Len(), p.AOIRadius(), p.AOIHandle())
	}

	f.w.Destroy(p)
	wantLog(t, f.ev.take(),
		"leave bob<-town space=nil",
		"entity-leave town-bob",
		"destroy bob space=nil",
	)
	if !p.Destroyed() || f.w.Len() != 1 || p.Space() != nil || s.NumMembers() != 0 {
		t.Fatalf("after destroy: destroyed=%v len=%d", p.Destroyed(), f.w.Len())
	}
	if _, ok := f.w.Entity(p.ID()); ok {
		t.Fatal("destroyed entity still found")
	}
	if got := f.w.Destroyed(); len(got) != 1 || got[0] != p {
		t.Fatalf("Destroyed() = %v", got)
	}
	// Destroying twice does nothing; setters on a destroyed entity are ignored.
	f.w.Destroy(p)
	p.SetPos(Vec3{9, 9, 9})
	healthC.Set(p, health{HP: 1})
	if len(f.ev.take()) != 0 || len(f.w.Destroyed()) != 1 || p.Pos() == (Vec3{9, 9, 9}) || healthC.Get(p) != nil {
		t.Fatal("destroyed entity changed")
	}
	if err := f.w.donburiCheck(); err != nil {
		t.Fatal(err)
	}
}

// mustEntity returns the entity with ID id, nil if there is none.
func (w *World) mustEntity(id EntityID) *Entity {
	e, _ := w.byID.get(id)
	return e
}

// donburiCheck verifies the donburi world holds exactly our live entities.
func (w *World) donburiCheck() error {
	if w.dw.Len() != w.byID.len() {
		return errors.New("donburi and ecs entity counts differ")
	}
	n := 0
	for en := range donburi.NewQuery(filter.Contains()).Iter(w.dw) {
		e := w.byIndex[en.Entity().Id()]
		if e == nil || w.mustEntity(e.id) != e || e.entry != en {
			return errors.New("donburi entity does not map back")
		}
		n++
	}
	if n != w.byID.len() {
		return errors.New("query count differs")
	}
	return nil
}

func TestCreateOptions(t *testing.T) {
	f := newFixture(t)
	explicit := MakeEntityID(1, 1<<40)
	e, err := f.w.Create("player", CreateOptions{
		ID:         explicit,
		Attrs:      map[string]any{"name": "ann", "gold": 5, "bag": map[string]any{"slots": []any{1, "x"}}},
		Components: []any{health{HP: 10, Max: 20}, &tag{Name: "t"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() != explicit {
		t.Fatalf("ID %s", e.ID())
	}
	if h := healthC.Get(e); h == nil || *h != (health{10, 20}) {
		t.Fatalf("health %+v", h)
	}
	if tg := tagC.Get(e); tg == nil || tg.Name != "t" {
		t.Fatalf("tag %+v", tg)
	}
	if e.Attrs().Int("gold") != 5 || e.Attrs().Map("bag").List("slots").Str(1) != "x" {
		t.Fatalf("attrs %v", e.Attrs().ToMap())
	}
	if len(e.AttrChanges()) != 0 || len(f.w.AttrDirty()) != 0 {
		t.Fatalf("initial attrs recorded as changes: %v", e.AttrChanges())
	}
	// An explicit ID of our node moves the generator past it.
	if next := f.w.ids.Next(); next <= explicit {
		t.Fatalf("Next %s after explicit %s", next, explicit)
	}

	bad := []struct {
		name string
		typ  string
		opts CreateOptions
		want error
	}{
		{"unknown type", "ghost", CreateOptions{}, ErrNoType},
		{"duplicate id", "player", CreateOptions{ID: explicit}, ErrEntityExists},
		{"invalid id", "player", CreateOptions{ID: MakeEntityID(0, 3)}, ErrBadID},
		{"component not in type", "player", CreateOptions{Components: []any{speed(1)}}, ErrComponentValue},
		{"nil component pointer", "player", CreateOptions{Components: []any{(*health)(nil)}}, ErrComponentValue},
		{"bad attr", "player", CreateOptions{Attrs: map[string]any{"x": struct{}{}}}, ErrAttrType},
		{"space is not a space", "player", CreateOptions{Space: e}, ErrNotSpace},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			n := f.w.Len()
			f.ev.take()
			if _, err := f.w.Create(tt.typ, tt.opts); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if f.w.Len() != n || len(f.ev.take()) != 0 {
				t.Fatal("failed Create left an entity or ran hooks")
			}
			if err := f.w.donburiCheck(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCreateWithoutIDGen(t *testing.T) {
	reg := NewRegistry()
	if err := reg.RegisterType(NewEntityType("x")); err != nil {
		t.Fatal(err)
	}
	w := NewWorld(reg, WorldOptions{})
	if _, err := w.Create("x", CreateOptions{}); !errors.Is(err, ErrNoIDGen) {
		t.Fatalf("err = %v", err)
	}
	e, err := w.Create("x", CreateOptions{ID: MakeEntityID(4, 4)})
	if err != nil || e.ID() != MakeEntityID(4, 4) {
		t.Fatalf("explicit ID without IDGen: %v %v", e, err)
	}
}

func TestAmbiguousComponentValue(t *testing.T) {
	a := NewComponent[tag]("tag-a")
	b := NewComponent[tag]("tag-b")
	reg := NewRegistry()
	if err := reg.RegisterType(NewEntityType("two").With(a, b)); err != nil {
		t.Fatal(err)
	}
	w := NewWorld(reg, WorldOptions{IDs: NewIDGen(1, nil)})
	if _, err := w.Create("two", CreateOptions{Components: []any{tag{}}}); !errors.Is(err, ErrComponentValue) {
		t.Fatalf("err = %v", err)
	}
}

func TestHookPanicIsReported(t *testing.T) {
	boom := NewEntityType("boom").
		OnCreated(func(e *Entity) { panic("created!") }).
		OnDestroy(func(e *Entity) { panic(errors.New("destroy!")) })
	f := newFixture(t, boom)
	e, err := f.w.Create("boom", CreateOptions{})
	if err != nil {
		t.Fatalf("Create after hook panic: %v", err)
	}
	f.w.Destroy(e)
	if !e.Destroyed() {
		t.Fatal("not destroyed after OnDestroy panic")
	}
	if len(f.errs) != 2 {
		t.Fatalf("errors reported: %v", f.errs)
	}
	var pe *PanicError
	if !errors.As(f.errs[0], &pe) || !errors.Is(f.errs[0], ErrHookPanic) || pe.Where != "boom.OnCreated" || pe.Entity != e.ID() || len(pe.Stack) == 0 {
		t.Fatalf("first error %#v", f.errs[0])
	}
	if !errors.Is(f.errs[1], ErrHookPanic) || !errors.As(f.errs[1], &pe) || pe.Where != "boom.OnDestroy" || pe.Value.(error).Error() != "destroy!" {
		t.Fatalf("second error %v", f.errs[1])
	}
	// Hooks called by systems are nil-safe and recover too.
	var nilHooks *Hooks
	nilHooks.OnEnterAOI(e, e)
	f.player.Hooks().OnEnterAOI(e, e) // unset: no-op
}

func TestDestroyFromHooks(t *testing.T) {
	var w *World
	selfKill := NewEntityType("selfkill").OnCreated(func(e *Entity) { w.Destroy(e) })
	again := NewEntityType("again").OnDestroy(func(e *Entity) { w.Destroy(e) })
	f := newFixture(t, selfKill, again)
	w = f.w
	if _, err := w.Create("selfkill", CreateOptions{}); !errors.Is(err, ErrNoEntity) {
		t.Fatalf("Create of an entity its hook destroyed: %v", err)
	}
	e, _ := w.Create("again", CreateOptions{})
	w.Destroy(e)
	if !e.Destroyed() || len(w.Destroyed()) != 2 {
		t.Fatalf("re-entrant destroy: destroyed=%v list=%d", e.Destroyed(), len(w.Destroyed()))
	}
	if err := w.donburiCheck(); err != nil {
		t.Fatal(err)
	}
}

func TestEachOrder(t *testing.T) {
	f := newFixture(t)
	ids := []EntityID{MakeEntityID(1, 900), MakeEntityID(2, 5), MakeEntityID(1, 30)}
	for _, id := range ids {
		if _, err := f.w.Create("player", CreateOptions{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	var got []EntityID
	f.w.Each(func(e *Entity) bool { got = append(got, e.ID()); return true })
	want := slices.Clone(ids)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Each order %v, want %v", got, want)
	}
	// Destroying ahead of the walk skips; returning false stops.
	got = nil
	f.w.Each(func(e *Entity) bool {
		got = append(got, e.ID())
		if e.ID() == want[0] {
			f.w.Destroy(f.w.mustEntity(want[1]))
		}
		return true
	})
	if !slices.Equal(got, []EntityID{want[0], want[2]}) {
		t.Fatalf("Each with destroy %v", got)
	}
	n := 0
	f.w.Each(func(e *Entity) bool { n++; return false })
	if n != 1 {
		t.Fatalf("Each did not stop: %d", n)
	}
}

func TestMovedListDedup(t *testing.T) {
	f := newFixture(t)
	a := f.create("player", "a", CreateOptions{})
	b := f.create("player", "b", CreateOptions{})
	if len(f.w.Moved()) != 0 {
		t.Fatal("creation counted as a move")
	}
	a.SetPos(Vec3{1, 0, 0})
	a.SetPos(Vec3{2, 0, 0})
	a.SetYaw(1)
	b.SetPos(Vec3{}) // unchanged: not moved
	b.SetYaw(0)
	b.SetVelocity(Vec3{1, 0, 0}) // velocity is not a move
	b.SetDestination(Vec3{5, 0, 5}, 2)
	if got := f.w.Moved(); len(got) != 1 || got[0] != a || !a.Moved() || b.Moved() {
		t.Fatalf("Moved = %v", got)
	}
	b.SetAOIRadius(10)
	b.SetPosYaw(Vec3{1, 1, 1}, 2)
	if got := f.w.Moved(); len(got) != 2 || got[1] != b {
		t.Fatalf("Moved = %v", got)
	}
	f.w.ResetMoved()
	if len(f.w.Moved()) != 0 || a.Moved() || b.Moved() {
		t.Fatal("ResetMoved left state")
	}
	a.SetPos(Vec3{3, 0, 0})
	if got := f.w.Moved(); len(got) != 1 || got[0] != a {
		t.Fatalf("Moved after reset = %v", got)
	}
	if d, ok := b.Destination(); !ok || d != (Vec3{5, 0, 5}) || b.MoveSpeed() != 2 || b.Velocity() != (Vec3{1, 0, 0}) {
		t.Fatalf("destination %v %v", d, ok)
	}
	b.SetDestination(Vec3{}, 0)
	if _, ok := b.Destination(); ok {
		t.Fatal("speed 0 kept the destination")
	}
}

func TestSetClientHooks(t *testing.T) {
	f := newFixture(t)
	p := f.create("player", "p", CreateOptions{})
	f.ev.take()
	c1 := ClientBinding{Gate: 1, Client: MakeClientID(1, 10)}
	c2 := ClientBinding{Gate: 2, Client: MakeClientID(2, 20)}
	p.SetClient(c1)
	p.SetClient(c1)
	p.SetClient(c2)
	p.SetClient(ClientBinding{})
	p.SetClient(ClientBinding{})
	wantLog(t, f.ev.take(),
		"connected p "+c1.Client.String(),
		"disconnected p 0000000000000000", // already unbound in the hook
		"connected p "+c2.Client.String(),
		"disconnected p 0000000000000000",
	)
	if p.Client() != (ClientBinding{}) {
		t.Fatalf("binding %v", p.Client())
	}
	p.SetClient(ClientBinding{Gate: 5}) // no client id: unbound, no hooks
	if len(f.ev.take()) != 0 || p.Client().Bound() {
		t.Fatal("binding without a client id")
	}
}

func TestQueryEach(t *testing.T) {
	npc := NewEntityType("npc").With(healthC, speedC)
	f := newFixture(t, npc)
	var players, npcs []*Entity
	for i := range 5 {
		players = append(players, f.create("player", "p", CreateOptions{Components: []any{health{HP: i}}}))
		npcs = append(npcs, f.create("npc", "n", CreateOptions{}))
	}
	qHealth := NewQuery(healthC)
	qSpeed := NewQuery(speedC, healthC)
	qAll := NewQuery()
	if qHealth.Count(f.w) != 10 || qSpeed.Count(f.w) != 5 || qAll.Count(f.w) != 10 {
		t.Fatalf("counts %d %d %d", qHealth.Count(f.w), qSpeed.Count(f.w), qAll.Count(f.w))
	}
	seen := map[*Entity]int{}
	qSpeed.Each(f.w, func(e *Entity) { seen[e]++ })
	for _, n := range npcs {
		if seen[n] != 1 {
			t.Fatalf("npc visited %d times", seen[n])
		}
	}

	// Destroy some, create some, add components, all inside Each.
	visited := 0
	qHealth.Each(f.w, func(e *Entity) {
		visited++
		if e.Type() == npc {
			f.w.Destroy(e)
			return
		}
		speedC.Set(e, 3)                                  // archetype change mid-iteration
		f.w.Destroy(players[4])                           // destroy ahead
		_ = f.create("npc", "late", CreateOptions{})      // not visited
		qSpeed.Each(f.w, func(o *Entity) { _ = o.Pos() }) // nested query
	})
	if visited != 9 {
		t.Fatalf("visited %d, want 9 (10 minus one destroyed ahead)", visited)
	}
	if n := qSpeed.Count(f.w); n != 4+4 {
		t.Fatalf("entities with speed after Each: %d", n)
	}
	for _, p := range players[:4] {
		if s := speedC.Get(p); s == nil || *s != 3 {
			t.Fatalf("speed not set on %s", p)
		}
	}
	if err := f.w.donburiCheck(); err != nil {
		t.Fatal(err)
	}
}

func TestComponentAccess(t *testing.T) {
	f := newFixture(t)
	p := f.create("player", "p", CreateOptions{})
	h := healthC.Get(p)
	if h == nil || !healthC.Has(p) || speedC.Has(p) || speedC.Get(p) != nil {
		t.Fatal("Has/Get")
	}
	h.HP = 42
	speedC.Set(p, 7) // archetype change; the health pointer stays valid
	h.HP++
	if healthC.Get(p).HP != 43 || *speedC.Get(p) != 7 {
		t.Fatalf("after archetype change: %+v %v", *healthC.Get(p), *speedC.Get(p))
	}
	v, ok := healthC.GetAny(p)
	if !ok || v.(*health).HP != 43 {
		t.Fatalf("GetAny %v %v", v, ok)
	}
	if err := extraC.SetAny(p, int64(5)); err != nil || *extraC.Get(p) != 5 {
		t.Fatalf("SetAny value: %v", err)
	}
	nv := healthC.New().(*health)
	nv.HP = 1
	if err := healthC.SetAny(p, nv); err != nil || healthC.Get(p).HP != 1 {
		t.Fatalf("SetAny pointer: %v", err)
	}
	if err := healthC.SetAny(p, "no"); !errors.Is(err, ErrComponentValue) {
		t.Fatalf("SetAny wrong type: %v", err)
	}
	speedC.Remove(p)
	if speedC.Has(p) || !healthC.Has(p) {
		t.Fatal("Remove")
	}
	f.w.Destroy(p)
	if _, ok := healthC.GetAny(p); ok || healthC.SetAny(p, health{}) == nil {
		t.Fatal("access to destroyed entity")
	}
}

func TestComponentBeyondMask(t *testing.T) {
	// donburi numbers component types process-wide; make enough that one
	// falls outside the presence mask and takes the layout-scan path.
	var far *ComponentType[int64]
	for i := 0; far == nil; i++ {
		c := NewComponent[int64]("filler-" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
		if !c.bit.ok {
			far = c
		}
	}
	reg := NewRegistry()
	if err := reg.RegisterType(NewEntityType("far").With(far, healthC)); err != nil {
		t.Fatal(err)
	}
	w := NewWorld(reg, WorldOptions{IDs: NewIDGen(1, nil)})
	e, err := w.Create("far", CreateOptions{Components: []any{int64(7)}})
	if err != nil {
		t.Fatal(err)
	}
	if !far.Has(e) || *far.Get(e) != 7 || NewQuery(far).Count(w) != 1 {
		t.Fatal("far component missing")
	}
	far.Remove(e)
	if far.Has(e) || far.Get(e) != nil || !healthC.Has(e) || NewQuery(far).Count(w) != 0 {
		t.Fatal("far component not removed")
	}
	far.Set(e, 9)
	if *far.Get(e) != 9 {
		t.Fatal("far component not re-added")
	}
}

func TestQueryCacheBounded(t *testing.T) {
	f := newFixture(t)
	f.create("player", "p", CreateOptions{})
	for range maxQueryCaches + 10 {
		if NewQuery(healthC).Count(f.w) != 1 {
			t.Fatal("count")
		}
	}
	if len(f.w.queries) > maxQueryCaches {
		t.Fatalf("%d query caches", len(f.w.queries))
	}
}

func TestCreateClientAndRestore(t *testing.T) {
	f := newFixture(t)
	s := f.create("space", "S", CreateOptions{})
	cb := ClientBinding{Gate: 1, Client: MakeClientID(1, 5)}
	f.ev.take()
	f.create("player", "p", CreateOptions{Space: s, Client: cb})
	wantLog(t, f.ev.take(), "created p", "enter p->S space=S", "entity-enter S+p", "connected p "+cb.Client.String())

	f.w.ResetTick()
	id := MakeEntityID(1, 1<<44)
	r, err := f.w.Create("player", CreateOptions{ID: id, Space: s, Client: cb, Pos: Vec3{1, 2, 3}, Restore: true,
		Attrs: map[string]any{"name": "r"}, Components: []any{health{HP: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.ev.take()) != 0 {
		t.Fatal("hooks ran on restore")
	}
	if r.Space() != s || r.Client() != cb || r.Pos() != (Vec3{1, 2, 3}) || healthC.Get(r).HP != 3 || s.NumMembers() != 2 {
		t.Fatalf("restored state: space=%v client=%v pos=%v", r.Space(), r.Client(), r.Pos())
	}
	if got := f.w.SpaceChanges(); len(got) != 1 || got[0] != (SpaceChange{Entity: r, To: s}) {
		t.Fatalf("restore changes %v", got)
	}
	if len(f.w.Moved()) != 0 || len(f.w.AttrDirty()) != 0 {
		t.Fatal("restore counted as move or attribute change")
	}
}

func TestEntityComponents(t *testing.T) {
	reg := NewRegistry()
	if err := reg.RegisterComponent(extraC); err != nil { // registered, not in the type
		t.Fatal(err)
	}
	if err := reg.RegisterType(NewEntityType("npc").With(tagC, healthC)); err != nil {
		t.Fatal(err)
	}
	w := NewWorld(reg, WorldOptions{IDs: NewIDGen(1, nil)})
	e, err := w.Create("npc", CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := func() []string {
		var out []string
		for _, c := range e.Components() {
			out = append(out, c.Name())
		}
		return out
	}
	if got := names(); !slices.Equal(got, []string{"health", "tag"}) {
		t.Fatalf("components %v, want the type's, by name", got)
	}
	extraC.Set(e, 5)
	speedC.Set(e, 2) // never registered: not listed
	healthC.Remove(e)
	if got := names(); !slices.Equal(got, []string{"extra", "tag"}) {
		t.Fatalf("components %v after Set/Remove, want extra and tag", got)
	}
	// Every listed component reads back through the untyped view.
	for _, c := range e.Components() {
		if _, ok := c.GetAny(e); !ok {
			t.Fatalf("%s listed but GetAny fails", c.Name())
		}
	}
	e.Destroy()
	if e.Components() != nil {
		t.Fatal("a destroyed entity lists components")
	}
}

// TestRemove: World.Remove (for migration, in game_remove.go) takes an
// entity out like Destroy but runs no hook.
func TestRemove(t *testing.T) {
	f := newFixture(t)
	s := f.create("space", "S", CreateOptions{})
	p := f.create("player", "p", CreateOptions{Space: s, Client: ClientBinding{Gate: 2, Client: MakeClientID(2, 5)}})
	q := f.create("player", "q", CreateOptions{Space: s})
	f.ev.take()
	f.w.ResetTick()

	if err := f.w.Remove(p); err != nil {
		t.Fatal(err)
	}
	if got := f.ev.take(); len(got) != 0 {
		t.Fatalf("Remove ran hooks: %v", got)
	}
	if !p.Destroyed() || p.Space() != nil || s.NumMembers() != 1 || s.Members()[0] != q {
		t.Fatalf("after Remove: destroyed %v space %v members %v", p.Destroyed(), p.Space(), s.Members())
	}
	if _, ok := f.w.Entity(p.ID()); ok || f.w.Len() != 2 {
		t.Fatal("removed entity still in the world")
	}
	if got := f.w.SpaceChanges(); !slices.Equal(got, []SpaceChange{{Entity: p, From: s}}) {
		t.Fatalf("space changes %v", got)
	}
	if got := f.w.Destroyed(); !slices.Equal(got, []*Entity{p}) {
		t.Fatalf("Destroyed %v", got)
	}
	if !p.Client().Bound() {
		t.Fatal("client binding not kept")
	}
	if err := f.w.donburiCheck(); err != nil {
		t.Fatal(err)
	}
	// The same ID may come back (a migration back to this game).
	back, err := f.w.Create("player", CreateOptions{ID: p.ID(), Restore: true})
	if err != nil || back.ID() != p.ID() {
		t.Fatalf("re-create after Remove: %v", err)
	}

	// Errors: gone, foreign, a space with members.
	if err := f.w.Remove(p); !errors.Is(err, ErrNoEntity) {
		t.Fatalf("Remove twice: %v", err)
	}
	if err := f.w.Remove(nil); !errors.Is(err, ErrNoEntity) {
		t.Fatalf("Remove(nil): %v", err)
	}
	other := newFixture(t)
	if err := f.w.Remove(other.create("player", "x", CreateOptions{})); !errors.Is(err, ErrNoEntity) {
		t.Fatalf("Remove of another world's entity: %v", err)
	}
	if err := f.w.Remove(s); !errors.Is(err, ErrNotSpace) || s.Destroyed() {
		t.Fatalf("Remove of a space with members: %v", err)
	}
	q.LeaveSpace()
	f.ev.take()
	if err := f.w.Remove(s); err != nil || f.w.NumSpaces() != 0 || len(f.ev.take()) != 0 {
		t.Fatalf("Remove of an empty space: %v", err)
	}
	if err := f.w.donburiCheck(); err != nil {
		t.Fatal(err)
	}
}
