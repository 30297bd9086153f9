package client

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/netproto"
)

// rawGate is a TCP gate that writes whatever bytes a test wants, to feed
// the client frames no netproto link would send.
type rawGate struct {
	t     *testing.T
	ln    net.Listener
	codec *netproto.Codec
}

func startRawGate(t *testing.T) *rawGate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	codec, err := netproto.NewCodec(netproto.ClientLimits())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &rawGate{t: t, ln: ln, codec: codec}
}

// serve accepts one client, reads its ClientHello, and writes reply (the
// raw bytes of the handshake answer and what follows). With closeAfter it
// closes the connection after writing; otherwise it keeps it open until
// the test ends, draining what the client sends.
func (g *rawGate) serve(reply []byte, closeAfter bool) {
	go func() {
		conn, err := g.ln.Accept()
		if err != nil {
			return
		}
		fr := netproto.NewFrameReader(conn, netproto.DefaultClientMaxFrame)
		if typ, _, err := fr.Next(); err != nil || typ != netproto.MsgClientHello {
			g.t.Errorf("raw gate: first frame %v %v", typ, err)
			conn.Close()
			return
		}
		if _, err := conn.Write(reply); err != nil {
			conn.Close()
			return
		}
		if closeAfter {
			conn.Close()
			return
		}
		// Drain until the client closes.
		for {
			if _, _, err := fr.Next(); err != nil {
				conn.Close()
				return
			}
		}
	}()
}

func (g *rawGate) frame(m netproto.Message) []byte {
	g.t.Helper()
	b, err := g.codec.AppendFrame(nil, m)
	if err != nil {
		g.t.Fatal(err)
	}
	return b
}

func rawFrame(typ netproto.MsgType, payload []byte) []byte {
	return netproto.AppendFrame(nil, typ, payload)
}

// deepCBOR is a CBOR value nested n arrays deep.
func deepCBOR(n int) []byte {
	b := make([]byte, 0, n+1)
	for range n - 1 {
		b = append(b, 0x81) // array of one element
	}
	return append(b, 0x01)
}

// TestClientMalformedFrames: every kind of bad frame after the handshake
// stops the client with a clear error wrapping the netproto cause, never a
// panic, and never leaves a call waiting.
func TestClientMalformedFrames(t *testing.T) {
	g := startRawGate(t)
	nanPos := make([]byte, 2+netproto.PositionRecordSize)
	binary.BigEndian.PutUint16(nanPos, 1)
	binary.BigEndian.PutUint32(nanPos[2+8:], math.Float32bits(float32(math.NaN())))
	oversize := binary.BigEndian.AppendUint32(nil, netproto.DefaultClientMaxFrame+1)
	oversize = binary.BigEndian.AppendUint16(oversize, uint16(netproto.MsgCreateEntity))
	// Attrs nested deeper than the decoder allows: {5: {"a": [[[...]]]}}.
	deep := append([]byte{0xA1, 0x05, 0xA1, 0x61, 'a'}, deepCBOR(40)...)
	tests := []struct {
		name       string
		bytes      []byte
		closeAfter bool
		want       []error
	}{
		{"garbage CBOR", rawFrame(netproto.MsgCreateEntity, []byte{0xFF, 0x00, 0x13}), false, []error{ErrProtocol, netproto.ErrMalformed}},
		{"empty CBOR payload", rawFrame(netproto.MsgAttrDelta, nil), false, []error{ErrProtocol, netproto.ErrTruncated}},
		{"wrong CBOR shape", rawFrame(netproto.MsgDestroyEntity, []byte{0x83, 0x01, 0x02, 0x03}), false, []error{ErrProtocol, netproto.ErrMalformed}},
		{"nesting too deep", rawFrame(netproto.MsgCreateEntity, deep), false, []error{ErrProtocol, netproto.ErrMalformed}},
		{"trailing bytes", rawFrame(netproto.MsgDestroyEntity, []byte{0xA1, 0x01, 0x01, 0x00}), false, []error{ErrProtocol, netproto.ErrMalformed}},
		{"unknown type", rawFrame(0x01F0, []byte{0xA0}), false, []error{ErrProtocol, netproto.ErrUnknownType}},
		{"internal type", rawFrame(netproto.MsgGateBatch, []byte{0xA0}), false, []error{ErrProtocol, netproto.ErrUnknownType}},
		{"client-only type", rawFrame(netproto.MsgClientCall, []byte{0xA0}), false, []error{ErrProtocol, netproto.ErrUnknownType}},
		{"heartbeat with payload", rawFrame(netproto.MsgHeartbeat, []byte{1}), false, []error{ErrProtocol, netproto.ErrMalformed}},
		{"position count beyond payload", rawFrame(netproto.MsgPositionSync, []byte{0, 5, 1, 2, 3}), false, []error{ErrProtocol, netproto.ErrTruncated}},
		{"position trailing bytes", rawFrame(netproto.MsgPositionSync, []byte{0, 0, 9}), false, []error{ErrProtocol, netproto.ErrMalformed}},
		{"position NaN", rawFrame(netproto.MsgPositionSync, nanPos), false, []error{ErrProtocol, netproto.ErrMalformed}},
		{"frame too large", oversize, false, []error{netproto.ErrFrameTooLarge}},
		{"length below type size", []byte{0, 0, 0, 1, 0}, false, []error{netproto.ErrMalformed}},
		{"truncated frame", append(binary.BigEndian.AppendUint32(nil, 100), 1, 4, 5, 6), true, []error{netproto.ErrTruncated}},
		{"bad s2 data", rawFrame(netproto.MsgCreateEntity|netproto.FlagS2, []byte{0xFF, 0xFF, 0xFF}), false, []error{netproto.ErrMalformed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			welcome := g.frame(&netproto.ClientWelcome{Client: testClientID, HeartbeatMs: 1000})
			g.serve(append(welcome, tc.bytes...), tc.closeAfter)
			c, err := Dial(ctx, "tcp", g.ln.Addr().String(), Options{})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			select {
			case <-c.Done():
			case <-ctx.Done():
				t.Fatal("client still running after a bad frame")
			}
			for _, want := range tc.want {
				if !errors.Is(c.Err(), want) {
					t.Errorf("Err %v, want it to wrap %v", c.Err(), want)
				}
			}
			if _, err := c.Call(ctx, player, "After"); !errors.Is(err, ErrClosed) {
				t.Errorf("call after a bad frame: %v", err)
			}
		})
	}
}

