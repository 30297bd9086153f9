package ecs

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSpaceEnterLeaveSwitch(t *testing.T) {
	f := newFixture(t)
	a := f.create("space", "A", CreateOptions{})
	b := f.create("space", "B", CreateOptions{})
	p := f.create("player", "p", CreateOptions{})
	f.ev.take()
	f.w.ResetTick()

	steps := []struct {
		name  string
		do    func() error
		log   []string
		space *Entity
		chg   []SpaceChange
	}{
		{"join A", func() error { return p.EnterSpace(a, Vec3{1, 0, 1}) },
			[]string{"enter p->A space=A", "entity-enter A+p"}, a,
			[]SpaceChange{{Entity: p, To: a}}},
		{"move within A", func() error { return p.EnterSpace(a, Vec3{2, 0, 2}) },
			nil, a, nil},
		{"switch to B", func() error { return p.EnterSpace(b, Vec3{3, 0, 3}) },
			[]string{"leave p<-A space=nil", "entity-leave A-p", "enter p->B space=B", "entity-enter B+p"}, b,
			[]SpaceChange{{Entity: p, From: a, To: b}}},
		{"leave B", func() error { p.LeaveSpace(); return nil },
			[]string{"leave p<-B space=nil", "entity-leave B-p"}, nil,
			[]SpaceChange{{Entity: p, From: b}}},
		{"leave again", func() error { p.LeaveSpace(); return nil }, nil, nil, nil},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := f.ev.take(); !slices.Equal(got, st.log) {
			t.Fatalf("%s: hooks %q, want %q", st.name, got, st.log)
		}
		if p.Space() != st.space {
			t.Fatalf("%s: space %v", st.name, p.Space())
		}
		if got := f.w.SpaceChanges(); !slices.Equal(got, st.chg) {
			t.Fatalf("%s: changes %v, want %v", st.name, got, st.chg)
		}
		f.w.ResetSpaceChanges()
	}
	if p.Pos() != (Vec3{3, 0, 3}) {
		t.Fatalf("pos %v", p.Pos())
	}
}

func TestSpaceErrors(t *testing.T) {
	f := newFixture(t)
	a := f.create("space", "A", CreateOptions{})
	b := f.create("space", "B", CreateOptions{})
	p := f.create("player", "p", CreateOptions{})
	q := f.create("player", "q", CreateOptions{})
	gone := f.create("space", "gone", CreateOptions{})
	gone.Destroy()
	other := newFixture(t)
	foreign := other.create("space", "F", CreateOptions{})
	tests := []struct {
		name  string
		e     *Entity
		space *Entity
		want  error
	}{
		{"space into space", b, a, ErrSpaceInSpace},
		{"into non-space", p, q, ErrNotSpace},
		{"into nil", p, nil, ErrNotSpace},
		{"into destroyed", p, gone, ErrNoEntity},
		{"destroyed enters", gone, a, ErrNoEntity},
		{"other world", p, foreign, ErrWrongWorld},
	}
	for _, tt := range tests {
		if err := tt.e.EnterSpace(tt.space, Vec3{}); !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
	if p.Space() != nil || a.NumMembers() != 0 {
		t.Fatal("failed enter changed membership")
	}
}

func TestSpaceDestroyEvictsMembers(t *testing.T) {
	f := newFixture(t)
	s := f.create("space", "S", CreateOptions{})
	var ms []*Entity
	for _, n := range []string{"m1", "m2", "m3"} {
		ms = append(ms, f.create("player", n, CreateOptions{Space: s}))
	}
	f.ev.take()
	f.w.ResetTick()
	s.SetSpaceData("grid")
	if s.SpaceData() != "grid" || f.w.NumSpaces() != 1 {
		t.Fatal("space data / count")
	}
	f.w.Destroy(s)
	// Members leave from the last, then the space is destroyed.
	wantLog(t, f.ev.take(),
		"leave m3<-S space=nil", "entity-leave S-m3",
		"leave m2<-S space=nil", "entity-leave S-m2",
		"leave m1<-S space=nil", "entity-leave S-m1",
		"destroy S space=nil",
	)
	for _, m := range ms {
		if m.Space() != nil || m.Destroyed() {
			t.Fatalf("%s after space destroy: space=%v destroyed=%v", name(m), m.Space(), m.Destroyed())
		}
	}
	if got := f.w.SpaceChanges(); len(got) != 3 || got[0].From != s || got[0].To != nil {
		t.Fatalf("changes %v", got)
	}
	if f.w.NumSpaces() != 0 || len(f.w.Spaces()) != 0 || !s.Destroyed() {
		t.Fatal("space still listed")
	}
}

func TestEnterSpaceDuringDestroyIsRefused(t *testing.T) {
	var home *Entity
	stubborn := NewEntityType("stubborn").OnLeaveSpace(func(e, s *Entity) {
		if err := e.EnterSpace(s, Vec3{}); !errors.Is(err, ErrNoEntity) {
			panic("re-entering a dying space: " + errors.Join(err).Error())
		}
		if home != nil {
			_ = e.EnterSpace(home, Vec3{}) // allowed: another space
		}
	})
	f := newFixture(t, stubborn)
	s := f.create("space", "S", CreateOptions{})
	home = f.create("space", "home", CreateOptions{})
	e, err := f.w.Create("stubborn", CreateOptions{Space: s})
	if err != nil {
		t.Fatal(err)
	}
	f.w.ResetTick()
	f.w.Destroy(s)
	if len(f.errs) != 0 {
		t.Fatal(f.errs)
	}
	if e.Space() != home || home.NumMembers() != 1 {
		t.Fatalf("space %v", e.Space())
	}
	want := []SpaceChange{{Entity: e, From: s, To: home}}
	if got := f.w.SpaceChanges(); !slices.Equal(got, want) {
		t.Fatalf("changes %v", got)
	}
}

func TestEnterSpaceInterruptedByHook(t *testing.T) {
	var c *Entity
	var w *World
	jumpy := NewEntityType("jumpy").OnLeaveSpace(func(e, s *Entity) {
		if c != nil && s != c {
			_ = e.EnterSpace(c, Vec3{})
		}
	})
	killer := NewEntityType("killer").OnLeaveSpace(func(e, s *Entity) { w.Destroy(e) })
	f := newFixture(t, jumpy, killer)
	w = f.w
	a := f.create("space", "A", CreateOptions{})
	b := f.create("space", "B", CreateOptions{})
	j, _ := w.Create("jumpy", CreateOptions{Space: a})
	c = f.create("space", "C", CreateOptions{})
	k, _ := w.Create("killer", CreateOptions{Space: a})
	w.ResetTick()

	if err := j.EnterSpace(b, Vec3{}); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err %v", err)
	}
	if j.Space() != c || b.NumMembers() != 0 {
		t.Fatalf("jumpy in %v", j.Space())
	}
	if err := k.EnterSpace(b, Vec3{}); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err %v", err)
	}
	if !k.Destroyed() || b.NumMembers() != 0 {
		t.Fatal("killer")
	}
	want := []SpaceChange{{Entity: j, From: a, To: c}, {Entity: k, From: a}}
	if got := w.SpaceChanges(); !slices.Equal(got, want) {
		t.Fatalf("changes %v, want %v", got, want)
	}
}

