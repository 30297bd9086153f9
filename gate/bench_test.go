package gate

import (
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/netproto"
)

// BenchmarkGateBatch fans one tick's batch out to 500 clients: each sees 40
// moving neighbours (one position record each) and gets two attribute
// deltas shared by 40 clients. Links are in memory, so this measures the
// gate's own work per batch.
func BenchmarkGateBatch(b *testing.B) {
	const (
		clients    = 500
		neighbours = 40
	)
	g, err := New(testConfig(), []string{"127.0.0.1:1"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	links := make([]*memLink, clients)
	ids := make([]uint64, clients)
	for i := range clients {
		links[i] = newMemLink(nil)
		c := &client{g: g, id: uint64(7)<<48 | uint64(i+1), link: links[i], log: g.clog,
			visible: map[uint64]string{}, wake: make(chan struct{}, 1)}
		c.move.reset(0, time.Now())
		ids[i] = c.id
		g.clients[c.id] = c
	}
	delta, err := clientCodec.AppendFrame(nil, &netproto.AttrDelta{Entity: 1, Changes: []netproto.AttrChange{{Op: netproto.AttrSet, Path: []any{"hp"}, Value: uint64(3)}}})
	if err != nil {
		b.Fatal(err)
	}
	batch := &netproto.GateBatch{Gate: g.ID(), Game: 1}
	for i := range clients {
		rec, _ := netproto.AppendPositionRecord(nil, netproto.PositionRecord{Entity: uint64(1<<48 | i), X: float32(i)})
		batch.PosRecords = append(batch.PosRecords, rec...)
		watchers := make([]uint64, 0, neighbours)
		for j := range neighbours {
			watchers = append(watchers, ids[(i+j+1)%clients])
		}
		batch.PosClients = append(batch.PosClients, watchers)
		if i%(clients/neighbours) == 0 {
			batch.Items = append(batch.Items, netproto.BatchItem{Clients: watchers, Frames: delta}, netproto.BatchItem{Clients: watchers, Frames: delta})
		}
	}
	s := newBatchScratch()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		g.handleBatch(batch, s)
		for _, l := range links {
			l.sent = l.sent[:0]
		}
	}
	b.ReportMetric(float64(clients*neighbours), "records/op")
}
