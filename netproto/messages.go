package netproto

// Message is one entry of the catalogue: a struct that knows its wire type.
// Codec encodes and decodes every Message of this package.
type Message interface {
	MsgType() MsgType
}

// Role is a process role in the cluster.
type Role uint8

// Process roles.
const (
	RoleGame       Role = 1
	RoleGate       Role = 2
	RoleDispatcher Role = 3
)

// String names the role for logs.
func (r Role) String() string {
	switch r {
	case RoleGame:
		return "game"
	case RoleGate:
		return "gate"
	case RoleDispatcher:
		return "dispatcher"
	}
	return "role?"
}

// Peer names one process: its role and its id (1..65535, unique per role).
type Peer struct {
	_    struct{} `cbor:",toarray"`
	Role Role
	ID   uint16
}

// Vec3 is a position in world units (metres by convention). It encodes as a
// 3-element CBOR array, floats in their shortest exact form.
type Vec3 struct {
	_ struct{} `cbor:",toarray"`
	X float32
	Y float32
	Z float32
}

// Perm says who may call an entity method from a client.
type Perm uint8

// Client permissions of a method. Methods that only servers may call are not
// listed in a schema at all.
const (
	// PermOwnClient: only the client bound to the entity (its own player).
	PermOwnClient Perm = 1
	// PermAnyClient: any client that can see the entity.
	PermAnyClient Perm = 2
)

// MethodSchema is one client-callable method of an entity type.
type MethodSchema struct {
	Name string `cbor:"1,keyasint,omitempty"`
	Perm Perm   `cbor:"2,keyasint,omitempty"`
}

// EntityTypeSchema lists the client-callable methods of one entity type, so a
// gate can refuse a call without asking a game.
type EntityTypeSchema struct {
	Name    string         `cbor:"1,keyasint,omitempty"`
	Methods []MethodSchema `cbor:"2,keyasint,omitempty"`
}

// ---- internal: handshake and liveness ----

// Hello is the first message of every internal link, from game or gate to a
// dispatcher. A game's Hello carries its type schema. Restored marks a game
// restarted from a freeze snapshot (it may take over its frozen id).
type Hello struct {
	Role     Role               `cbor:"1,keyasint,omitempty"`
	ID       uint16             `cbor:"2,keyasint,omitempty"`
	Secret   string             `cbor:"3,keyasint,omitempty"`
	Version  uint32             `cbor:"4,keyasint,omitempty"`
	Restored bool               `cbor:"5,keyasint,omitempty"`
	Types    []EntityTypeSchema `cbor:"6,keyasint,omitempty"`
}

// HelloAck accepts a Hello; ID is the dispatcher's id.
type HelloAck struct {
	ID      uint16 `cbor:"1,keyasint,omitempty"`
	Version uint32 `cbor:"2,keyasint,omitempty"`
}

// HelloReject refuses a Hello; the dispatcher closes the link after it.
type HelloReject struct {
	Reason string `cbor:"1,keyasint,omitempty"`
}

// Heartbeat keeps an idle link (internal or client) alive. Empty payload.
type Heartbeat struct{}

// TypeSchema is sent by a dispatcher to every gate: the client-callable
// methods of one game's entity types.
type TypeSchema struct {
	Game  uint16             `cbor:"1,keyasint,omitempty"`
	Types []EntityTypeSchema `cbor:"2,keyasint,omitempty"`
}

// ---- internal: entities and calls ----

// CreateEntityAnywhere asks a dispatcher to create an entity on the
// least-loaded game. Entity is a requested EntityID (0: the game assigns one).
type CreateEntityAnywhere struct {
	Entity uint64         `cbor:"1,keyasint,omitempty"`
	Type   string         `cbor:"2,keyasint,omitempty"`
	Attrs  map[string]any `cbor:"3,keyasint,omitempty"`
	Pos    Vec3           `cbor:"4,keyasint"`
	Yaw    float32        `cbor:"5,keyasint,omitempty"`
	Space  uint64         `cbor:"6,keyasint,omitempty"`
}

// CreateEntityOnGame is CreateEntityAnywhere addressed to one game.
type CreateEntityOnGame struct {
	Game   uint16         `cbor:"1,keyasint,omitempty"`
	Entity uint64         `cbor:"2,keyasint,omitempty"`
	Type   string         `cbor:"3,keyasint,omitempty"`
	Attrs  map[string]any `cbor:"4,keyasint,omitempty"`
	Pos    Vec3           `cbor:"5,keyasint"`
	Yaw    float32        `cbor:"6,keyasint,omitempty"`
	Space  uint64         `cbor:"7,keyasint,omitempty"`
}

