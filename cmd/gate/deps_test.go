package main

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDeps fails when the gate program links the game engine or the
// dispatcher: a gate never imports game (DESIGN.md, "Packages"), and a
// process-wide package that does (metrics, cli/proc) would carry the whole
// ECS into this binary. Each process's own code lives in a package only
// its binary imports (gatemetrics, gameproc, ...).
func TestDeps(t *testing.T) {
	const module = "github.com/ecsworld/ecsworld/"
	forbidden := []string{"game", "ecs", "systems", "snapshot", "dispatcher"}

	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go tool is not on PATH (%v): cannot list the program's dependencies", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool, "list", "-deps", ".").Output()
	if err != nil {
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			t.Fatalf("go list -deps: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, module+"gate") {
		t.Fatalf("go list -deps does not list %sgate: %q", module, deps)
	}
	for _, dep := range deps {
		for _, f := range forbidden {
			if dep == module+f || strings.HasPrefix(dep, module+f+"/") {
				t.Errorf("the gate program links %s", dep)
			}
		}
	}
}
