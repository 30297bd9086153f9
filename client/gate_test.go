package client

import (
	"context"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/netproto"
)

// testTimeout bounds every wait of these tests: a broken client fails the
// test instead of hanging it.
const testTimeout = 10 * time.Second

// fakeGate is the listening side of a gate, over one transport, written for
// these tests: it speaks netproto exactly as the contract says a gate does.
type fakeGate struct {
	t         *testing.T
	transport string
	addr      string // what the client dials
	ln        netproto.Listener
	srv       *httptest.Server // ws only
	codec     *netproto.Codec
	closeOnce sync.Once
}

func startGate(t *testing.T, transport string) *fakeGate {
	t.Helper()
	return startGateWith(t, transport, netproto.Options{})
}

// startGateWith starts a fake gate whose links use opts (MaxFrame set to
// the client default).
func startGateWith(t *testing.T, transport string, opts netproto.Options) *fakeGate {
	t.Helper()
	codec, err := netproto.NewCodec(netproto.ClientLimits())
	if err != nil {
		t.Fatal(err)
	}
	opts.MaxFrame = netproto.DefaultClientMaxFrame
	g := &fakeGate{t: t, transport: transport, codec: codec}
	ctx := context.Background()
	switch transport {
	case "tcp":
		g.ln, err = netproto.ListenTCP(ctx, "127.0.0.1:0", opts)
	case "kcp":
		g.ln, err = netproto.ListenKCP(ctx, "127.0.0.1:0", opts)
	case "ws":
		opts.WebSocket.InsecureSkipVerify = true
		var h *netproto.WebSocketHandler
		h, err = netproto.NewWebSocketHandler(ctx, opts)
		if err == nil {
			g.ln = h
			g.srv = httptest.NewServer(h)
			// A bare host:port: the client adds ws://.
			g.addr = strings.TrimPrefix(g.srv.URL, "http://")
		}
	default:
		t.Fatalf("transport %q", transport)
	}
	if err != nil {
		t.Fatal(err)
	}
	if g.addr == "" {
		g.addr = g.ln.Addr().String()
	}
	t.Cleanup(g.close)
	return g
}

// close closes the listener (and HTTP server); it may be called early, the
// cleanup calls it again.
func (g *fakeGate) close() {
	g.closeOnce.Do(func() {
		if err := g.ln.Close(); err != nil {
			g.t.Errorf("close %s listener: %v", g.transport, err)
		}
		if g.srv != nil {
			g.srv.Close()
		}
	})
}

// gateConn is one accepted client on the fake gate. A goroutine decodes
// what the client sends into msgs, until the link closes.
type gateConn struct {
	t     *testing.T
	link  netproto.Link
	codec *netproto.Codec
	msgs  chan netproto.Message
	done  chan struct{}
}

// connect dials a client and completes the handshake on the gate side with
// welcome. It returns both ends.
func (g *fakeGate) connect(ctx context.Context, welcome *netproto.ClientWelcome, opts Options) (*Client, *gateConn) {
	g.t.Helper()
	type dialed struct {
		c   *Client
		err error
	}
	got := make(chan dialed, 1)
	go func() {
		c, err := Dial(ctx, g.transport, g.addr, opts)
		got <- dialed{c, err}
	}()
	link, err := g.ln.Accept(ctx)
	if err != nil {
		g.t.Fatalf("accept: %v", err)
	}
	gc := &gateConn{t: g.t, link: link, codec: g.codec, msgs: make(chan netproto.Message, 256), done: make(chan struct{})}
	typ, payload, err := link.Recv()
	if err != nil || typ != netproto.MsgClientHello {
		g.t.Fatalf("first frame: %v %v", typ, err)
	}
	m, err := g.codec.Decode(typ, payload)
	if err != nil {
		g.t.Fatal(err)
	}
	hello := m.(*netproto.ClientHello)
	if hello.Version != netproto.ProtocolVersion || hello.Token != opts.Token || hello.Role != opts.Role {
		g.t.Fatalf("hello %+v", hello)
	}
	gc.send(welcome)
	d := <-got
	if d.err != nil {
		link.Close()
		g.t.Fatalf("dial: %v", d.err)
	}
	go gc.read()
	g.t.Cleanup(func() {
		d.c.Close()
		gc.link.Close()
		<-gc.done
	})
	return d.c, gc
}

func (gc *gateConn) read() {
	defer close(gc.done)
	defer close(gc.msgs)
	for {
		typ, payload, err := gc.link.Recv()
		if err != nil {
			return
		}
		m, err := gc.codec.Decode(typ, payload)
		if err != nil {
			gc.t.Errorf("gate: bad frame %v from client: %v", typ, err)
			return
		}
		select {
		case gc.msgs <- m:
		default:
			gc.t.Errorf("gate: message queue full, dropping %v", typ)
		}
	}
}

// send queues every message and flushes once, as a gate does per batch.
func (gc *gateConn) send(ms ...netproto.Message) {
	gc.t.Helper()
	for _, m := range ms {
		if err := gc.codec.Send(gc.link, m); err != nil {
			gc.t.Fatalf("gate send %v: %v", m.MsgType(), err)
		}
	}
	if err := gc.link.Flush(); err != nil {
		gc.t.Fatalf("gate flush: %v", err)
	}
}

// expect returns the next message from the client of type typ, skipping
// heartbeats.
func (gc *gateConn) expect(ctx context.Context, typ netproto.MsgType) netproto.Message {
	gc.t.Helper()
	for {
		select {
		case m, ok := <-gc.msgs:
			if !ok {
				gc.t.Fatalf("gate: link closed while waiting for %v", typ)
			}
			if m.MsgType() == typ {
				return m
			}
			if m.MsgType() != netproto.MsgHeartbeat {
				gc.t.Fatalf("gate: got %v, want %v", m.MsgType(), typ)
			}
		case <-ctx.Done():
			gc.t.Fatalf("gate: no %v: %v", typ, ctx.Err())
		}
	}
}

// waitGoroutines waits until the goroutine count is back to at most n.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
