package bots

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// SwarmOptions configure a run of many bots (the test_client command).
type SwarmOptions struct {
	Gates     []string // gate addresses for Transport; bots are spread over them
	Transport string
	N         int
	Duration  time.Duration // how long the bots play once all are in
	Seed      uint64
	Prefix    string // avatar names are Prefix + index (default "bot")
	Logger    *zap.Logger
	// Debug lists the games' debug endpoints (host:port). With it, after
	// the run the bots stop, the monsters are frozen and every bot's view
	// must match its avatar's AOI (within ViewTimeout).
	Debug       []string
	ViewTimeout time.Duration // default 10 s
	// Travel: after the run, this many bots (with a Debug list of two
	// games or more) travel to another game, one after the other, before
	// the view check. (One at a time: avatars that see each other and
	// migrate at once expose a known ordering problem between two games'
	// streams to a gate; see the e2e package.)
	Travel int
	Bot    Options // per-bot settings (Transport, Addr, Name, Seed are set per bot)
}

// Report sums up a swarm run.
type Report struct {
	Bots     int      `json:"bots"`
	LoggedIn int      `json:"logged_in"`
	Stats    Stats    `json:"stats"`
	Problems []string `json:"problems"` // the first ones
	Count    int      `json:"problem_count"`
}

// RunSwarm connects N bots, lets them play for Duration, settles them
// (replies, Pongs and chat lines in flight), checks views against the
// servers if Debug is set, and disconnects them. The error is about the
// run itself (no gate, a bot that could not log in); inconsistencies are in
// the report.
func RunSwarm(ctx context.Context, o SwarmOptions) (Report, error) {
	if o.N <= 0 || len(o.Gates) == 0 {
		return Report{}, errors.New("bots: need at least one bot and one gate")
	}
	if o.Prefix == "" {
		o.Prefix = "bot"
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.ViewTimeout == 0 {
		o.ViewTimeout = 10 * time.Second
	}
	rep := Report{Bots: o.N}
	bots := make([]*Bot, o.N)
	errs := make([]error, o.N)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16) // log in a few at a time
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	for i := range o.N {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			bo := o.Bot
			bo.Transport, bo.Addr = o.Transport, o.Gates[i%len(o.Gates)]
			bo.Name, bo.Seed, bo.Logger = fmt.Sprintf("%s%d", o.Prefix, i), o.Seed+uint64(i)*7919, o.Logger
			bots[i], errs[i] = Connect(cctx, bo)
		}()
	}
	wg.Wait()
	cancel()
	var live []*Bot
	var connErr error
	for i, b := range bots {
		if errs[i] != nil {
			connErr = errors.Join(connErr, errs[i])
			continue
		}
		live = append(live, b)
	}
	rep.LoggedIn = len(live)
	defer func() {
		for _, b := range live {
			b.Close()
		}
	}()
	if connErr != nil {
		return rep, fmt.Errorf("bots: %d of %d bots did not log in: %w", o.N-len(live), o.N, connErr)
	}

	rctx, stop := context.WithTimeout(ctx, o.Duration)
	for _, b := range live {
		wg.Add(1)
		go func() { defer wg.Done(); b.Run(rctx) }()
	}
	wg.Wait()
	stop()
	for _, b := range live {
		wg.Add(1)
		go func() { defer wg.Done(); b.Settle(ctx) }()
	}
	wg.Wait()

	if len(o.Debug) > 0 {
		for _, d := range o.Debug {
			if err := FreezeMonsters(ctx, d, true); err != nil {
				return rep, err
			}
		}
		if o.Travel > 0 && len(o.Debug) > 1 {
			if err := travelSome(ctx, live[:min(o.Travel, len(live))], o.Debug); err != nil {
				rep.Problems = append(rep.Problems, err.Error())
				rep.Count++
			}
		}
		vctx, cancel := context.WithTimeout(ctx, o.ViewTimeout)
		err := WaitViewsMatch(vctx, live, o.Debug)
		cancel()
		if err != nil {
			rep.Problems = append(rep.Problems, err.Error())
			rep.Count++
		}
	}
	for _, b := range live {
		st := b.Stats()
		rep.Stats.add(st)
		for _, p := range b.Problems() {
			rep.Count++
			if len(rep.Problems) < 20 {
				rep.Problems = append(rep.Problems, p)
			}
		}
	}
	return rep, nil
}

// travelSome sends each bot, one after the other, to the game after its
// own in the debug list.
func travelSome(ctx context.Context, bs []*Bot, debug []string) error {
	states, err := FetchAll(ctx, debug)
	if err != nil {
		return err
	}
	gameOf := map[uint64]int{}
	for i, s := range states {
		for _, a := range s.Avatars {
			gameOf[a.ID] = i
		}
	}
	var errs []error
	for _, b := range bs {
		at, ok := gameOf[b.Avatar()]
		if !ok {
			errs = append(errs, fmt.Errorf("bots: %s: avatar %d on no game", b.Name(), b.Avatar()))
			continue
		}
		errs = append(errs, b.Travel(ctx, int(states[(at+1)%len(states)].Game)))
	}
	return errors.Join(errs...)
}

func (s *Stats) add(o Stats) {
	s.Calls += o.Calls
	s.Replies += o.Replies
	s.CallErrors += o.CallErrors
	s.Pings += o.Pings
	s.Pongs += o.Pongs
	s.ChatsSent += o.ChatsSent
	s.ChatsHeard += o.ChatsHeard
	s.OwnChatsHeard += o.OwnChatsHeard
	s.Pokes += o.Pokes
	s.PokesRefused += o.PokesRefused
	s.Moves += o.Moves
	s.Travels += o.Travels
}
