// Package demo is `ecsworld demo`: a whole local cluster of a game inside
// one process (cli/inproc: dispatcher, game and gate over real loopback
// links, each with a metrics endpoint), bots playing it, and the live map,
// a web page that watches the cluster as an observer.
//
//	d, err := demo.Start(ctx, demo.Options{Game: arena.Setup, Bots: 300})
//	fmt.Println(d.MapURL, d.MetricsURLs)
//	<-ctx.Done(); err = d.Stop()
//
// # The live map
//
// The demo's HTTP server (Options.Addr) serves the page and its script
// (embedded, plain HTML and JavaScript drawing on a canvas), the cluster
// status table as JSON (GET /api/status, from each process's metrics
// registry), and /ws, a WebSocket reverse proxy to the gate's WebSocket
// listener. The page connects to /ws like any client: it says ClientHello
// with Role observer and the token of its URL (the demo makes a random one
// and sets it as every gate's observer_token), then decodes the netproto
// frames and CBOR itself (a minimal decoder in map.js) and draws the
// observer views the game sends (netproto's observer frames): one panel
// per space, a dot per entity, its AOI radius on hover.
//
// Why a proxy rather than the page talking to the gate's listener: the
// page and its WebSocket then share one origin and one address, so the
// gate's origin check needs no exception and the map works on whatever
// address Options.Addr binds (the gate stays on loopback). The proxy
// accepts only same-origin upgrades and forwards the bytes untouched: the
// gate still checks the token and enforces the observer's rules. Why the
// page decodes the wire itself rather than the server translating to
// JSON: the map is then a real client of the protocol (what a studio's web
// client would do), and the server holds no per-viewer state. The gates
// of the demo send client frames uncompressed (compression "none"), since
// the page has no S2 or zstd decoder.
//
// # Lifetime
//
// Everything runs on the context of Start; Stop (or the context ending)
// stops the bots, the cluster and the HTTP server, and waits for every
// goroutine the demo started.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/cli/inproc"
	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/examples/test_client/bots"
	"github.com/ecsworld/ecsworld/game"
)

// DefaultBots is how many bots a demo runs when Options.Bots is 0.
const DefaultBots = 300

// Options configure a demo.
type Options struct {
	// Game returns the game of each game process (inproc.Options.Setup).
	// Required.
	Game func(cfg config.Game, log *zap.Logger) (game.Setup, error)
	// Bots is how many bots play: 0 means DefaultBots, negative none. Bots
	// play the example game (they log in through Account.Login and walk
	// their Avatar): with another Game, use none.
	Bots int
	// Addr is the live map's HTTP listener; "" means 127.0.0.1:0.
	Addr string
	// Cluster is the cluster to run; nil means config.Ephemeral(1, 1, 1).
	// Its gates' observer tokens and client compression are set by the
	// demo; every metrics address left empty becomes 127.0.0.1:0, every
	// empty cluster secret a random one.
	Cluster *config.Cluster
	// Log receives every process's logs; nil: none.
	Log *zap.Logger
}

// Demo is a running demo.
type Demo struct {
	// MapURL is the live map, with the observer token in its query.
	MapURL string
	// MetricsURLs are each process's /metrics page, by process name.
	MetricsURLs map[string]string
	// Cluster is the running cluster.
	Cluster *inproc.Cluster

	token   string
	bots    int // how many were started
	started time.Time
	log     *zap.Logger
	srv     *http.Server
	handler *handler
	botWG   sync.WaitGroup
	srvDone chan struct{}

	cancelBots, cancelCluster context.CancelFunc
	unwatch                   func() bool // stops Start's ctx from running Stop

	mu       sync.Mutex
	botsIn   int // bots logged in
	botErr   error
	stopOnce sync.Once
	stopErr  error
}

