package gate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/netproto"
)

// Dispatcher link timing.
const (
	dialTimeout      = 5 * time.Second
	helloAckTimeout  = 5 * time.Second
	minBackoff       = 50 * time.Millisecond
	maxBackoff       = 5 * time.Second
	stableConnection = 10 * time.Second // a session this long resets the backoff
)

// errDispatcherDown: the dispatcher a message needs has no link now.
var errDispatcherDown = errors.New("gate: dispatcher link down")

// dispatcherLink is the gate's link to one dispatcher, redialled with
// backoff whenever it drops. Any goroutine may send on it; its writer
// goroutine flushes, so senders never block on the network.
type dispatcherLink struct {
	g     *Gate
	index int // shard number
	addr  string
	log   *zap.Logger

	mu       sync.Mutex
	link     netproto.Link // nil while down
	wake     chan struct{} // cap 1
	isUp     atomic.Bool
	lastSend atomic.Int64 // unix nanoseconds
	bufs     sync.Pool    // *[]byte encoding scratch
}

func newDispatcherLink(g *Gate, index int, addr string) *dispatcherLink {
	return &dispatcherLink{
		g:     g,
		index: index,
		addr:  addr,
		log:   g.log.With(zap.String("dispatcher", addr), zap.Int("shard", index)),
		wake:  make(chan struct{}, 1),
	}
}

func (d *dispatcherLink) up() bool { return d.isUp.Load() }

// send queues m on the link and wakes the writer. It fails (and counts the
// message as undeliverable) while the link is down.
func (d *dispatcherLink) send(m netproto.Message) error {
	d.mu.Lock()
	l := d.link
	d.mu.Unlock()
	if l == nil {
		d.g.stats.dropped.inc(DroppedUndeliverable)
		return errDispatcherDown
	}
	bp, _ := d.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	b, err := d.g.internalCodec.AppendMessage((*bp)[:0], m)
	if err == nil {
		err = l.Send(m.MsgType(), b)
	}
	n := len(b)
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		d.bufs.Put(bp)
	}
	if err != nil {
		d.g.stats.dropped.inc(DroppedUndeliverable)
		return fmt.Errorf("gate: send %v to dispatcher %s: %w", m.MsgType(), d.addr, err)
	}
	d.g.stats.dispatcherOut.add(m.MsgType(), 1, uint64(n+netproto.FrameHeaderSize))
	d.lastSend.Store(time.Now().UnixNano())
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return nil
}

