package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/examples/test_client/bots"
)

// binDir holds the binaries built once by TestMain.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ecsworld-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	// Plain builds (no -race even when the tests run with it): the
	// processes are the system under test, not the race detector's.
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator),
		"./cmd/dispatcher", "./cmd/gate", "./examples/test_game", "./examples/test_client")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build: %v\n%s", err, out)
		return 1
	}
	binDir = dir
	return m.Run()
}

// spec is the shape of a test cluster.
type spec struct {
	Dispatchers, Games, Gates int
	Monsters                  int    // per game
	GateExtra                 string // extra lines for the [gate] section
}

// proc is one running process.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error // after done
	killed  bool  // by the test
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// gateAddrs are a gate's bound listeners (cmd/gate -addrs).
type gateAddrs struct {
	KCP string `json:"kcp"`
	TCP string `json:"tcp"`
	WS  string `json:"ws"`

	Metrics string `json:"metrics"`
}

func (a gateAddrs) of(transport string) string {
	switch transport {
	case "kcp":
		return a.KCP
	case "tcp":
		return a.TCP
	}
	return a.WS
}

// cluster is a running test cluster.
type cluster struct {
	t     *testing.T
	dir   string
	spec  spec
	mu    sync.Mutex
	procs []*proc

	dispAddrs []string
	metrics   map[*proc]string // each process's metrics address
	gates     []*proc
	gateAddrs []gateAddrs
	games     []*proc
	debug     []string // the games' debug endpoints, in game id order
}

// startCluster starts s's processes and waits until every game is
// connected to every dispatcher and every gate listens. Everything is
// killed when the test ends.
func startCluster(t *testing.T, s spec) *cluster {
	t.Helper()
	c := &cluster{t: t, dir: t.TempDir(), spec: s, metrics: map[*proc]string{}}
	t.Cleanup(c.killAll)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Dispatchers listen on port 0 and report the address they bound.
	base := c.writeConfig("dispatchers.toml", nil)
	for i := 1; i <= s.Dispatchers; i++ {
		af := filepath.Join(c.dir, fmt.Sprintf("dispatcher-%d.addr", i))
		p := c.start(fmt.Sprintf("dispatcher-%d", i), "dispatcher", "-config", base, "-id", fmt.Sprint(i), "-addrs", af)
		var a struct{ TCP, Metrics string }
		c.waitJSON(ctx, af, &a)
		c.dispAddrs = append(c.dispAddrs, a.TCP)
		c.metrics[p] = a.Metrics
	}
	// Everyone else reads the file with each dispatcher's advertise set.
	cfg := c.writeConfig("cluster.toml", c.dispAddrs)

	for i := 1; i <= s.Games; i++ {
		af := filepath.Join(c.dir, fmt.Sprintf("game-%d.addr", i))
		p := c.start(fmt.Sprintf("game-%d", i), "test_game", "-config", cfg, "-id", fmt.Sprint(i),
			"-debug", "127.0.0.1:0", "-addrs", af, "-monsters", fmt.Sprint(s.Monsters), "-seed", fmt.Sprint(i))
		var a struct{ Debug, Metrics string }
		c.waitJSON(ctx, af, &a)
		c.metrics[p] = a.Metrics
		c.games = append(c.games, p)
		c.debug = append(c.debug, a.Debug)
	}
	for i, d := range c.debug {
		c.poll(ctx, fmt.Sprintf("game %d connected to every dispatcher", i+1), func() bool {
			st, err := bots.FetchState(ctx, d)
			return err == nil && st.Stat("Connected") == uint64(s.Dispatchers)
		})
	}
	for i := 1; i <= s.Gates; i++ {
		af := filepath.Join(c.dir, fmt.Sprintf("gate-%d.addr", i))
		p := c.start(fmt.Sprintf("gate-%d", i), "gate", "-config", cfg, "-id", fmt.Sprint(i), "-addrs", af)
		var a gateAddrs
		c.waitJSON(ctx, af, &a)
		c.metrics[p] = a.Metrics
		c.gates = append(c.gates, p)
		c.gateAddrs = append(c.gateAddrs, a)
	}
	return c
}

