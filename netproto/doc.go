// Package netproto is the wire of an ecsworld cluster: framing, the message
// catalogue and its codecs, and links over TCP, KCP and WebSocket.
//
//	clients ──KCP/TCP/WebSocket──▶ gate ──TCP──▶ dispatcher ◀──TCP── game
//
// It knows nothing of entities: EntityIDs (high 16 bits the creating game,
// low 48 a sequence) and ClientIDs (high 16 bits the gate) are plain uint64.
// Shard, ShardString and Origin are the routing helpers every process shares.
//
// # Framing
//
// Every link carries frames:
//
//	+----------------+-------------+-----------------+
//	| length: uint32 | type: uint16| payload         |
//	+----------------+-------------+-----------------+
//	  big-endian, counts type+payload (>= 2)
//
// The length is checked against the reader's maximum before anything is
// allocated (DefaultInternalMaxFrame 1 MiB, DefaultClientMaxFrame 64 KiB).
// The two high bits of the type are compression flags (FlagS2, FlagZstd): a
// link that compresses a payload sets one, the receiving link decompresses
// (bounded by its maximum) and strips it. Receivers always accept both
// algorithms, so only the sender is configured.
//
// # Codecs
//
// Structured messages are CBOR maps with small integer keys (keyasint), so
// fields can be renamed and added freely; never reuse a key. Unknown keys are
// ignored (newer peers), duplicate keys, indefinite lengths, tags, NaN and
// infinities are refused, and nesting, array and map sizes are bounded by
// the Codec's Limits. Three hot messages are fixed binary (see
// PositionRecord): PositionSync and ClientMove are a uint16 count followed by
// 22-byte records; SyncFromClient is a ClientID (uint64) and one record.
// Heartbeat has an empty payload. Args, Result and Blob fields are opaque
// bytes: one CBOR array for Args (Codec.EncodeArgs), one CBOR value for
// Result, the migrating game's encoding for Blob.
//
// # Catalogue
//
// Direction: G game, T gate, D dispatcher, C client. Fields are listed with
// their CBOR keys.
//
//	type    name                  direction       fields
//	0x0001  Heartbeat             any link        (empty)
//	0x0010  Hello                 G,T → D         1 Role, 2 ID, 3 Secret, 4 Version, 5 Restored, 6 Types
//	0x0011  HelloAck              D → G,T         1 ID, 2 Version
//	0x0012  HelloReject           D → G,T         1 Reason
//	0x0013  TypeSchema            D → T           1 Game, 2 Types
//	0x0020  CreateEntityAnywhere  G → D → G       1 Entity, 2 Type, 3 Attrs, 4 Pos, 5 Yaw, 6 Space
//	0x0021  CreateEntityOnGame    G → D → G       1 Game, 2 Entity, 3 Type, 4 Attrs, 5 Pos, 6 Yaw, 7 Space
//	0x0022  EntityCreated         G → D           1 Entity, 2 Game
//	0x0023  EntityDestroyed       G → D           1 Entity, 2 Game
//	0x0024  CallEntity            G,T → D → G     1 Target, 2 Method, 3 Args, 4 Caller{1 Kind, 2 Entity, 3 Client, 4 Gate, 5 Game}, 5 CallID
//	0x0025  CallReply             G → D → G,T     1 CallID, 2 To [role, id], 3 Client, 4 Result, 5 Error
//	0x0030  ClientConnected       T → D → G       1 Gate, 2 Client, 3 BootType, 4 Addr
//	0x0031  ClientDisconnected    T → D → G       1 Gate, 2 Client, 3 Entity
//	0x0032  GateDown              D → G           1 Gate
//	0x0033  ClientBound           G → D → T       1 Gate, 2 Client, 3 Entity, 4 Type, 5 ClientMoved, 6 MaxSpeed
//	0x0034  KickClient            G → D → T       1 Gate, 2 Client, 3 Reason
//	0x0035  GateBatch             G → D → T       1 Gate, 2 Game, 3 Items[{1 Clients, 2 Frames, 3 Vis, 4 VisEntity, 5 VisType}], 4 PosRecords, 5 PosClients
//	0x0036  SyncFromClient        T → D → G       binary: Client uint64, PositionRecord
//	0x0040  ServiceRegister       G → D           1 Name, 2 Entity
//	0x0041  ServiceRegistered     D → G           1 Name, 2 Entity, 3 Won
//	0x0042  ServiceLookup         G → D           1 Name, 2 CallID
//	0x0043  ServiceLookupReply    D → G           1 Name, 2 CallID, 3 Entity
//	0x0050  MigrateRequest        G → D           1 Entity, 2 From, 3 To, 4 Space
//	0x0051  MigrateHold           D → G           1 Entity
//	0x0052  MigrateData           G → D → G       1 Entity, 2 Space, 3 To, 4 Blob
//	0x0053  MigrateDone           G → D           1 Entity, 2 Game
//	0x0060  FreezeRequest         G → D           1 Game
//	0x0061  FreezeAck             D → G           1 Dispatcher, 2 Game
//	0x0062  FreezeResume          G → D           1 Game
//	0x0070  GameLoad              G → D           1 Game, 2 Load, 3 Entities, 4 Clients
//	0x0100  ClientHello           C → T           1 Version, 2 Token, 3 Role
//	0x0101  ClientWelcome         T → C           1 Client, 2 HeartbeatMs, 3 Version
//	0x0102  ClientCall            C → T           1 Entity, 2 Method, 3 Args, 4 CallID
//	0x0103  ClientCallReply       T → C           1 CallID, 2 Result, 3 Error
//	0x0104  CreateEntity          G ⇒ T → C       1 Entity, 2 Type, 3 Pos, 4 Yaw, 5 Attrs, 6 IsPlayer
//	0x0105  DestroyEntity         G ⇒ T → C       1 Entity
//	0x0106  AttrDelta             G ⇒ T → C       1 Entity, 2 Changes[{1 Op, 2 Path, 3 Value}]
//	0x0107  CallClient            G ⇒ T → C       1 Entity, 2 Method, 3 Args
//	0x0108  PositionSync          T → C           binary: count uint16, records
//	0x0109  ClientMove            C → T           binary: count uint16, records (normally 1)
//	0x010A  Disconnect            T ↔ C           1 Reason, 2 Code
//
// Observers (the live map) get their views as CallClient frames of method
// ObserveMethod with fixed binary records (observer.go), not a type of
// their own.
//
// "G ⇒ T → C": the game encodes the client frame once (Codec.AppendFrame)
// and ships it inside a GateBatch item with its recipients; the gate copies
// it to each recipient's link (Link.SendFrames) without decoding it. This is
// the wrapped form of client-facing messages: one GateBatch per gate per
// tick, each frame encoded once whatever the number of recipients. Position
// records ride in the same batch as raw records with recipient lists; the
// gate gives each client one PositionSync per batch (AppendPositionBatchRaw).
//
// # Links
//
// Link is the one interface over the transports: Send queues a frame, Flush
// writes everything queued in one write, Recv returns the next frame with
// its payload valid until the next Recv. ListenTCP, ListenKCP and
// NewWebSocketHandler (an http.Handler) yield links through Accept; DialTCP,
// DialKCP and DialWebSocket open them. A link owns no goroutine of its own
// (a WebSocket's close handshake runs in one briefly); KCP and WebSocket run
// their library's goroutines, released by Close. Options.MaxFrame bounds
// both what a link accepts and what it sends: give both ends of a client
// link DefaultClientMaxFrame.
//
// Typical use: a gate accepts from ListenKCP/ListenTCP/NewWebSocketHandler,
// expects ClientHello within ReadTimeout, decodes what clients send with a
// ClientLimits Codec and refuses any type without MsgType.FromClient; games
// and gates DialTCP every dispatcher with an InternalLimits Codec; every
// side queues with Send or Codec.Send and calls Flush once per tick or batch.
package netproto
