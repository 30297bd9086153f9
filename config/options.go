package config

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Defaults. Every option has one, and the defaults together run a cluster
// on one machine; docs/config.md lists them with their meaning.
const (
	defLogLevel  = "info"
	defLogFormat = "console"

	defLinkHeartbeat    = 2 * time.Second
	defLinkIdleTimeout  = 10 * time.Second
	defLinkCompression  = "s2"
	defLinkCompressMin  = 512
	defLinkMaxFrame     = 1 << 20
	defDispatcherBase   = 13000 // dispatcher N listens on 127.0.0.1:13000+N
	defFrozenQueueWait  = 60 * time.Second
	defFrozenQueueMax   = 100000
	defBootEntity       = "Account"
	defTickRate         = 20
	defPositionSyncRate = 10
	defSnapshotDir      = "snapshots"
	defGateBase         = 14000 // gate N listens on 14000+3(N-1) + 1, 2, 3
	defGateCompression  = "s2"
	defGateCompressMin  = 256
	defGateHeartbeat    = 5 * time.Second
	defGateIdleTimeout  = 30 * time.Second
	defGateMaxFrame     = 64 << 10
	defGateMaxMsgs      = 200
	defGateMaxSpeed     = 20.0
	defKCPInterval      = 10 * time.Millisecond
	defKCPResend        = 2
	defKCPWindow        = 256
	defKCPMTU           = 1350
	defKCPSocketBuffer  = 4 << 20
)

func defaultCommon() Common {
	return Common{
		LogLevel:  defLogLevel,
		LogFormat: defLogFormat,
		Link: Link{
			HeartbeatInterval: defLinkHeartbeat,
			IdleTimeout:       defLinkIdleTimeout,
			Compression:       defLinkCompression,
			CompressThreshold: defLinkCompressMin,
			MaxFrame:          defLinkMaxFrame,
		},
	}
}

// defaultProcess is what a process of role gets from c before any section
// of the file is applied.
func defaultProcess(c Common, role string, id uint16) Process {
	return Process{
		Role:      role,
		ID:        id,
		Secret:    c.Secret,
		Link:      c.Link,
		LogLevel:  c.LogLevel,
		LogFormat: c.LogFormat,
		Pprof:     c.Pprof,
	}
}

// loopbackPort is "127.0.0.1:<port>", or "" when port is not a valid port
// (the id is too large for the default numbering: the file must say).
func loopbackPort(port int) string {
	if port < 1 || port > 65535 {
		return ""
	}
	return "127.0.0.1:" + strconv.Itoa(port)
}

func defaultDispatcher(c Common, id uint16) Dispatcher {
	return Dispatcher{
		Process:            defaultProcess(c, RoleDispatcher, id),
		Listen:             loopbackPort(defDispatcherBase + int(id)),
		FrozenQueueTimeout: defFrozenQueueWait,
		FrozenQueueMax:     defFrozenQueueMax,
	}
}

func defaultGame(c Common, id uint16) Game {
	return Game{
		Process:          defaultProcess(c, RoleGame, id),
		BootEntity:       defBootEntity,
		TickRate:         defTickRate,
		PositionSyncRate: defPositionSyncRate,
		SnapshotDir:      defSnapshotDir,
	}
}

func defaultGate(c Common, id uint16) Gate {
	base := defGateBase + 3*(int(id)-1)
	return Gate{
		Process:           defaultProcess(c, RoleGate, id),
		KCPListen:         loopbackPort(base + 1),
		TCPListen:         loopbackPort(base + 2),
		WSListen:          loopbackPort(base + 3),
		Compression:       defGateCompression,
		CompressThreshold: defGateCompressMin,
		HeartbeatInterval: defGateHeartbeat,
		IdleTimeout:       defGateIdleTimeout,
		MaxFrame:          defGateMaxFrame,
		MaxMsgsPerSecond:  defGateMaxMsgs,
		MaxSpeed:          defGateMaxSpeed,
		KCP: KCP{
			NoDelay:      true,
			Interval:     defKCPInterval,
			Resend:       defKCPResend,
			NoCongestion: true,
			Window:       defKCPWindow,
			MTU:          defKCPMTU,
			SocketBuffer: defKCPSocketBuffer,
		},
	}
}

// spec is one option of a section: its key ("kcp.mtu" for a key of a
// subtable), how a TOML value becomes its Go value, where that value lives
// in P, and the rule a value must follow on its own (rules that involve
// two options are in checker). The rule runs on every value written in
// the file, inherited or not, and again on every resolved process.
type spec[P any] struct {
	name  string
	dec   func(raw any) (any, error)
	set   func(p *P, v any)
	get   func(p *P) any
	check func(v any) string // "" when v is fine
}

