package bots

import (
	"slices"
	"strings"
	"testing"
)

func TestArgs(t *testing.T) {
	tests := []struct {
		args   []any
		i      int
		n      int64
		ok     bool
		s      string
		sIsStr bool
	}{
		{args: []any{int64(-3)}, n: -3, ok: true},
		{args: []any{uint64(7)}, n: 7, ok: true},
		{args: []any{uint64(1 << 63)}},           // does not fit
		{args: []any{"x"}, s: "x", sIsStr: true}, // a string is no int
		{args: []any{}, i: 0},                    // missing
		{args: []any{int64(1), "y"}, i: 1, s: "y", sIsStr: true},
	}
	for _, tt := range tests {
		n, ok := argInt(tt.args, tt.i)
		if n != tt.n || ok != tt.ok {
			t.Errorf("argInt(%v, %d) = %d, %v; want %d, %v", tt.args, tt.i, n, ok, tt.n, tt.ok)
		}
		s, ok := argString(tt.args, tt.i)
		if s != tt.s || ok != tt.sIsStr {
			t.Errorf("argString(%v, %d) = %q, %v; want %q, %v", tt.args, tt.i, s, ok, tt.s, tt.sIsStr)
		}
	}
}

func TestMinus(t *testing.T) {
	tests := []struct{ a, b, want []uint64 }{
		{[]uint64{1, 2, 3}, []uint64{2}, []uint64{1, 3}},
		{[]uint64{1, 2}, nil, []uint64{1, 2}},
		{nil, []uint64{1}, nil},
		{[]uint64{4, 5}, []uint64{4, 5}, nil},
	}
	for _, tt := range tests {
		if got := minus(tt.a, tt.b); !slices.Equal(got, tt.want) {
			t.Errorf("minus(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestServerState(t *testing.T) {
	s := &ServerState{
		Stats:   map[string]any{"Connected": 2.0, "Name": "x"},
		Avatars: []ServerAvatar{{ID: 5, Client: 9}, {ID: 6}},
	}
	if got := s.Stat("Connected"); got != 2 {
		t.Errorf("Stat(Connected) = %d, want 2", got)
	}
	if got := s.Stat("Name"); got != 0 {
		t.Errorf("Stat of a string = %d, want 0", got)
	}
	if a, ok := s.Avatar(5); !ok || a.Client != 9 {
		t.Errorf("Avatar(5) = %+v, %v", a, ok)
	}
	if _, ok := s.Avatar(7); ok {
		t.Error("Avatar(7) found")
	}
}

func TestCompareViewsMissingAvatar(t *testing.T) {
	b := &Bot{opts: Options{Name: "b0"}, avatar: 42}
	got := CompareViews([]*Bot{b}, []*ServerState{{Avatars: []ServerAvatar{{ID: 1}}}})
	if len(got) != 1 || !strings.Contains(got[0], "avatar 42 is on 0 games") {
		t.Errorf("CompareViews = %q, want the missing avatar reported", got)
	}
}

func TestRunSwarmNeedsBotsAndGates(t *testing.T) {
	if _, err := RunSwarm(t.Context(), SwarmOptions{N: 0, Gates: []string{"x"}}); err == nil {
		t.Error("RunSwarm with no bots: no error")
	}
	if _, err := RunSwarm(t.Context(), SwarmOptions{N: 1}); err == nil {
		t.Error("RunSwarm with no gate: no error")
	}
}
