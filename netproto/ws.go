package netproto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// WebSocket links carry the same frames as TCP, as binary WebSocket
// messages. Each Flush sends one message holding one or more whole frames (a
// frame never spans messages when we send). On receipt the messages are read
// as one byte stream, so a browser client may send one frame per message or
// several, and even split a frame across messages. The WebSocket
// per-message size limit is off: the frame maximum bounds what is buffered.
// permessage-deflate is off; use Options.Compression instead.

// WebSocketOptions tune WebSocket links.
type WebSocketOptions struct {
	// OriginPatterns are the host patterns (path.Match syntax) of pages
	// allowed to connect from another origin. Empty: same origin only.
	OriginPatterns []string
	// InsecureSkipVerify accepts every origin (non-browser clients, tests).
	InsecureSkipVerify bool
	// HTTPHeader is sent with the dial request.
	HTTPHeader http.Header
	// HTTPClient dials; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// wsConn is a WebSocket seen as a stream, which closes with a protocol error
// code when the link failed on bad input.
type wsConn struct {
	net.Conn // websocket.NetConn
	c        *websocket.Conn
	cancel   context.CancelFunc

	mu           sync.Mutex
	reason       error
	readDeadline time.Time
}

// SetReadDeadline records the deadline so Read can report its expiry as a
// timeout: NetConn reports it as a cancelled context.
func (w *wsConn) SetReadDeadline(t time.Time) error {
	w.mu.Lock()
	w.readDeadline = t
	w.mu.Unlock()
	return w.Conn.SetReadDeadline(t)
}

func (w *wsConn) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	if err != nil {
		w.mu.Lock()
		d := w.readDeadline
		w.mu.Unlock()
		if !d.IsZero() && !time.Now().Before(d) && !errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: %w", os.ErrDeadlineExceeded, err)
		}
	}
	return n, err
}

func (w *wsConn) closeReason(err error) {
	w.mu.Lock()
	if w.reason == nil {
		w.reason = err
	}
	w.mu.Unlock()
}

// Close starts the WebSocket close handshake in the background and returns
// at once: the handshake needs the peer to answer, and coder/websocket waits
// up to 5 s for that, which must not stall a gate. A Recv in progress
// returns when the peer answers or the wait ends. After bad input the close
// code tells the peer why (1009 message too big, 1008 policy violation).
func (w *wsConn) Close() error {
	w.mu.Lock()
	reason := w.reason
	w.mu.Unlock()
	code, text := websocket.StatusNormalClosure, ""
	switch {
	case reason == nil:
	case errors.Is(reason, ErrFrameTooLarge):
		code, text = websocket.StatusMessageTooBig, "netproto: frame too large"
	case errors.Is(reason, ErrMalformed), errors.Is(reason, ErrTruncated):
		code, text = websocket.StatusPolicyViolation, "netproto: bad frame"
	default:
		code = websocket.StatusGoingAway
	}
	go func() {
		_ = w.c.Close(code, text)
		w.cancel() // ends NetConn's contexts
	}()
	return nil
}

func newWSLink(c *websocket.Conn, opts Options) (*streamLink, error) {
	// The link's own context, not a request's or a dial's: it lives until
	// the link closes.
	ctx, cancel := context.WithCancel(context.Background())
	wc := &wsConn{Conn: websocket.NetConn(ctx, c, websocket.MessageBinary), c: c, cancel: cancel}
	l, err := newStreamLink(wc, "ws", opts)
	if err != nil {
		cancel()
		c.CloseNow()
		return nil, err
	}
	return l, nil
}

// DialWebSocket connects to a ws:// or wss:// URL (a gate's WebSocket
// endpoint). ctx bounds the handshake only. Zero MaxFrame means
// DefaultClientMaxFrame.
func DialWebSocket(ctx context.Context, url string, opts Options) (Link, error) {
	opts = opts.withDefaults(DefaultClientMaxFrame)
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPClient:      opts.WebSocket.HTTPClient,
		HTTPHeader:      opts.WebSocket.HTTPHeader,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, fmt.Errorf("netproto: dial websocket %s: %w", url, err)
	}
	l, err := newWSLink(c, opts)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// WebSocketHandler is an http.Handler that upgrades requests to WebSocket
// links, and the Listener that yields them. A gate mounts it on its HTTP
// server beside other endpoints (metrics, health).
type WebSocketHandler struct {
	ctx  context.Context
	opts Options
	q    *acceptQueue
	stop func() bool
}

// NewWebSocketHandler returns a handler whose links are yielded by Accept.
// It stops accepting (answering 503) when ctx ends or Close is called. Zero
// MaxFrame means DefaultClientMaxFrame.
func NewWebSocketHandler(ctx context.Context, opts Options) (*WebSocketHandler, error) {
	opts = opts.withDefaults(DefaultClientMaxFrame)
	if _, err := newCompressor(opts.Compression); err != nil {
		return nil, err
	}
	h := &WebSocketHandler{ctx: ctx, opts: opts, q: newAcceptQueue()}
	h.stop = context.AfterFunc(ctx, func() { h.q.stop(ctx.Err()) })
	return h, nil
}

// ServeHTTP upgrades the request and queues the link for Accept.
func (h *WebSocketHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-h.q.done:
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	default:
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OriginPatterns:     h.opts.WebSocket.OriginPatterns,
		InsecureSkipVerify: h.opts.WebSocket.InsecureSkipVerify,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return // Accept has answered the request.
	}
	l, err := newWSLink(c, h.opts)
	if err != nil {
		return
	}
	// The hijacked connection does not depend on the request: returning
	// from the handler leaves the link open.
	h.q.put(h.ctx, l)
}

// Accept returns the next upgraded link.
func (h *WebSocketHandler) Accept(ctx context.Context) (Link, error) { return h.q.accept(ctx) }

// Addr is a placeholder: the handler listens wherever its HTTP server does.
func (h *WebSocketHandler) Addr() net.Addr { return wsAddr{} }

// Close stops accepting; links already accepted stay open.
func (h *WebSocketHandler) Close() error {
	h.stop()
	h.q.stop(ErrLinkClosed)
	return nil
}

type wsAddr struct{}

func (wsAddr) Network() string { return "websocket" }
func (wsAddr) String() string  { return "websocket" }
