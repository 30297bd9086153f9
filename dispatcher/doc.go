// Package dispatcher is the router of an ecsworld cluster: games and gates
// connect to every dispatcher, and each dispatcher routes the traffic of its
// shard of entities (docs/cluster.md is the contract).
//
//	d, err := dispatcher.New(cluster, id, dispatcher.WithLogger(log))
//	// d.Addr() is the bound address (port 0 picks one)
//	err = d.Serve(ctx) // until ctx ends; Run(ctx, cluster, id) does both
//
// # What it keeps
//
// Under one lock: the connected games and gates, entity → game for the
// entities of its shard (EntityCreated, EntityDestroyed, MigrateDone), the
// games' load reports, the service names, the migration holds and the
// frozen games' queues. Each link has a reader goroutine (it decodes only
// the routing keys of a message, decides under the lock, and queues the
// original payload on the destination link, never re-encoding it) and a
// writer goroutine (it flushes, so sends from many readers coalesce, and
// sends Heartbeat on an idle link). Routing and queueing under one lock
// means traffic from one link reaches each destination in the order it
// was sent, held and queued traffic included.
//
// Counters (messages and bytes per type, drops by reason, refused
// handshakes, queue alerts) and gauges are read with Stats.
//
// # Choices where docs/cluster.md is silent
//
//   - Hello.Version 0 is taken as "unspecified" and accepted; any other
//     version than netproto.ProtocolVersion is refused.
//   - A restored game's queue is flushed right after its HelloAck (and the
//     TypeSchema update to the gates). FreezeResume flushes it on the same
//     link (a game that aborted its freeze); after a restore it is a no-op.
//   - FreezeAck is sent on the game's link once queueing has started, after
//     everything routed to it before: the game has all of it when the ack
//     arrives. Answers to the game's own requests (CallReply,
//     ServiceLookupReply, ServiceRegistered) still reach it while its link
//     is up, so it can finish its calls before it writes its snapshot; once
//     the link is gone they are queued with the rest. Everything else the
//     dispatcher itself sends a frozen game (MigrateHold, and so on) is
//     queued.
//   - A game that connects without Restored on a frozen id: refused as a
//     duplicate while the frozen link is still up; otherwise it is a fresh
//     start, so the frozen queue is discarded loudly (counted as
//     queue_discarded, calls in it answered with errors) and the old
//     game's routes and services are dropped.
//   - A frozen game's queue, and a migration hold, kept longer than
//     FrozenQueueTimeout or holding more than FrozenQueueMax messages is
//     reported at error level and counted (QueueAlertsOverTime/OverCap),
//     again every FrozenQueueTimeout while it lasts, and always kept.
//   - Placement (CreateEntityAnywhere, ClientConnected) is accepted by any
//     dispatcher and picks the least loaded live game: last GameLoad.Load
//     plus the entities placed since, each at the game's reported cost per
//     entity (Load/Entities); a game reporting no load counts 1e-4 per
//     entity. Ties: fewer entities, then lower id. Frozen
//     games are used only when no live game exists. With no game at all a
//     new client is kicked (KickClient to its gate, "no game available").
//   - ClientDisconnected with Entity 0 (a client that left before its boot
//     entity was bound) goes to every game; the ones that do not know the
//     client ignore it.
//   - Calls, migration and service messages that reach the wrong shard are
//     served and counted (WrongShard); route updates for another shard are
//     dropped (a route stored here would never be cleaned up).
//   - A message names its sender's game (EntityCreated.Game, ...): the link
//     is authoritative; a mismatch is logged. A gate may only call with
//     Caller{Kind: client, Gate: itself} and announce its own clients;
//     anything else is refused (bad_sender, error reply for a call).
//     EntityDestroyed removes a route only if it points to its sender.
//   - A message that does not decode, or that the sender's role may not
//     send, is dropped and counted; the link stays up (the peer is
//     authenticated; framing errors close the link in netproto).
//   - When a game leaves without freezing, its routes and services are
//     dropped, and migrations towards it are released to normal routing.
//     A migration from it whose MigrateData did not go through here (it
//     may have gone through the gate's dispatcher) waits three janitor
//     periods (at least 100 ms) for the destination's MigrateDone, then is
//     released too; at once if the destination is gone as well.
//     There is no "game down" message in the protocol, and the dispatcher
//     does not track calls in flight: a caller needs its own call timeout.
//   - A destination that does not keep up: sends beyond the link's buffer
//     wait in a per-link backlog (WithMaxBacklog, default 64 MiB); past it
//     the link is closed as a slow consumer rather than left with a gap.
//   - At most 256 links may wait for their Hello at once (each waits up to
//     the idle timeout); more are closed at once and counted (busy).
//   - MigrateData is not held (it is the migration itself); it goes to its
//     To game, queued if that game is frozen.
package dispatcher
