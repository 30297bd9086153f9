package dispatcher

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/netproto"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Defaults for values the config leaves at zero (a config.Cluster built by
// hand rather than by config.Load).
const (
	defaultHeartbeat    = 2 * time.Second
	defaultIdleTimeout  = 10 * time.Second
	defaultQueueTimeout = 60 * time.Second
	// DefaultMaxBacklog is the per-link cap of bytes queued behind a full
	// link buffer (see WithMaxBacklog).
	DefaultMaxBacklog = 64 << 20
)

// maxServiceName bounds a service name.
const maxServiceName = 256

// maxHandshakes bounds the links waiting for their Hello (each waits up to
// the idle timeout): anything that can reach the port could open many.
const maxHandshakes = 256

// Option configures a Dispatcher.
type Option func(*options)

type options struct {
	log        *zap.Logger
	checkEvery time.Duration
	maxBacklog int
}

// WithLogger sets the logger (default: none).
func WithLogger(l *zap.Logger) Option { return func(o *options) { o.log = l } }

// WithCheckInterval sets how often held queues are checked against the
// frozen queue timeout. Default: a tenth of the timeout, between 10 ms and
// 1 s.
func WithCheckInterval(d time.Duration) Option { return func(o *options) { o.checkEvery = d } }

// WithMaxBacklog caps, per link, the bytes the dispatcher keeps queued when
// the link's own send buffer is full (a peer that reads slower than its
// traffic arrives). Past it the link is closed as a slow consumer rather
// than left with a gap in its stream. Default DefaultMaxBacklog.
func WithMaxBacklog(bytes int) Option { return func(o *options) { o.maxBacklog = bytes } }

// Dispatcher is one dispatcher process: it accepts games and gates and
// routes their traffic. Build it with New, run it with Serve.
type Dispatcher struct {
	id            uint16
	shard, shards int // this dispatcher's index among the sorted dispatchers, and their number
	secret        [32]byte
	log           *zap.Logger
	samp          *sampler
	codec         *netproto.Codec
	ln            netproto.Listener

	heartbeat, idle time.Duration
	queueTimeout    time.Duration
	queueMax        int
	checkEvery      time.Duration
	maxBacklog      int
	maxFrame        int
	chunk           int // bytes moved from a backlog into a link at a time

	ctr        counters
	handshakes atomic.Int32 // links waiting for their Hello

	// mu guards the routing state. Readers decide and queue under it, so
	// the order in which messages are routed is the order in which they are
	// queued on their destination.
	mu       sync.Mutex
	games    map[uint16]*game
	gates    map[uint16]*conn
	routes   map[uint64]uint16 // entity → game, for this shard's entities
	holds    map[uint64]*hold  // migrating entities
	services map[string]service

	closeOnce sync.Once
	closed    chan struct{}
	served    chan struct{} // closed when Serve returns
	serving   bool
}

// game is a game the dispatcher knows: connected, or frozen (connected or
// not). A game that disconnects without being frozen is forgotten.
type game struct {
	id     uint16
	conn   *conn      // nil while frozen and disconnected
	frozen *heldQueue // non-nil while frozen: everything addressed to it waits here
	schema []byte     // its TypeSchema payload, encoded once for every gate
	load   netproto.GameLoad
	placed int // entities placed on it since its last GameLoad
}

// hold is a migrating entity's held traffic.
type hold struct {
	from, to uint16
	q        *heldQueue
	// data: the entity's MigrateData has gone through, so the destination
	// has it and will end the migration even if the source is gone.
	data bool
	// orphaned is when the source left while its MigrateData may have
	// gone through another dispatcher (zero: the source is alive). The
	// hold then waits orphanGrace for the destination's MigrateDone.
	orphaned time.Time
}

// orphanGrace is how long a hold whose source left waits for the
// destination's MigrateDone before it is released to normal routing: the
// MigrateData may have left through the gate's dispatcher just before the
// source died, and then the destination ends the migration within a few
// round trips.
func (d *Dispatcher) orphanGrace() time.Duration {
	return max(3*d.checkEvery, 100*time.Millisecond)
}

// service is one registered service name.
type service struct {
	entity uint64
	game   uint16 // the registering game: its services go when it goes
}