// EntityCreated tells the entity's dispatcher (Shard(Entity)) that Entity
// now lives on Game: a routing-table update.
type EntityCreated struct {
	Entity uint64 `cbor:"1,keyasint,omitempty"`
	Game   uint16 `cbor:"2,keyasint,omitempty"`
}

// EntityDestroyed removes Entity's route.
type EntityDestroyed struct {
	Entity uint64 `cbor:"1,keyasint,omitempty"`
	Game   uint16 `cbor:"2,keyasint,omitempty"`
}

// CallerKind says who made a call.
type CallerKind uint8

// Caller kinds.
const (
	// CallerServer: game code not acting as an entity.
	CallerServer CallerKind = 0
	// CallerEntity: an entity on a game (Entity, Game set).
	CallerEntity CallerKind = 1
	// CallerClient: a client through its gate (Client, Gate set; Entity is
	// the client's own entity if bound).
	CallerClient CallerKind = 2
)

// Caller identifies the origin of a call: for permission checks and to route
// the reply back.
type Caller struct {
	Kind   CallerKind `cbor:"1,keyasint,omitempty"`
	Entity uint64     `cbor:"2,keyasint,omitempty"`
	Client uint64     `cbor:"3,keyasint,omitempty"`
	Gate   uint16     `cbor:"4,keyasint,omitempty"`
	Game   uint16     `cbor:"5,keyasint,omitempty"`
}

// CallEntity calls Method on Target. Args is one CBOR array, opaque to
// netproto, dispatchers and gates (see Codec.EncodeArgs). CallID is non-zero
// when the caller wants a CallReply.
type CallEntity struct {
	Target uint64 `cbor:"1,keyasint,omitempty"`
	Method string `cbor:"2,keyasint,omitempty"`
	Args   []byte `cbor:"3,keyasint,omitempty"`
	Caller Caller `cbor:"4,keyasint"`
	CallID uint64 `cbor:"5,keyasint,omitempty"`
}

// CallReply answers a CallEntity with a CallID. To is the process that made
// the call; Client is the calling client when To is a gate. Result is one
// CBOR value (opaque); Error is non-empty on failure.
type CallReply struct {
	CallID uint64 `cbor:"1,keyasint,omitempty"`
	To     Peer   `cbor:"2,keyasint"`
	Client uint64 `cbor:"3,keyasint,omitempty"`
	Result []byte `cbor:"4,keyasint,omitempty"`
	Error  string `cbor:"5,keyasint,omitempty"`
}

// ---- internal: clients ----

// ClientConnected: a gate accepted a client; the dispatcher at
// Shard(Client) picks a game that creates the client's BootType entity.
type ClientConnected struct {
	Gate     uint16 `cbor:"1,keyasint,omitempty"`
	Client   uint64 `cbor:"2,keyasint,omitempty"`
	BootType string `cbor:"3,keyasint,omitempty"`
	Addr     string `cbor:"4,keyasint,omitempty"`
}

// ClientDisconnected: a client left its gate; routed to Entity's game.
type ClientDisconnected struct {
	Gate   uint16 `cbor:"1,keyasint,omitempty"`
	Client uint64 `cbor:"2,keyasint,omitempty"`
	Entity uint64 `cbor:"3,keyasint,omitempty"`
}

// GateDown: a dispatcher lost a gate's link; games unbind its clients.
type GateDown struct {
	Gate uint16 `cbor:"1,keyasint,omitempty"`
}

// ClientBound tells a gate which entity a client owns (Entity 0: none), so
// it can check OwnClient calls and ClientMove. ClientMoved allows the client
// to move that entity itself; MaxSpeed (units/s, 0: no limit) bounds it.
type ClientBound struct {
	Gate        uint16  `cbor:"1,keyasint,omitempty"`
	Client      uint64  `cbor:"2,keyasint,omitempty"`
	Entity      uint64  `cbor:"3,keyasint,omitempty"`
	Type        string  `cbor:"4,keyasint,omitempty"`
	ClientMoved bool    `cbor:"5,keyasint,omitempty"`
	MaxSpeed    float32 `cbor:"6,keyasint,omitempty"`
}

