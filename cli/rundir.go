package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ecsworld/ecsworld/cli/proc"
)

// runDir is the directory a started cluster lives in.
type runDir string

func (r runDir) path(elem ...string) string {
	return filepath.Join(append([]string{string(r)}, elem...)...)
}
func (r runDir) cluster() string            { return r.path("cluster.toml") }
func (r runDir) manifest() string           { return r.path("processes.json") }
func (r runDir) pidFile(name string) string { return r.path("pids", name+".pid") }
func (r runDir) addrs(name string) string   { return r.path("addrs", name+".json") }
func (r runDir) log(name string) string     { return r.path("logs", name+".log") }

// process is one started program, as processes.json records it.
type process struct {
	Name    string    `json:"name"` // "game.1"
	Role    string    `json:"role"`
	ID      uint16    `json:"id"`
	PID     int       `json:"pid"`
	Program string    `json:"program"`
	Started time.Time `json:"started"`
}

// maxManifest bounds processes.json: a file in a directory anyone may
// have edited.
const maxManifest = 4 << 20

// readManifest reads the processes a start recorded in r. A run directory
// without one is an error saying so.
func readManifest(r runDir) ([]process, error) {
	f, err := os.Open(r.manifest())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s has no processes.json: nothing was started there (start a cluster with `ecsworld start`, or pass the run directory with -run)", r)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxManifest+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.manifest(), err)
	}
	if len(b) > maxManifest {
		return nil, fmt.Errorf("%s is larger than %d bytes: not written by ecsworld start", r.manifest(), maxManifest)
	}
	var ps []process
	if err := json.Unmarshal(b, &ps); err != nil {
		return nil, fmt.Errorf("%s: %w (remove the run directory if no cluster runs from it)", r.manifest(), err)
	}
	for _, p := range ps {
		if p.PID <= 1 {
			return nil, fmt.Errorf("%s: %s has pid %d: the file is damaged", r.manifest(), p.Name, p.PID)
		}
	}
	return ps, nil
}

// writeManifest writes processes.json atomically, after every start, so
// kill finds every process even if start itself dies.
func writeManifest(r runDir, ps []process) error {
	b, err := json.MarshalIndent(ps, "", "  ")
	if err != nil {
		return err
	}
	tmp := r.manifest() + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", r.manifest(), err)
	}
	return os.Rename(tmp, r.manifest())
}

// alive reports whether p is still running: its pid exists, is not a
// zombie, and (where /proc tells) still runs p's program, so a pid reused
// by another program after a crash is not taken for ours.
func alive(p process) bool {
	if err := syscall.Kill(p.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/stat")
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist) // no /proc here: trust kill
	}
	// The state follows the command name in parentheses, which may hold
	// spaces: take the last ')'.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		if s := stat[i+2]; s == 'Z' || s == 'X' {
			return false
		}
	}
	if exe, err := os.Readlink("/proc/" + strconv.Itoa(p.PID) + "/exe"); err == nil && p.Program != "" {
		exe = strings.TrimSuffix(exe, " (deleted)") // rebuilt while running
		if exe != p.Program {
			return false
		}
	}
	return true
}

// tail returns the last n lines of a log file, for errors.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	const maxTail = 64 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > maxTail {
		f.Seek(fi.Size()-maxTail, io.SeekStart)
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), maxTail)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if len(lines) == 0 {
		return "(the log is empty)"
	}
	return strings.Join(lines, "\n")
}

// readAddrs reads a process's addresses file; nil when it has none yet.
func readAddrs(r runDir, name string) map[string]string {
	m, err := proc.ReadAddrs(r.addrs(name))
	if err != nil {
		return nil
	}
	return m
}