// New builds dispatcher id of the cluster and binds its listener, so Addr
// is known at once (with port 0 the OS picks the port). Serve runs it;
// Close releases the listener if Serve is never called.
func New(cl *config.Cluster, id uint16, opts ...Option) (*Dispatcher, error) {
	if cl == nil {
		return nil, errors.New("dispatcher: nil cluster config")
	}
	cfg := cl.Dispatcher(id)
	if cfg == nil {
		return nil, fmt.Errorf("dispatcher: cluster has no dispatcher %d", id)
	}
	o := options{maxBacklog: DefaultMaxBacklog}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = zap.NewNop()
	}
	ids := make([]uint16, 0, len(cl.Dispatchers))
	for _, dc := range cl.Dispatchers {
		ids = append(ids, dc.ID)
	}
	slices.Sort(ids)
	d := &Dispatcher{
		id:           id,
		shard:        slices.Index(ids, id),
		shards:       len(ids),
		secret:       sha256.Sum256([]byte(cfg.Secret)),
		log:          o.log.With(zap.String("dispatcher", cfg.Name())),
		heartbeat:    cfg.Link.HeartbeatInterval,
		idle:         cfg.Link.IdleTimeout,
		queueTimeout: cfg.FrozenQueueTimeout,
		queueMax:     cfg.FrozenQueueMax,
		checkEvery:   o.checkEvery,
		maxBacklog:   o.maxBacklog,
		maxFrame:     cfg.Link.MaxFrame,
		games:        make(map[uint16]*game),
		gates:        make(map[uint16]*conn),
		routes:       make(map[uint64]uint16),
		holds:        make(map[uint64]*hold),
		services:     make(map[string]service),
		closed:       make(chan struct{}),
		served:       make(chan struct{}),
	}
	d.samp = newSampler(d.log, time.Second)
	if d.heartbeat <= 0 {
		d.heartbeat = defaultHeartbeat
	}
	if d.idle <= d.heartbeat {
		d.idle = max(defaultIdleTimeout, 3*d.heartbeat)
	}
	if d.queueTimeout <= 0 {
		d.queueTimeout = defaultQueueTimeout
	}
	if d.checkEvery <= 0 {
		d.checkEvery = min(max(d.queueTimeout/10, 10*time.Millisecond), time.Second)
	}
	if d.maxFrame <= 0 {
		d.maxFrame = netproto.DefaultInternalMaxFrame
	}
	if d.maxBacklog <= 0 {
		d.maxBacklog = DefaultMaxBacklog
	}
	comp, err := compression(cfg.Link)
	if err != nil {
		return nil, err
	}
	lim := netproto.InternalLimits()
	lim.MaxPayload = d.maxFrame - 2 // a frame's length counts its 2-byte type
	if d.codec, err = netproto.NewCodec(lim); err != nil {
		return nil, fmt.Errorf("dispatcher: %w", err)
	}
	// The link buffer holds four whole frames; the backlog moves into it
	// half a buffer at a time, so a chunk always fits at least one frame.
	maxQueued := max(4<<20, 4*d.maxFrame)
	d.chunk = maxQueued / 2
	lopts := netproto.Options{
		MaxFrame:    d.maxFrame,
		MaxQueued:   maxQueued,
		ReadTimeout: d.idle,
		Compression: comp,
	}
	d.ln, err = netproto.ListenTCP(context.Background(), cfg.Listen, lopts)
	if err != nil {
		return nil, fmt.Errorf("dispatcher %d: %w", id, err)
	}
	if cfg.Secret == "" {
		d.log.Warn("the cluster secret is empty: anything that can reach this dispatcher can join")
	}
	return d, nil
}

// compression maps the link config to netproto's.
func compression(l config.Link) (netproto.Compression, error) {
	c := netproto.Compression{Threshold: l.CompressThreshold}
	switch l.Compression {
	case "", "none":
		c.Algo = netproto.CompressNone
	case "s2":
		c.Algo = netproto.CompressS2
	case "zstd":
		c.Algo = netproto.CompressZstd
	default:
		return c, fmt.Errorf("dispatcher: unknown link compression %q", l.Compression)
	}
	return c, nil
}

// Run builds dispatcher id of the cluster and serves until ctx ends.
func Run(ctx context.Context, cl *config.Cluster, id uint16, opts ...Option) error {
	d, err := New(cl, id, opts...)
	if err != nil {
		return err
	}
	return d.Serve(ctx)
}

// Addr is the address the listener is bound to.
func (d *Dispatcher) Addr() net.Addr { return d.ln.Addr() }

// ID is the dispatcher's id.
func (d *Dispatcher) ID() uint16 { return d.id }

