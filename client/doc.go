// Package client is the Go client library of an ecsworld cluster, for bots,
// tests and tools: it connects to a gate over KCP, TCP or WebSocket, keeps a
// local view of what the gate shows it (the player entity and its AOI
// neighbours, with their attributes and positions), calls entity methods and
// sends moves.
//
//	c, err := client.Dial(ctx, "kcp", "127.0.0.1:7000", client.Options{Logger: log})
//	...
//	defer c.Close()
//	err = c.WaitUntil(ctx, func() bool { return c.PlayerID() != 0 })
//	res, err := c.Call(ctx, c.PlayerID(), "Login", "alice")
//	err = c.Move(10, 0, 5, 1.57)
//	for _, e := range c.Entities() { ... }
//
// # Protocol
//
// The client follows docs/cluster.md and the netproto catalogue. Dial sends
// ClientHello{Version, Token, Role} and waits for ClientWelcome, which gives
// the ClientID and the heartbeat interval; Heartbeats from the gate before
// it are skipped and a Disconnect is a *DisconnectError. Afterwards one
// goroutine receives and applies frames; another sends a Heartbeat whenever
// the client sent nothing for half the interval, so the gap never exceeds
// it. Every send is flushed at once. Close sends Disconnect (best effort),
// closes the link and waits for both goroutines.
//
// Every frame is decoded with a netproto Codec built from ClientLimits
// (scaled to Options.Link.MaxFrame if that is larger), and the link itself
// refuses frames above MaxFrame before allocating. A frame that does not
// decode, or of a type a gate never sends (ClientHello, ClientCall,
// ClientMove, anything internal or unknown), stops the client with an error
// wrapping ErrProtocol and the netproto error. Decoding never panics.
//
// # The local view
//
//   - CreateEntity adds an entity; with IsPlayer it becomes the player
//     (PlayerID). A later IsPlayer create replaces the player (an account
//     entity that logs in to an avatar); destroying the player leaves
//     PlayerID 0 until the next.
//   - DestroyEntity removes it.
//   - AttrDelta applies its changes in order with ApplyAttrChanges (see its
//     doc for the exact Set/Delete/Append semantics chosen where netproto is
//     silent).
//   - PositionSync sets position and yaw; yaw is dequantised by netproto
//     (DequantizeYaw), so it is in [0, 2π) within π/65536 of what the server
//     holds.
//   - Move updates the player's local position at once (with the yaw
//     quantised as the wire does), since the server need not echo a client
//     its own moves; a later PositionSync overrides it.
//
// Messages that decode but do not fit the view are inconsistencies: a
// duplicate CreateEntity (the new one replaces the old), a CreateEntity of
// entity 0, a DestroyEntity, AttrDelta or position of an unknown entity, an
// attribute change that cannot be applied, a CallClient on an unknown
// entity (still delivered) or with undecodable arguments (dropped), a reply
// to a call never made, a second ClientWelcome. Each is counted
// (Stats.ProtocolErrors), kept among the last Options.RecentErrors
// (ProtocolErrors), logged, and wraps ErrInconsistent; the client goes on.
// A bot in strict mode fails when the count is not zero.
//
// # Calls
//
// Call encodes its arguments as one CBOR array, sends ClientCall with a
// fresh CallID (counting from 1) and waits for the ClientCallReply with that
// CallID; a reply with Error is a *CallError. A reply that arrives after the
// caller's context ended counts as a late reply, not an inconsistency.
// Notify sends CallID 0 (no reply). Server calls (CallClient) reach
// Hooks.OnCallClient with decoded arguments.
//
// # Choices where the contract is silent
//
//   - Liveness: the gate heartbeats a client it has sent nothing for the
//     interval of its ClientWelcome, so by default the client closes with
//     ErrIdle after IdleFactor intervals of silence (at least
//     MinIdleTimeout): the only way to notice a dead gate over KCP, which
//     has no close. Options.IdleTimeout overrides it; negative disables it.
//   - WebSocket addresses: a bare host:port[/path] gets "ws://"; the gate
//     serves "/ws" and also accepts "/".
//   - Close over KCP waits 30 ms after sending Disconnect,
//     because kcp-go writes datagrams from its own goroutine and closing at
//     once drops the goodbye.
//   - A ClientWelcome with Version 0 (absent) is accepted; another version
//     than netproto.ProtocolVersion fails Dial. ClientID 0 fails Dial.
//     HeartbeatMs 0 means DefaultHeartbeat.
//   - Hooks run on the receive goroutine, after the view changed, in wire
//     order; they must not wait for a Call reply.
package client
