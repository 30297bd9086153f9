// Package dispatchermetrics exports a dispatcher process's metrics: the
// games and gates linked to it, its routes and services, its traffic, the
// queues it holds for frozen games and migrating entities, and what it
// dropped or refused, all read from dispatcher.Stats at scrape time.
//
//	reg, err := dispatchermetrics.NewRegistry(d)
//	srv, err := reg.Serve(ctx, cfg.Metrics, cfg.Pprof, log)
//
// It imports dispatcher and package metrics only, so a dispatcher binary
// links neither the game engine nor the gate.
package dispatchermetrics
