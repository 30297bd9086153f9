// Command test_client runs bots against a cluster playing
// examples/test_game: each connects to a gate, logs in to an avatar,
// walks, pings, chats, pokes its neighbours and checks what it sees (the
// bot logic is the importable package examples/test_client/bots).
//
//	test_client -gate 127.0.0.1:14001[,addr...] -transport kcp -n 100 -duration 20s [-strict] [-seed 1]
//	            [-debug host:port,...] [-travel] [-json]
//
// -gate lists the gates' listeners for -transport (kcp, tcp or ws); bots
// are spread over them. With -debug (the games' debug endpoints, see
// examples/test_game), after the run the bots stop, the monsters are
// frozen and every bot's neighbours must equal its avatar's AOI on the
// server; -travel N first sends N avatars, one after the other, to
// another game (a cross-game migration that must keep its attributes and
// client).
//
// It prints a summary (-json: one JSON object). With -strict any
// inconsistency (a neighbour the server would not show, an RPC reply that
// never comes, an unknown entity, a client ProtocolError, a view that does
// not match the server's) makes it exit 1 with the problems listed; a bot
// that cannot log in always does.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/examples/test_client/bots"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "test_client:", err)
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("test_client", flag.ContinueOnError)
	gates := fs.String("gate", "127.0.0.1:14001", "gate addresses for -transport, comma-separated")
	transport := fs.String("transport", "kcp", "kcp, tcp or ws")
	n := fs.Int("n", 10, "number of bots")
	duration := fs.Duration("duration", 10*time.Second, "how long the bots play")
	strict := fs.Bool("strict", false, "exit 1 on any inconsistency")
	seed := fs.Uint64("seed", 1, "random seed")
	debug := fs.String("debug", "", "the games' debug endpoints (host:port), comma-separated: check views against the server")
	travel := fs.Int("travel", 0, "with -debug: this many avatars migrate to another game, one after the other, before the view check")
	prefix := fs.String("prefix", "bot", "avatar name prefix")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	verbose := fs.Bool("v", false, "log what the bots and their clients do")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch *transport {
	case "kcp", "tcp", "ws":
	default:
		return fmt.Errorf("-transport %q: kcp, tcp or ws", *transport)
	}
	if *n < 1 || *n > 100000 {
		return fmt.Errorf("-n %d: must be 1..100000", *n)
	}
	if *duration <= 0 {
		return fmt.Errorf("-duration %v: must be positive", *duration)
	}
	log := zap.NewNop()
	if *verbose {
		l, err := zap.NewDevelopment()
		if err != nil {
			return err
		}
		log = l
	} else {
		// Inconsistencies are logged at warn level even when quiet.
		l, err := zap.NewDevelopment(zap.IncreaseLevel(zap.WarnLevel))
		if err != nil {
			return err
		}
		log = l
	}
	defer log.Sync()

	rep, err := bots.RunSwarm(ctx, bots.SwarmOptions{
		Gates: splitList(*gates), Transport: *transport, N: *n, Duration: *duration, Seed: *seed,
		Prefix: *prefix, Logger: log, Debug: splitList(*debug), Travel: *travel,
	})
	if *asJSON {
		b, jerr := json.Marshal(rep)
		if jerr != nil {
			return jerr
		}
		fmt.Fprintln(out, string(b))
	} else {
		s := rep.Stats
		fmt.Fprintf(out, "bots %d, logged in %d\n", rep.Bots, rep.LoggedIn)
		fmt.Fprintf(out, "calls %d, replies %d (refused %d), pongs %d/%d, chats sent %d heard %d (own back %d), pokes %d (refused %d), moves %d, travels %d\n",
			s.Calls, s.Replies, s.CallErrors, s.Pongs, s.Pings, s.ChatsSent, s.ChatsHeard, s.OwnChatsHeard, s.Pokes, s.PokesRefused, s.Moves, s.Travels)
		fmt.Fprintf(out, "problems %d\n", rep.Count)
		for _, p := range rep.Problems {
			fmt.Fprintln(out, "  "+p)
		}
	}
	if err != nil {
		return err
	}
	if *strict && rep.Count > 0 {
		return fmt.Errorf("strict: %d inconsistencies (first: %s)", rep.Count, rep.Problems[0])
	}
	return nil
}
