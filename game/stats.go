package game

import (
	"sync/atomic"

	"github.com/ecsworld/ecsworld/netproto"
	"github.com/ecsworld/ecsworld/systems"
)

// counters are the game's counters: atomics, so Stats may read them from
// any goroutine while the tick and the links write them.
type counters struct {
	msgsIn, msgsOut, dropped, badMessages, refused          atomic.Uint64
	batchesOut, framesOut, positionsOut                     atomic.Uint64
	badFrames, badPositions, clientMoves                    atomic.Uint64
	callTimeouts, bootFailures, createFailures              atomic.Uint64
	migratedOut, migratedIn, migrateAborts, migrateFailures atomic.Uint64
	hookPanics, dialErrors, backlogged                      atomic.Uint64
	freezeAborts, frozenReplies                             atomic.Uint64
	connected                                               atomic.Int64
	entities, spaces, clients                               atomic.Int64
	in, out                                                 typeCounts // by message type, on dispatcher links
}

// Stats is a copy of the game's counters and tick timings, for the metrics
// exporter and `ecsworld status`. Counters count since New.
type Stats struct {
	// Tick is the last tick run; Scheduler has every stage's time per tick.
	Tick      uint64
	Scheduler systems.SchedulerStats
	// RPC and Timers count dispatched calls and fired timers by outcome.
	RPC, Timers systems.RPCStats
	AOI         systems.AOIStats
	// Entities, Spaces and Clients (bound entities) as of the last tick.
	Entities, Spaces, Clients int
	// Dispatchers is how many are configured, Connected how many are up.
	Dispatchers, Connected int
	// MsgsIn and MsgsOut count messages from and to dispatchers; In and
	// Out split them by type, with their bytes.
	MsgsIn, MsgsOut uint64
	In, Out         map[netproto.MsgType]Traffic
	// Dropped: messages not sent (link down with a full backlog, queue
	// full, unknown service). Backlogged: messages kept while their link
	// was down, sent when it came back.
	Dropped, Backlogged uint64
	// BadMessages: received messages that did not decode. Refused:
	// messages that decoded but could not be used (a reply for no call, a
	// move of an entity the client does not own).
	BadMessages, Refused uint64
	// BatchesOut, FramesOut and PositionsOut: gate batches sent, client
	// frames encoded (each once), position records per gate.
	BatchesOut, FramesOut, PositionsOut uint64
	// BadFrames and BadPositions: client frames and records that could not
	// be encoded (too large, not finite).
	BadFrames, BadPositions uint64
	ClientMoves             uint64
	CallTimeouts            uint64
	BootFailures            uint64
	CreateFailures          uint64
	MigratedOut, MigratedIn uint64
	MigrateAborts           uint64 // migrations cancelled here; the entity stayed
	MigrateFailures         uint64 // arriving entities that could not be restored
	HookPanics              uint64
	DialErrors              uint64
	// FreezeAborts: freezes given up (an ack missing within
	// Config.FreezeTimeout, a snapshot not written); the game carried on.
	FreezeAborts uint64
	// FrozenReplies: replies that reached a restored game for calls its
	// frozen predecessor made (their callbacks went with it): dropped.
	FrozenReplies uint64
	// Observers are the clients watching this game's spaces (the live
	// map); ObserverFrames counts the view frames encoded (each once), and
	// ObserverTruncated the entities left out of rounds over
	// MaxObservedEntities.
	Observers                         int
	ObserverFrames, ObserverTruncated uint64
}

// Stats returns the counters. Safe from any goroutine.
func (g *Game) Stats() Stats {
	c := &g.st
	sched := g.sched.Stats()
	return Stats{
		Tick: sched.Tick, Scheduler: sched,
		RPC: g.rpc.Stats(), Timers: g.timers.Stats(), AOI: g.aoi.Stats(),
		Entities: int(c.entities.Load()), Spaces: int(c.spaces.Load()), Clients: int(c.clients.Load()),
		Dispatchers: len(g.links), Connected: int(c.connected.Load()),
		MsgsIn: c.msgsIn.Load(), MsgsOut: c.msgsOut.Load(), In: c.in.snapshot(), Out: c.out.snapshot(), Dropped: c.dropped.Load(), Backlogged: c.backlogged.Load(),
		BadMessages: c.badMessages.Load(), Refused: c.refused.Load(),
		BatchesOut: c.batchesOut.Load(), FramesOut: c.framesOut.Load(), PositionsOut: c.positionsOut.Load(),
		BadFrames: c.badFrames.Load(), BadPositions: c.badPositions.Load(), ClientMoves: c.clientMoves.Load(),
		CallTimeouts: c.callTimeouts.Load(), BootFailures: c.bootFailures.Load(), CreateFailures: c.createFailures.Load(),
		MigratedOut: c.migratedOut.Load(), MigratedIn: c.migratedIn.Load(),
		MigrateAborts: c.migrateAborts.Load(), MigrateFailures: c.migrateFailures.Load(),
		HookPanics: c.hookPanics.Load(), DialErrors: c.dialErrors.Load(), FreezeAborts: c.freezeAborts.Load(), FrozenReplies: c.frozenReplies.Load(),
		Observers: int(g.obs.n.Load()), ObserverFrames: g.obs.frames.Load(), ObserverTruncated: g.obs.truncated.Load(),
	}
}
