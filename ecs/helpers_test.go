package ecs

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Components shared by the tests. They are package-level because donburi
// numbers component types from an unsynchronised process-wide counter.
type health struct{ HP, Max int }
type tag struct{ Name string }
type speed float32

var (
	healthC = NewComponent[health]("health")
	tagC    = NewComponent[tag]("tag")
	speedC  = NewComponent[speed]("speed")
	extraC  = NewComponent[int64]("extra")
)

// events records hook calls in order.
type events struct{ log []string }

func (ev *events) add(format string, args ...any) {
	ev.log = append(ev.log, fmt.Sprintf(format, args...))
}

func (ev *events) take() []string {
	out := ev.log
	ev.log = nil
	return out
}

func name(e *Entity) string {
	if e == nil {
		return "nil"
	}
	if s := e.Attrs().Str("name"); s != "" {
		return s
	}
	return e.typ.name
}

// hooked declares type tn with every world-run hook logging into ev.
func hooked(tn string, ev *events) *EntityType {
	return NewEntityType(tn).
		OnCreated(func(e *Entity) { ev.add("created %s", name(e)) }).
		OnDestroy(func(e *Entity) { ev.add("destroy %s space=%s", name(e), name(e.Space())) }).
		OnEnterSpace(func(e, s *Entity) { ev.add("enter %s->%s space=%s", name(e), name(s), name(e.Space())) }).
		OnLeaveSpace(func(e, s *Entity) { ev.add("leave %s<-%s space=%s", name(e), name(s), name(e.Space())) }).
		OnEntityEnter(func(s, e *Entity) { ev.add("entity-enter %s+%s", name(s), name(e)) }).
		OnEntityLeave(func(s, e *Entity) { ev.add("entity-leave %s-%s", name(s), name(e)) }).
		OnClientConnected(func(e *Entity) { ev.add("connected %s %s", name(e), e.Client().Client) }).
		OnClientDisconnected(func(e *Entity) { ev.add("disconnected %s %s", name(e), e.Client().Client) })
}

type fixture struct {
	t      *testing.T
	reg    *Registry
	w      *World
	ev     *events
	errs   []error
	player *EntityType
	space  *EntityType
}

// newFixture builds a world with a "player" type (health, tag, methods
// added by the caller through extra) and a "space" type, both hooked.
func newFixture(t *testing.T, extra ...*EntityType) *fixture {
	t.Helper()
	f := &fixture{t: t, reg: NewRegistry(), ev: &events{}}
	f.player = hooked("player", f.ev).With(healthC, tagC).AOI(30).
		Attr("name", AttrAllClients|AttrPersistent).
		Attr("gold", AttrOwnClient|AttrPersistent)
	f.space = hooked("space", f.ev).Space()
	for _, tt := range append([]*EntityType{f.player, f.space}, extra...) {
		if err := f.reg.RegisterType(tt); err != nil {
			t.Fatalf("RegisterType(%s): %v", tt.name, err)
		}
	}
	clk := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.w = NewWorld(f.reg, WorldOptions{
		IDs:     NewIDGen(1, func() time.Time { return clk }),
		OnError: func(err error) { f.errs = append(f.errs, err) },
	})
	return f
}

func (f *fixture) create(typ, nm string, opts CreateOptions) *Entity {
	f.t.Helper()
	if opts.Attrs == nil {
		opts.Attrs = map[string]any{}
	}
	opts.Attrs["name"] = nm
	e, err := f.w.Create(typ, opts)
	if err != nil {
		f.t.Fatalf("Create(%s %s): %v", typ, nm, err)
	}
	return e
}

func wantLog(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("hooks:\n got  %s\n want %s", strings.Join(got, " | "), strings.Join(want, " | "))
	}
}
