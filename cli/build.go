package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The programs build writes into the bin directory and start runs.
const (
	binGame       = "game"
	binDispatcher = "dispatcher"
	binGate       = "gate"
	// modulePath is this module: the dispatcher and gate are built from it.
	modulePath = "github.com/ecsworld/ecsworld"
)

func buildVerb() Verb {
	return Verb{
		Name:    "build",
		Usage:   "build [-bin BINDIR] DIR",
		Summary: "build the game in DIR, and the dispatcher and gate, into DIR/bin",
		Help: `
Build compiles the game binary from the main package in DIR (go build), and
the dispatcher and gate programs of the ecsworld module DIR's module uses,
into BINDIR (default DIR/bin) as game, dispatcher and gate: the programs
ecsworld start runs. It needs the Go toolchain (go) on PATH.`,
		Flags: func(fs *flag.FlagSet) func(context.Context, *App, []string) error {
			bin := fs.String("bin", "", "where to put the programs (default DIR/bin)")
			return func(ctx context.Context, a *App, args []string) error {
				if len(args) != 1 {
					return usageErr("build takes one directory, the game's main package, got %d arguments", len(args))
				}
				return build(ctx, a, args[0], *bin)
			}
		},
	}
}

func build(ctx context.Context, a *App, dir, bin string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s is not a directory: give the directory of the game's main package", dir)
	}
	if bin == "" {
		bin = filepath.Join(dir, "bin")
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return errors.New("the Go toolchain (go) is not on PATH: install Go (https://go.dev/dl) or add it to PATH, then run build again")
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return fmt.Errorf("bin directory: %w", err)
	}
	steps := []struct{ out, pkg, what string }{
		{binGame, ".", "the game in " + dir},
		{binDispatcher, modulePath + "/cmd/dispatcher", "the dispatcher"},
		{binGate, modulePath + "/cmd/gate", "the gate"},
	}
	for _, s := range steps {
		out := filepath.Join(bin, s.out)
		cmd := exec.CommandContext(ctx, goTool, "build", "-o", out, s.pkg)
		cmd.Dir = dir // the engine's programs come from the version DIR's module uses
		var msg bytes.Buffer
		cmd.Stdout, cmd.Stderr = &msg, &msg
		if err := cmd.Run(); err != nil {
			text := strings.TrimSpace(msg.String())
			if strings.Contains(text, "no Go files") || strings.Contains(text, "is not a main package") {
				return fmt.Errorf("building %s: %s\n%s has no main package: give the directory of the game's func main", s.what, text, dir)
			}
			return fmt.Errorf("building %s failed (%v):\n%s\nfix the errors above and run build again", s.what, err, text)
		}
		fmt.Fprintf(a.Stdout, "built %s\n", out)
	}
	return nil
}
