package gate

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/netproto"
)

// testTimeout bounds every wait of these tests, so a bug fails a test
// instead of hanging it.
const testTimeout = 10 * time.Second

// fakeDispatcher is the dispatcher side of the gate's link, written for the
// tests: it answers Hello, sends a schema, records what the gate sends and
// lets a test send what a game would.
type fakeDispatcher struct {
	t      *testing.T
	ln     netproto.Listener
	codec  *netproto.Codec
	schema []netproto.EntityTypeSchema
	reject string // non-empty: answer HelloReject

	hellos chan *netproto.Hello
	msgs   chan netproto.Message

	mu   sync.Mutex
	link netproto.Link
	wg   sync.WaitGroup
}

func newFakeDispatcher(t *testing.T, ctx context.Context, schema []netproto.EntityTypeSchema) *fakeDispatcher {
	t.Helper()
	ln, err := netproto.ListenTCP(ctx, "127.0.0.1:0", netproto.Options{})
	if err != nil {
		t.Fatal(err)
	}
	codec, err := netproto.NewCodec(netproto.InternalLimits())
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDispatcher{
		t: t, ln: ln, codec: codec, schema: schema,
		hellos: make(chan *netproto.Hello, 16),
		msgs:   make(chan netproto.Message, 4096),
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for {
			l, err := ln.Accept(ctx)
			if err != nil {
				return
			}
			d.wg.Add(1)
			go func() {
				defer d.wg.Done()
				d.serve(l)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		d.dropLink()
		d.wg.Wait()
	})
	return d
}

func (d *fakeDispatcher) addr() string { return d.ln.Addr().String() }

func (d *fakeDispatcher) serve(l netproto.Link) {
	defer l.Close()
	typ, payload, err := l.Recv()
	if err != nil {
		return
	}
	m, err := d.codec.Decode(typ, payload)
	if err != nil {
		return
	}
	h, ok := m.(*netproto.Hello)
	if !ok {
		return
	}
	d.hellos <- h
	if d.reject != "" {
		d.codec.Send(l, &netproto.HelloReject{Reason: d.reject})
		l.Flush()
		return
	}
	// The link is the current one before the gate can see the ack, so a
	// test that waits for the gate's link may send at once.
	d.mu.Lock()
	d.link = l
	d.codec.Send(l, &netproto.HelloAck{ID: 1, Version: netproto.ProtocolVersion})
	if d.schema != nil {
		d.codec.Send(l, &netproto.TypeSchema{Game: 1, Types: d.schema})
	}
	err = l.Flush()
	d.mu.Unlock()
	if err != nil {
		return
	}
	// Heartbeat as a dispatcher does, so the gate's idle timeout holds.
	hbDone := make(chan struct{})
	defer close(hbDone)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-hbDone:
				return
			case <-t.C:
				d.mu.Lock()
				if l.Send(netproto.MsgHeartbeat, nil) == nil {
					l.Flush()
				}
				d.mu.Unlock()
			}
		}
	}()
	for {
		typ, payload, err := l.Recv()
		if err != nil {
			return
		}
		if typ == netproto.MsgHeartbeat {
			continue
		}
		m, err := d.codec.Decode(typ, payload)
		if err != nil {
			d.t.Errorf("fake dispatcher: gate sent undecodable %v: %v", typ, err)
			return
		}
		select {
		case d.msgs <- m:
		default:
			d.t.Errorf("fake dispatcher: message buffer full")
			return
		}
	}
}

// dropLink closes the current gate link (a dispatcher crash, as the gate
// sees it).
func (d *fakeDispatcher) dropLink() {
	d.mu.Lock()
	l := d.link
	d.link = nil
	d.mu.Unlock()
	if l != nil {
		l.Close()
	}
}

