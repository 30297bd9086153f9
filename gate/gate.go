package gate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/netproto"
)

// WebSocketPath is the HTTP path of the WebSocket endpoint on WSListen. An
// upgrade request to "/" is accepted too, so a client that dials the bare
// address works.
const WebSocketPath = "/ws"

// Defaults of the options that the cluster file does not carry.
const (
	// DefaultHelloTimeout bounds the wait for a new client's ClientHello
	// (capped by the idle timeout).
	DefaultHelloTimeout = 5 * time.Second
	// DefaultWriteTimeout bounds one write to a client: a client that does
	// not read for this long is dropped.
	DefaultWriteTimeout = 5 * time.Second
	// DefaultMoveViolations is how many refused moves within
	// moveViolationWindow disconnect a client.
	DefaultMoveViolations = 5
	// DefaultMaxPending caps connections waiting for their ClientHello.
	DefaultMaxPending = 4096
	// moveViolationWindow is the window DefaultMoveViolations counts in.
	moveViolationWindow = 10 * time.Second
)

// Option changes a Gate setting that the cluster file does not carry.
type Option func(*options)

type options struct {
	bootType       string
	helloTimeout   time.Duration
	writeTimeout   time.Duration
	moveViolations int
	maxClients     int
	maxPending     int
}

// WithBootType sets ClientConnected.BootType, the entity type created for
// each new client. Empty (the default) lets the game choose its configured
// boot_entity.
func WithBootType(name string) Option { return func(o *options) { o.bootType = name } }

// WithHelloTimeout bounds the wait for a new client's ClientHello.
func WithHelloTimeout(d time.Duration) Option { return func(o *options) { o.helloTimeout = d } }

// WithWriteTimeout bounds one write to a client.
func WithWriteTimeout(d time.Duration) Option { return func(o *options) { o.writeTimeout = d } }

// WithMoveViolations sets how many refused moves within 10 s disconnect a
// client (at least 1).
func WithMoveViolations(n int) Option { return func(o *options) { o.moveViolations = n } }

// WithMaxClients caps the connected clients; the next one is refused
// ("gate full"). Zero (the default): no cap.
func WithMaxClients(n int) Option { return func(o *options) { o.maxClients = n } }

// WithMaxPending caps the connections that have not sent their ClientHello
// yet (DefaultMaxPending): any datagram from a new address opens a KCP
// session, so this bounds what a flood costs before the hello timeout
// frees it.
func WithMaxPending(n int) Option { return func(o *options) { o.maxPending = n } }

// Addrs are the addresses a started gate listens on; "" for a transport
// that is off.
type Addrs struct {
	KCP string // UDP host:port
	TCP string // host:port
	WS  string // ws://host:port/ws
}

// Gate is one gate process: client listeners, links to every dispatcher,
// and the client registry. Create it with New, then Start and Wait (or
// Serve).
type Gate struct {
	cfg  config.Gate
	opts options
	log  *zap.Logger
	// clog is sampled: it logs what clients do wrong, which an attacker
	// controls the rate of.
	clog *zap.Logger

	clientCodec   *netproto.Codec
	internalCodec *netproto.Codec
	clientOpts    netproto.Options
	posPerFrame   int // position records per PositionSync frame

	dispatchers []*dispatcherLink
	schema      *schema
	stats       *counters

	mu      sync.RWMutex
	clients map[uint64]*client
	seq     atomic.Uint64 // low 48 bits of ClientIDs
	pending atomic.Int64  // connections before their ClientHello

	started atomic.Bool
	ctx     context.Context
	cancel  context.CancelFunc
	// Listeners live on their own context, ended only after every client
	// has been told the gate is stopping: closing a KCP listener closes the
	// UDP socket every session writes to.
	lctx      context.Context
	lcancel   context.CancelFunc
	wg        sync.WaitGroup // every goroutine of the gate
	acceptWG  sync.WaitGroup // accept loops
	clientWG  sync.WaitGroup // serveClient
	addrs     Addrs
	listeners []netproto.Listener
	httpSrv   *http.Server
}

