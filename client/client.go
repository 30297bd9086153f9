package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/netproto"
)

// Errors of the client. Errors returned or recorded wrap one of these (or a
// netproto error) with details; match them with errors.Is.
var (
	// ErrClosed: the client was closed by Close.
	ErrClosed = errors.New("client: closed")
	// ErrIdle: nothing came from the gate for Options.IdleTimeout.
	ErrIdle = errors.New("client: gate silent past the idle timeout")
	// ErrProtocol: the gate broke the protocol in a way the client cannot
	// continue from (a malformed frame, a type a gate never sends, a bad
	// handshake). The client closes with it.
	ErrProtocol = errors.New("client: protocol error")
	// ErrInconsistent: a well-formed message that does not fit the local
	// view (an unknown entity, a duplicate create...). Recorded, counted,
	// and the client goes on; see Client.ProtocolErrors.
	ErrInconsistent = errors.New("client: inconsistent message")
	// ErrNoPlayer: Move before the gate sent the player entity.
	ErrNoPlayer = errors.New("client: no player entity yet")
)

// DisconnectError is the client's error after the gate sent Disconnect.
type DisconnectError struct {
	Reason string
	Code   uint16
}

// Error implements error.
func (e *DisconnectError) Error() string {
	return fmt.Sprintf("client: disconnected by the gate (code %d): %s", e.Code, e.Reason)
}

// Defaults of Options.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultHeartbeat is used when the gate's ClientWelcome names no
	// interval.
	DefaultHeartbeat = 5 * time.Second
	// minHeartbeat keeps a hostile or misconfigured gate from making the
	// client spin.
	minHeartbeat = 20 * time.Millisecond
	// IdleFactor times the heartbeat interval is the default idle
	// timeout: the gate heartbeats a quiet client every interval, checked
	// twice per interval, so silence past 1.5 intervals already means
	// trouble; four leaves room for a loaded machine.
	IdleFactor = 4
	// MinIdleTimeout is the least default idle timeout.
	MinIdleTimeout = time.Second
	// kcpCloseLinger is how long Close waits after sending Disconnect
	// over KCP before closing the session.
	kcpCloseLinger = 30 * time.Millisecond
	// DefaultRecentErrors is how many protocol errors ProtocolErrors keeps.
	DefaultRecentErrors = 16
)

// Options configure a client. Zero values pick defaults.
type Options struct {
	// Token and Role are sent in ClientHello (login material the gate or
	// the boot entity may use; empty is allowed).
	Token string
	Role  string
	// HandshakeTimeout bounds Dial: the link and the gate's ClientWelcome,
	// in addition to Dial's context. Zero: DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// IdleTimeout closes the client with ErrIdle when nothing (not even a
	// Heartbeat) arrives from the gate for this long: the only way to
	// notice a dead gate over KCP. The gate heartbeats a client it has sent
	// nothing for its heartbeat interval. Zero: IdleFactor times the
	// interval of the gate's ClientWelcome, at least MinIdleTimeout.
	// Negative: never.
	IdleTimeout time.Duration
	// Link configures the transport. MaxFrame defaults to
	// netproto.DefaultClientMaxFrame on every transport and also bounds the
	// decoder; ReadTimeout is ignored (see IdleTimeout). For "ws" set
	// Link.WebSocket as needed (headers, HTTP client).
	Link netproto.Options
	// Logger receives connection events and protocol errors. Nil: none.
	Logger *zap.Logger
	// Hooks are called on the receive goroutine (see Hooks).
	Hooks Hooks
	// RecentErrors is how many protocol errors ProtocolErrors keeps. Zero:
	// DefaultRecentErrors.
	RecentErrors int
}

// withDefaults fills zero options.
func (o Options) withDefaults() Options {
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.Link.MaxFrame <= 0 {
		o.Link.MaxFrame = netproto.DefaultClientMaxFrame
	}
	o.Link.ReadTimeout = 0
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.RecentErrors <= 0 {
		o.RecentErrors = DefaultRecentErrors
	}
	return o
}

// limitsFor returns the client decode limits for a link's maximum frame.
func limitsFor(maxFrame int) netproto.Limits {
	lim := netproto.ClientLimits()
	if maxFrame > netproto.DefaultClientMaxFrame {
		// 2 bytes of message type, 2 of position count.
		lim.MaxPayload = maxFrame - 2
		lim.MaxPositionRecords = min((maxFrame-4)/netproto.PositionRecordSize, netproto.MaxPositionBatch)
	}
	return lim
}

