package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRun runs the example's main logic for a few ticks: AOI must report
// events, the hooks must have run for them, the hits they queued must have
// gone through the RPC stage, and the same seed must print the same story.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	res, err := run(options{Monsters: 30, Ticks: 5, Seed: 7}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Enters == 0 {
		t.Fatalf("no AOI enter events in 5 ticks:\n%s", out.String())
	}
	if res.Hooks != res.Enters+res.Leaves {
		t.Fatalf("%d hooks for %d events", res.Hooks, res.Enters+res.Leaves)
	}
	if res.Hits == 0 || res.RPC.OK < uint64(res.Hits) {
		t.Fatalf("hits %d, rpc %+v", res.Hits, res.RPC)
	}
	if res.Alive+res.Fainted != 30 {
		t.Fatalf("%d alive + %d fainted != 30", res.Alive, res.Fainted)
	}
	for _, want := range []string{"tick 1: ", "tick 5: ", " sees ", " hits ", "after 5 ticks: ",
		"time per tick over the last 5 ticks", "aoi      aoi", "whole tick"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}

	var again bytes.Buffer
	if _, err := run(options{Monsters: 30, Ticks: 5, Seed: 7}, &again); err != nil {
		t.Fatal(err)
	}
	if story := func(s string) string { return s[:strings.LastIndex(s, "after")] }; story(out.String()) != story(again.String()) {
		t.Fatalf("same seed, different story:\n%s\n---\n%s", out.String(), again.String())
	}

	if _, err := run(options{Monsters: -1}, &out); err == nil {
		t.Fatal("negative monsters accepted")
	}
}
