package demo

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/game"
	"github.com/ecsworld/ecsworld/netproto"
)

const testTimeout = 20 * time.Second

// fieldDots is how many entities the test game puts in its space.
const fieldDots = 30

// testGame is a tiny game: a boot Account (the config's boot_entity) and
// a Field space holding fieldDots Dots on a diagonal, each with an AOI.
func testGame(config.Game, *zap.Logger) (game.Setup, error) {
	account := ecs.NewEntityType("Account")
	dot := ecs.NewEntityType("Dot").AOI(7)
	field := ecs.NewEntityType("Field").Space()
	return game.Setup{
		Types: []*ecs.EntityType{account, dot, field},
		OnStart: func(g *game.Game) error {
			f, err := g.Create("Field", ecs.CreateOptions{})
			if err != nil {
				return err
			}
			for i := range fieldDots {
				p := float32(i*4 - 60)
				if _, err := g.Create("Dot", ecs.CreateOptions{Space: f, Pos: ecs.Vec3{X: p, Z: p}}); err != nil {
					return err
				}
			}
			return nil
		},
	}, nil
}

// syncBuffer is an io.Writer the test reads while Run writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// TestRunPrintsURLsAndStops runs the demo verb's body: the URLs it prints
// answer, the map's WebSocket carries observer views of the game's space,
// and cancelling the context stops everything, goroutines included.
func TestRunPrintsURLsAndStops(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- Run(runCtx, Options{Game: testGame, Bots: -1}, out) }()
	waitFor(t, "the URLs", func() bool {
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v\n%s", err, out)
		default:
		}
		return strings.Contains(out.String(), "Ctrl-C")
	})
	text := out.String()
	mapURL := regexp.MustCompile(`live map: (http://127\.0\.0\.1:\d+/\?token=[0-9a-f]{32})\n`).FindStringSubmatch(text)
	if mapURL == nil {
		t.Fatalf("no live map URL in:\n%s", text)
	}
	murls := regexp.MustCompile(`metrics (\w+\.\d+): (http://127\.0\.0\.1:\d+/metrics)\n`).FindAllStringSubmatch(text, -1)
	names := map[string]bool{}
	for _, m := range murls {
		names[m[1]] = true
	}
	for _, n := range []string{"dispatcher.1", "game.1", "gate.1"} {
		if !names[n] {
			t.Errorf("no metrics URL for %s in:\n%s", n, text)
		}
	}

	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	if code, body := get(t, hc, mapURL[1]); code != 200 || !strings.Contains(body, "ecsworld live map") {
		t.Errorf("map page: %d %.200q", code, body)
	}
	base := strings.SplitN(mapURL[1], "/?", 2)[0]
	if code, body := get(t, hc, base+"/map.js"); code != 200 || !strings.Contains(body, "ecsworld.observe") {
		t.Errorf("map.js: %d %.100q", code, body)
	}
	if code, _ := get(t, hc, base+"/api/status"); code != http.StatusForbidden {
		t.Errorf("status without the token: %d, want 403", code)
	}
	token := strings.SplitN(mapURL[1], "token=", 2)[1]
	code, body := get(t, hc, base+"/api/status?token="+token)
	if code != 200 || !strings.Contains(body, `"process":"game.1"`) || !strings.Contains(body, `"process":"gate.1"`) {
		t.Errorf("status: %d %s", code, body)
	}
	for _, m := range murls {
		if code, body := get(t, hc, m[2]); code != 200 || !strings.Contains(body, "ecsworld_") {
			t.Errorf("%s: %d %.100q", m[2], code, body)
		}
	}

	// The map's WebSocket: an observer sees the whole Field.
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	recs := watch(t, ctx, wsURL, token)
	if len(recs) != fieldDots {
		t.Errorf("observer saw %d entities, want %d", len(recs), fieldDots)
	}
	for _, r := range recs {
		if r.X != r.Z || r.Radius != 7 {
			t.Errorf("record %+v: want X = Z, radius 7", r)
		}
	}
	// A wrong token is refused by the gate, through the proxy.
	refused(t, ctx, wsURL, "not-the-token")

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Run did not return after cancel")
	}
	if !strings.Contains(out.String(), "stopped") {
		t.Errorf("no stop line in:\n%s", out)
	}
	hc.CloseIdleConnections()
	if _, err := hc.Get(mapURL[1]); err == nil {
		t.Error("the map still answers after the demo stopped")
	}
	hc.CloseIdleConnections()
	waitFor(t, "the demo's goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

// watch connects as an observer and returns the entities of the first
// complete view of a Field.
func watch(t *testing.T, ctx context.Context, url, token string) []netproto.ObserverRecord {
	t.Helper()
	var recs []netproto.ObserverRecord
	for _, v := range watchViews(t, ctx, url, token, "Field") {
		recs = append(recs, v.recs...)
	}
	return recs
}

// viewFrame is one decoded observer view frame.
type viewFrame struct {
	types []string
	recs  []netproto.ObserverRecord
}

// watchViews connects as an observer and returns the frames of the first
// whole round of views of a space of type stype (from part 0 to the last).
func watchViews(t *testing.T, ctx context.Context, url, token, stype string) []viewFrame {
	t.Helper()
	codec, err := netproto.NewCodec(netproto.ClientLimits())
	if err != nil {
		t.Fatal(err)
	}
	l, err := netproto.DialWebSocket(ctx, url, netproto.Options{ReadTimeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := codec.Send(l, &netproto.ClientHello{Version: netproto.ProtocolVersion, Role: "observer", Token: token}); err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	var frames []viewFrame
	for {
		typ, payload, err := l.Recv()
		if err != nil {
			t.Fatalf("observer: %v", err)
		}
		if typ != netproto.MsgCallClient {
			continue
		}
		m, err := codec.Decode(typ, payload)
		if err != nil {
			t.Fatal(err)
		}
		cc := m.(*netproto.CallClient)
		if cc.Method != netproto.ObserveMethod {
			continue
		}
		args, err := codec.DecodeArgs(cc.Args)
		if err != nil || len(args) != 7 {
			t.Fatalf("view args %v: %v", args, err)
		}
		part, _ := args[3].(uint64)
		parts, _ := args[4].(uint64)
		if args[2] != stype || (len(frames) == 0 && part != 0) {
			continue
		}
		var types []string
		for _, x := range args[5].([]any) {
			s, _ := x.(string)
			types = append(types, s)
		}
		b, _ := args[6].([]byte)
		rs, err := netproto.ParseObserverRecords(b, len(types))
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, viewFrame{types: types, recs: rs})
		if part == parts-1 {
			return frames
		}
	}
}

// refused checks that an observer hello with token ends in a Disconnect.
func refused(t *testing.T, ctx context.Context, url, token string) {
	t.Helper()
	codec, _ := netproto.NewCodec(netproto.ClientLimits())
	l, err := netproto.DialWebSocket(ctx, url, netproto.Options{ReadTimeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	codec.Send(l, &netproto.ClientHello{Version: netproto.ProtocolVersion, Role: "observer", Token: token})
	l.Flush()
	for {
		typ, _, err := l.Recv()
		if err != nil {
			t.Fatalf("no Disconnect for a wrong token: %v", err)
		}
		if typ == netproto.MsgClientWelcome {
			t.Fatal("observer with a wrong token welcomed")
		}
		if typ == netproto.MsgDisconnect {
			return
		}
	}
}

func TestStartNeedsAGame(t *testing.T) {
	if _, err := Start(context.Background(), Options{}); err == nil {
		t.Fatal("Start without a game did not fail")
	}
}
