package systems

import (
	"errors"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ecsworld/ecsworld/ecs"
)

func TestRPCDispatch(t *testing.T) {
	env := newTestEnv(t, 0)
	e := env.mob(t, nil, ecs.Vec3{})
	client := ecs.ClientCaller(3, ecs.MakeClientID(3, 7))
	e.SetClient(ecs.ClientBinding{Gate: 3, Client: client.Client})
	other := ecs.ClientCaller(3, ecs.MakeClientID(3, 8))
	server := ecs.ServerCaller()

	tests := []struct {
		name   string
		call   Call
		want   error // nil for OK
		count  func(RPCStats) uint64
		called string // the method body that must have run
		msg    string // the log message of a failure
	}{
		{"ok server", Call{Target: e.ID(), Method: "Hit", Args: mustArgs(t, 42), Caller: server}, nil,
			func(s RPCStats) uint64 { return s.OK }, "Hit", ""},
		{"ok any client", Call{Target: e.ID(), Method: "Poke", Args: mustArgs(t, 1), Caller: other}, nil,
			func(s RPCStats) uint64 { return s.OK }, "Poke", ""},
		{"ok own client", Call{Target: e.ID(), Method: "Mine", Args: mustArgs(t, 2), Caller: client}, nil,
			func(s RPCStats) uint64 { return s.OK }, "Mine", ""},
		{"no entity", Call{Target: ecs.MakeEntityID(1, 999), Method: "Hit", Args: mustArgs(t, 1), Caller: server},
			ecs.ErrNoEntity, func(s RPCStats) uint64 { return s.NoEntity }, "", "rpc: call to unknown entity"},
		{"no method", Call{Target: e.ID(), Method: "Nope", Caller: server}, ecs.ErrNoMethod,
			func(s RPCStats) uint64 { return s.NoMethod }, "", "rpc: call to unknown method"},
		{"denied client on server-only", Call{Target: e.ID(), Method: "Hit", Args: mustArgs(t, 1), Caller: client},
			ecs.ErrDenied, func(s RPCStats) uint64 { return s.Denied }, "", "rpc: call denied"},
		{"denied other client", Call{Target: e.ID(), Method: "Mine", Args: mustArgs(t, 1), Caller: other},
			ecs.ErrDenied, func(s RPCStats) uint64 { return s.Denied }, "", "rpc: call denied"},
		{"denied zero caller", Call{Target: e.ID(), Method: "Poke", Args: mustArgs(t, 1)},
			ecs.ErrDenied, func(s RPCStats) uint64 { return s.Denied }, "", "rpc: call denied"},
		{"bad args type", Call{Target: e.ID(), Method: "Hit", Args: mustArgs(t, "x"), Caller: server},
			ecs.ErrBadArgs, func(s RPCStats) uint64 { return s.BadArgs }, "", "rpc: call with bad arguments"},
		{"bad args arity", Call{Target: e.ID(), Method: "Hit", Args: mustArgs(t, 1, 2), Caller: server},
			ecs.ErrBadArgs, func(s RPCStats) uint64 { return s.BadArgs }, "", "rpc: call with bad arguments"},
		{"bad args garbage", Call{Target: e.ID(), Method: "Hit", Args: []byte{0xff, 0x00}, Caller: server},
			ecs.ErrBadArgs, func(s RPCStats) uint64 { return s.BadArgs }, "", "rpc: call with bad arguments"},
		{"panic", Call{Target: e.ID(), Method: "Boom", Caller: server}, ecs.ErrMethodPanic,
			func(s RPCStats) uint64 { return s.Panics }, "", "rpc: method panicked"},
		{"error", Call{Target: e.ID(), Method: "Fail", Caller: server}, errTestFail,
			func(s RPCStats) uint64 { return s.Errors }, "", "rpc: method failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zap.DebugLevel)
			var replies []error
			var replyIDs []uint64
			r := NewRPC(env.w, RPCOptions{Logger: zap.New(core), Reply: func(c Call, err error) {
				replyIDs = append(replyIDs, c.ID)
				replies = append(replies, err)
			}})
			before := slices.Clone(testHits.Get(e).Calls)
			withID := tc.call
			withID.ID = 77
			r.Enqueue(tc.call) // no reply wanted
			r.Enqueue(withID)
			if r.Len() != 2 {
				t.Fatalf("Len %d", r.Len())
			}
			if err := r.Update(&Tick{World: env.w, N: 1}); err != nil {
				t.Fatal(err)
			}
			if r.Len() != 0 {
				t.Fatalf("queue not drained: %d", r.Len())
			}
			st := r.Stats()
			if tc.count(st) != 2 || st.Total() != 2 {
				t.Fatalf("stats %+v, want 2 in the case's counter", st)
			}
			if !slices.Equal(replyIDs, []uint64{77}) {
				t.Fatalf("replies for %v, want only call 77", replyIDs)
			}
			if tc.want == nil {
				if replies[0] != nil {
					t.Fatalf("reply error %v", replies[0])
				}
			} else if !errors.Is(replies[0], tc.want) {
				t.Fatalf("reply error %v, want %v", replies[0], tc.want)
			}
			calls := testHits.Get(e).Calls[len(before):]
			if tc.called != "" {
				if !slices.Equal(calls, []string{tc.called, tc.called}) {
					t.Fatalf("bodies run %v, want %s twice", calls, tc.called)
				}
			} else if len(calls) != 0 {
				t.Fatalf("bodies run %v on a failed call", calls)
			}
			lines := logs.All()
			if tc.want == nil {
				if len(lines) != 0 {
					t.Fatalf("successful calls logged %v", lines)
				}
				return
			}
			if len(lines) != 2 {
				t.Fatalf("%d log lines, want 2", len(lines))
			}
			for _, l := range lines {
				if l.Message != tc.msg {
					t.Fatalf("log message %q, want %q", l.Message, tc.msg)
				}
				f := l.ContextMap()
				if f["method"] != tc.call.Method || f["target"] != tc.call.Target.String() ||
					f["caller"] != tc.call.Caller.Kind.String() || f["error"] == nil {
					t.Fatalf("log fields %v", f)
				}
				if tc.call.Caller.Kind == ecs.CallerClient && f["client"] != tc.call.Caller.Client.String() {
					t.Fatalf("client caller logged without its client: %v", f)
				}
				if tc.msg == "rpc: method panicked" && (l.Level != zap.ErrorLevel || f["stack"] == nil) {
					t.Fatalf("panic logged at %v without a stack: %v", l.Level, f)
				}
			}
		})
	}
	if args := testHits.Get(e).Args; !slices.Equal(args[:2], []int{42, 42}) {
		t.Fatalf("Hit got args %v, want 42 decoded", args)
	}
}

