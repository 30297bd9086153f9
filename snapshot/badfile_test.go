package snapshot_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/snapshot"
)

var sentinels = []error{snapshot.ErrEmpty, snapshot.ErrNotSnapshot, snapshot.ErrTooNew, snapshot.ErrTruncated, snapshot.ErrCorrupt, snapshot.ErrSchema}

// wantKind checks that err wraps want and no other sentinel.
func wantKind(t *testing.T, what string, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %v", what, want)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) != (s == want) {
			t.Fatalf("%s: error %q: errors.Is(%v) = %v", what, err, s, errors.Is(err, s))
		}
	}
}

// goodFile is a small snapshot of several chunks, and where its body
// starts.
func goodFile(t *testing.T) (*schema, []byte, int) {
	t.Helper()
	s := newSchema(t)
	g := randWorld(t, s, 3, 60)
	b := encode(t, g)
	body := 20 + int(binary.BigEndian.Uint32(b[12:])) + 4
	if string(b[body:body+4]) != "ECSC" {
		t.Fatalf("no chunk at %d", body)
	}
	return s, b, body
}

func TestEmpty(t *testing.T) {
	s := newSchema(t)
	_, err := decode(t, nil, s.reg)
	wantKind(t, "empty", err, snapshot.ErrEmpty)
}

func TestWrongMagic(t *testing.T) {
	s, b, _ := goodFile(t)
	for _, bad := range [][]byte{[]byte("PK\x03\x04 a zip file, not a snapshot"), append([]byte("ECSWSNAQ"), b[8:]...), []byte("E")[:0:0]} {
		if len(bad) == 0 {
			continue
		}
		_, err := decode(t, bad, s.reg)
		wantKind(t, "wrong magic", err, snapshot.ErrNotSnapshot)
	}
}

// TestTruncated cuts the file at every offset: each gives ErrTruncated
// (or ErrEmpty at 0), with the offset where the file ends.
func TestTruncated(t *testing.T) {
	s, b, _ := goodFile(t)
	for n := range len(b) {
		_, err := decode(t, b[:n], s.reg)
		want := snapshot.ErrTruncated
		if n == 0 {
			want = snapshot.ErrEmpty
		}
		wantKind(t, "truncated", err, want)
		var fe *snapshot.FormatError
		if n > 0 && (!errors.As(err, &fe) || fe.Offset > int64(n)) {
			t.Fatalf("cut at %d: %v: offset beyond the cut", n, err)
		}
	}
}

// TestFlippedByte flips each byte: in the magic it is not a snapshot any
// more; anywhere else it is corrupt, and the error says which section.
func TestFlippedByte(t *testing.T) {
	s, b, body := goodFile(t)
	for i := range b {
		bad := bytes.Clone(b)
		bad[i] ^= 0x20
		_, err := decode(t, bad, s.reg)
		want := snapshot.ErrCorrupt
		if i < 8 {
			want = snapshot.ErrNotSnapshot
		}
		wantKind(t, "flipped byte", err, want)
		var fe *snapshot.FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("byte %d: %v is not a *FormatError", i, err)
		}
		switch {
		case i < 20 && fe.Section != "preamble",
			i >= 20 && i < body && fe.Section != "header",
			i >= body && i < len(b)-20 && !strings.HasPrefix(fe.Section, "chunk "), // a broken trailer tag looks like a bad chunk head
			i >= len(b)-20 && fe.Section != "trailer":
			t.Fatalf("byte %d (body at %d, trailer at %d): section %q: %v", i, body, len(b)-24, fe.Section, err)
		}
	}
}

func fixPreamble(b []byte) {
	binary.BigEndian.PutUint32(b[16:], crc32.Checksum(b[:16], crc32.MakeTable(crc32.Castagnoli)))
}

func TestNewerVersion(t *testing.T) {
	s, b, _ := goodFile(t)
	bad := bytes.Clone(b)
	binary.BigEndian.PutUint16(bad[8:], snapshot.Version+1)
	fixPreamble(bad)
	_, err := decode(t, bad, s.reg)
	wantKind(t, "newer version", err, snapshot.ErrTooNew)
	if !strings.Contains(err.Error(), fmt.Sprintf("version %d", snapshot.Version+1)) {
		t.Errorf("error does not name the version: %v", err)
	}
}