// Start runs the demo's cluster, its map server and its bots (which log in
// in the background), and returns once the cluster is up and the map
// answers.
func Start(ctx context.Context, o Options) (_ *Demo, err error) {
	if o.Game == nil {
		return nil, errors.New("demo: Options.Game is required")
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Bots == 0 {
		o.Bots = DefaultBots
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	cl := o.Cluster
	if cl == nil {
		cl = config.Ephemeral(1, 1, 1)
	}
	cl = clone(cl)
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	secret, err := newToken()
	if err != nil {
		return nil, err
	}
	setSecret(cl, secret)
	for i := range cl.Gates {
		g := &cl.Gates[i]
		g.ObserverToken = token
		// The page decodes frames itself and has no decompressor.
		g.Compression = "none"
	}
	setMetrics(cl)

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("demo: map listener: %w (choose another -addr)", err)
	}
	// The bots stop before the cluster, so they do not see their gate go
	// away: the cluster runs on its own context, which Stop ends once the
	// bots are gone; ctx ending runs Stop.
	bctx, bcancel := context.WithCancel(ctx)
	cctx, ccancel := context.WithCancel(context.WithoutCancel(ctx))
	d := &Demo{token: token, started: time.Now(), log: o.Log.Named("demo"),
		cancelBots: bcancel, cancelCluster: ccancel, srvDone: make(chan struct{})}
	d.unwatch = context.AfterFunc(ctx, func() { d.Stop() })
	defer func() {
		if err != nil {
			ln.Close()
			d.Stop()
		}
	}()
	d.Cluster, err = inproc.Start(cctx, cl, inproc.Options{Setup: o.Game, Log: o.Log})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	// The cluster stopping on its own (a process failed) stops the bots;
	// Run then stops the rest.
	d.botWG.Go(func() {
		select {
		case <-d.Cluster.Done():
			bcancel()
		case <-bctx.Done():
		}
	})

	d.MetricsURLs = make(map[string]string)
	for name, s := range d.Cluster.Metrics {
		d.MetricsURLs[name] = "http://" + s.Addr() + "/metrics"
	}
	gw := d.Cluster.Gates[0].Addrs().WS
	if gw == "" {
		return nil, errors.New("demo: the first gate has no WebSocket listener (ws_listen)")
	}
	d.handler, err = newHandler(d, gw)
	if err != nil {
		return nil, err
	}
	d.srv = &http.Server{Handler: d.handler, ReadHeaderTimeout: 5 * time.Second, ErrorLog: zap.NewStdLog(d.log)}
	go func() {
		defer close(d.srvDone)
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("map server stopped", zap.Error(err))
		}
	}()
	d.MapURL = "http://" + ln.Addr().String() + "/?token=" + url.QueryEscape(token)

	if o.Bots > 0 {
		addr := d.Cluster.Gates[0].Addrs().TCP
		if addr == "" {
			return nil, errors.New("demo: the first gate has no TCP listener (tcp_listen) for the bots")
		}
		d.bots = o.Bots
		d.startBots(bctx, o.Bots, addr, o.Log.Named("bots"))
	}
	return d, nil
}

// startBots connects n bots a few at a time and lets each play until ctx
// ends. A bot that cannot log in is logged and counted, the others go on.
func (d *Demo) startBots(ctx context.Context, n int, addr string, log *zap.Logger) {
	sem := make(chan struct{}, 8)
	seed := uint64(time.Now().UnixNano())
	for i := range n {
		d.botWG.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			b, err := bots.Connect(ctx, bots.Options{
				Transport: "tcp", Addr: addr, Name: fmt.Sprintf("bot%d", i), Seed: seed + uint64(i)*7919, Logger: log,
				// Lighter than the test bots: the demo shares a laptop.
				// Chat goes to every avatar (n² calls): rare. (A negative
				// ChatEvery, "never", panics in the bots library today.)
				PingEvery: 2 * time.Second, ChatEvery: 5 * time.Minute, PokeEvery: 3 * time.Second,
			})
			<-sem
			if err != nil {
				if ctx.Err() == nil {
					d.mu.Lock()
					d.botErr = err
					d.mu.Unlock()
					d.log.Warn("bot did not log in", zap.Error(err))
				}
				return
			}
			defer b.Close()
			d.mu.Lock()
			d.botsIn++
			d.mu.Unlock()
			b.Run(ctx)
		})
	}
}

