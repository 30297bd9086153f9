package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Cluster is one cluster file, resolved: every process has all its options
// set, with the inheritance [common] → [kind] → [kind.N] already applied.
type Cluster struct {
	// Common holds the [common] section. The cluster-wide values (Secret,
	// Link) are also copied into every process; the inheritable ones
	// (LogLevel, LogFormat, Pprof) are the values a process gets when
	// neither its kind section nor its own section sets them.
	Common Common
	// Dispatchers, Games and Gates are sorted by ID. The index of a
	// dispatcher in Dispatchers is its shard number (see DispatcherAddrs).
	Dispatchers []Dispatcher
	Games       []Game
	Gates       []Gate
	// Path is the file the cluster was read from (Load), or the name given
	// to Parse; "" for Default and Ephemeral. Error messages start with it.
	Path string
}

// Common is the [common] section.
type Common struct {
	// Secret authenticates internal links (Hello); every process of the
	// cluster must share it, so it can only be set here.
	Secret string
	// LogLevel is one of debug, info, warn, error.
	LogLevel string
	// LogFormat is console (human readable) or json.
	LogFormat string
	// Pprof serves net/http/pprof on each process's metrics address.
	Pprof bool
	// Link tunes the internal links (game/gate ↔ dispatcher); [common.link].
	Link Link
}

// Link tunes internal links (every game and gate to every dispatcher). Both
// ends of a link read the same values, so they are cluster-wide.
type Link struct {
	// HeartbeatInterval: a side sends Heartbeat when its link has been idle
	// this long.
	HeartbeatInterval time.Duration
	// IdleTimeout: a link that received nothing for this long is closed.
	// Greater than HeartbeatInterval.
	IdleTimeout time.Duration
	// Compression of sent payloads: none, s2 or zstd (receivers accept all).
	Compression string
	// CompressThreshold: payloads of at least this many bytes are compressed.
	CompressThreshold int
	// MaxFrame bounds one frame (type + payload) in bytes; whole gate
	// batches and migration blobs must fit.
	MaxFrame int
}

// Process is what every process has, whatever its kind. It is embedded in
// Dispatcher, Game and Gate, so d.ID, g.Secret, t.LogLevel work directly.
type Process struct {
	// Role is "dispatcher", "game" or "gate".
	Role string
	// ID is the process's number, 1..65535, unique within its role: the N
	// of [game.N].
	ID uint16
	// Secret and Link are the cluster-wide values of [common].
	Secret string
	Link   Link
	// LogLevel, LogFormat and Pprof as resolved for this process.
	LogLevel  string
	LogFormat string
	Pprof     bool
	// Metrics is the HTTP address serving /metrics (and /debug/pprof/ when
	// Pprof is set); "" serves nothing.
	Metrics string
}

// Name is the process's section name, such as "game.2": the name logs and
// error messages use.
func (p Process) Name() string { return p.Role + "." + strconv.Itoa(int(p.ID)) }

// Dispatcher is one [dispatcher.N] section, resolved.
type Dispatcher struct {
	Process
	// Listen is the TCP address games and gates connect to.
	Listen string
	// Advertise is the address the other processes dial when it differs
	// from Listen (Listen on 0.0.0.0, Advertise a routable IP); "" means
	// Listen.
	Advertise string
	// FrozenQueueTimeout and FrozenQueueMax: a queue kept for a frozen game
	// longer than this, or with more messages than this, is reported
	// loudly (and kept).
	FrozenQueueTimeout time.Duration
	FrozenQueueMax     int
}

// Addr is the address other processes dial to reach this dispatcher:
// Advertise, or Listen when Advertise is empty.
func (d Dispatcher) Addr() string {
	if d.Advertise != "" {
		return d.Advertise
	}
	return d.Listen
}

// Game is one [game.N] section, resolved.
type Game struct {
	Process
	// BootEntity is the entity type created for each new client.
	BootEntity string
	// TickRate is the number of ticks per second, 1..1000.
	TickRate int
	// AOICellSize is the AOI grid's cell size in world units; 0 derives it
	// from the AOI radius.
	AOICellSize float64
	// PositionSyncRate is how many times per second moved positions are
	// sent to clients; at most once per tick, so values above TickRate
	// mean every tick.
	PositionSyncRate int
	// SnapshotDir is where freeze writes the snapshot and -restore reads
	// it; a relative path is relative to the process's working directory.
	SnapshotDir string
}

// TickInterval is the time between two ticks.
func (g Game) TickInterval() time.Duration {
	if g.TickRate <= 0 {
		return time.Second
	}
	return time.Second / time.Duration(g.TickRate)
}

// SnapshotPath is the file freeze writes and -restore reads for this game:
// SnapshotDir/game-<ID>.snap. Freeze and restore must agree on it, so it
// is computed here rather than by each.
func (g Game) SnapshotPath() string {
	return filepath.Join(g.SnapshotDir, fmt.Sprintf("game-%d.snap", g.ID))
}

