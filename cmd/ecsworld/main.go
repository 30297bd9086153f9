// Command ecsworld manages an ecsworld cluster on one machine: it builds a
// game and the engine's programs, starts and stops a cluster, and shows its
// status. `ecsworld help` lists the verbs; the logic is in package cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ecsworld/ecsworld/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := cli.New(os.Stdout, os.Stderr).Main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
