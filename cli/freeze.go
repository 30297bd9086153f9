package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ecsworld/ecsworld/config"
)

// defaultFreezeTimeout bounds how long a game may take to freeze (ack
// barrier, snapshot written, exit).
const defaultFreezeTimeout = 60 * time.Second

func freezeVerb() Verb {
	return Verb{
		Name:    "freeze",
		Usage:   "freeze [-run RUNDIR] [-timeout D]",
		Summary: "freeze every game of the cluster into its snapshot; gates and clients stay connected",
		Help: `
Freeze sends SIGHUP to every game of the cluster started in RUNDIR (default
./run). Each game tells the dispatchers, which queue its traffic, writes its
world to its snapshot (snapshot_dir/game-N.snap, under RUNDIR when
relative) at a tick boundary and exits 0. Dispatchers and gates keep
running and clients stay connected, waiting: run ecsworld restore (or use
ecsworld reload, which does both) to bring the games back. Freeze fails if
a game does not exit within the timeout or exits without a new snapshot
(its log says why; a game that could not freeze carries on).`,
		Flags: func(fs *flag.FlagSet) func(context.Context, *App, []string) error {
			run := fs.String("run", defaultRun, "run directory of the cluster")
			timeout := fs.Duration("timeout", defaultFreezeTimeout, "how long each game may take to freeze and exit")
			return func(ctx context.Context, a *App, args []string) error {
				if len(args) != 0 {
					return usageErr("freeze takes no arguments, got %q", args)
				}
				if *timeout <= 0 {
					return usageErr("-timeout must be positive")
				}
				r, ps, err := openRun(*run)
				if err != nil {
					return err
				}
				return freeze(ctx, a, r, ps, *timeout)
			}
		},
	}
}

func restoreVerb() Verb {
	return Verb{
		Name:    "restore",
		Usage:   "restore [-run RUNDIR] [-bin BINDIR] [-timeout D] DIR",
		Summary: "start the frozen games of the cluster from their snapshots (game -restore)",
		Help: `
Restore starts every game of the cluster in RUNDIR (default ./run) that is
not running with -restore, from BINDIR/game (default DIR/bin/game): each
reads its snapshot, rebuilds its world with the same entities, timers and
clients, and reconnects; the dispatchers then deliver what they queued
during the freeze, in order. It waits until each game is ready. A game
without a snapshot, or with a bad or incompatible one, refuses to start
(restore prints the last lines of its log) rather than start empty.`,
		Flags: func(fs *flag.FlagSet) func(context.Context, *App, []string) error {
			run := fs.String("run", defaultRun, "run directory of the cluster")
			bin := fs.String("bin", "", "directory of the programs (default DIR/bin)")
			timeout := fs.Duration("timeout", defaultReadyTimeout, "how long each game may take to be ready")
			return func(ctx context.Context, a *App, args []string) error {
				if _, err := gameDirArgs("restore", args, *timeout, bin); err != nil {
					return err
				}
				r, ps, err := openRun(*run)
				if err != nil {
					return err
				}
				return restore(ctx, a, r, ps, *bin, *timeout)
			}
		},
	}
}

func reloadVerb() Verb {
	return Verb{
		Name:    "reload",
		Usage:   "reload [-run RUNDIR] [-bin BINDIR] [-timeout D] DIR",
		Summary: "hot-swap the games: freeze them, then restore them with the current game binary",
		Help: `
Reload is freeze then restore: every game of the cluster in RUNDIR (default
./run) writes its snapshot and exits, and the game program now in BINDIR
(default DIR/bin: run ecsworld build first to swap in new code) is started
with -restore in its place. Gates and dispatchers never restart, so clients
keep their connections; what they send meanwhile is queued and delivered
after the restore.`,
		Flags: func(fs *flag.FlagSet) func(context.Context, *App, []string) error {
			run := fs.String("run", defaultRun, "run directory of the cluster")
			bin := fs.String("bin", "", "directory of the programs (default DIR/bin)")
			timeout := fs.Duration("timeout", defaultFreezeTimeout, "how long each game may take to freeze, and to be ready again")
			return func(ctx context.Context, a *App, args []string) error {
				if _, err := gameDirArgs("reload", args, *timeout, bin); err != nil {
					return err
				}
				r, ps, err := openRun(*run)
				if err != nil {
					return err
				}
				// Refuse before freezing anything when there is nothing to
				// restore with.
				if _, err := gameProgram(*bin); err != nil {
					return err
				}
				began := time.Now()
				if err := freeze(ctx, a, r, ps, *timeout); err != nil {
					// Those that froze are brought back; the others carry on.
					if !anyGameDown(ps) {
						return err
					}
					return errors.Join(err, restore(ctx, a, r, ps, *bin, *timeout))
				}
				if err := restore(ctx, a, r, ps, *bin, *timeout); err != nil {
					return err
				}
				fmt.Fprintf(a.Stdout, "reloaded in %v\n", time.Since(began).Round(time.Millisecond))
				return nil
			}
		},
	}
}

