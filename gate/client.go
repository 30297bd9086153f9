package gate

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/netproto"
)

// client is one connected client. Its reader goroutine (serveClient) owns
// the receive side and the rate limit; its writer goroutine flushes the link
// whenever something was queued, so no other goroutine (a dispatcher link
// fanning out a batch) ever blocks on a slow client.
type client struct {
	g    *Gate
	id   uint64
	link netproto.Link
	log  *zap.Logger

	bucket    tokenBucket // reader only
	announced bool        // ClientConnected sent; reader only
	// observer: the client said Role observer with the right token; it
	// may only watch (set before its goroutines start, then read-only).
	observer bool

	lastSend  atomic.Int64  // unix nanoseconds of the last flush request
	ownEntity atomic.Uint64 // mirror of entity, for the batch hot path

	// mu guards what dispatcher goroutines update and the reader checks.
	mu         sync.Mutex
	entity     uint64 // the client's own entity (ClientBound); 0: none yet
	entityType string
	moved      bool // the game lets the client move entity
	move       moveCheck
	visible    map[uint64]string // entity → type, from batch Vis fields
	violations int
	violStart  time.Time

	wake       chan struct{} // cap 1: something to flush
	closing    chan struct{} // closed by stop
	writerDone chan struct{}
	stopOnce   sync.Once
	reason     string // why stop was called; read after closing
}

// serveClient runs one client link from its first frame to its end.
func (g *Gate) serveClient(l netproto.Link) {
	log := g.clog.With(zap.String("transport", l.Transport()), zap.Stringer("addr", l.RemoteAddr()))
	if g.pending.Add(1) > int64(g.opts.maxPending) {
		g.pending.Add(-1)
		g.stats.disconnects.inc(DisconnectBusy)
		log.Info("client refused", zap.String("reason", DisconnectBusy))
		l.Close()
		return
	}
	hello, reason, code := g.readHello(l)
	g.pending.Add(-1)
	if reason != "" {
		g.stats.disconnects.inc(reason)
		log.Info("client refused", zap.String("reason", reason))
		if code != noDisconnectFrame {
			g.sendDisconnect(l, code, reason)
		}
		l.Close()
		return
	}
	if !g.allUp() {
		// A client needs its boot dispatcher now and may call entities of
		// any shard: refuse it rather than leave it hanging.
		g.stats.disconnects.inc(DisconnectUnavailable)
		log.Info("client refused", zap.String("reason", DisconnectUnavailable))
		g.sendDisconnect(l, netproto.DisconnectShutdown, "cluster unavailable")
		l.Close()
		return
	}

	now := time.Now()
	c := &client{
		g:          g,
		id:         uint64(g.cfg.ID)<<48 | (g.seq.Add(1) & seqMask),
		link:       l,
		bucket:     newTokenBucket(g.cfg.MaxMsgsPerSecond, now),
		visible:    make(map[uint64]string),
		wake:       make(chan struct{}, 1),
		closing:    make(chan struct{}),
		writerDone: make(chan struct{}),
		observer:   hello.Role == RoleObserver,
	}
	c.log = log.With(zap.Uint64("client", c.id))
	c.move.reset(g.cfg.MaxSpeed, now)
	g.mu.Lock()
	if n := g.opts.maxClients; n > 0 && len(g.clients) >= n {
		g.mu.Unlock()
		g.stats.disconnects.inc(DisconnectFull)
		log.Info("client refused", zap.String("reason", DisconnectFull))
		g.sendDisconnect(l, netproto.DisconnectShutdown, "gate full")
		l.Close()
		return
	}
	g.clients[c.id] = c
	g.mu.Unlock()
	g.stats.accepted.Add(1)
	go c.writer()
	stopOnCancel := context.AfterFunc(g.ctx, func() {
		c.stop(DisconnectShutdown, netproto.DisconnectShutdown, "gate shutting down")
	})
	defer stopOnCancel()

	hb := g.cfg.HeartbeatInterval
	c.send(&netproto.ClientWelcome{Client: c.id, HeartbeatMs: uint32(hb / time.Millisecond), Version: netproto.ProtocolVersion})
	c.flush()
	c.log.Debug("client connected", zap.String("role", hello.Role))

	cc := &netproto.ClientConnected{Gate: g.cfg.ID, Client: c.id, BootType: g.opts.bootType, Addr: l.RemoteAddr().String()}
	if c.observer {
		// No boot entity: the game that gets this sends the observer
		// views of its spaces instead.
		cc.BootType = netproto.ObserverBootType
	}
	if err := g.shard(c.id).send(cc); err != nil {
		c.stop(DisconnectUnavailable, netproto.DisconnectShutdown, "cluster unavailable")
	} else {
		c.announced = true
	}

	c.readLoop()
	<-c.writerDone

	g.mu.Lock()
	delete(g.clients, c.id)
	g.mu.Unlock()
	g.stats.disconnects.inc(c.reason)
	if c.reason == DisconnectNormal {
		c.log.Debug("client disconnected", zap.String("reason", c.reason))
	} else {
		c.log.Info("client disconnected", zap.String("reason", c.reason))
	}
	// On shutdown the dispatchers see the gate's links close and send
	// every game GateDown, which unbinds all its clients at once.
	if c.announced && c.reason != DisconnectShutdown {
		c.mu.Lock()
		e := c.entity
		c.mu.Unlock()
		// Through the entity's dispatcher, which routes it to the entity's
		// game; with no entity yet, through the boot dispatcher, behind
		// the ClientConnected it follows.
		key := e
		if key == 0 {
			key = c.id
		}
		_ = g.shard(key).send(&netproto.ClientDisconnected{Gate: g.cfg.ID, Client: c.id, Entity: e})
	}
}

