package netproto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Link is one framed connection over any transport (TCP, KCP, WebSocket).
//
// Sends are coalesced: Send appends a frame to a buffer and Flush writes the
// whole buffer in one write (a game flushes once per tick). Send, SendFrames
// and Flush are safe for concurrent use with each other; Recv must be called
// from one goroutine at a time. Close may be called from any goroutine and
// unblocks Recv and Flush.
type Link interface {
	// Send queues one frame. It fails with ErrFrameTooLarge if the frame
	// exceeds the link's MaxFrame, ErrQueueFull if the unflushed buffer
	// would exceed MaxQueued, and with the link's error once it has failed
	// or closed. The payload is copied.
	Send(typ MsgType, payload []byte) error
	// SendFrames queues already encoded whole frames (for example a
	// GateBatch item), checking each like Send.
	SendFrames(frames []byte) error
	// Flush writes everything queued in one write, bounded by WriteTimeout.
	// A write error fails the link.
	Flush() error
	// Recv returns the next frame's type (compression flags removed) and
	// payload, valid until the next Recv. A framing or decompression error
	// (ErrFrameTooLarge, ErrTruncated, ErrMalformed) sticks: the stream
	// cannot be resynchronised, so every later Recv returns it; the link
	// stays writable so that its owner can send a last Disconnect (Send,
	// Flush) before it calls Close. A clean close by the peer is io.EOF
	// (TCP, WebSocket; KCP has no close, only silence). After Close, Recv
	// returns ErrLinkClosed. An idle peer past ReadTimeout is a timeout
	// (IsTimeout): TCP and KCP links stay usable after it, a WebSocket
	// link is closed by it.
	Recv() (MsgType, []byte, error)
	// Close closes the transport without flushing (Flush first to deliver
	// a final Disconnect); it is idempotent and does not block on the peer.
	// A WebSocket link runs its close handshake in the background, bounded
	// by the library's 5 s wait for the peer's answer.
	Close() error
	// RemoteAddr is the peer's address (a placeholder for dialed WebSocket
	// links).
	RemoteAddr() net.Addr
	// Transport names the transport: "tcp", "kcp" or "ws".
	Transport() string
}

// Listener yields the links of one listening endpoint.
type Listener interface {
	// Accept returns the next link, or an error when ctx ends or the
	// listener is closed (ErrLinkClosed).
	Accept(ctx context.Context) (Link, error)
	// Addr is the listening address.
	Addr() net.Addr
	// Close stops accepting and closes links accepted but not yet taken by
	// Accept. Links already returned stay open.
	Close() error
}

// Options configure a link, for every transport. Zero values pick defaults.
type Options struct {
	// MaxFrame bounds the length field of frames received and sent. Zero:
	// DefaultInternalMaxFrame for TCP, DefaultClientMaxFrame for KCP and
	// WebSocket (client transports).
	MaxFrame int
	// MaxQueued bounds the unflushed send buffer in bytes. Zero: 4 MiB or
	// 4×MaxFrame, whichever is larger.
	MaxQueued int
	// ReadTimeout closes the wait of a Recv that receives nothing for this
	// long (the idle timeout; heartbeats are the caller's). Zero: none.
	ReadTimeout time.Duration
	// WriteTimeout bounds one Flush. Zero: DefaultWriteTimeout.
	WriteTimeout time.Duration
	// Compression of sent payloads; receiving always accepts both
	// algorithms. Zero: none.
	Compression Compression
	// KCP settings, used by ListenKCP and DialKCP only.
	KCP KCPOptions
	// WebSocket settings, used by the WebSocket handler and dialer only.
	WebSocket WebSocketOptions
}

// DefaultWriteTimeout bounds a Flush when Options.WriteTimeout is zero: a
// peer that does not read for this long is dead to us.
const DefaultWriteTimeout = 10 * time.Second

