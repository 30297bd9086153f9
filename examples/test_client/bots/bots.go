// Package bots is the bot logic of examples/test_client, as a library so
// tests can run bots in-process as well as through the binary. A bot plays
// examples/test_game: it connects to a gate with the client library, logs
// in (Account.Login) to an Avatar, walks around, calls the avatar's methods
// (Ping, Say, Poke on a neighbour, Travel to another game) and checks what
// it sees.
//
// Every inconsistency is recorded as a problem (Bot.Problems): a call whose
// reply never comes or that fails when it should not, a Pong or an own chat
// line that never comes back, a server call of an unknown method or with
// bad arguments, a neighbour the server would not show (farther than the
// AOI radius plus a slack for in-flight positions), a player that is not an
// Avatar, and every ProtocolError of the client library. A strict run fails
// when any bot has one. CompareViews checks a bot's neighbours against the
// server's own AOI (the test game's debug endpoint, ServerState).
package bots

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/client"
)

// The test game's numbers (examples/test_game keeps the same).
const (
	// AvatarRadius is the AOI radius of an avatar.
	AvatarRadius = 30
	// ViewSlack is how far beyond the AOI radius a neighbour may appear for
	// a moment: positions in flight (10 per second, entities at most 15
	// units per second) and the tick between a leave and its destroy.
	ViewSlack = 8
	// ArenaHalf bounds where bots walk: [-ArenaHalf, ArenaHalf] on X and Z.
	ArenaHalf = 60
)

// Options configure one bot. Zero durations take the defaults.
type Options struct {
	Transport string // "kcp", "tcp" or "ws"
	Addr      string // the gate's listener for Transport
	Name      string // the avatar's name (unique per bot)
	Seed      uint64
	Logger    *zap.Logger

	CallTimeout time.Duration // how long a reply may take (default 5 s)
	MoveEvery   time.Duration // time between moves (default 100 ms)
	Speed       float32       // walking speed, units per second (default 5)
	PingEvery   time.Duration // default 500 ms; negative: never
	ChatEvery   time.Duration // default 4 s; negative: never
	PokeEvery   time.Duration // default 1 s; negative: never
}

func (o Options) withDefaults() Options {
	if o.CallTimeout == 0 {
		o.CallTimeout = 5 * time.Second
	}
	if o.MoveEvery == 0 {
		o.MoveEvery = 100 * time.Millisecond
	}
	if o.Speed == 0 {
		o.Speed = 5
	}
	if o.PingEvery == 0 {
		o.PingEvery = 500 * time.Millisecond
	}
	if o.ChatEvery == 0 {
		o.ChatEvery = 4 * time.Second
	}
	if o.PokeEvery == 0 {
		o.PokeEvery = time.Second
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return o
}

// Stats count what a bot did and saw.
type Stats struct {
	Calls, Replies, CallErrors uint64 // calls made, replies received (ok or refused), refused or failed
	Pings, Pongs               uint64
	ChatsSent, ChatsHeard      uint64
	OwnChatsHeard              uint64
	Pokes, PokesRefused        uint64 // refused pokes: the target left the view meanwhile
	Moves                      uint64
	Travels                    uint64
}

// Bot is one connected, logged-in player.
type Bot struct {
	opts Options
	c    *client.Client
	log  *zap.Logger

	avatar uint64 // the avatar's EntityID (the player after Login)
	paused atomic.Bool
	pingN  atomic.Int64

	mu       sync.Mutex
	problems []string
	stats    Stats
	pongs    map[int64]time.Time  // pings whose Pong has not come
	chats    map[string]time.Time // own chat lines not heard back
	done     chan struct{}
}

// ErrNoAvatar: Login did not give the client an Avatar in time.
var ErrNoAvatar = errors.New("bots: no avatar after login")

// Connect dials the gate (retrying while the cluster comes up, until ctx
// ends), waits for the Account, logs in and waits for the Avatar.
func Connect(ctx context.Context, o Options) (*Bot, error) {
	o = o.withDefaults()
	b := &Bot{opts: o, log: o.Logger.With(zap.String("bot", o.Name)),
		pongs: map[int64]time.Time{}, chats: map[string]time.Time{}, done: make(chan struct{})}
	copts := client.Options{Logger: o.Logger, Hooks: client.Hooks{OnCallClient: b.onCallClient}}
	var err error
	for delay := 50 * time.Millisecond; ; delay = min(delay*2, time.Second) {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		b.c, err = client.Dial(dctx, o.Transport, o.Addr, copts)
		cancel()
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("bots: %s: dial %s %s: %w", o.Name, o.Transport, o.Addr, err)
		case <-time.After(delay):
		}
	}
	if err := b.login(ctx); err != nil {
		b.c.Close()
		return nil, err
	}
	return b, nil
}

