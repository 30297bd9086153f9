package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// complete adds a [kind.1] section for each kind the file has no numbered
// section of, so that a case shows only the mistake it is about.
func complete(src string) string {
	for _, kind := range []string{RoleDispatcher, RoleGame, RoleGate} {
		if !regexp.MustCompile(`(?m)^\s*\[` + kind + `\.\d`).MatchString(src) {
			src += "\n[" + kind + ".1]\n"
		}
	}
	return src
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name string
		src  string // completed with missing kinds unless raw
		raw  bool
		want []string
	}{
		// ranges
		{name: "tick_rate 0", src: "[game.1]\ntick_rate = 0",
			want: []string{"cluster.toml:2: game.1.tick_rate: must be between 1 and 1000, got 0"}},
		{name: "tick_rate too high", src: "[game.1]\n\ntick_rate = 1001",
			want: []string{"cluster.toml:3: game.1.tick_rate: must be between 1 and 1000, got 1001"}},
		{name: "negative rate", src: "[game.1]\nposition_sync_rate = -1",
			want: []string{"cluster.toml:2: game.1.position_sync_rate: must be between 1 and 1000, got -1"}},
		{name: "negative msgs rate", src: "[gate]\nmax_msgs_per_second = -5",
			want: []string{"cluster.toml:2: gate.max_msgs_per_second: must be between 1 and 1000000, got -5"}},
		{name: "negative speed", src: "[gate.1]\nmax_speed = -1.5",
			want: []string{"cluster.toml:2: gate.1.max_speed: must be a positive speed, got -1.5"}},
		{name: "nan speed", src: "[gate.1]\nmax_speed = nan",
			want: []string{"cluster.toml:2: gate.1.max_speed: want a finite number, got float NaN"}},
		{name: "negative cell size", src: "[game]\naoi_cell_size = -1",
			want: []string{"cluster.toml:2: game.aoi_cell_size: must be 0 (derived from the AOI radius) or a positive size, got -1"}},
		{name: "frame too small", src: "[common.link]\nmax_frame = 100",
			want: []string{"cluster.toml:2: common.link.max_frame: must be between 256 and 268435456, got 100"}},
		{name: "kcp mtu", src: "[gate.1.kcp]\nmtu = 9000",
			want: []string{"cluster.toml:2: gate.1.kcp.mtu: must be between 50 and 1500, got 9000"}},
		{name: "kcp interval", src: "[gate.kcp]\ninterval = \"5ms\"",
			want: []string{"cluster.toml:2: gate.kcp.interval: must be whole milliseconds between 10ms and 5s, got 5ms"}},
		{name: "crypt key length", src: "[gate.kcp]\ncrypt_key = \"abcd\"",
			want: []string{"cluster.toml:2: gate.kcp.crypt_key: must be 32, 48 or 64 hex digits (a 16-, 24- or 32-byte AES key), got 4"}},
		{name: "crypt key not hex", src: "[gate.kcp]\ncrypt_key = \"secret\"",
			want: []string{`cluster.toml:2: gate.kcp.crypt_key: want hex digits (32, 48 or 64 of them), got string "secret"`}},
		{name: "bad value reported once for all who inherit it", src: "[game]\ntick_rate = 0\n[game.1]\n[game.2]\n[game.3]",
			want: []string{"cluster.toml:2: game.tick_rate: must be between 1 and 1000, got 0"}},
		{name: "bad value reported even if overridden", src: "[game]\ntick_rate = 0\n[game.1]\ntick_rate = 20",
			want: []string{"cluster.toml:2: game.tick_rate: must be between 1 and 1000, got 0"}},
		{name: "several errors, in file order", src: "[gate.1]\nmax_speed = 0\n[game.1]\ntick_rate = 0\nsnapshot_dir = \"\"",
			want: []string{
				"cluster.toml:2: gate.1.max_speed: must be a positive speed, got 0",
				"cluster.toml:4: game.1.tick_rate: must be between 1 and 1000, got 0",
				`cluster.toml:5: game.1.snapshot_dir: must be a directory path, got ""`,
			}},

		// durations
		{name: "bad duration", src: "[gate]\nheartbeat_interval = \"5 seconds\"",
			want: []string{`cluster.toml:2: gate.heartbeat_interval: want a duration such as "5s" or "250ms", got "5 seconds"`}},
		{name: "bare number duration", src: "[dispatcher.1]\nfrozen_queue_timeout = 60",
			want: []string{`cluster.toml:2: dispatcher.1.frozen_queue_timeout: want a duration string such as "5s" or "250ms", got integer 60`}},
		{name: "negative duration", src: "[dispatcher]\nfrozen_queue_timeout = \"-1s\"",
			want: []string{"cluster.toml:2: dispatcher.frozen_queue_timeout: must be positive, got -1s"}},
		{name: "idle not above heartbeat", src: "[gate]\nheartbeat_interval = \"40s\"",
			want: []string{"cluster.toml:2: gate.heartbeat_interval: must be shorter than idle_timeout (30s), got 40s"}},
		{name: "idle set below heartbeat", src: "[gate]\nheartbeat_interval = \"40s\"\n[gate.1]\nidle_timeout = \"20s\"",
			want: []string{"cluster.toml:4: gate.1.idle_timeout: must be longer than heartbeat_interval (40s), got 20s"}},
		{name: "link idle not above heartbeat", src: "[common.link]\nheartbeat_interval = \"4s\"\nidle_timeout = \"4s\"",
			want: []string{"cluster.toml:3: common.link.idle_timeout: must be longer than link.heartbeat_interval (4s), got 4s"}},

		// enums
		{name: "log level", src: "[common]\nlog_level = \"verbose\"",
			want: []string{`cluster.toml:2: common.log_level: must be one of debug, info, warn, error, got "verbose"`}},
		{name: "log format", src: "[game.1]\nlog_format = \"xml\"",
			want: []string{`cluster.toml:2: game.1.log_format: must be one of console, json, got "xml"`}},
		{name: "compression", src: "[gate]\ncompression = \"lz4\"",
			want: []string{`cluster.toml:2: gate.compression: must be one of none, s2, zstd, got "lz4"`}},
		{name: "link compression", src: "[common.link]\ncompression = \"gzip\"",
			want: []string{`cluster.toml:2: common.link.compression: must be one of none, s2, zstd, got "gzip"`}},

		// addresses
		{name: "no port", src: "[dispatcher.1]\nlisten = \"localhost\"",
			want: []string{`cluster.toml:2: dispatcher.1.listen: want an address host:port such as "127.0.0.1:13001", got "localhost"`}},
		{name: "port out of range", src: "[gate.1]\ntcp_listen = \"1.2.3.4:99999\"",
			want: []string{`cluster.toml:2: gate.1.tcp_listen: port must be a number between 0 and 65535, got "99999" in "1.2.3.4:99999"`}},
		{name: "named port", src: "[gate.1]\ntcp_listen = \"1.2.3.4:http\"",
			want: []string{`cluster.toml:2: gate.1.tcp_listen: port must be a number between 0 and 65535, got "http" in "1.2.3.4:http"`}},
		{name: "bad host", src: "[game.1]\nmetrics = \"bad host:1\"",
			want: []string{`cluster.toml:2: game.1.metrics: bad host "bad host" in "bad host:1": want an IP address or a DNS name`}},
		{name: "advertise all interfaces", src: "[dispatcher.1]\nadvertise = \"0.0.0.0:13001\"",
			want: []string{`cluster.toml:2: dispatcher.1.advertise: must be an address the other processes can dial (a host and a port), got "0.0.0.0:13001"`}},
		{name: "dispatcher listen off", src: "[dispatcher.1]\nlisten = \"\"",
			want: []string{"cluster.toml:2: dispatcher.1.listen: must be set"}},
		{name: "dispatcher id beyond default ports", src: "[dispatcher.60000]",
			want: []string{"cluster.toml:1: dispatcher.60000.listen: must be set (ids above 52535 have no default port)"}},
		{name: "gate without listener", src: "[gate.1]\nkcp_listen = \"\"\ntcp_listen = \"\"\nws_listen = \"\"",
			want: []string{"cluster.toml:1: gate.1: no client listener: set at least one of kcp_listen, tcp_listen, ws_listen"}},

		// duplicate listen addresses
		{name: "duplicate listen", src: "[gate.1]\n[gate.2]\ntcp_listen = \"127.0.0.1:14002\"",
			want: []string{"cluster.toml:3: gate.2.tcp_listen: 127.0.0.1:14002 is also the tcp_listen of gate.1: set a different address for each process"}},
		{name: "duplicate across kinds", src: "[dispatcher.1]\nmetrics = \"127.0.0.1:9000\"\n[game.1]\nmetrics = \"127.0.0.1:9000\"",
			want: []string{"cluster.toml:4: game.1.metrics: 127.0.0.1:9000 is also the metrics of dispatcher.1: set a different address for each process"}},
		{name: "duplicate inherited", src: "[gate]\nkcp_listen = \":14001\"\n[gate.1]\n[gate.2]",
			want: []string{"cluster.toml:2: gate.kcp_listen: :14001 is also the kcp_listen of gate.1: set a different address for each process"}},
		{name: "all-interfaces forms are one host", src: "[gate.1]\ntcp_listen = \"0.0.0.0:7000\"\n[gate.2]\ntcp_listen = \"[::]:7000\"",
			want: []string{"cluster.toml:4: gate.2.tcp_listen: [::]:7000 is also the tcp_listen of gate.1: set a different address for each process"}},
		{name: "duplicate advertise", src: "[dispatcher.1]\nadvertise = \"10.0.0.1:13001\"\n[dispatcher.2]\nadvertise = \"10.0.0.1:13001\"",
			want: []string{"cluster.toml:4: dispatcher.2.advertise: 10.0.0.1:13001 is also the address of dispatcher.1"}},

		// ids and kinds
		{name: "id 0", src: "[game.0]\n[game.1]",
			want: []string{"cluster.toml:1: game.0: id must be between 1 and 65535, got 0"}},
		{name: "id too large", src: "[gate.65536]\n[gate.1]",
			want: []string{"cluster.toml:1: gate.65536: id must be between 1 and 65535, got 65536"}},
		{name: "negative id", src: "[gate.-2]\n[gate.1]",
			want: []string{"cluster.toml:1: gate.-2: id must be between 1 and 65535, got -2"}},
		{name: "leading zero", src: "[game.01]\n[game.1]",
			want: []string{"cluster.toml:1: game.01: id must be written without leading zeros: 1"}},
		{name: "no dispatcher", raw: true, src: "[game.1]\n[gate.1]",
			want: []string{"cluster.toml: dispatcher: no dispatcher: a cluster needs at least one [dispatcher.N] section"}},
		{name: "no game, kind table only", raw: true, src: "[dispatcher.1]\n[game]\ntick_rate = 5\n[gate.1]",
			want: []string{"cluster.toml:2: game: no game: a cluster needs at least one [game.N] section"}},
		{name: "empty file", raw: true, src: "",
			want: []string{
				"cluster.toml: dispatcher: no dispatcher: a cluster needs at least one [dispatcher.N] section",
				"cluster.toml: game: no game: a cluster needs at least one [game.N] section",
				"cluster.toml: gate: no gate: a cluster needs at least one [gate.N] section",
			}},

		// unknown keys, anywhere
		{name: "unknown top level", src: "[games.1]",
			want: []string{"cluster.toml:1: games: unknown key (did you mean game?)"}},
		{name: "unknown in common", src: "[common]\nlog_levl = \"info\"",
			want: []string{"cluster.toml:2: common.log_levl: unknown key (did you mean log_level?)"}},
		{name: "unknown in common.link", src: "[common.link]\nheartbeat = \"1s\"",
			want: []string{"cluster.toml:2: common.link.heartbeat: unknown key"}},
		{name: "unknown in kind", src: "[dispatcher]\nlistn = \":1\"",
			want: []string{"cluster.toml:2: dispatcher.listn: unknown key (did you mean listen?)"}},
		{name: "unknown in numbered", src: "[game.1]\ntick_rat = 20",
			want: []string{"cluster.toml:2: game.1.tick_rat: unknown key (did you mean tick_rate?)"}},
		{name: "unknown non-numeric section", src: "[game.one]\n[game.1]",
			want: []string{"cluster.toml:1: game.one: unknown key"}},
		{name: "unknown in kind subtable", src: "[gate.kcp]\nmtuu = 1200",
			want: []string{"cluster.toml:2: gate.kcp.mtuu: unknown key (did you mean mtu?)"}},
		{name: "unknown in numbered subtable", src: "[gate.1.kcp]\nwindw = 1",
			want: []string{"cluster.toml:2: gate.1.kcp.windw: unknown key (did you mean window?)"}},
		{name: "unknown subtable", src: "[game.1.kcp]\nmtu = 1",
			want: []string{"cluster.toml:1: game.1.kcp: unknown key"}},
		{name: "unknown deep in a subtable", src: "[gate.1.kcp.extra]\nx = 1",
			want: []string{"cluster.toml:1: gate.1.kcp.extra: unknown key"}},
		{name: "unknown in inline table", src: "[gate.1]\nkcp = {mtu = 1200, bogus = 1}",
			want: []string{"cluster.toml:2: gate.1.kcp.bogus: unknown key"}},
		{name: "unknown as dotted key", raw: true, src: "game.1.tick_rte = 5\ndispatcher.1 = {}\ngate.1 = {}",
			want: []string{"cluster.toml:1: game.1.tick_rte: unknown key (did you mean tick_rate?)"}},
		{name: "keys are case sensitive", src: "[game.1]\nTick_Rate = 20",
			want: []string{"cluster.toml:2: game.1.Tick_Rate: unknown key (did you mean tick_rate?)"}},
		{name: "secret outside common", src: "[game.1]\nsecret = \"x\"",
			want: []string{"cluster.toml:2: game.1.secret: unknown key here (only [common] sets it: every process of the cluster shares it)"}},
		{name: "metrics in common", src: "[common]\nmetrics = \":9000\"",
			want: []string{"cluster.toml:2: common.metrics: unknown key here (metrics is an address per process: set it in [dispatcher.N], [game.N] or [gate.N])"}},

		// types and shapes
		{name: "string for int", src: "[game.1]\ntick_rate = \"20\"",
			want: []string{`cluster.toml:2: game.1.tick_rate: want an integer, got string "20"`}},
		{name: "float for int", src: "[game.1]\ntick_rate = 20.5",
			want: []string{"cluster.toml:2: game.1.tick_rate: want an integer, got float 20.5"}},
		{name: "string for bool", src: "[common]\npprof = \"yes\"",
			want: []string{`cluster.toml:2: common.pprof: want true or false, got string "yes"`}},
		{name: "int for string", src: "[common]\nsecret = 1234",
			want: []string{"cluster.toml:2: common.secret: want a string, got integer 1234"}},
		{name: "string for array", src: "[gate.1]\nws_origins = \"*\"",
			want: []string{`cluster.toml:2: gate.1.ws_origins: want an array of strings, got string "*"`}},
		{name: "bad origin pattern", src: "[gate.1]\nws_origins = [\"[\"]",
			want: []string{`cluster.toml:2: gate.1.ws_origins: element 0: want a host pattern such as "example.com" or "*.example.com", got "["`}},
		{name: "table for value", src: "[game.1]\ntick_rate = {a = 1}",
			want: []string{"cluster.toml:2: game.1.tick_rate: want a value, got a table"}},
		{name: "value for subtable", src: "[gate.1]\nkcp = 5",
			want: []string{"cluster.toml:2: gate.1.kcp: want a table ([gate.1.kcp]), got integer 5"}},
		{name: "value for section", raw: true, src: "[dispatcher.1]\n[game]\n1 = 3\n[gate.1]",
			want: []string{"cluster.toml:3: game.1: want a table ([game.1]), got integer 3"}},
		{name: "array of tables for section", raw: true, src: "[[dispatcher]]\n[game.1]\n[gate.1]",
			want: []string{
				"cluster.toml:1: dispatcher: no dispatcher: a cluster needs at least one [dispatcher.N] section",
				"cluster.toml:1: dispatcher: want a table ([dispatcher]), got array of tables",
			}},
		{name: "datetime", src: "[game.1]\nsnapshot_dir = 1979-05-27",
			want: []string{"cluster.toml:2: game.1.snapshot_dir: want a string, got datetime"}},

		// values that need two options
		{name: "pprof without metrics", src: "[common]\npprof = true\n[dispatcher.1]\nmetrics = \"127.0.0.1:0\"\n[game.1]\nmetrics = \"127.0.0.1:0\"",
			want: []string{"cluster.toml:2: common.pprof: pprof is served on the metrics address, and gate.1 has none"}},
		{name: "fec half set", src: "[gate.kcp]\nfec_data = 10",
			want: []string{"cluster.toml:2: gate.kcp.fec_data: fec_data and fec_parity must both be 0 (no FEC) or both positive, got 10 and 0"}},
		{name: "threshold above link frame", src: "[common.link]\nmax_frame = 300",
			want: []string{"cluster.toml:2: common.link.max_frame: must be at least link.compress_threshold (512), got 300"}},
		{name: "fec too many shards", src: "[gate.1.kcp]\nfec_data = 200\nfec_parity = 100",
			want: []string{"cluster.toml:3: gate.1.kcp.fec_parity: fec_data + fec_parity must be at most 256, got 300"}},
		{name: "threshold above frame", src: "[gate.1]\nmax_frame = 1024\ncompress_threshold = 4096",
			want: []string{"cluster.toml:3: gate.1.compress_threshold: must be at most max_frame (1024), got 4096"}},

		// syntax
		{name: "syntax error", raw: true, src: "[common]\nsecret = \"unterminated\n",
			want: []string{"cluster.toml:2: TOML syntax: strings cannot contain newlines"}},
		{name: "duplicate key", raw: true, src: "[game.1]\ntick_rate = 1\ntick_rate = 2\n",
			want: []string{`cluster.toml:3: TOML syntax: Key 'game.1.tick_rate' has already been defined.`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src
			if !tc.raw {
				src = complete(src)
			}
			c, err := Parse("cluster.toml", []byte(src))
			if err == nil {
				t.Fatalf("no error; cluster %+v\nfile:\n%s", c, src)
			}
			if c != nil {
				t.Errorf("a cluster came back with the error")
			}
			if got := errLines(err); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("errors:\n%s\nwant:\n%s\nfile:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"), src)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "cluster.toml" {
				t.Errorf("errors.As(*Error) = %+v", e)
			}
		})
	}
}

