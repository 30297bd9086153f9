package dispatcher

import (
	"testing"

	"github.com/ecsworld/ecsworld/netproto"
)

// routedSamples is one message of every type decodeHead reads.
var routedSamples = []netproto.Message{
	&netproto.CallEntity{Target: 1<<48 | 3, Method: "Hit", Args: []byte{0x81, 0x01},
		Caller: netproto.Caller{Kind: netproto.CallerClient, Gate: 2, Client: 2<<48 | 9, Entity: 5}, CallID: 44},
	&netproto.CallReply{CallID: 44, To: netproto.Peer{Role: netproto.RoleGate, ID: 2}, Client: 2<<48 | 9, Result: []byte{0x01}},
	&netproto.EntityCreated{Entity: 1<<48 | 3, Game: 1},
	&netproto.EntityDestroyed{Entity: 1<<48 | 3, Game: 1},
	&netproto.MigrateDone{Entity: 1<<48 | 3, Game: 4},
	&netproto.GateBatch{Gate: 2, Game: 1, Items: []netproto.BatchItem{{Clients: []uint64{7}, Frames: []byte{0, 0, 0, 2, 1, 5}}}},
	&netproto.ClientBound{Gate: 2, Client: 7, Entity: 9, Type: "Avatar", ClientMoved: true},
	&netproto.KickClient{Gate: 2, Client: 7, Reason: "x"},
	&netproto.ClientConnected{Gate: 2, Client: 7, BootType: "Account", Addr: "1.2.3.4:5"},
	&netproto.ClientDisconnected{Gate: 2, Client: 7, Entity: 9},
	&netproto.CreateEntityOnGame{Game: 3, Type: "Monster", Attrs: map[string]any{"hp": uint64(3)}},
	&netproto.MigrateData{Entity: 9, Space: 8, To: 3, Blob: []byte("blob")},
	&netproto.FreezeRequest{Game: 3},
	&netproto.FreezeResume{Game: 3},
	&netproto.SyncFromClient{Client: 7, Record: netproto.PositionRecord{Entity: 9, X: 1, Y: 2, Z: 3, Yaw: 1}},
	&netproto.CreateEntityAnywhere{Type: "Monster", Pos: netproto.Vec3{X: 1}},
}

// expectedHead is what decodeHead must give for a message that decodes
// whole; ok is false when the message lacks a key routing needs.
func expectedHead(m netproto.Message) (h head, ok bool) {
	switch m := m.(type) {
	case *netproto.CallEntity:
		return head{Entity: m.Target, Caller: m.Caller, CallID: m.CallID}, m.Target != 0
	case *netproto.CallReply:
		return head{CallID: m.CallID, To: m.To, Client: m.Client}, m.To.ID != 0
	case *netproto.EntityCreated:
		return head{Entity: m.Entity, Game: m.Game}, m.Entity != 0
	case *netproto.EntityDestroyed:
		return head{Entity: m.Entity, Game: m.Game}, m.Entity != 0
	case *netproto.MigrateDone:
		return head{Entity: m.Entity, Game: m.Game}, m.Entity != 0
	case *netproto.GateBatch:
		return head{Gate: m.Gate}, m.Gate != 0
	case *netproto.ClientBound:
		return head{Gate: m.Gate}, m.Gate != 0
	case *netproto.KickClient:
		return head{Gate: m.Gate}, m.Gate != 0
	case *netproto.ClientConnected:
		return head{Gate: m.Gate, Client: m.Client}, m.Client != 0
	case *netproto.ClientDisconnected:
		return head{Gate: m.Gate, Client: m.Client, Entity: m.Entity}, m.Client != 0
	case *netproto.CreateEntityOnGame:
		return head{Game: m.Game}, m.Game != 0
	case *netproto.MigrateData:
		return head{Entity: m.Entity, Game: m.To}, m.Entity != 0 && m.To != 0
	case *netproto.FreezeRequest:
		return head{Game: m.Game}, true
	case *netproto.FreezeResume:
		return head{Game: m.Game}, true
	case *netproto.SyncFromClient:
		return head{Client: m.Client, Entity: m.Record.Entity}, m.Record.Entity != 0
	case *netproto.CreateEntityAnywhere:
		return head{}, true
	}
	return head{}, false
}

// TestDecodeHeadMatchesMessages checks every routing key against the full
// decode of the same payload.
func TestDecodeHeadMatchesMessages(t *testing.T) {
	c := newCodec(t)
	for _, m := range routedSamples {
		typ, b, err := c.Marshal(m)
		if err != nil {
			t.Fatalf("%v: %v", m.MsgType(), err)
		}
		h, err := decodeHead(c, typ, b)
		if err != nil {
			t.Errorf("%v: %v", typ, err)
			continue
		}
		if want, _ := expectedHead(m); h != want {
			t.Errorf("%v: head %+v, want %+v", typ, h, want)
		}
	}
}

// FuzzDecodeHead: decodeHead never panics on any payload, and whenever the
// full message decodes, the head agrees with it.
func FuzzDecodeHead(f *testing.F) {
	c, err := netproto.NewCodec(netproto.InternalLimits())
	if err != nil {
		f.Fatal(err)
	}
	for i, m := range routedSamples {
		_, b, err := c.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
		if len(b) > 2 {
			f.Add(uint8(i), b[:len(b)/2])
		}
	}
	f.Add(uint8(0), []byte{0xa1, 0x01, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(1), []byte{0xa1, 0x02, 0x82, 0x01})
	f.Add(uint8(5), []byte{0xbf, 0xff})
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		typ := routedSamples[int(which)%len(routedSamples)].MsgType()
		h, herr := decodeHead(c, typ, payload)
		m, ferr := c.Decode(typ, payload)
		if ferr != nil {
			return
		}
		want, ok := expectedHead(m)
		if ok != (herr == nil) {
			t.Fatalf("%v: full decode ok, head error %v, expected ok %v (%+v)", typ, herr, ok, m)
		}
		if ok && h != want {
			t.Fatalf("%v: head %+v, want %+v", typ, h, want)
		}
	})
}