// noDisconnectFrame: the link is already broken, do not try to send.
const noDisconnectFrame = 0xFFFF

// readHello waits for the first frame, which must be a valid ClientHello.
// On failure it returns the disconnect reason and the code to send.
func (g *Gate) readHello(l netproto.Link) (*netproto.ClientHello, string, uint16) {
	var expired atomic.Bool
	t := time.AfterFunc(g.opts.helloTimeout, func() {
		expired.Store(true)
		l.Close()
	})
	stop := context.AfterFunc(g.ctx, func() { l.Close() })
	typ, payload, err := l.Recv()
	t.Stop()
	stop()
	if err != nil {
		if expired.Load() {
			return nil, DisconnectHelloTimeout, noDisconnectFrame
		}
		if g.ctx.Err() != nil {
			return nil, DisconnectShutdown, noDisconnectFrame
		}
		return nil, recvReason(err), noDisconnectFrame
	}
	g.stats.clientIn.add(typ, 1, uint64(len(payload)+netproto.FrameHeaderSize))
	if typ != netproto.MsgClientHello {
		if r := typeReason(typ); r != "" {
			return nil, r, netproto.DisconnectBadInput
		}
		return nil, DisconnectBadHello, netproto.DisconnectBadInput
	}
	m, err := g.clientCodec.Decode(typ, payload)
	if err != nil {
		return nil, DisconnectBadHello, netproto.DisconnectBadInput
	}
	h := m.(*netproto.ClientHello)
	if h.Version != 0 && h.Version != netproto.ProtocolVersion {
		return nil, DisconnectBadVersion, netproto.DisconnectBadVersion
	}
	switch h.Role {
	case "", "player":
	case RoleObserver:
		tok := g.cfg.ObserverToken
		if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(h.Token)) != 1 {
			return nil, DisconnectBadRole, netproto.DisconnectBadInput
		}
	default:
		return nil, DisconnectBadRole, netproto.DisconnectBadInput
	}
	return h, "", 0
}

