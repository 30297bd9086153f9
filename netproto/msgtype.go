package netproto

import "strconv"

// MsgType is the 2-byte message type of a frame. The two high bits are
// compression flags set by a link (see FlagS2, FlagZstd); message types
// themselves use the low 14 bits.
type MsgType uint16

// Compression flags in a frame's type field. A link sets one of them when it
// compressed the payload and strips it after decompressing, so Link.Recv and
// Codec never see them.
const (
	FlagS2     MsgType = 0x8000
	FlagZstd   MsgType = 0x4000
	flagMask   MsgType = FlagS2 | FlagZstd
	MaxMsgType MsgType = 0x3FFF
)

// Message types. Numbers are stable wire values: never renumber, only add.
// 0x0001 is shared by every link, 0x0010–0x00FF are internal (gate, game,
// dispatcher), 0x0100–0x01FF travel on client links.
const (
	MsgHeartbeat MsgType = 0x0001

	MsgHello                MsgType = 0x0010
	MsgHelloAck             MsgType = 0x0011
	MsgHelloReject          MsgType = 0x0012
	MsgTypeSchema           MsgType = 0x0013
	MsgCreateEntityAnywhere MsgType = 0x0020
	MsgCreateEntityOnGame   MsgType = 0x0021
	MsgEntityCreated        MsgType = 0x0022
	MsgEntityDestroyed      MsgType = 0x0023
	MsgCallEntity           MsgType = 0x0024
	MsgCallReply            MsgType = 0x0025
	MsgClientConnected      MsgType = 0x0030
	MsgClientDisconnected   MsgType = 0x0031
	MsgGateDown             MsgType = 0x0032
	MsgClientBound          MsgType = 0x0033
	MsgKickClient           MsgType = 0x0034
	MsgGateBatch            MsgType = 0x0035
	MsgSyncFromClient       MsgType = 0x0036
	MsgServiceRegister      MsgType = 0x0040
	MsgServiceRegistered    MsgType = 0x0041
	MsgServiceLookup        MsgType = 0x0042
	MsgServiceLookupReply   MsgType = 0x0043
	MsgMigrateRequest       MsgType = 0x0050
	MsgMigrateHold          MsgType = 0x0051
	MsgMigrateData          MsgType = 0x0052
	MsgMigrateDone          MsgType = 0x0053
	MsgFreezeRequest        MsgType = 0x0060
	MsgFreezeAck            MsgType = 0x0061
	MsgFreezeResume         MsgType = 0x0062
	MsgGameLoad             MsgType = 0x0070

	MsgClientHello     MsgType = 0x0100
	MsgClientWelcome   MsgType = 0x0101
	MsgClientCall      MsgType = 0x0102
	MsgClientCallReply MsgType = 0x0103
	MsgCreateEntity    MsgType = 0x0104
	MsgDestroyEntity   MsgType = 0x0105
	MsgAttrDelta       MsgType = 0x0106
	MsgCallClient      MsgType = 0x0107
	MsgPositionSync    MsgType = 0x0108
	MsgClientMove      MsgType = 0x0109
	MsgDisconnect      MsgType = 0x010A
)

// msgNames names every known type; it is the one list of known types.
var msgNames = map[MsgType]string{
	MsgHeartbeat:            "Heartbeat",
	MsgHello:                "Hello",
	MsgHelloAck:             "HelloAck",
	MsgHelloReject:          "HelloReject",
	MsgTypeSchema:           "TypeSchema",
	MsgCreateEntityAnywhere: "CreateEntityAnywhere",
	MsgCreateEntityOnGame:   "CreateEntityOnGame",
	MsgEntityCreated:        "EntityCreated",
	MsgEntityDestroyed:      "EntityDestroyed",
	MsgCallEntity:           "CallEntity",
	MsgCallReply:            "CallReply",
	MsgClientConnected:      "ClientConnected",
	MsgClientDisconnected:   "ClientDisconnected",
	MsgGateDown:             "GateDown",
	MsgClientBound:          "ClientBound",
	MsgKickClient:           "KickClient",
	MsgGateBatch:            "GateBatch",
	MsgSyncFromClient:       "SyncFromClient",
	MsgServiceRegister:      "ServiceRegister",
	MsgServiceRegistered:    "ServiceRegistered",
	MsgServiceLookup:        "ServiceLookup",
	MsgServiceLookupReply:   "ServiceLookupReply",
	MsgMigrateRequest:       "MigrateRequest",
	MsgMigrateHold:          "MigrateHold",
	MsgMigrateData:          "MigrateData",
	MsgMigrateDone:          "MigrateDone",
	MsgFreezeRequest:        "FreezeRequest",
	MsgFreezeAck:            "FreezeAck",
	MsgFreezeResume:         "FreezeResume",
	MsgGameLoad:             "GameLoad",
	MsgClientHello:          "ClientHello",
	MsgClientWelcome:        "ClientWelcome",
	MsgClientCall:           "ClientCall",
	MsgClientCallReply:      "ClientCallReply",
	MsgCreateEntity:         "CreateEntity",
	MsgDestroyEntity:        "DestroyEntity",
	MsgAttrDelta:            "AttrDelta",
	MsgCallClient:           "CallClient",
	MsgPositionSync:         "PositionSync",
	MsgClientMove:           "ClientMove",
	MsgDisconnect:           "Disconnect",
}

// String names the type (with its compression flag, if any) for logs.
func (t MsgType) String() string {
	s, ok := msgNames[t.Base()]
	if !ok {
		s = "MsgType(0x" + strconv.FormatUint(uint64(t.Base()), 16) + ")"
	}
	switch {
	case t&FlagS2 != 0 && t&FlagZstd != 0:
		s += "|s2|zstd"
	case t&FlagS2 != 0:
		s += "|s2"
	case t&FlagZstd != 0:
		s += "|zstd"
	}
	return s
}

// Base strips the compression flags.
func (t MsgType) Base() MsgType { return t &^ flagMask }

// Known reports whether t (without flags) is in the catalogue.
func (t MsgType) Known() bool {
	_, ok := msgNames[t]
	return ok
}

// ClientLink reports whether t may travel on a client link (gate ⇄ client):
// Heartbeat and the 0x01xx range.
func (t MsgType) ClientLink() bool {
	return t.Known() && (t == MsgHeartbeat || t&0xFF00 == 0x0100)
}

// FromClient reports whether a client may send t to a gate. A gate refuses
// any other type from a client.
func (t MsgType) FromClient() bool {
	switch t {
	case MsgHeartbeat, MsgClientHello, MsgClientCall, MsgClientMove, MsgDisconnect:
		return true
	}
	return false
}

// Traffic is a count of messages and their bytes (frame header included,
// before link compression): what every process reports per message type.
type Traffic struct {
	Msgs  uint64
	Bytes uint64
}
