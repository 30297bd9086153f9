package gate

import (
	"sync/atomic"

	"github.com/ecsworld/ecsworld/netproto"
)

// Traffic is a count of messages and their bytes (netproto.Traffic).
type Traffic = netproto.Traffic

// Stats is a snapshot of a gate's counters. Maps hold only non-zero
// entries; every reason string is one of the Reason constants.
type Stats struct {
	// Clients is the number of clients connected now (welcomed, not yet
	// gone); ClientsByTransport splits it by "kcp", "tcp" and "ws".
	Clients            int
	ClientsByTransport map[string]int
	// Accepted counts clients welcomed since the gate started.
	Accepted uint64
	// Dispatchers is how many dispatchers the gate dials, DispatchersUp how
	// many links are up (handshake done).
	Dispatchers   int
	DispatchersUp int
	// ClientIn and ClientOut count messages by type on client links;
	// DispatcherIn and DispatcherOut on dispatcher links. Types the gate
	// does not know are counted under netproto.MsgType(0).
	ClientIn      map[netproto.MsgType]Traffic
	ClientOut     map[netproto.MsgType]Traffic
	DispatcherIn  map[netproto.MsgType]Traffic
	DispatcherOut map[netproto.MsgType]Traffic
	// Disconnects counts client disconnections by reason (DisconnectXxx).
	Disconnects map[string]uint64
	// Refused counts client calls and moves refused by reason (RefusedXxx).
	Refused map[string]uint64
	// Dropped counts messages from dispatchers the gate could not use, by
	// reason (DroppedXxx).
	Dropped map[string]uint64
}

// Reasons a client is disconnected (Stats.Disconnects keys).
const (
	DisconnectNormal        = "normal"            // the client said Disconnect or closed
	DisconnectIdle          = "idle"              // nothing received for the idle timeout
	DisconnectHelloTimeout  = "hello_timeout"     // no ClientHello in time
	DisconnectBadHello      = "bad_hello"         // first message not a valid ClientHello
	DisconnectBadVersion    = "bad_version"       // unsupported protocol version
	DisconnectBadRole       = "bad_role"          // unknown role or wrong observer token
	DisconnectFrameTooLarge = "frame_too_large"   // frame over the client MaxFrame
	DisconnectTruncated     = "truncated"         // stream or payload ended inside a message
	DisconnectMalformed     = "malformed"         // bytes that are no valid frame or message
	DisconnectUnknownType   = "unknown_type"      // a type not in the catalogue
	DisconnectNotFromClient = "not_from_client"   // a known type a client may not send
	DisconnectRateLimit     = "rate_limit"        // over MaxMsgsPerSecond
	DisconnectMoveAbuse     = "move_violations"   // repeated refused moves
	DisconnectKicked        = "kicked"            // KickClient from a game
	DisconnectSlow          = "slow"              // send queue full or write failed
	DisconnectUnavailable   = "unavailable"       // a dispatcher it needs is down
	DisconnectClusterLost   = "cluster_link_lost" // a dispatcher link dropped
	DisconnectShutdown      = "shutdown"          // the gate is stopping
	DisconnectLinkError     = "link_error"        // any other transport error
	DisconnectBusy          = "too_many_pending"  // over the cap of connections before hello
	DisconnectFull          = "gate_full"         // over the cap of clients
)

// Reasons a client call or move is refused (Stats.Refused keys).
const (
	RefusedNotVisible     = "call_not_visible"  // target unknown to or unseen by the client
	RefusedNotCallable    = "call_not_callable" // method server-only, unknown, or type unknown
	RefusedNotOwner       = "call_not_owner"    // OwnClient method on another entity
	RefusedUnavailable    = "call_unavailable"  // the target's dispatcher is down
	RefusedMoveNotAllowed = "move_not_allowed"  // no own entity, or not client-moved
	RefusedMoveEntity     = "move_wrong_entity" // a record for another entity
	RefusedMoveTooFast    = "move_too_fast"     // over the speed limit
)