func (b *Bot) login(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*b.opts.CallTimeout)
	defer cancel()
	var account uint64
	if err := b.c.WaitUntil(ctx, func() bool {
		p, ok := b.c.Player()
		account = p.ID
		return ok && p.Type == "Account"
	}); err != nil {
		return fmt.Errorf("bots: %s: no account: %w", b.opts.Name, err)
	}
	if _, err := b.call(ctx, account, "Login", b.opts.Name); err != nil {
		return fmt.Errorf("bots: %s: login: %w", b.opts.Name, err)
	}
	if err := b.c.WaitUntil(ctx, func() bool {
		p, ok := b.c.Player()
		if ok && p.Type == "Avatar" {
			b.avatar = p.ID
			return true
		}
		return false
	}); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNoAvatar, b.opts.Name, err)
	}
	return nil
}

// Client returns the bot's client connection.
func (b *Bot) Client() *client.Client { return b.c }

// Name returns the avatar's name.
func (b *Bot) Name() string { return b.opts.Name }

// Avatar returns the avatar's EntityID.
func (b *Bot) Avatar() uint64 { return b.avatar }

// Close disconnects the bot.
func (b *Bot) Close() error { return b.c.Close() }

func (b *Bot) problem(format string, args ...any) {
	msg := b.opts.Name + ": " + fmt.Sprintf(format, args...)
	b.mu.Lock()
	if len(b.problems) < 50 {
		b.problems = append(b.problems, msg)
	}
	b.mu.Unlock()
	b.log.Warn("inconsistency", zap.String("problem", msg))
}

// Problems returns the inconsistencies recorded so far, the client's
// ProtocolErrors included.
func (b *Bot) Problems() []string {
	b.mu.Lock()
	out := slices.Clone(b.problems)
	b.mu.Unlock()
	if n := b.c.Stats().ProtocolErrors; n > 0 {
		out = append(out, fmt.Sprintf("%s: %d client protocol errors: %v", b.opts.Name, n, b.c.ProtocolErrors()))
	}
	return out
}

// Stats returns a copy of the bot's counters.
func (b *Bot) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// call makes a call, counts it, and records a problem when no reply comes
// in time. A refusal or an error of the method is returned (a reply came).
func (b *Bot) call(ctx context.Context, entity uint64, method string, args ...any) (client.Result, error) {
	b.mu.Lock()
	b.stats.Calls++
	b.mu.Unlock()
	// A call in flight when the bot stops still waits for its reply (up to
	// the timeout): every call must get one.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.opts.CallTimeout)
	defer cancel()
	r, err := b.c.Call(cctx, entity, method, args...)
	var ce *client.CallError
	switch {
	case err == nil || errors.As(err, &ce):
		b.mu.Lock()
		b.stats.Replies++
		if err != nil {
			b.stats.CallErrors++
		}
		b.mu.Unlock()
	default:
		b.problem("call %s on %d: no reply: %v", method, entity, err)
	}
	return r, err
}

// Call is a checked call on any entity: a reply that never comes is a
// problem; a refusal is returned as a *client.CallError.
func (b *Bot) Call(ctx context.Context, entity uint64, method string, args ...any) error {
	_, err := b.call(ctx, entity, method, args...)
	return err
}

func (b *Bot) onCallClient(c *client.Client, sc client.ServerCall) {
	switch sc.Method {
	case "Pong":
		n, ok := argInt(sc.Args, 0)
		if !ok || len(sc.Args) != 1 {
			b.problem("Pong with bad arguments %v", sc.Args)
			return
		}
		b.mu.Lock()
		b.stats.Pongs++
		delete(b.pongs, n)
		b.mu.Unlock()
	case "Chat":
		from, ok1 := argInt(sc.Args, 0)
		text, ok2 := argString(sc.Args, 1)
		if !ok1 || !ok2 || len(sc.Args) != 2 || from == 0 {
			b.problem("Chat with bad arguments %v", sc.Args)
			return
		}
		b.mu.Lock()
		b.stats.ChatsHeard++
		if uint64(from) == b.avatar {
			if _, ok := b.chats[text]; ok {
				b.stats.OwnChatsHeard++
				delete(b.chats, text)
			}
		}
		b.mu.Unlock()
	default:
		b.problem("server called unknown client method %q", sc.Method)
	}
}

func argInt(args []any, i int) (int64, bool) {
	if i >= len(args) {
		return 0, false
	}
	switch v := args[i].(type) {
	case int64:
		return v, true
	case uint64:
		if v > math.MaxInt64 {
			return 0, false
		}
		return int64(v), true
	}
	return 0, false
}

