package game

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/netproto"
)

// Redial backoff of a lost dispatcher link.
const (
	minBackoff  = 100 * time.Millisecond
	maxBackoff  = 5 * time.Second
	dialTimeout = 5 * time.Second
)

// dispLink is the link to one dispatcher: nil while down. The tick
// goroutine sends on it; its writer goroutine flushes when kicked.
type dispLink struct {
	idx  int
	addr string

	mu   sync.Mutex
	link netproto.Link
	kick chan struct{}
	// closing: shutdown closed the link on purpose (the game stops or
	// froze); the loop must not redial.
	closing atomic.Bool

	// tick goroutine only
	lastSend time.Time
	wasUp    bool     // the link has been up before (onLinkUp)
	backlog  []queued // sent while the link was down, oldest first
	backlogN int      // bytes in backlog
}

// queued is a message kept for a link that is down.
type queued struct {
	typ     netproto.MsgType
	payload []byte
}

// maxBacklog bounds the bytes kept per dispatcher while its link is down
// (what OnStart registers before the links are up, what a short outage
// holds); beyond it messages are dropped and counted.
const maxBacklog = 8 << 20

// maxQueued bounds what one tick may queue on a link before its flush.
const maxQueued = 64 << 20

func newDispLink(idx int, addr string) *dispLink {
	return &dispLink{idx: idx, addr: addr, kick: make(chan struct{}, 1)}
}

func (d *dispLink) current() netproto.Link {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.link
}

func (d *dispLink) set(l netproto.Link) {
	d.mu.Lock()
	d.link = l
	d.mu.Unlock()
}

// flush asks the writer goroutine to flush; it never blocks.
func (d *dispLink) flush() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// shutdown flushes what is queued (best effort) and closes the link.
func (d *dispLink) shutdown() {
	d.closing.Store(true)
	if l := d.current(); l != nil {
		_ = l.Flush()
		_ = l.Close()
	}
}

// linkOptions are the options of every dispatcher link.
func (g *Game) linkOptions() netproto.Options {
	lc := g.cfg.Game.Link
	// A tick's output (gate batches at a login storm) can pass the
	// default 4 MiB of unflushed sends; it is flushed within the tick.
	o := netproto.Options{MaxFrame: lc.MaxFrame, ReadTimeout: lc.IdleTimeout, MaxQueued: maxQueued}
	switch lc.Compression {
	case "s2":
		o.Compression = netproto.Compression{Algo: netproto.CompressS2, Threshold: lc.CompressThreshold}
	case "zstd":
		o.Compression = netproto.Compression{Algo: netproto.CompressZstd, Threshold: lc.CompressThreshold}
	}
	return o
}

// connLoop keeps the link to one dispatcher up until ctx ends: dial, Hello,
// read into the inbox; redial with backoff when it drops.
func (g *Game) connLoop(ctx context.Context, d *dispLink) {
	backoff := minBackoff
	log := g.log.With(zap.String("dispatcher", d.addr))
	for ctx.Err() == nil && !d.closing.Load() {
		l, did, err := g.dial(ctx, d.addr)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			g.st.dialErrors.Add(1)
			log.Warn("dispatcher link failed", zap.Error(err), zap.Duration("retry_in", backoff))
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		log.Info("dispatcher link up", zap.Uint16("dispatcher_id", did))
		// Closing the link is what ends the read loop, also when ctx ends
		// while this goroutine is between the dial and the read.
		stop := context.AfterFunc(ctx, func() { l.Close() })
		d.set(countingLink{Link: l, out: &g.st.out})
		g.st.connected.Add(1)
		select {
		case g.inbox <- inMsg{from: d.idx, fn: func(g *Game) { g.onLinkUp(d.idx) }}:
		case <-ctx.Done():
		}
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.writeLoop(l, d, done)
		}()
		err = g.readLoop(ctx, l, d)
		d.set(nil)
		g.st.connected.Add(-1)
		close(done)
		stop()
		l.Close()
		wg.Wait()
		if ctx.Err() != nil || d.closing.Load() {
			return
		}
		log.Warn("dispatcher link down", zap.Error(err))
	}
}

// dial connects and does the handshake; it returns the dispatcher's id.
func (g *Game) dial(ctx context.Context, addr string) (netproto.Link, uint16, error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	l, err := netproto.DialTCP(dctx, addr, g.linkOptions())
	if err != nil {
		return nil, 0, err
	}
	// The handshake is bounded even when the idle timeout is not set.
	stop := context.AfterFunc(dctx, func() { l.Close() })
	defer stop()
	gc := g.cfg.Game
	hello := &netproto.Hello{Role: netproto.RoleGame, ID: gc.ID, Secret: gc.Secret, Version: netproto.ProtocolVersion,
		Restored: g.cfg.Restored, Types: g.types}
	if err := g.codec.Send(l, hello); err != nil {
		l.Close()
		return nil, 0, err
	}
	if err := l.Flush(); err != nil {
		l.Close()
		return nil, 0, err
	}
	typ, payload, err := l.Recv()
	if err != nil {
		l.Close()
		return nil, 0, fmt.Errorf("game: waiting for HelloAck from %s: %w", addr, err)
	}
	msg, err := g.codec.Decode(typ, payload)
	if err != nil {
		l.Close()
		return nil, 0, fmt.Errorf("game: handshake with %s: %w", addr, err)
	}
	switch m := msg.(type) {
	case *netproto.HelloAck:
		if !stop() {
			l.Close()
			return nil, 0, fmt.Errorf("game: handshake with %s: %w", addr, dctx.Err())
		}
		return l, m.ID, nil
	case *netproto.HelloReject:
		l.Close()
		return nil, 0, fmt.Errorf("game: dispatcher %s refused us: %s", addr, m.Reason)
	}
	l.Close()
	return nil, 0, fmt.Errorf("game: handshake with %s: %w: got %v", addr, netproto.ErrMalformed, typ)
}

