// Package metrics is the Prometheus plumbing every ecsworld process
// shares: a Registry per process, its HTTP server (/metrics, and pprof
// behind a switch), and the scrape helpers `ecsworld status` and tests
// read pages with. It imports none of the processes; what each one counts
// is in its own package, which only that process's binary links:
//
//   - gamemetrics: tick times, the world, traffic and trouble of a game,
//     and the durations of its hot swaps (freeze and restore histograms);
//   - gatemetrics: a gate's clients by transport, links, traffic and
//     disconnect reasons;
//   - dispatchermetrics: a dispatcher's games, gates, routes, held queues
//     and traffic.
//
// Each process has its own Registry (never the client library's global
// one), so several processes run inside one program (the demo, tests)
// keep their metrics apart. The collectors hold no counters of their own:
// they read the process's Stats() snapshot at scrape time, so the hot
// paths count once, in the process's atomics.
//
//	reg, err := gatemetrics.NewRegistry(g)
//	srv, err := reg.Serve(ctx, cfg.Metrics, cfg.Pprof, log)
//	// srv.Addr() is the bound address (port 0 allowed); the server stops with ctx.
//
// Every metric is named ecsworld_* and carries the labels role
// ("dispatcher", "game", "gate") and id. The main families:
//
//   - tick: ecsworld_tick_{last,mean,p99}_seconds, and per system
//     ecsworld_system_{last,mean,p99}_seconds{system,stage}: the
//     scheduler's figures over its recent window (systems.SchedulerStats),
//     gauges rather than a histogram since the window is the scheduler's.
//   - state: ecsworld_entities, ecsworld_spaces, ecsworld_clients (gates
//     split by transport), ecsworld_dispatcher_links{,_up}.
//   - traffic: ecsworld_messages_total and ecsworld_message_bytes_total
//     {link, direction, type}, type being the message type's name.
//   - trouble: ecsworld_dropped_messages_total{reason},
//     ecsworld_refused_messages_total{reason},
//     ecsworld_client_disconnects_total{reason},
//     ecsworld_handshakes_rejected_total{reason}.
//   - queues: ecsworld_queue_length{queue} (a game's inbox, a dispatcher's
//     held messages), ecsworld_send_backlog_bytes.
//   - hot swap: ecsworld_freeze_duration_seconds and
//     ecsworld_restore_duration_seconds, histograms a game main observes
//     through gamemetrics.Swap.
package metrics
