package snapshot_test

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/snapshot"
	"github.com/ecsworld/ecsworld/systems"
)

// The component kinds of the random worlds: a struct of every field kind,
// a toarray struct, a named scalar, a slice and a map.
type Inner struct {
	A int16    `cbor:"1,keyasint"`
	B []string `cbor:"2,keyasint"`
}

type Rich struct {
	I     int64              `cbor:"1,keyasint"`
	U     uint32             `cbor:"2,keyasint"`
	F     float64            `cbor:"3,keyasint"`
	F32   float32            `cbor:"4,keyasint"`
	S     string             `cbor:"5,keyasint"`
	Bs    []byte             `cbor:"6,keyasint"`
	B     bool               `cbor:"7,keyasint"`
	L     []int              `cbor:"8,keyasint"`
	M     map[string]float64 `cbor:"9,keyasint"`
	In    Inner              `cbor:"10,keyasint"`
	P     *Inner             `cbor:"11,keyasint"`
	T     time.Time          `cbor:"12,keyasint"`
	Any   any                `cbor:"13,keyasint"`
	Arr   [3]uint8           `cbor:"14,keyasint"`
	Named string             // no tag: keyed by its name
}

type Pair struct {
	_ struct{} `cbor:",toarray"`
	X int
	Y string
}

type Score int64

type Tags []string

type Inventory map[string]int32

// schema is one registry of the test worlds; each test makes its own,
// over the same component descriptors.
type schema struct {
	reg   *ecs.Registry
	rich  *ecs.ComponentType[Rich]
	pair  *ecs.ComponentType[Pair]
	score *ecs.ComponentType[Score]
	tags  *ecs.ComponentType[Tags]
	inv   *ecs.ComponentType[Inventory]
	extra *ecs.ComponentType[Inner] // registered, on no type: added at run time
}

var (
	richC  = ecs.NewComponent[Rich]("rich")
	pairC  = ecs.NewComponent[Pair]("pair")
	scoreC = ecs.NewComponent[Score]("score")
	tagsC  = ecs.NewComponent[Tags]("tags")
	invC   = ecs.NewComponent[Inventory]("inventory")
	extraC = ecs.NewComponent[Inner]("extra")
)

func ping(e *ecs.Entity, _ ecs.Caller, n int) error { return nil }

func newSchema(t testing.TB) *schema {
	t.Helper()
	reg := ecs.NewRegistry()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(reg.RegisterType(ecs.NewEntityType("zone").Space().With(scoreC)))
	must(reg.RegisterType(ecs.NewEntityType("mob").With(richC, pairC).AOI(30).
		Method(ecs.Method1("Ping", ecs.ServerOnly, ping))))
	must(reg.RegisterType(ecs.NewEntityType("player").With(scoreC, tagsC, invC).AOI(50).
		Attr("name", ecs.AttrAllClients).
		Method(ecs.Method1("Ping", ecs.ServerOnly, ping))))
	must(reg.RegisterType(ecs.NewEntityType("rock")))
	must(reg.RegisterComponent(extraC))
	return &schema{reg: reg, rich: richC, pair: pairC, score: scoreC, tags: tagsC, inv: invC, extra: extraC}
}

// game is a world with the systems a snapshot has to agree with.
type game struct {
	w      *ecs.World
	aoi    *systems.AOI
	timers *systems.Timers
	tick   uint64
}

func newGame(reg *ecs.Registry) *game {
	w := ecs.NewWorld(reg, ecs.WorldOptions{IDs: ecs.NewIDGen(7, nil)})
	return &game{w: w, aoi: systems.NewAOI(w, systems.AOIOptions{Workers: 1}), timers: systems.NewTimers(w, systems.TimerOptions{})}
}

// step runs one tick of the stages that matter here: timers and AOI.
func (g *game) step(t testing.TB) {
	t.Helper()
	g.tick++
	tk := &systems.Tick{World: g.w, N: g.tick, Dt: 0.1}
	g.timers.BeginTick(tk)
	if err := g.timers.Update(tk); err != nil {
		t.Fatal(err)
	}
	if err := g.aoi.Update(tk); err != nil {
		t.Fatal(err)
	}
	g.aoi.EndTick(tk)
	g.timers.EndTick(tk)
	g.w.ResetTick()
}

func (g *game) state() *snapshot.State {
	st := &snapshot.State{GameID: 7, Tick: g.tick, Time: time.Unix(1_800_000_000, 0), NextTimerID: uint64(g.timers.NextID())}
	for _, tm := range g.timers.All() {
		st.Timers = append(st.Timers, snapshot.Timer{ID: uint64(tm.ID), Entity: tm.Entity, Method: tm.Method, Args: tm.Args, Due: tm.Due, Repeat: tm.Repeat})
	}
	return st
}

