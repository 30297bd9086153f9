package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ecsworld/ecsworld/cli/proc"
	"github.com/ecsworld/ecsworld/config"
)

// Defaults of start and stop.
const (
	defaultRun          = "run"
	defaultReadyTimeout = 30 * time.Second
	defaultStopTimeout  = 10 * time.Second
	readyPoll           = 20 * time.Millisecond
	// logLines is how many lines of a failed process's log start prints.
	logLines = 20
)

func startVerb() Verb {
	return Verb{
		Name:    "start",
		Usage:   "start [-config FILE] [-run RUNDIR] [-bin BINDIR] [-timeout D] DIR",
		Summary: "start the cluster of DIR: dispatchers, then games, then gates",
		Help: `
Start runs every process of the cluster file (default DIR/cluster.toml) from
the programs ecsworld build put in BINDIR (default DIR/bin): the dispatchers
first, then the games, then the gates, each kind once the previous one is
ready (it wrote its addresses file: a dispatcher listens, a game is linked
to every dispatcher, a gate listens). Pid files, logs and the addresses each
process bound go under RUNDIR (default ./run); processes run with RUNDIR as
their working directory, so relative paths in the file (snapshot_dir) are
under it.

Dispatchers may listen on port 0: start then gives games and gates the
addresses they bound. If any process exits or is not ready within the
timeout, start prints the last lines of its log, stops every process it
started and exits 1.`,
		Flags: func(fs *flag.FlagSet) func(context.Context, *App, []string) error {
			cfg := fs.String("config", "", "cluster file (default DIR/cluster.toml)")
			run := fs.String("run", defaultRun, "run directory: pid files, logs, addresses")
			bin := fs.String("bin", "", "directory of the programs (default DIR/bin)")
			timeout := fs.Duration("timeout", defaultReadyTimeout, "how long each process may take to be ready")
			return func(ctx context.Context, a *App, args []string) error {
				dir, err := gameDirArgs("start", args, *timeout, bin)
				if err != nil {
					return err
				}
				if *cfg == "" {
					*cfg = filepath.Join(dir, "cluster.toml")
				}
				return start(ctx, a, startOptions{config: *cfg, run: *run, bin: *bin, timeout: *timeout})
			}
		},
	}
}

type startOptions struct {
	config, run, bin string
	timeout          time.Duration
}

// launcher starts processes and remembers them, to stop them all if one
// fails.
type launcher struct {
	run     runDir
	started []process
	exited  map[string]chan error // closed with the Wait result
}

func start(ctx context.Context, a *App, o startOptions) (err error) {
	cl, err := config.Load(o.config)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w\nwrite a cluster file there (docs/config.md lists every option) or pass one with -config", err)
		}
		return fmt.Errorf("the cluster file is not valid:\n%w\nfix it and run start again", err)
	}
	progs := map[string]string{config.RoleDispatcher: binDispatcher, config.RoleGame: binGame, config.RoleGate: binGate}
	for role, name := range progs {
		p, err := filepath.Abs(filepath.Join(o.bin, name))
		if err == nil {
			p, err = filepath.EvalSymlinks(p)
		}
		if err != nil {
			return fmt.Errorf("no %s program in %s: run `ecsworld build` first (or pass -bin)", name, o.bin)
		}
		progs[role] = p
	}
	runAbs, err := filepath.Abs(o.run)
	if err != nil {
		return err
	}
	r := runDir(runAbs)
	if ps, err := readManifest(r); err == nil {
		for _, p := range ps {
			if alive(p) {
				return fmt.Errorf("%s (pid %d) of a cluster started in %s is still running: run `ecsworld stop -run %s` first, or use another -run", p.Name, p.PID, r, o.run)
			}
		}
	}
	for _, d := range []string{"", "pids", "addrs", "logs"} {
		if err := os.MkdirAll(r.path(d), 0o755); err != nil {
			return fmt.Errorf("run directory: %w", err)
		}
	}
	// A fresh start: what an earlier run left would read as ready.
	for _, d := range []string{"pids", "addrs"} {
		old, _ := filepath.Glob(r.path(d, "*"))
		for _, f := range old {
			os.Remove(f)
		}
	}
	if err := writeManifest(r, nil); err != nil {
		return err
	}
	if err := writeCluster(r, cl); err != nil {
		return err
	}

	l := &launcher{run: r, exited: make(map[string]chan error)}
	defer func() {
		if err != nil && len(l.started) > 0 {
			fmt.Fprintf(a.Stderr, "ecsworld start: stopping the %d processes started\n", len(l.started))
			if serr := stopAll(a, r, l.started, defaultStopTimeout); serr != nil {
				err = fmt.Errorf("%w\nand stopping: %v", err, serr)
			}
		}
	}()

	// Dispatchers, then games and gates, which dial the dispatchers at the
	// addresses they bound.
	var ds []proc1
	for _, d := range cl.Dispatchers {
		ds = append(ds, proc1{d.Process, progs[config.RoleDispatcher]})
	}
	if err := l.startGroup(ctx, ds, o.timeout); err != nil {
		return err
	}
	for i := range cl.Dispatchers {
		d := &cl.Dispatchers[i]
		bound := readAddrs(r, d.Name())[proc.AddrTCP]
		if _, port, _ := net.SplitHostPort(d.Listen); port == "0" && d.Advertise == "" {
			if bound == "" {
				return fmt.Errorf("%s listens on port 0 and did not report the address it bound in %s", d.Name(), r.addrs(d.Name()))
			}
			d.Advertise = bound
		}
	}
	if err := writeCluster(r, cl); err != nil {
		return err
	}
	var gs, ts []proc1
	for _, g := range cl.Games {
		gs = append(gs, proc1{g.Process, progs[config.RoleGame]})
	}
	for _, t := range cl.Gates {
		ts = append(ts, proc1{t.Process, progs[config.RoleGate]})
	}
	if err := l.startGroup(ctx, gs, o.timeout); err != nil {
		return err
	}
	if err := l.startGroup(ctx, ts, o.timeout); err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "started %d processes in %s\n", len(l.started), r)
	for _, p := range l.started {
		fmt.Fprintf(a.Stdout, "  %-14s pid %-7d %s\n", p.Name, p.PID, formatAddrs(readAddrs(r, p.Name)))
	}
	var noMetrics []string
	for _, p := range l.started {
		if readAddrs(r, p.Name)[proc.AddrMetrics] == "" {
			noMetrics = append(noMetrics, p.Name)
		}
	}
	if len(noMetrics) > 0 {
		fmt.Fprintf(a.Stdout, "no metrics address for %s: status cannot show their figures (set metrics = \"127.0.0.1:0\" in their sections)\n", strings.Join(noMetrics, ", "))
	}
	fmt.Fprintf(a.Stdout, "status: ecsworld status -run %s\nstop:   ecsworld stop -run %s\n", o.run, o.run)
	return nil
}

