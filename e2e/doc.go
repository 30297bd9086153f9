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
// What the processes expose to the tests: the games serve the test game's
// debug endpoint (its counters, game.Stats, and each avatar's AOI, see
// examples/test_game); the gates and dispatchers expose no counters to
// another process (their commands serve no metrics yet), so the tests
// read their logs (each process's output is kept in the test's temporary
// directory and printed when a test fails): no line at warn or error level
// may appear except where the test provoked it, and the gate's "client
// broke a rule" lines name each provoked disconnection.
//
//	go test ./e2e/            # the full run
//	go test -short ./e2e/     # fewer bots, shorter runs
package e2e
