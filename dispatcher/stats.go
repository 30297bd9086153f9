package dispatcher

import (
	"sync/atomic"
	"time"

	"github.com/ecsworld/ecsworld/netproto"
)

// Reasons a message is dropped (not delivered). They are the keys of
// Stats.Dropped.
const (
	// DropUnknownGame: the destination game is neither connected nor frozen.
	DropUnknownGame = "unknown_game"
	// DropUnknownGate: the destination gate is not connected.
	DropUnknownGate = "unknown_gate"
	// DropNoGame: placement found no game at all.
	DropNoGame = "no_game"
	// DropBadMessage: the payload did not decode or lacks a routing key.
	DropBadMessage = "bad_message"
	// DropBadRole: the sender's role may not send this type.
	DropBadRole = "bad_role"
	// DropBadSender: the message claims to be from another process than
	// the link's (a gate speaking for another gate or for a game).
	DropBadSender = "bad_sender"
	// DropUnknownType: a type outside the catalogue.
	DropUnknownType = "unknown_type"
	// DropWrongShard: a route update for an entity of another dispatcher's
	// shard (kept there, never here).
	DropWrongShard = "wrong_shard"
	// DropLinkFailed: the destination link failed while sending.
	DropLinkFailed = "link_failed"
	// DropSlowConsumer: the destination's send backlog passed its cap; the
	// link was closed.
	DropSlowConsumer = "slow_consumer"
	// DropLinkLost: frames still unsent when a link closed.
	DropLinkLost = "link_lost"
	// DropQueueDiscarded: a frozen game's queue, discarded because the game
	// came back without Restored (a fresh start, its old world gone).
	DropQueueDiscarded = "queue_discarded"
)

// dropReason indexes the drop counters; dropNames maps it to the Drop*
// names.
type dropReason uint8

const (
	dropUnknownGame dropReason = iota
	dropUnknownGate
	dropNoGame
	dropBadMessage
	dropBadRole
	dropBadSender
	dropUnknownType
	dropWrongShard
	dropLinkFailed
	dropSlowConsumer
	dropLinkLost
	dropQueueDiscarded
	numDropReasons
)

var dropNames = [numDropReasons]string{
	DropUnknownGame, DropUnknownGate, DropNoGame, DropBadMessage, DropBadRole,
	DropBadSender, DropUnknownType, DropWrongShard, DropLinkFailed,
	DropSlowConsumer, DropLinkLost, DropQueueDiscarded,
}

func (r dropReason) String() string { return dropNames[r] }

// Reasons a Hello is refused: the keys of Stats.Rejected.
const (
	RejectBadSecret  = "bad_secret"
	RejectDuplicate  = "duplicate"
	RejectBadRole    = "bad_role"
	RejectBadID      = "bad_id"
	RejectBadVersion = "bad_version"
	RejectNotHello   = "not_hello"
	RejectBadHello   = "bad_hello"
	RejectNoHello    = "no_hello" // closed or timed out before a Hello
	RejectBusy       = "busy"     // too many links waiting for their Hello
)

// rejectReason indexes the handshake rejection counters.
type rejectReason uint8

const (
	rejectBadSecret rejectReason = iota
	rejectDuplicate
	rejectBadRole
	rejectBadID
	rejectBadVersion
	rejectNotHello
	rejectBadHello
	rejectNoHello
	rejectBusy
	numRejectReasons
)

var rejectNames = [numRejectReasons]string{
	RejectBadSecret, RejectDuplicate, RejectBadRole, RejectBadID,
	RejectBadVersion, RejectNotHello, RejectBadHello, RejectNoHello, RejectBusy,
}

func (r rejectReason) String() string { return rejectNames[r] }

// Traffic is a count of messages and their bytes (netproto.Traffic).
type Traffic = netproto.Traffic

// QueueStats describes one queue of held traffic: a frozen game's, or a
// migrating entity's.
type QueueStats struct {
	// Game is the frozen game, or the migration's destination.
	Game uint16
	// Entity is the migrating entity (0 for a freeze queue).
	Entity uint64
	Msgs   int
	Bytes  int
	// Age is how long the queue has been kept.
	Age time.Duration
	// Connected: the frozen game's old link is still up (it has not exited
	// yet).
	Connected bool
}