// anyGameDown reports whether a game of ps is not running.
func anyGameDown(ps []process) bool {
	for _, p := range ps {
		if p.Role == config.RoleGame && !alive(p) {
			return true
		}
	}
	return false
}

// gameProgram is the absolute path of the game program in bin.
func gameProgram(bin string) (string, error) {
	p, err := filepath.Abs(filepath.Join(bin, binGame))
	if err == nil {
		p, err = filepath.EvalSymlinks(p)
	}
	if err != nil {
		return "", fmt.Errorf("no %s program in %s: run `ecsworld build` first (or pass -bin)", binGame, bin)
	}
	return p, nil
}

// runCluster reads the cluster file a start wrote in r.
func runCluster(r runDir) (*config.Cluster, error) {
	cl, err := config.Load(r.cluster())
	if err != nil {
		return nil, fmt.Errorf("the run directory's cluster file: %w", err)
	}
	return cl, nil
}

// snapshotOf is where game id of cl freezes to; relative paths are under
// the run directory, the processes' working directory.
func snapshotOf(r runDir, cl *config.Cluster, id uint16) string {
	g := cl.Game(id)
	if g == nil {
		return ""
	}
	p := g.SnapshotPath()
	if !filepath.IsAbs(p) {
		p = r.path(p)
	}
	return p
}

