package snapshot_test

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/snapshot"
)

type benchStats struct {
	HP    int32 `cbor:"1,keyasint"`
	MaxHP int32 `cbor:"2,keyasint"`
	Level uint8 `cbor:"3,keyasint"`
}

var benchStatsC = ecs.NewComponent[benchStats]("stats")

// benchWorld is snapbench's world: n entities with a position, an AOI
// radius, a small component, ten attributes and a timer.
func benchWorld(b *testing.B, n int) (*ecs.Registry, *ecs.World, *snapshot.State) {
	b.Helper()
	reg := ecs.NewRegistry()
	if err := reg.RegisterType(ecs.NewEntityType("zone").Space()); err != nil {
		b.Fatal(err)
	}
	if err := reg.RegisterType(ecs.NewEntityType("npc").With(benchStatsC).AOI(50).Method(ecs.Method1("Regen", ecs.ServerOnly, ping))); err != nil {
		b.Fatal(err)
	}
	w := ecs.NewWorld(reg, worldOpts())
	zone, _ := w.Create("zone", ecs.CreateOptions{})
	rng := rand.New(rand.NewPCG(1, 2))
	args, _ := ecs.EncodeArgs(5)
	st := &snapshot.State{GameID: 7, Tick: 1000}
	for i := range n {
		e, err := w.Create("npc", ecs.CreateOptions{Space: zone, Pos: ecs.Vec3{X: rng.Float32() * 1000, Z: rng.Float32() * 1000}, Yaw: rng.Float32(),
			Attrs: map[string]any{"name": "npc-" + strconv.Itoa(i), "level": rng.IntN(60), "gold": rng.IntN(100000), "hp": rng.IntN(500),
				"mp": rng.IntN(200), "exp": rng.IntN(1e6), "guild": "knights", "class": "mage", "alive": true, "speed": 3.5},
			Components: []any{benchStats{HP: 100, MaxHP: 150, Level: 3}}})
		if err != nil {
			b.Fatal(err)
		}
		st.Timers = append(st.Timers, snapshot.Timer{ID: uint64(i + 1), Entity: e.ID(), Method: "Regen", Args: args, Due: 1001 + uint64(rng.IntN(50)), Repeat: 50})
	}
	return reg, w, st
}

const benchN = 10_000

func BenchmarkEncode(b *testing.B) {
	_, w, st := benchWorld(b, benchN)
	wr, err := snapshot.NewWriter(snapshot.WriteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if _, err := wr.Encode(&buf, w, st); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/benchN, "bytes/entity")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchN), "ns/entity")
}

func benchDecode(b *testing.B, verify bool) {
	reg, w, st := benchWorld(b, benchN)
	var buf bytes.Buffer
	wr, _ := snapshot.NewWriter(snapshot.WriteOptions{})
	if _, err := wr.Encode(&buf, w, st); err != nil {
		b.Fatal(err)
	}
	rd, err := snapshot.NewReader(snapshot.ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if verify {
			_, err = rd.Verify(bytes.NewReader(buf.Bytes()), reg)
		} else {
			_, err = rd.Decode(bytes.NewReader(buf.Bytes()), reg, worldOpts())
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchN), "ns/entity")
}

// BenchmarkDecode restores the world; BenchmarkVerify decodes every
// record and component without building a world, which separates the
// snapshot's own cost from ecs.World.Create's.
func BenchmarkDecode(b *testing.B) { benchDecode(b, false) }
func BenchmarkVerify(b *testing.B) { benchDecode(b, true) }