// Gate is one [gate.N] section, resolved. The options without a prefix
// are about client links; internal links use Link.
type Gate struct {
	Process
	// KCPListen (UDP), TCPListen and WSListen (an HTTP server with the
	// WebSocket endpoint) are where clients connect; ""
	// disables that transport. At least one is set.
	KCPListen string
	TCPListen string
	WSListen  string
	// WSOrigins are the host patterns (path.Match syntax) of web pages
	// allowed to open a WebSocket from another origin; empty allows the
	// same origin only, ["*"] allows any.
	WSOrigins []string
	// Compression (none, s2, zstd) and CompressThreshold (bytes) of what
	// the gate sends to clients.
	Compression       string
	CompressThreshold int
	// HeartbeatInterval is told to clients (ClientWelcome); a client link
	// silent for IdleTimeout is closed.
	HeartbeatInterval time.Duration
	IdleTimeout       time.Duration
	// MaxFrame bounds one client frame in bytes, both ways.
	MaxFrame int
	// MaxMsgsPerSecond is the rate limit per client: how many messages a
	// client may send per second.
	MaxMsgsPerSecond int
	// MaxSpeed bounds client position updates, in world units per second.
	MaxSpeed float64
	// ObserverToken is the token a client presents to connect as an
	// observer (live map); "" refuses every observer.
	ObserverToken string
	// KCP tunes the KCP listener: [gate.kcp] and [gate.N.kcp].
	KCP KCP
}

// KCP tunes a gate's KCP sessions. Clients must use the same FEC shards and
// CryptKey (they change the datagram format); the rest is per side.
type KCP struct {
	// NoDelay, Interval, Resend and NoCongestion are KCP's nodelay mode:
	// (true, 10ms, 2, true) is the low-latency setting for games.
	NoDelay      bool
	Interval     time.Duration
	Resend       int
	NoCongestion bool
	// Window is the send and receive window, in packets.
	Window int
	// MTU of datagrams, in bytes.
	MTU int
	// FECData and FECParity enable forward error correction when both are
	// positive; both 0 disables it.
	FECData   int
	FECParity int
	// CryptKey is the AES key (16, 24 or 32 bytes), written in the file as
	// hex; empty disables encryption.
	CryptKey []byte
	// SocketBuffer is the UDP socket buffer in bytes.
	SocketBuffer int
}

// Roles, as in Process.Role and in the file's section names.
const (
	RoleDispatcher = "dispatcher"
	RoleGame       = "game"
	RoleGate       = "gate"
)

// Default is a cluster of one dispatcher, one game and one gate on
// 127.0.0.1 with every option at its default: exactly what a file with the
// three sections [dispatcher.1], [game.1] and [gate.1] and nothing else
// gives.
func Default() *Cluster {
	return newCluster(1, 1, 1)
}

// Ephemeral is a cluster on 127.0.0.1 where every listen address has port
// 0: the OS picks free ports when the processes listen, so tests and demos
// never collide. Each process reports the address it actually bound; a
// launcher starts the dispatchers first and sets each one's Advertise to
// its bound address before starting games and gates, which dial
// DispatcherAddrs. Counts below 1 are taken as 1.
func Ephemeral(dispatchers, games, gates int) *Cluster {
	c := newCluster(max(dispatchers, 1), max(games, 1), max(gates, 1))
	for i := range c.Dispatchers {
		c.Dispatchers[i].Listen = "127.0.0.1:0"
	}
	for i := range c.Gates {
		g := &c.Gates[i]
		g.KCPListen, g.TCPListen, g.WSListen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	}
	return c
}

// newCluster builds n processes of each kind with ids 1..n and defaults.
func newCluster(nd, ng, nt int) *Cluster {
	c := &Cluster{Common: defaultCommon()}
	for id := 1; id <= nd; id++ {
		c.Dispatchers = append(c.Dispatchers, defaultDispatcher(c.Common, uint16(id)))
	}
	for id := 1; id <= ng; id++ {
		c.Games = append(c.Games, defaultGame(c.Common, uint16(id)))
	}
	for id := 1; id <= nt; id++ {
		c.Gates = append(c.Gates, defaultGate(c.Common, uint16(id)))
	}
	return c
}

// DispatcherAddrs lists the address of every dispatcher (Dispatcher.Addr),
// in ID order: index i is shard i, the dispatcher that netproto.Shard(x,
// len) == i designates. Games and gates dial all of them.
func (c *Cluster) DispatcherAddrs() []string {
	ds := slices.Clone(c.Dispatchers)
	slices.SortStableFunc(ds, func(a, b Dispatcher) int { return int(a.ID) - int(b.ID) })
	addrs := make([]string, len(ds))
	for i, d := range ds {
		addrs[i] = d.Addr()
	}
	return addrs
}

// Dispatcher is the dispatcher with this id, or nil. The pointer is into
// c.Dispatchers: a launcher may set Advertise through it.
func (c *Cluster) Dispatcher(id uint16) *Dispatcher {
	for i := range c.Dispatchers {
		if c.Dispatchers[i].ID == id {
			return &c.Dispatchers[i]
		}
	}
	return nil
}

// Game is the game with this id, or nil; the pointer is into c.Games.
func (c *Cluster) Game(id uint16) *Game {
	for i := range c.Games {
		if c.Games[i].ID == id {
			return &c.Games[i]
		}
	}
	return nil
}

// Gate is the gate with this id, or nil; the pointer is into c.Gates.
func (c *Cluster) Gate(id uint16) *Gate {
	for i := range c.Gates {
		if c.Gates[i].ID == id {
			return &c.Gates[i]
		}
	}
	return nil
}