// freeze sends SIGHUP to every running game of ps and waits until each
// has exited having written a new snapshot.
func freeze(ctx context.Context, a *App, r runDir, ps []process, timeout time.Duration) error {
	cl, err := runCluster(r)
	if err != nil {
		return err
	}
	var games []process
	for _, p := range ps {
		if p.Role == config.RoleGame && alive(p) {
			games = append(games, p)
		}
	}
	if len(games) == 0 {
		return fmt.Errorf("no game of the cluster in %s is running: nothing to freeze (ecsworld restore starts frozen games)", r)
	}
	began := time.Now()
	before := map[string]time.Time{}
	logAt := map[string]int64{}
	for _, p := range games {
		if fi, err := os.Stat(snapshotOf(r, cl, p.ID)); err == nil {
			before[p.Name] = fi.ModTime()
		}
		if fi, err := os.Stat(r.log(p.Name)); err == nil {
			logAt[p.Name] = fi.Size()
		}
		if err := syscall.Kill(p.PID, syscall.SIGHUP); err != nil {
			return fmt.Errorf("freeze %s (pid %d): %w", p.Name, p.PID, err)
		}
	}
	aborted := func() string {
		for _, p := range games {
			if alive(p) && logSays(r.log(p.Name), logAt[p.Name], "FREEZE ABORTED") {
				return p.Name
			}
		}
		return ""
	}
	if err := waitGoneCtx(ctx, r, games, timeout, aborted); err != nil {
		var logs strings.Builder
		for _, p := range games {
			if alive(p) {
				fmt.Fprintf(&logs, "\nthe last lines of %s:\n%s", r.log(p.Name), tail(r.log(p.Name), logLines))
			}
		}
		return fmt.Errorf("freeze: %w (a game that cannot freeze carries on)%s", err, logs.String())
	}
	var errs []error
	for _, p := range games {
		path := snapshotOf(r, cl, p.ID)
		fi, err := os.Stat(path)
		if err != nil || (!before[p.Name].IsZero() && !fi.ModTime().After(before[p.Name])) {
			errs = append(errs, fmt.Errorf("%s exited without writing %s; the last lines of %s:\n%s",
				p.Name, path, r.log(p.Name), tail(r.log(p.Name), logLines)))
			continue
		}
		// Not ready any more: a restore waits for a new addresses file.
		os.Remove(r.addrs(p.Name))
		fmt.Fprintf(a.Stdout, "froze %s into %s (%d bytes)\n", p.Name, path, fi.Size())
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	fmt.Fprintf(a.Stdout, "froze %d games in %v\n", len(games), time.Since(began).Round(time.Millisecond))
	return nil
}

// logSays reports whether the log at path has what after offset from.
func logSays(path string, from int64, what string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return false
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	return err == nil && bytes.Contains(b, []byte(what))
}

// waitGoneCtx is waitGone that also ends with ctx, and as soon as failed
// names a process that will not go.
func waitGoneCtx(ctx context.Context, r runDir, ps []process, timeout time.Duration, failed func() string) error {
	done := make(chan error, 1)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		deadline := time.Now().Add(timeout)
		for wctx.Err() == nil {
			if err := waitGone(r, ps, 0); err == nil {
				done <- nil
				return
			} else if name := failed(); name != "" {
				done <- fmt.Errorf("%s could not freeze and carries on", name)
				return
			} else if time.Now().After(deadline) {
				done <- err
				return
			}
			time.Sleep(readyPoll)
		}
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
}

// restore starts every game of the cluster that is not running with
// -restore and waits until each is ready.
func restore(ctx context.Context, a *App, r runDir, ps []process, bin string, timeout time.Duration) error {
	prog, err := gameProgram(bin)
	if err != nil {
		return err
	}
	cl, err := runCluster(r)
	if err != nil {
		return err
	}
	l := &launcher{run: r, started: ps, exited: make(map[string]chan error)}
	var todo []proc1
	for _, g := range cl.Games {
		if i := indexProcess(ps, g.Name()); i >= 0 && alive(ps[i]) {
			continue
		}
		path := snapshotOf(r, cl, g.ID)
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s has no snapshot at %s: freeze it first (ecsworld freeze), or start the cluster afresh", g.Name(), path)
		}
		todo = append(todo, proc1{g.Process, prog})
	}
	if len(todo) == 0 {
		return fmt.Errorf("every game of the cluster in %s is running: nothing to restore (ecsworld reload freezes them first)", r)
	}
	for _, p := range todo {
		os.Remove(r.addrs(p.Name()))
		if err := l.spawnRestore(p); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(timeout)
	for _, p := range todo {
		if err := l.waitReady(ctx, p.Name(), deadline, timeout); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		i := indexProcess(l.started, p.Name())
		fmt.Fprintf(a.Stdout, "restored %s (pid %d) from %s\n", p.Name(), l.started[i].PID, snapshotOf(r, cl, p.ID))
	}
	return nil
}

func indexProcess(ps []process, name string) int {
	for i, p := range ps {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// spawnRestore is launcher.spawn with -restore: it replaces p's entry of
// the manifest (or adds one) rather than appending.
func (l *launcher) spawnRestore(p proc1) error {
	name := p.Name()
	logf, err := os.OpenFile(l.run.log(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s: log file: %w", name, err)
	}
	defer logf.Close()
	cmd := exec.Command(p.program, "-config", l.run.cluster(), "-id", strconv.Itoa(int(p.ID)), "-addrs", l.run.addrs(name), "-restore")
	cmd.Dir = string(l.run)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: start %s: %w", name, p.program, err)
	}
	pr := process{Name: name, Role: p.Role, ID: p.ID, PID: cmd.Process.Pid, Program: p.program, Started: time.Now().UTC()}
	if i := indexProcess(l.started, name); i >= 0 {
		l.started = append(l.started[:i:i], append([]process{pr}, l.started[i+1:]...)...)
	} else {
		l.started = append(l.started, pr)
	}
	exited := make(chan error, 1)
	l.exited[name] = exited
	go func() { exited <- cmd.Wait() }()
	if err := os.WriteFile(l.run.pidFile(name), []byte(strconv.Itoa(pr.PID)+"\n"), 0o644); err != nil {
		return fmt.Errorf("%s: pid file: %w", name, err)
	}
	return writeManifest(l.run, l.started)
}
