package gate

import (
	"context"
	"errors"
	"testing"

	goclient "github.com/ecsworld/ecsworld/client"
	"github.com/ecsworld/ecsworld/netproto"
)

// TestWithClientLibrary runs the Go client library against the gate over
// every transport: the two were written in parallel against
// docs/cluster.md, and this is where they meet.
func TestWithClientLibrary(t *testing.T) {
	g := startGate(t, nil)
	addrs := map[string]string{"kcp": g.Addrs().KCP, "tcp": g.Addrs().TCP, "ws": g.Addrs().WS}
	for i, tr := range []string{"kcp", "tcp", "ws"} {
		t.Run(tr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			c, err := goclient.Dial(ctx, tr, addrs[tr], goclient.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if netproto.Origin(c.ClientID()) != g.ID() {
				t.Fatalf("ClientID %x", c.ClientID())
			}
			expect(t, g.disp, func(m *netproto.ClientConnected) bool { return m.Client == c.ClientID() })

			player := entA + uint64(i)
			tc := &testClient{t: t, id: c.ClientID()}
			g.bind(t, tc, player, "Avatar", true, 0)
			g.disp.send(t, &netproto.GateBatch{Gate: g.ID(), Game: 1, Items: []netproto.BatchItem{{
				Clients: []uint64{c.ClientID()}, Frames: frame(t, &netproto.CreateEntity{Entity: player, Type: "Avatar", IsPlayer: true}),
				Vis: netproto.VisEnter, VisEntity: player, VisType: "Avatar",
			}}})
			if err := c.WaitUntil(ctx, func() bool { return c.PlayerID() == player }); err != nil {
				t.Fatal(err)
			}

			// An allowed call goes to the dispatcher and its reply back.
			done := make(chan error, 1)
			go func() {
				_, err := c.Call(ctx, player, "SetName", "alice")
				done <- err
			}()
			ce := expect(t, g.disp, func(m *netproto.CallEntity) bool { return m.Target == player && m.Method == "SetName" })
			g.disp.send(t, &netproto.CallReply{CallID: ce.CallID, To: netproto.Peer{Role: netproto.RoleGate, ID: g.ID()}, Client: c.ClientID()})
			if err := <-done; err != nil {
				t.Fatalf("allowed call: %v", err)
			}
			// A server-only method is refused by the gate itself.
			var ce2 *goclient.CallError
			if _, err := c.Call(ctx, player, "Kill"); !errors.As(err, &ce2) {
				t.Fatalf("server-only call: %v, want a CallError", err)
			}
			if err := c.Move(1, 0, 1, 0); err != nil {
				t.Fatal(err)
			}
			expect(t, g.disp, func(m *netproto.SyncFromClient) bool { return m.Client == c.ClientID() && m.Record.Entity == player })
			c.Close()
			expect(t, g.disp, func(m *netproto.ClientDisconnected) bool { return m.Client == c.ClientID() && m.Entity == player })
		})
	}
}
