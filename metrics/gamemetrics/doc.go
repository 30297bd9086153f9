// Package gamemetrics exports a game process's metrics: its tick times,
// world, traffic and trouble (from game.Stats, read at scrape time) and
// the durations of its hot swaps. Only game binaries import it, so the
// dispatcher and gate programs do not link the engine.
//
//	srv, swap, err := gamemetrics.Serve(ctx, cfg.Metrics, g, cfg.Pprof, log)
//	// srv.Addr() is the bound address; the server stops with ctx.
//	swap.ObserveFreeze(fi.Duration) // after a freeze
//
// Package metrics has the registry, the HTTP server and the family names
// every process shares.
package gamemetrics