// withDefaults fills zero options; defMax is the transport's default
// MaxFrame.
func (o Options) withDefaults(defMax int) Options {
	if o.MaxFrame <= 0 {
		o.MaxFrame = defMax
	}
	if o.MaxFrame < minMaxFrame {
		o.MaxFrame = minMaxFrame
	}
	if o.MaxQueued <= 0 {
		o.MaxQueued = 4 << 20
		if 4*o.MaxFrame > o.MaxQueued {
			o.MaxQueued = 4 * o.MaxFrame
		}
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	return o
}

// maxSpareBuffer: a send buffer that grew past this after a burst is not kept.
const maxSpareBuffer = 1 << 20

// streamLink frames a reliable, ordered byte stream (a TCP connection, a KCP
// session in stream mode, or a WebSocket seen as a stream). It owns no
// goroutine.
type streamLink struct {
	conn      net.Conn
	transport string
	opts      Options

	// Send side: mu guards pending, comp and err; flushMu serialises
	// writers and guards spare, so Sends continue while a Flush writes.
	mu      sync.Mutex
	pending []byte
	comp    *compressor
	err     error // sticky: link failed or closed
	flushMu sync.Mutex
	spare   []byte

	// Receive side: one goroutine.
	fr     *FrameReader
	decomp *Decompressor
	rerr   error

	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error
}

// closeReasoner is implemented by transports that tell the peer why they
// close (WebSocket close codes).
type closeReasoner interface{ closeReason(error) }

// newStreamLink wraps conn. opts must already have defaults.
func newStreamLink(conn net.Conn, transport string, opts Options) (*streamLink, error) {
	comp, err := newCompressor(opts.Compression)
	if err != nil {
		return nil, err
	}
	l := &streamLink{
		conn:      conn,
		transport: transport,
		opts:      opts,
		comp:      comp,
		decomp:    NewDecompressor(opts.MaxFrame - typeSize),
		closed:    make(chan struct{}),
	}
	l.fr = NewFrameReader(deadlineReader{l}, opts.MaxFrame)
	return l, nil
}

// deadlineReader sets the idle deadline before each read of the transport,
// which the FrameReader makes only when its buffer holds no whole frame.
type deadlineReader struct{ l *streamLink }

func (d deadlineReader) Read(p []byte) (int, error) {
	if t := d.l.opts.ReadTimeout; t > 0 {
		if err := d.l.conn.SetReadDeadline(time.Now().Add(t)); err != nil {
			return 0, err
		}
	}
	return d.l.conn.Read(p)
}

func (l *streamLink) checkType(typ MsgType) error {
	if typ == 0 || typ > MaxMsgType {
		return fmt.Errorf("%w: cannot send type 0x%04x", ErrUnknownType, uint16(typ))
	}
	return nil
}

func (l *streamLink) Send(typ MsgType, payload []byte) error {
	if err := l.checkType(typ); err != nil {
		return err
	}
	if len(payload) > l.opts.MaxFrame-typeSize {
		return fmt.Errorf("%w: %v payload of %d bytes, link maximum %d", ErrFrameTooLarge, typ, len(payload), l.opts.MaxFrame-typeSize)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if len(l.pending)+FrameHeaderSize+len(payload) > l.opts.MaxQueued {
		return fmt.Errorf("%w: %d bytes unflushed, limit %d", ErrQueueFull, len(l.pending), l.opts.MaxQueued)
	}
	l.pending = l.comp.appendFrame(l.pending, typ, payload)
	return nil
}

func (l *streamLink) SendFrames(frames []byte) error {
	// Check all frames first so a bad batch queues nothing.
	if _, err := ValidateFrames(frames, l.opts.MaxFrame); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if len(l.pending)+len(frames) > l.opts.MaxQueued {
		return fmt.Errorf("%w: %d bytes unflushed, limit %d", ErrQueueFull, len(l.pending), l.opts.MaxQueued)
	}
	if l.comp == nil {
		l.pending = append(l.pending, frames...)
		return nil
	}
	for len(frames) > 0 {
		typ, payload, rest, _ := SplitFrame(frames, l.opts.MaxFrame)
		if typ&flagMask != 0 {
			l.pending = AppendFrame(l.pending, typ, payload) // already compressed
		} else {
			l.pending = l.comp.appendFrame(l.pending, typ, payload)
		}
		frames = rest
	}
	return nil
}

func (l *streamLink) Flush() error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	if l.err != nil {
		err := l.err
		l.mu.Unlock()
		return err
	}
	if len(l.pending) == 0 {
		l.mu.Unlock()
		return nil
	}
	buf := l.pending
	l.pending = l.spare[:0]
	l.mu.Unlock()

	err := l.conn.SetWriteDeadline(time.Now().Add(l.opts.WriteTimeout))
	if err == nil {
		_, err = l.conn.Write(buf)
	}
	if cap(buf) <= maxSpareBuffer {
		l.spare = buf[:0]
	} else {
		l.spare = nil
	}
	if err != nil {
		err = l.fail(fmt.Errorf("netproto: %s write to %v: %w", l.transport, l.conn.RemoteAddr(), err))
		return err
	}
	return nil
}

func (l *streamLink) Recv() (MsgType, []byte, error) {
	if l.rerr != nil {
		return 0, nil, l.rerr
	}
	select {
	case <-l.closed:
		// Closed by this side (or failed): frames still buffered are not
		// delivered.
		l.mu.Lock()
		l.rerr = l.err
		l.mu.Unlock()
		if !errors.Is(l.rerr, ErrLinkClosed) {
			l.rerr = fmt.Errorf("%w: %w", ErrLinkClosed, l.rerr)
		}
		l.decomp.Close()
		return 0, nil, l.rerr
	default:
	}
	typ, payload, err := l.fr.Next()
	if err == nil {
		typ, payload, err = l.decomp.Decompress(typ, payload)
	}
	if err == nil {
		return typ, payload, nil
	}
	select {
	case <-l.closed:
		err = fmt.Errorf("%w: %w", ErrLinkClosed, err)
	default:
	}
	if errors.Is(err, ErrFrameTooLarge) || errors.Is(err, ErrTruncated) || errors.Is(err, ErrMalformed) {
		// The stream is lost (nothing after a bad frame can be trusted), so
		// the error sticks for Recv; but the link stays writable, so that
		// its owner can tell the peer why before it closes the link.
		err = fmt.Errorf("netproto: %s link from %v: %w", l.transport, l.conn.RemoteAddr(), err)
	} else if !errors.Is(err, io.EOF) && !IsTimeout(err) {
		l.fail(err)
	}
	// A timeout is not sticky: a caller may choose to keep waiting (for
	// instance after sending a heartbeat of its own).
	if !IsTimeout(err) {
		l.rerr = err
		l.decomp.Close()
	}
	return 0, nil, err
}

// IsTimeout reports whether err is a read or write deadline of any
// transport (an idle peer past ReadTimeout, a stuck Flush).
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// fail records err as the link's error (the first one wins) and closes the
// transport. It returns the recorded error.
func (l *streamLink) fail(err error) error {
	l.mu.Lock()
	if l.err == nil {
		l.err = err
	}
	err = l.err
	l.mu.Unlock()
	if r, ok := l.conn.(closeReasoner); ok {
		r.closeReason(err)
	}
	l.closeConn()
	return err
}

func (l *streamLink) closeConn() {
	l.closeOnce.Do(func() {
		close(l.closed)
		l.closeErr = l.conn.Close()
		l.mu.Lock()
		l.comp.close()
		l.comp = nil
		l.pending = nil
		l.mu.Unlock()
	})
}

func (l *streamLink) Close() error {
	l.mu.Lock()
	if l.err == nil {
		l.err = ErrLinkClosed
	}
	l.mu.Unlock()
	l.closeConn()
	return nil
}

func (l *streamLink) RemoteAddr() net.Addr { return l.conn.RemoteAddr() }
func (l *streamLink) Transport() string    { return l.transport }

// acceptQueue hands links from a transport's accept loop (or HTTP handler)
// to Accept callers.
type acceptQueue struct {
	ch        chan Link
	done      chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex
	err       error // why the queue stopped
}

func newAcceptQueue() *acceptQueue {
	return &acceptQueue{ch: make(chan Link, 64), done: make(chan struct{})}
}

// put offers l to Accept; it closes l and returns false once the queue is
// closed.
func (q *acceptQueue) put(ctx context.Context, l Link) bool {
	select {
	case <-q.done:
		l.Close()
		return false
	default:
	}
	select {
	case q.ch <- l:
		select {
		case <-q.done:
			// stop ran while we were sending: it may have drained the
			// channel already, so drain again.
			q.drain()
			return false
		default:
			return true
		}
	case <-q.done:
	case <-ctx.Done():
	}
	l.Close()
	return false
}

func (q *acceptQueue) accept(ctx context.Context) (Link, error) {
	select {
	case l := <-q.ch:
		return l, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-q.done:
		q.mu.Lock()
		err := q.err
		q.mu.Unlock()
		return nil, err
	}
}

// stop closes the queue with err (the first wins) and closes links not yet
// accepted.
func (q *acceptQueue) stop(err error) {
	q.closeOnce.Do(func() {
		q.mu.Lock()
		q.err = err
		q.mu.Unlock()
		close(q.done)
	})
	q.drain()
}

// drain closes links left in the channel.
func (q *acceptQueue) drain() {
	for {
		select {
		case l := <-q.ch:
			l.Close()
		default:
			return
		}
	}
}
