package proc

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestProgramDeps fails when the gate or dispatcher program links the
// game engine or the other process: a gate never imports game
// (DESIGN.md, "Packages"), the dispatcher is a router that knows nothing
// of entities, and a process-wide package that imports game (metrics,
// this package) would carry the whole ECS into both binaries. Each
// process's own code lives in a package only its binary imports
// (gatemetrics, dispatchermetrics, gameproc...).
func TestProgramDeps(t *testing.T) {
	const module = "github.com/ecsworld/ecsworld/"
	engine := []string{"game", "ecs", "systems", "snapshot"}
	tests := []struct {
		program, process string
		forbidden        []string
	}{
		{"cmd/gate", "gate", slices.Concat(engine, []string{"dispatcher"})},
		{"cmd/dispatcher", "dispatcher", slices.Concat(engine, []string{"gate"})},
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go tool is not on PATH (%v): cannot list the programs' dependencies", err)
	}
	for _, tc := range tests {
		t.Run(tc.process, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, goTool, "list", "-deps", module+tc.program).Output()
			if err != nil {
				if ee, ok := errors.AsType[*exec.ExitError](err); ok {
					t.Fatalf("go list -deps: %v\n%s", err, ee.Stderr)
				}
				t.Fatalf("go list -deps: %v", err)
			}
			deps := strings.Fields(string(out))
			if !slices.Contains(deps, module+tc.process) { // the list is real
				t.Fatalf("go list -deps %s does not list %s%s: %q", tc.program, module, tc.process, deps)
			}
			for _, dep := range deps {
				for _, f := range tc.forbidden {
					if dep == module+f || strings.HasPrefix(dep, module+f+"/") {
						t.Errorf("the %s program links %s", tc.process, dep)
					}
				}
			}
		})
	}
}
