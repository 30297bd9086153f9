package netproto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// tcpKeepAlive lets the kernel notice a vanished peer on a quiet internal
// link even before the heartbeat timeout.
const tcpKeepAlive = 15 * time.Second

// DialTCP connects to addr and returns a TCP link (TCP_NODELAY set). ctx
// bounds the dial only. Zero MaxFrame means DefaultInternalMaxFrame; a
// client dialing a gate should pass DefaultClientMaxFrame.
func DialTCP(ctx context.Context, addr string, opts Options) (Link, error) {
	opts = opts.withDefaults(DefaultInternalMaxFrame)
	d := net.Dialer{KeepAlive: tcpKeepAlive}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("netproto: dial tcp %s: %w", addr, err)
	}
	l, err := newTCPLink(c, opts)
	if err != nil {
		c.Close()
		return nil, err
	}
	return l, nil
}

func newTCPLink(c net.Conn, opts Options) (*streamLink, error) {
	if tc, ok := c.(*net.TCPConn); ok {
		// Go sets TCP_NODELAY by default; set it anyway, since coalescing
		// is done by Flush and Nagle would only add latency.
		_ = tc.SetNoDelay(true)
	}
	return newStreamLink(c, "tcp", opts)
}

// tcpListener accepts TCP links in its own goroutine, which ends when the
// listener closes.
type tcpListener struct {
	ln   net.Listener
	q    *acceptQueue
	done chan struct{}
	stop func() bool
}

// ListenTCP listens on addr (e.g. "127.0.0.1:0") for TCP links. The listener
// closes when ctx ends or Close is called. Zero MaxFrame means
// DefaultInternalMaxFrame: a gate's client listener should pass
// DefaultClientMaxFrame.
func ListenTCP(ctx context.Context, addr string, opts Options) (Listener, error) {
	opts = opts.withDefaults(DefaultInternalMaxFrame)
	if _, err := newCompressor(opts.Compression); err != nil {
		return nil, err
	}
	lc := net.ListenConfig{KeepAlive: tcpKeepAlive}
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("netproto: listen tcp %s: %w", addr, err)
	}
	tl := &tcpListener{ln: ln, q: newAcceptQueue(), done: make(chan struct{})}
	tl.stop = context.AfterFunc(ctx, func() { tl.Close() })
	go tl.loop(ctx, opts)
	return tl, nil
}

func (tl *tcpListener) loop(ctx context.Context, opts Options) {
	defer close(tl.done)
	backoff := 5 * time.Millisecond
	for {
		c, err := tl.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				tl.q.stop(ErrLinkClosed)
				return
			}
			// Temporary failure such as too many open files: wait and
			// retry rather than give up the listener.
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				tl.q.stop(ctx.Err())
				return
			}
			if backoff < time.Second {
				backoff *= 2
			}
			continue
		}
		backoff = 5 * time.Millisecond
		l, err := newTCPLink(c, opts)
		if err != nil {
			c.Close()
			continue
		}
		tl.q.put(ctx, l)
	}
}

func (tl *tcpListener) Accept(ctx context.Context) (Link, error) { return tl.q.accept(ctx) }
func (tl *tcpListener) Addr() net.Addr                           { return tl.ln.Addr() }

func (tl *tcpListener) Close() error {
	tl.stop()
	tl.q.stop(ErrLinkClosed)
	err := tl.ln.Close()
	<-tl.done
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