// sendDisconnect tells a client being refused why, best effort.
func (g *Gate) sendDisconnect(l netproto.Link, code uint16, reason string) {
	typ, b, err := g.clientCodec.Marshal(&netproto.Disconnect{Reason: reason, Code: code})
	if err == nil && l.Send(typ, b) == nil {
		g.stats.clientOut.add(typ, 1, uint64(len(b)+netproto.FrameHeaderSize))
		_ = l.Flush()
	}
}

// recvReason classifies an error of Link.Recv.
func recvReason(err error) string {
	switch {
	case errors.Is(err, netproto.ErrFrameTooLarge):
		return DisconnectFrameTooLarge
	case errors.Is(err, netproto.ErrTruncated):
		return DisconnectTruncated
	case errors.Is(err, netproto.ErrMalformed):
		return DisconnectMalformed
	case netproto.IsTimeout(err):
		return DisconnectIdle
	case errors.Is(err, io.EOF), errors.Is(err, netproto.ErrLinkClosed), errors.Is(err, net.ErrClosed):
		return DisconnectNormal
	}
	return DisconnectLinkError
}

// decodeReason classifies an error of Codec.Decode.
func decodeReason(err error) string {
	switch {
	case errors.Is(err, netproto.ErrFrameTooLarge):
		return DisconnectFrameTooLarge
	case errors.Is(err, netproto.ErrTruncated):
		return DisconnectTruncated
	case errors.Is(err, netproto.ErrUnknownType):
		return DisconnectUnknownType
	}
	return DisconnectMalformed
}

// typeReason refuses a type a client may not send: "" if it may.
func typeReason(typ netproto.MsgType) string {
	switch {
	case !typ.Known():
		return DisconnectUnknownType
	case !typ.FromClient():
		return DisconnectNotFromClient
	}
	return ""
}

// readLoop handles the client's frames until the link ends or the client
// breaks a rule; either way the client is stopped when it returns.
func (c *client) readLoop() {
	g := c.g
	var (
		call netproto.ClientCall
		move netproto.ClientMove
	)
	for {
		typ, payload, err := c.link.Recv()
		if err != nil {
			r := recvReason(err)
			if r != DisconnectNormal && r != DisconnectLinkError {
				c.log.Info("client link error", zap.String("reason", r), zap.Error(err))
			}
			code := netproto.DisconnectBadInput
			switch r {
			case DisconnectIdle:
				code = netproto.DisconnectIdle
			case DisconnectNormal, DisconnectLinkError:
				code = netproto.DisconnectNormal
			}
			c.stop(r, code, r)
			return
		}
		g.stats.clientIn.add(typ, 1, uint64(len(payload)+netproto.FrameHeaderSize))
		now := time.Now()
		if !c.bucket.take(now) {
			c.reject(DisconnectRateLimit, typ, nil)
			return
		}
		if r := typeReason(typ); r != "" {
			c.reject(r, typ, nil)
			return
		}
		switch typ {
		case netproto.MsgHeartbeat:
			if len(payload) != 0 {
				c.reject(DisconnectMalformed, typ, errors.New("heartbeat with a payload"))
				return
			}
		case netproto.MsgClientHello:
			c.reject(DisconnectBadHello, typ, errors.New("second ClientHello"))
			return
		case netproto.MsgClientCall:
			call = netproto.ClientCall{}
			if err := g.clientCodec.DecodeInto(payload, &call); err != nil {
				c.reject(decodeReason(err), typ, err)
				return
			}
			if c.observer {
				if c.observerRefused(RefusedObserverCall, call.CallID, now) {
					c.reject(DisconnectObserverAbuse, typ, nil)
					return
				}
				continue
			}
			c.call(&call)
		case netproto.MsgClientMove:
			if err := g.clientCodec.DecodeInto(payload, &move); err != nil {
				c.reject(decodeReason(err), typ, err)
				return
			}
			if c.observer {
				if c.observerRefused(RefusedObserverMove, 0, now) {
					c.reject(DisconnectObserverAbuse, typ, nil)
					return
				}
				continue
			}
			if c.moveTo(move.Records, now) {
				c.reject(DisconnectMoveAbuse, typ, nil)
				return
			}
		case netproto.MsgDisconnect:
			c.stop(DisconnectNormal, netproto.DisconnectNormal, "")
			return
		}
	}
}