// proc1 is one process to start: its config and its program.
type proc1 struct {
	config.Process
	program string
}

// writeCluster writes the cluster as the processes run it, every option
// spelled out (no inheritance left to resolve differently).
func writeCluster(r runDir, cl *config.Cluster) error {
	b, err := cl.MarshalTOML()
	if err != nil {
		return fmt.Errorf("write %s: %w", r.cluster(), err)
	}
	tmp := r.cluster() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil { // it holds the secret
		return fmt.Errorf("write %s: %w", r.cluster(), err)
	}
	return os.Rename(tmp, r.cluster())
}

// startGroup starts every process of one kind, then waits until all are
// ready.
func (l *launcher) startGroup(ctx context.Context, group []proc1, timeout time.Duration) error {
	for _, p := range group {
		if err := l.spawn(p); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(timeout)
	for _, p := range group {
		if err := l.waitReady(ctx, p.Name(), deadline, timeout); err != nil {
			return err
		}
	}
	return nil
}

func (l *launcher) spawn(p proc1) error {
	name := p.Name()
	logf, err := os.OpenFile(l.run.log(name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("%s: log file: %w", name, err)
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(p.program, "-config", l.run.cluster(), "-id", strconv.Itoa(int(p.ID)), "-addrs", l.run.addrs(name))
	cmd.Dir = string(l.run)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own session: a Ctrl-C meant for the terminal start ran in does
	// not reach the cluster, which lives until stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: start %s: %w", name, p.program, err)
	}
	pr := process{Name: name, Role: p.Role, ID: p.ID, PID: cmd.Process.Pid, Program: p.program, Started: time.Now().UTC()}
	l.started = append(l.started, pr)
	exited := make(chan error, 1)
	l.exited[name] = exited
	// Reaped here while start runs (in tests, for as long as the test
	// does); once start exits the process is the init process's child.
	go func() { exited <- cmd.Wait() }()
	if err := os.WriteFile(l.run.pidFile(name), []byte(strconv.Itoa(pr.PID)+"\n"), 0o644); err != nil {
		return fmt.Errorf("%s: pid file: %w", name, err)
	}
	return writeManifest(l.run, l.started)
}

func (l *launcher) waitReady(ctx context.Context, name string, deadline time.Time, timeout time.Duration) error {
	t := time.NewTicker(readyPoll)
	defer t.Stop()
	for {
		if _, err := os.Stat(l.run.addrs(name)); err == nil {
			return nil
		}
		select {
		case werr := <-l.exited[name]:
			l.exited[name] <- werr // kept for the next round
			if _, err := os.Stat(l.run.addrs(name)); err == nil {
				break // ready and gone at once: the next round reports it
			}
			return fmt.Errorf("%s exited before it was ready (%v); the last lines of %s:\n%s",
				name, exitText(werr), l.run.log(name), tail(l.run.log(name), logLines))
		case <-ctx.Done():
			return fmt.Errorf("interrupted while waiting for %s: %w", name, ctx.Err())
		case <-t.C:
			if time.Now().After(deadline) {
				return fmt.Errorf("%s was not ready after %v (no %s); the last lines of %s:\n%s",
					name, timeout, l.run.addrs(name), l.run.log(name), tail(l.run.log(name), logLines))
			}
		}
	}
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func formatAddrs(m map[string]string) string {
	var b strings.Builder
	for _, k := range []string{proc.AddrTCP, proc.AddrKCP, proc.AddrWS, proc.AddrMetrics} {
		if v := m[k]; v != "" {
			if b.Len() > 0 {
				b.WriteString("  ")
			}
			if k == proc.AddrMetrics {
				v = "http://" + v + "/metrics"
			}
			b.WriteString(k + " " + v)
		}
	}
	return b.String()
}
