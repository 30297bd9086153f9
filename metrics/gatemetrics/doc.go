// Package gatemetrics exports a gate process's metrics: its clients by
// transport, its dispatcher links, its traffic and why clients were
// disconnected or refused, all read from gate.Stats at scrape time.
//
//	reg, err := gatemetrics.NewRegistry(g)
//	srv, err := reg.Serve(ctx, cfg.Metrics, cfg.Pprof, log)
//
// It imports gate and package metrics only, so a gate binary links
// neither the game engine nor the dispatcher.
package gatemetrics