// writeConfig writes the cluster file; with advertise set, each
// dispatcher's advertise is its bound address.
func (c *cluster) writeConfig(name string, advertise []string) string {
	var b strings.Builder
	b.WriteString(`[common]
secret = "e2e-secret"
log_level = "info"

[common.link]
heartbeat_interval = "500ms"
idle_timeout = "5s"

`)
	// Every process serves its metrics on a port of its choice.
	b.WriteString("[dispatcher]\nmetrics = \"127.0.0.1:0\"\n")
	for i := 1; i <= c.spec.Dispatchers; i++ {
		fmt.Fprintf(&b, "[dispatcher.%d]\nlisten = \"127.0.0.1:0\"\n", i)
		if advertise != nil {
			fmt.Fprintf(&b, "advertise = %q\n", advertise[i-1])
		}
	}
	b.WriteString("\n[game]\ntick_rate = 20\nposition_sync_rate = 10\nmetrics = \"127.0.0.1:0\"\n")
	for i := 1; i <= c.spec.Games; i++ {
		fmt.Fprintf(&b, "[game.%d]\n", i)
	}
	b.WriteString(`
[gate]
kcp_listen = "127.0.0.1:0"
tcp_listen = "127.0.0.1:0"
ws_listen = "127.0.0.1:0"
metrics = "127.0.0.1:0"
heartbeat_interval = "1s"
idle_timeout = "6s"
max_msgs_per_second = 100
`)
	if os.Getenv("E2E_GATE_DEBUG") != "" {
		b.WriteString("log_level = \"debug\"\n")
	}
	b.WriteString(c.spec.GateExtra)
	b.WriteString("\n")
	for i := 1; i <= c.spec.Gates; i++ {
		fmt.Fprintf(&b, "[gate.%d]\n", i)
	}
	path := filepath.Join(c.dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// start runs binary bin in its own process group, its output in a log
// file.
func (c *cluster) start(name, bin string, args ...string) *proc {
	c.t.Helper()
	logPath := filepath.Join(c.dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, bin), args...)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		c.t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p
}

// kill sends SIGKILL to p's process group and waits for it.
func (c *cluster) kill(p *proc) {
	p.killed = true
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		c.t.Errorf("%s did not die", p.name)
	}
}