func argString(args []any, i int) (string, bool) {
	if i >= len(args) {
		return "", false
	}
	s, ok := args[i].(string)
	return s, ok
}

// Run plays until ctx ends: it walks (unless paused), pings, chats and
// pokes neighbours, and checks its view once a second.
func (b *Bot) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.walk(ctx) }()
	go func() { defer wg.Done(); b.act(ctx) }()
	wg.Wait()
}

// Pause stops (or resumes) walking; calls go on.
func (b *Bot) Pause(p bool) { b.paused.Store(p) }

func (b *Bot) walk(ctx context.Context) {
	rng := rand.New(rand.NewPCG(b.opts.Seed, 1))
	t := time.NewTicker(b.opts.MoveEvery)
	defer t.Stop()
	step := b.opts.Speed * float32(b.opts.MoveEvery.Seconds())
	var target [2]float32
	pick := func() { target = [2]float32{(rng.Float32()*2 - 1) * ArenaHalf, (rng.Float32()*2 - 1) * ArenaHalf} }
	pick()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.c.Done():
			return
		case <-t.C:
		}
		if b.paused.Load() {
			continue
		}
		p, ok := b.c.Player()
		if !ok || p.ID != b.avatar {
			continue
		}
		dx, dz := target[0]-p.Pos.X, target[1]-p.Pos.Z
		d := float32(math.Hypot(float64(dx), float64(dz)))
		if d < step {
			pick()
			continue
		}
		yaw := float32(math.Atan2(float64(dx), float64(dz)))
		if yaw < 0 {
			yaw += 2 * math.Pi
		}
		if err := b.c.Move(p.Pos.X+dx/d*step, p.Pos.Y, p.Pos.Z+dz/d*step, yaw); err != nil {
			if b.c.Err() == nil {
				b.problem("move: %v", err)
			}
			return
		}
		b.mu.Lock()
		b.stats.Moves++
		b.mu.Unlock()
	}
}

func (b *Bot) act(ctx context.Context) {
	rng := rand.New(rand.NewPCG(b.opts.Seed, 2))
	jitter := func(d time.Duration) time.Time {
		if d <= 0 { // never: the caller checks the period before acting
			return time.Time{}
		}
		return time.Now().Add(d/2 + time.Duration(rng.Int64N(int64(d))))
	}
	nextPing, nextChat, nextPoke, nextCheck := jitter(b.opts.PingEvery), jitter(b.opts.ChatEvery), jitter(b.opts.PokeEvery), time.Now().Add(time.Second)
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.c.Done():
			if ctx.Err() == nil {
				b.problem("disconnected: %v", b.c.Err())
			}
			return
		case <-t.C:
		}
		now := time.Now()
		switch {
		case b.opts.PingEvery > 0 && now.After(nextPing):
			nextPing = jitter(b.opts.PingEvery)
			b.ping(ctx)
		case b.opts.ChatEvery > 0 && now.After(nextChat):
			nextChat = jitter(b.opts.ChatEvery)
			b.say(ctx, rng)
		case b.opts.PokeEvery > 0 && now.After(nextPoke):
			nextPoke = jitter(b.opts.PokeEvery)
			b.poke(ctx, rng)
		case now.After(nextCheck):
			nextCheck = now.Add(time.Second)
			b.CheckView()
		}
	}
}

// Ping calls Avatar.Ping and expects the reply and a Pong.
func (b *Bot) ping(ctx context.Context) {
	n := b.pingN.Add(1)
	b.mu.Lock()
	b.pongs[n] = time.Now()
	b.stats.Pings++
	b.mu.Unlock()
	if err := b.Call(ctx, b.avatar, "Ping", n); err != nil {
		b.mu.Lock()
		delete(b.pongs, n)
		b.mu.Unlock()
		if ctx.Err() == nil {
			b.problem("Ping refused: %v", err)
		}
	}
}

func (b *Bot) say(ctx context.Context, rng *rand.Rand) {
	text := fmt.Sprintf("%s says %d", b.opts.Name, rng.Uint32())
	b.mu.Lock()
	b.chats[text] = time.Now()
	b.stats.ChatsSent++
	b.mu.Unlock()
	if err := b.Call(ctx, b.avatar, "Say", text); err != nil {
		b.mu.Lock()
		delete(b.chats, text)
		b.mu.Unlock()
		if ctx.Err() == nil {
			b.problem("Say refused: %v", err)
		}
	}
}

