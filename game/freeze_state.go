package game

import (
	"sort"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/snapshot"
)

// saveGameState puts what the game holds beyond its world into st: its
// observers (they have no entity) and the service names it won (so that
// the restored game registers them again after a dispatcher restart).
func (g *Game) saveGameState(st *snapshot.State) {
	for b := range g.obs.set {
		st.Observers = append(st.Observers, snapshot.Observer{Gate: b.Gate, Client: uint64(b.Client)})
	}
	sort.Slice(st.Observers, func(i, j int) bool {
		a, b := st.Observers[i], st.Observers[j]
		return a.Gate < b.Gate || a.Gate == b.Gate && a.Client < b.Client
	})
	for name, e := range g.owned {
		st.Services = append(st.Services, snapshot.Service{Name: name, Entity: uint64(e)})
	}
	sort.Slice(st.Services, func(i, j int) bool { return st.Services[i].Name < st.Services[j].Name })
}

// adoptGameState takes back what saveGameState saved: the observers get
// their views again from the next round (a ClientDisconnected the gate
// sent during the freeze comes after, from the dispatchers' queues), and
// the won services are known again.
func (g *Game) adoptGameState(h *snapshot.Header) {
	for i, o := range h.Observers {
		if i >= MaxObservers {
			g.warn.Warn("restored observers beyond MaxObservers dropped", zap.Int("saved", len(h.Observers)))
			break
		}
		if g.obs.set == nil {
			g.obs.set = make(map[ecs.ClientBinding]struct{})
		}
		g.obs.set[ecs.ClientBinding{Gate: o.Gate, Client: ecs.ClientID(o.Client)}] = struct{}{}
	}
	g.obs.n.Store(int64(len(g.obs.set)))
	for _, s := range h.Services {
		g.owned[s.Name] = ecs.EntityID(s.Entity)
		g.services[s.Name] = ecs.EntityID(s.Entity)
	}
}