// New checks cfg and builds a gate that will dial the dispatchers at
// dispatchers (in shard order: config.Cluster.DispatcherAddrs). It opens
// nothing until Start.
func New(cfg config.Gate, dispatchers []string, log *zap.Logger, opts ...Option) (*Gate, error) {
	if cfg.ID == 0 {
		return nil, errors.New("gate: id must be 1..65535")
	}
	if len(dispatchers) == 0 {
		return nil, errors.New("gate: no dispatcher to connect to")
	}
	if cfg.KCPListen == "" && cfg.TCPListen == "" && cfg.WSListen == "" {
		return nil, errors.New("gate: no client listener (kcp_listen, tcp_listen and ws_listen are all empty)")
	}
	if log == nil {
		log = zap.NewNop()
	}
	o := options{
		helloTimeout:   DefaultHelloTimeout,
		writeTimeout:   DefaultWriteTimeout,
		moveViolations: DefaultMoveViolations,
		maxPending:     DefaultMaxPending,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.helloTimeout <= 0 {
		o.helloTimeout = DefaultHelloTimeout
	}
	if cfg.IdleTimeout > 0 && o.helloTimeout > cfg.IdleTimeout {
		o.helloTimeout = cfg.IdleTimeout
	}
	if o.writeTimeout <= 0 {
		o.writeTimeout = DefaultWriteTimeout
	}
	if o.moveViolations < 1 {
		o.moveViolations = 1
	}
	if o.maxPending <= 0 {
		o.maxPending = DefaultMaxPending
	}

	maxFrame := cfg.MaxFrame
	if maxFrame <= 0 {
		maxFrame = netproto.DefaultClientMaxFrame
	}
	clim := netproto.ClientLimits()
	clim.MaxPayload = maxFrame - 2
	clim.MaxPositionRecords = max(1, (maxFrame-2-2)/netproto.PositionRecordSize)
	cc, err := netproto.NewCodec(clim)
	if err != nil {
		return nil, fmt.Errorf("gate: client codec: %w", err)
	}
	ilim := netproto.InternalLimits()
	if cfg.Link.MaxFrame > 0 {
		ilim.MaxPayload = cfg.Link.MaxFrame - 2
	}
	ic, err := netproto.NewCodec(ilim)
	if err != nil {
		return nil, fmt.Errorf("gate: internal codec: %w", err)
	}
	ccomp, err := compression(cfg.Compression, cfg.CompressThreshold)
	if err != nil {
		return nil, fmt.Errorf("gate: client compression: %w", err)
	}
	if _, err := compression(cfg.Link.Compression, cfg.Link.CompressThreshold); err != nil {
		return nil, fmt.Errorf("gate: link compression: %w", err)
	}

	log = log.With(zap.String("process", cfg.Name()))
	g := &Gate{
		cfg:           cfg,
		opts:          o,
		log:           log,
		clog:          log.WithOptions(zap.WrapCore(sampled)),
		clientCodec:   cc,
		internalCodec: ic,
		posPerFrame:   clim.MaxPositionRecords,
		schema:        newSchema(),
		stats:         newCounters(),
		clients:       make(map[uint64]*client),
	}
	g.clientOpts = netproto.Options{
		MaxFrame: maxFrame,
		// A client that does not read is dropped once this much waits
		// for it: far more than a busy tick, far less than netproto's
		// default of 4 MiB per link, times thousands of clients.
		MaxQueued:    max(clientQueueMin, 8*maxFrame),
		ReadTimeout:  cfg.IdleTimeout,
		WriteTimeout: o.writeTimeout,
		Compression:  ccomp,
		KCP: netproto.KCPOptions{
			MTU:          cfg.KCP.MTU,
			SndWnd:       cfg.KCP.Window,
			RcvWnd:       cfg.KCP.Window,
			DataShards:   cfg.KCP.FECData,
			ParityShards: cfg.KCP.FECParity,
			Key:          cfg.KCP.CryptKey,
			SocketBuffer: cfg.KCP.SocketBuffer,
			Tuning: &netproto.KCPTuning{NoDelay: cfg.KCP.NoDelay, Interval: cfg.KCP.Interval,
				Resend: cfg.KCP.Resend, NoCongestion: cfg.KCP.NoCongestion},
		},
		WebSocket: netproto.WebSocketOptions{OriginPatterns: cfg.WSOrigins},
	}
	// The sequence starts at the clock so that ClientIDs of a restarted
	// gate do not collide with those of its previous run that games may
	// still hold for a moment.
	g.seq.Store(uint64(time.Now().UnixMilli()) & seqMask)
	for i, a := range dispatchers {
		g.dispatchers = append(g.dispatchers, newDispatcherLink(g, i, a))
	}
	return g, nil
}

const seqMask = 1<<48 - 1

// clientQueueMin is the least unflushed data a client link may hold.
const clientQueueMin = 256 << 10

// sampled keeps per-client logs bounded: the first 10 lines per second
// with the same message, then one in 100.
func sampled(c zapcore.Core) zapcore.Core {
	return zapcore.NewSamplerWithOptions(c, time.Second, 10, 100)
}

// compression maps the config's names to netproto's.
func compression(name string, threshold int) (netproto.Compression, error) {
	switch name {
	case "", "none":
		return netproto.Compression{}, nil
	case "s2":
		return netproto.Compression{Algo: netproto.CompressS2, Threshold: threshold}, nil
	case "zstd":
		return netproto.Compression{Algo: netproto.CompressZstd, Threshold: threshold}, nil
	}
	return netproto.Compression{}, fmt.Errorf("unknown compression %q (none, s2, zstd)", name)
}

// Start binds the client listeners, starts dialing every dispatcher and
// returns; everything stops when ctx ends. Addrs is valid once it returned
// nil. A gate starts once.
func (g *Gate) Start(ctx context.Context) error {
	if !g.started.CompareAndSwap(false, true) {
		return errors.New("gate: already started")
	}
	g.ctx, g.cancel = context.WithCancel(ctx)
	g.lctx, g.lcancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := g.listen(); err != nil {
		g.cancel()
		g.acceptWG.Wait()
		g.lcancel()
		g.closeListeners()
		g.wg.Wait()
		return err
	}
	for _, d := range g.dispatchers {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			d.run(g.ctx)
		}()
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		g.heartbeats(g.ctx)
	}()
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		<-g.ctx.Done()
		// Accept loops end with ctx; then no client starts, and every
		// client has flushed its Disconnect and closed once clientWG is
		// done.
		g.acceptWG.Wait()
		g.clientWG.Wait()
		g.lcancel()
		g.closeListeners()
	}()
	g.log.Info("gate started", zap.String("kcp", g.addrs.KCP), zap.String("tcp", g.addrs.TCP),
		zap.String("ws", g.addrs.WS), zap.Strings("dispatchers", g.dispatcherAddrs()))
	return nil
}