// restoreGame does what a restored game does with a Restored.
func restoreGame(t testing.TB, r *snapshot.Restored) *game {
	t.Helper()
	g := &game{w: r.World, tick: r.Header.Tick,
		aoi: systems.NewAOI(r.World, systems.AOIOptions{Workers: 1}), timers: systems.NewTimers(r.World, systems.TimerOptions{})}
	var list []systems.Timer
	for _, tm := range r.Timers {
		list = append(list, systems.Timer{ID: systems.TimerID(tm.ID), Entity: tm.Entity, Method: tm.Method, Args: tm.Args, Due: tm.Due, Repeat: tm.Repeat})
	}
	if err := g.timers.Restore(list, systems.TimerID(r.Header.NextTimerID)); err != nil {
		t.Fatal(err)
	}
	g.timers.SetNow(r.Header.Tick)
	for _, s := range r.World.Spaces() {
		if err := g.aoi.RebuildSilent(s); err != nil {
			t.Fatal(err)
		}
	}
	r.World.ResetTick()
	return g
}

func randString(rng *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyzé世"
	rs := []rune(letters)
	n := rng.IntN(12)
	out := make([]rune, n)
	for i := range out {
		out[i] = rs[rng.IntN(len(rs))]
	}
	return string(out)
}

func randFloat(rng *rand.Rand) float64 {
	switch rng.IntN(4) {
	case 0:
		return float64(rng.IntN(200) - 100) // exact in a half float
	case 1:
		return float64(float32(rng.NormFloat64())) // exact in a single
	case 2:
		return math.Inf(1 - 2*rng.IntN(2))
	}
	return rng.NormFloat64() * 1e6
}

// randAttr returns a random plain attribute value; containers only while
// depth allows.
func randAttr(rng *rand.Rand, depth int) any {
	k := rng.IntN(9)
	if depth >= 5 && k >= 7 {
		k = rng.IntN(7)
	}
	switch k {
	case 0:
		return rng.Int64() - math.MaxInt64/2
	case 1:
		return int64(rng.IntN(300) - 150)
	case 2:
		return randFloat(rng)
	case 3:
		return rng.IntN(2) == 0
	case 4:
		return randString(rng)
	case 5:
		b := make([]byte, rng.IntN(6))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	case 6:
		return "enum-" + string(rune('a'+rng.IntN(3)))
	case 7:
		m := map[string]any{}
		for range rng.IntN(4) {
			m[randString(rng)] = randAttr(rng, depth+1)
		}
		return m
	}
	l := []any{}
	for range rng.IntN(4) {
		l = append(l, randAttr(rng, depth+1))
	}
	return l
}

func randVec(rng *rand.Rand, span float32) ecs.Vec3 {
	return ecs.Vec3{X: (rng.Float32()*2 - 1) * span, Y: float32(rng.IntN(3)), Z: (rng.Float32()*2 - 1) * span}
}

func randRich(rng *rand.Rand) Rich {
	r := Rich{
		I: rng.Int64() - math.MaxInt64/2, U: rng.Uint32(), F: randFloat(rng), F32: float32(rng.NormFloat64()),
		S: randString(rng), B: rng.IntN(2) == 0,
		In:  Inner{A: int16(rng.IntN(1000)), B: []string{randString(rng)}},
		T:   time.Unix(1_700_000_000+rng.Int64N(1e8), rng.Int64N(1e9)).UTC(),
		Arr: [3]uint8{uint8(rng.IntN(256)), 0, 9}, Named: randString(rng),
	}
	if rng.IntN(2) == 0 {
		r.Bs = []byte{1, 2, byte(rng.IntN(256))}
		r.L = []int{rng.IntN(10), -rng.IntN(10)}
		r.M = map[string]float64{"a": 1.5, randString(rng): float64(rng.IntN(9))}
		r.P = &Inner{A: -3}
		r.Any = randString(rng)
	}
	return r
}