// run keeps the link up until ctx ends.
func (d *dispatcherLink) run(ctx context.Context) {
	backoff := minBackoff
	for ctx.Err() == nil {
		start := time.Now()
		err := d.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) >= stableConnection {
			backoff = minBackoff
		}
		// Jitter keeps many gates from redialling a restarted dispatcher in
		// lockstep.
		wait := backoff/2 + rand.N(backoff/2+1)
		d.log.Warn("dispatcher link down, retrying", zap.Error(err), zap.Duration("in", wait))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// session dials, says Hello, and serves the link until it fails.
func (d *dispatcherLink) session(ctx context.Context) error {
	g := d.g
	comp, _ := compression(g.cfg.Link.Compression, g.cfg.Link.CompressThreshold) // checked in New
	opts := netproto.Options{
		MaxFrame:    g.cfg.Link.MaxFrame,
		ReadTimeout: g.cfg.Link.IdleTimeout,
		Compression: comp,
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	l, err := netproto.DialTCP(dctx, d.addr, opts)
	cancel()
	if err != nil {
		return err
	}
	defer l.Close()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()

	if err := d.handshake(l); err != nil {
		return err
	}
	d.log.Info("dispatcher link up")

	d.mu.Lock()
	d.link = l
	d.mu.Unlock()
	d.isUp.Store(true)
	done := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		d.writer(l, done)
	}()
	defer func() {
		d.isUp.Store(false)
		d.mu.Lock()
		d.link = nil
		d.mu.Unlock()
		close(done)
		<-writerDone
		if ctx.Err() == nil {
			// The dispatcher sends every game GateDown for us: our
			// clients' entities are unbound, so they must start again.
			g.dropAllClients(DisconnectClusterLost)
		}
	}()

	scratch := newBatchScratch()
	for {
		typ, payload, err := l.Recv()
		if err != nil {
			return fmt.Errorf("gate: dispatcher %s: %w", d.addr, err)
		}
		g.stats.dispatcherIn.add(typ, 1, uint64(len(payload)+netproto.FrameHeaderSize))
		d.handle(typ, payload, scratch)
	}
}

// handshake sends Hello and waits for HelloAck.
func (d *dispatcherLink) handshake(l netproto.Link) error {
	g := d.g
	hello := &netproto.Hello{Role: netproto.RoleGate, ID: g.cfg.ID, Secret: g.cfg.Secret, Version: netproto.ProtocolVersion}
	if err := g.internalCodec.Send(l, hello); err != nil {
		return fmt.Errorf("gate: hello to %s: %w", d.addr, err)
	}
	if err := l.Flush(); err != nil {
		return err
	}
	t := time.AfterFunc(helloAckTimeout, func() { l.Close() })
	defer t.Stop()
	// A dispatcher answers HelloAck first; a Heartbeat or the TypeSchema
	// ahead of it is tolerated.
	for range 16 {
		typ, payload, err := l.Recv()
		if err != nil {
			return fmt.Errorf("gate: waiting for HelloAck from %s: %w", d.addr, err)
		}
		g.stats.dispatcherIn.add(typ, 1, uint64(len(payload)+netproto.FrameHeaderSize))
		if typ == netproto.MsgHeartbeat {
			continue
		}
		m, err := g.internalCodec.Decode(typ, payload)
		if err != nil {
			return fmt.Errorf("gate: handshake with %s: %w", d.addr, err)
		}
		switch m := m.(type) {
		case *netproto.HelloAck:
			if m.Version != 0 && m.Version != netproto.ProtocolVersion {
				d.log.Warn("dispatcher speaks another protocol version", zap.Uint32("version", m.Version), zap.Uint32("ours", netproto.ProtocolVersion))
			}
			return nil
		case *netproto.HelloReject:
			return fmt.Errorf("gate: dispatcher %s rejected us: %s", d.addr, m.Reason)
		case *netproto.TypeSchema:
			g.schema.set(m.Game, m.Types)
		default:
			return fmt.Errorf("gate: dispatcher %s answered Hello with %v", d.addr, typ)
		}
	}
	return fmt.Errorf("gate: dispatcher %s sent no HelloAck", d.addr)
}

// writer flushes when woken and sends a Heartbeat when the link has been
// idle for the heartbeat interval.
func (d *dispatcherLink) writer(l netproto.Link, done <-chan struct{}) {
	iv := d.g.cfg.Link.HeartbeatInterval
	if iv <= 0 {
		iv = time.Second
	}
	t := time.NewTicker(iv / 2)
	defer t.Stop()
	for {
		select {
		case <-done:
			_ = l.Flush()
			return
		case <-d.wake:
		case now := <-t.C:
			if now.Sub(time.Unix(0, d.lastSend.Load())) < iv {
				continue
			}
			if err := l.Send(netproto.MsgHeartbeat, nil); err == nil {
				d.g.stats.dispatcherOut.add(netproto.MsgHeartbeat, 1, netproto.FrameHeaderSize)
				d.lastSend.Store(now.UnixNano())
			}
		}
		if err := l.Flush(); err != nil {
			l.Close() // the reader sees it and the session ends
			return
		}
	}
}

// handle acts on one message from the dispatcher.
func (d *dispatcherLink) handle(typ netproto.MsgType, payload []byte, scratch *batchScratch) {
	g := d.g
	if typ == netproto.MsgHeartbeat {
		return
	}
	m, err := g.internalCodec.Decode(typ, payload)
	if err != nil {
		g.stats.dropped.inc(DroppedDecode)
		g.clog.Error("undecodable message from dispatcher", zap.String("dispatcher", d.addr), zap.Stringer("type", typ), zap.Error(err))
		return
	}
	switch m := m.(type) {
	case *netproto.TypeSchema:
		g.schema.set(m.Game, m.Types)
		d.log.Debug("type schema", zap.Uint16("game", m.Game), zap.Int("types", len(m.Types)))
	case *netproto.GateBatch:
		g.handleBatch(m, scratch)
	case *netproto.CallReply:
		if m.To.Role != netproto.RoleGate || m.To.ID != g.cfg.ID {
			g.stats.dropped.inc(DroppedWrongGate)
			return
		}
		c := g.client(m.Client)
		if c == nil {
			g.stats.dropped.inc(DroppedUnknownClient)
			return
		}
		c.send(&netproto.ClientCallReply{CallID: m.CallID, Result: m.Result, Error: m.Error})
		c.flush()
	case *netproto.ClientBound:
		if m.Gate != g.cfg.ID {
			g.stats.dropped.inc(DroppedWrongGate)
			return
		}
		c := g.client(m.Client)
		if c == nil {
			g.stats.dropped.inc(DroppedUnknownClient)
			if m.Entity != 0 {
				// The client left before its binding arrived; our
				// ClientDisconnected had no entity. Tell the entity's game
				// again so it unbinds.
				_ = g.shard(m.Entity).send(&netproto.ClientDisconnected{Gate: g.cfg.ID, Client: m.Client, Entity: m.Entity})
			}
			return
		}
		c.bind(m)
	case *netproto.KickClient:
		if m.Gate != g.cfg.ID {
			g.stats.dropped.inc(DroppedWrongGate)
			return
		}
		c := g.client(m.Client)
		if c == nil {
			g.stats.dropped.inc(DroppedUnknownClient)
			return
		}
		c.log.Info("client kicked", zap.String("why", m.Reason))
		c.stop(DisconnectKicked, netproto.DisconnectKicked, m.Reason)
	default:
		g.stats.dropped.inc(DroppedUnexpected)
		g.clog.Warn("unexpected message from dispatcher", zap.String("dispatcher", d.addr), zap.Stringer("type", typ))
	}
}