// KickClient asks a gate to disconnect a client (it sends Disconnect first).
type KickClient struct {
	Gate   uint16 `cbor:"1,keyasint,omitempty"`
	Client uint64 `cbor:"2,keyasint,omitempty"`
	Reason string `cbor:"3,keyasint,omitempty"`
}

// VisChange tells a gate how a BatchItem changes what its clients see.
type VisChange uint8

// Visibility changes carried by a BatchItem.
const (
	VisNone  VisChange = 0
	VisEnter VisChange = 1 // clients now see VisEntity (of VisType)
	VisLeave VisChange = 2 // clients no longer see VisEntity
)

// BatchItem is one or more whole client frames (header included, encoded
// once by the game) and the clients of the batch's gate that receive them.
// VisEntity/VisType/Vis let the gate track which entities each client sees
// (for call checks) without decoding the frames.
type BatchItem struct {
	Clients   []uint64  `cbor:"1,keyasint,omitempty"`
	Frames    []byte    `cbor:"2,keyasint,omitempty"`
	Vis       VisChange `cbor:"3,keyasint,omitempty"`
	VisEntity uint64    `cbor:"4,keyasint,omitempty"`
	VisType   string    `cbor:"5,keyasint,omitempty"`
}

// GateBatch is everything one game sends one gate in one tick. Items are
// delivered in order. PosRecords is a concatenation of PositionRecordSize
// binary records (AppendPositionRecord); PosClients[i] lists the clients that
// receive record i: the gate appends each record to each recipient's
// PositionSync of this batch (AppendPositionBatchRaw) after the items. A batch
// must fit in the internal maximum frame size; a game splits larger ticks
// into several batches.
type GateBatch struct {
	Gate       uint16      `cbor:"1,keyasint,omitempty"`
	Game       uint16      `cbor:"2,keyasint,omitempty"`
	Items      []BatchItem `cbor:"3,keyasint,omitempty"`
	PosRecords []byte      `cbor:"4,keyasint,omitempty"`
	PosClients [][]uint64  `cbor:"5,keyasint,omitempty"`
}

// SyncFromClient forwards a client's move of its own entity (gate → entity's
// game, through Shard(Record.Entity)). Fixed binary: Client (8 bytes) then
// one position record.
type SyncFromClient struct {
	Client uint64
	Record PositionRecord
}

// ---- internal: services ----

// ServiceRegister claims a cluster-wide service name for Entity (first writer
// wins). Sent to dispatcher ShardString(Name).
type ServiceRegister struct {
	Name   string `cbor:"1,keyasint,omitempty"`
	Entity uint64 `cbor:"2,keyasint,omitempty"`
}

// ServiceRegistered answers a ServiceRegister: Entity is the service's
// holder, Won whether the registrant's entity is it.
type ServiceRegistered struct {
	Name   string `cbor:"1,keyasint,omitempty"`
	Entity uint64 `cbor:"2,keyasint,omitempty"`
	Won    bool   `cbor:"3,keyasint,omitempty"`
}

// ServiceLookup asks for the entity holding Name.
type ServiceLookup struct {
	Name   string `cbor:"1,keyasint,omitempty"`
	CallID uint64 `cbor:"2,keyasint,omitempty"`
}

// ServiceLookupReply answers a ServiceLookup; Entity 0 means not registered.
type ServiceLookupReply struct {
	Name   string `cbor:"1,keyasint,omitempty"`
	CallID uint64 `cbor:"2,keyasint,omitempty"`
	Entity uint64 `cbor:"3,keyasint,omitempty"`
}

// ---- internal: migration ----

// MigrateRequest (game From → Entity's dispatcher) starts moving Entity to
// Space on game To; the dispatcher holds Entity's traffic from now on.
type MigrateRequest struct {
	Entity uint64 `cbor:"1,keyasint,omitempty"`
	From   uint16 `cbor:"2,keyasint,omitempty"`
	To     uint16 `cbor:"3,keyasint,omitempty"`
	Space  uint64 `cbor:"4,keyasint,omitempty"`
}

// MigrateHold acknowledges a MigrateRequest: traffic is held.
type MigrateHold struct {
	Entity uint64 `cbor:"1,keyasint,omitempty"`
}