// listen opens every configured listener and starts its accept loop.
func (g *Gate) listen() error {
	if a := g.cfg.KCPListen; a != "" {
		ln, err := netproto.ListenKCP(g.lctx, a, g.clientOpts)
		if err != nil {
			return fmt.Errorf("gate: %w", err)
		}
		g.addrs.KCP = ln.Addr().String()
		g.serveListener(ln)
	}
	if a := g.cfg.TCPListen; a != "" {
		ln, err := netproto.ListenTCP(g.lctx, a, g.clientOpts)
		if err != nil {
			return fmt.Errorf("gate: %w", err)
		}
		g.addrs.TCP = ln.Addr().String()
		g.serveListener(ln)
	}
	if a := g.cfg.WSListen; a != "" {
		opts := g.clientOpts
		for _, p := range opts.WebSocket.OriginPatterns {
			if p == "*" {
				opts.WebSocket.InsecureSkipVerify = true
			}
		}
		h, err := netproto.NewWebSocketHandler(g.lctx, opts)
		if err != nil {
			return fmt.Errorf("gate: %w", err)
		}
		var lc net.ListenConfig
		nl, err := lc.Listen(g.lctx, "tcp", a)
		if err != nil {
			h.Close()
			return fmt.Errorf("gate: listen ws %s: %w", a, err)
		}
		mux := http.NewServeMux()
		mux.Handle(WebSocketPath, h)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/" && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
				h.ServeHTTP(w, r)
				return
			}
			http.NotFound(w, r)
		})
		g.httpSrv = &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: g.opts.helloTimeout,
			ErrorLog:          zap.NewStdLog(g.clog),
		}
		g.addrs.WS = "ws://" + nl.Addr().String() + WebSocketPath
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			if err := g.httpSrv.Serve(nl); err != nil && !errors.Is(err, http.ErrServerClosed) {
				g.log.Error("websocket http server stopped", zap.Error(err))
			}
		}()
		g.serveListener(h)
	}
	return nil
}

// serveListener runs ln's accept loop until the gate stops.
func (g *Gate) serveListener(ln netproto.Listener) {
	g.listeners = append(g.listeners, ln)
	g.acceptWG.Add(1)
	go func() {
		defer g.acceptWG.Done()
		for {
			l, err := ln.Accept(g.ctx)
			if err != nil {
				return // the gate is stopping
			}
			g.clientWG.Add(1)
			go func() {
				defer g.clientWG.Done()
				g.serveClient(l)
			}()
		}
	}()
}

func (g *Gate) closeListeners() {
	for _, ln := range g.listeners {
		ln.Close()
	}
	if g.httpSrv != nil {
		// Upgraded connections are hijacked and belong to their links;
		// Close only ends the server and its idle connections.
		g.httpSrv.Close()
	}
}

