package game

import (
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/netproto"
)

// Bounds of the observer views (the live map): what one observer costs a
// game is capped whatever the world holds.
const (
	// ObserveEvery is the period of the observer views (5 Hz).
	ObserveEvery = 200 * time.Millisecond
	// MaxObservers caps the observers of one game; more are kicked.
	MaxObservers = 16
	// MaxObservedEntities caps the entities of one round of views; the
	// members beyond it are left out (Stats.ObserverTruncated).
	MaxObservedEntities = 20000
	// observeRecordsPerFrame splits a space's members over frames of at
	// most this many records (about 22 KiB).
	observeRecordsPerFrame = 1024
)

// observers are the clients watching this game (tick goroutine state, but
// for the counters).
type observers struct {
	set  map[ecs.ClientBinding]struct{}
	seq  uint64
	last time.Time
	recs []byte
	// Counters for Stats.
	n         atomic.Int64
	frames    atomic.Uint64
	truncated atomic.Uint64
}

// addObserver handles the ClientConnected of an observer: no entity, just
// a place on the list of view recipients.
func (g *Game) addObserver(b ecs.ClientBinding) {
	o := &g.obs
	if o.set == nil {
		o.set = make(map[ecs.ClientBinding]struct{})
	}
	if _, ok := o.set[b]; !ok && len(o.set) >= MaxObservers {
		g.warn.Warn("too many observers; kicking one", zap.Uint64("client", uint64(b.Client)), zap.Uint16("gate", b.Gate))
		g.KickClient(b, "too many observers")
		return
	}
	o.set[b] = struct{}{}
	o.n.Store(int64(len(o.set)))
	// The first view goes out at the next round boundary check: now.
	o.last = time.Time{}
	g.log.Info("observer connected", zap.Uint64("client", uint64(b.Client)), zap.Uint16("gate", b.Gate))
}

// removeObserver reports whether b was an observer, and forgets it.
func (g *Game) removeObserver(b ecs.ClientBinding) bool {
	o := &g.obs
	if _, ok := o.set[b]; !ok {
		return false
	}
	delete(o.set, b)
	o.n.Store(int64(len(o.set)))
	g.log.Info("observer disconnected", zap.Uint64("client", uint64(b.Client)), zap.Uint16("gate", b.Gate))
	return true
}

// dropGateObservers forgets the observers of a gate that went down.
func (g *Game) dropGateObservers(gate uint16) {
	o := &g.obs
	for b := range o.set {
		if b.Gate == gate {
			delete(o.set, b)
		}
	}
	o.n.Store(int64(len(o.set)))
}

// observe sends every observer, once per ObserveEvery, a view of every
// space of this game: its members' ids, types, positions (X, Z) and AOI
// radii, split into frames of observeRecordsPerFrame records (the format
// is netproto's observer frame). Each frame is encoded once and listed for
// every observer in this tick's gate batches. It runs in the inbox stage,
// so the views leave with this tick's sync output.
func (g *Game) observe() {
	o := &g.obs
	if len(o.set) == 0 || g.now.Sub(o.last) < ObserveEvery {
		return
	}
	o.last = g.now
	o.seq++
	budget := MaxObservedEntities
	for _, sp := range g.world.Spaces() {
		members := sp.Members()
		n := len(members)
		if n > budget {
			g.obs.truncated.Add(uint64(n - budget))
			n = budget
		}
		budget -= n
		parts := max(1, (n+observeRecordsPerFrame-1)/observeRecordsPerFrame)
		for part := range parts {
			chunk := members[part*observeRecordsPerFrame : min(n, (part+1)*observeRecordsPerFrame)]
			g.observeFrame(sp, part, parts, chunk)
		}
	}
}

// observeFrame encodes one view frame and queues it for every observer.
func (g *Game) observeFrame(sp *ecs.Entity, part, parts int, members []*ecs.Entity) {
	o := &g.obs
	var types []string
	index := make(map[string]uint16, 4)
	o.recs = o.recs[:0]
	for _, e := range members {
		name := e.Type().Name()
		ti, ok := index[name]
		if !ok {
			ti = uint16(len(types))
			index[name] = ti
			types = append(types, name)
		}
		p := e.Pos()
		o.recs = netproto.AppendObserverRecord(o.recs, netproto.ObserverRecord{
			Entity: uint64(e.ID()), Type: ti, X: p.X, Z: p.Z, Radius: e.AOIRadius()})
	}
	if types == nil {
		types = []string{}
	}
	args, err := g.codec.EncodeArgs(o.seq, uint64(sp.ID()), sp.Type().Name(), part, parts, types, o.recs)
	if err != nil {
		g.st.badFrames.Add(1)
		g.warn.Warn("observer view not encoded", zap.Stringer("space", sp), zap.Error(err))
		return
	}
	f, err := g.codec.AppendFrame(nil, &netproto.CallClient{Method: netproto.ObserveMethod, Args: args})
	if err != nil || len(f)-4 > netproto.DefaultClientMaxFrame {
		g.st.badFrames.Add(1)
		g.warn.Warn("observer view not encoded", zap.Stringer("space", sp), zap.Error(err), zap.Int("bytes", len(f)))
		return
	}
	for b := range o.set {
		g.out.pending = append(g.out.pending, extraItem{b: b, frame: f})
	}
	o.frames.Add(1)
}