// randWorld builds a random world of about n entities in several spaces,
// with every kind of component, nested attributes, movement, clients and
// timers in flight, and runs a few ticks so timers have fired and AOI
// has settled.
func randWorld(t testing.TB, s *schema, seed uint64, n int) *game {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	g := newGame(s.reg)
	w := g.w
	var spaces []*ecs.Entity
	for range 1 + rng.IntN(4) {
		sp, err := w.Create("zone", ecs.CreateOptions{Components: []any{Score(rng.IntN(100))}})
		if err != nil {
			t.Fatal(err)
		}
		spaces = append(spaces, sp)
	}
	kinds := []string{"mob", "player", "rock"}
	var ents []*ecs.Entity
	for i := range n {
		kind := kinds[rng.IntN(len(kinds))]
		opts := ecs.CreateOptions{Pos: randVec(rng, 120), Yaw: rng.Float32() * 6}
		if rng.IntN(6) != 0 {
			opts.Space = spaces[rng.IntN(len(spaces))]
		}
		if rng.IntN(2) == 0 {
			attrs := map[string]any{"name": fmt.Sprint("e", i)}
			for range rng.IntN(5) {
				attrs[randString(rng)] = randAttr(rng, 2)
			}
			opts.Attrs = attrs
		}
		switch kind {
		case "mob":
			opts.Components = []any{randRich(rng), Pair{X: rng.IntN(100), Y: randString(rng)}}
		case "player":
			opts.Components = []any{Score(rng.Int64()), Tags{randString(rng)}, Inventory{"gold": rng.Int32()}}
			if rng.IntN(2) == 0 {
				opts.Client = ecs.ClientBinding{Gate: uint16(1 + rng.IntN(3)), Client: ecs.MakeClientID(uint16(1+rng.IntN(3)), uint64(1+i))}
			}
		}
		e, err := w.Create(kind, opts)
		if err != nil {
			t.Fatal(err)
		}
		ents = append(ents, e)
		switch rng.IntN(8) {
		case 0:
			e.SetVelocity(randVec(rng, 3))
		case 1:
			e.SetDestination(randVec(rng, 100), 1+rng.Float32())
		case 2:
			e.SetAOIRadius(float32(rng.IntN(80)))
		case 3:
			s.extra.Set(e, Inner{A: int16(i), B: []string{"x"}}) // a component not on its type
		case 4:
			if kind == "mob" {
				s.pair.Remove(e) // a type component removed
			}
		}
		if kind != "rock" && rng.IntN(3) == 0 {
			var err error
			if rng.IntN(2) == 0 {
				_, err = g.timers.After(e, uint64(1+rng.IntN(20)), "Ping", rng.IntN(5))
			} else {
				_, err = g.timers.Every(e, uint64(1+rng.IntN(5)), "Ping", 7)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for range 3 {
		g.step(t)
		// Move some entities between ticks, as a game would.
		for range n / 10 {
			e := ents[rng.IntN(len(ents))]
			if !e.Destroyed() {
				e.SetPos(randVec(rng, 120))
			}
		}
	}
	g.step(t) // AOI settles on the last moves
	return g
}

// encode snapshots g into memory.
func encode(t testing.TB, g *game) []byte {
	t.Helper()
	wr, err := snapshot.NewWriter(snapshot.WriteOptions{ChunkBytes: 4 << 10}) // several chunks
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := wr.Encode(&buf, g.w, g.state()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decode(t testing.TB, b []byte, reg *ecs.Registry) (*snapshot.Restored, error) {
	t.Helper()
	rd, err := snapshot.NewReader(snapshot.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rd.Decode(bytes.NewReader(b), reg, ecs.WorldOptions{IDs: ecs.NewIDGen(7, nil)})
}

// entityDiff compares two entities field by field; "" if equal.
func entityDiff(reg *ecs.Registry, a, b *ecs.Entity) string {
	vd, vdOK := a.Destination()
	wd, wdOK := b.Destination()
	sid := func(e *ecs.Entity) ecs.EntityID {
		if e.Space() == nil {
			return 0
		}
		return e.Space().ID()
	}
	switch {
	case a.Type().Name() != b.Type().Name():
		return fmt.Sprintf("type %s vs %s", a.Type(), b.Type())
	case a.Pos() != b.Pos() || a.Yaw() != b.Yaw():
		return fmt.Sprintf("pos %v/%v vs %v/%v", a.Pos(), a.Yaw(), b.Pos(), b.Yaw())
	case a.Velocity() != b.Velocity() || vd != wd || vdOK != wdOK || a.MoveSpeed() != b.MoveSpeed():
		return "movement"
	case a.AOIRadius() != b.AOIRadius():
		return fmt.Sprintf("AOI radius %v vs %v", a.AOIRadius(), b.AOIRadius())
	case a.Client() != b.Client():
		return fmt.Sprintf("client %v vs %v", a.Client(), b.Client())
	case sid(a) != sid(b):
		return fmt.Sprintf("space %s vs %s", sid(a), sid(b))
	case !reflect.DeepEqual(a.Attrs().ToMap(), b.Attrs().ToMap()):
		return fmt.Sprintf("attrs %v vs %v", a.Attrs().ToMap(), b.Attrs().ToMap())
	}
	for _, c := range reg.Components() {
		va, oka := c.GetAny(a)
		vb, okb := c.GetAny(b)
		if oka != okb || !reflect.DeepEqual(va, vb) {
			return fmt.Sprintf("component %s: %v %#v vs %v %#v", c.Name(), oka, va, okb, vb)
		}
	}
	return ""
}

func neighbourIDs(a *systems.AOI, e *ecs.Entity) []ecs.EntityID {
	var out []ecs.EntityID
	for _, n := range a.Neighbors(e) {
		out = append(out, n.ID())
	}
	slices.SortFunc(out, cmp.Compare)
	return out
}

func worldOpts() ecs.WorldOptions { return ecs.WorldOptions{IDs: ecs.NewIDGen(7, nil)} }
