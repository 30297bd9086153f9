package config

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const minimal = "[dispatcher.1]\n[game.1]\n[gate.1]\n"

func mustParse(t *testing.T, src string) *Cluster {
	t.Helper()
	c, err := Parse("cluster.toml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%v\nfile:\n%s", err, src)
	}
	return c
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, minimal)
	d := Default()
	d.Path = "cluster.toml"
	if !reflect.DeepEqual(c, d) {
		t.Fatalf("minimal file and Default differ:\nfile    %+v\nDefault %+v", c, d)
	}

	disp, game, gate := c.Dispatchers[0], c.Games[0], c.Gates[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"common.secret", c.Common.Secret, ""},
		{"common.log_level", c.Common.LogLevel, "info"},
		{"common.log_format", c.Common.LogFormat, "console"},
		{"common.pprof", c.Common.Pprof, false},
		{"link.heartbeat_interval", c.Common.Link.HeartbeatInterval, 2 * time.Second},
		{"link.idle_timeout", c.Common.Link.IdleTimeout, 10 * time.Second},
		{"link.compression", c.Common.Link.Compression, "s2"},
		{"link.compress_threshold", c.Common.Link.CompressThreshold, 512},
		{"link.max_frame", c.Common.Link.MaxFrame, 1 << 20},
		{"dispatcher id", disp.ID, uint16(1)},
		{"dispatcher role", disp.Role, "dispatcher"},
		{"dispatcher link", disp.Link, c.Common.Link},
		{"dispatcher log_level", disp.LogLevel, "info"},
		{"dispatcher listen", disp.Listen, "127.0.0.1:13001"},
		{"dispatcher advertise", disp.Advertise, ""},
		{"dispatcher metrics", disp.Metrics, ""},
		{"frozen_queue_timeout", disp.FrozenQueueTimeout, 60 * time.Second},
		{"frozen_queue_max", disp.FrozenQueueMax, 100000},
		{"boot_entity", game.BootEntity, "Account"},
		{"tick_rate", game.TickRate, 20},
		{"aoi_cell_size", game.AOICellSize, 0.0},
		{"position_sync_rate", game.PositionSyncRate, 10},
		{"snapshot_dir", game.SnapshotDir, "snapshots"},
		{"kcp_listen", gate.KCPListen, "127.0.0.1:14001"},
		{"tcp_listen", gate.TCPListen, "127.0.0.1:14002"},
		{"ws_listen", gate.WSListen, "127.0.0.1:14003"},
		{"ws_origins", gate.WSOrigins, []string(nil)},
		{"compression", gate.Compression, "s2"},
		{"compress_threshold", gate.CompressThreshold, 256},
		{"heartbeat_interval", gate.HeartbeatInterval, 5 * time.Second},
		{"idle_timeout", gate.IdleTimeout, 30 * time.Second},
		{"max_frame", gate.MaxFrame, 65536},
		{"max_msgs_per_second", gate.MaxMsgsPerSecond, 200},
		{"max_speed", gate.MaxSpeed, 20.0},
		{"observer_token", gate.ObserverToken, ""},
		{"kcp", gate.KCP, KCP{NoDelay: true, Interval: 10 * time.Millisecond, Resend: 2, NoCongestion: true,
			Window: 256, MTU: 1350, SocketBuffer: 4 << 20}},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
}

func TestBuiltClustersValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *Cluster
	}{
		{"Default", Default()},
		{"Ephemeral(1,1,1)", Ephemeral(1, 1, 1)},
		{"Ephemeral(3,4,5)", Ephemeral(3, 4, 5)},
		{"Ephemeral(0,0,0)", Ephemeral(0, 0, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.c.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
	e := Ephemeral(2, 3, 4)
	if len(e.Dispatchers) != 2 || len(e.Games) != 3 || len(e.Gates) != 4 {
		t.Fatalf("Ephemeral(2,3,4) has %d/%d/%d processes", len(e.Dispatchers), len(e.Games), len(e.Gates))
	}
	for _, g := range e.Gates {
		if g.KCPListen != "127.0.0.1:0" || g.TCPListen != "127.0.0.1:0" || g.WSListen != "127.0.0.1:0" {
			t.Errorf("%s listens on fixed ports: %+v", g.Name(), g)
		}
	}
	if got := e.DispatcherAddrs(); !reflect.DeepEqual(got, []string{"127.0.0.1:0", "127.0.0.1:0"}) {
		t.Errorf("DispatcherAddrs = %q", got)
	}
	// What a launcher does once the dispatchers are listening.
	e.Dispatcher(2).Advertise = "127.0.0.1:40002"
	e.Dispatcher(1).Advertise = "127.0.0.1:40001"
	if got := e.DispatcherAddrs(); !reflect.DeepEqual(got, []string{"127.0.0.1:40001", "127.0.0.1:40002"}) {
		t.Errorf("DispatcherAddrs after Advertise = %q", got)
	}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateBuiltInCode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *Cluster)
		want   []string
	}{
		{"several mistakes", func(c *Cluster) {
			c.Games[0].TickRate = 0
			c.Gates[0].Secret = "other"
			c.Dispatchers = append(c.Dispatchers, c.Dispatchers[0])
		}, []string{
			"dispatcher.1: duplicate id: two dispatcher processes have id 1",
			"dispatcher.1.listen: 127.0.0.1:13001 is also the listen of dispatcher.1: set a different address for each process",
			"game.1.tick_rate: must be between 1 and 1000, got 0",
			"gate.1.secret: differs from common.secret: every process must share the cluster secret",
		}},
		{"process identity", func(c *Cluster) {
			c.Games[0].ID = 0
			c.Gates[0].Role = ""
			c.Dispatchers[0].Link.MaxFrame = 4096
		}, []string{
			"dispatcher.1.link: differs from common.link: both ends of an internal link use the same settings",
			"game.0: id must be between 1 and 65535, got 0",
			`gate.1: role is "", want "gate"`,
		}},
		{"values a file cannot hold", func(c *Cluster) {
			c.Games[0].BootEntity = "Player Account"
			c.Games[0].AOICellSize = math.Inf(1)
			c.Gates[0].KCP.Interval = 10*time.Millisecond + time.Microsecond
			c.Common.Secret = strings.Repeat("s", 5000)
			for _, p := range []*Process{&c.Dispatchers[0].Process, &c.Games[0].Process, &c.Gates[0].Process} {
				p.Secret = c.Common.Secret
			}
		}, []string{
			"common.secret: must be at most 4096 bytes, got 5000",
			"game.1.aoi_cell_size: must be 0 (derived from the AOI radius) or a positive size, got +Inf",
			`game.1.boot_entity: must be an entity type name (1 to 256 printable characters, no spaces), got "Player Account"`,
			"gate.1.kcp.interval: must be whole milliseconds between 10ms and 5s, got 10.001ms",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.change(c)
			if got := errLines(c.Validate()); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Validate:\ngot  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestInheritance(t *testing.T) {
	src := `
[common]
secret = "s3"
log_level = "debug"
log_format = "json"
pprof = true
[common.link]
max_frame = 2097152

[dispatcher.1]
metrics = "127.0.0.1:19001"
[dispatcher.2]
metrics = "127.0.0.1:19002"
pprof = false

[game]
log_level = "warn"
tick_rate = 30
metrics = "127.0.0.1:0"
[game.1]
[game.2]
log_level = "error"
tick_rate = 60
aoi_cell_size = 12

[gate]
max_speed = 7
metrics = "127.0.0.1:0"
[gate.kcp]
mtu = 1200
window = 512
[gate.1]
[gate.2]
max_speed = 9.5
[gate.2.kcp]
mtu = 1000
`
	c := mustParse(t, src)
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"common values reach every process", c.Gate(2).Secret, "s3"},
		{"link reaches every process", c.Game(1).Link.MaxFrame, 2 << 20},
		{"link keeps its other defaults", c.Dispatcher(1).Link.IdleTimeout, 10 * time.Second},
		{"common log_level", c.Dispatcher(1).LogLevel, "debug"},
		{"common log_level to gates", c.Gate(1).LogLevel, "debug"},
		{"kind overrides common", c.Game(1).LogLevel, "warn"},
		{"numbered overrides kind", c.Game(2).LogLevel, "error"},
		{"common log_format", c.Game(2).LogFormat, "json"},
		{"common pprof", c.Dispatcher(1).Pprof, true},
		{"numbered overrides common", c.Dispatcher(2).Pprof, false},
		{"kind option", c.Game(1).TickRate, 30},
		{"numbered option", c.Game(2).TickRate, 60},
		{"numbered only", c.Game(1).AOICellSize, 0.0},
		{"numbered only, set", c.Game(2).AOICellSize, 12.0},
		{"default stays", c.Game(2).BootEntity, "Account"},
		{"kind float", c.Gate(1).MaxSpeed, 7.0},
		{"numbered float", c.Gate(2).MaxSpeed, 9.5},
		{"kind subtable", c.Gate(1).KCP.MTU, 1200},
		{"numbered subtable", c.Gate(2).KCP.MTU, 1000},
		{"kind subtable under a numbered one", c.Gate(2).KCP.Window, 512},
		{"subtable default", c.Gate(2).KCP.Resend, 2},
		{"per-id default ports", c.Gate(2).TCPListen, "127.0.0.1:14005"},
		{"per-id default ports", c.Dispatcher(2).Listen, "127.0.0.1:13002"},
		{"Common keeps [common]", c.Common.LogLevel, "debug"},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
}

func TestHelpers(t *testing.T) {
	c := mustParse(t, `
[dispatcher.7]
[dispatcher.2]
advertise = "10.0.0.2:13002"
[dispatcher.30]
[game.5]
snapshot_dir = "/var/lib/ecs"
tick_rate = 50
[gate.3]
`)
	if got, want := c.DispatcherAddrs(), []string{"10.0.0.2:13002", "127.0.0.1:13007", "127.0.0.1:13030"}; !reflect.DeepEqual(got, want) {
		t.Errorf("DispatcherAddrs = %q, want %q", got, want)
	}
	if c.Dispatcher(7) == nil || c.Dispatcher(7).ID != 7 || c.Dispatcher(1) != nil {
		t.Error("Dispatcher(id) finds the wrong one")
	}
	if c.Game(5) == nil || c.Game(1) != nil || c.Gate(3) == nil || c.Gate(5) != nil {
		t.Error("Game/Gate(id) find the wrong one")
	}
	g := c.Game(5)
	if got := g.SnapshotPath(); got != filepath.Join("/var/lib/ecs", "game-5.snap") {
		t.Errorf("SnapshotPath = %q", got)
	}
	if got := g.TickInterval(); got != 20*time.Millisecond {
		t.Errorf("TickInterval = %v", got)
	}
	if got := g.Name(); got != "game.5" {
		t.Errorf("Name = %q", got)
	}
}

func TestWarnings(t *testing.T) {
	if w := Default().Warnings(); len(w) != 1 || !strings.Contains(w[0], "common.secret is empty") {
		t.Errorf("Default warnings = %q", w)
	}
	c := mustParse(t, `
[common]
secret = "x"
[dispatcher.1]
[game.1]
metrics = "0.0.0.0:19101"
pprof = true
[gate.1]
ws_origins = ["*"]
`)
	w := c.Warnings()
	if len(w) != 2 || !strings.Contains(w[0], "gate.1.ws_origins") || !strings.Contains(w[1], "game.1.pprof") {
		t.Errorf("warnings = %q", w)
	}
}

// TestExample loads the example file, checks what it says, and round-trips
// it through MarshalTOML.
func TestExample(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "cluster.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != filepath.Join("testdata", "cluster.toml") {
		t.Errorf("Path = %q", c.Path)
	}
	if len(c.Dispatchers) != 2 || len(c.Games) != 2 || len(c.Gates) != 2 {
		t.Fatalf("%d/%d/%d processes", len(c.Dispatchers), len(c.Games), len(c.Gates))
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"secret", c.Gate(1).Secret, "change-me"},
		{"advertise", c.DispatcherAddrs(), []string{"127.0.0.1:13001", "127.0.0.1:13002"}},
		{"dispatcher 2 log", c.Dispatcher(2).LogLevel, "debug"},
		{"game 1 pprof", c.Game(1).Pprof, true},
		{"game 2 tick", c.Game(2).TickRate, 30},
		{"game 2 format", c.Game(2).LogFormat, "json"},
		{"gate 2 ws off", c.Gate(2).WSListen, ""},
		{"gate 2 speed", c.Gate(2).MaxSpeed, 35.0},
		{"gate 2 mtu", c.Gate(2).KCP.MTU, 1200},
		{"gate 1 mtu", c.Gate(1).KCP.MTU, 1350},
		{"gate 2 key", c.Gate(2).KCP.CryptKey, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
		{"gate 1 key", c.Gate(1).KCP.CryptKey, []byte(nil)},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
	roundTrip(t, c)
}

func TestRoundTrip(t *testing.T) {
	odd := Default()
	odd.Common.Secret = "quote \" backslash \\ newline \n tab \t nul \x00 del \x7f é ✓"
	for _, p := range []*Process{&odd.Dispatchers[0].Process, &odd.Games[0].Process, &odd.Gates[0].Process} {
		p.Secret = odd.Common.Secret
	}
	odd.Games[0].AOICellSize = 1e21
	odd.Gates[0].MaxSpeed = 0.125
	odd.Gates[0].WSOrigins = []string{"*.example.com", "localhost"}
	odd.Gates[0].KCP.CryptKey = bytes.Repeat([]byte{0xab}, 32)
	odd.Dispatchers[0].FrozenQueueTimeout = 90*time.Minute + 1500*time.Millisecond
	for _, tc := range []struct {
		name string
		c    *Cluster
	}{
		{"Default", Default()},
		{"Ephemeral", Ephemeral(2, 2, 2)},
		{"odd values", odd},
	} {
		t.Run(tc.name, func(t *testing.T) { roundTrip(t, tc.c) })
	}
}

// roundTrip checks that Parse(MarshalTOML(c)) == c.
func roundTrip(t *testing.T, c *Cluster) {
	t.Helper()
	data, err := c.MarshalTOML()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(c.Path, data)
	if err != nil {
		t.Fatalf("Parse(MarshalTOML):\n%v\n%s", err, data)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip differs:\nbefore %+v\nafter  %+v\nfile:\n%s", c, back, data)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.toml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	big := filepath.Join(dir, "big.toml")
	data := append([]byte(minimal), bytes.Repeat([]byte("#"), MaxFileSize)...)
	if err := os.WriteFile(big, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(big)
	want := big + ": file is larger than 1048576 bytes"
	if err == nil || err.Error() != want {
		t.Errorf("big file: %v, want %q", err, want)
	}
}

// TestDocsListEveryOption keeps docs/config.md in step with the options.
func TestDocsListEveryOption(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	all = append(all, names(commonSpecs)...)
	all = append(all, names(dispatcherSpecs)...)
	all = append(all, names(gameSpecs)...)
	all = append(all, names(gateSpecs)...)
	for _, n := range all {
		if i := strings.LastIndexByte(n, '.'); i >= 0 {
			n = n[i+1:]
		}
		if !bytes.Contains(doc, []byte("`"+n+"`")) {
			t.Errorf("docs/config.md does not describe %s", n)
		}
	}
	for _, table := range []string{"[common]", "[common.link]", "[dispatcher.N]", "[game.N]", "[gate.N]", "[gate.N.kcp]"} {
		if !bytes.Contains(doc, []byte(table)) {
			t.Errorf("docs/config.md does not have a %s section", table)
		}
	}
}

// errLines is the messages of a joined error, one per *Error.
func errLines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}