// MigrateData carries the encoded entity (Blob, opaque) to game To.
type MigrateData struct {
	Entity uint64 `cbor:"1,keyasint,omitempty"`
	Space  uint64 `cbor:"2,keyasint,omitempty"`
	To     uint16 `cbor:"3,keyasint,omitempty"`
	Blob   []byte `cbor:"4,keyasint,omitempty"`
}

// MigrateDone: Entity now lives on Game; the dispatcher re-routes and
// flushes what it held, in order.
type MigrateDone struct {
	Entity uint64 `cbor:"1,keyasint,omitempty"`
	Game   uint16 `cbor:"2,keyasint,omitempty"`
}

// ---- internal: freeze (hot swap) ----

// FreezeRequest: Game is about to freeze; dispatchers queue its traffic.
type FreezeRequest struct {
	Game uint16 `cbor:"1,keyasint,omitempty"`
}

// FreezeAck: Dispatcher is queueing Game's traffic (one of the barrier).
type FreezeAck struct {
	Dispatcher uint16 `cbor:"1,keyasint,omitempty"`
	Game       uint16 `cbor:"2,keyasint,omitempty"`
}

// FreezeResume: Game is live again (a restored game after HelloAck, or a
// game that aborted its freeze); dispatchers flush its queue in order.
type FreezeResume struct {
	Game uint16 `cbor:"1,keyasint,omitempty"`
}

// GameLoad is a game's periodic load report for least-loaded placement.
// Load is the fraction of the tick budget used (0..1, may exceed 1).
type GameLoad struct {
	Game     uint16  `cbor:"1,keyasint,omitempty"`
	Load     float32 `cbor:"2,keyasint,omitempty"`
	Entities uint32  `cbor:"3,keyasint,omitempty"`
	Clients  uint32  `cbor:"4,keyasint,omitempty"`
}

// ---- client links ----

// ClientHello is a client's first message (send it at once: a KCP server
// sees a session only after its first datagram).
type ClientHello struct {
	Version uint32 `cbor:"1,keyasint,omitempty"`
	Token   string `cbor:"2,keyasint,omitempty"`
	Role    string `cbor:"3,keyasint,omitempty"`
}

// ClientWelcome answers ClientHello with the client's id and how often the
// client must send a Heartbeat when otherwise idle.
type ClientWelcome struct {
	Client      uint64 `cbor:"1,keyasint,omitempty"`
	HeartbeatMs uint32 `cbor:"2,keyasint,omitempty"`
	Version     uint32 `cbor:"3,keyasint,omitempty"`
}

// ClientCall is a client's call of Method on Entity. CallID non-zero asks for
// a ClientCallReply.
type ClientCall struct {
	Entity uint64 `cbor:"1,keyasint,omitempty"`
	Method string `cbor:"2,keyasint,omitempty"`
	Args   []byte `cbor:"3,keyasint,omitempty"`
	CallID uint64 `cbor:"4,keyasint,omitempty"`
}

// ClientCallReply answers a ClientCall.
type ClientCallReply struct {
	CallID uint64 `cbor:"1,keyasint,omitempty"`
	Result []byte `cbor:"2,keyasint,omitempty"`
	Error  string `cbor:"3,keyasint,omitempty"`
}

// CreateEntity: the client now sees Entity (IsPlayer: it is the client's
// own). Attrs holds the attributes this client may see.
type CreateEntity struct {
	Entity   uint64         `cbor:"1,keyasint,omitempty"`
	Type     string         `cbor:"2,keyasint,omitempty"`
	Pos      Vec3           `cbor:"3,keyasint"`
	Yaw      float32        `cbor:"4,keyasint,omitempty"`
	Attrs    map[string]any `cbor:"5,keyasint,omitempty"`
	IsPlayer bool           `cbor:"6,keyasint,omitempty"`
}

// DestroyEntity: the client no longer sees Entity.
type DestroyEntity struct {
	Entity uint64 `cbor:"1,keyasint,omitempty"`
}

// AttrOp is one attribute change.
type AttrOp uint8

// Attribute operations. Path elements are strings (map keys) or non-negative
// integers (list indexes; they decode as uint64).
const (
	// AttrSet sets the value at Path (creating map keys as needed).
	AttrSet AttrOp = 1
	// AttrDelete removes the map key or list element at Path.
	AttrDelete AttrOp = 2
	// AttrAppend appends Value to the list at Path.
	AttrAppend AttrOp = 3
)