// killAll kills every process (cleanup); on failure it prints their logs.
func (c *cluster) killAll() {
	c.mu.Lock()
	procs := slices.Clone(c.procs)
	c.mu.Unlock()
	for _, p := range procs {
		if !p.exited() {
			c.kill(p)
		}
	}
	// E2E_LOGDIR keeps the logs of failed tests (of every test with
	// E2E_KEEPLOGS set) for a closer look.
	if d := os.Getenv("E2E_LOGDIR"); d != "" && (c.t.Failed() || os.Getenv("E2E_KEEPLOGS") != "") {
		dst := filepath.Join(d, c.t.Name())
		if err := os.MkdirAll(dst, 0o755); err == nil {
			for _, p := range procs {
				if b, err := os.ReadFile(p.logPath); err == nil {
					_ = os.WriteFile(filepath.Join(dst, filepath.Base(p.logPath)), b, 0o644)
				}
			}
		}
	}
	if c.t.Failed() {
		for _, p := range procs {
			c.t.Logf("---- %s (%s) last lines:\n%s", p.name, p.logPath, tail(p.logPath, 40))
		}
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// checkAlive fails the test for every process that exited without the
// test killing it.
func (c *cluster) checkAlive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.procs {
		if p.exited() && !p.killed {
			c.t.Errorf("%s exited unexpectedly: %v", p.name, p.err)
		}
	}
}

// poll waits until cond holds, checking every 50 ms, failing the test when
// ctx ends or a process died.
func (c *cluster) poll(ctx context.Context, what string, cond func() bool) {
	c.t.Helper()
	for !cond() {
		c.mu.Lock()
		for _, p := range c.procs {
			if p.exited() && !p.killed {
				c.mu.Unlock()
				c.t.Fatalf("waiting for %s: %s exited: %v\n%s", what, p.name, p.err, tail(p.logPath, 30))
			}
		}
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			c.t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitJSON waits for path (written atomically by the process) and decodes it.
func (c *cluster) waitJSON(ctx context.Context, path string, v any) {
	c.t.Helper()
	c.poll(ctx, filepath.Base(path), func() bool {
		b, err := os.ReadFile(path)
		return err == nil && json.Unmarshal(b, v) == nil
	})
}

// states reads every live game's debug state.
func (c *cluster) states(ctx context.Context) []*bots.ServerState {
	c.t.Helper()
	out, err := bots.FetchAll(ctx, c.debug)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// freezeMonsters stops (or restarts) every game's monsters.
func (c *cluster) freezeMonsters(ctx context.Context, frozen bool) {
	c.t.Helper()
	for _, d := range c.debug {
		if err := bots.FreezeMonsters(ctx, d, frozen); err != nil {
			c.t.Fatal(err)
		}
	}
}

// logLine matches zap console lines at warn level or above.
var logLine = regexp.MustCompile(`\t(WARN|ERROR|DPANIC|PANIC|FATAL)\t`)

// badLogLines returns p's lines at warn level or above that match none of
// the allowed patterns.
func badLogLines(p *proc, allowed ...*regexp.Regexp) []string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return []string{err.Error()}
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
next:
	for sc.Scan() {
		line := sc.Text()
		if !logLine.MatchString(line) {
			continue
		}
		for _, a := range allowed {
			if a.MatchString(line) {
				continue next
			}
		}
		out = append(out, line)
	}
	return out
}

// checkLogs fails the test for warn/error lines in the logs of the given
// processes (all when none are named) that the test did not provoke.
func (c *cluster) checkLogs(procs []*proc, allowed ...*regexp.Regexp) {
	c.t.Helper()
	if procs == nil {
		procs = c.procs
	}
	for _, p := range procs {
		if bad := badLogLines(p, allowed...); len(bad) > 0 {
			if len(bad) > 10 {
				bad = append(bad[:10], fmt.Sprintf("... %d more", len(bad)-10))
			}
			c.t.Errorf("%s logged %d unexpected warnings or errors:\n%s", p.name, len(bad), strings.Join(bad, "\n"))
		}
	}
}

// grepLog returns p's log lines containing all of the substrings.
func grepLog(p *proc, subs ...string) []string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range bytes.Split(b, []byte("\n")) {
		ok := true
		for _, s := range subs {
			if !bytes.Contains(line, []byte(s)) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, string(line))
		}
	}
	return out
}

// countLog counts p's log lines containing all of the substrings.
func countLog(p *proc, subs ...string) int { return len(grepLog(p, subs...)) }

// connectBots logs n bots in over transport, spread over the given gates.
func (c *cluster) connectBots(ctx context.Context, prefix, transport string, n int, gates []int, opts bots.Options) []*bots.Bot {
	c.t.Helper()
	out := make([]*bots.Bot, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := opts
			o.Transport = transport
			o.Addr = c.gateAddrs[gates[i%len(gates)]].of(transport)
			o.Name = fmt.Sprintf("%s%d", prefix, i)
			o.Seed = uint64(1000 + i)
			out[i], errs[i] = bots.Connect(ctx, o)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, b := range out {
			if b != nil {
				b.Close()
			}
		}
		c.t.Fatalf("bots did not log in: %v", err)
	}
	c.t.Cleanup(func() {
		for _, b := range out {
			b.Close()
		}
	})
	return out
}

// runBots plays bs until ctx ends, then settles them.
func runBots(ctx context.Context, bs []*bots.Bot) {
	var wg sync.WaitGroup
	for _, b := range bs {
		wg.Add(1)
		go func() { defer wg.Done(); b.Run(ctx) }()
	}
	wg.Wait()
	for _, b := range bs {
		wg.Add(1)
		go func() { defer wg.Done(); b.Settle(context.Background()) }()
	}
	wg.Wait()
}

// checkProblems fails the test for every bot problem.
func checkProblems(t *testing.T, bs []*bots.Bot) {
	t.Helper()
	n := 0
	for _, b := range bs {
		for _, p := range b.Problems() {
			if n < 20 {
				t.Errorf("bot problem: %s", p)
			}
			n++
		}
	}
	if n > 20 {
		t.Errorf("... %d bot problems in all", n)
	}
}