// opt makes a spec from a typed decoder, a field accessor and a rule (nil:
// every value of the type is fine).
func opt[P, T any](name string, dec func(any) (T, error), field func(*P) *T, rule func(T) string) spec[P] {
	return spec[P]{
		name: name,
		dec: func(raw any) (any, error) {
			v, err := dec(raw)
			return v, err
		},
		set: func(p *P, v any) { *field(p) = v.(T) },
		get: func(p *P) any { return *field(p) },
		check: func(v any) string {
			if rule == nil {
				return ""
			}
			return rule(v.(T))
		},
	}
}

// lift turns the specs of Process into specs of a struct embedding it.
func lift[P any](ss []spec[Process], proc func(*P) *Process) []spec[P] {
	out := make([]spec[P], len(ss))
	for i, s := range ss {
		set, get := s.set, s.get
		out[i] = spec[P]{
			name:  s.name,
			dec:   s.dec,
			set:   func(p *P, v any) { set(proc(p), v) },
			get:   func(p *P) any { return get(proc(p)) },
			check: s.check,
		}
	}
	return out
}

// Options inherited from [common] by every process (metrics excepted: an
// address is per process).
var processSpecs = []spec[Process]{
	opt("log_level", decString, func(p *Process) *string { return &p.LogLevel }, oneOf(logLevels)),
	opt("log_format", decString, func(p *Process) *string { return &p.LogFormat }, oneOf(logFormats)),
	opt("pprof", decBool, func(p *Process) *bool { return &p.Pprof }, nil),
	opt("metrics", decString, func(p *Process) *string { return &p.Metrics }, optionalAddr),
}

var commonSpecs = []spec[Common]{
	opt("secret", decString, func(c *Common) *string { return &c.Secret }, maxLen(maxSecret)),
	opt("log_level", decString, func(c *Common) *string { return &c.LogLevel }, oneOf(logLevels)),
	opt("log_format", decString, func(c *Common) *string { return &c.LogFormat }, oneOf(logFormats)),
	opt("pprof", decBool, func(c *Common) *bool { return &c.Pprof }, nil),
	opt("link.heartbeat_interval", decDuration, func(c *Common) *time.Duration { return &c.Link.HeartbeatInterval }, positive),
	opt("link.idle_timeout", decDuration, func(c *Common) *time.Duration { return &c.Link.IdleTimeout }, positive),
	opt("link.compression", decString, func(c *Common) *string { return &c.Link.Compression }, oneOf(compressions)),
	opt("link.compress_threshold", decInt, func(c *Common) *int { return &c.Link.CompressThreshold }, between(1, maxLinkFrame)),
	opt("link.max_frame", decInt, func(c *Common) *int { return &c.Link.MaxFrame }, between(minFrame, maxLinkFrame)),
}

var dispatcherSpecs = append(lift(processSpecs, func(d *Dispatcher) *Process { return &d.Process }),
	opt("listen", decString, func(d *Dispatcher) *string { return &d.Listen }, optionalAddr),
	opt("advertise", decString, func(d *Dispatcher) *string { return &d.Advertise }, dialAddr),
	opt("frozen_queue_timeout", decDuration, func(d *Dispatcher) *time.Duration { return &d.FrozenQueueTimeout }, positive),
	opt("frozen_queue_max", decInt, func(d *Dispatcher) *int { return &d.FrozenQueueMax }, between(1, math.MaxInt32)),
)

var gameSpecs = append(lift(processSpecs, func(g *Game) *Process { return &g.Process }),
	opt("boot_entity", decString, func(g *Game) *string { return &g.BootEntity }, entityName),
	opt("tick_rate", decInt, func(g *Game) *int { return &g.TickRate }, between(1, maxTickRate)),
	opt("aoi_cell_size", decFloat, func(g *Game) *float64 { return &g.AOICellSize }, cellSize),
	opt("position_sync_rate", decInt, func(g *Game) *int { return &g.PositionSyncRate }, between(1, maxTickRate)),
	opt("snapshot_dir", decString, func(g *Game) *string { return &g.SnapshotDir }, dirPath),
)