// Stats counts what a client received. Taken with Client.Stats.
type Stats struct {
	Frames          uint64 // frames received after the handshake
	Creates         uint64 // CreateEntity
	Destroys        uint64 // DestroyEntity
	AttrDeltas      uint64 // AttrDelta
	PositionRecords uint64 // records of PositionSync
	CallClients     uint64 // CallClient
	Replies         uint64 // ClientCallReply matched to a waiting Call
	LateReplies     uint64 // replies to calls whose caller stopped waiting
	Heartbeats      uint64 // Heartbeat from the gate
	ProtocolErrors  uint64 // inconsistencies recorded (ErrInconsistent)
}

// Client is one connection to a gate and the local view of the world it
// receives. Its methods are safe for concurrent use.
type Client struct {
	link      netproto.Link
	codec     *netproto.Codec
	log       *zap.Logger
	hooks     Hooks
	transport string
	clientID  uint64
	heartbeat time.Duration
	idle      time.Duration

	nextCallID atomic.Uint64
	lastSend   atomic.Int64 // unix nanoseconds
	lastRecv   atomic.Int64
	inHook     atomic.Bool
	closing    atomic.Bool // Close has begun: whatever ends the link now, the client was closed

	callMu sync.Mutex
	calls  map[uint64]chan netproto.ClientCallReply // nil once closed

	mu         sync.RWMutex
	view       view
	stats      Stats
	recent     []error
	maxRecent  int
	changed    chan struct{} // closed on the next view change; nil if no one waits
	disconnect *netproto.Disconnect

	// pos is the receive goroutine's reusable PositionSync.
	pos netproto.PositionSync

	closeOnce  sync.Once
	done       chan struct{}
	err        error // why the client stopped; set before done closes
	stop       context.CancelFunc
	wg         sync.WaitGroup // keepalive
	readerDone chan struct{}
}

// newClient builds a client around a link that has completed the handshake
// (link may be nil for tests that feed frames to handle directly).
func newClient(link netproto.Link, codec *netproto.Codec, opts Options, w *netproto.ClientWelcome, transport string) *Client {
	hb := DefaultHeartbeat
	if w.HeartbeatMs > 0 {
		hb = max(time.Duration(w.HeartbeatMs)*time.Millisecond, minHeartbeat)
	}
	c := &Client{
		link:       link,
		codec:      codec,
		log:        opts.Logger.With(zap.Uint64("client", w.Client), zap.String("transport", transport)),
		hooks:      opts.Hooks,
		transport:  transport,
		clientID:   w.Client,
		heartbeat:  hb,
		idle:       idleTimeout(opts.IdleTimeout, hb),
		calls:      make(map[uint64]chan netproto.ClientCallReply),
		view:       view{entities: make(map[uint64]*entityState)},
		maxRecent:  opts.RecentErrors,
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
		stop:       func() {},
	}
	now := time.Now().UnixNano()
	c.lastSend.Store(now)
	c.lastRecv.Store(now)
	return c
}

// idleTimeout resolves Options.IdleTimeout for a heartbeat interval.
func idleTimeout(opt, hb time.Duration) time.Duration {
	switch {
	case opt < 0:
		return 0
	case opt > 0:
		return opt
	}
	return max(IdleFactor*hb, MinIdleTimeout)
}

// IdleTimeout is the resolved idle timeout (0: none).
func (c *Client) IdleTimeout() time.Duration { return c.idle }

// Dial connects to a gate over transport ("kcp", "tcp" or "ws"), sends
// ClientHello and waits for ClientWelcome, bounded by ctx and
// Options.HandshakeTimeout. For "kcp" and "tcp" addr is host:port; for "ws"
// it is a ws:// or wss:// URL (a bare host:port[/path] gets "ws://"). ctx
// bounds the handshake only: the client then lives until Close, a
// Disconnect from the gate, or a link error.
func Dial(ctx context.Context, transport, addr string, opts Options) (*Client, error) {
	opts = opts.withDefaults()
	codec, err := netproto.NewCodec(limitsFor(opts.Link.MaxFrame))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	hctx, cancel := context.WithTimeout(ctx, opts.HandshakeTimeout)
	defer cancel()
	link, err := dialLink(hctx, transport, addr, opts.Link)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	// Recv has no context: closing the link is what ends a wait for the
	// welcome when hctx does.
	closeOnCancel := context.AfterFunc(hctx, func() { link.Close() })
	w, err := handshake(link, codec, opts)
	if !closeOnCancel() {
		link.Close()
		return nil, fmt.Errorf("client: handshake with %s gate %s: %w", transport, addr, hctx.Err())
	}
	if err != nil {
		link.Close()
		return nil, fmt.Errorf("client: handshake with %s gate %s: %w", transport, addr, err)
	}
	c := newClient(link, codec, opts, w, transport)
	kctx, stop := context.WithCancel(context.Background())
	c.stop = stop
	c.wg.Add(1)
	go c.keepalive(kctx)
	go c.readLoop()
	c.log.Debug("connected", zap.String("addr", addr), zap.Duration("heartbeat", c.heartbeat))
	return c, nil
}

