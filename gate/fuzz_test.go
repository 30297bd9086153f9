package gate

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/netproto"
)

// memLink is a Link over a byte string: Recv frames it like a stream link,
// sends are recorded. It lets a fuzz target drive a client's reader
// without a network.
type memLink struct {
	fr *netproto.FrameReader

	mu     sync.Mutex
	sent   []byte
	closed bool
}

func newMemLink(in []byte) *memLink {
	return &memLink{fr: netproto.NewFrameReader(bytes.NewReader(in), netproto.DefaultClientMaxFrame)}
}

func (l *memLink) Recv() (netproto.MsgType, []byte, error) {
	typ, payload, err := l.fr.Next()
	if err != nil {
		return 0, nil, err
	}
	if typ.Base() != typ {
		// A real link would decompress; compressed payloads are covered by
		// netproto's own fuzz targets.
		return 0, nil, fmt.Errorf("%w: compressed frame", netproto.ErrMalformed)
	}
	return typ, payload, nil
}

func (l *memLink) Send(typ netproto.MsgType, payload []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return netproto.ErrLinkClosed
	}
	l.sent = netproto.AppendFrame(l.sent, typ, payload)
	return nil
}

func (l *memLink) SendFrames(frames []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, frames...)
	return nil
}

func (l *memLink) Flush() error { return nil }
func (l *memLink) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	return nil
}
func (l *memLink) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (l *memLink) Transport() string    { return "mem" }

// FuzzClientInput feeds arbitrary bytes to a welcomed client's reader: it
// must never panic, must end with one of the known disconnect reasons, and
// must answer only with client-link message types.
func FuzzClientInput(f *testing.F) {
	call := func(e uint64, m string, id uint64) []byte {
		b, _ := clientCodec.AppendFrame(nil, &netproto.ClientCall{Entity: e, Method: m, CallID: id, Args: []byte{0x80}})
		return b
	}
	mv, _ := clientCodec.AppendFrame(nil, &netproto.ClientMove{Records: []netproto.PositionRecord{{Entity: entA, X: 1}}})
	hb := netproto.AppendFrame(nil, netproto.MsgHeartbeat, nil)
	f.Add([]byte{})
	f.Add(call(entA, "Wave", 1))
	f.Add(slices.Concat(call(entA, "SetName", 2), mv, hb, call(entB, "SetName", 3), mv))
	f.Add(slices.Concat(hb, netproto.AppendFrame(nil, 0x0999, nil)))
	f.Add(netproto.AppendFrame(nil, netproto.MsgClientCall, []byte{0xa1, 0x01}))
	f.Add(netproto.AppendFrame(nil, netproto.MsgClientMove, []byte{0, 2, 1}))
	f.Add([]byte{0, 0, 0, 9, 1, 2, 3})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0})

	cfg := testConfig()
	cfg.MaxMsgsPerSecond = 20
	g, err := New(cfg, []string{"127.0.0.1:1"}, nil) // never started: dispatcher sends fail and count
	if err != nil {
		f.Fatal(err)
	}
	g.schema.set(1, testSchema)
	known := map[string]bool{}
	for _, r := range disconnectReasons {
		known[r] = true
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		l := newMemLink(in)
		now := time.Now()
		c := &client{
			g: g, id: uint64(cfg.ID)<<48 | 1, link: l, log: g.clog,
			bucket: newTokenBucket(cfg.MaxMsgsPerSecond, now), visible: map[uint64]string{entB: "Avatar"},
			wake: make(chan struct{}, 1), closing: make(chan struct{}), writerDone: make(chan struct{}),
			entity: entA, entityType: "Avatar", moved: true,
		}
		c.move.reset(cfg.MaxSpeed, now)
		c.ownEntity.Store(entA)
		c.readLoop()
		select {
		case <-c.closing:
		default:
			t.Fatal("reader returned without stopping the client")
		}
		if !known[c.reason] {
			t.Fatalf("unknown disconnect reason %q", c.reason)
		}
		out := l.sent
		for len(out) > 0 {
			typ, _, rest, err := netproto.SplitFrame(out, netproto.DefaultClientMaxFrame)
			if err != nil {
				t.Fatalf("gate sent a bad frame: %v", err)
			}
			if !typ.ClientLink() || typ.FromClient() && typ != netproto.MsgHeartbeat && typ != netproto.MsgDisconnect {
				t.Fatalf("gate sent %v to a client", typ)
			}
			out = rest
		}
	})
}
