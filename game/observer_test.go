package game

import (
	"context"
	"testing"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/netproto"
)

// view is one decoded observer frame.
type view struct {
	seq, space  uint64
	stype       string
	part, parts uint64
	types       []string
	recs        []netproto.ObserverRecord
}

func decodeView(t *testing.T, c *netproto.Codec, cc *netproto.CallClient) view {
	t.Helper()
	if cc.Method != netproto.ObserveMethod || cc.Entity != 0 {
		t.Fatalf("view frame %+v", cc)
	}
	args, err := c.DecodeArgs(cc.Args)
	if err != nil || len(args) != 7 {
		t.Fatalf("view args %v (%d), err %v", args, len(args), err)
	}
	var v view
	var ok [7]bool
	v.seq, ok[0] = args[0].(uint64)
	v.space, ok[1] = args[1].(uint64)
	v.stype, ok[2] = args[2].(string)
	v.part, ok[3] = args[3].(uint64)
	v.parts, ok[4] = args[4].(uint64)
	ts, ok5 := args[5].([]any)
	ok[5] = ok5
	for _, x := range ts {
		s, _ := x.(string)
		v.types = append(v.types, s)
	}
	b, ok6 := args[6].([]byte)
	ok[6] = ok6
	for i, o := range ok {
		if !o {
			t.Fatalf("view arg %d has type %T", i, args[i])
		}
	}
	if v.recs, err = netproto.ParseObserverRecords(b, len(v.types)); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGameObserverViews(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	fd := newFakeDispatcher(t, ctx)
	tw := newTestWorld()
	g := startGame(t, ctx, testConfig(1, fd.addr()), tw.setup())
	fd.waitHello(t, 1)

	// An arena with more mobs than one frame holds, and one mob elsewhere.
	const mobs = observeRecordsPerFrame + 10
	arena := do(t, g, func(g *Game) ecs.EntityID {
		a, err := g.Create("Arena", ecs.CreateOptions{})
		if err != nil {
			t.Error(err)
			return 0
		}
		for i := range mobs {
			if _, err := g.Create("Mob", ecs.CreateOptions{Space: a, Pos: ecs.Vec3{X: float32(i), Z: -float32(i)}}); err != nil {
				t.Error(err)
			}
		}
		return a.ID()
	})

	const gate, obs = 7, uint64(7<<48 | 9)
	fd.send(1, &netproto.ClientConnected{Gate: gate, Client: obs, BootType: netproto.ObserverBootType})
	eventually(t, "observer registered", func() bool { return g.Stats().Observers == 1 })

	// Collect one whole round: every part of the arena's view, all of seq.
	got := map[uint64]netproto.ObserverRecord{}
	parts := map[uint64]bool{}
	var seq uint64
	for len(parts) == 0 || uint64(len(parts)) < 2 {
		msgs, _ := fd.batchWith(t, 1, gate, "an observer view", func(cm clientMsg) bool {
			cc, ok := cm.msg.(*netproto.CallClient)
			return ok && cc.Method == netproto.ObserveMethod
		})
		for _, cm := range msgs {
			cc, ok := cm.msg.(*netproto.CallClient)
			if !ok || cc.Method != netproto.ObserveMethod {
				continue
			}
			if len(cm.clients) != 1 || cm.clients[0] != obs {
				t.Fatalf("view sent to %x, want the observer only", cm.clients)
			}
			v := decodeView(t, fd.codec, cc)
			if v.space != uint64(arena) || v.stype != "Arena" || v.parts != 2 {
				t.Fatalf("view of space %x %q in %d parts, want the arena in 2", v.space, v.stype, v.parts)
			}
			if len(v.recs) > observeRecordsPerFrame {
				t.Fatalf("%d records in one frame", len(v.recs))
			}
			if seq != v.seq {
				seq, parts, got = v.seq, map[uint64]bool{}, map[uint64]netproto.ObserverRecord{}
			}
			parts[v.part] = true
			for _, r := range v.recs {
				if v.types[r.Type] != "Mob" {
					t.Errorf("record of type %q", v.types[r.Type])
				}
				got[r.Entity] = r
			}
		}
	}
	if len(got) != mobs {
		t.Fatalf("a round showed %d entities, want %d", len(got), mobs)
	}
	for _, r := range got {
		if r.X != -r.Z || r.Radius != 10 {
			t.Errorf("record %+v: want X = -Z and radius 10", r)
		}
	}
	if g.Stats().ObserverFrames < 2 {
		t.Errorf("ObserverFrames %d", g.Stats().ObserverFrames)
	}
	// No boot entity, no binding for an observer.
	if n := g.Stats().Clients; n != 0 {
		t.Errorf("Clients %d, want 0", n)
	}

	// It leaves: the views stop; it comes back and its gate dies: also.
	fd.send(1, &netproto.ClientDisconnected{Gate: gate, Client: obs})
	eventually(t, "observer gone", func() bool { return g.Stats().Observers == 0 })
	fd.send(1, &netproto.ClientConnected{Gate: gate, Client: obs + 1, BootType: netproto.ObserverBootType})
	eventually(t, "observer back", func() bool { return g.Stats().Observers == 1 })
	fd.send(1, &netproto.GateDown{Gate: gate})
	eventually(t, "observers of the gate gone", func() bool { return g.Stats().Observers == 0 })
	if n := g.Stats().Refused; n != 0 {
		t.Errorf("Refused %d, want 0", n)
	}
}

func TestGameObserverCap(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	fd := newFakeDispatcher(t, ctx)
	g := startGame(t, ctx, testConfig(1, fd.addr()), newTestWorld().setup())
	fd.waitHello(t, 1)
	const gate = 7
	for i := range MaxObservers + 1 {
		fd.send(1, &netproto.ClientConnected{Gate: gate, Client: uint64(gate)<<48 | uint64(i+1), BootType: netproto.ObserverBootType})
	}
	k := fd.expect(t, 1, "KickClient", func(m netproto.Message) bool { _, ok := m.(*netproto.KickClient); return ok }).(*netproto.KickClient)
	if k.Client != uint64(gate)<<48|uint64(MaxObservers+1) {
		t.Errorf("kicked %x, want the last observer", k.Client)
	}
	if n := g.Stats().Observers; n != MaxObservers {
		t.Errorf("Observers %d, want %d", n, MaxObservers)
	}
}