// send sends messages to the gate as one flush.
func (d *fakeDispatcher) send(t *testing.T, ms ...netproto.Message) {
	t.Helper()
	d.mu.Lock()
	l := d.link
	d.mu.Unlock()
	if l == nil {
		t.Fatal("fake dispatcher: no gate link")
	}
	// A test that races a reconnect waits with linkUp first.
	for _, m := range ms {
		if err := d.codec.Send(l, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
}

// expect returns the next message from the gate that matches, skipping the
// others; it fails the test after testTimeout.
func expect[M netproto.Message](t *testing.T, d *fakeDispatcher, match func(M) bool) M {
	t.Helper()
	timer := time.NewTimer(testTimeout)
	defer timer.Stop()
	for {
		select {
		case m := <-d.msgs:
			if v, ok := m.(M); ok && (match == nil || match(v)) {
				return v
			}
		case <-timer.C:
			var zero M
			t.Fatalf("fake dispatcher: no %T from the gate", zero)
			return zero
		}
	}
}

// none checks that the gate sends no matching message within d.
func none[M netproto.Message](t *testing.T, d *fakeDispatcher, wait time.Duration, match func(M) bool) {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case m := <-d.msgs:
			if v, ok := m.(M); ok && (match == nil || match(v)) {
				t.Fatalf("fake dispatcher: unexpected %T %+v", v, v)
			}
		case <-timer.C:
			return
		}
	}
}

// testConfig is a gate on 127.0.0.1 port 0 with test-friendly limits.
func testConfig() config.Gate {
	cfg := config.Ephemeral(1, 1, 1).Gates[0]
	cfg.ID = 7
	cfg.Secret = "test-secret"
	cfg.HeartbeatInterval = time.Second
	cfg.IdleTimeout = 5 * time.Second
	cfg.WSOrigins = []string{"*"}
	cfg.Link.HeartbeatInterval = time.Second
	cfg.Link.IdleTimeout = 5 * time.Second
	return cfg
}

// testSchema: Avatar has an own-client and an any-client method and a
// server-only one (not listed); Monster has an any-client method.
var testSchema = []netproto.EntityTypeSchema{
	{Name: "Avatar", Methods: []netproto.MethodSchema{
		{Name: "SetName", Perm: netproto.PermOwnClient},
		{Name: "Wave", Perm: netproto.PermAnyClient},
	}},
	{Name: "Monster", Methods: []netproto.MethodSchema{{Name: "Hit", Perm: netproto.PermAnyClient}}},
}

type testGate struct {
	*Gate
	disp *fakeDispatcher
}

// startGate starts a gate with a fake dispatcher and waits for the link.
func startGate(t *testing.T, mutate func(*config.Gate), opts ...Option) *testGate {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	disp := newFakeDispatcher(t, ctx, testSchema)
	cfg := testConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	g, err := New(cfg, []string{disp.addr()}, log, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		done := make(chan struct{})
		go func() { g.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(testTimeout):
			t.Error("gate did not stop")
		}
	})
	select {
	case <-disp.hellos:
	case <-time.After(testTimeout):
		t.Fatal("gate did not dial the dispatcher")
	}
	eventually(t, "dispatcher link up", func() bool { return g.Stats().DispatchersUp == 1 })
	// The schema is sent right after HelloAck: wait until the gate has it.
	eventually(t, "schema", func() bool { _, ok := g.schema.perm("Avatar", "Wave"); return ok })
	return &testGate{Gate: g, disp: disp}
}

// eventually polls cond until it holds or testTimeout passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testClient is a real client link to the gate.
type testClient struct {
	t     *testing.T
	link  netproto.Link
	codec *netproto.Codec
	id    uint64
	hbMs  uint32
}

var clientCodec = func() *netproto.Codec {
	c, err := netproto.NewCodec(netproto.ClientLimits())
	if err != nil {
		panic(err)
	}
	return c
}()