// TestErrorFields checks the parts of an Error, as a command would use them.
func TestErrorFields(t *testing.T) {
	_, err := Parse("c.toml", []byte(complete("\n\n[game.1]\ntick_rate = 0\n")))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("no *Error in %v", err)
	}
	if want := (&Error{File: "c.toml", Line: 4, Key: "game.1.tick_rate", Msg: "must be between 1 and 1000, got 0"}); !reflect.DeepEqual(e, want) {
		t.Fatalf("got %+v, want %+v", e, want)
	}
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{File: "f", Line: 3, Key: "k", Msg: "m"}, "f:3: k: m"},
		{Error{File: "f", Key: "k", Msg: "m"}, "f: k: m"},
		{Error{Line: 3, Key: "k", Msg: "m"}, "line 3: k: m"},
		{Error{Key: "k", Msg: "m"}, "k: m"},
		{Error{File: "f", Line: 3, Msg: "m"}, "f:3: m"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}

// TestErrorCap: a file full of mistakes gets a bounded report.
func TestErrorCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("[game.1]\n")
	for i := range 500 {
		fmt.Fprintf(&b, "bogus%d = 1\n", i)
	}
	_, err := Parse("cluster.toml", []byte(complete(b.String())))
	lines := errLines(err)
	if len(lines) != maxErrors+1 || lines[len(lines)-1] != "cluster.toml: and 400 more errors" {
		t.Fatalf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
}
