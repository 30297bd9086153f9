// Package config reads the cluster file: one TOML file that describes every
// dispatcher, game and gate of a cluster, so that each process needs only
// its own section and the list of dispatchers.
//
//	[common]
//	secret = "change-me"
//	log_level = "info"
//
//	[dispatcher.1]
//	listen = "127.0.0.1:13001"
//
//	[game]              # every game
//	tick_rate = 20
//	[game.1]
//	[game.2]
//	tick_rate = 30      # game 2 only
//
//	[gate.1]
//	[gate.1.kcp]
//	mtu = 1200
//
// A numbered section [kind.N] is one process with id N. Its options come,
// from the most specific, from its own section, its kind's section
// ([game], [gate.kcp]), [common] (log_level, log_format, pprof) and the
// defaults, which run as they are: [dispatcher.1], [game.1] and [gate.1]
// alone are a working cluster on 127.0.0.1 (Default). The secret and the
// internal link settings ([common.link]) are cluster-wide.
//
// docs/config.md in the repository lists every option with its default,
// its range and its meaning; testdata/cluster.toml is a complete example.
//
// Load and Parse resolve every process and validate the whole cluster:
// unknown keys (anywhere, matched exactly), wrong types, out-of-range
// values, bad durations and addresses, duplicate listen addresses and
// missing kinds are all reported together, each as an *Error printed as
//
//	cluster.toml:12: game.1.tick_rate: must be between 1 and 1000, got 0
//
// Listen addresses may use port 0 ("127.0.0.1:0"): the OS picks a free
// port and the process reports the address it bound. Ephemeral builds such
// a cluster for tests and demos; whatever starts the dispatchers sets each
// one's Advertise to its bound address before starting games and gates.
package config