// reject disconnects the client for breaking a rule.
func (c *client) reject(reason string, typ netproto.MsgType, err error) {
	fields := []zap.Field{zap.String("reason", reason), zap.Stringer("type", typ)}
	if err != nil {
		fields = append(fields, zap.Error(err))
	}
	c.log.Info("client broke a rule", fields...)
	c.stop(reason, netproto.DisconnectBadInput, reason)
}

// stop starts the client's disconnection (once): a Disconnect frame is
// queued, and the writer flushes it and closes the link, which ends the
// reader.
func (c *client) stop(reason string, code uint16, text string) {
	c.stopOnce.Do(func() {
		c.reason = reason
		c.send(&netproto.Disconnect{Reason: text, Code: code})
		close(c.closing)
	})
}

// writer flushes the link when woken, and closes it when the client stops.
func (c *client) writer() {
	defer close(c.writerDone)
	for {
		select {
		case <-c.wake:
			if err := c.link.Flush(); err != nil {
				c.stop(DisconnectSlow, netproto.DisconnectNormal, "")
			}
		case <-c.closing:
			_ = c.link.Flush()
			c.link.Close()
			return
		}
	}
}

// flush asks the writer to write what is queued. Every send is followed by
// a flush, so this is where the time of the last send is kept (once per
// batch rather than once per frame).
func (c *client) flush() {
	c.lastSend.Store(time.Now().UnixNano())
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// send queues m (flush to write it). A client whose queue is full is not
// reading: it is dropped.
func (c *client) send(m netproto.Message) {
	typ, b, err := c.g.clientCodec.Marshal(m)
	if err != nil {
		c.log.Error("encode for client", zap.Stringer("type", m.MsgType()), zap.Error(err))
		return
	}
	c.sendRaw(typ, b)
}

// sendRaw queues one frame.
func (c *client) sendRaw(typ netproto.MsgType, payload []byte) {
	if err := c.link.Send(typ, payload); err != nil {
		c.sendFailed(err)
		return
	}
	c.g.stats.clientOut.add(typ, 1, uint64(len(payload)+netproto.FrameHeaderSize))
}

// sendFrames queues whole frames already validated and counted.
func (c *client) sendFrames(frames []byte) bool {
	if err := c.link.SendFrames(frames); err != nil {
		c.sendFailed(err)
		return false
	}
	return true
}

func (c *client) sendFailed(err error) {
	if errors.Is(err, netproto.ErrQueueFull) {
		c.log.Info("client not reading, dropped", zap.Error(err))
		c.stop(DisconnectSlow, netproto.DisconnectNormal, "")
	}
	// Other errors: the link is closed or failed; the reader ends it.
}

// call forwards an allowed ClientCall to its target's dispatcher and
// answers a refused one.
func (c *client) call(m *netproto.ClientCall) {
	reason, own := c.checkCall(m.Entity, m.Method)
	if reason == "" {
		ce := &netproto.CallEntity{
			Target: m.Entity,
			Method: m.Method,
			Args:   m.Args,
			Caller: netproto.Caller{Kind: netproto.CallerClient, Entity: own, Client: c.id, Gate: c.g.cfg.ID},
			CallID: m.CallID,
		}
		if c.g.shard(m.Entity).send(ce) == nil {
			return
		}
		reason = RefusedUnavailable
	}
	c.g.stats.refused.inc(reason)
	c.log.Debug("client call refused", zap.String("reason", reason), zap.Uint64("entity", m.Entity), zap.String("method", m.Method))
	if m.CallID != 0 {
		c.send(&netproto.ClientCallReply{CallID: m.CallID, Error: "gate: call refused: " + reason})
		c.flush()
	}
}

// checkCall applies the gate's call rules; it returns the refusal reason
// ("" if allowed) and the client's own entity.
func (c *client) checkCall(target uint64, method string) (string, uint64) {
	c.mu.Lock()
	own := c.entity
	typ, visible := c.visible[target]
	if target != 0 && target == own {
		typ, visible = c.entityType, true
	}
	c.mu.Unlock()
	if !visible || target == 0 {
		return RefusedNotVisible, own
	}
	perm, ok := c.g.schema.perm(typ, method)
	if !ok {
		return RefusedNotCallable, own
	}
	if perm == netproto.PermOwnClient && target != own {
		return RefusedNotOwner, own
	}
	return "", own
}

// moveTo checks a ClientMove's records and forwards the last good one as
// SyncFromClient (a position is a state: only the latest matters). It
// reports whether the client has now refused moves enough to be dropped.
func (c *client) moveTo(recs []netproto.PositionRecord, now time.Time) bool {
	if len(recs) == 0 {
		return false
	}
	var (
		last   netproto.PositionRecord
		good   bool
		abused bool
	)
	c.mu.Lock()
	entity := c.entity
	for i := range recs {
		r := &recs[i]
		reason := ""
		switch {
		case c.entity == 0 || !c.moved:
			reason = RefusedMoveNotAllowed
		case r.Entity != c.entity:
			reason = RefusedMoveEntity
		case !c.move.allow(float64(r.X), float64(r.Y), float64(r.Z), now):
			reason = RefusedMoveTooFast
		}
		if reason == "" {
			last, good = *r, true
			continue
		}
		c.g.stats.refused.inc(reason)
		if now.Sub(c.violStart) > moveViolationWindow {
			c.violStart, c.violations = now, 0
		}
		c.violations++
		if c.violations >= c.g.opts.moveViolations {
			abused = true
		}
	}
	c.mu.Unlock()
	if good && !abused {
		_ = c.g.shard(entity).send(&netproto.SyncFromClient{Client: c.id, Record: last})
	}
	return abused
}

// bind applies a ClientBound: the client's own entity and whether it may
// move it. The speed limit is the stricter of the gate's max_speed and the
// game's MaxSpeed (0 on either side: no limit from that side).
func (c *client) bind(b *netproto.ClientBound) {
	if c.observer {
		// A game never binds an observer; if one did, the observer still
		// gets no entity to move or call as.
		c.g.stats.dropped.inc(DroppedObserverBound)
		return
	}
	limit := c.g.cfg.MaxSpeed
	if s := float64(b.MaxSpeed); s > 0 && (limit <= 0 || s < limit) {
		limit = s
	}
	c.mu.Lock()
	if b.Entity != c.entity || limit != c.move.limit {
		c.move.reset(limit, time.Now())
	}
	c.entity, c.entityType, c.moved = b.Entity, b.Type, b.ClientMoved
	c.mu.Unlock()
	c.ownEntity.Store(b.Entity)
}

// see and unsee track what the client can see (BatchItem.Vis).
func (c *client) see(entity uint64, typ string) {
	c.mu.Lock()
	c.visible[entity] = typ
	c.mu.Unlock()
}

func (c *client) unsee(entity uint64) {
	c.mu.Lock()
	delete(c.visible, entity)
	c.mu.Unlock()
}

// place records a position the server sent for the client's own entity: the
// reference its next move is measured from.
func (c *client) place(r netproto.PositionRecord) {
	c.mu.Lock()
	if r.Entity == c.entity {
		c.move.place(float64(r.X), float64(r.Y), float64(r.Z))
	}
	c.mu.Unlock()
}
