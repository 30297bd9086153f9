package cli

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stubborn starts a shell that ignores SIGTERM (and a child of it, in its
// process group), as start would, and returns it as a process of role.
func stubborn(t *testing.T, role, name string) (process, <-chan error) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	cmd := exec.Command(sh, "-c", `trap "" TERM; echo ready; sleep 30 & wait; sleep 30`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Its trap is in place once it says so.
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("shell said %q %v", line, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	exe, err := os.Readlink("/proc/" + itoa(cmd.Process.Pid) + "/exe")
	if err != nil {
		exe = sh
	}
	p := process{Name: name, Role: role, PID: cmd.Process.Pid, Program: exe, Started: time.Now()}
	t.Cleanup(func() {
		if alive(p) {
			kill(p)
		}
	})
	return p, done
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestStopEscalates: a process that ignores SIGTERM is killed after the
// timeout, with a message, and its pid file removed.
func TestStopEscalates(t *testing.T) {
	r := runDir(t.TempDir())
	os.MkdirAll(r.path("pids"), 0o755)
	p, done := stubborn(t, "game", "game.1")
	os.WriteFile(r.pidFile(p.Name), []byte(itoa(p.PID)), 0o644)
	var errOut bytes.Buffer
	a := New(&bytes.Buffer{}, &errOut)
	if err := stopAll(a, r, []process{p}, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the process is still running")
	}
	if !strings.Contains(errOut.String(), "game.1 (pid") || !strings.Contains(errOut.String(), "killing it") {
		t.Errorf("stop said %q", errOut.String())
	}
	if _, err := os.Stat(r.pidFile(p.Name)); err == nil {
		t.Error("pid file left")
	}
}

func TestAlive(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	self, _ = filepath.EvalSymlinks(self)
	me := process{Name: "x", PID: os.Getpid(), Program: self}
	if !alive(me) {
		t.Error("this process is not alive")
	}
	other := me
	other.Program = "/no/such/program"
	if _, err := os.Stat("/proc/self/exe"); err == nil && alive(other) {
		t.Error("a pid running another program counts as ours")
	}
	p, done := stubborn(t, "gate", "gate.1")
	kill(p)
	select {
	case <-done: // reaped
	case <-time.After(10 * time.Second):
		t.Fatal("SIGKILL did not stop the process")
	}
	if alive(p) {
		t.Error("a reaped process is alive")
	}
}
