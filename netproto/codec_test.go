package netproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustCodec(t testing.TB, lim Limits) *Codec {
	t.Helper()
	c, err := NewCodec(lim)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sampleArgs is a CBOR array as EncodeArgs makes it: [1, "two"].
var sampleArgs = []byte{0x82, 0x01, 0x63, 't', 'w', 'o'}

// sampleMessages has one filled-in value of every message type. Generic
// values use the types the decoder produces (uint64, int64, float64,
// string, []any, map[string]any) so round trips compare equal.
func sampleMessages() []Message {
	rec := PositionRecord{Entity: 1<<48 | 9, X: 1.5, Y: -2.25, Z: 1000.125, Yaw: DequantizeYaw(12345)}
	posRaw, _ := AppendPositionRecord(nil, rec)
	frames := AppendFrame(nil, MsgDestroyEntity, []byte{0xA1, 0x01, 0x05})
	types := []EntityTypeSchema{{Name: "Player", Methods: []MethodSchema{{Name: "Jump", Perm: PermOwnClient}, {Name: "Greet", Perm: PermAnyClient}}}}
	attrs := map[string]any{
		"hp":    uint64(100),
		"debt":  int64(-5),
		"speed": 2.5,
		"name":  "bob",
		"bag":   []any{"sword", uint64(3)},
		"stats": map[string]any{"str": uint64(10), "tags": []any{}},
	}
	return []Message{
		&Heartbeat{},
		&Hello{Role: RoleGame, ID: 3, Secret: "s3cret", Version: ProtocolVersion, Restored: true, Types: types},
		&HelloAck{ID: 1, Version: ProtocolVersion},
		&HelloReject{Reason: "bad secret"},
		&TypeSchema{Game: 3, Types: types},
		&CreateEntityAnywhere{Entity: 3<<48 | 77, Type: "Monster", Attrs: attrs, Pos: Vec3{X: 1, Y: 2, Z: 3}, Yaw: 0.5, Space: 3<<48 | 1},
		&CreateEntityOnGame{Game: 2, Type: "Monster", Attrs: attrs, Pos: Vec3{X: -1, Y: 0, Z: 1e6}, Yaw: 3, Space: 9},
		&EntityCreated{Entity: 3<<48 | 77, Game: 3},
		&EntityDestroyed{Entity: 3<<48 | 77, Game: 3},
		&CallEntity{Target: 3<<48 | 77, Method: "Hit", Args: sampleArgs, Caller: Caller{Kind: CallerClient, Entity: 5, Client: 2<<48 | 8, Gate: 2}, CallID: 99},
		&CallReply{CallID: 99, To: Peer{Role: RoleGate, ID: 2}, Client: 2<<48 | 8, Result: []byte{0x01}, Error: "no such method"},
		&ClientConnected{Gate: 2, Client: 2<<48 | 8, BootType: "Account", Addr: "10.0.0.1:5555"},
		&ClientDisconnected{Gate: 2, Client: 2<<48 | 8, Entity: 3<<48 | 77},
		&GateDown{Gate: 2},
		&ClientBound{Gate: 2, Client: 2<<48 | 8, Entity: 3<<48 | 77, Type: "Player", ClientMoved: true, MaxSpeed: 7.5},
		&KickClient{Gate: 2, Client: 2<<48 | 8, Reason: "cheating"},
		&GateBatch{Gate: 2, Game: 3, Items: []BatchItem{
			{Clients: []uint64{2<<48 | 8, 2<<48 | 9}, Frames: frames, Vis: VisEnter, VisEntity: 3<<48 | 77, VisType: "Monster"},
			{Clients: []uint64{2<<48 | 8}, Frames: frames},
		}, PosRecords: posRaw, PosClients: [][]uint64{{2<<48 | 8, 2<<48 | 9}}},
		&SyncFromClient{Client: 2<<48 | 8, Record: rec},
		&ServiceRegister{Name: "chat", Entity: 3<<48 | 5},
		&ServiceRegistered{Name: "chat", Entity: 3<<48 | 5, Won: true},
		&ServiceLookup{Name: "chat", CallID: 4},
		&ServiceLookupReply{Name: "chat", CallID: 4, Entity: 3<<48 | 5},
		&MigrateRequest{Entity: 3<<48 | 77, From: 3, To: 4, Space: 4<<48 | 1},
		&MigrateHold{Entity: 3<<48 | 77},
		&MigrateData{Entity: 3<<48 | 77, Space: 4<<48 | 1, To: 4, Blob: bytes.Repeat([]byte{1, 2, 3}, 100)},
		&MigrateDone{Entity: 3<<48 | 77, Game: 4},
		&FreezeRequest{Game: 3},
		&FreezeAck{Dispatcher: 1, Game: 3},
		&FreezeResume{Game: 3},
		&GameLoad{Game: 3, Load: 0.25, Entities: 10000, Clients: 300},
		&ClientHello{Version: ProtocolVersion, Token: "tok", Role: "player"},
		&ClientWelcome{Client: 2<<48 | 8, HeartbeatMs: 5000, Version: ProtocolVersion},
		&ClientCall{Entity: 3<<48 | 77, Method: "Jump", Args: sampleArgs, CallID: 12},
		&ClientCallReply{CallID: 12, Result: []byte{0xF5}, Error: ""},
		&CreateEntity{Entity: 3<<48 | 77, Type: "Player", Pos: Vec3{X: 1, Y: 2, Z: 3}, Yaw: 1.25, Attrs: attrs, IsPlayer: true},
		&DestroyEntity{Entity: 3<<48 | 77},
		&AttrDelta{Entity: 3<<48 | 77, Changes: []AttrChange{
			{Op: AttrSet, Path: []any{"stats", "str"}, Value: uint64(11)},
			{Op: AttrDelete, Path: []any{"bag", uint64(0)}},
			{Op: AttrAppend, Path: []any{"bag"}, Value: map[string]any{"k": "v"}},
		}},
		&CallClient{Entity: 3<<48 | 77, Method: "ShowText", Args: sampleArgs},
		&PositionSync{Records: []PositionRecord{rec, {Entity: 2, X: 0, Y: 0, Z: 0, Yaw: 0}}},
		&ClientMove{Records: []PositionRecord{rec}},
		&Disconnect{Reason: "bye", Code: DisconnectKicked},
	}
}

func TestSamplesCoverCatalogue(t *testing.T) {
	have := map[MsgType]bool{}
	for _, m := range sampleMessages() {
		have[m.MsgType()] = true
	}
	for typ := range msgNames {
		if !have[typ] {
			t.Errorf("no sample of %v", typ)
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	internal := mustCodec(t, InternalLimits())
	client := mustCodec(t, ClientLimits())
	for _, m := range sampleMessages() {
		t.Run(m.MsgType().String(), func(t *testing.T) {
			typ, payload, err := internal.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if typ != m.MsgType() {
				t.Fatalf("Marshal type %v", typ)
			}
			got, err := internal.Decode(typ, payload)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got, m)
			}

			// As a frame: AppendFrame, then split it back.
			frame, err := internal.AppendFrame([]byte("prefix"), m)
			if err != nil {
				t.Fatal(err)
			}
			ftyp, fpayload, rest, err := SplitFrame(frame[len("prefix"):], 0)
			if err != nil || ftyp != typ || len(rest) != 0 || string(frame[:len("prefix")]) != "prefix" {
				t.Fatalf("AppendFrame: %v %v %d", ftyp, err, len(rest))
			}
			if fm, err := internal.Decode(ftyp, fpayload); err != nil || !reflect.DeepEqual(fm, m) {
				t.Fatalf("AppendFrame payload: %v", err)
			}

			// The client codec takes exactly the client-link types.
			cm, err := client.Decode(typ, payload)
			if typ.ClientLink() {
				if err != nil || !reflect.DeepEqual(cm, m) {
					t.Fatalf("client codec: %v", err)
				}
			} else if !errors.Is(err, ErrUnknownType) {
				t.Fatalf("client codec accepted internal %v: %v", typ, err)
			}
		})
	}
}

func TestCodecSmall(t *testing.T) {
	c := mustCodec(t, InternalLimits())
	// keyasint keeps a CallEntity small: integer keys, no field names.
	_, p, err := c.Marshal(&CallEntity{Target: 1<<48 | 1, Method: "Hit", Args: sampleArgs, Caller: Caller{Kind: CallerEntity, Entity: 1<<48 | 2, Game: 1}, CallID: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(p) > 48 {
		t.Errorf("CallEntity encodes to %d bytes", len(p))
	}
	if bytes.Contains(p, []byte("Target")) {
		t.Error("field names on the wire")
	}
}

func TestDecodeInto(t *testing.T) {
	c := mustCodec(t, InternalLimits())
	want := &CallEntity{Target: 5, Method: "M", Args: sampleArgs, CallID: 1}
	_, p, _ := c.Marshal(want)
	var got CallEntity
	if err := c.DecodeInto(p, &got); err != nil || !reflect.DeepEqual(&got, want) {
		t.Fatalf("DecodeInto = %+v, %v", got, err)
	}
	var ps PositionSync
	ps.Records = make([]PositionRecord, 0, 8)
	_, p, _ = c.Marshal(&PositionSync{Records: []PositionRecord{{Entity: 1}}})
	if err := c.DecodeInto(p, &ps); err != nil || len(ps.Records) != 1 || cap(ps.Records) != 8 {
		t.Fatalf("DecodeInto PositionSync did not reuse the slice: %v", err)
	}
	if err := c.DecodeInto(p, nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("nil message: %v", err)
	}
	var nilMsg *Hello
	if _, _, err := c.Marshal(nilMsg); !errors.Is(err, ErrMalformed) {
		t.Fatalf("typed nil message: %v", err)
	}
}

// cborHead encodes a CBOR head (major type and argument).
func cborHead(major byte, n uint64) []byte {
	switch {
	case n < 24:
		return []byte{major<<5 | byte(n)}
	case n <= 0xFF:
		return []byte{major<<5 | 24, byte(n)}
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16([]byte{major<<5 | 25}, uint16(n))
	case n <= 0xFFFFFFFF:
		return binary.BigEndian.AppendUint32([]byte{major<<5 | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{major<<5 | 27}, n)
}

func TestDecodeLimits(t *testing.T) {
	internal := mustCodec(t, InternalLimits())
	client := mustCodec(t, ClientLimits())

	// CreateEntity {5: attrs} with attrs nested 20 maps deep.
	deep := []byte{0xA1, 0x05}
	for i := 0; i < 20; i++ {
		deep = append(deep, 0xA1, 0x61, 'k')
	}
	deep = append(deep, 0x01)

	// AttrDelta {2: [..]} claiming 2^31 changes in a few bytes.
	hugeArray := append([]byte{0xA1, 0x02}, cborHead(4, 1<<31)...)

	// ClientCall {3: args} with a real array of 5000 uints inside args is
	// opaque bytes; instead put 5000 path elements in an AttrDelta change.
	bigPath := []byte{0xA1, 0x02, 0x81, 0xA1, 0x02}
	bigPath = append(bigPath, cborHead(4, 5000)...)
	for i := 0; i < 5000; i++ {
		bigPath = append(bigPath, 0x00)
	}

	// CreateEntity attrs map claiming 2^20 pairs.
	hugeMap := append([]byte{0xA1, 0x05}, cborHead(5, 1<<20)...)

	// A byte string claiming 2^40 bytes.
	hugeBytes := append([]byte{0xA1, 0x03}, cborHead(2, 1<<40)...)

	tests := []struct {
		name    string
		codec   *Codec
		typ     MsgType
		payload []byte
		want    error
	}{
		{"deep nesting", internal, MsgCreateEntity, deep, ErrMalformed},
		{"huge array header", internal, MsgAttrDelta, hugeArray, ErrMalformed},
		{"array over client limit", client, MsgAttrDelta, bigPath, ErrMalformed},
		{"huge map header", internal, MsgCreateEntity, hugeMap, ErrMalformed},
		{"huge byte string header", internal, MsgClientCall, hugeBytes, ErrMalformed},
		{"payload over MaxPayload", client, MsgClientCall, make([]byte, DefaultClientMaxFrame), ErrFrameTooLarge},
		{"duplicate keys", internal, MsgDestroyEntity, []byte{0xA2, 0x01, 0x01, 0x01, 0x02}, ErrMalformed},
		{"indefinite map", internal, MsgDestroyEntity, []byte{0xBF, 0x01, 0x01, 0xFF}, ErrMalformed},
		{"indefinite byte string", internal, MsgClientCall, []byte{0xA1, 0x03, 0x5F, 0x41, 0x00, 0xFF}, ErrMalformed},
		{"tag", internal, MsgDestroyEntity, []byte{0xA1, 0x01, 0xC1, 0x01}, ErrMalformed},
		{"NaN float", internal, MsgGameLoad, []byte{0xA1, 0x02, 0xF9, 0x7E, 0x00}, ErrMalformed},
		{"infinite float", internal, MsgGameLoad, []byte{0xA1, 0x02, 0xF9, 0x7C, 0x00}, ErrMalformed},
		{"trailing bytes", internal, MsgDestroyEntity, []byte{0xA1, 0x01, 0x01, 0x00}, ErrMalformed},
		{"truncated", internal, MsgDestroyEntity, []byte{0xA1, 0x01}, ErrMalformed},
		{"empty", internal, MsgDestroyEntity, nil, ErrTruncated},
		{"wrong field type", internal, MsgDestroyEntity, []byte{0xA1, 0x01, 0x61, 'x'}, ErrMalformed},
		{"invalid utf8", internal, MsgHelloReject, []byte{0xA1, 0x01, 0x61, 0xFF}, ErrMalformed},
		{"heartbeat with payload", internal, MsgHeartbeat, []byte{0}, ErrMalformed},
		{"unknown type", internal, 0x3333, []byte{0xA0}, ErrUnknownType},
		{"flagged type", internal, MsgDestroyEntity | FlagS2, []byte{0xA0}, ErrUnknownType},
		{"internal type on client codec", client, MsgGateBatch, []byte{0xA0}, ErrUnknownType},
		{"gate batch misaligned records", internal, MsgGateBatch, []byte{0xA1, 0x04, 0x41, 0x00}, ErrMalformed},
		{"gate batch records without clients", internal, MsgGateBatch, append([]byte{0xA1, 0x04, 0x56}, make([]byte, 22)...), ErrMalformed},
		{"position batch over client limit", client, MsgPositionSync, binary.BigEndian.AppendUint16(nil, 60000), ErrFrameTooLarge},
		{"sync from client short", internal, MsgSyncFromClient, make([]byte, 10), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.codec.Decode(tc.typ, tc.payload)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v (%T), want %v", err, m, tc.want)
			}
			if m != nil {
				t.Fatalf("message returned with error: %#v", m)
			}
		})
	}
}

func TestUnknownFieldsIgnored(t *testing.T) {
	c := mustCodec(t, InternalLimits())
	// DestroyEntity {1: 5, 99: "future field"}
	p := []byte{0xA2, 0x01, 0x05, 0x18, 99, 0x61, 'x'}
	m, err := c.Decode(MsgDestroyEntity, p)
	if err != nil || m.(*DestroyEntity).Entity != 5 {
		t.Fatalf("got %#v, %v", m, err)
	}
}

func TestArgs(t *testing.T) {
	c := mustCodec(t, ClientLimits())
	b, err := c.EncodeArgs(uint64(1), "two", -3, []any{true}, map[string]any{"k": 1.5})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.DecodeArgs(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{uint64(1), "two", int64(-3), []any{true}, map[string]any{"k": 1.5}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
	empty, _ := c.EncodeArgs()
	if args, err := c.DecodeArgs(empty); err != nil || len(args) != 0 {
		t.Fatalf("empty args: %v %v", args, err)
	}
	var typed struct {
		_ struct{} `cbor:",toarray"`
		A int
		B string
	}
	if err := c.UnmarshalValue(b[:0+len(b)], &typed); err == nil {
		// Five elements into a two-field array struct must fail.
		t.Fatal("UnmarshalValue accepted a mismatched array")
	}
	two, _ := c.EncodeArgs(7, "x")
	if err := c.UnmarshalValue(two, &typed); err != nil || typed.A != 7 || typed.B != "x" {
		t.Fatalf("typed args: %+v %v", typed, err)
	}
	if _, err := c.DecodeArgs([]byte{0x9F, 0xFF}); err == nil {
		t.Fatal("indefinite args accepted")
	}
	v, err := c.MarshalValue(map[string]any{"a": uint64(1)})
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := c.UnmarshalValue(v, &back); err != nil || back["a"] != uint64(1) {
		t.Fatalf("value round trip: %v %v", back, err)
	}
	if _, err := c.DecodeArgs(make([]byte, DefaultClientMaxFrame)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized args: %v", err)
	}
}

func TestNewCodecRejectsBadLimits(t *testing.T) {
	if _, err := NewCodec(Limits{}); err == nil {
		t.Fatal("zero limits accepted")
	}
	lim := InternalLimits()
	lim.MaxNestedLevels = 1
	if _, err := NewCodec(lim); err == nil || !strings.Contains(err.Error(), "cbor") {
		t.Fatalf("bad nesting limit: %v", err)
	}
}

func TestAppendFrameAllocs(t *testing.T) {
	c := mustCodec(t, InternalLimits())
	m := &CallEntity{Target: 5, Method: "Hit", Args: sampleArgs, Caller: Caller{Kind: CallerEntity, Entity: 4}, CallID: 1}
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if _, err = c.AppendFrame(buf[:0], m); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Fatalf("AppendFrame allocates %v times", allocs)
	}
}
