package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/netproto"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

const testSecret = "s3cret"

// testTimeout bounds every wait of a test peer, so a routing bug fails the
// test instead of hanging it.
const testTimeout = 5 * time.Second

// testCluster is an ephemeral cluster of n dispatchers with the test
// secret, as a launcher would build it.
func testCluster(n int) *config.Cluster {
	cl := config.Ephemeral(n, 1, 1)
	cl.Common.Secret = testSecret
	for i := range cl.Dispatchers {
		cl.Dispatchers[i].Secret = testSecret
	}
	return cl
}

// started is a running dispatcher; Serve's result is checked at cleanup.
type started struct {
	*Dispatcher
	addr string
}

// start runs dispatcher id of cl until the test ends.
func start(t *testing.T, cl *config.Cluster, id uint16, opts ...Option) *started {
	t.Helper()
	opts = append([]Option{WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))}, opts...)
	d, err := New(cl, id, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(testTimeout):
			t.Errorf("Serve did not return after cancel")
		}
	})
	return &started{Dispatcher: d, addr: d.Addr().String()}
}

// fake is a game or gate written with netproto links, as the real ones are.
type fake struct {
	t     *testing.T
	name  string
	peer  netproto.Peer
	link  netproto.Link
	codec *netproto.Codec
	syncN uint64
	// syncName is the service name sync looks up: with several
	// dispatchers, one of the dispatcher's own shard.
	syncName string
	// schemas: recv returns TypeSchema messages instead of skipping them
	// (a gate gets one per game as it joins).
	schemas bool
}