func TestTrailingBytes(t *testing.T) {
	s, b, _ := goodFile(t)
	_, err := decode(t, append(bytes.Clone(b), 0), s.reg)
	wantKind(t, "trailing bytes", err, snapshot.ErrCorrupt)
}

// Schema evolution: one component, "stats", in four versions.
type StatsV1 struct {
	HP   int    `cbor:"1,keyasint"`
	Name string `cbor:"2,keyasint"`
	Old  int    `cbor:"3,keyasint"`
}

type StatsV2 struct { // HP changed type
	HP   string `cbor:"1,keyasint"`
	Name string `cbor:"2,keyasint"`
}

type StatsV3 struct { // Mana added, Old dropped
	HP   int    `cbor:"1,keyasint"`
	Name string `cbor:"2,keyasint"`
	Mana int    `cbor:"4,keyasint"`
}

type Gear struct{ Sword int }

var (
	statsV1 = ecs.NewComponent[StatsV1]("stats")
	statsV2 = ecs.NewComponent[StatsV2]("stats")
	statsV3 = ecs.NewComponent[StatsV3]("stats")
	gearC   = ecs.NewComponent[Gear]("gear")
)

func heroRegistry(t *testing.T, stats ecs.Component, gear bool, typeName string) *ecs.Registry {
	t.Helper()
	reg := ecs.NewRegistry()
	ht := ecs.NewEntityType(typeName).With(stats)
	if gear {
		ht.With(gearC)
	}
	if err := reg.RegisterType(ht); err != nil {
		t.Fatal(err)
	}
	return reg
}

