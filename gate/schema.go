package gate

import (
	"sync"
	"sync/atomic"

	"github.com/ecsworld/ecsworld/netproto"
)

// schema is what the gate knows of the client-callable methods of every
// entity type, from the TypeSchema messages of every game. Reads (one per
// client call) are lock-free; updates (rare) rebuild the merged view.
type schema struct {
	mu     sync.Mutex
	byGame map[uint16][]netproto.EntityTypeSchema
	merged atomic.Pointer[map[string]map[string]netproto.Perm]
}

func newSchema() *schema {
	s := &schema{byGame: make(map[uint16][]netproto.EntityTypeSchema)}
	empty := map[string]map[string]netproto.Perm{}
	s.merged.Store(&empty)
	return s
}

// set replaces game's types. Every game of a cluster normally declares the
// same types; where two disagree on a method, the stricter permission wins,
// so no game receives a call it would not have allowed itself (the game
// checks again anyway).
func (s *schema) set(game uint16, types []netproto.EntityTypeSchema) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byGame[game] = types
	m := make(map[string]map[string]netproto.Perm)
	for _, ts := range s.byGame {
		for _, t := range ts {
			methods := m[t.Name]
			if methods == nil {
				methods = make(map[string]netproto.Perm)
				m[t.Name] = methods
			}
			for _, ms := range t.Methods {
				if ms.Perm != netproto.PermOwnClient && ms.Perm != netproto.PermAnyClient {
					continue // not client-callable (or a newer permission we do not know)
				}
				if old, ok := methods[ms.Name]; !ok || ms.Perm < old {
					methods[ms.Name] = ms.Perm // PermOwnClient < PermAnyClient: stricter wins
				}
			}
		}
	}
	s.merged.Store(&m)
}

// perm returns the permission of typ.method; false if it is not
// client-callable (server-only, unknown method, unknown type).
func (s *schema) perm(typ, method string) (netproto.Perm, bool) {
	m := *s.merged.Load()
	p, ok := m[typ][method]
	return p, ok
}