// poke calls Poke on a random avatar well inside the view. A refusal can
// be a race with the target leaving (or migrating): counted, not a problem.
func (b *Bot) poke(ctx context.Context, rng *rand.Rand) {
	p, ok := b.c.Player()
	if !ok {
		return
	}
	var near []uint64
	for _, e := range b.c.Entities() {
		if e.Type == "Avatar" && e.ID != p.ID && dist(e, p) < AvatarRadius/2 {
			near = append(near, e.ID)
		}
	}
	if len(near) == 0 {
		return
	}
	target := near[rng.IntN(len(near))]
	b.mu.Lock()
	b.stats.Pokes++
	b.mu.Unlock()
	if err := b.Call(ctx, target, "Poke"); err != nil {
		var ce *client.CallError
		if errors.As(err, &ce) {
			b.mu.Lock()
			b.stats.PokesRefused++
			b.mu.Unlock()
		}
	}
}

func dist(a, b client.Entity) float64 {
	return math.Hypot(float64(a.Pos.X-b.Pos.X), float64(a.Pos.Z-b.Pos.Z))
}

// CheckView records a problem for every neighbour farther than the AOI
// radius plus ViewSlack, and for a player that is not the avatar.
func (b *Bot) CheckView() {
	if b.paused.Load() {
		return // travelling: the view is being replaced
	}
	p, ok := b.c.Player()
	if !ok || p.ID != b.avatar || p.Type != "Avatar" {
		b.problem("player is %d (%q), want avatar %d", p.ID, p.Type, b.avatar)
		return
	}
	for _, e := range b.c.Entities() {
		if e.ID != p.ID && dist(e, p) > AvatarRadius+ViewSlack {
			b.problem("sees %s %d at distance %.1f, beyond the AOI radius %d", e.Type, e.ID, dist(e, p), AvatarRadius)
		}
	}
}

// Settle waits (up to the call timeout) for the Pongs and own chat lines
// still in flight and records a problem for each that does not come.
func (b *Bot) Settle(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, b.opts.CallTimeout)
	defer cancel()
	pending := func() int {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.pongs) + len(b.chats)
	}
	for pending() > 0 && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	b.mu.Lock()
	var lost []string
	for n := range b.pongs {
		lost = append(lost, fmt.Sprintf("Pong %d never came", n))
	}
	for text := range b.chats {
		lost = append(lost, fmt.Sprintf("own chat %q never came back", text))
	}
	clear(b.pongs)
	clear(b.chats)
	b.mu.Unlock()
	for _, l := range lost {
		b.problem("%s", l)
	}
}

// Neighbors returns the ids of the entities the bot sees besides its
// avatar, sorted.
func (b *Bot) Neighbors() []uint64 {
	ids := b.c.EntityIDs()
	return slices.DeleteFunc(ids, func(id uint64) bool { return id == b.avatar })
}

// Travel asks the avatar to move to game to's arena and waits until the
// client sees it there: the same entity, its attributes kept. Walking is
// paused meanwhile (the position must not jump under the gate's speed
// limit).
func (b *Bot) Travel(ctx context.Context, to int) error {
	b.Pause(true)
	defer b.Pause(false)
	before, ok := b.c.Player()
	if !ok {
		return fmt.Errorf("bots: %s: travel: no player", b.opts.Name)
	}
	if err := b.Call(ctx, b.avatar, "Travel", to); err != nil {
		return fmt.Errorf("bots: %s: travel: %w", b.opts.Name, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*b.opts.CallTimeout)
	defer cancel()
	var after client.Entity
	err := b.c.WaitUntil(wctx, func() bool {
		p, ok := b.c.Player()
		after = p
		g, _ := argInt([]any{p.Attrs["game"]}, 0)
		return ok && g == int64(to)
	})
	if err != nil {
		return fmt.Errorf("bots: %s: travel to game %d: the avatar did not arrive (game %v): %w", b.opts.Name, to, after.Attrs["game"], err)
	}
	if after.ID != before.ID {
		return fmt.Errorf("bots: %s: travel: player changed from %d to %d", b.opts.Name, before.ID, after.ID)
	}
	for _, k := range []string{"name", "secret"} {
		if after.Attrs[k] != before.Attrs[k] {
			return fmt.Errorf("bots: %s: travel: attribute %s changed from %v to %v", b.opts.Name, k, before.Attrs[k], after.Attrs[k])
		}
	}
	lb, _ := argInt([]any{before.Attrs["level"]}, 0)
	la, _ := argInt([]any{after.Attrs["level"]}, 0)
	if la < lb {
		return fmt.Errorf("bots: %s: travel: level went down from %d to %d", b.opts.Name, lb, la)
	}
	b.mu.Lock()
	b.stats.Travels++
	b.mu.Unlock()
	// Let the new game's position record reach the client (and the gate)
	// before walking on from it.
	select {
	case <-ctx.Done():
	case <-time.After(300 * time.Millisecond):
	}
	return nil
}