func dialLink(ctx context.Context, transport, addr string, lo netproto.Options) (netproto.Link, error) {
	switch transport {
	case "kcp":
		return netproto.DialKCP(ctx, addr, lo)
	case "tcp":
		return netproto.DialTCP(ctx, addr, lo)
	case "ws":
		if !strings.Contains(addr, "://") {
			addr = "ws://" + addr
		}
		return netproto.DialWebSocket(ctx, addr, lo)
	}
	return nil, fmt.Errorf("unknown transport %q (want kcp, tcp or ws)", transport)
}

// handshake sends ClientHello and returns the gate's ClientWelcome. The gate
// may send Heartbeats first; a Disconnect (a refused version, a full gate)
// is a DisconnectError; anything else breaks the protocol.
func handshake(link netproto.Link, codec *netproto.Codec, opts Options) (*netproto.ClientWelcome, error) {
	hello := &netproto.ClientHello{Version: netproto.ProtocolVersion, Token: opts.Token, Role: opts.Role}
	if err := codec.Send(link, hello); err != nil {
		return nil, err
	}
	if err := link.Flush(); err != nil {
		return nil, err
	}
	for {
		typ, payload, err := link.Recv()
		if err != nil {
			return nil, fmt.Errorf("waiting for ClientWelcome: %w", err)
		}
		switch typ {
		case netproto.MsgHeartbeat:
			continue
		case netproto.MsgClientWelcome, netproto.MsgDisconnect:
		default:
			return nil, fmt.Errorf("%w: got %v before ClientWelcome", ErrProtocol, typ)
		}
		m, err := codec.Decode(typ, payload)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		if d, ok := m.(*netproto.Disconnect); ok {
			return nil, &DisconnectError{Reason: d.Reason, Code: d.Code}
		}
		w := m.(*netproto.ClientWelcome)
		if w.Version != 0 && w.Version != netproto.ProtocolVersion {
			return nil, fmt.Errorf("%w: gate speaks protocol version %d, client %d", ErrProtocol, w.Version, netproto.ProtocolVersion)
		}
		if w.Client == 0 {
			return nil, fmt.Errorf("%w: ClientWelcome without a ClientID", ErrProtocol)
		}
		return w, nil
	}
}

// readLoop receives and applies frames until the link ends, then closes the
// client and calls Hooks.OnClose.
func (c *Client) readLoop() {
	defer close(c.readerDone)
	for {
		typ, payload, err := c.link.Recv()
		if err != nil {
			c.fail(fmt.Errorf("client: receive from gate: %w", err))
			break
		}
		c.lastRecv.Store(time.Now().UnixNano())
		if err := c.handle(typ, payload); err != nil {
			c.fail(err)
			break
		}
	}
	if c.hooks.OnClose != nil {
		c.callHook(func() { c.hooks.OnClose(c, c.Err()) })
	}
}

// keepalive sends a Heartbeat whenever nothing was sent for half the gate's
// interval (so the gap never exceeds the interval) and enforces IdleTimeout.
func (c *Client) keepalive(ctx context.Context) {
	defer c.wg.Done()
	period := c.heartbeat / 2
	if c.idle > 0 {
		period = min(period, c.idle/4)
	}
	period = max(period, minHeartbeat/2)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n := now.UnixNano()
			if c.idle > 0 && time.Duration(n-c.lastRecv.Load()) > c.idle {
				c.log.Warn("gate silent, closing", zap.Duration("idle_timeout", c.idle))
				c.fail(fmt.Errorf("%w (%v)", ErrIdle, c.idle))
				return
			}
			if time.Duration(n-c.lastSend.Load()) >= c.heartbeat/2 {
				if err := c.send(&netproto.Heartbeat{}); err != nil {
					return // the link failed; readLoop reports it
				}
			}
		}
	}
}

// send queues m and flushes at once: a client's traffic is a trickle of
// calls and moves, each worth sending without waiting for a tick.
func (c *Client) send(m netproto.Message) error {
	select {
	case <-c.done:
		return c.closedErr()
	default:
	}
	if err := c.codec.Send(c.link, m); err != nil {
		return fmt.Errorf("client: send %v: %w", m.MsgType(), err)
	}
	if err := c.link.Flush(); err != nil {
		err = fmt.Errorf("client: send %v: %w", m.MsgType(), err)
		c.fail(err)
		return err
	}
	c.lastSend.Store(time.Now().UnixNano())
	return nil
}

