package systems

import (
	"errors"
	"testing"

	"github.com/ecsworld/ecsworld/ecs"
)

// Components of the test types, declared once at package initialisation
// as ecs requires.
var testHits = ecs.NewComponent[testHitLog]("systems_test.hits")

// testHitLog records the calls a test entity received.
type testHitLog struct {
	Calls []string
	Args  []int
}

var errTestFail = errors.New("test method failed")

// testEnv is a world with a space type, a "mob" type with methods and AOI
// hooks, and the hooks' log.
type testEnv struct {
	w     *ecs.World
	hooks []hookCall
	// onEnter, if set, runs inside the mob's OnEnterAOI hook.
	onEnter func(e, other *ecs.Entity)
	// onCall runs as the body of the mob's server-only method "Call".
	onCall func(e *ecs.Entity)
	errs   []error
}

type hookCall struct {
	watcher, target ecs.EntityID
	enter           bool
}

func newTestEnv(t testing.TB, radius float32) *testEnv {
	t.Helper()
	env := &testEnv{}
	reg := ecs.NewRegistry()
	space := ecs.NewEntityType("space").Space()
	record := func(name string) func(e *ecs.Entity, c ecs.Caller, n int) error {
		return func(e *ecs.Entity, _ ecs.Caller, n int) error {
			h := testHits.Get(e)
			h.Calls = append(h.Calls, name)
			h.Args = append(h.Args, n)
			return nil
		}
	}
	mob := ecs.NewEntityType("mob").With(testHits).AOI(radius).
		Method(ecs.Method1("Hit", ecs.ServerOnly, record("Hit"))).
		Method(ecs.Method1("Tick", ecs.ServerOnly, record("Tick"))).
		Method(ecs.Method1("Poke", ecs.AnyClient, record("Poke"))).
		Method(ecs.Method1("Mine", ecs.OwnClient, record("Mine"))).
		Method(ecs.Method0("Boom", ecs.ServerOnly, func(*ecs.Entity, ecs.Caller) error { panic("boom") })).
		Method(ecs.Method0("Fail", ecs.ServerOnly, func(*ecs.Entity, ecs.Caller) error { return errTestFail })).
		Method(ecs.Method0("Call", ecs.ServerOnly, func(e *ecs.Entity, _ ecs.Caller) error {
			if env.onCall != nil {
				env.onCall(e)
			}
			return nil
		})).
		Method(ecs.Method0("Die", ecs.ServerOnly, func(e *ecs.Entity, _ ecs.Caller) error { e.Destroy(); return nil })).
		OnEnterAOI(func(e, other *ecs.Entity) {
			env.hooks = append(env.hooks, hookCall{e.ID(), other.ID(), true})
			if env.onEnter != nil {
				env.onEnter(e, other)
			}
		}).
		OnLeaveAOI(func(e, other *ecs.Entity) {
			env.hooks = append(env.hooks, hookCall{e.ID(), other.ID(), false})
		})
	for _, typ := range []*ecs.EntityType{space, mob} {
		if err := reg.RegisterType(typ); err != nil {
			t.Fatal(err)
		}
	}
	env.w = ecs.NewWorld(reg, ecs.WorldOptions{
		IDs:     ecs.NewIDGen(1, nil),
		OnError: func(err error) { env.errs = append(env.errs, err) },
	})
	return env
}

func (env *testEnv) space(t testing.TB) *ecs.Entity {
	t.Helper()
	s, err := env.w.Create("space", ecs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (env *testEnv) mob(t testing.TB, space *ecs.Entity, pos ecs.Vec3) *ecs.Entity {
	t.Helper()
	e, err := env.w.Create("mob", ecs.CreateOptions{Pos: pos, Space: space})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustArgs(t testing.TB, args ...any) []byte {
	t.Helper()
	b, err := ecs.EncodeArgs(args...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
