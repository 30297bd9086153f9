package dispatcher

import (
	"testing"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/netproto"
)

// TestToGameWithoutLink: while a dispatcher stops, a game's entry outlives
// its closed link; traffic for it from a link still open (a gate's last
// ClientDisconnected) is undeliverable, counted, and never a nil send.
func TestToGameWithoutLink(t *testing.T) {
	d, err := New(testCluster(1), 1, WithLogger(zap.NewNop()))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.mu.Lock()
	d.games[7] = &game{id: 7} // link closed while stopping: conn nil, not frozen
	sent := d.toGameLocked(nil, 7, netproto.MsgClientDisconnected, []byte{0xa0}, 0)
	d.mu.Unlock()
	if sent {
		t.Fatal("delivered to a game without a link")
	}
	if n := d.Stats().Dropped[DropUnknownGame]; n != 1 {
		t.Fatalf("Dropped[%s] = %d, want 1", DropUnknownGame, n)
	}
}