// TestDialHandshakeFailures: a gate that answers ClientHello with anything
// but a valid ClientWelcome, or not at all, fails Dial with a clear error.
func TestDialHandshakeFailures(t *testing.T) {
	g := startRawGate(t)
	tests := []struct {
		name  string
		reply []byte
		check func(error) bool
	}{
		{"disconnect", g.frame(&netproto.Disconnect{Reason: "gate full", Code: netproto.DisconnectShutdown}), func(err error) bool {
			var de *DisconnectError
			return errors.As(err, &de) && de.Reason == "gate full" && de.Code == netproto.DisconnectShutdown
		}},
		{"other message first", g.frame(&netproto.DestroyEntity{Entity: 1}), func(err error) bool { return errors.Is(err, ErrProtocol) }},
		{"bad version", g.frame(&netproto.ClientWelcome{Client: 1, Version: netproto.ProtocolVersion + 1}), func(err error) bool {
			return errors.Is(err, ErrProtocol) && strings.Contains(err.Error(), "version")
		}},
		{"no client id", g.frame(&netproto.ClientWelcome{HeartbeatMs: 10}), func(err error) bool { return errors.Is(err, ErrProtocol) }},
		{"malformed welcome", rawFrame(netproto.MsgClientWelcome, []byte{0xFF}), func(err error) bool {
			return errors.Is(err, ErrProtocol) && errors.Is(err, netproto.ErrMalformed)
		}},
		{"heartbeats then close", append(rawFrame(netproto.MsgHeartbeat, nil), rawFrame(netproto.MsgHeartbeat, nil)...), func(err error) bool {
			return err != nil && !errors.Is(err, context.DeadlineExceeded)
		}},
		{"silence", nil, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			g.serve(tc.reply, tc.name == "heartbeats then close")
			c, err := Dial(ctx, "tcp", g.ln.Addr().String(), Options{HandshakeTimeout: 200 * time.Millisecond})
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if !tc.check(err) {
				t.Fatalf("Dial error %v", err)
			}
		})
	}
}

// TestDialErrors: bad arguments and unreachable gates fail Dial.
func TestDialErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := Dial(ctx, "udp", "127.0.0.1:1", Options{}); err == nil || !strings.Contains(err.Error(), "unknown transport") {
		t.Fatalf("unknown transport: %v", err)
	}
	// A port nobody listens on (a listener we close at once).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, tr := range []string{"tcp", "ws"} {
		if _, err := Dial(ctx, tr, addr, Options{HandshakeTimeout: time.Second}); err == nil {
			t.Fatalf("%s dial to a closed port succeeded", tr)
		}
	}
}