// TestMembersModel checks O(1) removal against a simple model under random
// joins, leaves, switches and destroys.
func TestMembersModel(t *testing.T) {
	f := newFixture(t)
	spaces := []*Entity{f.create("space", "A", CreateOptions{}), f.create("space", "B", CreateOptions{})}
	var ents []*Entity
	for range 60 {
		ents = append(ents, f.create("player", "", CreateOptions{}))
	}
	model := map[*Entity]*Entity{} // entity -> space
	r := rand.New(rand.NewPCG(1, 2))
	for step := 0; step < 5000; step++ {
		e := ents[r.IntN(len(ents))]
		switch op := r.IntN(10); {
		case e.Destroyed():
			continue
		case op < 5:
			s := spaces[r.IntN(2)]
			if err := e.EnterSpace(s, Vec3{}); err != nil {
				t.Fatal(err)
			}
			model[e] = s
		case op < 9:
			e.LeaveSpace()
			delete(model, e)
		default:
			f.w.Destroy(e)
			delete(model, e)
		}
		if step%50 == 0 {
			f.w.ResetTick()
		}
	}
	for _, s := range spaces {
		var want []*Entity
		for e, in := range model {
			if in == s {
				want = append(want, e)
			}
		}
		got := slices.Clone(s.Members())
		cmp := func(a, b *Entity) int { return int(a.ID()) - int(b.ID()) }
		slices.SortFunc(got, cmp)
		slices.SortFunc(want, cmp)
		if !slices.Equal(got, want) {
			t.Fatalf("space %s: %d members, model %d", name(s), len(got), len(want))
		}
		for i, m := range s.Members() {
			if int(m.memberIdx) != i || m.Space() != s {
				t.Fatalf("back-pointer of member %d is %d", i, m.memberIdx)
			}
		}
	}
}

func TestEachMemberRemovingCurrent(t *testing.T) {
	f := newFixture(t)
	s := f.create("space", "S", CreateOptions{})
	for range 10 {
		f.create("player", "", CreateOptions{Space: s})
	}
	seen := map[*Entity]int{}
	s.EachMember(func(m *Entity) bool {
		seen[m]++
		if m.ID()%2 == 0 {
			m.LeaveSpace()
		} else {
			m.Destroy()
		}
		return true
	})
	if len(seen) != 10 || s.NumMembers() != 0 {
		t.Fatalf("visited %d, left %d", len(seen), s.NumMembers())
	}
	for _, n := range seen {
		if n != 1 {
			t.Fatal("member visited twice")
		}
	}
	n := 0
	f.create("player", "", CreateOptions{Space: s})
	f.create("player", "", CreateOptions{Space: s})
	s.EachMember(func(*Entity) bool { n++; return false })
	if n != 1 {
		t.Fatal("EachMember did not stop")
	}
}
