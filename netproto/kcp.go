package netproto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	kcp "github.com/xtaci/kcp-go/v5"
)

// KCPOptions tune KCP links. Both ends must agree on Key and on the FEC
// shards (they change the datagram format); the rest is per side.
type KCPOptions struct {
	// MTU of datagrams, kept under the path MTU. Zero: 1350.
	MTU int
	// SndWnd and RcvWnd are the window sizes in packets, sized for a
	// tick's burst. Zero: 256 each.
	SndWnd, RcvWnd int
	// DataShards and ParityShards enable forward error correction when both
	// are positive (e.g. 10 and 3). Off by default.
	DataShards, ParityShards int
	// Key enables AES encryption of datagrams: 16, 24 or 32 bytes. Off when
	// empty. It is a shared secret per deployment, not authentication.
	Key []byte
	// SocketBuffer is the listener's UDP socket buffer in bytes. Zero: 4 MiB.
	SocketBuffer int
	// Tuning sets KCP's no-delay parameters; nil: the low-latency game
	// settings (DefaultKCPTuning()).
	Tuning *KCPTuning
}

// KCPTuning is KCP's latency trade-off (kcp-go's SetNoDelay).
type KCPTuning struct {
	// NoDelay: retransmission timers without KCP's conservative minimum.
	NoDelay bool
	// Interval is KCP's internal clock (10 ms to 5 s; kcp-go bounds it).
	Interval time.Duration
	// Resend triggers a fast retransmit after that many duplicate ACKs; 0
	// turns fast retransmit off.
	Resend int
	// NoCongestion turns the congestion window off: a game sends small,
	// steady traffic and prefers latency to fairness.
	NoCongestion bool
}

// DefaultKCPTuning returns the low-latency game settings: no-delay mode
// with a 10 ms clock, fast resend after 2 duplicate ACKs and no congestion
// window.
func DefaultKCPTuning() KCPTuning {
	return KCPTuning{NoDelay: true, Interval: 10 * time.Millisecond, Resend: 2, NoCongestion: true}
}

func (k KCPOptions) withDefaults() KCPOptions {
	if k.MTU <= 0 {
		k.MTU = 1350
	}
	if k.SndWnd <= 0 {
		k.SndWnd = 256
	}
	if k.RcvWnd <= 0 {
		k.RcvWnd = 256
	}
	if k.SocketBuffer <= 0 {
		k.SocketBuffer = 4 << 20
	}
	if k.DataShards <= 0 || k.ParityShards <= 0 {
		k.DataShards, k.ParityShards = 0, 0
	}
	return k
}

func (k KCPOptions) block() (kcp.BlockCrypt, error) {
	if len(k.Key) == 0 {
		return nil, nil
	}
	switch len(k.Key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("netproto: KCP key must be 16, 24 or 32 bytes, got %d", len(k.Key))
	}
	b, err := kcp.NewAESBlockCrypt(k.Key)
	if err != nil {
		return nil, fmt.Errorf("netproto: KCP AES key: %w", err)
	}
	return b, nil
}

// tuneKCP applies k's tuning (the low-latency game settings by default),
// immediate ACKs and stream mode (we frame on a byte stream).
func tuneKCP(s *kcp.UDPSession, k KCPOptions) {
	t := DefaultKCPTuning()
	if k.Tuning != nil {
		t = *k.Tuning
	}
	s.SetStreamMode(true)
	s.SetWriteDelay(false)
	s.SetNoDelay(b2i(t.NoDelay), int(max(t.Interval, time.Millisecond)/time.Millisecond), max(t.Resend, 0), b2i(t.NoCongestion))
	s.SetACKNoDelay(true)
	s.SetWindowSize(k.SndWnd, k.RcvWnd)
	s.SetMtu(k.MTU)
}

// newKCPLink wraps a session. KCP has no close handshake: a peer learns
// that the other side went away through its heartbeat and ReadTimeout, so
// client links should always set ReadTimeout.
func newKCPLink(s *kcp.UDPSession, opts Options) (*streamLink, error) {
	tuneKCP(s, opts.KCP)
	return newStreamLink(kcpConn{s}, "kcp", opts)
}

// kcpConn makes a read from a closed session match net.ErrClosed, as a
// closed TCP or WebSocket link does, so callers test one condition.
type kcpConn struct{ *kcp.UDPSession }

func (c kcpConn) Read(p []byte) (int, error) {
	n, err := c.UDPSession.Read(p)
	if err != nil && errors.Is(err, io.ErrClosedPipe) {
		err = fmt.Errorf("%w: %w", net.ErrClosed, err)
	}
	return n, err
}

