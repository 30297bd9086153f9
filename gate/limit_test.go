package gate

import (
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/netproto"
)

func TestTokenBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := newTokenBucket(10, t0)
	for i := range 10 {
		if !b.take(t0) {
			t.Fatalf("message %d of the initial burst refused", i)
		}
	}
	if b.take(t0) {
		t.Fatal("11th message in the same instant allowed")
	}
	// 100 ms later one more token.
	if !b.take(t0.Add(100 * time.Millisecond)) {
		t.Fatal("refilled token refused")
	}
	if b.take(t0.Add(100 * time.Millisecond)) {
		t.Fatal("second message after 100 ms allowed")
	}
	// A long pause refills at most the burst.
	t1 := t0.Add(time.Hour)
	n := 0
	for b.take(t1) {
		n++
	}
	if n != 10 {
		t.Fatalf("after an hour %d messages allowed, want the burst of 10", n)
	}
	// Sustained rate at the limit is fine.
	for i := range 100 {
		if !b.take(t1.Add(time.Duration(i+1) * 100 * time.Millisecond)) {
			t.Fatalf("message %d at 10/s refused", i)
		}
	}
	unlimited := newTokenBucket(0, t0)
	for range 1000 {
		if !unlimited.take(t0) {
			t.Fatal("zero rate means no limit")
		}
	}
}

func TestMoveCheck(t *testing.T) {
	t0 := time.Unix(1000, 0)
	type step struct {
		dt   time.Duration // since the previous step
		x    float64
		want bool
	}
	cases := []struct {
		name  string
		limit float64
		place bool // the server placed the entity at x=0 first
		steps []step
	}{
		{"first move is the reference", 10, false, []step{{0, 500, true}, {100 * time.Millisecond, 501, true}}},
		{"steady at the limit", 10, true, []step{
			{100 * time.Millisecond, 1, true}, {100 * time.Millisecond, 2, true}, {100 * time.Millisecond, 3, true},
			{100 * time.Millisecond, 4, true}, {100 * time.Millisecond, 5, true}, {100 * time.Millisecond, 6, true},
		}},
		{"bunched moves within the budget", 10, true, []step{{0, 2, true}, {0, 4, true}, {300 * time.Millisecond, 7, true}}},
		{"teleport", 10, true, []step{{100 * time.Millisecond, 100, false}, {100 * time.Millisecond, 1, true}}},
		{"twice the speed, sustained", 10, true, []step{
			{100 * time.Millisecond, 2, true}, {100 * time.Millisecond, 4, true}, {100 * time.Millisecond, 6, true},
			{100 * time.Millisecond, 8, true}, {100 * time.Millisecond, 10, false},
		}},
		{"standing still does not store a teleport", 10, true, []step{{time.Hour, 6, false}, {0, 5, true}}},
		{"no limit", 0, true, []step{{0, 1e6, true}}},
		{"no movement", 10, true, []step{{0, 0, true}, {0, 0.001, true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m moveCheck
			m.reset(tc.limit, t0)
			if tc.place {
				m.place(0, 0, 0)
			}
			now := t0
			for i, s := range tc.steps {
				now = now.Add(s.dt)
				if got := m.allow(s.x, 0, 0, now); got != s.want {
					t.Fatalf("step %d (x=%v after %v): allowed %v, want %v", i, s.x, s.dt, got, s.want)
				}
			}
		})
	}
}

func TestSchema(t *testing.T) {
	s := newSchema()
	if _, ok := s.perm("Avatar", "Wave"); ok {
		t.Fatal("empty schema allows a call")
	}
	s.set(1, []netproto.EntityTypeSchema{
		{Name: "Avatar", Methods: []netproto.MethodSchema{{Name: "Wave", Perm: netproto.PermAnyClient}, {Name: "Odd", Perm: 9}}},
	})
	s.set(2, []netproto.EntityTypeSchema{
		{Name: "Avatar", Methods: []netproto.MethodSchema{{Name: "Wave", Perm: netproto.PermOwnClient}, {Name: "Jump", Perm: netproto.PermAnyClient}}},
		{Name: "Monster", Methods: []netproto.MethodSchema{{Name: "Hit", Perm: netproto.PermAnyClient}}},
	})
	cases := []struct {
		typ, method string
		perm        netproto.Perm
		ok          bool
	}{
		{"Avatar", "Wave", netproto.PermOwnClient, true}, // games disagree: the stricter wins
		{"Avatar", "Jump", netproto.PermAnyClient, true},
		{"Avatar", "Odd", 0, false}, // a permission this gate does not know
		{"Monster", "Hit", netproto.PermAnyClient, true},
		{"Monster", "Wave", 0, false},
		{"Ghost", "Hit", 0, false},
	}
	for _, tc := range cases {
		p, ok := s.perm(tc.typ, tc.method)
		if p != tc.perm || ok != tc.ok {
			t.Errorf("%s.%s: %v %v, want %v %v", tc.typ, tc.method, p, ok, tc.perm, tc.ok)
		}
	}
	// A game's new schema replaces its old one.
	s.set(2, nil)
	if p, _ := s.perm("Avatar", "Wave"); p != netproto.PermAnyClient {
		t.Errorf("after game 2 dropped its types: Wave %v", p)
	}
	if _, ok := s.perm("Monster", "Hit"); ok {
		t.Error("Monster still callable after its only game dropped it")
	}
}
