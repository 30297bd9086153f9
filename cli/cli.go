// Package cli is the ecsworld command: the manager of a cluster on one
// machine. cmd/ecsworld is its thin main; tests drive App directly.
//
// Each verb is one entry of the table App holds (see builtinVerbs): a
// name, a one-line usage, a help text and a function. `ecsworld help`
// lists the verbs that exist and `ecsworld help VERB` (or VERB -h) prints
// one's help. Verbs still to come (freeze, restore, reload) are added as
// more entries.
//
// `ecsworld demo` runs a whole cluster of the example game
// (examples/test_game/arena) inside the ecsworld process instead, with
// bots and the live map (package demo).
//
// `ecsworld start` runs every process as its own program, under a run
// directory (default ./run):
//
//	RUN/cluster.toml            the cluster as the processes run it (every option spelled out)
//	RUN/processes.json          what was started: name, pid, program, start time, in start order
//	RUN/pids/NAME.pid           one pid file per process
//	RUN/addrs/NAME.json         the addresses each process bound, written once it is ready
//	RUN/logs/NAME.log           each process's output
//
// The programs follow the contract of package cli/proc.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ecsworld/ecsworld/examples/test_game/arena"
)

// Verb is one command of ecsworld.
type Verb struct {
	// Name is the word on the command line.
	Name string
	// Usage is the synopsis after "ecsworld ", such as "build [-bin DIR] DIR".
	Usage string
	// Summary is the one line of `ecsworld help`.
	Summary string
	// Help is the longer text of `ecsworld help VERB`, after the usage and
	// before the flags.
	Help string
	// Flags declares the verb's flags on fs and returns the function that
	// runs the verb once they are parsed, with the arguments left.
	Flags func(fs *flag.FlagSet) func(ctx context.Context, app *App, args []string) error
}

// App is the ecsworld command with its verbs and where it writes.
type App struct {
	Stdout, Stderr io.Writer
	verbs          []Verb
}

// New returns the command with the built-in verbs.
func New(stdout, stderr io.Writer) *App {
	return &App{Stdout: stdout, Stderr: stderr, verbs: builtinVerbs()}
}

// builtinVerbs is the verb table, in the order help lists them.
func builtinVerbs() []Verb {
	return []Verb{buildVerb(), startVerb(), stopVerb(), killVerb(), statusVerb(), freezeVerb(), restoreVerb(), reloadVerb(), DemoVerb(arena.Setup, true)}
}

// Add adds a verb (or replaces the one of the same name).
func (a *App) Add(v Verb) {
	if i := slices.IndexFunc(a.verbs, func(o Verb) bool { return o.Name == v.Name }); i >= 0 {
		a.verbs[i] = v
		return
	}
	a.verbs = append(a.verbs, v)
}

// Verb returns the verb named name.
func (a *App) Verb(name string) (Verb, bool) {
	i := slices.IndexFunc(a.verbs, func(v Verb) bool { return v.Name == name })
	if i < 0 {
		return Verb{}, false
	}
	return a.verbs[i], true
}

// errUsage marks an error of the command line: Main prints the verb's
// usage after it and exits 2.
var errUsage = errors.New("usage")

// usageErr is a command-line error.
func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// gameDirArgs checks the arguments of a verb that runs a cluster's
// programs (start, restore, reload): one directory, the game's, and a
// positive -timeout. It returns the directory and sets *bin to DIR/bin when
// -bin was not given.
func gameDirArgs(verb string, args []string, timeout time.Duration, bin *string) (string, error) {
	if len(args) != 1 {
		return "", usageErr("%s takes one directory, the game's, got %d arguments", verb, len(args))
	}
	if timeout <= 0 {
		return "", usageErr("-timeout must be positive")
	}
	if *bin == "" {
		*bin = filepath.Join(args[0], "bin")
	}
	return args[0], nil
}

// Main runs the command line args (without the program name) and returns
// the exit status: 0 on success, 1 when the verb failed, 2 on a usage
// error.
func (a *App) Main(ctx context.Context, args []string) int {
	if len(args) == 0 {
		a.help(a.Stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			a.help(a.Stdout)
			return 0
		}
		v, ok := a.Verb(rest[0])
		if !ok {
			fmt.Fprintf(a.Stderr, "ecsworld: no verb %q; run `ecsworld help` for the list\n", rest[0])
			return 2
		}
		a.verbHelp(a.Stdout, v)
		return 0
	}
	v, ok := a.Verb(name)
	if !ok {
		fmt.Fprintf(a.Stderr, "ecsworld: no verb %q; run `ecsworld help` for the list\n", name)
		return 2
	}
	fs := flag.NewFlagSet("ecsworld "+v.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	run := v.Flags(fs)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.verbHelp(a.Stdout, v)
			return 0
		}
		fmt.Fprintf(a.Stderr, "ecsworld %s: %v\n", v.Name, err)
		fmt.Fprintf(a.Stderr, "usage: ecsworld %s (ecsworld help %s for more)\n", v.Usage, v.Name)
		return 2
	}
	if err := run(ctx, a, fs.Args()); err != nil {
		fmt.Fprintf(a.Stderr, "ecsworld %s: %v\n", v.Name, err)
		if errors.Is(err, errUsage) {
			fmt.Fprintf(a.Stderr, "usage: ecsworld %s (ecsworld help %s for more)\n", v.Usage, v.Name)
			return 2
		}
		return 1
	}
	return 0
}

func (a *App) help(w io.Writer) {
	fmt.Fprintln(w, "ecsworld manages an ecsworld cluster on this machine.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "usage: ecsworld VERB [flags] [args]")
	fmt.Fprintln(w)
	width := 0
	for _, v := range a.verbs {
		width = max(width, len(v.Name))
	}
	for _, v := range a.verbs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, v.Name, v.Summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `ecsworld help VERB` for a verb's flags and details.")
}

func (a *App) verbHelp(w io.Writer, v Verb) {
	fmt.Fprintf(w, "usage: ecsworld %s\n\n", v.Usage)
	fmt.Fprintln(w, strings.TrimSpace(v.Help))
	fs := flag.NewFlagSet(v.Name, flag.ContinueOnError)
	v.Flags(fs)
	has := false
	fs.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprintln(w, "\nflags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}
