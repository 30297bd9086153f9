package ecs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

type point struct {
	X, Y int
}

// methodFixture is a world with a "hero" type carrying methods that record
// their arguments.
type methodFixture struct {
	*fixture
	hero *Entity
	got  []any
}

func newMethodFixture(t *testing.T) *methodFixture {
	mf := &methodFixture{}
	hero := NewEntityType("hero").
		Method(Method0("Ping", AnyClient, func(e *Entity, c Caller) error { mf.got = append(mf.got, "ping"); return nil })).
		Method(Method1("Say", OwnClient, func(e *Entity, c Caller, s string) error { mf.got = append(mf.got, s); return nil })).
		Method(Method2("Give", ServerOnly, func(e *Entity, c Caller, n int, what string) error {
			mf.got = append(mf.got, n, what)
			return nil
		})).
		Method(Method3("Move", OwnClient, func(e *Entity, c Caller, p point, fast bool, at time.Time) error {
			mf.got = append(mf.got, p, fast, at)
			return nil
		})).
		Method(Method4("Mix", AnyClient, func(e *Entity, c Caller, id EntityID, b []byte, f float32, m map[string]any) error {
			mf.got = append(mf.got, id, b, f, m)
			return nil
		})).
		Method(Method1("Boom", AnyClient, func(e *Entity, c Caller, n int) error {
			var m map[string]int
			m["x"] = n // nil map write: panics
			return nil
		})).
		Method(Method0("Fail", AnyClient, func(e *Entity, c Caller) error { return errors.New("nope") }))
	mf.fixture = newFixture(t, hero)
	var err error
	mf.hero, err = mf.w.Create("hero", CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return mf
}

func mustArgs(t *testing.T, args ...any) []byte {
	t.Helper()
	b, err := EncodeArgs(args...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInvokeTypedArgs(t *testing.T) {
	mf := newMethodFixture(t)
	when := time.Date(2026, 2, 3, 4, 5, 6, 789, time.UTC)
	id := MakeEntityID(3, 4)
	calls := []struct {
		method string
		args   []byte
		want   []any
	}{
		{"Ping", mustArgs(t), []any{"ping"}},
		{"Ping", nil, []any{"ping"}}, // empty input = no arguments
		{"Say", mustArgs(t, "hi"), []any{"hi"}},
		{"Give", mustArgs(t, 3, "gold"), []any{3, "gold"}},
		{"Give", mustArgs(t, int8(-3), "gold"), []any{-3, "gold"}},
		{"Move", mustArgs(t, point{1, 2}, true, when), []any{point{1, 2}, true, when}},
		{"Mix", mustArgs(t, id, []byte{1}, 1.5, map[string]any{"k": 1}), []any{id, []byte{1}, float32(1.5), map[string]any{"k": int64(1)}}},
	}
	for _, c := range calls {
		mf.got = nil
		if err := mf.w.Call(mf.hero.ID(), c.method, ServerCaller(), c.args); err != nil {
			t.Fatalf("%s: %v", c.method, err)
		}
		if !equalAny(mf.got, c.want) {
			t.Fatalf("%s got %#v, want %#v", c.method, mf.got, c.want)
		}
	}
}

func equalAny(a, b []any) bool {
	ea, _ := cbor.Marshal(a)
	eb, _ := cbor.Marshal(b)
	return string(ea) == string(eb)
}

func TestInvokeBadArgs(t *testing.T) {
	mf := newMethodFixture(t)
	give, _ := mf.hero.Type().LookupMethod("Give")
	big := make([]byte, MaxArgsSize+1)
	big[0] = 0x82
	deep := strings.Repeat("\x81", 40) + "\x01"
	tests := []struct {
		name  string
		args  []byte
		index int
	}{
		{"too few", mustArgs(t, 1), -1},
		{"too many", mustArgs(t, 1, "a", 2), -1},
		{"none", nil, -1},
		{"string for int", mustArgs(t, "1", "a"), 0},
		{"int for string", mustArgs(t, 1, 2), 1},
		{"float for int", mustArgs(t, 1.5, "a"), 0},
		{"overflow int", mustArgs(t, uint64(1<<63), "a"), 0},
		{"not an array", mustArgs(t)[:0:0], -1}, // replaced below
		{"map instead of array", []byte{0xa0}, -1},
		{"indefinite array", []byte{0x9f, 0x01, 0x61, 'a', 0xff}, -1},
		{"truncated element", []byte{0x82, 0x01}, 1},
		{"truncated head", []byte{0x98}, -1},
		{"trailing bytes", append(mustArgs(t, 1, "a"), 0x00), -1},
		{"huge count", []byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, -1},
		{"tagged", []byte{0x82, 0xc1, 0x01, 0x61, 'a'}, 0},
		{"invalid utf8", []byte{0x82, 0x01, 0x61, 0xff}, 1},
		{"too large", big, -1},
		{"too deep", []byte("\x82" + deep + "\x61a"), 0},
	}
	tests[7].args = []byte{0x01}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mf.got = nil
			err := give.Invoke(mf.hero, ServerCaller(), tt.args)
			var ae *ArgError
			if !errors.Is(err, ErrBadArgs) || !errors.As(err, &ae) {
				t.Fatalf("err = %v", err)
			}
			if ae.Index != tt.index || ae.Method != "Give" || ae.Err == nil {
				t.Fatalf("ArgError %+v, want index %d", ae, tt.index)
			}
			if mf.got != nil {
				t.Fatal("method ran with bad arguments")
			}
		})
	}
	// The cause stays reachable.
	err := give.Invoke(mf.hero, ServerCaller(), mustArgs(t, "1", "a"))
	var te *cbor.UnmarshalTypeError
	if !errors.As(err, &te) {
		t.Fatalf("cause not a cbor type error: %v", err)
	}
}

