package dispatcher

import (
	"fmt"

	"github.com/ecsworld/ecsworld/netproto"
)

// head holds the routing keys of one forwarded message. The dispatcher
// decodes only these keys (unknown CBOR keys are skipped) and forwards the
// original payload untouched, so a GateBatch or a call's arguments are never
// decoded or re-encoded on the way through.
type head struct {
	Entity uint64 // target entity (calls, routes, migration, client traffic)
	Game   uint16 // target or reported game
	Gate   uint16 // target gate, or the gate a client message comes from
	Client uint64 // ClientID of client messages
	CallID uint64 // non-zero: the caller wants a reply
	Caller netproto.Caller
	To     netproto.Peer // CallReply's destination
}

// The head structs mirror the netproto messages' CBOR keys (keyasint), one
// per message shape, restricted to what routing needs.
type (
	callHead struct {
		Target uint64          `cbor:"1,keyasint,omitempty"`
		Caller netproto.Caller `cbor:"4,keyasint"`
		CallID uint64          `cbor:"5,keyasint,omitempty"`
	}
	replyHead struct {
		CallID uint64        `cbor:"1,keyasint,omitempty"`
		To     netproto.Peer `cbor:"2,keyasint"`
		Client uint64        `cbor:"3,keyasint,omitempty"`
	}
	// entityGameHead: EntityCreated, EntityDestroyed, MigrateDone (1 Entity, 2 Game).
	entityGameHead struct {
		Entity uint64 `cbor:"1,keyasint,omitempty"`
		Game   uint16 `cbor:"2,keyasint,omitempty"`
	}
	// gateHead: GateBatch, ClientBound, KickClient, GateDown (1 Gate).
	gateHead struct {
		Gate uint16 `cbor:"1,keyasint,omitempty"`
	}
	// gateClientHead: ClientConnected (1 Gate, 2 Client), ClientDisconnected
	// (1 Gate, 2 Client, 3 Entity).
	gateClientHead struct {
		Gate   uint16 `cbor:"1,keyasint,omitempty"`
		Client uint64 `cbor:"2,keyasint,omitempty"`
	}
	gateClientEntityHead struct {
		Gate   uint16 `cbor:"1,keyasint,omitempty"`
		Client uint64 `cbor:"2,keyasint,omitempty"`
		Entity uint64 `cbor:"3,keyasint,omitempty"`
	}
	// onGameHead: CreateEntityOnGame (1 Game).
	onGameHead struct {
		Game uint16 `cbor:"1,keyasint,omitempty"`
	}
	// migrateDataHead: MigrateData (1 Entity, 3 To).
	migrateDataHead struct {
		Entity uint64 `cbor:"1,keyasint,omitempty"`
		To     uint16 `cbor:"3,keyasint,omitempty"`
	}
	// gameHead: FreezeRequest, FreezeResume (1 Game).
	gameHead struct {
		Game uint16 `cbor:"1,keyasint,omitempty"`
	}
)

// decodeHead decodes the routing keys of a forwarded message of type typ.
// Messages the dispatcher consumes itself (Hello, ServiceRegister, GameLoad,
// MigrateRequest, ...) are decoded whole by their handlers instead; for
// them, and for Heartbeat, decodeHead returns a zero head. The payload is
// untrusted: every error is returned, never a panic.
func decodeHead(c *netproto.Codec, typ netproto.MsgType, payload []byte) (head, error) {
	var h head
	var err error
	switch typ {
	case netproto.MsgCallEntity:
		var v callHead
		err = c.UnmarshalValue(payload, &v)
		h.Entity, h.Caller, h.CallID = v.Target, v.Caller, v.CallID
		if err == nil && v.Target == 0 {
			err = fmt.Errorf("%w: CallEntity without a target", netproto.ErrMalformed)
		}
	case netproto.MsgCallReply:
		var v replyHead
		err = c.UnmarshalValue(payload, &v)
		h.CallID, h.To, h.Client = v.CallID, v.To, v.Client
		if err == nil && v.To.ID == 0 {
			err = fmt.Errorf("%w: CallReply without a destination", netproto.ErrMalformed)
		}
	case netproto.MsgEntityCreated, netproto.MsgEntityDestroyed, netproto.MsgMigrateDone:
		var v entityGameHead
		err = c.UnmarshalValue(payload, &v)
		h.Entity, h.Game = v.Entity, v.Game
		if err == nil && v.Entity == 0 {
			err = fmt.Errorf("%w: %v without an entity", netproto.ErrMalformed, typ)
		}
	case netproto.MsgGateBatch, netproto.MsgClientBound, netproto.MsgKickClient:
		var v gateHead
		err = c.UnmarshalValue(payload, &v)
		h.Gate = v.Gate
		if err == nil && v.Gate == 0 {
			err = fmt.Errorf("%w: %v without a gate", netproto.ErrMalformed, typ)
		}
	case netproto.MsgClientConnected:
		var v gateClientHead
		err = c.UnmarshalValue(payload, &v)
		h.Gate, h.Client = v.Gate, v.Client
		if err == nil && v.Client == 0 {
			err = fmt.Errorf("%w: %v without a client", netproto.ErrMalformed, typ)
		}
	case netproto.MsgClientDisconnected:
		var v gateClientEntityHead
		err = c.UnmarshalValue(payload, &v)
		h.Gate, h.Client, h.Entity = v.Gate, v.Client, v.Entity
		if err == nil && v.Client == 0 {
			err = fmt.Errorf("%w: %v without a client", netproto.ErrMalformed, typ)
		}
	case netproto.MsgCreateEntityOnGame:
		var v onGameHead
		err = c.UnmarshalValue(payload, &v)
		h.Game = v.Game
		if err == nil && v.Game == 0 {
			err = fmt.Errorf("%w: CreateEntityOnGame without a game", netproto.ErrMalformed)
		}
	case netproto.MsgMigrateData:
		var v migrateDataHead
		err = c.UnmarshalValue(payload, &v)
		h.Entity, h.Game = v.Entity, v.To
		if err == nil && (v.Entity == 0 || v.To == 0) {
			err = fmt.Errorf("%w: MigrateData without an entity or a destination", netproto.ErrMalformed)
		}
	case netproto.MsgFreezeRequest, netproto.MsgFreezeResume:
		var v gameHead
		err = c.UnmarshalValue(payload, &v)
		h.Game = v.Game
	case netproto.MsgSyncFromClient:
		var s netproto.SyncFromClient
		s, err = netproto.DecodeSyncFromClient(payload)
		h.Client, h.Entity = s.Client, s.Record.Entity
		if err == nil && s.Record.Entity == 0 {
			err = fmt.Errorf("%w: SyncFromClient without an entity", netproto.ErrMalformed)
		}
	case netproto.MsgCreateEntityAnywhere:
		// Routed by load, not by content: only check it is one CBOR map so
		// garbage is refused here rather than by the game.
		var v struct{}
		err = c.UnmarshalValue(payload, &v)
	}
	if err != nil {
		return head{}, fmt.Errorf("dispatcher: %v: %w", typ, err)
	}
	return h, nil
}
