package ecs

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for IDGen tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestIDEpoch(t *testing.T) {
	if got := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix(); got != IDEpochUnix {
		t.Fatalf("IDEpochUnix = %d, want %d", IDEpochUnix, got)
	}
	// 48 bits of 16 µs must cover more than 140 years.
	if years := time.Duration(MaxSeq) * IDUnit / (365 * 24 * time.Hour); years < 140 {
		t.Fatalf("sequence covers %d years", years)
	}
}

func TestIDGenMonotonic(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	g := NewIDGen(7, clk.now)
	var prev EntityID
	for i := 0; i < 10000; i++ {
		if i%100 == 0 {
			clk.advance(time.Millisecond)
		}
		if i%777 == 0 {
			clk.advance(-3 * time.Millisecond) // the wall clock steps back
		}
		id := g.Next()
		if id <= prev {
			t.Fatalf("Next #%d = %s, not above %s", i, id, prev)
		}
		if id.Node() != 7 || !id.Valid() {
			t.Fatalf("bad id %s node %d", id, id.Node())
		}
		prev = id
	}
	if g.Last() != prev.Seq() {
		t.Fatalf("Last = %d, want %d", g.Last(), prev.Seq())
	}
}

func TestIDGenSeqFollowsClock(t *testing.T) {
	clk := &fakeClock{t: time.Unix(IDEpochUnix, 0).Add(time.Second)}
	g := NewIDGen(1, clk.now)
	if got, want := g.Next().Seq(), uint64(time.Second/IDUnit); got != want {
		t.Fatalf("first seq = %d, want %d", got, want)
	}
	// Before the epoch the sequence still starts at 1, never 0.
	g2 := NewIDGen(1, func() time.Time { return time.Unix(0, 0) })
	if got := g2.Next().Seq(); got != 1 {
		t.Fatalf("seq before epoch = %d, want 1", got)
	}
}

func TestIDGenUniqueAcrossNodes(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a, b := NewIDGen(1, clk.now), NewIDGen(2, clk.now)
	seen := map[EntityID]bool{}
	for i := 0; i < 5000; i++ {
		for _, id := range []EntityID{a.Next(), b.Next()} {
			if seen[id] {
				t.Fatalf("duplicate %s", id)
			}
			seen[id] = true
		}
	}
}

func TestIDGenRestart(t *testing.T) {
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		perID    time.Duration // clock advance per ID in the first life
		downtime time.Duration // restart delay, net of the clock stepping back
		resume   bool          // the second life resumes from the first's Last
		overlap  bool          // whether IDs may repeat
	}{
		{"normal rate, clock back 50ms, 1s down", time.Millisecond, time.Second - 50*time.Millisecond, false, false},
		{"at the limit rate, instant restart", IDUnit, IDUnit, false, false},
		{"burst faster than the clock, instant cold restart", 0, IDUnit, false, true},
		{"burst, restore with Resume", 0, 0, true, false},
		{"clock back 1s across restart, Resume", time.Millisecond, -time.Second, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{t: start}
			g1 := NewIDGen(3, clk.now)
			seen := map[EntityID]bool{}
			for i := 0; i < 3000; i++ {
				seen[g1.Next()] = true
				clk.advance(tt.perID)
			}
			clk.advance(tt.downtime)
			g2 := NewIDGen(3, clk.now)
			if tt.resume {
				g2.Resume(g1.Last())
			}
			dups := 0
			for i := 0; i < 3000; i++ {
				if seen[g2.Next()] {
					dups++
				}
				clk.advance(tt.perID)
			}
			if (dups > 0) != tt.overlap {
				t.Fatalf("%d repeated IDs, overlap expected: %v", dups, tt.overlap)
			}
		})
	}
}

func TestIDGenResumeNeverGoesBack(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	g := NewIDGen(1, clk.now)
	id := g.Next()
	g.Resume(5)
	if g.Last() != id.Seq() {
		t.Fatalf("Resume(5) moved Last to %d", g.Last())
	}
	g.Resume(id.Seq() + 1000)
	if got := g.Next().Seq(); got != id.Seq()+1001 {
		t.Fatalf("after Resume, seq %d", got)
	}
}

func TestIDGenConcurrent(t *testing.T) {
	g := NewIDGen(9, nil)
	const workers, per = 8, 2000
	out := make([][]EntityID, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				out[w] = append(out[w], g.Next())
			}
		}()
	}
	wg.Wait()
	seen := map[EntityID]bool{}
	for _, ids := range out {
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("duplicate %s", id)
			}
			seen[id] = true
		}
	}
}

func TestNewIDGenNodeZeroPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for node 0")
		}
	}()
	NewIDGen(0, nil)
}

func TestEntityIDString(t *testing.T) {
	tests := []struct {
		id   EntityID
		want string
	}{
		{0, "0000000000000000"},
		{MakeEntityID(1, 1), "0001000000000001"},
		{MakeEntityID(0xffff, MaxSeq), "ffffffffffffffff"},
		{MakeEntityID(0xab, 0xcdef0123), "00ab0000cdef0123"},
	}
	for _, tt := range tests {
		if got := tt.id.String(); got != tt.want {
			t.Errorf("%d.String() = %q, want %q", uint64(tt.id), got, tt.want)
		}
		back, err := ParseEntityID(tt.want)
		if err != nil || back != tt.id {
			t.Errorf("ParseEntityID(%q) = %v, %v", tt.want, back, err)
		}
	}
	if id, err := ParseEntityID("00AB0000CDEF0123"); err != nil || id != MakeEntityID(0xab, 0xcdef0123) {
		t.Errorf("upper case: %v %v", id, err)
	}
	for _, bad := range []string{"", "1", "00010000000000011", "000100000000000g", " 001000000000001", "-001000000000001"} {
		if _, err := ParseEntityID(bad); !errors.Is(err, ErrBadID) {
			t.Errorf("ParseEntityID(%q) err = %v", bad, err)
		}
	}
}

func TestEntityIDParts(t *testing.T) {
	id := MakeEntityID(513, 1<<47|5)
	if id.Node() != 513 || id.Seq() != 1<<47|5 {
		t.Fatalf("parts %d %d", id.Node(), id.Seq())
	}
	if MakeEntityID(1, 1<<50|7).Seq() != 7 {
		t.Fatal("high sequence bits not dropped")
	}
	for _, tt := range []struct {
		id    EntityID
		valid bool
	}{{0, false}, {MakeEntityID(0, 5), false}, {MakeEntityID(5, 0), false}, {MakeEntityID(5, 5), true}} {
		if tt.id.Valid() != tt.valid {
			t.Errorf("%s.Valid() = %v", tt.id, !tt.valid)
		}
	}
}

func TestEntityIDBinary(t *testing.T) {
	id := MakeEntityID(0x0102, 0x030405060708)
	b := id.AppendBinary([]byte{0xaa})
	want := []byte{0xaa, 1, 2, 3, 4, 5, 6, 7, 8}
	if string(b) != string(want) {
		t.Fatalf("AppendBinary = %x", b)
	}
	got, rest, err := DecodeEntityID(append(b[1:], 0xbb))
	if err != nil || got != id || len(rest) != 1 || rest[0] != 0xbb {
		t.Fatalf("DecodeEntityID = %s %x %v", got, rest, err)
	}
	if _, _, err := DecodeEntityID(b[1:8]); !errors.Is(err, ErrBadID) {
		t.Fatalf("short input err = %v", err)
	}
	c := MakeClientID(3, 9)
	cb, _, err := DecodeClientID(c.AppendBinary(nil))
	if err != nil || cb != c {
		t.Fatalf("client id round trip %s %v", cb, err)
	}
}

func TestIDText(t *testing.T) {
	type rec struct {
		E EntityID
		C ClientID
	}
	in := rec{MakeEntityID(2, 77), MakeClientID(4, 99)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"E":"000200000000004d","C":"0004000000000063"}` {
		t.Fatalf("json %s", b)
	}
	var out rec
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("json round trip %+v %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"E":"xyz"}`), &out); !errors.Is(err, ErrBadID) {
		t.Fatalf("bad json id err = %v", err)
	}
	if c, err := ParseClientID(in.C.String()); err != nil || c != in.C || c.Gate() != 4 || c.Seq() != 99 {
		t.Fatalf("ParseClientID %v %v", c, err)
	}
	if _, err := ParseClientID("nope"); !errors.Is(err, ErrBadID) {
		t.Fatalf("ParseClientID err %v", err)
	}
}

func TestEntityIDEncodesAsCBORUint(t *testing.T) {
	a, err := EncodeArgs(MakeEntityID(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := EncodeArgs(uint64(MakeEntityID(1, 2)))
	if string(a) != string(b) {
		t.Fatalf("EntityID encodes as %x, uint64 as %x", a, b)
	}
}