// Stats is a snapshot of a dispatcher's counters and gauges (Stats()).
// Counters only grow; gauges are the state at the time of the call.
type Stats struct {
	// In and Out count frames received and sent, by message type name.
	In  map[string]Traffic
	Out map[string]Traffic
	// Dropped counts messages not delivered, by reason (Drop*).
	Dropped map[string]uint64
	// Rejected counts refused handshakes, by reason (Reject*).
	Rejected map[string]uint64
	// ErrorReplies counts CallReply{Error} sent for undeliverable calls.
	ErrorReplies uint64
	// Accepted counts accepted handshakes; Restored those that took over a
	// frozen game.
	Accepted uint64
	Restored uint64
	// Placed counts entities placed by load (CreateEntityAnywhere and
	// client boot entities).
	Placed uint64
	// WrongShard counts messages about an entity or service that belongs
	// to another dispatcher's shard (a peer with another dispatcher list).
	// Route updates among them are dropped (Dropped[wrong_shard]); calls
	// and service requests are still served.
	WrongShard uint64
	// QueueAlerts counts the loud reports of a held queue kept longer than
	// the frozen queue timeout (OverTime) or holding more messages than the
	// cap (OverCap). Both kinds of queue are always kept.
	QueueAlertsOverTime uint64
	QueueAlertsOverCap  uint64

	// Gauges.
	Games       int // connected games (a frozen game whose link is up included)
	FrozenGames int
	Gates       int
	Routes      int // entity routes of this shard
	Services    int
	// Queued is the number of messages held in freeze queues and migration
	// holds together; Queues lists each.
	Queued int
	Queues []QueueStats
	// Handshakes is the number of links waiting for their Hello.
	Handshakes int
	// Backlog is the number of bytes accepted for sending but not yet
	// handed to a link, over all links (a slow peer or a large flush).
	Backlog int
}

// counters are the dispatcher's cumulative counters: atomics, so reader
// goroutines count without taking the routing lock.
type counters struct {
	in, out       [256]traffic // by message type; every internal type is < 0x100
	inX, outX     traffic      // any other type
	dropped       [numDropReasons]atomic.Uint64
	rejected      [numRejectReasons]atomic.Uint64
	errorReplies  atomic.Uint64
	accepted      atomic.Uint64
	restored      atomic.Uint64
	placed        atomic.Uint64
	wrongShard    atomic.Uint64
	alertOverTime atomic.Uint64
	alertOverCap  atomic.Uint64
}

type traffic struct {
	msgs, bytes atomic.Uint64
}

func (t *traffic) add(n int) {
	t.msgs.Add(1)
	t.bytes.Add(uint64(n))
}

func (c *counters) countIn(typ netproto.MsgType, payloadLen int) {
	if typ < 256 {
		c.in[typ].add(netproto.FrameHeaderSize + payloadLen)
		return
	}
	c.inX.add(netproto.FrameHeaderSize + payloadLen)
}

func (c *counters) countOut(typ netproto.MsgType, payloadLen int) {
	if typ < 256 {
		c.out[typ].add(netproto.FrameHeaderSize + payloadLen)
		return
	}
	c.outX.add(netproto.FrameHeaderSize + payloadLen)
}

// countOutFrames counts every frame of a buffer of whole frames.
func (c *counters) countOutFrames(frames []byte) {
	for len(frames) > 0 {
		typ, payload, rest, err := netproto.SplitFrame(frames, 1<<30)
		if err != nil {
			return
		}
		c.countOut(typ.Base(), len(payload))
		frames = rest
	}
}

func (c *counters) drop(r dropReason, n int) { c.dropped[r].Add(uint64(n)) }

func (c *counters) reject(r rejectReason) { c.rejected[r].Add(1) }

// snapshot fills the counter part of a Stats.
func (c *counters) snapshot(s *Stats) {
	s.In = trafficMap(&c.in, &c.inX)
	s.Out = trafficMap(&c.out, &c.outX)
	s.Dropped = make(map[string]uint64)
	for i, r := range dropNames {
		if n := c.dropped[i].Load(); n > 0 {
			s.Dropped[r] = n
		}
	}
	s.Rejected = make(map[string]uint64)
	for i, r := range rejectNames {
		if n := c.rejected[i].Load(); n > 0 {
			s.Rejected[r] = n
		}
	}
	s.ErrorReplies = c.errorReplies.Load()
	s.Accepted = c.accepted.Load()
	s.Restored = c.restored.Load()
	s.Placed = c.placed.Load()
	s.WrongShard = c.wrongShard.Load()
	s.QueueAlertsOverTime = c.alertOverTime.Load()
	s.QueueAlertsOverCap = c.alertOverCap.Load()
}

func trafficMap(a *[256]traffic, other *traffic) map[string]Traffic {
	m := make(map[string]Traffic)
	for i := range a {
		if n := a[i].msgs.Load(); n > 0 {
			m[netproto.MsgType(i).String()] = Traffic{Msgs: n, Bytes: a[i].bytes.Load()}
		}
	}
	if n := other.msgs.Load(); n > 0 {
		m["other"] = Traffic{Msgs: n, Bytes: other.bytes.Load()}
	}
	return m
}