// AttrChange is one change of an attribute tree.
type AttrChange struct {
	Op    AttrOp `cbor:"1,keyasint,omitempty"`
	Path  []any  `cbor:"2,keyasint,omitempty"`
	Value any    `cbor:"3,keyasint,omitempty"`
}

// AttrDelta is a tick's attribute changes of one entity, in order.
type AttrDelta struct {
	Entity  uint64       `cbor:"1,keyasint,omitempty"`
	Changes []AttrChange `cbor:"2,keyasint,omitempty"`
}

// CallClient calls a method of the client-side entity (server → client).
type CallClient struct {
	Entity uint64 `cbor:"1,keyasint,omitempty"`
	Method string `cbor:"2,keyasint,omitempty"`
	Args   []byte `cbor:"3,keyasint,omitempty"`
}

// PositionSync (server → client) is a binary position batch.
type PositionSync struct {
	Records []PositionRecord
}

// ClientMove (client → server) is a binary position batch of the client's
// own entity, normally one record.
type ClientMove struct {
	Records []PositionRecord
}

// Disconnect tells the peer why the link is about to close.
type Disconnect struct {
	Reason string `cbor:"1,keyasint,omitempty"`
	Code   uint16 `cbor:"2,keyasint,omitempty"`
}

// Disconnect codes.
const (
	DisconnectNormal     uint16 = 0
	DisconnectBadInput   uint16 = 1
	DisconnectKicked     uint16 = 2
	DisconnectShutdown   uint16 = 3
	DisconnectIdle       uint16 = 4
	DisconnectBadVersion uint16 = 5
)

// MsgType methods: one per message, tying each struct to its wire number.

// MsgType implements Message.
func (*Hello) MsgType() MsgType { return MsgHello }

// MsgType implements Message.
func (*HelloAck) MsgType() MsgType { return MsgHelloAck }

// MsgType implements Message.
func (*HelloReject) MsgType() MsgType { return MsgHelloReject }

// MsgType implements Message.
func (*Heartbeat) MsgType() MsgType { return MsgHeartbeat }

// MsgType implements Message.
func (*TypeSchema) MsgType() MsgType { return MsgTypeSchema }

// MsgType implements Message.
func (*CreateEntityAnywhere) MsgType() MsgType { return MsgCreateEntityAnywhere }

// MsgType implements Message.
func (*CreateEntityOnGame) MsgType() MsgType { return MsgCreateEntityOnGame }

// MsgType implements Message.
func (*EntityCreated) MsgType() MsgType { return MsgEntityCreated }

// MsgType implements Message.
func (*EntityDestroyed) MsgType() MsgType { return MsgEntityDestroyed }

// MsgType implements Message.
func (*CallEntity) MsgType() MsgType { return MsgCallEntity }

// MsgType implements Message.
func (*CallReply) MsgType() MsgType { return MsgCallReply }

// MsgType implements Message.
func (*ClientConnected) MsgType() MsgType { return MsgClientConnected }

// MsgType implements Message.
func (*ClientDisconnected) MsgType() MsgType { return MsgClientDisconnected }

// MsgType implements Message.
func (*GateDown) MsgType() MsgType { return MsgGateDown }

// MsgType implements Message.
func (*ClientBound) MsgType() MsgType { return MsgClientBound }

// MsgType implements Message.
func (*KickClient) MsgType() MsgType { return MsgKickClient }

// MsgType implements Message.
func (*GateBatch) MsgType() MsgType { return MsgGateBatch }

// MsgType implements Message.
func (*SyncFromClient) MsgType() MsgType { return MsgSyncFromClient }

// MsgType implements Message.
func (*ServiceRegister) MsgType() MsgType { return MsgServiceRegister }

// MsgType implements Message.
func (*ServiceRegistered) MsgType() MsgType { return MsgServiceRegistered }

// MsgType implements Message.
func (*ServiceLookup) MsgType() MsgType { return MsgServiceLookup }

// MsgType implements Message.
func (*ServiceLookupReply) MsgType() MsgType { return MsgServiceLookupReply }

// MsgType implements Message.
func (*MigrateRequest) MsgType() MsgType { return MsgMigrateRequest }

// MsgType implements Message.
func (*MigrateHold) MsgType() MsgType { return MsgMigrateHold }

// MsgType implements Message.
func (*MigrateData) MsgType() MsgType { return MsgMigrateData }