// BotsIn is how many bots have logged in so far.
func (d *Demo) BotsIn() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.botsIn
}

// Token is the observer token of the demo's gates (also in MapURL).
func (d *Demo) Token() string { return d.token }

// Done is closed once the cluster has stopped (Stop, the context, or a
// failed process).
func (d *Demo) Done() <-chan struct{} { return d.Cluster.Done() }

// Stop stops the bots, the cluster and the map server, and waits for all
// of them. It returns the cluster's failure, if one stopped it.
func (d *Demo) Stop() error {
	d.stopOnce.Do(func() {
		d.unwatch()
		d.cancelBots()
		d.botWG.Wait()
		if d.Cluster != nil {
			d.stopErr = d.Cluster.Stop()
		}
		d.cancelCluster()
		if d.srv != nil {
			// Proxied WebSockets end with the gate; then no handler is left.
			d.srv.Close()
			<-d.srvDone
		}
		if d.handler != nil {
			d.handler.wait()
		}
	})
	return d.stopErr
}

// Run is the demo verb: it starts the demo, prints its URLs to w, runs
// until ctx ends and stops everything.
func Run(ctx context.Context, o Options, w io.Writer) error {
	d, err := Start(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "ecsworld demo: a local cluster of %d dispatcher(s), %d game(s) and %d gate(s) in this process, %d bots\n",
		len(d.Cluster.Dispatchers), len(d.Cluster.Games), len(d.Cluster.Gates), d.bots)
	fmt.Fprintf(w, "live map: %s\n", d.MapURL)
	names := make([]string, 0, len(d.MetricsURLs))
	for n := range d.MetricsURLs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(w, "metrics %s: %s\n", n, d.MetricsURLs[n])
	}
	fmt.Fprintln(w, "Ctrl-C stops it.")
	select {
	case <-ctx.Done():
	case <-d.Done():
	}
	err = d.Stop()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintln(w, "ecsworld demo: stopped")
	return nil
}

// newToken is a random token (128 bits, hex): the observer token, the
// cluster secret.
func newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("demo: observer token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// clone copies the process lists the demo edits, so the caller's cluster
// is not modified.
func clone(c *config.Cluster) *config.Cluster {
	cp := *c
	cp.Dispatchers = slices.Clone(c.Dispatchers)
	cp.Games = slices.Clone(c.Games)
	cp.Gates = slices.Clone(c.Gates)
	return &cp
}

// setSecret gives every process without a cluster secret this one: the
// processes are all in this program, but their links are real loopback
// sockets any local program could reach.
func setSecret(c *config.Cluster, secret string) {
	for i := range c.Dispatchers {
		if c.Dispatchers[i].Secret == "" {
			c.Dispatchers[i].Secret = secret
		}
	}
	for i := range c.Games {
		if c.Games[i].Secret == "" {
			c.Games[i].Secret = secret
		}
	}
	for i := range c.Gates {
		if c.Gates[i].Secret == "" {
			c.Gates[i].Secret = secret
		}
	}
}

// setMetrics gives every process without a metrics address one on
// loopback, port 0, so each serves /metrics.
func setMetrics(c *config.Cluster) {
	for i := range c.Dispatchers {
		if c.Dispatchers[i].Metrics == "" {
			c.Dispatchers[i].Metrics = "127.0.0.1:0"
		}
	}
	for i := range c.Games {
		if c.Games[i].Metrics == "" {
			c.Games[i].Metrics = "127.0.0.1:0"
		}
	}
	for i := range c.Gates {
		if c.Gates[i].Metrics == "" {
			c.Gates[i].Metrics = "127.0.0.1:0"
		}
	}
}