// Reasons a message from a dispatcher is dropped (Stats.Dropped keys).
const (
	DroppedDecode        = "decode_error"    // undecodable message from a dispatcher
	DroppedWrongGate     = "wrong_gate"      // addressed to another gate
	DroppedUnknownClient = "unknown_client"  // the client is not (or no longer) here
	DroppedBadFrames     = "bad_frames"      // a batch item's frames are not valid client frames
	DroppedUnexpected    = "unexpected_type" // a type a gate does not handle
	DroppedUndeliverable = "undeliverable"   // to a dispatcher whose link is down
)

var disconnectReasons = []string{
	DisconnectNormal, DisconnectIdle, DisconnectHelloTimeout, DisconnectBadHello,
	DisconnectBadVersion, DisconnectBadRole, DisconnectFrameTooLarge, DisconnectTruncated,
	DisconnectMalformed, DisconnectUnknownType, DisconnectNotFromClient, DisconnectRateLimit,
	DisconnectMoveAbuse, DisconnectKicked, DisconnectSlow, DisconnectUnavailable,
	DisconnectClusterLost, DisconnectShutdown, DisconnectLinkError, DisconnectBusy, DisconnectFull,
	DisconnectObserverAbuse,
}

var refusedReasons = []string{
	RefusedNotVisible, RefusedNotCallable, RefusedNotOwner, RefusedUnavailable,
	RefusedMoveNotAllowed, RefusedMoveEntity, RefusedMoveTooFast,
	RefusedObserverCall, RefusedObserverMove,
}

var droppedReasons = []string{
	DroppedDecode, DroppedWrongGate, DroppedUnknownClient, DroppedBadFrames,
	DroppedUnexpected, DroppedUndeliverable, DroppedObserverBound,
}

// typeSlots covers message types 0x0000–0x01FF, every type of the catalogue;
// anything above lands in slot 0.
const typeSlots = 0x200

// trafficCounters counts messages and bytes per message type.
type trafficCounters struct {
	msgs  [typeSlots]atomic.Uint64
	bytes [typeSlots]atomic.Uint64
}

func (t *trafficCounters) add(typ netproto.MsgType, msgs, bytes uint64) {
	i := int(typ)
	if i >= typeSlots || !typ.Known() {
		i = 0
	}
	t.msgs[i].Add(msgs)
	t.bytes[i].Add(bytes)
}

func (t *trafficCounters) snapshot() map[netproto.MsgType]Traffic {
	m := make(map[netproto.MsgType]Traffic)
	for i := range t.msgs {
		if n := t.msgs[i].Load(); n != 0 {
			m[netproto.MsgType(i)] = Traffic{Msgs: n, Bytes: t.bytes[i].Load()}
		}
	}
	return m
}

// reasonCounters counts events by a fixed list of reasons.
type reasonCounters struct {
	names []string
	index map[string]int // built once, read-only afterwards
	n     []atomic.Uint64
}

func newReasonCounters(names []string) *reasonCounters {
	r := &reasonCounters{names: names, index: make(map[string]int, len(names)), n: make([]atomic.Uint64, len(names))}
	for i, s := range names {
		r.index[s] = i
	}
	return r
}

func (r *reasonCounters) inc(reason string) {
	if i, ok := r.index[reason]; ok {
		r.n[i].Add(1)
	}
}

func (r *reasonCounters) snapshot() map[string]uint64 {
	m := make(map[string]uint64)
	for i, s := range r.names {
		if v := r.n[i].Load(); v != 0 {
			m[s] = v
		}
	}
	return m
}

// counters are a gate's counters; Stats copies them.
type counters struct {
	accepted      atomic.Uint64
	clientIn      trafficCounters
	clientOut     trafficCounters
	dispatcherIn  trafficCounters
	dispatcherOut trafficCounters
	disconnects   *reasonCounters
	refused       *reasonCounters
	dropped       *reasonCounters
}

func newCounters() *counters {
	return &counters{
		disconnects: newReasonCounters(disconnectReasons),
		refused:     newReasonCounters(refusedReasons),
		dropped:     newReasonCounters(droppedReasons),
	}
}
