// Package metrics exports what every ecsworld process counts as Prometheus
// metrics, and serves them over HTTP with pprof behind a switch.
//
// Each process has its own Registry (never the client library's global
// one), so several processes run inside one program (the demo, tests)
// keep their metrics apart. The collectors hold no counters of their own:
// they read the process's Stats() snapshot at scrape time, so the hot
// paths count once, in the process's atomics.
//
//	reg := metrics.ForGame(g)
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
//     ecsworld_restore_duration_seconds, histograms observed through
//     Registry.Swap by the freeze and restore code.
package metrics