// Serve accepts and serves links until ctx ends or Close is called; then it
// flushes and closes every link and returns once all its goroutines have
// stopped. It returns nil after ctx ends or Close, or the listener's error.
// Serve may be called once.
func (d *Dispatcher) Serve(ctx context.Context) error {
	d.mu.Lock()
	if d.serving {
		d.mu.Unlock()
		return errors.New("dispatcher: Serve called twice")
	}
	d.serving = true
	d.mu.Unlock()
	defer close(d.served)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopClose := context.AfterFunc(ctx, func() { d.Close() })
	defer stopClose()

	var wg sync.WaitGroup
	wg.Go(func() { d.janitor(ctx.Done()) })
	d.log.Info("dispatcher listening", zap.Stringer("addr", d.Addr()),
		zap.Int("shard", d.shard), zap.Int("shards", d.shards))
	var err error
	for {
		link, aerr := d.ln.Accept(ctx)
		if aerr != nil {
			select {
			case <-ctx.Done():
			case <-d.closed:
			default:
				err = fmt.Errorf("dispatcher %d: accept: %w", d.id, aerr)
			}
			break
		}
		wg.Go(func() { d.serveLink(ctx, link, &wg) })
	}
	cancel()
	d.Close()
	wg.Wait()
	d.log.Info("dispatcher stopped")
	return err
}

// Close stops accepting; a running Serve then closes every link and
// returns. It is safe to call more than once and from any goroutine.
func (d *Dispatcher) Close() error {
	var err error
	d.closeOnce.Do(func() {
		close(d.closed)
		err = d.ln.Close()
	})
	return err
}

// stopping reports whether Close was called (or Serve's ctx ended).
func (d *Dispatcher) stopping() bool {
	select {
	case <-d.closed:
		return true
	default:
		return false
	}
}

// serveLink runs one accepted link: the handshake, then the reader loop in
// this goroutine and a writer goroutine.
func (d *Dispatcher) serveLink(ctx context.Context, link netproto.Link, wg *sync.WaitGroup) {
	if d.handshakes.Add(1) > maxHandshakes {
		d.handshakes.Add(-1)
		d.ctr.reject(rejectBusy)
		d.samp.Log(zapcore.WarnLevel, "busy", "too many links waiting for their Hello: closing a new one",
			zap.Stringer("remote", link.RemoteAddr()), zap.Int("max", maxHandshakes))
		link.Close()
		return
	}
	// Until the writer owns the link's shutdown, ctx closes it directly.
	stop := context.AfterFunc(ctx, func() { link.Close() })
	c := d.handshake(link)
	d.handshakes.Add(-1)
	if !stop() || c == nil {
		link.Close()
		if c != nil {
			d.disconnected(c, errors.New("shutting down"))
		}
		return
	}
	wg.Go(c.writeLoop)
	var err error
	for {
		var typ netproto.MsgType
		var payload []byte
		typ, payload, err = link.Recv()
		if err != nil {
			break
		}
		d.ctr.countIn(typ, len(payload))
		d.handle(c, typ, payload)
	}
	link.Close()
	d.disconnected(c, err)
}

// Stats returns a snapshot of the counters and gauges.
func (d *Dispatcher) Stats() Stats {
	var s Stats
	d.ctr.snapshot(&s)
	s.Handshakes = int(d.handshakes.Load())
	now := time.Now()
	d.mu.Lock()
	for _, g := range d.games {
		if g.conn != nil {
			s.Games++
		}
		if g.frozen != nil {
			s.FrozenGames++
			s.Queued += g.frozen.n
			s.Queues = append(s.Queues, QueueStats{Game: g.id, Msgs: g.frozen.n,
				Bytes: len(g.frozen.frames), Age: now.Sub(g.frozen.since), Connected: g.conn != nil})
		}
	}
	for e, h := range d.holds {
		s.Queued += h.q.n
		s.Queues = append(s.Queues, QueueStats{Game: h.to, Entity: e, Msgs: h.q.n,
			Bytes: len(h.q.frames), Age: now.Sub(h.q.since)})
	}
	s.Gates = len(d.gates)
	s.Routes = len(d.routes)
	s.Services = len(d.services)
	conns := make([]*conn, 0, len(d.games)+len(d.gates))
	for _, g := range d.games {
		if g.conn != nil {
			conns = append(conns, g.conn)
		}
	}
	for _, c := range d.gates {
		conns = append(conns, c)
	}
	d.mu.Unlock()
	for _, c := range conns {
		c.mu.Lock()
		s.Backlog += len(c.backlog)
		c.mu.Unlock()
	}
	slices.SortFunc(s.Queues, func(a, b QueueStats) int {
		if a.Game != b.Game {
			return int(a.Game) - int(b.Game)
		}
		return cmpUint64(a.Entity, b.Entity)
	})
	return s
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Route returns the game this dispatcher routes entity e to, and whether it
// has a route for it (false: calls fall back to the entity's origin game).
func (d *Dispatcher) Route(e uint64) (uint16, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g, ok := d.routes[e]
	return g, ok
}

// ownShard reports whether key (an EntityID) belongs to this dispatcher's
// shard.
func (d *Dispatcher) ownShard(key uint64) bool {
	return netproto.Shard(key, d.shards) == d.shard
}
