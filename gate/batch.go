package gate

import (
	"encoding/binary"
	"math"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/netproto"
)

// batchScratch is reused from batch to batch by one dispatcher link's
// reader, so fanning a batch out allocates little in steady state.
type batchScratch struct {
	pos     map[*client][]byte // raw position records per recipient
	touched map[*client]struct{}
	types   []frameTally
	frame   []byte
	lookup  map[uint64]*client // ClientID → client for this batch
	free    [][]byte           // position buffers to reuse
}

// frameTally counts one frame type of a batch item, for Stats.
type frameTally struct {
	typ   netproto.MsgType
	bytes uint64
}

func newBatchScratch() *batchScratch {
	return &batchScratch{
		pos:     make(map[*client][]byte),
		touched: make(map[*client]struct{}),
		lookup:  make(map[uint64]*client),
	}
}

// get finds a client once per batch.
func (s *batchScratch) get(g *Gate, id uint64) *client {
	if c, ok := s.lookup[id]; ok {
		return c
	}
	c := g.client(id)
	s.lookup[id] = c
	return c
}

// handleBatch fans a GateBatch out: each item's frames are copied as they
// are to each recipient (after its visibility change is applied, so a
// client may call an entity as soon as it learns of it), then each
// recipient gets its position records in one PositionSync, and every link
// touched is flushed once.
func (g *Gate) handleBatch(b *netproto.GateBatch, s *batchScratch) {
	defer s.reset()
	if b.Gate != g.cfg.ID {
		g.stats.dropped.inc(DroppedWrongGate)
		return
	}
	maxFrame := g.clientOpts.MaxFrame
	for i := range b.Items {
		it := &b.Items[i]
		if len(it.Frames) > 0 {
			if _, err := netproto.ValidateFrames(it.Frames, maxFrame); err != nil {
				// A game bug, not a client's: skip the item, keep the
				// batch.
				g.stats.dropped.inc(DroppedBadFrames)
				g.clog.Error("bad frames in gate batch", zap.Uint16("game", b.Game), zap.Int("item", i), zap.Error(err))
				continue
			}
			s.tally(it.Frames, maxFrame)
		}
		for _, id := range it.Clients {
			c := s.get(g, id)
			if c == nil {
				g.stats.dropped.inc(DroppedUnknownClient)
				continue
			}
			switch it.Vis {
			case netproto.VisEnter:
				c.see(it.VisEntity, it.VisType)
			case netproto.VisLeave:
				c.unsee(it.VisEntity)
			}
			if len(it.Frames) > 0 && c.sendFrames(it.Frames) {
				for _, t := range s.types {
					g.stats.clientOut.add(t.typ, 1, t.bytes)
				}
				s.touched[c] = struct{}{}
			}
		}
	}

	recs := b.PosRecords // validated by the codec: len = 22 × len(PosClients)
	for i, ids := range b.PosClients {
		rec := recs[i*netproto.PositionRecordSize : (i+1)*netproto.PositionRecordSize]
		entity := binary.BigEndian.Uint64(rec)
		for _, id := range ids {
			c := s.get(g, id)
			if c == nil {
				g.stats.dropped.inc(DroppedUnknownClient)
				continue
			}
			if c.ownEntity.Load() == entity {
				if r, ok := rawRecord(rec); ok {
					c.place(r)
				}
			}
			s.pos[c] = append(s.posBuf(c), rec...)
		}
	}
	per := g.posPerFrame * netproto.PositionRecordSize
	for c, raw := range s.pos {
		for len(raw) > 0 {
			n := min(len(raw), per)
			s.frame, _ = netproto.AppendPositionBatchRaw(s.frame[:0], raw[:n])
			c.sendRaw(netproto.MsgPositionSync, s.frame)
			raw = raw[n:]
		}
		s.touched[c] = struct{}{}
	}
	for c := range s.touched {
		c.flush()
	}
}

// tally counts the frames of one item by type.
func (s *batchScratch) tally(frames []byte, maxFrame int) {
	s.types = s.types[:0]
	for len(frames) > 0 {
		typ, payload, rest, err := netproto.SplitFrame(frames, maxFrame)
		if err != nil {
			return
		}
		s.types = append(s.types, frameTally{typ: typ.Base(), bytes: uint64(len(payload) + netproto.FrameHeaderSize)})
		frames = rest
	}
}

// reset empties the scratch. Position buffers go back to a free list (so
// the map holds no client that has left); oversized ones are dropped.
func (s *batchScratch) reset() {
	for _, b := range s.pos {
		if cap(b) <= 64<<10 && len(s.free) < 4096 {
			s.free = append(s.free, b[:0])
		}
	}
	clear(s.pos)
	clear(s.touched)
	clear(s.lookup)
	s.types = s.types[:0]
}

// posBuf returns c's position buffer for this batch.
func (s *batchScratch) posBuf(c *client) []byte {
	if b, ok := s.pos[c]; ok {
		return b
	}
	if n := len(s.free); n > 0 {
		b := s.free[n-1]
		s.free = s.free[:n-1]
		return b
	}
	return nil
}

// rawRecord reads the position of one encoded record (the gate does not
// need the yaw).
func rawRecord(b []byte) (netproto.PositionRecord, bool) {
	r := netproto.PositionRecord{
		Entity: binary.BigEndian.Uint64(b),
		X:      math.Float32frombits(binary.BigEndian.Uint32(b[8:])),
		Y:      math.Float32frombits(binary.BigEndian.Uint32(b[12:])),
		Z:      math.Float32frombits(binary.BigEndian.Uint32(b[16:])),
	}
	for _, f := range [...]float32{r.X, r.Y, r.Z} {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return r, false
		}
	}
	return r, true
}