// dialLink opens a client link of the given transport, without hello.
func (g *testGate) dialLink(t *testing.T, transport string) netproto.Link {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	opts := netproto.Options{MaxFrame: netproto.DefaultClientMaxFrame, ReadTimeout: testTimeout}
	var (
		l   netproto.Link
		err error
	)
	a := g.Addrs()
	switch transport {
	case "kcp":
		l, err = netproto.DialKCP(ctx, a.KCP, opts)
	case "tcp":
		l, err = netproto.DialTCP(ctx, a.TCP, opts)
	case "ws":
		l, err = netproto.DialWebSocket(ctx, a.WS, opts)
	default:
		t.Fatalf("unknown transport %q", transport)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// connect dials, says hello and waits for the welcome.
func (g *testGate) connect(t *testing.T, transport string) *testClient {
	t.Helper()
	c := &testClient{t: t, link: g.dialLink(t, transport), codec: clientCodec}
	c.sendMsg(&netproto.ClientHello{Version: netproto.ProtocolVersion})
	w, ok := c.recv().(*netproto.ClientWelcome)
	if !ok {
		t.Fatalf("%s: first message from gate is not ClientWelcome", transport)
	}
	c.id, c.hbMs = w.Client, w.HeartbeatMs
	return c
}

func (c *testClient) sendMsg(ms ...netproto.Message) {
	c.t.Helper()
	for _, m := range ms {
		if err := c.codec.Send(c.link, m); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := c.link.Flush(); err != nil {
		c.t.Fatal(err)
	}
}

// recv returns the next message other than Heartbeat.
func (c *testClient) recv() netproto.Message {
	c.t.Helper()
	for {
		typ, payload, err := c.link.Recv()
		if err != nil {
			c.t.Fatalf("client %x: recv: %v", c.id, err)
		}
		if typ == netproto.MsgHeartbeat {
			continue
		}
		m, err := c.codec.Decode(typ, payload)
		if err != nil {
			c.t.Fatalf("client %x: decode %v: %v", c.id, typ, err)
		}
		return m
	}
}

// recvEnd reads until the link ends and returns the Disconnect the gate
// sent, if any.
func (c *testClient) recvEnd() *netproto.Disconnect {
	c.t.Helper()
	var last *netproto.Disconnect
	for {
		typ, payload, err := c.link.Recv()
		if err != nil {
			if netproto.IsTimeout(err) {
				c.t.Fatalf("client %x: gate did not close the link", c.id)
			}
			return last
		}
		if typ == netproto.MsgDisconnect {
			m, err := c.codec.Decode(typ, payload)
			if err != nil {
				c.t.Fatal(err)
			}
			last = m.(*netproto.Disconnect)
			if c.link.Transport() == "kcp" {
				return last // KCP has no close: the Disconnect is the end
			}
		}
	}
}

// bind tells the gate (as a game would) that client owns entity, and waits
// until the gate has applied it.
func (g *testGate) bind(t *testing.T, c *testClient, entity uint64, typ string, moved bool, speed float32) {
	t.Helper()
	g.disp.send(t, &netproto.ClientBound{Gate: g.ID(), Client: c.id, Entity: entity, Type: typ, ClientMoved: moved, MaxSpeed: speed})
	eventually(t, "binding", func() bool {
		gc := g.client(c.id)
		return gc != nil && gc.ownEntity.Load() == entity
	})
}

// frame encodes m as one whole client frame, as a game does for a batch.
func frame(t *testing.T, ms ...netproto.Message) []byte {
	t.Helper()
	var b []byte
	for _, m := range ms {
		var err error
		if b, err = clientCodec.AppendFrame(b, m); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// rawConn is a plain TCP connection to the gate's client port, for bytes
// no link would send.
func (g *testGate) rawConn(t *testing.T) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", g.Addrs().TCP, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testTimeout))
	return c.(*net.TCPConn)
}

// rawHello sends a ClientHello on a raw connection and reads the welcome.
func rawHello(t *testing.T, c net.Conn) uint64 {
	t.Helper()
	b := frame(t, &netproto.ClientHello{Version: netproto.ProtocolVersion})
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	fr := netproto.NewFrameReader(c, netproto.DefaultClientMaxFrame)
	typ, payload, err := fr.Next()
	if err != nil {
		t.Fatal(err)
	}
	m, err := clientCodec.Decode(typ, payload)
	if err != nil {
		t.Fatal(err)
	}
	w, ok := m.(*netproto.ClientWelcome)
	if !ok {
		t.Fatalf("got %v, want ClientWelcome", typ)
	}
	return w.Client
}

// rawEnd waits for the gate to close a raw connection.
func rawEnd(t *testing.T, c net.Conn) {
	t.Helper()
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("gate did not close the raw connection")
			}
			return
		}
	}
}