var gateSpecs = append(lift(processSpecs, func(g *Gate) *Process { return &g.Process }),
	opt("kcp_listen", decString, func(g *Gate) *string { return &g.KCPListen }, optionalAddr),
	opt("tcp_listen", decString, func(g *Gate) *string { return &g.TCPListen }, optionalAddr),
	opt("ws_listen", decString, func(g *Gate) *string { return &g.WSListen }, optionalAddr),
	opt("ws_origins", decStrings, func(g *Gate) *[]string { return &g.WSOrigins }, originPatterns),
	opt("compression", decString, func(g *Gate) *string { return &g.Compression }, oneOf(compressions)),
	opt("compress_threshold", decInt, func(g *Gate) *int { return &g.CompressThreshold }, between(1, maxClientFrame)),
	opt("heartbeat_interval", decDuration, func(g *Gate) *time.Duration { return &g.HeartbeatInterval }, positive),
	opt("idle_timeout", decDuration, func(g *Gate) *time.Duration { return &g.IdleTimeout }, positive),
	opt("max_frame", decInt, func(g *Gate) *int { return &g.MaxFrame }, between(minFrame, maxClientFrame)),
	opt("max_msgs_per_second", decInt, func(g *Gate) *int { return &g.MaxMsgsPerSecond }, between(1, maxMsgsPerSecond)),
	opt("max_speed", decFloat, func(g *Gate) *float64 { return &g.MaxSpeed }, speed),
	opt("observer_token", decString, func(g *Gate) *string { return &g.ObserverToken }, maxLen(maxSecret)),
	opt("kcp.nodelay", decBool, func(g *Gate) *bool { return &g.KCP.NoDelay }, nil),
	opt("kcp.interval", decDuration, func(g *Gate) *time.Duration { return &g.KCP.Interval }, kcpInterval),
	opt("kcp.resend", decInt, func(g *Gate) *int { return &g.KCP.Resend }, between(0, maxKCPResend)),
	opt("kcp.no_congestion", decBool, func(g *Gate) *bool { return &g.KCP.NoCongestion }, nil),
	opt("kcp.window", decInt, func(g *Gate) *int { return &g.KCP.Window }, between(1, maxKCPWindow)),
	opt("kcp.mtu", decInt, func(g *Gate) *int { return &g.KCP.MTU }, between(minKCPMTU, maxKCPMTU)),
	opt("kcp.fec_data", decInt, func(g *Gate) *int { return &g.KCP.FECData }, between(0, maxFECShards-1)),
	opt("kcp.fec_parity", decInt, func(g *Gate) *int { return &g.KCP.FECParity }, between(0, maxFECShards-1)),
	opt("kcp.crypt_key", decHexKey, func(g *Gate) *[]byte { return &g.KCP.CryptKey }, aesKey),
	opt("kcp.socket_buffer", decInt, func(g *Gate) *int { return &g.KCP.SocketBuffer }, between(minSocketBuffer, maxSocketBuffer)),
)

// describe names a TOML value for an error message: its type, and the
// value itself when it is short.
func describe(v any) string {
	switch x := v.(type) {
	case int64:
		return "integer " + strconv.FormatInt(x, 10)
	case float64:
		return "float " + strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return "string " + strconv.Quote(x)
	case time.Time:
		return "datetime"
	case []map[string]any:
		return "array of tables"
	case []any:
		return "array"
	case map[string]any:
		return "table"
	}
	return fmt.Sprintf("%T", v)
}

func decString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("want a string, got %s", describe(v))
	}
	return s, nil
}

func decBool(v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("want true or false, got %s", describe(v))
	}
	return b, nil
}

func decInt(v any) (int, error) {
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("want an integer, got %s", describe(v))
	}
	if int64(int(n)) != n {
		return 0, fmt.Errorf("integer %d is out of range", n)
	}
	return int(n), nil
}

// decFloat takes integers too: max_speed = 20 means 20.0.
func decFloat(v any) (float64, error) {
	switch x := v.(type) {
	case int64:
		return float64(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("want a finite number, got %s", describe(v))
		}
		return x, nil
	}
	return 0, fmt.Errorf("want a number, got %s", describe(v))
}

// decDuration takes Go duration strings only: a bare integer would be
// nanoseconds to the TOML library and seconds to most readers.
func decDuration(v any) (time.Duration, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf(`want a duration string such as "5s" or "250ms", got %s`, describe(v))
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf(`want a duration such as "5s" or "250ms", got %q`, s)
	}
	return d, nil
}

func decStrings(v any) ([]string, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want an array of strings, got %s", describe(v))
	}
	if len(a) == 0 {
		return nil, nil // one form for "none", as in a cluster built in code
	}
	out := make([]string, len(a))
	for i, e := range a {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("want an array of strings, element %d is %s", i, describe(e))
		}
		out[i] = s
	}
	return out, nil
}

// decHexKey reads a key written as hex digits; its length is checked with
// the other ranges.
func decHexKey(v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("want a string of hex digits, got %s", describe(v))
	}
	if s == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("want hex digits (32, 48 or 64 of them), got %s", describe(v))
	}
	return b, nil
}