// MsgType implements Message.
func (*MigrateDone) MsgType() MsgType { return MsgMigrateDone }

// MsgType implements Message.
func (*FreezeRequest) MsgType() MsgType { return MsgFreezeRequest }

// MsgType implements Message.
func (*FreezeAck) MsgType() MsgType { return MsgFreezeAck }

// MsgType implements Message.
func (*FreezeResume) MsgType() MsgType { return MsgFreezeResume }

// MsgType implements Message.
func (*GameLoad) MsgType() MsgType { return MsgGameLoad }

// MsgType implements Message.
func (*ClientHello) MsgType() MsgType { return MsgClientHello }

// MsgType implements Message.
func (*ClientWelcome) MsgType() MsgType { return MsgClientWelcome }

// MsgType implements Message.
func (*ClientCall) MsgType() MsgType { return MsgClientCall }

// MsgType implements Message.
func (*ClientCallReply) MsgType() MsgType { return MsgClientCallReply }

// MsgType implements Message.
func (*CreateEntity) MsgType() MsgType { return MsgCreateEntity }

// MsgType implements Message.
func (*DestroyEntity) MsgType() MsgType { return MsgDestroyEntity }

// MsgType implements Message.
func (*AttrDelta) MsgType() MsgType { return MsgAttrDelta }

// MsgType implements Message.
func (*CallClient) MsgType() MsgType { return MsgCallClient }

// MsgType implements Message.
func (*PositionSync) MsgType() MsgType { return MsgPositionSync }

// MsgType implements Message.
func (*ClientMove) MsgType() MsgType { return MsgClientMove }

// MsgType implements Message.
func (*Disconnect) MsgType() MsgType { return MsgDisconnect }

// newMessage returns a zero message of type t, or nil if t is unknown.
func newMessage(t MsgType) Message {
	switch t {
	case MsgHeartbeat:
		return new(Heartbeat)
	case MsgHello:
		return new(Hello)
	case MsgHelloAck:
		return new(HelloAck)
	case MsgHelloReject:
		return new(HelloReject)
	case MsgTypeSchema:
		return new(TypeSchema)
	case MsgCreateEntityAnywhere:
		return new(CreateEntityAnywhere)
	case MsgCreateEntityOnGame:
		return new(CreateEntityOnGame)
	case MsgEntityCreated:
		return new(EntityCreated)
	case MsgEntityDestroyed:
		return new(EntityDestroyed)
	case MsgCallEntity:
		return new(CallEntity)
	case MsgCallReply:
		return new(CallReply)
	case MsgClientConnected:
		return new(ClientConnected)
	case MsgClientDisconnected:
		return new(ClientDisconnected)
	case MsgGateDown:
		return new(GateDown)
	case MsgClientBound:
		return new(ClientBound)
	case MsgKickClient:
		return new(KickClient)
	case MsgGateBatch:
		return new(GateBatch)
	case MsgSyncFromClient:
		return new(SyncFromClient)
	case MsgServiceRegister:
		return new(ServiceRegister)
	case MsgServiceRegistered:
		return new(ServiceRegistered)
	case MsgServiceLookup:
		return new(ServiceLookup)
	case MsgServiceLookupReply:
		return new(ServiceLookupReply)
	case MsgMigrateRequest:
		return new(MigrateRequest)
	case MsgMigrateHold:
		return new(MigrateHold)
	case MsgMigrateData:
		return new(MigrateData)
	case MsgMigrateDone:
		return new(MigrateDone)
	case MsgFreezeRequest:
		return new(FreezeRequest)
	case MsgFreezeAck:
		return new(FreezeAck)
	case MsgFreezeResume:
		return new(FreezeResume)
	case MsgGameLoad:
		return new(GameLoad)
	case MsgClientHello:
		return new(ClientHello)
	case MsgClientWelcome:
		return new(ClientWelcome)
	case MsgClientCall:
		return new(ClientCall)
	case MsgClientCallReply:
		return new(ClientCallReply)
	case MsgCreateEntity:
		return new(CreateEntity)
	case MsgDestroyEntity:
		return new(DestroyEntity)
	case MsgAttrDelta:
		return new(AttrDelta)
	case MsgCallClient:
		return new(CallClient)
	case MsgPositionSync:
		return new(PositionSync)
	case MsgClientMove:
		return new(ClientMove)
	case MsgDisconnect:
		return new(Disconnect)
	}
	return nil
}
