package dispatcher

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecsworld/ecsworld/netproto"
	"go.uber.org/zap"
)

// errLinkDown is returned by conn sends once the link is finished.
var errLinkDown = errors.New("dispatcher: link down")

// errSlowConsumer is returned when a peer's send backlog passed its cap.
var errSlowConsumer = errors.New("dispatcher: peer does not keep up (send backlog full)")

// conn is one accepted, authenticated link: a game or a gate. Its reader is
// the goroutine that accepted it; a writer goroutine flushes what routing
// queued (so sends from many readers coalesce into few writes) and sends
// heartbeats on an idle link.
//
// Sends first go to the link's own buffer (Link.Send). When that is full
// (a large flush, a peer slower than its traffic) they go to backlog, which
// the writer moves into the link as it drains; once the backlog is in use,
// every send goes there, so order is kept. The backlog is capped: past it
// the peer is a slow consumer and its link is closed, never left with a gap.
type conn struct {
	d    *Dispatcher
	link netproto.Link
	peer netproto.Peer
	kick chan struct{} // capacity 1: "something to flush"
	done chan struct{} // closed when the reader finished with the link

	mu        sync.Mutex
	backlog   []byte // whole frames refused by the link (ErrQueueFull), in order
	allowance int    // backlog bytes from bulk flushes, exempt from the cap
	dead      bool
	queued    atomic.Uint64 // frames accepted so far; the writer's idle test
}

func newConn(d *Dispatcher, link netproto.Link, peer netproto.Peer) *conn {
	return &conn{d: d, link: link, peer: peer, kick: make(chan struct{}, 1), done: make(chan struct{})}
}

func (c *conn) signal() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// send queues one frame for the peer. It never blocks on the network.
func (c *conn) send(typ netproto.MsgType, payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return errLinkDown
	}
	if len(c.backlog) == 0 {
		err := c.link.Send(typ, payload)
		if err == nil {
			c.d.ctr.countOut(typ, len(payload))
			c.queued.Add(1)
			c.signal()
			return nil
		}
		if !errors.Is(err, netproto.ErrQueueFull) {
			return err
		}
	}
	if len(c.backlog)+netproto.FrameHeaderSize+len(payload) > c.d.maxBacklog+c.allowance {
		c.slowLocked()
		return errSlowConsumer
	}
	c.backlog = netproto.AppendFrame(c.backlog, typ, payload)
	c.queued.Add(1)
	c.signal()
	return nil
}

// sendFrames queues a buffer of whole frames (a flushed freeze queue or
// migration hold). The frames were already held in memory, so they do not
// count against the backlog cap; the buffer may be kept by the conn.
func (c *conn) sendFrames(frames []byte) error {
	if len(frames) == 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return errLinkDown
	}
	if len(c.backlog) == 0 && len(frames) <= c.d.chunk {
		err := c.link.SendFrames(frames)
		if err == nil {
			c.d.ctr.countOutFrames(frames)
			c.queued.Add(1)
			c.signal()
			return nil
		}
		if !errors.Is(err, netproto.ErrQueueFull) {
			return err
		}
	}
	if len(c.backlog) == 0 {
		c.backlog = frames
	} else {
		c.backlog = append(c.backlog, frames...)
	}
	c.allowance += len(frames)
	c.queued.Add(1)
	c.signal()
	return nil
}

// slowLocked gives up on a peer that does not keep up: the link is closed
// (its reader then cleans up as for any disconnect).
func (c *conn) slowLocked() {
	c.dead = true
	n := countFrames(c.backlog)
	c.backlog, c.allowance = nil, 0
	// The frame being sent is counted by the caller.
	c.d.ctr.drop(dropSlowConsumer, n)
	c.d.log.Error("peer does not keep up: send backlog full, closing its link",
		zap.Stringer("role", c.peer.Role), zap.Uint16("id", c.peer.ID),
		zap.Int("backlog_cap", c.d.maxBacklog), zap.Int("frames_lost", 1+n))
	c.link.Close()
}

// finish marks the conn dead after its link closed and reports what was
// still waiting in the backlog. The link's own unflushed buffer is lost with
// the link and cannot be counted.
func (c *conn) finish() int {
	c.mu.Lock()
	lost := 0
	if !c.dead {
		lost = countFrames(c.backlog)
		c.d.ctr.drop(dropLinkLost, lost)
	}
	c.dead = true
	c.backlog, c.allowance = nil, 0
	c.mu.Unlock()
	close(c.done)
	return lost
}

// writeLoop flushes on demand and sends a heartbeat when nothing was sent
// for the heartbeat interval. When ctx ends it flushes what is queued (best
// effort, bounded by the link's write timeout) and closes the link when the
// dispatcher closes.
func (c *conn) writeLoop() {
	hb := c.d.heartbeat
	tick := time.NewTicker(max(hb/2, time.Millisecond))
	defer tick.Stop()
	lastWrite := time.Now()
	var flushed uint64
	for {
		select {
		case <-c.done:
			return
		case <-c.d.closed:
			c.flushAll()
			c.link.Close()
			return
		case <-c.kick:
		case now := <-tick.C:
			if now.Sub(lastWrite) < hb {
				continue
			}
			if err := c.send(netproto.MsgHeartbeat, nil); err != nil {
				continue
			}
		}
		if err := c.flushAll(); err != nil {
			c.d.log.Info("write failed, closing link", zap.Stringer("role", c.peer.Role),
				zap.Uint16("id", c.peer.ID), zap.Error(err))
			c.link.Close()
			return
		}
		if q := c.queued.Load(); q != flushed {
			flushed = q
			lastWrite = time.Now()
		}
	}
}

// flushAll writes the link's buffer, then moves the backlog into the link
// chunk by chunk, flushing each, until the backlog is empty.
func (c *conn) flushAll() error {
	for {
		if err := c.link.Flush(); err != nil {
			return err
		}
		c.mu.Lock()
		if len(c.backlog) == 0 {
			c.mu.Unlock()
			return nil
		}
		chunk, rest := splitChunk(c.backlog, c.d.chunk, c.d.maxFrame)
		err := c.link.SendFrames(chunk)
		if err != nil && !errors.Is(err, netproto.ErrQueueFull) {
			c.mu.Unlock()
			return err
		}
		if err == nil {
			c.d.ctr.countOutFrames(chunk)
			c.allowance = max(0, c.allowance-len(chunk))
			if len(rest) == 0 {
				rest = nil // release a large backlog's memory
			}
			c.backlog = rest
		}
		c.mu.Unlock()
	}
}

// splitChunk splits whole frames totalling at most size bytes (at least
// one frame) off the front of frames.
func splitChunk(frames []byte, size, maxFrame int) (chunk, rest []byte) {
	n := 0
	for n < len(frames) {
		_, _, r, err := netproto.SplitFrame(frames[n:], maxFrame)
		if err != nil {
			// Our own frames: cannot happen; hand over the rest whole and let
			// the link refuse it.
			return frames, nil
		}
		next := len(frames) - len(r)
		if next > size && n > 0 {
			break
		}
		n = next
	}
	return frames[:n], frames[n:]
}

// countFrames counts whole frames in a buffer of frames.
func countFrames(frames []byte) int {
	n := 0
	for len(frames) > 0 {
		_, _, rest, err := netproto.SplitFrame(frames, 1<<30)
		if err != nil {
			break
		}
		frames = rest
		n++
	}
	return n
}

// String names the peer for logs.
func (c *conn) String() string { return fmt.Sprintf("%v.%d", c.peer.Role, c.peer.ID) }