// DialKCP opens a KCP session to addr. UDP has no connection set-up: the
// server sees the session only after the first datagram, so the caller must
// send its hello (ClientHello) and Flush at once. Zero MaxFrame means
// DefaultClientMaxFrame.
func DialKCP(ctx context.Context, addr string, opts Options) (Link, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults(DefaultClientMaxFrame)
	opts.KCP = opts.KCP.withDefaults()
	block, err := opts.KCP.block()
	if err != nil {
		return nil, err
	}
	s, err := kcp.DialWithOptions(addr, block, opts.KCP.DataShards, opts.KCP.ParityShards)
	if err != nil {
		return nil, fmt.Errorf("netproto: dial kcp %s: %w", addr, err)
	}
	l, err := newKCPLink(s, opts)
	if err != nil {
		s.Close()
		return nil, err
	}
	return l, nil
}

// kcpListener accepts KCP sessions in its own goroutine.
type kcpListener struct {
	ln   *kcp.Listener
	q    *acceptQueue
	done chan struct{}
	stop func() bool
}

// ListenKCP listens on the UDP address addr for KCP links. The listener
// closes when ctx ends or Close is called. Any datagram from a new address
// yields a link, so a gate must require a ClientHello within a deadline
// (ReadTimeout). Zero MaxFrame means DefaultClientMaxFrame.
func ListenKCP(ctx context.Context, addr string, opts Options) (Listener, error) {
	opts = opts.withDefaults(DefaultClientMaxFrame)
	opts.KCP = opts.KCP.withDefaults()
	if _, err := newCompressor(opts.Compression); err != nil {
		return nil, err
	}
	block, err := opts.KCP.block()
	if err != nil {
		return nil, err
	}
	ln, err := kcp.ListenWithOptions(addr, block, opts.KCP.DataShards, opts.KCP.ParityShards)
	if err != nil {
		return nil, fmt.Errorf("netproto: listen kcp %s: %w", addr, err)
	}
	// Larger socket buffers absorb a tick's burst from many clients; the
	// kernel may cap them, which is not an error for us.
	_ = ln.SetReadBuffer(opts.KCP.SocketBuffer)
	_ = ln.SetWriteBuffer(opts.KCP.SocketBuffer)
	kl := &kcpListener{ln: ln, q: newAcceptQueue(), done: make(chan struct{})}
	kl.stop = context.AfterFunc(ctx, func() { kl.Close() })
	go kl.loop(ctx, opts)
	return kl, nil
}

func (kl *kcpListener) loop(ctx context.Context, opts Options) {
	defer close(kl.done)
	for {
		s, err := kl.ln.AcceptKCP()
		if err != nil {
			// AcceptKCP fails only when the listener or its socket is
			// closed.
			kl.q.stop(ErrLinkClosed)
			kl.closePending()
			return
		}
		l, err := newKCPLink(s, opts)
		if err != nil {
			s.Close()
			continue
		}
		kl.q.put(ctx, l)
	}
}

// closePending closes the sessions kcp-go's listener made from datagrams
// that came just before it closed and that nobody accepted: kcp-go leaves
// them (and their goroutines) alive. Its reader may still be working
// through a batch read before the close, so this keeps at it for
// pendingLinger. After the close AcceptKCP picks at random between such a
// session and the closed signal, so each round asks until the closed
// signal has come many times in a row.
func (kl *kcpListener) closePending() {
	for end := time.Now().Add(pendingLinger); ; time.Sleep(5 * time.Millisecond) {
		for misses := 0; misses < 32; {
			s, err := kl.ln.AcceptKCP()
			if err != nil {
				misses++
				continue
			}
			misses = 0
			s.Close()
		}
		if time.Now().After(end) {
			return
		}
	}
}

// pendingLinger is how long a closing KCP listener keeps closing sessions
// its library makes from datagrams it read before the close.
const pendingLinger = 100 * time.Millisecond

func (kl *kcpListener) Accept(ctx context.Context) (Link, error) { return kl.q.accept(ctx) }
func (kl *kcpListener) Addr() net.Addr                           { return kl.ln.Addr() }

func (kl *kcpListener) Close() error {
	kl.stop()
	kl.q.stop(ErrLinkClosed)
	err := kl.ln.Close()
	<-kl.done
	if errors.Is(err, io.ErrClosedPipe) {
		err = nil
	}
	return err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
