package client

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ecsworld/ecsworld/netproto"
)

func fuzzCodec(f *testing.F) *netproto.Codec {
	c, err := netproto.NewCodec(netproto.ClientLimits())
	if err != nil {
		f.Fatal(err)
	}
	return c
}

// FuzzApplyAttrChanges decodes an AttrDelta payload with the client's
// limits and applies it to a tree: it must never panic, every failure wraps
// ErrAttrChange, and the result stays a tree CopyAttrs copies exactly.
func FuzzApplyAttrChanges(f *testing.F) {
	codec := fuzzCodec(f)
	seeds := [][]netproto.AttrChange{
		{set(uint64(1), "hp")},
		{set("x", "a", "b", "c"), del("a", "b")},
		{app("d", "bag"), del("bag", uint64(0)), set("B", "bag", uint64(1))},
		{set(map[string]any{"k": []any{uint64(1), "two"}}, "pos"), app(3.5, "pos", "k")},
		{set(1, "grid", uint64(0), uint64(0)), del("grid", uint64(1), "k")},
		{del("missing", "deeper"), app(1, "hp"), {Op: 7, Path: []any{"x"}}},
		{set(1, "bag", uint64(99)), set(1, "hp", "through")},
	}
	for _, changes := range seeds {
		b, err := codec.AppendMessage(nil, &netproto.AttrDelta{Entity: 1, Changes: changes})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xA1, 0x02, 0x81, 0xA2, 0x01, 0x01, 0x02, 0x80})
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := codec.Decode(netproto.MsgAttrDelta, payload)
		if err != nil {
			return
		}
		tree := base()
		if err := ApplyAttrChanges(tree, m.(*netproto.AttrDelta).Changes); err != nil && !errors.Is(err, ErrAttrChange) {
			t.Fatalf("error %v does not wrap ErrAttrChange", err)
		}
		if c := CopyAttrs(tree); !reflect.DeepEqual(c, tree) {
			t.Fatalf("copy differs:\n%#v\n%#v", c, tree)
		}
	})
}

// FuzzClientFrames feeds a byte stream of frames to a client's frame
// handler, as its receive goroutine does: it must never panic, stop only
// with ErrProtocol or a Disconnect, and keep its view coherent (the player
// is in view or zero, and counters match).
func FuzzClientFrames(f *testing.F) {
	codec := fuzzCodec(f)
	frames := func(ms ...netproto.Message) []byte {
		var b []byte
		for _, m := range ms {
			var err error
			if b, err = codec.AppendFrame(b, m); err != nil {
				f.Fatal(err)
			}
		}
		return b
	}
	args, err := codec.EncodeArgs("hi", 1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(frames(
		&netproto.CreateEntity{Entity: 1, Type: "Avatar", Attrs: map[string]any{"bag": []any{}}, IsPlayer: true},
		&netproto.CreateEntity{Entity: 2, Type: "Monster", Pos: netproto.Vec3{X: 1}},
		&netproto.AttrDelta{Entity: 1, Changes: []netproto.AttrChange{app("x", "bag"), set(uint64(2), "hp")}},
		&netproto.PositionSync{Records: []netproto.PositionRecord{{Entity: 2, X: 3, Yaw: 1}}},
		&netproto.CallClient{Entity: 1, Method: "Chat", Args: args},
		&netproto.DestroyEntity{Entity: 2},
		&netproto.Heartbeat{},
	))
	f.Add(frames(
		&netproto.DestroyEntity{Entity: 5},
		&netproto.AttrDelta{Entity: 5},
		&netproto.PositionSync{Records: []netproto.PositionRecord{{Entity: 5}}},
		&netproto.ClientCallReply{CallID: 3, Error: "no"},
		&netproto.ClientWelcome{Client: 1},
		&netproto.CreateEntity{Entity: 1, IsPlayer: true},
		&netproto.CreateEntity{Entity: 1},
		&netproto.DestroyEntity{Entity: 1},
		&netproto.Disconnect{Reason: "bye"},
	))
	f.Add(append(frames(&netproto.CreateEntity{Entity: 1}), rawFrame(netproto.MsgCallClient, []byte{0xA2, 0x01, 0x01, 0x03, 0x41, 0xFF})...))
	f.Add(rawFrame(netproto.MsgPositionSync, []byte{0, 1, 1, 2}))
	f.Add(rawFrame(netproto.MsgGateBatch, []byte{0xA0}))
	f.Fuzz(func(t *testing.T, stream []byte) {
		c := newClient(nil, codec, Options{}.withDefaults(), &netproto.ClientWelcome{Client: 1}, "test")
		for len(stream) > 0 {
			typ, payload, rest, err := netproto.SplitFrame(stream, netproto.DefaultClientMaxFrame)
			if err != nil {
				break
			}
			stream = rest
			if typ&(netproto.FlagS2|netproto.FlagZstd) != 0 {
				continue // the link decompresses before the handler
			}
			if err := c.handle(typ, payload); err != nil {
				var de *DisconnectError
				if !errors.Is(err, ErrProtocol) && !errors.As(err, &de) {
					t.Fatalf("handler stopped with %v, want ErrProtocol or a Disconnect", err)
				}
				break
			}
		}
		if p := c.PlayerID(); p != 0 {
			if _, ok := c.Entity(p); !ok {
				t.Fatalf("player %d not in view", p)
			}
		}
		st := c.Stats()
		if got := uint64(len(c.ProtocolErrors())); got > st.ProtocolErrors || got > uint64(DefaultRecentErrors) {
			t.Fatalf("%d recent errors, %d counted", got, st.ProtocolErrors)
		}
		for _, e := range c.Entities() {
			if e.Attrs == nil {
				t.Fatalf("entity %d without an attribute map", e.ID)
			}
		}
		c.fail(ErrClosed)
	})
}
