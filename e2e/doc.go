// Package e2e holds the end-to-end tests of an ecsworld cluster; it has no
// code of its own outside its tests.
//
// The tests build cmd/dispatcher, cmd/gate, examples/test_game and
// examples/test_client into a temporary directory, write a cluster file
// (dispatchers on port 0, then a second file with each dispatcher's
// advertise set to the address it reported; gates on port 0, reporting
// theirs with -addrs), start real processes in their own process groups,
// wait for them by polling (address files, the games' debug endpoints),
// run bots (the test_client binary and examples/test_client/bots
// in-process) and kill every process group at the end.
//
// What the processes expose to the tests: every process serves its
// Prometheus metrics (the config gives each kind metrics = "127.0.0.1:0",
// the -addrs files name the bound address); every series of the trouble
// families (dropped, refused, disconnects other than "normal", rejected
// handshakes, error replies, timeouts, failures, panics, RPC outcomes
// other than ok, ...) must stay at zero except the ones a test provokes,
// which must reach exactly the provoked count. The games also serve the
// test game's debug endpoint (its own counters, game.Stats and each
// avatar's AOI, see examples/test_game). The logs of every process are
// kept in the test's temporary directory (E2E_LOGDIR=DIR copies those of
// failed tests there, of every test with E2E_KEEPLOGS=1 too;
// E2E_GATE_DEBUG=1 runs the gates at debug level); no line at warn level
// or above may appear except where the test provoked it. Log lines are
// sampled by the processes, so what must be exact is checked on the
// counters (each provoked disconnection is one more count of its reason
// on the gate).
//
// Views are compared with the server's AOI at rest: the bots stop
// walking, the monsters are frozen (debug endpoint), and each bot's set of
// entities must become equal to its avatar's AOI set as the game reads it
// at a tick boundary; the comparison is polled, so it holds within a tick
// plus the network once nothing moves.
//
// TestNeighboursMigrateTogether reproduces a known bug of concurrent
// migrations and runs only with E2E_KNOWN_BUGS=1 (it says so when skipped).
//
//	go test ./e2e/            # the full run
//	go test -short ./e2e/     # fewer bots, shorter runs
package e2e