func TestInvokeDuplicateMapKeys(t *testing.T) {
	mf := newMethodFixture(t)
	mix, _ := mf.hero.Type().LookupMethod("Mix")
	// [1, h'', 1.0, {"a": 1, "a": 2}]
	args := []byte{0x84, 0x01, 0x40, 0xf9, 0x3c, 0x00, 0xa2, 0x61, 'a', 0x01, 0x61, 'a', 0x02}
	if err := mix.Invoke(mf.hero, ServerCaller(), args); !errors.Is(err, ErrBadArgs) {
		t.Fatalf("duplicate keys accepted: %v", err)
	}
}

func TestInvokePanicAndErrors(t *testing.T) {
	mf := newMethodFixture(t)
	err := mf.w.Call(mf.hero.ID(), "Boom", ServerCaller(), mustArgs(t, 1))
	var pe *PanicError
	if !errors.Is(err, ErrMethodPanic) || !errors.As(err, &pe) || pe.Where != "hero.Boom" || pe.Entity != mf.hero.ID() || len(pe.Stack) == 0 {
		t.Fatalf("panic err = %v", err)
	}
	if err := mf.w.Call(mf.hero.ID(), "Fail", ServerCaller(), nil); err == nil || err.Error() != "nope" {
		t.Fatalf("method error = %v", err)
	}
	if err := mf.w.Call(mf.hero.ID(), "Nope", ServerCaller(), nil); !errors.Is(err, ErrNoMethod) {
		t.Fatalf("unknown method: %v", err)
	}
	if err := mf.w.Call(MakeEntityID(9, 9), "Ping", ServerCaller(), nil); !errors.Is(err, ErrNoEntity) {
		t.Fatalf("unknown entity: %v", err)
	}
	ping, _ := mf.hero.Type().LookupMethod("Ping")
	mf.hero.Destroy()
	if err := ping.Invoke(mf.hero, ServerCaller(), nil); !errors.Is(err, ErrNoEntity) {
		t.Fatalf("destroyed entity: %v", err)
	}
}

func TestMethodPermissions(t *testing.T) {
	mf := newMethodFixture(t)
	own := ClientBinding{Gate: 2, Client: MakeClientID(2, 100)}
	mf.hero.SetClient(own)
	server := ServerCaller()
	ownC := ClientCaller(own.Gate, own.Client)
	otherC := ClientCaller(2, MakeClientID(2, 101))
	otherGate := ClientCaller(3, own.Client) // same ClientID, wrong gate
	noID := ClientCaller(2, 0)
	var zero Caller
	tests := []struct {
		method string
		caller Caller
		want   bool
	}{
		{"Give", server, true},
		{"Give", ownC, false},
		{"Say", server, true},
		{"Say", ownC, true},
		{"Say", otherC, false},
		{"Say", otherGate, false},
		{"Ping", ownC, true},
		{"Ping", otherC, true},
		{"Ping", noID, false},
		{"Ping", zero, false},
		{"Give", zero, false},
	}
	for _, tt := range tests {
		m, _ := mf.hero.Type().LookupMethod(tt.method)
		if got := m.Allowed(mf.hero, tt.caller); got != tt.want {
			t.Errorf("%s by %+v: allowed=%v, want %v", tt.method, tt.caller, got, tt.want)
		}
		err := mf.w.Call(mf.hero.ID(), tt.method, tt.caller, mustArgs(t, argsFor(tt.method)...))
		if denied := errors.Is(err, ErrDenied); denied == tt.want {
			t.Errorf("%s by %+v: Call err %v", tt.method, tt.caller, err)
		}
	}
	// An unbound entity has no own client.
	mf.hero.SetClient(ClientBinding{})
	say, _ := mf.hero.Type().LookupMethod("Say")
	if say.Allowed(mf.hero, ClientCaller(0, 0)) || say.Allowed(mf.hero, ownC) {
		t.Fatal("own-client call on an unbound entity")
	}
	if say.Allowed(nil, server) {
		t.Fatal("nil entity allowed")
	}
}

