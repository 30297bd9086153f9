package dispatcher

import (
	"time"

	"testing"

	"github.com/ecsworld/ecsworld/netproto"
)

// TestPlaceChoice checks the choice of placeLocked on known states.
func TestPlaceChoice(t *testing.T) {
	live := &conn{}
	tests := []struct {
		name  string
		games []*game
		want  uint16 // 0: none
	}{
		{"no game", nil, 0},
		{"least reported load", []*game{
			{id: 1, conn: live, load: netproto.GameLoad{Load: 0.4, Entities: 10}},
			{id: 2, conn: live, load: netproto.GameLoad{Load: 0.2, Entities: 50}},
		}, 2},
		{"placed since the report count", []*game{
			{id: 1, conn: live, load: netproto.GameLoad{Load: 0.4, Entities: 10}},
			{id: 2, conn: live, load: netproto.GameLoad{Load: 0.2, Entities: 10}, placed: 11}, // 0.2 + 11*0.02
		}, 1},
		{"idle games fill by entity count", []*game{
			{id: 1, conn: live, load: netproto.GameLoad{Entities: 100}},
			{id: 2, conn: live, load: netproto.GameLoad{Entities: 3}, placed: 2},
		}, 2},
		{"tie goes to the lower id", []*game{
			{id: 3, conn: live}, {id: 2, conn: live},
		}, 2},
		{"frozen and disconnected games are skipped", []*game{
			{id: 1, conn: live, frozen: newHeldQueue(time.Time{})},
			{id: 2},
			{id: 3, conn: live, load: netproto.GameLoad{Load: 0.9, Entities: 1000}},
		}, 3},
		{"only frozen games: the queue takes it", []*game{
			{id: 1, frozen: newHeldQueue(time.Time{}), load: netproto.GameLoad{Load: 0.5, Entities: 5}},
			{id: 2, frozen: newHeldQueue(time.Time{}), load: netproto.GameLoad{Load: 0.1, Entities: 5}},
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Dispatcher{games: map[uint16]*game{}}
			for _, g := range tt.games {
				d.games[g.id] = g
			}
			g := d.placeLocked()
			var got uint16
			if g != nil {
				got = g.id
				if g.placed == 0 {
					t.Error("placement not counted")
				}
			}
			if got != tt.want {
				t.Errorf("placed on %d, want %d", got, tt.want)
			}
		})
	}
}
