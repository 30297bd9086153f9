package gate

import (
	"testing"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/netproto"
)

// connectObserver dials and says hello as an observer with token.
func (g *testGate) connectObserver(t *testing.T, token string) *testClient {
	t.Helper()
	c := &testClient{t: t, link: g.dialLink(t, "tcp"), codec: clientCodec}
	c.sendMsg(&netproto.ClientHello{Version: netproto.ProtocolVersion, Role: RoleObserver, Token: token})
	w, ok := c.recv().(*netproto.ClientWelcome)
	if !ok {
		t.Fatal("observer with the right token not welcomed")
	}
	c.id = w.Client
	return c
}

func TestObserverAnnouncedWithoutBootEntity(t *testing.T) {
	g := startGate(t, func(c *config.Gate) { c.ObserverToken = "sesame" }, WithBootType("Account"))
	c := g.connectObserver(t, "sesame")
	cc := expect(t, g.disp, func(m *netproto.ClientConnected) bool { return m.Client == c.id })
	if cc.BootType != netproto.ObserverBootType {
		t.Errorf("observer announced with BootType %q, want %q", cc.BootType, netproto.ObserverBootType)
	}
	// A player on the same gate still gets the configured boot type.
	p := g.connect(t, "tcp")
	pc := expect(t, g.disp, func(m *netproto.ClientConnected) bool { return m.Client == p.id })
	if pc.BootType != "Account" {
		t.Errorf("player announced with BootType %q, want Account", pc.BootType)
	}
	// The game's view frames reach the observer like any client frame.
	view := &netproto.CallClient{Method: netproto.ObserveMethod, Args: []byte{0x80}}
	g.disp.send(t, &netproto.GateBatch{Gate: g.ID(), Game: 1, Items: []netproto.BatchItem{{Clients: []uint64{c.id}, Frames: frame(t, view)}}})
	if m, ok := c.recv().(*netproto.CallClient); !ok || m.Method != netproto.ObserveMethod {
		t.Fatalf("observer got %+v, want the view frame", m)
	}
}

func TestObserverCannotAct(t *testing.T) {
	g := startGate(t, func(c *config.Gate) { c.ObserverToken = "sesame" }, WithMoveViolations(3))
	c := g.connectObserver(t, "sesame")
	expect(t, g.disp, func(m *netproto.ClientConnected) bool { return m.Client == c.id })
	// Even a ClientBound from a game gives an observer no entity.
	g.disp.send(t, &netproto.ClientBound{Gate: g.ID(), Client: c.id, Entity: entA, Type: "Avatar", ClientMoved: true})
	eventually(t, "bound dropped", func() bool { return g.Stats().Dropped[DroppedObserverBound] == 1 })
	g.sync(t, c, netproto.BatchItem{Clients: []uint64{c.id}, Frames: frame(t, &netproto.CreateEntity{Entity: entB, Type: "Avatar"}),
		Vis: netproto.VisEnter, VisEntity: entB, VisType: "Avatar"})

	// A call to a visible entity and a callable method: refused, answered.
	c.sendMsg(&netproto.ClientCall{Entity: entB, Method: "Wave", CallID: 5})
	r, ok := c.recv().(*netproto.ClientCallReply)
	if !ok || r.CallID != 5 || r.Error == "" {
		t.Fatalf("reply %+v, want a refusal of call 5", r)
	}
	// A move of "its" entity: refused silently.
	c.sendMsg(&netproto.ClientMove{Records: []netproto.PositionRecord{{Entity: entA, X: 1}}})
	eventually(t, "refusals counted", func() bool {
		s := g.Stats().Refused
		return s[RefusedObserverCall] == 1 && s[RefusedObserverMove] == 1
	})
	// The third refusal within the window disconnects it.
	c.sendMsg(&netproto.ClientCall{Entity: entB, Method: "Wave"})
	d := c.recvEnd()
	if d == nil || d.Code != netproto.DisconnectBadInput {
		t.Errorf("Disconnect %+v, want code BadInput", d)
	}
	eventually(t, "abuse counted", func() bool { return g.Stats().Disconnects[DisconnectObserverAbuse] == 1 })
	// Nothing it sent reached a dispatcher; it left before any entity, so
	// its ClientDisconnected names none.
	dc := expect(t, g.disp, func(m netproto.Message) bool {
		switch m.(type) {
		case *netproto.CallEntity, *netproto.SyncFromClient:
			t.Errorf("observer's %T reached the dispatcher", m)
		}
		d, ok := m.(*netproto.ClientDisconnected)
		return ok && d.Client == c.id
	}).(*netproto.ClientDisconnected)
	if dc.Entity != 0 {
		t.Errorf("ClientDisconnected names entity %x, want none", dc.Entity)
	}
}

func TestObserverRefusedWithoutToken(t *testing.T) {
	for _, tc := range []struct{ name, configured, given string }{
		{"no token configured", "", ""},
		{"no token configured, one given", "", "x"},
		{"missing token", "sesame", ""},
		{"wrong token", "sesame", "sesamE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := startGate(t, func(c *config.Gate) { c.ObserverToken = tc.configured })
			c := &testClient{t: t, link: g.dialLink(t, "tcp"), codec: clientCodec}
			c.sendMsg(&netproto.ClientHello{Version: 1, Role: RoleObserver, Token: tc.given})
			if d := c.recvEnd(); d == nil || d.Code != netproto.DisconnectBadInput {
				t.Errorf("Disconnect %+v, want code BadInput", d)
			}
			eventually(t, "bad_role counted", func() bool { return g.Stats().Disconnects[DisconnectBadRole] == 1 })
		})
	}
}