func argsFor(method string) []any {
	switch method {
	case "Give":
		return []any{1, "x"}
	case "Say":
		return []any{"x"}
	}
	return nil
}

func TestMethodMeta(t *testing.T) {
	m := Method2("Give", OwnClient, func(*Entity, Caller, int, string) error { return nil })
	if m.Name() != "Give" || m.Permission() != OwnClient || m.Arity() != 2 || OwnClient.String() != "own-client" {
		t.Fatal("meta")
	}
	if _, err := m.EncodeArgs(1); !errors.Is(err, ErrBadArgs) {
		t.Fatalf("Method.EncodeArgs arity: %v", err)
	}
	if b, err := m.EncodeArgs(1, "a"); err != nil || b[0] != 0x82 {
		t.Fatalf("Method.EncodeArgs: %x %v", b, err)
	}
	if b, _ := EncodeArgs(); len(b) != 1 || b[0] != 0x80 {
		t.Fatalf("EncodeArgs() = %x", b)
	}
	if _, err := EncodeArgs(make(chan int)); err == nil {
		t.Fatal("channel encoded")
	}
	for _, fn := range []func(){
		func() { Method0("", ServerOnly, func(*Entity, Caller) error { return nil }) },
		func() { Method0("x", ServerOnly, nil) },
		func() { Method0("x", Permission(9), func(*Entity, Caller) error { return nil }) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("bad declaration did not panic")
				}
			}()
			fn()
		}()
	}
}

// FuzzInvoke feeds arbitrary bytes to a two-argument method: it must never
// panic, and must either run with decoded arguments or return ErrBadArgs.
func FuzzInvoke(f *testing.F) {
	for _, args := range [][]any{{1, "a"}, {-5, ""}, {1}, {"x", 1}, {1, "a", 2}, {uint64(1 << 63), "z"}, {1.5, "a"}} {
		b, err := EncodeArgs(args...)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0x9f, 0x01, 0x61, 'a', 0xff})
	f.Add([]byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x82, 0xc1, 0x01, 0x61, 'a'})
	f.Add([]byte{0x82, 0x01, 0x7a, 0xff, 0xff, 0xff, 0xff})

	reg := NewRegistry()
	var ran bool
	m := Method2("M", AnyClient, func(e *Entity, c Caller, n int, s string) error { ran = true; return nil })
	if err := reg.RegisterType(NewEntityType("fuzz").Method(m)); err != nil {
		f.Fatal(err)
	}
	w := NewWorld(reg, WorldOptions{IDs: NewIDGen(1, nil)})
	e, err := w.Create("fuzz", CreateOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, args []byte) {
		ran = false
		err := m.Invoke(e, ServerCaller(), args)
		switch {
		case err == nil && !ran:
			t.Fatal("nil error but the method did not run")
		case err != nil && !errors.Is(err, ErrBadArgs):
			t.Fatalf("error not ErrBadArgs: %v", err)
		case err != nil && ran:
			t.Fatal("method ran with bad arguments")
		}
	})
}

func BenchmarkInvoke(b *testing.B) {
	reg := NewRegistry()
	m := Method2("M", AnyClient, func(e *Entity, c Caller, n int, s string) error { return nil })
	if err := reg.RegisterType(NewEntityType("bench").Method(m)); err != nil {
		b.Fatal(err)
	}
	w := NewWorld(reg, WorldOptions{IDs: NewIDGen(1, nil)})
	e, _ := w.Create("bench", CreateOptions{})
	args, _ := EncodeArgs(42, "hello")
	c := ServerCaller()
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Invoke(e, c, args); err != nil {
			b.Fatal(err)
		}
	}
}
