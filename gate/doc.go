// Package gate is the gate process of an ecsworld cluster as a library: it
// terminates client connections (KCP, TCP, WebSocket), gives each a
// ClientID, asks a game for the client's boot entity, forwards the
// client's calls and moves that the rules allow, and fans the games' sync
// batches out to clients. It runs no game logic and trusts no client byte.
// It never imports the game package: everything it knows of entities comes
// from the wire (docs/cluster.md is the contract).
//
//	g, err := gate.New(*cluster.Gate(1), cluster.DispatcherAddrs(), logger)
//	err = g.Serve(ctx) // or Start(ctx), Addrs(), ..., Wait()
//	err = gate.Run(ctx, cluster, 1, logger) // the same in one call
//
// # Dispatchers
//
// The gate dials every dispatcher (TCP, the cluster's [common.link]
// settings), says Hello{Role gate, ID, Secret, Version} and waits for
// HelloAck; a link that drops or is rejected is redialled with jittered
// exponential backoff (50 ms to 5 s). Heartbeats go out when a link has
// been idle for the heartbeat interval; a link silent for the idle timeout
// is closed. TypeSchema messages say which methods of which entity types
// clients may call.
//
// # Clients
//
// A client must send ClientHello within the hello timeout (5 s, at most the
// idle timeout); the gate answers ClientWelcome{ClientID, HeartbeatMs} and
// sends ClientConnected{Gate, Client, BootType, Addr} to dispatcher
// Shard(ClientID). A ClientID is the gate id in the high 16 bits and a
// sequence in the low 48, started from the clock so a restarted gate does
// not reuse its previous run's ids. Every client has a reader goroutine and
// a writer goroutine that flushes its link when something was queued, so a
// slow client never delays a batch to the others; a client whose unflushed
// data passes 8 × MaxFrame (at least 256 KiB), or whose write blocks for
// the write timeout (5 s, WithWriteTimeout), is dropped (reason slow).
//
// At most DefaultMaxPending connections may be waiting for their hello
// (WithMaxPending; more are closed at once: any datagram opens a KCP
// session), and WithMaxClients caps the clients ("gate full").
//
// Rules, each enforced per client, each breach closing that client alone
// with a Disconnect{Reason, Code}, a sampled log line and a count in
// Stats.Disconnects, followed by ClientDisconnected to the entity's
// dispatcher:
//   - frames over MaxFrame, truncated or malformed frames and payloads,
//     unknown types and types a client may not send (MsgType.FromClient);
//   - more than MaxMsgsPerSecond messages (a token bucket holding one
//     second's worth, so short bursts pass);
//   - silence for IdleTimeout (the gate heartbeats clients that it has sent
//     nothing for the heartbeat interval, so a client can tell a dead gate
//     from a quiet one);
//   - a second ClientHello, or a Heartbeat with a payload.
//
// Calls: a ClientCall is forwarded as CallEntity{Caller: client, its gate,
// its own entity} to Shard(target) only if the target is the client's own
// entity (ClientBound) or one it currently sees (BatchItem Vis enter/leave),
// the method is client-callable for the target's type in the schema, and an
// OwnClient method targets the client's own entity. Anything else gets
// ClientCallReply{Error} (when it has a CallID) and a count in
// Stats.Refused; a refused call does not disconnect (a client may race a
// leave). CallReply{To: this gate, Client} becomes ClientCallReply.
//
// Moves: ClientMove records are accepted only for the client's own entity,
// only if ClientBound.ClientMoved, and only within the speed limit; the last
// accepted record of a message is forwarded as SyncFromClient to
// Shard(entity). Refused records are counted; DefaultMoveViolations of them
// (WithMoveViolations) within 10 s disconnect the client.
//
// Batches: each GateBatch item's frames are checked once (ValidateFrames)
// and copied unchanged to each recipient's link; the item's visibility
// change is applied first, so a client can call an entity as soon as it
// learns of it. Position records are appended to one PositionSync per
// recipient (split at the client frame size), after the items, and every
// link the batch touched is flushed once.
//
// # Choices where docs/cluster.md is silent
//
//   - BootType: the gate's config section has no boot entity; ClientConnected
//     carries WithBootType's value, empty by default, meaning "the game's
//     boot_entity". cmd/gate passes the games' boot_entity when every game
//     of the cluster file agrees on it.
//   - A client is only welcomed while every dispatcher link is up (its
//     calls may need any shard); otherwise it gets Disconnect{Code
//     Shutdown, "cluster unavailable"}.
//   - When a dispatcher link drops, that dispatcher tells every game
//     GateDown and the games unbind all of this gate's clients: the gate
//     therefore disconnects all its clients (reason cluster_link_lost) so
//     they reconnect and get new boot entities.
//   - ClientDisconnected goes through Shard(entity), or Shard(ClientID) when
//     no ClientBound arrived yet (behind the ClientConnected it follows). A
//     ClientBound for a client that has already left is answered with
//     ClientDisconnected{Entity} so the game unbinds it. On a graceful
//     shutdown no ClientDisconnected is sent: the dispatchers' GateDown
//     covers every client.
//   - Speed limit: the stricter of the gate's max_speed and
//     ClientBound.MaxSpeed (0 on one side: the other side's). Moves draw on
//     a distance budget refilled at the limit (×1.1) and capped at half a
//     second of movement, so jitter that bunches honest moves passes while
//     a teleport does not. The reference position is the last accepted
//     move, or a position record of the entity that the server sent this
//     client; the first move of an entity whose position the gate has not
//     seen is taken as the reference (the gate does not decode CreateEntity).
//   - ClientHello: Version 0 (unset) or ProtocolVersion; Role "" or
//     "player", or "observer" with the configured observer_token (compared
//     in constant time; no token configured: no observer gets in).
//   - Observers only watch. Their ClientConnected carries BootType
//     netproto.ObserverBootType, so a game sends them views of its spaces
//     (netproto's observer frames) instead of creating a boot entity. The
//     gate refuses every ClientCall (answered) and ClientMove from one
//     (Stats.Refused observer_call, observer_move); the move-violation
//     limit of refusals within 10 s disconnects it (observer_abuse). A
//     ClientBound naming an observer is dropped (observer_bound): it never
//     gets an entity to act as.
//   - Client call ids are forwarded unchanged: replies are matched by
//     ClientID, so clients need not coordinate ids.
//   - WebSocket: the endpoint is WebSocketPath ("/ws") on ws_listen; an
//     upgrade request to "/" is accepted too. ws_origins ["*"] accepts any
//     origin.
//   - KCP: every [gate.kcp] option applies (nodelay, interval, resend and
//     no_congestion default to the low-latency setting: on, 10 ms, 2, on).
//
// # Stopping
//
// When the context ends, the gate stops accepting, sends every client
// Disconnect{Code Shutdown} and closes it, then closes its listeners (a KCP
// listener's socket carries every session's last datagrams) and its
// dispatcher links; Wait returns once every goroutine has. A WebSocket
// client that does not answer the close handshake delays this by up to the
// 5 s the WebSocket library waits.
//
// Stats returns every counter as a plain struct; the gate keeps no global
// state, so several gates can run in one process (tests do).
package gate
