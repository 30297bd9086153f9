package bots

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// ServerState is what the test game's debug endpoint (GET /debug/state)
// says: its counters and, for every avatar, what its AOI holds.
type ServerState struct {
	Game    uint16            `json:"game"`
	Tick    uint64            `json:"tick"`
	Stats   map[string]any    `json:"stats"`
	App     map[string]uint64 `json:"app"`
	Avatars []ServerAvatar    `json:"avatars"`
}

// ServerAvatar is one avatar as its game holds it.
type ServerAvatar struct {
	ID        uint64         `json:"id"`
	Client    uint64         `json:"client"`
	Gate      uint16         `json:"gate"`
	Pos       [3]float32     `json:"pos"`
	Attrs     map[string]any `json:"attrs"`
	Neighbors []uint64       `json:"neighbors"`
}

// Stat returns the game counter name (a top-level number of game.Stats).
func (s *ServerState) Stat(name string) uint64 {
	v, _ := s.Stats[name].(float64)
	return uint64(v)
}

// Avatar returns the avatar id, if this game holds it.
func (s *ServerState) Avatar(id uint64) (ServerAvatar, bool) {
	for _, a := range s.Avatars {
		if a.ID == id {
			return a, true
		}
	}
	return ServerAvatar{}, false
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// FetchState reads the debug endpoint at addr (host:port).
func FetchState(ctx context.Context, addr string) (*ServerState, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/state", nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bots: debug state of %s: %w", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("bots: debug state of %s: %w", addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bots: debug state of %s: %s: %s", addr, resp.Status, strings.TrimSpace(string(body)))
	}
	var st ServerState
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("bots: debug state of %s: %w", addr, err)
	}
	return &st, nil
}

// FreezeMonsters stops (or restarts) the monsters of the game at addr.
func FreezeMonsters(ctx context.Context, addr string, frozen bool) error {
	v := "0"
	if frozen {
		v = "1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/debug/monsters?frozen="+v, nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("bots: freeze monsters of %s: %w", addr, err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("bots: freeze monsters of %s: %s", addr, resp.Status)
	}
	return nil
}

// CompareViews checks every bot against the servers' states: its avatar
// exists on exactly one game, bound to its ClientID, and the bot sees
// exactly the entities the avatar's AOI holds. It returns one line per
// mismatch.
func CompareViews(bots []*Bot, states []*ServerState) []string {
	var out []string
	for _, b := range bots {
		var found []ServerAvatar
		for _, s := range states {
			if a, ok := s.Avatar(b.Avatar()); ok {
				found = append(found, a)
			}
		}
		if len(found) != 1 {
			out = append(out, fmt.Sprintf("%s: avatar %d is on %d games, want 1", b.Name(), b.Avatar(), len(found)))
			continue
		}
		a := found[0]
		if a.Client != b.Client().ClientID() {
			out = append(out, fmt.Sprintf("%s: avatar %d is bound to client %d, the bot is %d", b.Name(), a.ID, a.Client, b.Client().ClientID()))
		}
		got := b.Neighbors()
		want := slices.Clone(a.Neighbors)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			out = append(out, fmt.Sprintf("%s: sees %d entities, the server's AOI holds %d: only client %v, only server %v",
				b.Name(), len(got), len(want), minus(got, want), minus(want, got)))
		}
	}
	return out
}

func minus(a, b []uint64) []uint64 {
	var out []uint64
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			out = append(out, x)
		}
	}
	return out
}

// FetchAll reads the state of every game.
func FetchAll(ctx context.Context, addrs []string) ([]*ServerState, error) {
	var out []*ServerState
	for _, a := range addrs {
		s, err := FetchState(ctx, a)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// WaitViewsMatch polls the games until every bot's view equals its
// avatar's AOI (CompareViews), or ctx ends: then it returns the last
// mismatches. Call it with every mover at rest (bots paused, monsters
// frozen): views then converge within a tick and the network.
func WaitViewsMatch(ctx context.Context, bots []*Bot, debugAddrs []string) error {
	var last []string
	for {
		states, err := FetchAll(ctx, debugAddrs)
		switch {
		case err == nil:
			last = CompareViews(bots, states)
			if len(last) == 0 {
				return nil
			}
		case ctx.Err() != nil && last != nil:
			// Cut short by the deadline: the last comparison says more.
		default:
			last = []string{err.Error()}
		}
		select {
		case <-ctx.Done():
			if len(last) > 10 {
				last = append(last[:10], fmt.Sprintf("... and %d more", len(last)-10))
			}
			return fmt.Errorf("bots: views do not match the server's AOI:\n  %s", strings.Join(last, "\n  "))
		case <-time.After(100 * time.Millisecond):
		}
	}
}