func heroFile(t *testing.T) []byte {
	t.Helper()
	reg := heroRegistry(t, statsV1, true, "hero")
	w := ecs.NewWorld(reg, ecs.WorldOptions{IDs: ecs.NewIDGen(7, nil)})
	for i := range 5 {
		if _, err := w.Create("hero", ecs.CreateOptions{Components: []any{StatsV1{HP: 10 + i, Name: "h", Old: 1}, Gear{Sword: i}}}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	wr, err := snapshot.NewWriter(snapshot.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wr.Encode(&buf, w, &snapshot.State{GameID: 7}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestChangedFieldType(t *testing.T) {
	b := heroFile(t)
	_, err := decode(t, b, heroRegistry(t, statsV2, true, "hero"))
	wantKind(t, "changed field type", err, snapshot.ErrSchema)
	var se *snapshot.SchemaError
	if !errors.As(err, &se) || se.Component != "stats" || se.Path != "#1" || se.Old != "int" || se.New != "string" {
		t.Fatalf("error %v (%+v) does not name stats field #1 int → string", err, se)
	}
}

func TestAddedFieldDroppedComponent(t *testing.T) {
	b := heroFile(t)
	r, err := decode(t, b, heroRegistry(t, statsV3, false, "hero"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	r.World.Each(func(e *ecs.Entity) bool {
		st := statsV3.Get(e)
		if st == nil || st.HP < 10 || st.Name != "h" || st.Mana != 0 {
			t.Errorf("%s: stats %+v", e, st)
		}
		n++
		return true
	})
	if n != 5 {
		t.Fatalf("%d entities, want 5", n)
	}
	var gotGear, gotField bool
	for _, w := range r.Warnings {
		switch {
		case w.Component == "gear" && w.Entities == 5 && w.Field == "":
			gotGear = strings.Contains(w.String(), `"gear"`) && strings.Contains(w.String(), "5 entities")
		case w.Component == "stats" && w.Field == "#3":
			gotField = true
		}
	}
	if !gotGear || !gotField {
		t.Fatalf("warnings %v: want gear dropped from 5 entities and stats field #3 dropped", r.Warnings)
	}
}

func TestTypeGone(t *testing.T) {
	b := heroFile(t)
	_, err := decode(t, b, heroRegistry(t, statsV1, true, "villain"))
	wantKind(t, "type gone", err, snapshot.ErrSchema)
	if !strings.Contains(err.Error(), `"hero"`) {
		t.Fatalf("error does not name the type: %v", err)
	}
}

// TestVerify checks a file without building a world, with and without a
// registry.
func TestVerify(t *testing.T) {
	s, b, body := goodFile(t)
	rd, err := snapshot.NewReader(snapshot.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, reg := range []*ecs.Registry{nil, s.reg} {
		r, err := rd.Verify(bytes.NewReader(b), reg)
		if err != nil || r.World != nil || r.Header.Entities == 0 {
			t.Fatalf("verify: %v %+v", err, r)
		}
		bad := bytes.Clone(b)
		bad[body+40] ^= 1
		_, err = rd.Verify(bytes.NewReader(bad), reg)
		wantKind(t, "verify", err, snapshot.ErrCorrupt)
	}
}

// TestCorruptRecordLocated: a record that is bad CBOR inside a valid
// chunk (a writer bug, not a disk error) names the record and entity.
func TestRandomGarbage(t *testing.T) {
	s := newSchema(t)
	rng := rand.New(rand.NewPCG(1, 1))
	for range 200 {
		b := make([]byte, rng.IntN(200))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		if rng.IntN(2) == 0 && len(b) >= 8 {
			copy(b, snapshot.Magic)
		}
		if _, err := decode(t, b, s.reg); err == nil {
			t.Fatal("garbage decoded")
		}
	}
}

type StatsNarrow struct { // HP narrowed to int8: compatible shape, but 10+ fits and 1000 does not
	HP   int8   `cbor:"1,keyasint"`
	Name string `cbor:"2,keyasint"`
	Old  int    `cbor:"3,keyasint"`
}

var statsNarrow = ecs.NewComponent[StatsNarrow]("stats")

func TestValueNoLongerFits(t *testing.T) {
	reg := heroRegistry(t, statsV1, false, "hero")
	w := ecs.NewWorld(reg, worldOpts())
	for _, hp := range []int{10, 1000} {
		if _, err := w.Create("hero", ecs.CreateOptions{Components: []any{StatsV1{HP: hp}}}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	wr, _ := snapshot.NewWriter(snapshot.WriteOptions{})
	if _, err := wr.Encode(&buf, w, &snapshot.State{GameID: 7}); err != nil {
		t.Fatal(err)
	}
	_, err := decode(t, buf.Bytes(), heroRegistry(t, statsNarrow, false, "hero"))
	wantKind(t, "narrowed field", err, snapshot.ErrSchema)
	var fe *snapshot.FormatError
	if !errors.As(err, &fe) || fe.Record != 1 || !strings.Contains(err.Error(), "stats") {
		t.Fatalf("error %v does not locate record 1 and name the component", err)
	}
}

func TestTimerMethodGone(t *testing.T) {
	reg := ecs.NewRegistry()
	if err := reg.RegisterType(ecs.NewEntityType("hero").Method(ecs.Method1("Ping", ecs.ServerOnly, ping))); err != nil {
		t.Fatal(err)
	}
	w := ecs.NewWorld(reg, worldOpts())
	e, _ := w.Create("hero", ecs.CreateOptions{})
	st := &snapshot.State{GameID: 7, Tick: 3, NextTimerID: 3, Timers: []snapshot.Timer{
		{ID: 1, Entity: e.ID(), Method: "Ping", Due: 5}, {ID: 2, Entity: e.ID(), Method: "Ping", Due: 9, Repeat: 4}}}
	var buf bytes.Buffer
	wr, _ := snapshot.NewWriter(snapshot.WriteOptions{})
	if _, err := wr.Encode(&buf, w, st); err != nil {
		t.Fatal(err)
	}
	reg2 := ecs.NewRegistry()
	if err := reg2.RegisterType(ecs.NewEntityType("hero")); err != nil {
		t.Fatal(err)
	}
	r, err := decode(t, buf.Bytes(), reg2)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 1 || r.Warnings[0].Method != "hero.Ping" || r.Warnings[0].Entities != 2 || len(r.Timers) != 2 {
		t.Fatalf("warnings %v, timers %v", r.Warnings, r.Timers)
	}
}
