// Package game is the game process of an ecsworld cluster as a library: it
// owns an ecs.World and the tick, connects to every dispatcher, and turns
// the wire (docs/cluster.md) into calls, clients and entities.
//
//	g, err := game.New(game.Config{Game: *cluster.Game(1), Dispatchers: cluster.DispatcherAddrs()},
//		game.Setup{Types: []*ecs.EntityType{account, avatar, arena}, Systems: []systems.System{wander}},
//		logger)
//	err = g.Run(ctx)
//
// # Goroutines
//
// The goroutine that calls Run becomes the tick goroutine: it owns the
// world and runs Setup.OnStart, every hook, method and system. One
// goroutine per dispatcher dials, says Hello (with the type schema),
// reads, decodes and puts messages into a bounded inbox; one more per link
// writes what the tick queued (one Flush per tick). Every method of Game
// belongs to the tick goroutine, except Stats and Do, which any goroutine
// may call.
//
// # The tick
//
// The stages run in the order of DESIGN.md: inbox (network messages and
// Do functions), RPC dispatch, timers, user systems, movement, AOI, sync
// (systems.Sync, whose output the game encodes, each client frame once,
// into one GateBatch per gate), outbox (routes, load reports, heartbeats,
// then one flush per link).
//
// # Choices where docs/cluster.md is silent
//
//   - Which dispatcher: traffic about an entity goes to Shard(entity);
//     everything for a gate (GateBatch, ClientBound, KickClient, and
//     CallReply to a gate) to Shard(gate), so a gate sees them in the order
//     they were made; CallReply to a game to Shard(the called entity);
//     services to ShardString(name); GameLoad to every dispatcher.
//   - Routes: EntityCreated is reported for entities created through Game
//     (Create, boot entities, CreateEntityAnywhere/OnGame, migration in);
//     entities made with World.Create directly stay reachable through the
//     origin rule (the high 16 bits of their ID name this game) as long as
//     they do not migrate. EntityDestroyed is reported for reported
//     entities only, and never for an entity that migrated away.
//   - Methods return only an error, so CallReply.Result is always empty; a
//     reply callback gets the error (nil on success). Pending replies time
//     out after Config.CallTimeout.
//   - CreateEntityAnywhere: the caller's game assigns the EntityID (so the
//     caller knows it at once) and sends the request to Shard(that ID).
//   - Migration: the target game of EnterSpace for a space not on this game
//     is the space's origin game (the high 16 bits of its ID); Migrate names
//     the game explicitly. The migrating entity leaves its space here with
//     the leave hooks, is removed without OnDestroy or client hooks
//     (ecs.World.Remove), and on the target game is restored without
//     OnCreated or OnClientConnected, then enters the space with the enter
//     hooks. The hand-off (encode, send, remove) runs in the outbox stage of
//     the tick the MigrateHold arrives in, so the entity finishes that tick
//     here: calls already queued for it run. Its client keeps the entity,
//     and its view goes with it (systems.Sync.Migrating, then Adopt
//     there): from the hand-off on this game sends that client nothing
//     (no destroys, positions or deltas), the blob lists what the client
//     holds from here, and the target game first sends the client
//     destroys for all of that, then creates for what the entity sees
//     there (an entity in both is destroyed and created again, with the
//     target's state). A bound entity's MigrateData goes through
//     Shard(its gate), not Shard(entity): it follows, on the same link,
//     every frame this game made for the client, CallClient frames still
//     pending included (sent at once), so the dispatcher passes all of
//     them to the gate before the target game can make its first frame
//     for the client, whatever the order of the two games' streams.
//     A MigrateHold that does not
//     come within Config.MigrateTimeout aborts the migration (the entity
//     stays, and MigrateDone naming this game releases the dispatcher's
//     hold).
//   - Clients: ClientBound is sent for every entity that becomes bound, as
//     the sync stage reports it (boot entities, Entity.SetClient in game
//     code, migrations in). Client-moved types and their speed limit are
//     declared in Setup.ClientMoved; SyncFromClient for any other entity,
//     or from a client that does not own it, is refused and counted.
//   - Links: a lost dispatcher link is redialled with backoff (100 ms
//     doubling to 5 s). Messages for it meanwhile are kept, up to 8 MiB per
//     link, and sent in order before anything else once it is back (what
//     OnStart sends before the first connection goes out this way); beyond
//     that they are dropped and counted (Stats.Dropped). After a
//     reconnect, the game reports again the routes and the services it
//     holds on that dispatcher's shard, since a dispatcher drops those of a
//     game whose link it lost.
//   - Observers (the live map): a ClientConnected with BootType
//     netproto.ObserverBootType creates no entity; the client gets, every
//     ObserveEvery (5 Hz), a view of every space of this game as
//     netproto's observer frames (CallClient, Entity 0, ObserveMethod),
//     each encoded once for all observers, in the inbox stage so they
//     leave with the tick's batches. Bounded: MaxObservers per game (more
//     are kicked), MaxObservedEntities per round, 1024 records per frame.
//     ClientDisconnected or GateDown ends it. The dispatcher places an
//     observer on one game like any client, so with several games an
//     observer sees the spaces of that one game.
//   - ClientDisconnected for a client this game has no entity bound to is
//     ignored: with no entity, the dispatchers send it to every game; with
//     one, it is a gate's answer to a ClientBound that overtook the
//     client's leave, after the first ClientDisconnected unbound it.
//
// # Freeze and restore
//
// RequestFreeze (FreezeOn wires it to SIGHUP) starts a freeze: the game
// sends FreezeRequest to every dispatcher and keeps ticking until every
// FreezeAck is in (then nothing more reaches it) and the work in flight
// has ended (inbox, queued calls, migrations, and this game's own calls,
// lookups and registrations, whose answers the dispatchers still deliver;
// at most 20 ticks). A call still without a reply then fails with
// ErrFreezing in its callback, so no callback is left waiting. At that
// tick boundary it runs every entity's OnFreeze, writes the snapshot
// (package snapshot, atomically, to Config.SnapshotPath or
// Game.SnapshotPath()), closes its links and Run returns ErrFrozen. A
// missing ack within Config.FreezeTimeout, or a failed write, aborts the
// freeze loudly: FreezeResume to every dispatcher, and the game carries on.
// No migration starts while freezing (ErrFreezing); one still waiting
// for its MigrateHold is released (MigrateDone) and the entity stays.
// A reply that comes after the snapshot reaches the restored game, which
// numbers its calls above the old ids and drops it (Stats.FrozenReplies).
// The snapshot also carries the game's observers (the restored game goes
// on sending them views) and the service names it won (registered again
// after a dispatcher restart, as before the freeze). Lost in a freeze: the
// cache of other games' services (it fills again).
//
// Config.Restored makes New read the snapshot (ErrRestore when it is
// missing, bad, incompatible or another game's: a restored game never
// starts empty), with the same EntityIDs, tick and timers; the AOI grids
// are rebuilt silently and the sync stage takes every bound client to
// hold what its entity sees (Sync.AdoptRestored), so clients get no
// creates or destroys. Run then runs every entity's OnRestored and
// Setup.OnRestore instead of OnStart, and says Hello{Restored}, on which
// the dispatchers flush what they queued, in order.
package game
