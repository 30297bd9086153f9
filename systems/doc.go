// Package systems holds the engine's systems and the ordered game tick.
//
// A game process owns one ecs.World and one Scheduler; a single goroutine
// calls Scheduler.RunTick at the configured rate, and every stage runs on
// that goroutine. Each tick runs, in this order:
//
//  1. inbox drain  (supplied by the game process: decoded messages → RPC queue)
//  2. RPC dispatch (RPC: each queued Call to its entity's method)
//  3. timers       (Timers: the timers due at this tick, as server calls)
//  4. user systems (in the order the game registered them with AddUser)
//  5. movement     (Movement: velocity and destinations → positions)
//  6. AOI          (AOI: one grid per space; enter/leave events and hooks)
//  7. sync         (Sync: AOI views, dirty attributes and moves → per-gate
//     data the game process encodes)
//  8. outbox flush (supplied by the game process)
//
// A stage that fails or panics is recovered, counted and logged; it never
// stops the tick or the stages after it. Each stage's time per tick is
// recorded in a fixed ring buffer (no allocation per tick) and reported by
// Scheduler.Stats for the metrics exporter and `ecsworld status`.
//
// None of the types here is safe for concurrent use unless its doc says so:
// like the world, they belong to the tick goroutine. The Stats methods
// (Scheduler, RPC, Timers, AOI) are the exception, so an exporter can read
// them from its own goroutine. The AOI stage itself runs the grids of
// several spaces on several goroutines (AOIOptions.Workers), but only
// inside its Update, and it touches the world on the tick goroutine only.
//
// For freeze and restore: timers are plain data (Timers.All, NextID,
// Restore, SetNow), the tick count is Scheduler.LastTick/SetLastTick, and
// AOI grids are never saved but rebuilt without events (AOI.RebuildSilent).
//
// Logging uses the *zap.Logger passed in options, wrapped in a sampler so a
// failure repeated every tick costs a few lines per second, not thousands.
package systems