func newCodec(t *testing.T) *netproto.Codec {
	t.Helper()
	c, err := netproto.NewCodec(netproto.InternalLimits())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dialRaw opens a link to addr without a handshake.
func dialRaw(t *testing.T, addr string, role netproto.Role, id uint16) *fake {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	l, err := netproto.DialTCP(ctx, addr, netproto.Options{ReadTimeout: testTimeout,
		Compression: netproto.Compression{Algo: netproto.CompressS2}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	f := &fake{t: t, name: fmt.Sprintf("%v.%d", role, id), peer: netproto.Peer{Role: role, ID: id}, link: l,
		codec: newCodec(t), syncName: "sync"}
	t.Cleanup(func() { l.Close() })
	return f
}

// hello dials and sends a Hello; it returns the dispatcher's answer.
func hello(t *testing.T, addr string, h netproto.Hello) (*fake, netproto.Message) {
	t.Helper()
	f := dialRaw(t, addr, h.Role, h.ID)
	f.send(&h)
	return f, f.recv()
}

// join connects a game or gate with the right secret and expects HelloAck.
func join(t *testing.T, addr string, role netproto.Role, id uint16, mods ...func(*netproto.Hello)) *fake {
	t.Helper()
	h := netproto.Hello{Role: role, ID: id, Secret: testSecret, Version: netproto.ProtocolVersion}
	for _, m := range mods {
		m(&h)
	}
	f, m := hello(t, addr, h)
	if _, ok := m.(*netproto.HelloAck); !ok {
		t.Fatalf("%s: want HelloAck, got %#v", f.name, m)
	}
	return f
}

func restored(h *netproto.Hello) { h.Restored = true }

func (f *fake) send(ms ...netproto.Message) {
	f.t.Helper()
	for _, m := range ms {
		if err := f.codec.Send(f.link, m); err != nil {
			f.t.Fatalf("%s: send %v: %v", f.name, m.MsgType(), err)
		}
	}
	if err := f.link.Flush(); err != nil {
		f.t.Fatalf("%s: flush: %v", f.name, err)
	}
}

// recvAny returns the next message, heartbeats included.
func (f *fake) recvAny() (netproto.Message, error) {
	typ, payload, err := f.link.Recv()
	if err != nil {
		return nil, err
	}
	return f.codec.Decode(typ, payload)
}

// recv returns the next message that is not a heartbeat.
func (f *fake) recv() netproto.Message {
	f.t.Helper()
	for {
		m, err := f.recvAny()
		if err != nil {
			f.t.Fatalf("%s: recv: %v", f.name, err)
		}
		switch m.(type) {
		case *netproto.Heartbeat:
			continue
		case *netproto.TypeSchema:
			if !f.schemas {
				continue
			}
		}
		return m
	}
}

// expect receives the next message and checks it equals want.
func (f *fake) expect(want netproto.Message) {
	f.t.Helper()
	got := f.recv()
	if !reflect.DeepEqual(got, want) {
		f.t.Fatalf("%s: got %T %+v, want %T %+v", f.name, got, got, want, want)
	}
}

// expectClosed waits for the dispatcher to close the link.
func (f *fake) expectClosed() {
	f.t.Helper()
	for {
		_, err := f.recvAny()
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) || errors.Is(err, netproto.ErrLinkClosed) || !netproto.IsTimeout(err) {
			return
		}
		f.t.Fatalf("%s: link still open: %v", f.name, err)
	}
}

// sync is a barrier for a game: the dispatcher handles a link's messages in
// order, so once the answer to a lookup arrives, everything sent before it
// has been routed. Messages received meanwhile are returned.
func (f *fake) sync() []netproto.Message {
	f.t.Helper()
	f.syncN++
	id := 1<<40 + f.syncN
	f.send(&netproto.ServiceLookup{Name: f.syncName, CallID: id})
	var got []netproto.Message
	for {
		m := f.recv()
		if r, ok := m.(*netproto.ServiceLookupReply); ok && r.Name == f.syncName && r.CallID == id {
			return got
		}
		got = append(got, m)
	}
}

// syncNothing is sync expecting nothing else to have arrived.
func (f *fake) syncNothing() {
	f.t.Helper()
	if got := f.sync(); len(got) > 0 {
		f.t.Fatalf("%s: unexpected messages: %s", f.name, describe(got))
	}
}

func describe(ms []netproto.Message) string {
	s := ""
	for _, m := range ms {
		s += fmt.Sprintf("%T%+v ", m, m)
	}
	return s
}

// nameOnShard finds a service name of shard want among n.
func nameOnShard(want, n int) string {
	for i := 0; ; i++ {
		if name := fmt.Sprintf("sync%d", i); netproto.ShardString(name, n) == want {
			return name
		}
	}
}

// entity builds an EntityID created by game.
func entity(game uint16, seq uint64) uint64 { return uint64(game)<<48 | seq }

// entityOnShard finds an entity of game whose shard among n is want.
func entityOnShard(game uint16, want, n int) uint64 {
	for seq := uint64(1); ; seq++ {
		if e := entity(game, seq); netproto.Shard(e, n) == want {
			return e
		}
	}
}

// clientCall is a CallEntity from a client of gate.
func clientCall(gate uint16, client, target, callID uint64, method string) *netproto.CallEntity {
	return &netproto.CallEntity{Target: target, Method: method, Args: []byte{0x80},
		Caller: netproto.Caller{Kind: netproto.CallerClient, Gate: gate, Client: client}, CallID: callID}
}

// entityCall is a CallEntity from an entity on game.
func entityCall(game uint16, from, target, callID uint64, method string) *netproto.CallEntity {
	return &netproto.CallEntity{Target: target, Method: method, Args: []byte{0x81, 0x01},
		Caller: netproto.Caller{Kind: netproto.CallerEntity, Game: game, Entity: from}, CallID: callID}
}

// waitFor polls cond until it holds or the test timeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// benchServe runs d until the benchmark ends.
func benchServe(b *testing.B, d *Dispatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
	})
}

// benchJoin connects a game for a benchmark.
func benchJoin(b *testing.B, addr string, id uint16) *fake {
	l, err := netproto.DialTCP(context.Background(), addr, netproto.Options{ReadTimeout: testTimeout})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	c, err := netproto.NewCodec(netproto.InternalLimits())
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Send(l, &netproto.Hello{Role: netproto.RoleGame, ID: id, Secret: testSecret}); err != nil {
		b.Fatal(err)
	}
	if err := l.Flush(); err != nil {
		b.Fatal(err)
	}
	if typ, _, err := l.Recv(); err != nil || typ != netproto.MsgHelloAck {
		b.Fatalf("handshake: %v %v", typ, err)
	}
	return &fake{link: l, codec: c}
}