func TestRPCCallsQueuedDuringDispatchRunNextTick(t *testing.T) {
	env := newTestEnv(t, 0)
	e := env.mob(t, nil, ecs.Vec3{})
	r := NewRPC(env.w, RPCOptions{})
	// A reply sink that panics must not lose the rest of the queue.
	r.SetReplySink(func(c Call, err error) {
		r.Enqueue(Call{Target: e.ID(), Method: "Tick", Args: mustArgs(t, int(c.ID)), Caller: ecs.ServerCaller()})
		panic("sink")
	})
	for i := 1; i <= 3; i++ {
		r.Enqueue(Call{Target: e.ID(), Method: "Hit", Args: mustArgs(t, i), Caller: ecs.ServerCaller(), ID: uint64(i)})
	}
	s := NewScheduler(env.w, Stages{RPC: r}, SchedulerOptions{})
	s.RunTick(time.Now())
	if got := testHits.Get(e).Calls; !slices.Equal(got, []string{"Hit", "Hit", "Hit"}) {
		t.Fatalf("tick 1 ran %v", got)
	}
	if r.Len() != 3 {
		t.Fatalf("%d calls queued for next tick, want 3", r.Len())
	}
	r.SetReplySink(nil)
	s.RunTick(time.Now())
	if got := testHits.Get(e).Args; !slices.Equal(got, []int{1, 2, 3, 1, 2, 3}) {
		t.Fatalf("args %v", got)
	}
	if err := r.Dispatch(Call{Target: e.ID(), Method: "Nope", Caller: ecs.ServerCaller()}); !errors.Is(err, ecs.ErrNoMethod) {
		t.Fatalf("Dispatch: %v", err)
	}
	if st := r.Stats(); st.OK != 6 || st.NoMethod != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestRPCLogIsSampledPerFailureKind floods the stage with one kind of bad
// call: every call is counted, the log gets only a sample of them, and a
// different failure after the flood is still logged.
func TestRPCLogIsSampledPerFailureKind(t *testing.T) {
	env := newTestEnv(t, 0)
	e := env.mob(t, nil, ecs.Vec3{})
	core, logs := observer.New(zap.DebugLevel)
	r := NewRPC(env.w, RPCOptions{Logger: zap.New(core)})
	bad := ecs.ClientCaller(1, ecs.MakeClientID(1, 1))
	for range 1000 {
		r.Enqueue(Call{Target: e.ID(), Method: "Hit", Args: mustArgs(t, 1), Caller: bad}) // server only
	}
	r.Enqueue(Call{Target: ecs.MakeEntityID(1, 12345), Method: "Hit", Caller: ecs.ServerCaller()})
	if err := r.Update(&Tick{World: env.w, N: 1}); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Denied != 1000 || st.NoEntity != 1 || st.Total() != 1001 {
		t.Fatalf("stats %+v", st)
	}
	if n := logs.FilterMessage("rpc: call denied").Len(); n < logFirst || n >= 100 {
		t.Fatalf("%d lines for 1000 denied calls, want a sample", n)
	}
	if n := logs.FilterMessage("rpc: call to unknown entity").Len(); n != 1 {
		t.Fatalf("%d lines for the unknown entity after the flood, want 1", n)
	}
	if calls := testHits.Get(e).Calls; len(calls) != 0 {
		t.Fatalf("denied calls ran: %v", calls)
	}
}

// TestRPCFailuresDoNotStopTheTick queues every kind of failure between
// good calls: the good ones all run, in queue order, and the stages after
// RPC still run in the same tick.
func TestRPCFailuresDoNotStopTheTick(t *testing.T) {
	env := newTestEnv(t, 0)
	e := env.mob(t, nil, ecs.Vec3{})
	r := NewRPC(env.w, RPCOptions{})
	server := ecs.ServerCaller()
	client := ecs.ClientCaller(1, ecs.MakeClientID(1, 1))
	good := func(n int) Call { return Call{Target: e.ID(), Method: "Hit", Args: mustArgs(t, n), Caller: server} }
	for _, c := range []Call{
		good(1),
		{Target: ecs.MakeEntityID(9, 9), Method: "Hit", Args: mustArgs(t, 0), Caller: server},
		good(2),
		{Target: e.ID(), Method: "Nope", Caller: server},
		good(3),
		{Target: e.ID(), Method: "Hit", Args: mustArgs(t, 0), Caller: client},
		good(4),
		{Target: e.ID(), Method: "Hit", Args: []byte{0x82, 0x01}, Caller: server},
		good(5),
		{Target: e.ID(), Method: "Boom", Caller: server},
		good(6),
		{Target: e.ID(), Method: "Fail", Caller: server},
		good(7),
	} {
		r.Enqueue(c)
	}
	after := false
	s := NewScheduler(env.w, Stages{RPC: r, Movement: SystemFunc("after", func(*Tick) error { after = true; return nil })},
		SchedulerOptions{})
	s.RunTick(time.Unix(0, 0))
	if got := testHits.Get(e).Args; !slices.Equal(got, []int{1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("good calls ran with %v, want 1..7 in order", got)
	}
	want := RPCStats{OK: 7, NoEntity: 1, NoMethod: 1, Denied: 1, BadArgs: 1, Panics: 1, Errors: 1}
	if st := r.Stats(); st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	if !after {
		t.Fatal("the stage after RPC did not run")
	}
	if st := s.Stats().Systems[0]; st.Errors != 0 || st.Panics != 0 {
		t.Fatalf("the RPC stage itself failed: %+v", st)
	}
}
