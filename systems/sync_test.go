package systems

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/ecs"
)

// syncEnv is a world with a space type, a "hero" type (AOI radius 10,
// attributes of each visibility) and the movement, AOI and sync stages.
type syncEnv struct {
	w     *ecs.World
	aoi   *AOI
	sync  *Sync
	sched *Scheduler
	space *ecs.Entity
	now   time.Time
}

func newSyncEnv(t testing.TB, posEvery int) *syncEnv {
	t.Helper()
	reg := ecs.NewRegistry()
	space := ecs.NewEntityType("syncSpace").Space()
	hero := ecs.NewEntityType("syncHero").AOI(10).
		Attr("name", ecs.AttrAllClients).
		Attr("gold", ecs.AttrOwnClient).
		Attr("bag", ecs.AttrAllClients)
	for _, typ := range []*ecs.EntityType{space, hero} {
		if err := reg.RegisterType(typ); err != nil {
			t.Fatal(err)
		}
	}
	env := &syncEnv{now: time.Unix(1700000000, 0)}
	env.w = ecs.NewWorld(reg, ecs.WorldOptions{IDs: ecs.NewIDGen(1, nil)})
	env.aoi = NewAOI(env.w, AOIOptions{Workers: 1})
	env.sync = NewSync(env.w, SyncOptions{AOI: env.aoi, PositionEvery: posEvery, SweepEvery: -1})
	env.sched = NewScheduler(env.w, Stages{Movement: NewMovement(env.w), AOI: env.aoi, Sync: env.sync},
		SchedulerOptions{Interval: 50 * time.Millisecond})
	s, err := env.w.Create("syncSpace", ecs.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env.space = s
	return env
}

func (env *syncEnv) hero(t *testing.T, x float32, attrs map[string]any) *ecs.Entity {
	t.Helper()
	e, err := env.w.Create("syncHero", ecs.CreateOptions{Pos: ecs.Vec3{X: x}, Space: env.space, Attrs: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// bind binds e to client c of gate g and tells the stage.
func (env *syncEnv) bind(e *ecs.Entity, g uint16, c uint64) ecs.ClientBinding {
	b := ecs.ClientBinding{Gate: g, Client: ecs.ClientID(c)}
	e.SetClient(b)
	env.sync.Notice(e)
	return b
}

func (env *syncEnv) tick() *SyncOutput {
	env.now = env.now.Add(50 * time.Millisecond)
	env.sched.RunTick(env.now)
	return env.sync.Output()
}

// sent is a frame flattened for assertions.
type sent struct {
	kind   SyncFrameKind
	entity ecs.EntityID
	player bool
	to     []ecs.ClientID // all gates, in group order
}

// flatten lists the clients of every group, sorted (deltas and positions
// list a gate's clients in no particular order).
func flatten(gs []SyncGroup) []ecs.ClientID {
	var out []ecs.ClientID
	for _, g := range gs {
		out = append(out, g.Clients...)
	}
	slices.Sort(out)
	return out
}

func frames(out *SyncOutput) []sent {
	var r []sent
	for _, f := range out.Frames {
		r = append(r, sent{f.Kind, f.ID, f.IsPlayer, flatten(f.To)})
	}
	return r
}

func findFrame(out *SyncOutput, kind SyncFrameKind, id ecs.EntityID) *SyncFrame {
	for i := range out.Frames {
		if out.Frames[i].Kind == kind && out.Frames[i].ID == id {
			return &out.Frames[i]
		}
	}
	return nil
}

func TestSyncBindSendsPlayerAndNeighbours(t *testing.T) {
	env := newSyncEnv(t, 1)
	a := env.hero(t, 0, map[string]any{"name": "a", "gold": 5})
	m := env.hero(t, 5, map[string]any{"name": "m", "gold": 7})
	far := env.hero(t, 100, nil)
	env.tick() // AOI settles, nobody bound

	env.bind(a, 1, 11)
	out := env.tick()
	want := []sent{
		{SyncCreate, a.ID(), true, []ecs.ClientID{11}},
		{SyncCreate, m.ID(), false, []ecs.ClientID{11}},
	}
	if got := frames(out); !reflect.DeepEqual(got, want) {
		t.Fatalf("frames = %+v, want %+v", got, want)
	}
	if p := findFrame(out, SyncCreate, a.ID()); !reflect.DeepEqual(p.Attrs, map[string]any{"name": "a", "gold": int64(5)}) {
		t.Errorf("player attrs = %v, want name and gold", p.Attrs)
	}
	if c := findFrame(out, SyncCreate, m.ID()); !reflect.DeepEqual(c.Attrs, map[string]any{"name": "m"}) {
		t.Errorf("neighbour attrs = %v, want name only (gold is own-client)", c.Attrs)
	}
	if len(out.Bindings) != 1 || out.Bindings[0].Entity != a || out.Bindings[0].Client.Client != 11 || out.Bindings[0].Adopted {
		t.Errorf("bindings = %+v", out.Bindings)
	}
	if env.sync.Sees(a.ID(), far.ID()) || !env.sync.Sees(a.ID(), m.ID()) {
		t.Error("view of a is wrong")
	}
	// Nothing changes: nothing is sent.
	if out := env.tick(); !out.Empty() {
		t.Errorf("idle tick sent %+v", frames(out))
	}
}

func TestSyncEnterLeaveAndPositions(t *testing.T) {
	env := newSyncEnv(t, 1)
	a := env.hero(t, 0, nil)
	b := env.hero(t, 200, nil)
	m := env.hero(t, 50, nil)
	env.bind(a, 1, 11)
	env.bind(b, 2, 21)
	env.tick()

	// m walks next to a: a's client gets m's create, b's nothing.
	m.SetPos(ecs.Vec3{X: 3})
	out := env.tick()
	if got, want := frames(out), []sent{{SyncCreate, m.ID(), false, []ecs.ClientID{11}}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("enter frames = %+v, want %+v", got, want)
	}
	// Created this tick: no position record for m to a's client.
	for _, p := range out.Positions {
		if p.ID == m.ID() {
			t.Errorf("position of m sent in its create tick to %v", flatten(p.To))
		}
	}

	// m moves within range: a's client gets its position once.
	m.SetPos(ecs.Vec3{X: 4})
	out = env.tick()
	if len(out.Frames) != 0 {
		t.Errorf("frames on a move in range: %+v", frames(out))
	}
	if len(out.Positions) != 1 || out.Positions[0].ID != m.ID() || out.Positions[0].Pos.X != 4 ||
		!reflect.DeepEqual(out.Positions[0].To, []SyncGroup{{Gate: 1, Clients: []ecs.ClientID{11}}}) {
		t.Errorf("positions = %+v", out.Positions)
	}

	// a moves (server side): its own client and m (unbound: nobody) see it.
	a.SetPos(ecs.Vec3{X: 1})
	out = env.tick()
	if len(out.Positions) != 1 || out.Positions[0].ID != a.ID() || !slices.Equal(flatten(out.Positions[0].To), []ecs.ClientID{11}) {
		t.Errorf("own position = %+v", out.Positions)
	}
	// The client moved a itself: not echoed back.
	a.SetPos(ecs.Vec3{X: 2})
	env.sync.ClientMoved(a)
	if out = env.tick(); len(out.Positions) != 0 {
		t.Errorf("client move echoed: %+v", out.Positions)
	}

	// m walks to b: destroy for a's client, create for b's, on their gates.
	m.SetPos(ecs.Vec3{X: 195})
	out = env.tick()
	want := []sent{
		{SyncDestroy, m.ID(), false, []ecs.ClientID{11}},
		{SyncCreate, m.ID(), false, []ecs.ClientID{21}},
	}
	if got := frames(out); !reflect.DeepEqual(got, want) {
		t.Fatalf("switch frames = %+v, want %+v", got, want)
	}
	if out.Frames[1].To[0].Gate != 2 {
		t.Errorf("create for b's client on gate %d, want 2", out.Frames[1].To[0].Gate)
	}
}

func TestSyncSharedFrameForSeveralClients(t *testing.T) {
	env := newSyncEnv(t, 1)
	a := env.hero(t, 0, nil)
	b := env.hero(t, 2, nil)
	c := env.hero(t, -2, nil)
	m := env.hero(t, 60, map[string]any{"name": "m"})
	env.bind(a, 1, 11)
	env.bind(b, 1, 12)
	env.bind(c, 2, 21)
	env.tick()

	m.SetPos(ecs.Vec3{X: 1})
	out := env.tick()
	f := findFrame(out, SyncCreate, m.ID())
	if f == nil {
		t.Fatalf("no create of m: %+v", frames(out))
	}
	want := []SyncGroup{{Gate: 1, Clients: []ecs.ClientID{11, 12}}, {Gate: 2, Clients: []ecs.ClientID{21}}}
	if !reflect.DeepEqual(f.To, want) {
		t.Errorf("create of m to %+v, want one frame for %+v", f.To, want)
	}
	if n := len(out.Frames); n != 1 {
		t.Errorf("%d frames, want 1: %+v", n, frames(out))
	}
}

func TestSyncAttrDeltasByFlag(t *testing.T) {
	env := newSyncEnv(t, 1)
	a := env.hero(t, 0, map[string]any{"name": "a", "gold": 1})
	b := env.hero(t, 3, map[string]any{"name": "b", "gold": 2, "bag": []any{"x", "y"}})
	env.bind(a, 1, 11)
	env.bind(b, 1, 12)
	env.tick()

	tests := []struct {
		name   string
		change func()
		want   []sent
		check  func(t *testing.T, out *SyncOutput)
	}{
		{"all-clients key goes to watchers and owner", func() { b.Attrs().Set("name", "bee") },
			[]sent{{SyncAttrs, b.ID(), false, []ecs.ClientID{11, 12}}}, nil},
		{"own-client key goes to the owner only", func() { b.Attrs().Set("gold", 3) },
			[]sent{{SyncAttrs, b.ID(), false, []ecs.ClientID{12}}}, nil},
		{"undeclared key goes nowhere", func() { b.Attrs().Set("secret", 1) }, nil, nil},
		{"both kinds: two frames", func() { a.Attrs().Set("name", "ay"); a.Attrs().Set("gold", 9) },
			[]sent{{SyncAttrs, a.ID(), false, []ecs.ClientID{11, 12}}, {SyncAttrs, a.ID(), false, []ecs.ClientID{11}}}, nil},
		{"pop becomes a set of the whole key", func() { b.Attrs().List("bag").Pop() },
			[]sent{{SyncAttrs, b.ID(), false, []ecs.ClientID{11, 12}}},
			func(t *testing.T, out *SyncOutput) {
				want := []ecs.AttrChange{{Path: []any{"bag"}, Op: ecs.AttrSet, Value: []any{"x"}}}
				if got := out.Frames[0].Changes; !reflect.DeepEqual(got, want) {
					t.Errorf("changes = %+v, want %+v", got, want)
				}
			}},
		{"nested set keeps its path", func() { b.Attrs().Map("name2"); b.Attrs().List("bag").Set(0, "z") },
			[]sent{{SyncAttrs, b.ID(), false, []ecs.ClientID{11, 12}}},
			func(t *testing.T, out *SyncOutput) {
				want := []ecs.AttrChange{{Path: []any{"bag", 0}, Op: ecs.AttrSet, Value: "z"}}
				if got := out.Frames[0].Changes; !reflect.DeepEqual(got, want) {
					t.Errorf("changes = %+v, want %+v", got, want)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.change()
			out := env.tick()
			if got := frames(out); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("frames = %+v, want %+v", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
}

func TestSyncNoDeltaInCreateTick(t *testing.T) {
	env := newSyncEnv(t, 1)
	a := env.hero(t, 0, nil)
	m := env.hero(t, 50, map[string]any{"bag": []any{}})
	env.bind(a, 1, 11)
	env.tick()

	m.SetPos(ecs.Vec3{X: 1})
	m.Attrs().List("bag").Append("sword")
	out := env.tick()
	if got, want := frames(out), []sent{{SyncCreate, m.ID(), false, []ecs.ClientID{11}}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("frames = %+v, want only the create", got)
	}
	if f := out.Frames[0]; !reflect.DeepEqual(f.Attrs, map[string]any{"bag": []any{"sword"}}) {
		t.Errorf("create attrs = %v, want the appended bag", f.Attrs)
	}
}

func TestSyncUnbindings(t *testing.T) {
	env := newSyncEnv(t, 1)
	a := env.hero(t, 0, nil)
	m := env.hero(t, 5, nil)
	b := env.hero(t, 300, nil)
	c := env.hero(t, 600, nil)
	n := env.hero(t, 604, nil)
	ba := env.bind(a, 1, 11)
	env.bind(b, 1, 12)
	env.bind(c, 1, 13)
	env.tick()

	// a's client disconnects: nothing is sent to it, a is no longer followed.
	env.sync.ClientGone(ba)
	a.SetClient(ecs.ClientBinding{})
	out := env.tick()
	if len(out.Frames) != 0 {
		t.Errorf("frames to a gone client: %+v", frames(out))
	}
	if env.sync.Sees(a.ID(), m.ID()) {
		t.Error("a still followed")
	}

	// b is destroyed: its client loses b.
	b.Destroy()
	out = env.tick()
	if got, want := frames(out), []sent{{SyncDestroy, b.ID(), false, []ecs.ClientID{12}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("destroyed player frames = %+v, want %+v", got, want)
	}

	// c migrates away: its view goes with it (what c saw), and this stage
	// sends its client nothing more.
	v := env.sync.Migrating(c)
	if want := (SyncView{Held: true, Shown: []ecs.EntityID{n.ID()}}); !reflect.DeepEqual(v, want) {
		t.Errorf("migrated view = %+v, want %+v", v, want)
	}
	c.Destroy()
	out = env.tick()
	if got := frames(out); len(got) != 0 {
		t.Errorf("migrated player frames = %+v, want none", got)
	}
}

func TestSyncGiveClientToAnotherEntity(t *testing.T) {
	env := newSyncEnv(t, 1)
	acct, err := env.w.Create("syncHero", ecs.CreateOptions{}) // outside any space
	if err != nil {
		t.Fatal(err)
	}
	b := env.bind(acct, 1, 11)
	env.tick()
	avatar := env.hero(t, 0, nil)
	m := env.hero(t, 4, nil)
	acct.SetClient(ecs.ClientBinding{})
	avatar.SetClient(b)
	env.sync.Notice(avatar)
	out := env.tick()
	want := []sent{
		{SyncDestroy, acct.ID(), false, []ecs.ClientID{11}},
		{SyncCreate, avatar.ID(), true, []ecs.ClientID{11}},
		{SyncCreate, m.ID(), false, []ecs.ClientID{11}},
	}
	if got := frames(out); !reflect.DeepEqual(got, want) {
		t.Fatalf("frames = %+v, want %+v", got, want)
	}
	if id, ok := env.sync.EntityOf(11); !ok || id != avatar.ID() {
		t.Errorf("EntityOf(11) = %v, %v", id, ok)
	}
}

func TestSyncAdoptAndSweep(t *testing.T) {
	env := newSyncEnv(t, 1)
	env.sync.opts.SweepEvery = 1
	m := env.hero(t, 4, nil)
	e, err := env.w.Create("syncHero", ecs.CreateOptions{Pos: ecs.Vec3{}, Space: env.space,
		Client: ecs.ClientBinding{Gate: 3, Client: 31}, Restore: true})
	if err != nil {
		t.Fatal(err)
	}
	env.sync.Adopt(e, SyncView{Held: true})
	out := env.tick()
	if got, want := frames(out), []sent{{SyncCreate, m.ID(), false, []ecs.ClientID{31}}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("adopted frames = %+v, want neighbours only", got)
	}
	if len(out.Bindings) != 1 || !out.Bindings[0].Adopted {
		t.Errorf("bindings = %+v", out.Bindings)
	}
	// Its client learns where it arrived.
	if len(out.Positions) != 1 || out.Positions[0].ID != e.ID() || !slices.Equal(flatten(out.Positions[0].To), []ecs.ClientID{31}) {
		t.Errorf("adopted positions = %+v", out.Positions)
	}
	// A binding made without Notice is found by the sweep.
	m.SetClient(ecs.ClientBinding{Gate: 3, Client: 32})
	out = env.tick()
	if f := findFrame(out, SyncCreate, m.ID()); f == nil || !f.IsPlayer {
		t.Errorf("sweep did not find m's binding: %+v", frames(out))
	}
}

func TestSyncPositionEvery(t *testing.T) {
	env := newSyncEnv(t, 3)
	a := env.hero(t, 0, nil)
	m := env.hero(t, 5, nil)
	env.bind(a, 1, 11)
	for env.sched.LastTick()%3 != 0 {
		env.tick()
	}
	var got []float32
	for i := range 6 {
		m.SetPos(ecs.Vec3{X: float32(5 + i%2)})
		for _, p := range env.tick().Positions {
			got = append(got, p.Pos.X)
		}
	}
	// Two sends in six ticks, each with the latest position (moves at
	// ticks +2 and +3 of the first window, +1..+3 of the second).
	if want := []float32{5, 6}; !slices.Equal(got, want) {
		t.Errorf("positions sent = %v, want %v", got, want)
	}
}
