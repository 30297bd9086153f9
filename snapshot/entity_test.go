package snapshot_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/snapshot"
)

// TestEntityCodec moves entities between two games: same schema, then a
// receiver that lacks a component and whose type has one more.
func TestEntityCodec(t *testing.T) {
	s := newSchema(t)
	g := randWorld(t, s, 21, 80)
	st := g.state()
	send, err := snapshot.NewEntityCodec(s.reg)
	if err != nil {
		t.Fatal(err)
	}
	s2 := newSchema(t)
	w2 := ecs.NewWorld(s2.reg, worldOpts())
	recv, err := snapshot.NewEntityCodec(s2.reg)
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	n, withTimers := 0, 0
	move := func(e *ecs.Entity) bool {
		buf, err = send.Marshal(buf[:0], e, st.Timers, g.tick)
		if err != nil {
			t.Fatal(err)
		}
		e2, timers, warns, err := recv.Unmarshal(buf, w2, 1000)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		if len(warns) != 0 || e2.Space() != nil {
			t.Fatalf("%s: warnings %v, space %v", e, warns, e2.Space())
		}
		if e.Space() != nil {
			sp, ok := w2.Entity(e.Space().ID())
			if !ok {
				t.Fatalf("%s: space %s not moved first", e, e.Space())
			}
			if err := e2.EnterSpace(sp, e.Pos()); err != nil {
				t.Fatal(err)
			}
		}
		if d := entityDiff(s.reg, e, e2); d != "" {
			t.Fatalf("%s: %s", e, d)
		}
		for _, tm := range timers {
			var orig *snapshot.Timer
			for i := range st.Timers {
				if st.Timers[i].ID == tm.ID {
					orig = &st.Timers[i]
				}
			}
			if orig == nil || tm.Entity != e.ID() || tm.Method != orig.Method || tm.Repeat != orig.Repeat ||
				tm.Due-1000 != max(orig.Due-g.tick, 1) {
				t.Fatalf("%s: timer %+v from %+v", e, tm, orig)
			}
			withTimers++
		}
		n++
		return true
	}
	for _, sp := range g.w.Spaces() {
		move(sp)
	}
	g.w.Each(func(e *ecs.Entity) bool { return e.IsSpace() || move(e) })
	if n == 0 || withTimers == 0 {
		t.Fatalf("%d entities, %d timers moved", n, withTimers)
	}

	// A receiver whose "mob" lacks "pair" and has "gear" instead.
	reg3 := ecs.NewRegistry()
	if err := reg3.RegisterType(ecs.NewEntityType("mob").With(richC, gearC)); err != nil {
		t.Fatal(err)
	}
	w3 := ecs.NewWorld(reg3, worldOpts())
	c3, err := snapshot.NewEntityCodec(reg3)
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	g.w.Each(func(e *ecs.Entity) bool {
		if e.Type().Name() != "mob" || !s.pair.Has(e) {
			return true
		}
		buf, _ = send.Marshal(buf[:0], e, nil, g.tick)
		e3, _, warns, err := c3.Unmarshal(buf, w3, 0)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, w := range warns {
			names[w.Component] = w.Entities == 1
		}
		if !names["pair"] || len(names) != 1+btoi(s.extra.Has(e)) || gearC.Get(e3) == nil || !reflect.DeepEqual(richC.Get(e3), richC.Get(e)) {
			t.Fatalf("warnings %v, gear %v", warns, gearC.Get(e3))
		}
		moved++
		return true
	})
	if moved == 0 {
		t.Fatal("no mob with a pair")
	}

	// Bad bytes and an unknown type: errors, nothing created.
	before := w3.Len()
	var player *ecs.Entity
	g.w.Each(func(e *ecs.Entity) bool {
		if e.Type().Name() == "player" {
			player = e
			return false
		}
		return true
	})
	buf, _ = send.Marshal(buf[:0], player, nil, 0)
	if _, _, _, err := c3.Unmarshal(buf, w3, 0); !errors.Is(err, snapshot.ErrSchema) {
		t.Fatalf("unknown type: %v", err)
	}
	for i := range buf {
		if _, _, _, err := c3.Unmarshal(buf[:i], w3, 0); err == nil {
			t.Fatalf("cut at %d accepted", i)
		}
	}
	if w3.Len() != before {
		t.Fatalf("failed unmarshals left %d entities", w3.Len()-before)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