// Wait blocks until a started gate has stopped (its context ended) and
// every goroutine it started has returned.
func (g *Gate) Wait() error {
	if !g.started.Load() {
		return errors.New("gate: not started")
	}
	<-g.ctx.Done()
	g.wg.Wait()
	g.acceptWG.Wait()
	g.clientWG.Wait()
	g.log.Info("gate stopped")
	return nil
}

// Serve is Start then Wait: it runs the gate until ctx ends.
func (g *Gate) Serve(ctx context.Context) error {
	if err := g.Start(ctx); err != nil {
		return err
	}
	return g.Wait()
}

// Run runs gate id of cluster c until ctx ends.
func Run(ctx context.Context, c *config.Cluster, id uint16, log *zap.Logger, opts ...Option) error {
	cfg := c.Gate(id)
	if cfg == nil {
		return fmt.Errorf("gate: gate.%d is not in the cluster file", id)
	}
	g, err := New(*cfg, c.DispatcherAddrs(), log, opts...)
	if err != nil {
		return err
	}
	return g.Serve(ctx)
}

// Addrs returns the bound listen addresses (after Start).
func (g *Gate) Addrs() Addrs { return g.addrs }

// ID is the gate's id.
func (g *Gate) ID() uint16 { return g.cfg.ID }

// Stats returns a snapshot of the gate's counters.
func (g *Gate) Stats() Stats {
	s := Stats{
		ClientsByTransport: make(map[string]int),
		Accepted:           g.stats.accepted.Load(),
		Dispatchers:        len(g.dispatchers),
		ClientIn:           g.stats.clientIn.snapshot(),
		ClientOut:          g.stats.clientOut.snapshot(),
		DispatcherIn:       g.stats.dispatcherIn.snapshot(),
		DispatcherOut:      g.stats.dispatcherOut.snapshot(),
		Disconnects:        g.stats.disconnects.snapshot(),
		Refused:            g.stats.refused.snapshot(),
		Dropped:            g.stats.dropped.snapshot(),
	}
	g.mu.RLock()
	s.Clients = len(g.clients)
	for _, c := range g.clients {
		s.ClientsByTransport[c.link.Transport()]++
	}
	g.mu.RUnlock()
	for _, d := range g.dispatchers {
		if d.up() {
			s.DispatchersUp++
		}
	}
	return s
}

func (g *Gate) dispatcherAddrs() []string {
	a := make([]string, len(g.dispatchers))
	for i, d := range g.dispatchers {
		a[i] = d.addr
	}
	return a
}

// shard is the dispatcher link that carries traffic keyed by id.
func (g *Gate) shard(id uint64) *dispatcherLink {
	return g.dispatchers[netproto.Shard(id, len(g.dispatchers))]
}

// allUp reports whether every dispatcher link is up: a client is only
// welcomed then, since its calls may need any of them.
func (g *Gate) allUp() bool {
	for _, d := range g.dispatchers {
		if !d.up() {
			return false
		}
	}
	return true
}

// client returns the connected client with this id, or nil.
func (g *Gate) client(id uint64) *client {
	g.mu.RLock()
	c := g.clients[id]
	g.mu.RUnlock()
	return c
}

// dropAllClients disconnects every client: a dispatcher link dropped, so
// that dispatcher told every game GateDown and the clients' entities are
// unbound; the clients must reconnect.
func (g *Gate) dropAllClients(reason string) {
	g.mu.RLock()
	cs := make([]*client, 0, len(g.clients))
	for _, c := range g.clients {
		cs = append(cs, c)
	}
	g.mu.RUnlock()
	for _, c := range cs {
		c.stop(reason, netproto.DisconnectShutdown, "cluster link lost")
	}
}

// heartbeats sends a Heartbeat to every client the gate has sent nothing to
// for the heartbeat interval, so that clients (KCP has no close) can tell a
// dead gate from a quiet one.
func (g *Gate) heartbeats(ctx context.Context) {
	iv := g.cfg.HeartbeatInterval
	if iv <= 0 {
		return
	}
	t := time.NewTicker(iv / 2)
	defer t.Stop()
	var cs []*client
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			cs = cs[:0]
			g.mu.RLock()
			for _, c := range g.clients {
				cs = append(cs, c)
			}
			g.mu.RUnlock()
			for _, c := range cs {
				if now.Sub(time.Unix(0, c.lastSend.Load())) >= iv {
					c.send(&netproto.Heartbeat{})
					c.flush()
				}
			}
			clear(cs)
		}
	}
}
