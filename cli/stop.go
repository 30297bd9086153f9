package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/ecsworld/ecsworld/config"
)

// killWait bounds how long a SIGKILLed process may take to disappear.
const killWait = 5 * time.Second

func stopVerb() Verb {
	return Verb{
		Name:    "stop",
		Usage:   "stop [-run RUNDIR] [-timeout D]",
		Summary: "stop the cluster gracefully: gates, then games, then dispatchers",
		Help: `
Stop sends SIGTERM to the gates of the cluster started in RUNDIR (default
./run), waits until they have exited, then does the same for the games and
then the dispatchers, so clients are told and games flush their last tick.
A process still running after the timeout gets SIGKILL. Logs stay in
RUNDIR/logs.`,
		Flags: func(fs *flag.FlagSet) func(context.Context, *App, []string) error {
			run := fs.String("run", defaultRun, "run directory of the cluster")
			timeout := fs.Duration("timeout", defaultStopTimeout, "how long each kind may take to exit before SIGKILL")
			return func(ctx context.Context, a *App, args []string) error {
				if len(args) != 0 {
					return usageErr("stop takes no arguments, got %q", args)
				}
				if *timeout <= 0 {
					return usageErr("-timeout must be positive")
				}
				r, ps, err := openRun(*run)
				if err != nil {
					return err
				}
				if err := stopAll(a, r, ps, *timeout); err != nil {
					return err
				}
				fmt.Fprintf(a.Stdout, "stopped the cluster in %s\n", r)
				return nil
			}
		},
	}
}

func killVerb() Verb {
	return Verb{
		Name:    "kill",
		Usage:   "kill [-run RUNDIR]",
		Summary: "kill every process of the cluster at once (SIGKILL)",
		Help: `
Kill sends SIGKILL to every process of the cluster started in RUNDIR
(default ./run) and to what they started, without waiting for anything to
flush: for a cluster that does not stop. Use stop otherwise.`,
		Flags: func(fs *flag.FlagSet) func(context.Context, *App, []string) error {
			run := fs.String("run", defaultRun, "run directory of the cluster")
			return func(ctx context.Context, a *App, args []string) error {
				if len(args) != 0 {
					return usageErr("kill takes no arguments, got %q", args)
				}
				r, ps, err := openRun(*run)
				if err != nil {
					return err
				}
				for _, p := range ps {
					if alive(p) {
						kill(p)
					}
				}
				if err := waitGone(r, ps, killWait); err != nil {
					return err
				}
				fmt.Fprintf(a.Stdout, "killed the cluster in %s\n", r)
				return nil
			}
		},
	}
}

func openRun(run string) (runDir, []process, error) {
	if _, err := os.Stat(run); err != nil {
		return "", nil, fmt.Errorf("no run directory %s: start a cluster with `ecsworld start`, or pass its run directory with -run", run)
	}
	r := runDir(run)
	ps, err := readManifest(r)
	return r, ps, err
}

// stopAll stops ps gracefully, gates first, then games, then dispatchers.
func stopAll(a *App, r runDir, ps []process, timeout time.Duration) error {
	for _, role := range []string{config.RoleGate, config.RoleGame, config.RoleDispatcher} {
		var group []process
		for _, p := range ps {
			if p.Role == role && alive(p) {
				group = append(group, p)
			}
		}
		for _, p := range group {
			syscall.Kill(p.PID, syscall.SIGTERM)
		}
		if err := waitGone(r, group, timeout); err == nil {
			continue
		}
		for _, p := range group {
			if alive(p) {
				fmt.Fprintf(a.Stderr, "ecsworld: %s (pid %d) did not exit %v after SIGTERM: killing it\n", p.Name, p.PID, timeout)
				kill(p)
			}
		}
		if err := waitGone(r, group, killWait); err != nil {
			return err
		}
	}
	// Processes of another role (a damaged manifest) are not left behind.
	return waitGone(r, ps, 0)
}

// kill sends SIGKILL to p's process group (start gives each its own
// session), or to p alone if it has no group.
func kill(p process) {
	if err := syscall.Kill(-p.PID, syscall.SIGKILL); err != nil {
		syscall.Kill(p.PID, syscall.SIGKILL)
	}
}

// waitGone waits until none of ps is alive, removing the pid files of
// those gone; with timeout 0 it only checks.
func waitGone(r runDir, ps []process, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var left []string
		for _, p := range ps {
			if alive(p) {
				left = append(left, fmt.Sprintf("%s (pid %d)", p.Name, p.PID))
			} else {
				os.Remove(r.pidFile(p.Name))
			}
		}
		if len(left) == 0 {
			return nil
		}
		if !time.Now().Before(deadline) {
			return errors.New("still running: " + strings.Join(left, ", ") + ": try `ecsworld kill`, or kill them by pid")
		}
		time.Sleep(readyPoll)
	}
}