// readLoop decodes what the dispatcher sends and queues it for the tick.
func (g *Game) readLoop(ctx context.Context, l netproto.Link, d *dispLink) error {
	for {
		typ, payload, err := l.Recv()
		if err != nil {
			return err
		}
		g.st.msgsIn.Add(1)
		g.st.in.add(typ, len(payload))
		if typ == netproto.MsgHeartbeat {
			continue
		}
		msg, err := g.codec.Decode(typ, payload)
		if err != nil {
			// A dispatcher is trusted to frame correctly, not to relay only
			// good messages: drop this one, keep the link.
			g.st.badMessages.Add(1)
			g.warn.Warn("bad message from dispatcher", zap.String("dispatcher", d.addr), zap.Stringer("type", typ), zap.Error(err))
			continue
		}
		select {
		case g.inbox <- inMsg{from: d.idx, msg: msg}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// writeLoop flushes the link each time the tick kicks it.
func (g *Game) writeLoop(l netproto.Link, d *dispLink, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-d.kick:
			if err := l.Flush(); err != nil {
				if !errors.Is(err, netproto.ErrLinkClosed) {
					g.warn.Warn("dispatcher write failed", zap.String("dispatcher", d.addr), zap.Error(err))
				}
				l.Close() // the read loop sees it and redials
				return
			}
		}
	}
}

// sendTo queues msg on dispatcher i. While the link is down the message
// is kept (up to maxBacklog bytes, then dropped and counted) and sent, in
// order, before anything else once the link is up again.
func (g *Game) sendTo(i int, msg netproto.Message) error {
	d := g.links[i]
	l := d.current()
	if l != nil && len(d.backlog) > 0 {
		g.drainBacklog(d, l)
	}
	if l == nil || len(d.backlog) > 0 {
		if msg.MsgType() == netproto.MsgHeartbeat {
			return nil
		}
		payload, err := g.codec.AppendMessage(nil, msg)
		if err != nil {
			g.st.dropped.Add(1)
			return fmt.Errorf("game: encode %v: %w", msg.MsgType(), err)
		}
		if d.backlogN+len(payload) > maxBacklog {
			g.st.dropped.Add(1)
			g.warn.Warn("message dropped: dispatcher not connected and its backlog is full",
				zap.String("dispatcher", d.addr), zap.Stringer("type", msg.MsgType()))
			return fmt.Errorf("%w: %s (%v)", ErrNoDispatcher, d.addr, msg.MsgType())
		}
		d.backlog = append(d.backlog, queued{msg.MsgType(), payload})
		d.backlogN += len(payload)
		g.st.backlogged.Add(1)
		return nil
	}
	if err := g.codec.Send(l, msg); err != nil {
		g.st.dropped.Add(1)
		g.warn.Warn("message dropped", zap.String("dispatcher", d.addr), zap.Stringer("type", msg.MsgType()), zap.Error(err))
		return fmt.Errorf("game: send %v to %s: %w", msg.MsgType(), d.addr, err)
	}
	g.st.msgsOut.Add(1)
	d.lastSend = g.now
	return nil
}

// drainBacklog sends what was kept for d while it was down; what the link
// refuses stays for the next try.
func (g *Game) drainBacklog(d *dispLink, l netproto.Link) {
	n := 0
	for _, q := range d.backlog {
		if err := l.Send(q.typ, q.payload); err != nil {
			g.warn.Warn("backlog not sent yet", zap.String("dispatcher", d.addr), zap.Error(err))
			break
		}
		d.backlogN -= len(q.payload)
		g.st.msgsOut.Add(1)
		n++
	}
	clear(d.backlog[:n])
	d.backlog = d.backlog[n:]
	if len(d.backlog) == 0 {
		d.backlog = nil
	}
}

// sendShard queues msg on the dispatcher of key (netproto.Shard).
func (g *Game) sendShard(key uint64, msg netproto.Message) error {
	return g.sendTo(g.shard(key), msg)
}

// sendAll queues msg on every connected dispatcher (for reports that a
// later one replaces: not kept for a link that is down).
func (g *Game) sendAll(msg netproto.Message) {
	for i, d := range g.links {
		if d.current() != nil {
			g.sendTo(i, msg)
		}
	}
}