// closedErr is what operations on a stopped client return.
func (c *Client) closedErr() error {
	err := c.Err()
	if errors.Is(err, ErrClosed) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrClosed, err)
}

// fail stops the client with err (the first call wins): the link closes, the
// keepalive stops, waiting calls return.
func (c *Client) fail(err error) {
	c.closeOnce.Do(func() {
		if c.closing.Load() {
			// The gate answering our goodbye (its Disconnect, EOF) is
			// not why the client stopped.
			err = ErrClosed
		}
		c.mu.Lock()
		c.err = err
		if c.changed != nil {
			close(c.changed)
			c.changed = nil
		}
		c.mu.Unlock()
		c.stop()
		if c.link != nil {
			c.link.Close()
		}
		c.callMu.Lock()
		c.calls = nil
		c.callMu.Unlock()
		close(c.done)
		if !errors.Is(err, ErrClosed) {
			c.log.Info("client stopped", zap.Error(err))
		}
	})
}

// Close says goodbye to the gate (Disconnect, best effort), closes the link
// and waits for the client's goroutines. It is idempotent and returns nil.
// Called from a hook, it does not wait for the receive goroutine (the hook
// runs on it); that goroutine ends as soon as the hook returns.
func (c *Client) Close() error {
	c.closing.Store(true)
	select {
	case <-c.done:
	default:
		bye := &netproto.Disconnect{Reason: "client closed", Code: netproto.DisconnectNormal}
		if c.codec.Send(c.link, bye) == nil && c.link.Flush() == nil && c.transport == "kcp" {
			// kcp-go hands datagrams to a goroutine that writes them:
			// closing at once would drop the goodbye. There is no close
			// handshake to wait for, so give it a moment.
			time.Sleep(kcpCloseLinger)
		}
	}
	c.fail(ErrClosed)
	c.wg.Wait()
	if !c.inHook.Load() {
		<-c.readerDone
	}
	return nil
}

// Done is closed when the client stops.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the client stopped (ErrClosed after Close, a
// *DisconnectError after the gate's Disconnect, a link or protocol error),
// or nil while it runs.
func (c *Client) Err() error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.err
}

// DisconnectReason returns the gate's Disconnect message, if it sent one.
func (c *Client) DisconnectReason() (netproto.Disconnect, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.disconnect == nil {
		return netproto.Disconnect{}, false
	}
	return *c.disconnect, true
}

// ClientID is the id the gate gave this connection.
func (c *Client) ClientID() uint64 { return c.clientID }

// Heartbeat is the interval at which the client heartbeats an idle link.
func (c *Client) Heartbeat() time.Duration { return c.heartbeat }

// Transport names the link's transport: "kcp", "tcp" or "ws".
func (c *Client) Transport() string { return c.transport }

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stats
}

// ProtocolErrors returns the most recent inconsistencies (oldest first), at
// most Options.RecentErrors; Stats().ProtocolErrors counts them all. A bot in
// strict mode fails when the count is not zero.
func (c *Client) ProtocolErrors() []error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]error(nil), c.recent...)
}

// recordLocked records an inconsistency; c.mu must be held for writing.
func (c *Client) recordLocked(format string, args ...any) {
	err := fmt.Errorf("%w: "+format, append([]any{ErrInconsistent}, args...)...)
	c.stats.ProtocolErrors++
	if len(c.recent) >= c.maxRecent {
		n := copy(c.recent, c.recent[1:])
		c.recent = c.recent[:n]
	}
	c.recent = append(c.recent, err)
	c.log.Warn("inconsistent message from gate", zap.Error(err))
}

// changedLocked wakes WaitUntil callers; c.mu must be held for writing.
func (c *Client) changedLocked() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// WaitUntil blocks until cond returns true, re-evaluating it after every
// frame received and every Move, or until ctx ends or the client stops. cond
// runs on the caller's goroutine and may use the client's accessors.
func (c *Client) WaitUntil(ctx context.Context, cond func() bool) error {
	for {
		c.mu.Lock()
		if c.err != nil {
			c.mu.Unlock()
			if cond() {
				return nil
			}
			return c.closedErr()
		}
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		ch := c.changed
		c.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// callHook runs f, marking that a hook is running so Close does not wait
// for the goroutine running it.
func (c *Client) callHook(f func()) {
	c.inHook.Store(true)
	defer c.inHook.Store(false)
	f()
}
